/* em_kernel_trunc_avx512.h -- truncation pairs (t_j, v_j) with AVX-512
 * intrinsics: 2 <= K <= EMTZ_KMAX components, unit or per-pair weights.
 *
 * Included only by em_dispatch_avx512.c, after its target pragma and after
 * the C template em_kernel_trunc.h (instantiated there as
 * em_trunc_fast_avx512c, which this file falls back to for K = 1).  It
 * defines
 *   int64_t em_trunc_fast_avx512(const em_par *p, const double *t,
 *                                const double *wt, int64_t n, double *acc);
 * with the contract of em_kernel_trunc.h (whole tiles of 64 pairs from the
 * start, stops at the first tile with t > tmax or v > EMT_VMAX, -1 when the
 * parameters are outside the fast range) and the same algebra (see there):
 *   s = 1 + sum_{k != 0'} c_k e_k,  e_k = e^{-Dmu_k t},
 *   -log S = -(log w_0' - mu_0' t) - log s,
 *   R_k += (v/s) c_k (expm1(mu_0' t) - expm1(-Dmu_k t)),
 *   X_k += R_k / mu_k - (v/s) t c_k e_k  (u = mu_k t >= 0.1)
 *       or R_k t g_series(u)              (u < 0.1).
 * e_k and expm1(-Dmu_k t) come from one reduction (emz_exp_expm1_8 of
 * em_vmath_avx512.h: vpermpd tables, vscalefpd), expm1(mu_0' t) from a
 * second: K exponentials per pair.  1/s for unit AND weighted pairs from the
 * prefix/suffix products of the 8 sums of a lane (one division per lane and
 * tile: s in [1, K max c] and D + log K <= 80 keep the product of 8 in
 * range, as in the exact kernel); log s from the product (unit weights) or
 * per pair by em_log in a loop gcc vectorizes (weights).  The series arm is
 * evaluated only for vectors with a lane below u = 0.1, the direct arm only
 * for vectors with a lane above.
 */
#include "em_vmath_avx512.h"

#define EMTZ_KMAX 8
#include <stdint.h>

/* software prefetch 8 KiB ahead, one line per chunk of 8 pairs (as in
 * em_kernel_exact_avx512.h: the hardware prefetcher does not keep up) */
static inline __attribute__((always_inline)) void emtz_prefetch(const double *p)
{
    _mm_prefetch((const char *)((uintptr_t)p + 8192), _MM_HINT_T0);
}

/* EMZ_KINDS_LEAN (sanitizer builds: one K = 8 body): em_vmath_avx512.h */

/* Whole tiles from the start of t while every t <= tmax; returns the number
 * of pairs consumed.  Lane sums (components in the order of perm) go to
 * aRs[8k + l], aXs[8k + l], aLs[l]. */
