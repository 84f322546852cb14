/* em_kernel_interval_avx2.h -- interval-censored observations with AVX2 +
 * FMA intrinsics: 2 <= K <= EMIY_KMAX components, unit or per-point weights.
 *
 * Included only by em_dispatch_avx2.c, after its target pragma and after
 * the C template em_kernel_interval.h (instantiated there as
 * em_interval_fast_avx2c: this file falls back to it for K = 1 and uses its
 * scalar per-width constants em_k_bin_consts_avx2c).  It defines
 *   int64_t em_interval_fast_avx2(const em_par *p, const double *lo,
 *                                 const double *hi, const double *wt,
 *                                 int64_t n, double *acc);
 * with the contract and the algebra of em_kernel_interval.h and the
 * structure of em_kernel_interval_avx512.h (see there: equal-width tiles as
 * exact data with per-tile constants, differing widths with K bin
 * probabilities and K - 1 location factors, 1/S from the prefix/suffix
 * products of the mantissas of S, left-censored vectors reusing the
 * location factors at a = 0), with 4-wide vectors: each tile is run as two
 * halves (lanes 0-3, then 4-7 of the 8 lane accumulators), exponentials by
 * emy_exp2 / emy_exp_expm1 (em_vmath_avx2.h), and the AVX-512 instructions
 * without an AVX2 counterpart done by bit operations: the split S = 2^e m
 * (S is positive and normal here), 2^-e, masks as blends / ands.
 */
#include "em_vmath_avx2.h"

#define EMIY_KMAX 8
#include <stdint.h>

/* software prefetch 8 KiB ahead of lower, upper (and weights), one line per
 * chunk of 8 points (as in the exact kernels: the hardware prefetcher does
 * not keep up) */
static inline __attribute__((always_inline)) void emiy_prefetch(const double *p)
{
    _mm_prefetch((const char *)((uintptr_t)p + 8192), _MM_HINT_T0);
}

typedef struct emiy_const {
    /* per call, components in the order of perm (0' first); "2": exponent
     * arguments in units of ln2 (times log2 e) */
    double lwd2[EMIY_KMAX], md2[EMIY_KMAX], mus2[EMIY_KMAX], imu[EMIY_KMAX], mus[EMIY_KMAX];
    double lw0, mu0;
    /* per reference width */
    double cd2[EMIY_KMAX], fd2[EMIY_KMAX], h0[EMIY_KMAX], h1[EMIY_KMAX], c0, f10, dref;
} emiy_const;

/* Lane sums of one call, components in the order of perm:
 * R[8k + l], X[8k + l], L[l], W[l]. */
typedef struct emiy_tot {
    double R[EMIY_KMAX * 8], X[EMIY_KMAX * 8], L[8], W[8];
} emiy_tot;

/* s = 2^e m for positive normal s: e as a double, m in [1, 2) */
static inline __attribute__((always_inline)) __m256d emiy_split(__m256d s, __m256d *m,
                                                               __m256i *eb)
{
    const __m256i mexp = _mm256_set1_epi64x(0x7ff0000000000000LL);
    const __m256i magic = _mm256_set1_epi64x(0x4330000000000000LL);   /* 2^52 */
    __m256i b = _mm256_castpd_si256(s);
    *eb = _mm256_srli_epi64(b, 52);                     /* biased exponent */
    *m = _mm256_castsi256_pd(
        _mm256_or_si256(_mm256_andnot_si256(mexp, b), _mm256_castpd_si256(_mm256_set1_pd(1.0))));
    return _mm256_sub_pd(_mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(*eb, magic)),
                                       _mm256_castsi256_pd(magic)),
                         _mm256_set1_pd(1023.0));
}

