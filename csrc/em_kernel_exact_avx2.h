/* em_kernel_exact_avx2.h -- the exact-data hot loop written with AVX2 + FMA
 * intrinsics: 2 <= K <= EMY_KMAX components, unit or per-point weights.
 *
 * Included only by em_dispatch_avx2.c, after its target pragma and after
 * the C template em_kernel_exact.h (instantiated there as
 * em_exact_fast_avx2c, which this file falls back to for K = 1 and the
 * cases the template takes alone).  It defines
 *   int64_t em_exact_fast_avx2(const em_par *p, const double *x,
 *                              const double *wt, int64_t n, double *acc);
 * with the contract of em_kernel_exact.h (whole tiles of 64 points, the 8
 * lane accumulators of em_internal.h: lane l sums the points 8 j + l of
 * every tile, returns the number of points consumed).
 *
 * The algebra of em_kernel_exact_avx512.h (reference component of smallest
 * rate: K - 1 exps per point, no maximum; one division per lane and tile
 * through the product of the 8 sums of a lane and prefix/suffix products;
 * unit weights: one log per lane and call, the tiles' products carried as
 * 2^EX * M with M in [1, 2); terms below e^-600 dropped, exactly 0), with
 * 4-wide vectors: the 8 lanes are two halves (lanes 0-3 and 4-7), and the
 * kernel runs over the block once per half (the second run reads the block
 * from L1/L2), so each run holds only one half's accumulators (AVX2 has 16
 * vector registers).  exp is emy_exp2 (em_vmath_avx2.h).
 */
#include "em_vmath_avx2.h"
#include <stdint.h>

#define EMY_KMAX 8
/* software prefetch 8 KiB ahead, one line per chunk (see em_kernel_exact_avx512.h) */
#define EMY_PREFETCH 8192
static inline __attribute__((always_inline)) void emy_prefetch(const double *p)
{
    _mm_prefetch((const char *)((uintptr_t)p + EMY_PREFETCH), _MM_HINT_T0);
}

/* One half (lanes 4h .. 4h + 3) of the lane sums of the block: out
 * aRs[8 k + 4h + l], aXs[8 k + 4h + l] (component perm[k]), aLs[4h + l],
 * aWs[4h + l] (unit weights: 0; the caller adds nfast). */
