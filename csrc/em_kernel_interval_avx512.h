/* em_kernel_interval_avx512.h -- interval-censored observations with AVX-512
 * intrinsics: 2 <= K <= EMIZ_KMAX components, unit or per-point weights.
 *
 * Included only by em_dispatch_avx512.c, after its target pragma and after
 * the C template em_kernel_interval.h (instantiated there as
 * em_interval_fast_avx512c: this file falls back to it for K = 1 and uses
 * its scalar per-width constants em_k_bin_consts_avx512c).  It defines
 *   int64_t em_interval_fast_avx512(const em_par *p, const double *lo,
 *                                   const double *hi, const double *wt,
 *                                   int64_t n, double *acc);
 * with the contract and the algebra of em_kernel_interval.h (see there):
 * tiles of equal widths (within 2^-32 of a reference width) run as exact
 * data with per-point constants, other tiles per point with K bin
 * probabilities and K - 1 location factors.  What differs:
 *  - exponentials by emz_exp8 / emz_exp_expm1_8 (em_vmath_avx512.h);
 *  - equal widths: X_k = sum r (a + h0_k + del h1_k) is accumulated as
 *    sum r a, sum r and sum r del per tile (h0, h1 applied once per tile);
 *    terms below e^-600 are dropped (exactly 0) as in the exact kernel;
 *  - differing widths: 1/S without a division per point: S = 2^e m with
 *    m in [1, 2) (vgetexppd, vgetmantpd), 1/m from the prefix/suffix
 *    products of the 8 mantissas of a lane (one division per lane and
 *    tile), 1/S = 2^-e / m (vscalefpd); log S = e ln2 + log m (one log per
 *    lane and tile of the product of mantissas, unit weights) or per point
 *    (weights, em_log in a loop gcc vectorizes);  location factors
 *    e^{log(w_k/w_0') - Dmu_k a} below e^-708 and the bin term d e^{-u}
 *    beyond u = 708 are dropped (exactly 0) rather than clamped; vectors of
 *    left-censored points (a = 0 in all 8 lanes) reuse the location factors
 *    at a = 0 (K - 1 exps fewer per point).
 */
#include "em_vmath_avx512.h"

#define EMIZ_KMAX 8
#include <stdint.h>

/* software prefetch 8 KiB ahead of lower, upper (and weights), one line per
 * chunk of 8 points (as in the exact kernels: the hardware prefetcher does
 * not keep up) */
static inline __attribute__((always_inline)) void emiz_prefetch(const double *p)
{
    _mm_prefetch((const char *)((uintptr_t)p + 8192), _MM_HINT_T0);
}

/* EMZ_KINDS_LEAN (sanitizer builds: one K = 8 body): em_vmath_avx512.h */

typedef struct emiz_const {
    /* per call, components in the order of perm (0' first) */
    double lwd8[EMIZ_KMAX], md8[EMIZ_KMAX], mus8[EMIZ_KMAX], imu[EMIZ_KMAX], mus[EMIZ_KMAX];
    double lw0, mu0;
    /* per reference width (exponent arguments in units of ln2/8) */
    double cd8[EMIZ_KMAX], fd8[EMIZ_KMAX], h0[EMIZ_KMAX], h1[EMIZ_KMAX], c0, f10, dref;
} emiz_const;

/* Lane sums of one call, components in the order of perm:
 * R[8k + l], X[8k + l], L[l], W[l]. */
typedef struct emiz_tot {
    double R[EMIZ_KMAX * 8], X[EMIZ_KMAX * 8], L[8], W[8];
} emiz_tot;