static inline __attribute__((always_inline)) int64_t
emtz_body(const int KK, const int WEIGHTED, const double *restrict cw,
          const double *restrict md, const double *restrict imu, const double *restrict mus,
          double lw0, double mu0, double tmax, const double *restrict t,
          const double *restrict wt, int64_t ntile, double *restrict aRs,
          double *restrict aXs, double *restrict aLs)
{
    const __m512d tab = _mm512_loadu_pd(emz_tab8), tabl = _mm512_loadu_pd(emz_tab8l);
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d lo = _mm512_set1_pd(-708.0 * EMZ_L2E8);
    const __m512d vmu0 = _mm512_set1_pd(mu0), vlw0 = _mm512_set1_pd(lw0);
    const __m512d vmu08 = _mm512_set1_pd(mu0 * EMZ_L2E8), vtmax = _mm512_set1_pd(tmax);
    const __m512d vvmax = _mm512_set1_pd(EMT_VMAX);
    const __m512d vser = _mm512_set1_pd(0.1);
    /* t below which every exponent argument of a component is <= 1/16 */
    const __m512d vths0 = _mm512_set1_pd(0.0625 / mu0);
    __m512d vcw[EMTZ_KMAX], vmd[EMTZ_KMAX], vimu[EMTZ_KMAX], vmus[EMTZ_KMAX];
    __m512d vmdn[EMTZ_KMAX], vths[EMTZ_KMAX];
    __m512d aR[EMTZ_KMAX], aX[EMTZ_KMAX];
    __m512d aL = _mm512_setzero_pd(), PM = one, EX = _mm512_setzero_pd();
    __m512d T[EMTZ_KMAX][8], M[EMTZ_KMAX][8], E1[8], S[8], PRE[8];
    double pbuf[8], lbuf[64], sbuf[64];
    int64_t i0;
    for (int k = 0; k < KK; k++) {
        vcw[k] = _mm512_set1_pd(cw[k]);
        vmd[k] = _mm512_set1_pd(-md[k] * EMZ_L2E8);
        vmdn[k] = _mm512_set1_pd(-md[k]);
        vths[k] = _mm512_set1_pd(md[k] > 0.0 ? 0.0625 / md[k] : INFINITY);
        vimu[k] = _mm512_set1_pd(imu[k]);
        vmus[k] = _mm512_set1_pd(mus[k]);
        aR[k] = aX[k] = _mm512_setzero_pd();
    }
    for (i0 = 0; i0 < ntile * 64; i0 += 64) {
        const double *restrict tt = t + i0;
        __mmask8 far = 0;
        for (int j = 0; j < 8; j++)
            far |= _mm512_cmp_pd_mask(_mm512_loadu_pd(tt + 8 * j), vtmax, _CMP_NLE_UQ);
        if (WEIGHTED)
            for (int j = 0; j < 8; j++)
                far |= _mm512_cmp_pd_mask(_mm512_loadu_pd(wt + i0 + 8 * j), vvmax, _CMP_NLE_UQ);
        if (far) break;
        __m512d prod = one;
        for (int j = 0; j < 8; j++) {
            __m512d ti = _mm512_loadu_pd(tt + 8 * j);
            __m512d s = one;
            emtz_prefetch(tt + 8 * j);
            if (WEIGHTED) emtz_prefetch(wt + i0 + 8 * j);
            for (int k = 1; k < KK; k++) {
                __m512d mk, ek;
                if (_mm512_cmp_pd_mask(ti, vths[k], _CMP_LE_OQ) == 0xff) {
                    /* every |Dmu_k t| <= 1/16: the series, no reduction */
                    mk = emz_expm1_small(_mm512_mul_pd(vmdn[k], ti));
                    ek = _mm512_add_pd(mk, one);
                } else {
                    ek = emz_exp_expm1_8(_mm512_max_pd(_mm512_mul_pd(vmd[k], ti), lo), tab,
                                         tabl, &mk);
                }
                __m512d tk = _mm512_mul_pd(vcw[k], ek);
                T[k][j] = tk;
                M[k][j] = mk;
                s = _mm512_add_pd(s, tk);
            }
            if (_mm512_cmp_pd_mask(ti, vths0, _CMP_LE_OQ) == 0xff)
                E1[j] = emz_expm1_small(_mm512_mul_pd(vmu0, ti));
            else
                emz_exp_expm1_8(_mm512_mul_pd(vmu08, ti), tab, tabl, &E1[j]);
            S[j] = s;
            PRE[j] = prod;
            prod = _mm512_mul_pd(prod, s);
            if (WEIGHTED) _mm512_storeu_pd(sbuf + 8 * j, s);
            else aL = _mm512_fmadd_pd(vmu0, ti, aL);  /* mu0 t (-lw0: at the end) */
        }
        __m512d suf = _mm512_div_pd(one, prod);
        if (WEIGHTED) {
            for (int i = 0; i < 64; i++) lbuf[i] = em_log(sbuf[i]);
        } else {
            /* the tiles' products as 2^EX * PM, PM in [1, 2) (exact split) */
            PM = _mm512_mul_pd(PM, prod);
            EX = _mm512_add_pd(EX, _mm512_getexp_pd(PM));
            PM = _mm512_getmant_pd(PM, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
        }
        for (int j = 7; j >= 0; j--) {
            __m512d ti = _mm512_loadu_pd(tt + 8 * j);
            __m512d q = _mm512_mul_pd(suf, PRE[j]);
            suf = _mm512_mul_pd(suf, S[j]);
            if (WEIGHTED) {
                __m512d vi = _mm512_loadu_pd(wt + i0 + 8 * j);
                q = _mm512_mul_pd(q, vi);
                /* -v (lw0 - mu0 t + log s) */
                __m512d a = _mm512_add_pd(_mm512_fnmadd_pd(vmu0, ti, vlw0),
                                          _mm512_loadu_pd(lbuf + 8 * j));
                aL = _mm512_fnmadd_pd(vi, a, aL);
            }
            __m512d qt = _mm512_mul_pd(q, ti);
            for (int k = 0; k < KK; k++) {
                __m512d u = _mm512_mul_pd(vmus[k], ti);
                __mmask8 small = _mm512_cmp_pd_mask(u, vser, _CMP_LT_OQ);
                /* missing mass (v/s) c_k (expm1(mu0 t) - expm1(-Dmu_k t)) */
                __m512d rc = k == 0 ? _mm512_mul_pd(q, E1[j])
                                    : _mm512_mul_pd(_mm512_mul_pd(q, vcw[k]),
                                                    _mm512_sub_pd(E1[j], M[k][j]));
                __m512d x;
                if (small == 0xff) {
                    x = _mm512_mul_pd(_mm512_mul_pd(rc, ti), emz_gser(u));
                } else {
                    /* R_k / mu_k - (v/s) t c_k e_k */
                    x = k == 0 ? _mm512_fmsub_pd(rc, vimu[k], qt)
                               : _mm512_fnmadd_pd(qt, T[k][j], _mm512_mul_pd(rc, vimu[k]));
                    if (small)
                        x = _mm512_mask_mov_pd(
                            x, small, _mm512_mul_pd(_mm512_mul_pd(rc, ti), emz_gser(u)));
                }
                aR[k] = _mm512_add_pd(aR[k], rc);
                aX[k] = _mm512_add_pd(aX[k], x);
            }
        }
    }
    for (int k = 0; k < KK; k++) {
        _mm512_storeu_pd(aRs + 8 * k, aR[k]);
        _mm512_storeu_pd(aXs + 8 * k, aX[k]);
    }
    if (!WEIGHTED) {
        /* minus lw0 per pair and the log of the lane's product of sums,
         * EX ln2 + log PM; the two large parts -lw0 n/8 and EX ln2_hi (exact)
         * nearly cancel when w_0' is small, so they are summed first (one
         * rounding each) before the small ones (as in the exact kernel) */
        _mm512_storeu_pd(pbuf, PM);
        for (int l = 0; l < 8; l++) lbuf[l] = em_log(pbuf[l]);
        __m512d lp = _mm512_fmadd_pd(EX, _mm512_set1_pd(EM_VM_LN2_LO), _mm512_loadu_pd(lbuf));
        __m512d big = _mm512_fnmadd_pd(EX, _mm512_set1_pd(EM_VM_LN2_HI),
                                       _mm512_set1_pd(-lw0 * (double)(i0 / 8)));
        aL = _mm512_add_pd(_mm512_sub_pd(big, lp), aL);
    }
    _mm512_storeu_pd(aLs, aL);
    return i0;
}

#define EMTZ_CASE(KK)                                                                    \
    case KK:                                                                             \
        done = wt ? emtz_body(KK, 1, cw, md, imu, mus, lw0, mu0, tmax, t, wt, ntile, aR, \
                              aX, aL)                                                    \
                  : emtz_body(KK, 0, cw, md, imu, mus, lw0, mu0, tmax, t, NULL, ntile,   \
                              aR, aX, aL);                                               \
        break;

int64_t em_trunc_fast_avx512(const em_par *p, const double *restrict t,
                             const double *restrict wt, int64_t n, double *restrict acc)
{
    const int K = p->K;
    const double *mu = p->mu;
    int perm[EMTZ_KMAX];
    double cw[EMTZ_KMAX], md[EMTZ_KMAX], imu[EMTZ_KMAX], mus[EMTZ_KMAX];
    double aR[EMTZ_KMAX * 8], aX[EMTZ_KMAX * 8], aL[8];
    double Dw = 0.0;
    int64_t done = 0, ntile = n / 64;
    if (K < 2 || K > EMTZ_KMAX) return em_trunc_fast_avx512c(p, t, wt, n, acc);
    if (!em_fast_reference(mu, p->logw, K, EMT_DMAX, perm, &Dw)) return -1;
    for (int k = 0; k < EMTZ_KMAX; k++) {
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
    switch (EMZ_KINDS_LEAN ? 8 : K) {
#if !EMZ_KINDS_LEAN
        EMTZ_CASE(2)
        EMTZ_CASE(3)
        EMTZ_CASE(4)
        EMTZ_CASE(5)
        EMTZ_CASE(6)
        EMTZ_CASE(7)
#endif
        default:
        EMTZ_CASE(8)
    }
    if (done == 0) return 0;
    for (int k = 0; k < K; k++)
        for (int l = 0; l < 8; l++) {
            acc[EM_ACC_R(perm[k]) + l] += aR[8 * k + l];
            acc[EM_ACC_X(perm[k], K) + l] += aX[8 * k + l];
        }
    for (int l = 0; l < 8; l++) acc[EM_ACC_L + l] += aL[l];
    return done;
}

#undef EMTZ_CASE
