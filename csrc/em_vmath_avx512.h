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

#endif /* EM_VMATH_AVX512_H */