/* One tile of (nearly) equal widths d = dref + del. */
static inline __attribute__((always_inline)) void
emiz_uniform(const int KK, const int WEIGHTED, const emiz_const *restrict C,
             const double *restrict at, const double *restrict ht, const double *restrict vt,
             emiz_tot *restrict tot)
{
    const __m512d tab = _mm512_loadu_pd(emz_tab8);
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d lo = _mm512_set1_pd(EM_FAST_DMIN * EMZ_L2E8);
    const __m512d vmu0 = _mm512_set1_pd(C->mu0), vc0 = _mm512_set1_pd(C->c0);
    const __m512d vf10 = _mm512_set1_pd(C->f10), vdref = _mm512_set1_pd(C->dref);
    __m512d vcd[EMIZ_KMAX], vfd[EMIZ_KMAX], vmd[EMIZ_KMAX];
    __m512d aR[EMIZ_KMAX], aX[EMIZ_KMAX], aD[EMIZ_KMAX];
    __m512d aL = _mm512_setzero_pd(), aW = _mm512_setzero_pd();
    __m512d E[EMIZ_KMAX][8], S[8], PRE[8], DEL[8];
    double pbuf[8], lbuf[64], sbuf[64];
    for (int k = 0; k < KK; k++) {
        vcd[k] = _mm512_set1_pd(C->cd8[k]);
        vfd[k] = _mm512_set1_pd(C->fd8[k]);
        vmd[k] = _mm512_set1_pd(C->md8[k]);
        aR[k] = aX[k] = aD[k] = _mm512_setzero_pd();
    }
    __m512d prod = one;
    for (int j = 0; j < 8; j++) {
        __m512d ai = _mm512_loadu_pd(at + 8 * j);
        __m512d del = _mm512_sub_pd(_mm512_sub_pd(_mm512_loadu_pd(ht + 8 * j), ai), vdref);
        emiz_prefetch(at + 8 * j);
        emiz_prefetch(ht + 8 * j);
        if (WEIGHTED) emiz_prefetch(vt + 8 * j);
        __m512d s = one;
        DEL[j] = del;
        for (int k = 1; k < KK; k++) {
            __m512d u = _mm512_fmadd_pd(del, vfd[k], _mm512_fnmadd_pd(vmd[k], ai, vcd[k]));
            __mmask8 keep = _mm512_cmp_pd_mask(u, lo, _CMP_GE_OQ);
            __m512d e = _mm512_maskz_mov_pd(keep, emz_exp8(_mm512_max_pd(u, lo), tab));
            E[k][j] = e;
            s = _mm512_add_pd(s, e);
        }
        S[j] = s;
        PRE[j] = prod;
        prod = _mm512_mul_pd(prod, s);
        if (WEIGHTED) _mm512_storeu_pd(sbuf + 8 * j, s);
        else aL = _mm512_add_pd(aL, _mm512_fmadd_pd(del, vf10, _mm512_fnmadd_pd(vmu0, ai, vc0)));
    }
    __m512d suf = _mm512_div_pd(one, prod);
    if (WEIGHTED) {
        for (int i = 0; i < 64; i++) lbuf[i] = em_log(sbuf[i]);
    } else {
        _mm512_storeu_pd(pbuf, prod);
        for (int l = 0; l < 8; l++) lbuf[l] = em_log(pbuf[l]);
        aL = _mm512_add_pd(aL, _mm512_loadu_pd(lbuf));
    }
    for (int j = 7; j >= 0; j--) {
        __m512d ai = _mm512_loadu_pd(at + 8 * j), del = DEL[j];
        __m512d q = _mm512_mul_pd(suf, PRE[j]);
        suf = _mm512_mul_pd(suf, S[j]);
        if (WEIGHTED) {
            __m512d vi = _mm512_loadu_pd(vt + 8 * j);
            q = _mm512_mul_pd(q, vi);
            __m512d a0 = _mm512_fmadd_pd(del, vf10, _mm512_fnmadd_pd(vmu0, ai, vc0));
            aL = _mm512_fmadd_pd(vi, _mm512_add_pd(a0, _mm512_loadu_pd(lbuf + 8 * j)), aL);
            aW = _mm512_add_pd(aW, vi);
        }
        aR[0] = _mm512_add_pd(aR[0], q);
        aX[0] = _mm512_fmadd_pd(q, ai, aX[0]);
        aD[0] = _mm512_fmadd_pd(q, del, aD[0]);
        for (int k = 1; k < KK; k++) {
            __m512d r = _mm512_mul_pd(E[k][j], q);
            aR[k] = _mm512_add_pd(aR[k], r);
            aX[k] = _mm512_fmadd_pd(r, ai, aX[k]);
            aD[k] = _mm512_fmadd_pd(r, del, aD[k]);
        }
    }
    for (int k = 0; k < KK; k++) {
        /* X_k = sum r a + h0_k sum r + h1_k sum r del */
        __m512d x = _mm512_fmadd_pd(_mm512_set1_pd(C->h1[k]), aD[k], aX[k]);
        x = _mm512_fmadd_pd(_mm512_set1_pd(C->h0[k]), aR[k], x);
        _mm512_storeu_pd(tot->R + 8 * k, _mm512_add_pd(_mm512_loadu_pd(tot->R + 8 * k), aR[k]));
        _mm512_storeu_pd(tot->X + 8 * k, _mm512_add_pd(_mm512_loadu_pd(tot->X + 8 * k), x));
    }
    _mm512_storeu_pd(tot->L, _mm512_add_pd(_mm512_loadu_pd(tot->L), aL));
    if (WEIGHTED) _mm512_storeu_pd(tot->W, _mm512_add_pd(_mm512_loadu_pd(tot->W), aW));
    else tot->W[0] += 64.0;
}