/* One half h of a tile of (nearly) equal widths d = dref + del. */
static inline __attribute__((always_inline)) void
emiy_uniform(const int KK, const int WEIGHTED, const int h, const emiy_const *restrict C,
             const double *restrict at, const double *restrict ht, const double *restrict vt,
             emiy_tot *restrict tot)
{
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d lo = _mm256_set1_pd(EM_FAST_DMIN * EMY_LOG2E);
    const __m256d vmu0 = _mm256_set1_pd(C->mu0), vc0 = _mm256_set1_pd(C->c0);
    const __m256d vf10 = _mm256_set1_pd(C->f10), vdref = _mm256_set1_pd(C->dref);
    __m256d vcd[EMIY_KMAX], vfd[EMIY_KMAX], vmd[EMIY_KMAX];
    __m256d aR[EMIY_KMAX], aX[EMIY_KMAX], aD[EMIY_KMAX];
    __m256d aL = _mm256_setzero_pd(), aW = _mm256_setzero_pd();
    __m256d E[EMIY_KMAX][8], S[8], PRE[8], DEL[8];
    double pbuf[4], lbuf[32], sbuf[32];
    at += 4 * h;
    ht += 4 * h;
    if (WEIGHTED) vt += 4 * h;
    for (int k = 0; k < KK; k++) {
        vcd[k] = _mm256_set1_pd(C->cd2[k]);
        vfd[k] = _mm256_set1_pd(C->fd2[k]);
        vmd[k] = _mm256_set1_pd(C->md2[k]);
        aR[k] = aX[k] = aD[k] = _mm256_setzero_pd();
    }
    __m256d prod = one;
    for (int j = 0; j < 8; j++) {
        __m256d ai = _mm256_loadu_pd(at + 8 * j);
        __m256d del = _mm256_sub_pd(_mm256_sub_pd(_mm256_loadu_pd(ht + 8 * j), ai), vdref);
        if (h == 0) {   /* at, ht: this half's start; the line holds both halves */
            emiy_prefetch(at + 8 * j);
            emiy_prefetch(ht + 8 * j);
            if (WEIGHTED) emiy_prefetch(vt + 8 * j);
        }
        __m256d s = one;
        DEL[j] = del;
        for (int k = 1; k < KK; k++) {
            __m256d u = _mm256_fmadd_pd(del, vfd[k], _mm256_fnmadd_pd(vmd[k], ai, vcd[k]));
            /* below e^-600 dropped: exactly 0 (no clamp needed, see
             * em_kernel_exact_avx2.h) */
            __m256d keep = _mm256_cmp_pd(u, lo, _CMP_GE_OQ);
            __m256d e = _mm256_and_pd(keep, emy_exp2(u));
            E[k][j] = e;
            s = _mm256_add_pd(s, e);
        }
        S[j] = s;
        PRE[j] = prod;
        prod = _mm256_mul_pd(prod, s);
        if (WEIGHTED) _mm256_storeu_pd(sbuf + 4 * j, s);
        else aL = _mm256_add_pd(aL, _mm256_fmadd_pd(del, vf10, _mm256_fnmadd_pd(vmu0, ai, vc0)));
    }
    __m256d suf = _mm256_div_pd(one, prod);
    if (WEIGHTED) {
        for (int i = 0; i < 32; i++) lbuf[i] = em_log(sbuf[i]);
    } else {
        _mm256_storeu_pd(pbuf, prod);
        for (int l = 0; l < 4; l++) lbuf[l] = em_log(pbuf[l]);
        aL = _mm256_add_pd(aL, _mm256_loadu_pd(lbuf));
    }
    for (int j = 7; j >= 0; j--) {
        __m256d ai = _mm256_loadu_pd(at + 8 * j), del = DEL[j];
        __m256d q = _mm256_mul_pd(suf, PRE[j]);
        suf = _mm256_mul_pd(suf, S[j]);
        if (WEIGHTED) {
            __m256d vi = _mm256_loadu_pd(vt + 8 * j);
            q = _mm256_mul_pd(q, vi);
            __m256d a0 = _mm256_fmadd_pd(del, vf10, _mm256_fnmadd_pd(vmu0, ai, vc0));
            aL = _mm256_fmadd_pd(vi, _mm256_add_pd(a0, _mm256_loadu_pd(lbuf + 4 * j)), aL);
            aW = _mm256_add_pd(aW, vi);
        }
        aR[0] = _mm256_add_pd(aR[0], q);
        aX[0] = _mm256_fmadd_pd(q, ai, aX[0]);
        aD[0] = _mm256_fmadd_pd(q, del, aD[0]);
        for (int k = 1; k < KK; k++) {
            __m256d r = _mm256_mul_pd(E[k][j], q);
            aR[k] = _mm256_add_pd(aR[k], r);
            aX[k] = _mm256_fmadd_pd(r, ai, aX[k]);
            aD[k] = _mm256_fmadd_pd(r, del, aD[k]);
        }
    }
    for (int k = 0; k < KK; k++) {
        /* X_k = sum r a + h0_k sum r + h1_k sum r del */
        __m256d x = _mm256_fmadd_pd(_mm256_set1_pd(C->h1[k]), aD[k], aX[k]);
        x = _mm256_fmadd_pd(_mm256_set1_pd(C->h0[k]), aR[k], x);
        double *R = tot->R + 8 * k + 4 * h, *X = tot->X + 8 * k + 4 * h;
        _mm256_storeu_pd(R, _mm256_add_pd(_mm256_loadu_pd(R), aR[k]));
        _mm256_storeu_pd(X, _mm256_add_pd(_mm256_loadu_pd(X), x));
    }
    _mm256_storeu_pd(tot->L + 4 * h, _mm256_add_pd(_mm256_loadu_pd(tot->L + 4 * h), aL));
    if (WEIGHTED)
        _mm256_storeu_pd(tot->W + 4 * h, _mm256_add_pd(_mm256_loadu_pd(tot->W + 4 * h), aW));
    else if (h == 0)
        tot->W[0] += 64.0;
}

