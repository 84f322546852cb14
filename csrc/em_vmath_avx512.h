/* em_vmath_avx512.h -- vector elementary functions written with AVX-512
 * intrinsics for the AVX-512 kernels (internal).
 *
 * Include only where AVX-512 F/DQ code may be compiled: after a target
 * pragma (em_dispatch_avx512.c) or in a build with -mavx512f -mavx512dq.
 * gcc/clang only (the x86 dispatch, EM_X86_DISPATCH, is off on MSVC).
 */
#ifndef EM_VMATH_AVX512_H
#define EM_VMATH_AVX512_H

#include <immintrin.h>

/* For the interval and truncation kernels: sanitizer builds (ASan: -O1, every body instrumented, minutes of compile
 * time) run every K through the K = 8 body with phantom components, whose
 * terms are exactly zero; other builds have one body per K. */
#ifndef EMZ_KINDS_LEAN
#if defined(__SANITIZE_ADDRESS__)
#define EMZ_KINDS_LEAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMZ_KINDS_LEAN 1
#endif
#endif
#endif
#ifndef EMZ_KINDS_LEAN
#define EMZ_KINDS_LEAN 0
#endif

#define EMZ_L2E8 11.541560327111707          /* 8 log2(e) */
/* q(r) ~ (e^(r ln2/8) - 1) / r on [-1/2, 1/2]: Chebyshev fit of degree 6
 * (mpmath.chebyfit, 40 digits), relative truncation error of 1 + r q(r)
 * 5.0e-18 (0.045 ulp); the Taylor series needs degree 7 for the same. */
#define EMZ_C1 0.086643397569993163677
#define EMZ_C2 0.0037535391712360832526
#define EMZ_C3 0.00010840646223598094435
#define EMZ_C4 2.3481760473592042926e-06
#define EMZ_C5 4.0690790200313890848e-08
#define EMZ_C6 5.8763251569166493719e-10
#define EMZ_C7 7.2734020168766543264e-12

/* 2^(j/8), j = 0..7, correctly rounded. */
static const double emz_tab8[8] = {
    1.0, 1.0905077326652577, 1.1892071150027210, 1.2968395546510096,
    1.4142135623730951, 1.5422108254079407, 1.6817928305074290, 1.8340080864093424};

/* e^d from u = 8 d log2(e) (the caller folds the factor into its
 * coefficients), for u in [-8176, 8184] (d in [-708.4, 709.1]: results
 * normal).  With
 * m = round(u), j = m mod 8 and r = u - m (exact, |r| <= 1/2):
 * e^d = 2^floor(m/8) * 2^(j/8) * e^(r ln2/8).  e^z for z = r ln2/8,
 * |z| <= 0.0434, is 1 + r q(r), q of degree 6 by Horner (a near-minimax
 * Chebyshev fit, truncation 5e-18 relative; was the Taylor series of
 * degree 7, one FMA more).  The 8-entry table 2^(j/8) lives in one
 * register (vpermpd, no gather) and multiplies in one FMA: T + (T r) q;
 * vscalefpd applies 2^floor(m/8).  The rounding of u itself (relative
 * 2^-53, as for d) is the argument's conditioning, the same for any exp.
 * Accuracy against e^(u ln2/8) computed in long double: measured by
 * csrc/tests/test_vmath.c (AVX-512 section, >= 10^7 arguments over the
 * domain, reference 2^(u/8) in long double): max 1.005 ulp [asserted 1.5]. */
static inline __m512d emz_exp8(__m512d u, __m512d tab)
{
    const __m512d shifter = _mm512_set1_pd(6755399441055744.0);   /* 1.5 * 2^52 */
    __m512d t = _mm512_add_pd(u, shifter);
    __m512d m = _mm512_sub_pd(t, shifter);
    __m512d r = _mm512_sub_pd(u, m);                               /* exact */
    /* low 3 bits of bits(t) are m mod 8 (the shifter's are zero) */
    __m512d T = _mm512_permutexvar_pd(_mm512_castpd_si512(t), tab);
    /* q = sum_k c_k r^(k-1), k = 7 .. 1 */
    __m512d q = _mm512_set1_pd(EMZ_C7);
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_C6));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_C5));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_C4));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_C3));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_C2));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_C1));
    __m512d y = _mm512_fmadd_pd(_mm512_mul_pd(T, r), q, T);
    /* vscalefpd: y * 2^floor(m/8) */
    return _mm512_scalef_pd(y, _mm512_mul_pd(m, _mm512_set1_pd(0.125)));
}

/* ---- appended (kinds kernels): e^d and e^d - 1 from one reduction ---- */

/* (ln2/8)^k / k!, k = 1..8: the Taylor polynomial of emz_exp_expm1_8 (its
 * e^d - 1 needs q accurate relative to itself near r = 0, which the
 * Chebyshev fit of emz_exp8 does not promise). */
#define EMZ_T1 0.086643397569993161
#define EMZ_T2 0.0037535391712359488
#define EMZ_T3 0.00010840646223597965
#define EMZ_T4 2.3481760516671086e-06
#define EMZ_T5 4.0690790241786021e-08
#define EMZ_T6 5.8759805272604404e-10
#define EMZ_T7 7.273070241956635e-12
#define EMZ_T8 7.8770439566041884e-14

/* 2^(j/8) - emz_tab8[j] (the low parts: emz_tab8[j] + emz_tab8l[j] is
 * 2^(j/8) to ~2^-106 relative). */