/* One tile of differing widths. */
static inline __attribute__((always_inline)) void
emiz_general(const int KK, const int WEIGHTED, const emiz_const *restrict C,
             const double *restrict at, const double *restrict ht, const double *restrict vt,
             emiz_tot *restrict tot)
{
    const __m512d tab = _mm512_loadu_pd(emz_tab8), tabl = _mm512_loadu_pd(emz_tab8l);
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d lo = _mm512_set1_pd(-708.0 * EMZ_L2E8);
    const __m512d vmu0 = _mm512_set1_pd(C->mu0), vlw0 = _mm512_set1_pd(C->lw0);
    const __m512d vser = _mm512_set1_pd(0.1);
    __m512d vlwd[EMIZ_KMAX], vmd[EMIZ_KMAX], vmus8[EMIZ_KMAX], vmus[EMIZ_KMAX], vimu[EMIZ_KMAX];
    __m512d aR[EMIZ_KMAX], aX[EMIZ_KMAX];
    __m512d aL = _mm512_setzero_pd(), aW = _mm512_setzero_pd(), aE = _mm512_setzero_pd();
    __m512d T[EMIZ_KMAX][8], TG[EMIZ_KMAX][8], MS[8], ES[8], PRE[8];
    double pbuf[8], lbuf[64], sbuf[64];
    __m512d vt0[EMIZ_KMAX];    /* location factors at a = 0 (left-censored) */
    for (int k = 0; k < KK; k++) {
        vlwd[k] = _mm512_set1_pd(C->lwd8[k]);
        vt0[k] = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(vlwd[k], lo, _CMP_GE_OQ),
                                     emz_exp8(_mm512_max_pd(vlwd[k], lo), tab));
        vmd[k] = _mm512_set1_pd(C->md8[k]);
        vmus8[k] = _mm512_set1_pd(-C->mus8[k]);
        vmus[k] = _mm512_set1_pd(C->mus[k]);
        vimu[k] = _mm512_set1_pd(C->imu[k]);
        aR[k] = aX[k] = _mm512_setzero_pd();
    }
    __m512d prod = one;
    for (int j = 0; j < 8; j++) {
        __m512d ai = _mm512_loadu_pd(at + 8 * j);
        __m512d di = _mm512_sub_pd(_mm512_loadu_pd(ht + 8 * j), ai);
        emiz_prefetch(at + 8 * j);
        emiz_prefetch(ht + 8 * j);
        if (WEIGHTED) emiz_prefetch(vt + 8 * j);
        __m512d s = _mm512_setzero_pd();
        const __mmask8 azero = _mm512_cmp_pd_mask(ai, _mm512_setzero_pd(), _CMP_EQ_OQ);
        for (int k = 0; k < KK; k++) {
            /* bin probability p_k = -expm1(-mu_k d), e^{-mu_k d} */
            __m512d x = _mm512_mul_pd(vmus8[k], di);
            __mmask8 inb = _mm512_cmp_pd_mask(x, lo, _CMP_GE_OQ);
            __m512d m1, ex = emz_exp_expm1_8(_mm512_max_pd(x, lo), tab, tabl, &m1);
            __m512d pk = _mm512_mask_mov_pd(one, inb, _mm512_sub_pd(_mm512_setzero_pd(), m1));
            ex = _mm512_maskz_mov_pd(inb, ex);
            /* G = p_k d g(u) (u < 0.1) or p_k / mu_k - d e^{-u} */
            __m512d u = _mm512_mul_pd(vmus[k], di);
            __mmask8 small = _mm512_cmp_pd_mask(u, vser, _CMP_LT_OQ);
            __m512d G;
            if (small == 0xff) {
                G = _mm512_mul_pd(_mm512_mul_pd(pk, di), emz_gser(u));
            } else {
                G = _mm512_fmsub_pd(pk, vimu[k], _mm512_mul_pd(di, ex));
                if (small)
                    G = _mm512_mask_mov_pd(G, small,
                                           _mm512_mul_pd(_mm512_mul_pd(pk, di), emz_gser(u)));
            }
            __m512d tg = _mm512_fmadd_pd(pk, ai, G);
            if (k == 0) {
                T[0][j] = pk;
                TG[0][j] = tg;
                s = pk;
            } else {
                /* location factor e^{log(w_k/w_0') - Dmu_k a}, dropped below e^-708 */
                __m512d tk;
                if (azero == 0xff) {
                    tk = vt0[k];    /* [0, u): the same factor for every point */
                } else {
                    __m512d v = _mm512_fnmadd_pd(vmd[k], ai, vlwd[k]);
                    __mmask8 keep = _mm512_cmp_pd_mask(v, lo, _CMP_GE_OQ);
                    tk = _mm512_maskz_mov_pd(keep, emz_exp8(_mm512_max_pd(v, lo), tab));
                }
                __m512d tp = _mm512_mul_pd(tk, pk);
                T[k][j] = tp;
                TG[k][j] = _mm512_mul_pd(tk, tg);
                s = _mm512_add_pd(s, tp);
            }
        }
        /* s = 2^e m, m in [1, 2) */
        __m512d e = _mm512_getexp_pd(s);
        __m512d m = _mm512_getmant_pd(s, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
        ES[j] = e;
        MS[j] = m;
        PRE[j] = prod;
        prod = _mm512_mul_pd(prod, m);
        if (WEIGHTED) {
            _mm512_storeu_pd(sbuf + 8 * j, m);
        } else {
            aL = _mm512_add_pd(aL, _mm512_fnmadd_pd(vmu0, ai, vlw0));
            aE = _mm512_add_pd(aE, e);
        }
    }
    __m512d suf = _mm512_div_pd(one, prod);
    const __m512d ln2 = _mm512_set1_pd(0.69314718055994531);
    if (WEIGHTED) {
        for (int i = 0; i < 64; i++) lbuf[i] = em_log(sbuf[i]);
    } else {
        _mm512_storeu_pd(pbuf, prod);
        for (int l = 0; l < 8; l++) lbuf[l] = em_log(pbuf[l]);
        aL = _mm512_add_pd(aL, _mm512_fmadd_pd(aE, ln2, _mm512_loadu_pd(lbuf)));
    }
    for (int j = 7; j >= 0; j--) {
        __m512d q = _mm512_mul_pd(suf, PRE[j]);         /* 1 / m */
        suf = _mm512_mul_pd(suf, MS[j]);
        q = _mm512_scalef_pd(q, _mm512_sub_pd(_mm512_setzero_pd(), ES[j]));   /* 1 / s */
        if (WEIGHTED) {
            __m512d ai = _mm512_loadu_pd(at + 8 * j);
            __m512d vi = _mm512_loadu_pd(vt + 8 * j);
            q = _mm512_mul_pd(q, vi);
            __m512d ls = _mm512_fmadd_pd(ES[j], ln2, _mm512_loadu_pd(lbuf + 8 * j));
            aL = _mm512_fmadd_pd(vi, _mm512_add_pd(_mm512_fnmadd_pd(vmu0, ai, vlw0), ls), aL);
            aW = _mm512_add_pd(aW, vi);
        }
        for (int k = 0; k < KK; k++) {
            aR[k] = _mm512_fmadd_pd(q, T[k][j], aR[k]);
            aX[k] = _mm512_fmadd_pd(q, TG[k][j], aX[k]);
        }
    }
    for (int k = 0; k < KK; k++) {
        _mm512_storeu_pd(tot->R + 8 * k, _mm512_add_pd(_mm512_loadu_pd(tot->R + 8 * k), aR[k]));
        _mm512_storeu_pd(tot->X + 8 * k, _mm512_add_pd(_mm512_loadu_pd(tot->X + 8 * k), aX[k]));
    }
    _mm512_storeu_pd(tot->L, _mm512_add_pd(_mm512_loadu_pd(tot->L), aL));
    if (WEIGHTED) _mm512_storeu_pd(tot->W, _mm512_add_pd(_mm512_loadu_pd(tot->W), aW));
    else tot->W[0] += 64.0;
}