/* One half h of a tile of differing widths. */
static inline __attribute__((always_inline)) void
emiy_general(const int KK, const int WEIGHTED, const int h, const emiy_const *restrict C,
             const double *restrict at, const double *restrict ht, const double *restrict vt,
             emiy_tot *restrict tot)
{
    const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
    const __m256d lo = _mm256_set1_pd(-708.0 * EMY_LOG2E);
    const __m256d vmu0 = _mm256_set1_pd(C->mu0), vlw0 = _mm256_set1_pd(C->lw0);
    const __m256d vser = _mm256_set1_pd(0.1);
    __m256d vlwd[EMIY_KMAX], vmd[EMIY_KMAX], vmus2[EMIY_KMAX], vmus[EMIY_KMAX], vimu[EMIY_KMAX];
    __m256d aR[EMIY_KMAX], aX[EMIY_KMAX];
    __m256d aL = _mm256_setzero_pd(), aW = _mm256_setzero_pd(), aE = _mm256_setzero_pd();
    __m256d T[EMIY_KMAX][8], TG[EMIY_KMAX][8], MS[8], ES[8], PRE[8];
    __m256i EB[8];
    double pbuf[4], lbuf[32], sbuf[32];
    __m256d vt0[EMIY_KMAX];    /* location factors at a = 0 (left-censored) */
    at += 4 * h;
    ht += 4 * h;
    if (WEIGHTED) vt += 4 * h;
    for (int k = 0; k < KK; k++) {
        vlwd[k] = _mm256_set1_pd(C->lwd2[k]);
        vt0[k] = _mm256_and_pd(_mm256_cmp_pd(vlwd[k], lo, _CMP_GE_OQ),
                               emy_exp2(_mm256_max_pd(vlwd[k], lo)));
        vmd[k] = _mm256_set1_pd(C->md2[k]);
        vmus2[k] = _mm256_set1_pd(-C->mus2[k]);
        vmus[k] = _mm256_set1_pd(C->mus[k]);
        vimu[k] = _mm256_set1_pd(C->imu[k]);
        aR[k] = aX[k] = _mm256_setzero_pd();
    }
    __m256d prod = one;
    for (int j = 0; j < 8; j++) {
        __m256d ai = _mm256_loadu_pd(at + 8 * j);
        __m256d di = _mm256_sub_pd(_mm256_loadu_pd(ht + 8 * j), ai);
        if (h == 0) {   /* at, ht: this half's start; the line holds both halves */
            emiy_prefetch(at + 8 * j);
            emiy_prefetch(ht + 8 * j);
            if (WEIGHTED) emiy_prefetch(vt + 8 * j);
        }
        __m256d s = zero;
        const int azero = _mm256_movemask_pd(_mm256_cmp_pd(ai, zero, _CMP_EQ_OQ));
        for (int k = 0; k < KK; k++) {
            /* bin probability p_k = -expm1(-mu_k d), e^{-mu_k d} */
            __m256d x = _mm256_mul_pd(vmus2[k], di);
            __m256d inb = _mm256_cmp_pd(x, lo, _CMP_GE_OQ);
            __m256d m1, ex = emy_exp_expm1(_mm256_max_pd(x, lo), &m1);
            __m256d pk = _mm256_blendv_pd(one, _mm256_sub_pd(zero, m1), inb);
            ex = _mm256_and_pd(inb, ex);
            /* G = p_k d g(u) (u < 0.1) or p_k / mu_k - d e^{-u} */
            __m256d u = _mm256_mul_pd(vmus[k], di);
            __m256d small = _mm256_cmp_pd(u, vser, _CMP_LT_OQ);
            int sm = _mm256_movemask_pd(small);
            __m256d G;
            if (sm == 0xf) {
                G = _mm256_mul_pd(_mm256_mul_pd(pk, di), emy_gser(u));
            } else {
                G = _mm256_fmsub_pd(pk, vimu[k], _mm256_mul_pd(di, ex));
                if (sm)
                    G = _mm256_blendv_pd(G, _mm256_mul_pd(_mm256_mul_pd(pk, di), emy_gser(u)),
                                         small);
            }
            __m256d tg = _mm256_fmadd_pd(pk, ai, G);
            if (k == 0) {
                T[0][j] = pk;
                TG[0][j] = tg;
                s = pk;
            } else {
                /* location factor e^{log(w_k/w_0') - Dmu_k a}, dropped below e^-708 */
                __m256d tk;
                if (azero == 0xf) {
                    tk = vt0[k];    /* [0, u): the same factor for every point */
                } else {
                    __m256d v = _mm256_fnmadd_pd(vmd[k], ai, vlwd[k]);
                    __m256d keep = _mm256_cmp_pd(v, lo, _CMP_GE_OQ);
                    tk = _mm256_and_pd(keep, emy_exp2(_mm256_max_pd(v, lo)));
                }
                __m256d tp = _mm256_mul_pd(tk, pk);
                T[k][j] = tp;
                TG[k][j] = _mm256_mul_pd(tk, tg);
                s = _mm256_add_pd(s, tp);
            }
        }
        /* s = 2^e m, m in [1, 2) (s >= p_0' >= ~1e-200: positive, normal) */
        __m256d m;
        __m256d e = emiy_split(s, &m, &EB[j]);
        ES[j] = e;
        MS[j] = m;
        PRE[j] = prod;
        prod = _mm256_mul_pd(prod, m);
        if (WEIGHTED) {
            _mm256_storeu_pd(sbuf + 4 * j, m);
        } else {
            aL = _mm256_add_pd(aL, _mm256_fnmadd_pd(vmu0, ai, vlw0));
            aE = _mm256_add_pd(aE, e);
        }
    }
    __m256d suf = _mm256_div_pd(one, prod);
    const __m256d ln2 = _mm256_set1_pd(0.69314718055994531);
    if (WEIGHTED) {
        for (int i = 0; i < 32; i++) lbuf[i] = em_log(sbuf[i]);
    } else {
        _mm256_storeu_pd(pbuf, prod);
        for (int l = 0; l < 4; l++) lbuf[l] = em_log(pbuf[l]);
        aL = _mm256_add_pd(aL, _mm256_fmadd_pd(aE, ln2, _mm256_loadu_pd(lbuf)));
    }
    const __m256i b2046 = _mm256_set1_epi64x(2046);
    for (int j = 7; j >= 0; j--) {
        __m256d q = _mm256_mul_pd(suf, PRE[j]);         /* 1 / m */
        suf = _mm256_mul_pd(suf, MS[j]);
        /* 1 / s = 2^-e / m: the bits of 2^-e are (2046 - biased e) << 52 */
        q = _mm256_mul_pd(q, _mm256_castsi256_pd(
                                 _mm256_slli_epi64(_mm256_sub_epi64(b2046, EB[j]), 52)));
        if (WEIGHTED) {
            __m256d ai = _mm256_loadu_pd(at + 8 * j);
            __m256d vi = _mm256_loadu_pd(vt + 8 * j);
            q = _mm256_mul_pd(q, vi);
            __m256d ls = _mm256_fmadd_pd(ES[j], ln2, _mm256_loadu_pd(lbuf + 4 * j));
            aL = _mm256_fmadd_pd(vi, _mm256_add_pd(_mm256_fnmadd_pd(vmu0, ai, vlw0), ls), aL);
            aW = _mm256_add_pd(aW, vi);
        }
        for (int k = 0; k < KK; k++) {
            aR[k] = _mm256_fmadd_pd(q, T[k][j], aR[k]);
            aX[k] = _mm256_fmadd_pd(q, TG[k][j], aX[k]);
        }
    }
    for (int k = 0; k < KK; k++) {
        double *R = tot->R + 8 * k + 4 * h, *X = tot->X + 8 * k + 4 * h;
        _mm256_storeu_pd(R, _mm256_add_pd(_mm256_loadu_pd(R), aR[k]));
        _mm256_storeu_pd(X, _mm256_add_pd(_mm256_loadu_pd(X), aX[k]));
    }
    _mm256_storeu_pd(tot->L + 4 * h, _mm256_add_pd(_mm256_loadu_pd(tot->L + 4 * h), aL));
    if (WEIGHTED)
        _mm256_storeu_pd(tot->W + 4 * h, _mm256_add_pd(_mm256_loadu_pd(tot->W + 4 * h), aW));
    else if (h == 0)
        tot->W[0] += 64.0;
}

