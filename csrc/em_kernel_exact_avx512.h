/* em_kernel_exact_avx512.h -- the exact-data hot loop written with AVX-512
 * intrinsics: 2 <= K <= EMZ_KMAX components, unit or per-point weights.
 *
 * Included only by em_dispatch_avx512.c, after its target pragma and after
 * the C template em_kernel_exact.h (instantiated there as
 * em_exact_fast_avx512c, which this file falls back to for the cases it
 * does not take: K = 1, K > EMZ_KMAX).  It defines
 *   int64_t em_exact_fast_avx512(const em_par *p, const double *x,
 *                                const double *wt, int64_t n, double *acc);
 * with the contract of em_kernel_exact.h (whole tiles of 64 points, lane
 * accumulators of em_internal.h, returns the number of points consumed).
 *
 * Same algebra as the C template (min-rate shift: K - 1 exps per point and
 * no maximum; one division per lane and tile through the product of the 8
 * sums and prefix/suffix products; unit weights: one log per lane and call,
 * the tiles' products carried as 2^EX * M), with an exp built for this ISA
 * (emz_exp8, em_vmath_avx512.h): the 8-entry table 2^(j/8) lives in one
 * register and is read with vpermpd (no gather), so the polynomial needs
 * degree 7 only, and vscalefpd applies 2^floor(m/8): 14 operations per 8
 * exps instead of ~20 for em_exp_k and ~50 for em_exp.
 * The exponent arguments are computed in units of ln2/8 (8 log2 e folded
 * into the coefficients), which saves the Cody-Waite reduction.
 * One body (emz_body) serves unit and per-point weights (WEIGHTED, a
 * compile-time flag) and every K in 2..EMZ_KMAX.
 */
#include "em_vmath_avx512.h"

#define EMZ_KMAX 8
#include <stdint.h>

/* Software prefetch EMZ_PREFETCH bytes ahead (8 KiB: 16 tiles), one cache
 * line per chunk of 8 points.  The hardware prefetcher does not keep up with
 * this loop (it stops at 4 KiB pages): at N = 2e6 (data in L3) the kernel
 * took 0.52 x the reference kernel's time without, 0.41 x with.  The address
 * is formed as an integer (a prefetch never faults, and no out-of-range
 * pointer is formed in C). */
#define EMZ_PREFETCH 8192
static inline __attribute__((always_inline)) void emz_prefetch(const double *p)
{
    _mm_prefetch((const char *)((uintptr_t)p + EMZ_PREFETCH), _MM_HINT_T0);
}
/* One specialization per KK and WEIGHTED (compile-time constants after
 * inlining).
 *
 * Unit weights (WEIGHTED = 0): no division and no log per point.  Within a
 * tile each lane holds 8 points (chunks j = 0..7); with P = prod_j s_j (one
 * division per lane and tile) 1/s_j = (1/P) prod_{i<j} s_i prod_{i>j} s_i
 * (prefix products PRE, suffix products in the backward loop), and the sum
 * of the logs is log P.  The products of the tiles are carried as 2^EX * M,
 * M in [1, 2) (vgetexppd / vgetmantpd are exact), so one log per lane and
 * call (block) remains: EX ln2 + log M.  (Each product M * P rounds once,
 * relative 2^-53, which is the rounding one more log per tile would add.)
 *
 * Weighted data (v_i >= 0): the same tile structure; per point the log of s
 * is needed (sum_i v_i log s_i is no product), computed for the 64 sums of a
 * tile by em_log in a plain loop that gcc vectorizes for this ISA; q_i =
 * v_i / s_i from the prefix/suffix products as for unit weights.
 *
 * Lane sums out: aRs[8 k + l], aXs[8 k + l] (component perm[k]), aLs[l],
 * aWs[l] (unit weights: aWs[0] = nfast, the other lanes 0). */
