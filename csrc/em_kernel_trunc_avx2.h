/* em_kernel_trunc_avx2.h -- truncation pairs (t_j, v_j) with AVX2 + FMA
 * intrinsics: 2 <= K <= EMTY_KMAX components, unit or per-pair weights.
 *
 * Included only by em_dispatch_avx2.c, after its target pragma and after
 * the C template em_kernel_trunc.h (instantiated there as
 * em_trunc_fast_avx2c, which this file falls back to for K = 1).  It
 * defines
 *   int64_t em_trunc_fast_avx2(const em_par *p, const double *t,
 *                              const double *wt, int64_t n, double *acc);
 * with the contract and the algebra of em_kernel_trunc.h and the structure
 * of em_kernel_trunc_avx512.h (see there): K exponentials per pair (e_k and
 * expm1(-Dmu_k t) from one reduction, emy_exp_expm1 of em_vmath_avx2.h,
 * and expm1(mu_0' t)), 1/s from the prefix/suffix products of the 8 sums of
 * a lane (one division per lane and tile), unit weights: one log per lane
 * and block (the tiles' products carried as 2^EX * M), weights: em_log per
 * pair in a loop gcc vectorizes; X_k by the direct formula for u = mu_k t
 * >= 0.1, by the series of g below (each arm only for vectors that have
 * such a lane).  As in em_kernel_exact_avx2.h the 8 lanes are two halves
 * (lanes 0-3 and 4-7, 4-wide vectors) and the block is run once per half;
 * the first run finds the tiles the kernel takes (every t <= tmax and v <=
 * EMT_VMAX), the second runs exactly those.
 */
#include "em_vmath_avx2.h"

#define EMTY_KMAX 8
#include <stdint.h>

/* software prefetch 8 KiB ahead, one line per chunk of 8 pairs (as in
 * em_kernel_exact_avx2.h) */
static inline __attribute__((always_inline)) void emty_prefetch(const double *p)
{
    _mm_prefetch((const char *)((uintptr_t)p + 8192), _MM_HINT_T0);
}

/* One half h (lanes 4h .. 4h + 3) over the first ntile tiles of t (h = 0:
 * while every t of a tile is <= tmax; returns the number of pairs
 * consumed).  Lane sums (components in the order of perm) go to
 * aRs[8k + 4h + l], aXs[8k + 4h + l], aLs[4h + l]. */