/* the bodies as separate functions (one per KK, both halves of a tile) */
#define EMIY_DEF(KK)                                                                         \
    static __attribute__((noinline)) void emiy_uniform_##KK(                                 \
        const emiy_const *C, const double *at, const double *ht, const double *vt,           \
        emiy_tot *tot)                                                                       \
    {                                                                                        \
        for (int h = 0; h < 2; h++) {                                                        \
            if (vt) emiy_uniform(KK, 1, h, C, at, ht, vt, tot);                              \
            else emiy_uniform(KK, 0, h, C, at, ht, NULL, tot);                               \
        }                                                                                    \
    }                                                                                        \
    static __attribute__((noinline)) void emiy_general_##KK(                                 \
        const emiy_const *C, const double *at, const double *ht, const double *vt,           \
        emiy_tot *tot)                                                                       \
    {                                                                                        \
        for (int h = 0; h < 2; h++) {                                                        \
            if (vt) emiy_general(KK, 1, h, C, at, ht, vt, tot);                              \
            else emiy_general(KK, 0, h, C, at, ht, NULL, tot);                               \
        }                                                                                    \
    }
#if !EMY_KINDS_LEAN
EMIY_DEF(2)
EMIY_DEF(3)
EMIY_DEF(4)
EMIY_DEF(5)
EMIY_DEF(6)
EMIY_DEF(7)
#else
#define emiy_uniform_2 emiy_uniform_8
#define emiy_uniform_3 emiy_uniform_8
#define emiy_uniform_4 emiy_uniform_8
#define emiy_uniform_5 emiy_uniform_8
#define emiy_uniform_6 emiy_uniform_8
#define emiy_uniform_7 emiy_uniform_8
#define emiy_general_2 emiy_general_8
#define emiy_general_3 emiy_general_8
#define emiy_general_4 emiy_general_8
#define emiy_general_5 emiy_general_8
#define emiy_general_6 emiy_general_8
#define emiy_general_7 emiy_general_8
#endif
EMIY_DEF(8)
#undef EMIY_DEF