/* the bodies as separate functions (one per KK and weighting) */
#define EMIZ_DEF(KK)                                                                         \
    static __attribute__((noinline)) void emiz_uniform_##KK(                                 \
        const emiz_const *C, const double *at, const double *ht, const double *vt,           \
        emiz_tot *tot)                                                                       \
    {                                                                                        \
        if (vt) emiz_uniform(KK, 1, C, at, ht, vt, tot);                                     \
        else emiz_uniform(KK, 0, C, at, ht, NULL, tot);                                      \
    }                                                                                        \
    static __attribute__((noinline)) void emiz_general_##KK(                                 \
        const emiz_const *C, const double *at, const double *ht, const double *vt,           \
        emiz_tot *tot)                                                                       \
    {                                                                                        \
        if (vt) emiz_general(KK, 1, C, at, ht, vt, tot);                                     \
        else emiz_general(KK, 0, C, at, ht, NULL, tot);                                      \
    }
#if !EMZ_KINDS_LEAN
EMIZ_DEF(2)
EMIZ_DEF(3)
EMIZ_DEF(4)
EMIZ_DEF(5)
EMIZ_DEF(6)
EMIZ_DEF(7)
#else
#define emiz_uniform_2 emiz_uniform_8
#define emiz_uniform_3 emiz_uniform_8
#define emiz_uniform_4 emiz_uniform_8
#define emiz_general_2 emiz_general_8
#define emiz_general_3 emiz_general_8
#define emiz_general_4 emiz_general_8
#define emiz_uniform_5 emiz_uniform_8
#define emiz_uniform_6 emiz_uniform_8
#define emiz_uniform_7 emiz_uniform_8
#define emiz_general_5 emiz_general_8
#define emiz_general_6 emiz_general_8
#define emiz_general_7 emiz_general_8
#endif
EMIZ_DEF(8)
#undef EMIZ_DEF