static inline __attribute__((always_inline)) int64_t
emty_body(const int KK, const int WEIGHTED, const int h, const double *restrict cw,
          const double *restrict md, const double *restrict imu, const double *restrict mus,
          double lw0, double mu0, double tmax, const double *restrict t,
          const double *restrict wt, int64_t ntile, double *restrict aRs,
          double *restrict aXs, double *restrict aLs)
{
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d lo = _mm256_set1_pd(-708.0 * EMY_LOG2E);
    const __m256d vmu0 = _mm256_set1_pd(mu0), vlw0 = _mm256_set1_pd(lw0);
    const __m256d vmu02 = _mm256_set1_pd(mu0 * EMY_LOG2E), vtmax = _mm256_set1_pd(tmax);
    const __m256d vvmax = _mm256_set1_pd(EMT_VMAX);
    const __m256d vser = _mm256_set1_pd(0.1);
    __m256d vcw[EMTY_KMAX], vmd[EMTY_KMAX], vimu[EMTY_KMAX], vmus[EMTY_KMAX];
    __m256d aR[EMTY_KMAX], aX[EMTY_KMAX];
    __m256d aL = _mm256_setzero_pd(), PM = one, EX = _mm256_setzero_pd();
    __m256d T[EMTY_KMAX][8], M[EMTY_KMAX][8], E1[8], S[8], PRE[8];
    double pbuf[4], lbuf[32], sbuf[32];
    int64_t i0;
    for (int k = 0; k < KK; k++) {
        vcw[k] = _mm256_set1_pd(cw[k]);
        vmd[k] = _mm256_set1_pd(-md[k] * EMY_LOG2E);
        vimu[k] = _mm256_set1_pd(imu[k]);
        vmus[k] = _mm256_set1_pd(mus[k]);
        aR[k] = aX[k] = _mm256_setzero_pd();
    }
    for (i0 = 0; i0 < ntile * 64; i0 += 64) {
        const double *restrict tt = t + i0 + 4 * h;
        if (h == 0) {
            /* all 64 pairs of the tile (both halves) */
            __m256d far = _mm256_setzero_pd();
            for (int j = 0; j < 16; j++)
                far = _mm256_or_pd(far, _mm256_cmp_pd(_mm256_loadu_pd(t + i0 + 4 * j), vtmax,
                                                      _CMP_NLE_UQ));
            if (WEIGHTED)
                for (int j = 0; j < 16; j++)
                    far = _mm256_or_pd(far, _mm256_cmp_pd(_mm256_loadu_pd(wt + i0 + 4 * j),
                                                          vvmax, _CMP_NLE_UQ));
            if (_mm256_movemask_pd(far)) break;
        }
        __m256d prod = one;
        for (int j = 0; j < 8; j++) {
            __m256d ti = _mm256_loadu_pd(tt + 8 * j);
            __m256d s = one;
            if (h == 0) {
                emty_prefetch(t + i0 + 8 * j);
                if (WEIGHTED) emty_prefetch(wt + i0 + 8 * j);
            }
            for (int k = 1; k < KK; k++) {
                __m256d mk, ek = emy_exp_expm1(_mm256_max_pd(_mm256_mul_pd(vmd[k], ti), lo),
                                               &mk);
                __m256d tk = _mm256_mul_pd(vcw[k], ek);
                T[k][j] = tk;
                M[k][j] = mk;
                s = _mm256_add_pd(s, tk);
            }
            emy_exp_expm1(_mm256_mul_pd(vmu02, ti), &E1[j]);
            S[j] = s;
            PRE[j] = prod;
            prod = _mm256_mul_pd(prod, s);
            if (WEIGHTED) _mm256_storeu_pd(sbuf + 4 * j, s);
            else aL = _mm256_fmadd_pd(vmu0, ti, aL);  /* mu0 t (-lw0: at the end) */
        }
        __m256d suf = _mm256_div_pd(one, prod);
        if (WEIGHTED) {
            for (int i = 0; i < 32; i++) lbuf[i] = em_log(sbuf[i]);
        } else {
            /* PM *= prod, then PM = 2^e * m: EX += e + 1023 (as a double,
             * exact), PM = m in [1, 2) (as in em_kernel_exact_avx2.h) */
            const __m256i mexp = _mm256_set1_epi64x(0x7ff0000000000000LL);
            const __m256i magic = _mm256_set1_epi64x(0x4330000000000000LL);   /* 2^52 */
            PM = _mm256_mul_pd(PM, prod);
            __m256i b = _mm256_castpd_si256(PM);
            __m256i eb = _mm256_or_si256(_mm256_srli_epi64(b, 52), magic);
            EX = _mm256_add_pd(EX, _mm256_sub_pd(_mm256_castsi256_pd(eb),
                                                 _mm256_castsi256_pd(magic)));
            PM = _mm256_castsi256_pd(_mm256_or_si256(_mm256_andnot_si256(mexp, b),
                                                     _mm256_castpd_si256(one)));
        }
        for (int j = 7; j >= 0; j--) {
            __m256d ti = _mm256_loadu_pd(tt + 8 * j);
            __m256d q = _mm256_mul_pd(suf, PRE[j]);
            suf = _mm256_mul_pd(suf, S[j]);
            if (WEIGHTED) {
                __m256d vi = _mm256_loadu_pd(wt + i0 + 4 * h + 8 * j);
                q = _mm256_mul_pd(q, vi);
                /* -v (lw0 - mu0 t + log s) */
                __m256d a = _mm256_add_pd(_mm256_fnmadd_pd(vmu0, ti, vlw0),
                                          _mm256_loadu_pd(lbuf + 4 * j));
                aL = _mm256_fnmadd_pd(vi, a, aL);
            }
            __m256d qt = _mm256_mul_pd(q, ti);
            for (int k = 0; k < KK; k++) {
                __m256d u = _mm256_mul_pd(vmus[k], ti);
                __m256d small = _mm256_cmp_pd(u, vser, _CMP_LT_OQ);
                int sm = _mm256_movemask_pd(small);
                /* missing mass (v/s) c_k (expm1(mu0 t) - expm1(-Dmu_k t)) */
                __m256d rc = k == 0 ? _mm256_mul_pd(q, E1[j])
                                    : _mm256_mul_pd(_mm256_mul_pd(q, vcw[k]),
                                                    _mm256_sub_pd(E1[j], M[k][j]));
                __m256d x;
                if (sm == 0xf) {
                    x = _mm256_mul_pd(_mm256_mul_pd(rc, ti), emy_gser(u));
                } else {
                    /* R_k / mu_k - (v/s) t c_k e_k */
                    x = k == 0 ? _mm256_fmsub_pd(rc, vimu[k], qt)
                               : _mm256_fnmadd_pd(qt, T[k][j], _mm256_mul_pd(rc, vimu[k]));
                    if (sm)
                        x = _mm256_blendv_pd(
                            x, _mm256_mul_pd(_mm256_mul_pd(rc, ti), emy_gser(u)), small);
                }
                aR[k] = _mm256_add_pd(aR[k], rc);
                aX[k] = _mm256_add_pd(aX[k], x);
            }
        }
    }
    for (int k = 0; k < KK; k++) {
        _mm256_storeu_pd(aRs + 8 * k + 4 * h, aR[k]);
        _mm256_storeu_pd(aXs + 8 * k + 4 * h, aX[k]);
    }
    if (!WEIGHTED) {
        /* minus lw0 per pair and the log of the lane's product of sums,
         * (EX - 1023 tiles) ln2 + log PM; the large parts summed first (see
         * em_kernel_trunc_avx512.h) */
        EX = _mm256_sub_pd(EX, _mm256_set1_pd(1023.0 * (double)(i0 / 64)));
        _mm256_storeu_pd(pbuf, PM);
        for (int l = 0; l < 4; l++) lbuf[l] = em_log(pbuf[l]);
        __m256d lp = _mm256_fmadd_pd(EX, _mm256_set1_pd(EM_VM_LN2_LO), _mm256_loadu_pd(lbuf));
        __m256d big = _mm256_fnmadd_pd(EX, _mm256_set1_pd(EM_VM_LN2_HI),
                                       _mm256_set1_pd(-lw0 * (double)(i0 / 8)));
        aL = _mm256_add_pd(_mm256_sub_pd(big, lp), aL);
    }
    _mm256_storeu_pd(aLs + 4 * h, aL);
    return i0;
}