typedef void (*emiy_body_fn)(const emiy_const *, const double *, const double *,
                             const double *, emiy_tot *);

int64_t em_interval_fast_avx2(const em_par *p, const double *restrict lo,
                              const double *restrict hi, const double *restrict wt,
                              int64_t n, double *restrict acc)
{
    static const emiy_body_fn ufn[EMIY_KMAX + 1] = {
        0, 0, emiy_uniform_2, emiy_uniform_3, emiy_uniform_4, emiy_uniform_5,
        emiy_uniform_6, emiy_uniform_7, emiy_uniform_8};
    static const emiy_body_fn gfn[EMIY_KMAX + 1] = {
        0, 0, emiy_general_2, emiy_general_3, emiy_general_4, emiy_general_5,
        emiy_general_6, emiy_general_7, emiy_general_8};
    const int K = p->K;
    const double *mu = p->mu;
    int perm[EMIY_KMAX];
    double D = 0.0;
    emiy_const C;
    emiy_tot tot;
    int64_t i0;
    if (K < 2 || K > EMIY_KMAX) return em_interval_fast_avx2c(p, lo, hi, wt, n, acc);
    if (!em_fast_reference(mu, p->logw_mu, K, EMI_DMAX, perm, &D)) return -1;
    const double lw0 = p->logw[perm[0]], mu0 = mu[perm[0]];
    for (int k = 0; k < EMIY_KMAX; k++) {
        /* k >= K: phantom components (location factor e^-inf = 0: exactly
         * zero terms; used by the K = 8 body for every K in lean builds) */
        int pk = perm[k < K ? k : 0];
        C.lwd2[k] = k < K ? (p->logw[pk] - lw0) * EMY_LOG2E : -INFINITY;
        C.md2[k] = k < K ? (mu[pk] - mu0) * EMY_LOG2E : 0.0;
        C.mus2[k] = mu[pk] * EMY_LOG2E;
        C.mus[k] = mu[pk];
        C.imu[k] = p->inv_mu[pk];
        C.cd2[k] = -INFINITY;
        C.fd2[k] = C.h0[k] = C.h1[k] = 0.0;
    }
    C.lw0 = lw0;
    C.mu0 = mu0;
    for (int i = 0; i < EMIY_KMAX * 8; i++) tot.R[i] = tot.X[i] = 0.0;
    for (int l = 0; l < 8; l++) tot.L[l] = tot.W[l] = 0.0;
    const emiy_body_fn uf = ufn[K], gf = gfn[K];
    const __m256d vtolr = _mm256_set1_pd(EMI_UNIFORM_TOL);
    const __m256d absm = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));

    /* constants of the reference width (cached across tiles) */
    double dref = -1.0;
    int ok = 0;
    for (i0 = 0; i0 + 64 <= n; i0 += 64) {
        const double *restrict at = lo + i0, *restrict ht = hi + i0;
        const double *restrict vt = wt ? wt + i0 : NULL;
        int big = 1;
        for (int attempt = 0; attempt < 2 && big; attempt++) {
            if (attempt == 1 || dref < 0.0) {
                double f0[EMIY_KMAX], f1[EMIY_KMAX];
                if (attempt == 0) attempt = 1;
                dref = ht[0] - at[0];
                ok = 1;
                for (int k = 0; k < K; k++)
                    em_k_bin_consts_avx2c(C.mus[k], dref, &f0[k], &f1[k], &C.h0[k], &C.h1[k]);
                for (int k = 0; k < K; k++) {
                    double cd = (p->logw[perm[k]] + f0[k]) - (lw0 + f0[0]);
                    double fd = f1[k] - f1[0];
                    C.cd2[k] = cd * EMY_LOG2E;
                    C.fd2[k] = fd * EMY_LOG2E;
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
            const __m256d vd = _mm256_set1_pd(dref), vtol = _mm256_mul_pd(vtolr, vd);
            __m256d bigv = _mm256_setzero_pd();
            for (int j = 0; j < 16; j++) {
                __m256d del = _mm256_sub_pd(
                    _mm256_sub_pd(_mm256_loadu_pd(ht + 4 * j), _mm256_loadu_pd(at + 4 * j)), vd);
                bigv = _mm256_or_pd(bigv, _mm256_cmp_pd(_mm256_and_pd(del, absm), vtol,
                                                        _CMP_NLE_UQ));
            }
            big = _mm256_movemask_pd(bigv);
        }
        if (!big) {
            if (!ok) break;     /* out of range: this tile to the general kernel */
            uf(&C, at, ht, vt, &tot);
        } else {
            /* 1/S and the bin terms need p_0' far from underflow and v / S
             * far from overflow (as in em_kernel_interval.h) */
            __m256d dmin = _mm256_set1_pd(INFINITY), vmax = _mm256_setzero_pd();
            for (int j = 0; j < 16; j++) {
                dmin = _mm256_min_pd(dmin, _mm256_sub_pd(_mm256_loadu_pd(ht + 4 * j),
                                                         _mm256_loadu_pd(at + 4 * j)));
                if (vt) vmax = _mm256_max_pd(vmax, _mm256_loadu_pd(vt + 4 * j));
            }
            double db[4], vb[4];
            _mm256_storeu_pd(db, dmin);
            _mm256_storeu_pd(vb, vmax);
            double dm = db[0], vm = vb[0];
            for (int l = 1; l < 4; l++) {
                dm = db[l] < dm ? db[l] : dm;
                vm = vb[l] > vm ? vb[l] : vm;
            }
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
