/* em_vmath_avx2.h -- vector exp written with AVX2 + FMA intrinsics for the
 * AVX2 exact-data kernel (internal).
 *
 * Include only where AVX2/FMA code may be compiled: after a target pragma
 * (em_dispatch_avx2.c) or in a build with -mavx2 -mfma.  gcc/clang only
 * (the x86 dispatch, EM_X86_DISPATCH, is off on MSVC).
 */
#ifndef EM_VMATH_AVX2_H
#define EM_VMATH_AVX2_H

#include <immintrin.h>

#define EMY_LOG2E 1.4426950408889634          /* log2(e) */
/* q(r) ~ (2^r - 1) / r on [-1/2, 1/2]: Chebyshev fit of degree 10
 * (mpmath.chebyfit, 40 digits), relative truncation error of 1 + r q(r)
 * 8.4e-18 (0.076 ulp); degree 9 would give 5 ulp. */
#define EMY_C1 0.693147180559945309417
#define EMY_C2 0.2402265069591009822
#define EMY_C3 0.0555041086648215943387
#define EMY_C4 0.00961812910760688852728
#define EMY_C5 0.00133335581464169353104
#define EMY_C6 0.000154035304417360501549
#define EMY_C7 0.0000152527338298361183944
#define EMY_C8 0.0000013215442587921689653
#define EMY_C9 1.01780624458457735207e-7
#define EMY_C10 7.07258594926922369986e-9
#define EMY_C11 4.45496059818651839378e-10

/* The reduction and polynomial shared by emy_exp2 and emy_exp_expm1:
 * *t = u + 1.5 2^52 (its low bits hold m = round(u)), *r = u - m (exact),
 * returns q(r), 2^r - 1 = r q(r). */
static inline __attribute__((always_inline)) __m256d emy_exp2_q(__m256d u, __m256d *tp,
                                                                 __m256d *rp)
{
    const __m256d shifter = _mm256_set1_pd(6755399441055744.0);   /* 1.5 * 2^52 */
    __m256d t = _mm256_add_pd(u, shifter);
    __m256d m = _mm256_sub_pd(t, shifter);
    __m256d r = _mm256_sub_pd(u, m);                               /* exact */
    __m256d q = _mm256_set1_pd(EMY_C11);
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C10));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C9));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C8));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C7));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C6));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C5));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C4));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C3));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C2));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(EMY_C1));
    *tp = t;
    *rp = r;
    return q;
}

/* e^d from u = d log2(e) (the caller folds the factor into its
 * coefficients), i.e. 2^u, for u in [-1021, 1023] (d in [-707.7, 709.1]:
 * results normal).  With m = round(u) and r = u - m (exact, |r| <= 1/2):
 * 2^u = 2^m (1 + r q(r)), q of degree 10 by Horner: 16 operations per 4
 * exps, no table (AVX2 has no 64-bit variable permute: a 2^(j/4) table read
 * with vpermd cost 4 index operations and gave 19 operations).  2^m is added
 * to the exponent field as the integer bits(t) << 52 (t = u + 1.5 2^52: the
 * low 12 bits of bits(t) hold m in two's complement; the shift keeps
 * exactly m << 52 modulo 2^64, a signed exponent add).
 * Accuracy against 2^u computed in long double: measured by
 * csrc/tests/test_vmath.c (AVX2 section, >= 10^7 arguments over the domain):
 * max 0.89 ulp [asserted 1.5]. */
static inline __m256d emy_exp2(__m256d u)
{
    __m256d t, r;
    __m256d q = emy_exp2_q(u, &t, &r);
    __m256d y = _mm256_fmadd_pd(r, q, _mm256_set1_pd(1.0));
    __m256i k = _mm256_slli_epi64(_mm256_castpd_si256(t), 52);
    return _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(y), k));
}

/* ---- appended (kinds kernels): e^d and e^d - 1 from one reduction ---- */

/* Sanitizer builds (ASan: -O1, every body instrumented, minutes of compile
 * time) run every K of the AVX2 interval and truncation kernels through the
 * K = 8 body with phantom components (exactly zero terms), as on AVX-512. */
#ifndef EMY_KINDS_LEAN
#if defined(__SANITIZE_ADDRESS__)
#define EMY_KINDS_LEAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMY_KINDS_LEAN 1
#endif
#endif
#endif
#ifndef EMY_KINDS_LEAN
#define EMY_KINDS_LEAN 0
#endif

/* e^d (returned) and e^d - 1 (*em1) from u = d log2(e), for u in
 * [-1021, 1023] (d in [-707.7, 709.1]), from the reduction of emy_exp2:
 * m = round(u), r = u - m (exact), 2^r - 1 = r q(r), A = 2^m (exact):
 *   e^d     = A + (A r) q,
 *   e^d - 1 = (A - 1) + (A r) q    (A r exact; one FMA each, one rounding),
 * where A - 1 is exact for |m| <= 53 (and m = 0 gives p itself), so the
 * cancellation near d = 0 costs nothing: e^d - 1 keeps full relative
 * precision for tiny |d|.  This needs q accurate relative to itself (not
 * only 1 + r q): the Chebyshev fit EMY_C* is, max relative error 2.04e-17
 * on [-1/2, 1/2] (mpmath, 40 digits, 4001 points).  Accuracy against
 * exp2l/expm1l in long double, measured by csrc/tests/test_vmath.c (AVX2
 * kinds section, >= 10^7 arguments: grid, uniform and log-uniform sweeps of
 * both signs, range ends): e^d max 0.88 ulp [asserted 1.5], e^d - 1 max
 * 2.02 ulp [asserted 2.5] (at m = 1, r ~ -1/2, where 2 * 2^r - 1 cancels
 * to ~0.43 and the rounding of q reaches ~1 ulp of the result). */
static inline __attribute__((always_inline)) __m256d emy_exp_expm1(__m256d u, __m256d *em1)
{
    const __m256d one = _mm256_set1_pd(1.0);
    __m256d t, r;
    __m256d q = emy_exp2_q(u, &t, &r);
    /* A = 2^m: m << 52 added to the bits of 1.0 (see emy_exp2); A r is exact */
    __m256i k = _mm256_slli_epi64(_mm256_castpd_si256(t), 52);
    __m256d A = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(one), k));
    __m256d Ar = _mm256_mul_pd(A, r);
    *em1 = _mm256_fmadd_pd(Ar, q, _mm256_sub_pd(A, one));
    return _mm256_fmadd_pd(Ar, q, A);
}

/* g(u) = 1/u - 1/(e^u - 1) by its series for small u (as emz_gser) */
static inline __attribute__((always_inline)) __m256d emy_gser(__m256d u)
{
    __m256d u2 = _mm256_mul_pd(u, u);
    __m256d g = _mm256_set1_pd(1.0 / 1209600.0);
    g = _mm256_fmadd_pd(g, u2, _mm256_set1_pd(-1.0 / 30240.0));
    g = _mm256_fmadd_pd(g, u2, _mm256_set1_pd(1.0 / 720.0));
    g = _mm256_fmadd_pd(g, u2, _mm256_set1_pd(-1.0 / 12.0));
    return _mm256_fmadd_pd(g, u, _mm256_set1_pd(0.5));
}

#endif /* EM_VMATH_AVX2_H */