#define EMTY_CASE(KK)                                                                      \
    case KK:                                                                               \
        done = wt ? emty_body(KK, 1, 0, cw, md, imu, mus, lw0, mu0, tmax, t, wt, ntile, aR, \
                              aX, aL)                                                      \
                  : emty_body(KK, 0, 0, cw, md, imu, mus, lw0, mu0, tmax, t, NULL, ntile,   \
                              aR, aX, aL);                                                 \
        if (done == 0) return 0;                                                           \
        if (wt) emty_body(KK, 1, 1, cw, md, imu, mus, lw0, mu0, tmax, t, wt, done / 64, aR, \
                          aX, aL);                                                         \
        else emty_body(KK, 0, 1, cw, md, imu, mus, lw0, mu0, tmax, t, NULL, done / 64, aR,  \
                       aX, aL);                                                            \
        break;

int64_t em_trunc_fast_avx2(const em_par *p, const double *restrict t,
                           const double *restrict wt, int64_t n, double *restrict acc)
{
    const int K = p->K;
    const double *mu = p->mu;
    int perm[EMTY_KMAX];
    double cw[EMTY_KMAX], md[EMTY_KMAX], imu[EMTY_KMAX], mus[EMTY_KMAX];
    double aR[EMTY_KMAX * 8], aX[EMTY_KMAX * 8], aL[8];
    double Dw = 0.0;
    int64_t done = 0, ntile = n / 64;
    if (K < 2 || K > EMTY_KMAX) return em_trunc_fast_avx2c(p, t, wt, n, acc);
    if (!em_fast_reference(mu, p->logw, K, EMT_DMAX, perm, &Dw)) return -1;
    for (int k = 0; k < EMTY_KMAX; k++) {
        int pk = perm[k < K ? k : 0];
        /* k >= K: phantom components (c_k = 0: exactly zero terms) */
        cw[k] = k == 0 ? 1.0 : k < K ? em_exp(p->logw[pk] - p->logw[perm[0]]) : 0.0;
        md[k] = k < K ? mu[pk] - mu[perm[0]] : 0.0;
        imu[k] = p->inv_mu[pk];
        mus[k] = mu[pk];
    }
    const double lw0 = p->logw[perm[0]], mu0 = mu[perm[0]];
    /* e^{mu_0' t} c_k finite, the missing mass within the cap (em_kernel_trunc.h) */
    const double tmax = emt_tmax(lw0, mu0, Dw, wt != NULL);
    if (!(tmax > 0.0)) return -1;
    if (ntile == 0) return 0;
    switch (EMY_KINDS_LEAN ? 8 : K) {
#if !EMY_KINDS_LEAN
        EMTY_CASE(2)
        EMTY_CASE(3)
        EMTY_CASE(4)
        EMTY_CASE(5)
        EMTY_CASE(6)
        EMTY_CASE(7)
#endif
        default:
        EMTY_CASE(8)
    }
    for (int k = 0; k < K; k++)
        for (int l = 0; l < 8; l++) {
            acc[EM_ACC_R(perm[k]) + l] += aR[8 * k + l];
            acc[EM_ACC_X(perm[k], K) + l] += aX[8 * k + l];
        }
    for (int l = 0; l < 8; l++) acc[EM_ACC_L + l] += aL[l];
    return done;
}

#undef EMTY_CASE