static const double emz_tab8l[8] = {
    0.0, -3.046782079812471e-17, 3.982015231465646e-17, 2.5382502794888315e-17,
    -9.667293313452913e-17, 7.949834809697621e-17, 8.199010020581497e-17,
    3.283107224245627e-17};

/* e^d (returned) and e^d - 1 (*em1) from u = 8 d log2(e), for u in
 * [-8176, 8184] (d in [-708.4, 709.1]), both from the reduction of
 * emz_exp8: m = round(u), j = m mod 8, r = u - m, s = floor(m/8),
 * p = e^(r ln2/8) - 1 = r q(r) (q: Taylor through r^8/8!, EMZ_T*), and the table
 * value 2^(j/8) = Th + Tl in two parts.  With A = 2^s Th (exact) and
 * c = Th p + Tl:
 *   e^d     = 2^s (Th + c),
 *   e^d - 1 = (A - 1) + 2^s c,
 * where A - 1 is exact whenever A is in [1/2, 2] (Sterbenz): the
 * cancellation near d = 0 happens in an exact subtraction, so e^d - 1 keeps
 * full relative precision for tiny |d| (m = 0: A - 1 = 0, result 2^0 p).
 * Accuracy against expl/expm1l in long double, measured by
 * csrc/tests/test_vmath.c (appended section, >= 4 10^6 arguments: uniform
 * and log-uniform sweeps of both signs, range ends): e^d max 0.61 ulp
 * [asserted 1.0], e^d - 1 max 1.76 ulp [asserted 2.0] (the rounding of c,
 * of the final sum and of p = r q each reach ~1/2 ulp of the result where
 * A - 1 and 2^s c nearly cancel, |d| ~ ln2/16). */
static inline __m512d emz_exp_expm1_8(__m512d u, __m512d tab, __m512d tabl, __m512d *em1)
{
    const __m512d shifter = _mm512_set1_pd(6755399441055744.0);   /* 1.5 * 2^52 */
    __m512d t = _mm512_add_pd(u, shifter);
    __m512d m = _mm512_sub_pd(t, shifter);
    __m512d r = _mm512_sub_pd(u, m);                               /* exact */
    __m512i idx = _mm512_castpd_si512(t);
    __m512d Th = _mm512_permutexvar_pd(idx, tab);
    __m512d Tl = _mm512_permutexvar_pd(idx, tabl);
    __m512d q = _mm512_set1_pd(EMZ_T8);
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_T7));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_T6));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_T5));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_T4));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_T3));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_T2));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(EMZ_T1));
    __m512d p = _mm512_mul_pd(r, q);
    __m512d c = _mm512_fmadd_pd(Th, p, Tl);
    __m512d s = _mm512_mul_pd(m, _mm512_set1_pd(0.125));
    __m512d A = _mm512_scalef_pd(Th, s);
    *em1 = _mm512_add_pd(_mm512_sub_pd(A, _mm512_set1_pd(1.0)), _mm512_scalef_pd(c, s));
    return _mm512_scalef_pd(_mm512_add_pd(Th, c), s);
}

/* e^x - 1 for |x| <= 1/16 (natural units) by its Taylor series through
 * x^9/9!: x + x (x P(x)), P(x) = sum_{n=0..7} x^n/(n+2)!, truncation below
 * (1/16)^9/10! = 4e-18 relative; no range reduction (the truncation kernel
 * takes it for vectors whose arguments are all that small: 9 operations
 * against ~20 for emz_exp_expm1_8).  Accuracy against expm1l, measured by
 * csrc/tests/test_vmath.c (4 10^6 arguments, grid and log-uniform sweeps of
 * both signs): max 0.56 ulp [asserted 1.0]. */
static inline __attribute__((always_inline)) __m512d emz_expm1_small(__m512d x)
{
    __m512d p = _mm512_set1_pd(1.0 / 362880.0);
    p = _mm512_fmadd_pd(p, x, _mm512_set1_pd(1.0 / 40320.0));
    p = _mm512_fmadd_pd(p, x, _mm512_set1_pd(1.0 / 5040.0));
    p = _mm512_fmadd_pd(p, x, _mm512_set1_pd(1.0 / 720.0));
    p = _mm512_fmadd_pd(p, x, _mm512_set1_pd(1.0 / 120.0));
    p = _mm512_fmadd_pd(p, x, _mm512_set1_pd(1.0 / 24.0));
    p = _mm512_fmadd_pd(p, x, _mm512_set1_pd(1.0 / 6.0));
    p = _mm512_fmadd_pd(p, x, _mm512_set1_pd(0.5));
    return _mm512_fmadd_pd(_mm512_mul_pd(p, x), x, x);
}

/* g(u) = 1/u - 1/(e^u - 1), the mean of a unit-width truncated exponential,
 * by its series 1/2 - u/12 + u^3/720 - u^5/30240 + u^7/1209600 (for small u,
 * where the difference cancels; the interval and truncation kernels). */
static inline __attribute__((always_inline)) __m512d emz_gser(__m512d u)
{
    __m512d u2 = _mm512_mul_pd(u, u);
    __m512d g = _mm512_set1_pd(1.0 / 1209600.0);
    g = _mm512_fmadd_pd(g, u2, _mm512_set1_pd(-1.0 / 30240.0));
    g = _mm512_fmadd_pd(g, u2, _mm512_set1_pd(1.0 / 720.0));
    g = _mm512_fmadd_pd(g, u2, _mm512_set1_pd(-1.0 / 12.0));
    return _mm512_fmadd_pd(g, u, _mm512_set1_pd(0.5));
}

#endif /* EM_VMATH_AVX512_H */