static inline __attribute__((always_inline)) void
emz_body(const int KK, const int WEIGHTED, const double *restrict cd, const double *restrict md,
         double c0, double mu0, const double *restrict x, const double *restrict wt,
         int64_t nfast, double *restrict aRs, double *restrict aXs, double *restrict aLs,
         double *restrict aWs)
{
    const __m512d tab = _mm512_loadu_pd(emz_tab8);
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d lo = _mm512_set1_pd(EM_FAST_DMIN * EMZ_L2E8);
    const __m512d vmu0 = _mm512_set1_pd(mu0), vc0 = _mm512_set1_pd(c0);
    __m512d vcd[EMZ_KMAX], vmd[EMZ_KMAX], aR[EMZ_KMAX], aX[EMZ_KMAX];
    __m512d aL = _mm512_setzero_pd(), aW = _mm512_setzero_pd();
    __m512d M = one, EX = _mm512_setzero_pd();
    __m512d E[EMZ_KMAX][8], S[8], PRE[8];
    double sbuf[WEIGHTED ? 64 : 8], lbuf[WEIGHTED ? 64 : 8];
    for (int k = 0; k < KK; k++) {
        /* in units of ln2/8: u = 8 log2(e) (cd - md x) */
        vcd[k] = _mm512_set1_pd(cd[k] * EMZ_L2E8);
        vmd[k] = _mm512_set1_pd(md[k] * EMZ_L2E8);
        aR[k] = aX[k] = _mm512_setzero_pd();
    }
    for (int64_t i0 = 0; i0 < nfast; i0 += 64) {
        const double *restrict xt = x + i0;
        const double *restrict vt = WEIGHTED ? wt + i0 : xt;
        __m512d prod = one;
        for (int j = 0; j < 8; j++) {
            __m512d xi = _mm512_loadu_pd(xt + 8 * j);
            emz_prefetch(xt + 8 * j);
            if (WEIGHTED) emz_prefetch(vt + 8 * j);
            __m512d s = one;
            for (int k = 1; k < KK; k++) {
                __m512d u = _mm512_fnmadd_pd(vmd[k], xi, vcd[k]);
                /* terms below e^-600 are dropped (exactly 0): negligible against
                 * s >= 1, and r = e/s then never goes subnormal (slow assists) */
                __mmask8 keep = _mm512_cmp_pd_mask(u, lo, _CMP_GE_OQ);
                __m512d e = _mm512_maskz_mov_pd(keep, emz_exp8(_mm512_max_pd(u, lo), tab));
                E[k][j] = e;
                s = _mm512_add_pd(s, e);
            }
            S[j] = s;
            if (WEIGHTED) _mm512_storeu_pd(sbuf + 8 * j, s);
            PRE[j] = prod;
            prod = _mm512_mul_pd(prod, s);
            if (!WEIGHTED) aL = _mm512_fnmadd_pd(vmu0, xi, aL);
        }
        if (WEIGHTED)
            for (int i = 0; i < 64; i++) lbuf[i] = em_log(sbuf[i]);
        /* the one division per lane and tile */
        __m512d suf = _mm512_div_pd(one, prod);
        if (!WEIGHTED) {
            M = _mm512_mul_pd(M, prod);
            EX = _mm512_add_pd(EX, _mm512_getexp_pd(M));
            M = _mm512_getmant_pd(M, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
        }
        for (int j = 7; j >= 0; j--) {
            __m512d xi = _mm512_loadu_pd(xt + 8 * j);
            __m512d q = _mm512_mul_pd(suf, PRE[j]);
            suf = _mm512_mul_pd(suf, S[j]);
            if (WEIGHTED) {
                __m512d vi = _mm512_loadu_pd(vt + 8 * j);
                q = _mm512_mul_pd(q, vi);
                /* v (c0 - mu0 x + log s) */
                __m512d a = _mm512_add_pd(_mm512_fnmadd_pd(vmu0, xi, vc0),
                                          _mm512_loadu_pd(lbuf + 8 * j));
                aL = _mm512_fmadd_pd(vi, a, aL);
                aW = _mm512_add_pd(aW, vi);
            }
            aR[0] = _mm512_add_pd(aR[0], q);
            aX[0] = _mm512_fmadd_pd(q, xi, aX[0]);
            for (int k = 1; k < KK; k++) {
                __m512d r = _mm512_mul_pd(E[k][j], q);
                aR[k] = _mm512_add_pd(aR[k], r);
                aX[k] = _mm512_fmadd_pd(r, xi, aX[k]);
            }
        }
    }
    for (int k = 0; k < KK; k++) {
        _mm512_storeu_pd(aRs + 8 * k, aR[k]);
        _mm512_storeu_pd(aXs + 8 * k, aX[k]);
    }
    if (!WEIGHTED) {
        /* log of the lane's product of sums: EX ln2 + log M (EX ln2_hi exact) */
        _mm512_storeu_pd(sbuf, M);
        for (int l = 0; l < 8; l++) lbuf[l] = em_log(sbuf[l]);
        __m512d lp = _mm512_fmadd_pd(EX, _mm512_set1_pd(EM_VM_LN2_LO), _mm512_loadu_pd(lbuf));
        aL = _mm512_add_pd(aL, _mm512_fmadd_pd(EX, _mm512_set1_pd(EM_VM_LN2_HI), lp));
        /* sum of c0 - mu0 x over the 8 points of each lane and tile */
        aL = _mm512_add_pd(aL, _mm512_set1_pd(c0 * (double)(nfast / 8)));
        aW = _mm512_castsi512_pd(_mm512_setzero_si512());
    }
    _mm512_storeu_pd(aLs, aL);
    _mm512_storeu_pd(aWs, aW);
    if (!WEIGHTED) aWs[0] = (double)nfast;
}

int64_t em_exact_fast_avx512(const em_par *p, const double *restrict x,
                             const double *restrict wt, int64_t n, double *restrict acc)
{
    const int K = p->K;
    const double *c = p->logw_mu, *mu = p->mu;
    int perm[EMZ_KMAX];
    double cd[EMZ_KMAX], md[EMZ_KMAX];
    double aR[EMZ_KMAX * 8], aX[EMZ_KMAX * 8], aL[8], aW[8];
    int64_t nfast = n - n % 64;
    double D = 0.0;
    if (K < 2 || K > EMZ_KMAX || nfast <= 0)
        return em_exact_fast_avx512c(p, x, wt, n, acc);
    if (!em_fast_reference(mu, c, K, EM_FAST_DMAX, perm, &D)) return 0;
    for (int k = 0; k < K; k++) {
        cd[k] = c[perm[k]] - c[perm[0]];
        md[k] = mu[perm[k]] - mu[perm[0]];
    }
    const double c0 = c[perm[0]], mu0 = mu[perm[0]];
#define EMZ_CASE(KK)                                                                   \
    case KK:                                                                           \
        if (wt) emz_body(KK, 1, cd, md, c0, mu0, x, wt, nfast, aR, aX, aL, aW);        \
        else emz_body(KK, 0, cd, md, c0, mu0, x, wt, nfast, aR, aX, aL, aW);           \
        break;
    switch (K) {
        EMZ_CASE(2) EMZ_CASE(3) EMZ_CASE(4) EMZ_CASE(5) EMZ_CASE(6) EMZ_CASE(7)
    default: EMZ_CASE(8)
    }
#undef EMZ_CASE
    for (int k = 0; k < K; k++)
        for (int l = 0; l < 8; l++) {
            acc[EM_ACC_R(perm[k]) + l] += aR[8 * k + l];
            acc[EM_ACC_X(perm[k], K) + l] += aX[8 * k + l];
        }
    for (int l = 0; l < 8; l++) {
        acc[EM_ACC_L + l] += aL[l];
        acc[EM_ACC_W + l] += aW[l];
    }
    return nfast;
}