static inline __attribute__((always_inline)) void
emy_body(const int KK, const int WEIGHTED, const int h, const double *restrict cd,
         const double *restrict md, double c0, double mu0, const double *restrict x,
         const double *restrict wt, int64_t nfast, double *restrict aRs,
         double *restrict aXs, double *restrict aLs, double *restrict aWs)
{
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d lo = _mm256_set1_pd(EM_FAST_DMIN * EMY_LOG2E);
    const __m256d vmu0 = _mm256_set1_pd(mu0), vc0 = _mm256_set1_pd(c0);
    __m256d vcd[EMY_KMAX], vmd[EMY_KMAX], aR[EMY_KMAX], aX[EMY_KMAX];
    __m256d aL = _mm256_setzero_pd(), aW = _mm256_setzero_pd();
    __m256d M = one, EX = _mm256_setzero_pd();
    __m256d E[EMY_KMAX][8], S[8], PRE[8];
    double sbuf[WEIGHTED ? 32 : 4], lbuf[WEIGHTED ? 32 : 4];
    for (int k = 0; k < KK; k++) {
        /* in units of ln2: u = log2(e) (cd - md x) */
        vcd[k] = _mm256_set1_pd(cd[k] * EMY_LOG2E);
        vmd[k] = _mm256_set1_pd(md[k] * EMY_LOG2E);
        aR[k] = aX[k] = _mm256_setzero_pd();
    }
    for (int64_t i0 = 0; i0 < nfast; i0 += 64) {
        const double *restrict xt = x + i0 + 4 * h;
        const double *restrict vt = WEIGHTED ? wt + i0 + 4 * h : xt;
        __m256d prod = one;
        for (int j = 0; j < 8; j++) {
            __m256d xi = _mm256_loadu_pd(xt + 8 * j);
            if (h == 0) {
                emy_prefetch(xt + 8 * j);
                if (WEIGHTED) emy_prefetch(vt + 8 * j);
            }
            __m256d s = one;
            for (int k = 1; k < KK; k++) {
                __m256d u = _mm256_fnmadd_pd(vmd[k], xi, vcd[k]);
                /* terms below e^-600 are dropped (exactly 0: a bitwise and).
                 * No clamp of u: below the domain of emy_exp2 its result is
                 * garbage (bits only: integer exponent add, no subnormal
                 * arithmetic) or inf/NaN, and the and turns it into +0 */
                __m256d keep = _mm256_cmp_pd(u, lo, _CMP_GE_OQ);
                __m256d e = _mm256_and_pd(keep, emy_exp2(u));
                E[k][j] = e;
                s = _mm256_add_pd(s, e);
            }
            S[j] = s;
            if (WEIGHTED) _mm256_storeu_pd(sbuf + 4 * j, s);
            PRE[j] = prod;
            prod = _mm256_mul_pd(prod, s);
            if (!WEIGHTED) aL = _mm256_fnmadd_pd(vmu0, xi, aL);
        }
        if (WEIGHTED)
            for (int i = 0; i < 32; i++) lbuf[i] = em_log(sbuf[i]);
        /* the one division per lane and tile */
        __m256d suf = _mm256_div_pd(one, prod);
        if (!WEIGHTED) {
            /* M *= prod, then M = 2^e * m: EX += e + 1023 (as a double,
             * exact), M = m in [1, 2); M is positive and normal */
            const __m256i mexp = _mm256_set1_epi64x(0x7ff0000000000000LL);
            const __m256i magic = _mm256_set1_epi64x(0x4330000000000000LL);   /* 2^52 */
            M = _mm256_mul_pd(M, prod);
            __m256i b = _mm256_castpd_si256(M);
            __m256i eb = _mm256_or_si256(_mm256_srli_epi64(b, 52), magic);
            EX = _mm256_add_pd(EX, _mm256_sub_pd(_mm256_castsi256_pd(eb),
                                                 _mm256_castsi256_pd(magic)));
            M = _mm256_castsi256_pd(_mm256_or_si256(_mm256_andnot_si256(mexp, b),
                                                    _mm256_castpd_si256(one)));
        }
        for (int j = 7; j >= 0; j--) {
            __m256d xi = _mm256_loadu_pd(xt + 8 * j);
            __m256d q = _mm256_mul_pd(suf, PRE[j]);
            suf = _mm256_mul_pd(suf, S[j]);
            if (WEIGHTED) {
                __m256d vi = _mm256_loadu_pd(vt + 8 * j);
                q = _mm256_mul_pd(q, vi);
                /* v (c0 - mu0 x + log s) */
                __m256d a = _mm256_add_pd(_mm256_fnmadd_pd(vmu0, xi, vc0),
                                          _mm256_loadu_pd(lbuf + 4 * j));
                aL = _mm256_fmadd_pd(vi, a, aL);
                aW = _mm256_add_pd(aW, vi);
            }
            aR[0] = _mm256_add_pd(aR[0], q);
            aX[0] = _mm256_fmadd_pd(q, xi, aX[0]);
            for (int k = 1; k < KK; k++) {
                __m256d r = _mm256_mul_pd(E[k][j], q);
                aR[k] = _mm256_add_pd(aR[k], r);
                aX[k] = _mm256_fmadd_pd(r, xi, aX[k]);
            }
        }
    }
    for (int k = 0; k < KK; k++) {
        _mm256_storeu_pd(aRs + 8 * k + 4 * h, aR[k]);
        _mm256_storeu_pd(aXs + 8 * k + 4 * h, aX[k]);
    }
    if (!WEIGHTED) {
        /* log of the lane's product: (EX - 1023 tiles) ln2 + log M */
        EX = _mm256_sub_pd(EX, _mm256_set1_pd(1023.0 * (double)(nfast / 64)));
        _mm256_storeu_pd(sbuf, M);
        for (int l = 0; l < 4; l++) lbuf[l] = em_log(sbuf[l]);
        __m256d lp = _mm256_fmadd_pd(EX, _mm256_set1_pd(EM_VM_LN2_LO), _mm256_loadu_pd(lbuf));
        aL = _mm256_add_pd(aL, _mm256_fmadd_pd(EX, _mm256_set1_pd(EM_VM_LN2_HI), lp));
        /* sum of c0 - mu0 x over the 8 points of each lane and tile */
        aL = _mm256_add_pd(aL, _mm256_set1_pd(c0 * (double)(nfast / 8)));
    }
    _mm256_storeu_pd(aLs + 4 * h, aL);
    _mm256_storeu_pd(aWs + 4 * h, aW);
}

int64_t em_exact_fast_avx2(const em_par *p, const double *restrict x,
                           const double *restrict wt, int64_t n, double *restrict acc)
{
    const int K = p->K;
    const double *c = p->logw_mu, *mu = p->mu;
    int perm[EMY_KMAX];
    double cd[EMY_KMAX], md[EMY_KMAX];
    double aR[EMY_KMAX * 8], aX[EMY_KMAX * 8], aL[8], aW[8];
    int64_t nfast = n - n % 64;
    double D = 0.0;
    if (K < 2 || K > EMY_KMAX || nfast <= 0) return em_exact_fast_avx2c(p, x, wt, n, acc);
    if (!em_fast_reference(mu, c, K, EM_FAST_DMAX, perm, &D)) return 0;
    for (int k = 0; k < K; k++) {
        cd[k] = c[perm[k]] - c[perm[0]];
        md[k] = mu[perm[k]] - mu[perm[0]];
    }
    const double c0 = c[perm[0]], mu0 = mu[perm[0]];
#define EMY_CASE(KK)                                                                   \
    case KK:                                                                           \
        for (int h = 0; h < 2; h++) {                                                  \
            if (wt) emy_body(KK, 1, h, cd, md, c0, mu0, x, wt, nfast, aR, aX, aL, aW); \
            else emy_body(KK, 0, h, cd, md, c0, mu0, x, wt, nfast, aR, aX, aL, aW);    \
        }                                                                              \
        break;
    switch (K) {
        EMY_CASE(2) EMY_CASE(3) EMY_CASE(4) EMY_CASE(5) EMY_CASE(6) EMY_CASE(7)
    default: EMY_CASE(8)
    }
#undef EMY_CASE
    for (int k = 0; k < K; k++)
        for (int l = 0; l < 8; l++) {
            acc[EM_ACC_R(perm[k]) + l] += aR[8 * k + l];
            acc[EM_ACC_X(perm[k], K) + l] += aX[8 * k + l];
        }
    for (int l = 0; l < 8; l++) {
        acc[EM_ACC_L + l] += aL[l];
        acc[EM_ACC_W + l] += aW[l];
    }
    if (!wt) acc[EM_ACC_W] += (double)nfast;
    return nfast;
}