typedef void (*emiz_body_fn)(const emiz_const *, const double *, const double *,
                             const double *, emiz_tot *);

int64_t em_interval_fast_avx512(const em_par *p, const double *restrict lo,
                                const double *restrict hi, const double *restrict wt,
                                int64_t n, double *restrict acc)
{
    static const emiz_body_fn ufn[EMIZ_KMAX + 1] = {
        0, 0, emiz_uniform_2, emiz_uniform_3, emiz_uniform_4, emiz_uniform_5,
        emiz_uniform_6, emiz_uniform_7, emiz_uniform_8};
    static const emiz_body_fn gfn[EMIZ_KMAX + 1] = {
        0, 0, emiz_general_2, emiz_general_3, emiz_general_4, emiz_general_5,
        emiz_general_6, emiz_general_7, emiz_general_8};
    const int K = p->K;
    const double *mu = p->mu;
    int perm[EMIZ_KMAX];
    double D = 0.0;
    emiz_const C;
    emiz_tot tot;
    int64_t i0;
    if (K < 2 || K > EMIZ_KMAX) return em_interval_fast_avx512c(p, lo, hi, wt, n, acc);
    if (!em_fast_reference(mu, p->logw_mu, K, EMI_DMAX, perm, &D)) return -1;
    const double lw0 = p->logw[perm[0]], mu0 = mu[perm[0]];
    for (int k = 0; k < EMIZ_KMAX; k++) {
        /* k >= K: phantom components (location factor e^-inf = 0: exactly
         * zero terms; used by the K = 8 body for every K in lean builds) */
        int pk = perm[k < K ? k : 0];
        C.lwd8[k] = k < K ? (p->logw[pk] - lw0) * EMZ_L2E8 : -INFINITY;
        C.md8[k] = k < K ? (mu[pk] - mu0) * EMZ_L2E8 : 0.0;
        C.mus8[k] = mu[pk] * EMZ_L2E8;
        C.mus[k] = mu[pk];
        C.imu[k] = p->inv_mu[pk];
        C.cd8[k] = -INFINITY;
        C.fd8[k] = C.h0[k] = C.h1[k] = 0.0;
    }
    C.lw0 = lw0;
    C.mu0 = mu0;
    for (int i = 0; i < EMIZ_KMAX * 8; i++) tot.R[i] = tot.X[i] = 0.0;
    for (int l = 0; l < 8; l++) tot.L[l] = tot.W[l] = 0.0;
    const emiz_body_fn uf = ufn[K], gf = gfn[K];
    const __m512d vtolr = _mm512_set1_pd(EMI_UNIFORM_TOL);

    /* constants of the reference width (cached across tiles) */
    double dref = -1.0;
    int ok = 0;
    for (i0 = 0; i0 + 64 <= n; i0 += 64) {
        const double *restrict at = lo + i0, *restrict ht = hi + i0;
        const double *restrict vt = wt ? wt + i0 : NULL;
        __mmask8 big = 1;
        for (int attempt = 0; attempt < 2 && big; attempt++) {
            if (attempt == 1 || dref < 0.0) {
                double f0[EMIZ_KMAX], f1[EMIZ_KMAX];
                if (attempt == 0) attempt = 1;
                dref = ht[0] - at[0];
                ok = 1;
                for (int k = 0; k < K; k++)
                    em_k_bin_consts_avx512c(C.mus[k], dref, &f0[k], &f1[k], &C.h0[k], &C.h1[k]);
                for (int k = 0; k < K; k++) {
                    double cd = (p->logw[perm[k]] + f0[k]) - (lw0 + f0[0]);
                    double fd = f1[k] - f1[0];
                    C.cd8[k] = cd * EMZ_L2E8;
                    C.fd8[k] = fd * EMZ_L2E8;
                    /* as in em_kernel_interval.h: finite and in range */
                    ok &= (cd <= EMI_DMAX) & (fabs(cd) < INFINITY) & (fabs(fd) < INFINITY)
                          & (fabs(f0[k]) < INFINITY) & (fabs(f1[k]) < INFINITY)
                          & (fabs(C.h0[k]) < INFINITY) & (fabs(C.h1[k]) < INFINITY);
                }
                C.c0 = lw0 + f0[0];
                C.f10 = f1[0];
                C.dref = dref;
            }
            /* every width within 2^-32 relative of dref? */
            const __m512d vd = _mm512_set1_pd(dref), vtol = _mm512_mul_pd(vtolr, vd);
            big = 0;
            for (int j = 0; j < 8; j++) {
                __m512d del = _mm512_sub_pd(
                    _mm512_sub_pd(_mm512_loadu_pd(ht + 8 * j), _mm512_loadu_pd(at + 8 * j)), vd);
                big |= _mm512_cmp_pd_mask(_mm512_abs_pd(del), vtol, _CMP_NLE_UQ);
            }
        }
        if (!big) {
            if (!ok) break;     /* out of range: this tile to the general kernel */
            uf(&C, at, ht, vt, &tot);
        } else {
            /* 1/S and the bin terms need p_0' far from underflow and v / S
             * far from overflow (as in em_kernel_interval.h) */
            __m512d dmin = _mm512_set1_pd(INFINITY), vmax = _mm512_setzero_pd();
            for (int j = 0; j < 8; j++) {
                dmin = _mm512_min_pd(dmin, _mm512_sub_pd(_mm512_loadu_pd(ht + 8 * j),
                                                         _mm512_loadu_pd(at + 8 * j)));
                if (vt) vmax = _mm512_max_pd(vmax, _mm512_loadu_pd(vt + 8 * j));
            }
            double dm = _mm512_reduce_min_pd(dmin), vm = _mm512_reduce_max_pd(vmax);
            if (!(mu0 * dm >= 1e-200) || !(vm <= 1e100)) break;
            gf(&C, at, ht, vt, &tot);
        }
    }
    for (int k = 0; k < K; k++)
        for (int l = 0; l < 8; l++) {
            acc[EM_ACC_R(perm[k]) + l] += tot.R[8 * k + l];
            acc[EM_ACC_X(perm[k], K) + l] += tot.X[8 * k + l];
        }
    for (int l = 0; l < 8; l++) {
        acc[EM_ACC_L + l] += tot.L[l];
        acc[EM_ACC_W + l] += tot.W[l];
    }
    return i0;
}
