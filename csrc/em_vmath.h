/*
 * em_vmath.h -- branch-free, auto-vectorizable double-precision elementary
 * functions for the fused EM pass of expmix.
 *
 * Header-only, C99/C11, no globals, no libm calls, no type punning through
 * pointer casts (bit casts use memcpy, which compilers lower to register
 * moves), only unsigned 64-bit integer arithmetic (no signed overflow, no
 * shifts of negative values).  Every function is a straight-line sequence of
 * arithmetic and bitwise-mask selects (no branches, no FP-compare ternaries,
 * no tables/gathers), so gcc -O3 vectorizes a plain loop
 *     for (i = 0; i < n; i++) y[i] = em_exp(x[i]);
 * WITHOUT -ffast-math on SSE2, AVX2+FMA and AVX-512 (verified with gcc 12
 * -fopt-info-vec for all five functions, with and without -fopenmp-simd +
 * "#pragma omp simd"; clang/MSVC were not available to verify, the code
 * uses nothing beyond C99 + memcpy).  See docs/numerics.md.
 * Polynomials use plain a*b+c; contraction to FMA is left to -ffp-contract.
 * All error bounds below hold both with and without FMA contraction.
 *
 * Accuracy, MEASURED with csrc/tests/test_vmath.c (>= 10^7 arguments per
 * function: uniform grids, log-uniform and splitmix64-random sweeps, range
 * ends, special values; reference computed in 80-bit long double with
 * expl/logl/expm1l/log1pl), 2026-12-01, gcc 12.2.0 (Debian 12.2.0-14),
 * x86-64, for the builds -O3 (SSE2), -O3 -mavx2 -mfma -ffp-contract=fast,
 * -O3 -mavx512f -mavx512dq -ffp-contract=fast, -O0 and -O1 with ASan/UBSan.
 * "ulp" = ulp of the reference value (2^-1074 where the result is
 * subnormal).  Values are the max over all those builds; the test asserts
 * the (slightly larger) bound in brackets.
 *
 *   double em_exp(double x)          e^x
 *     Domain: all doubles.
 *     [-708.39, 709.78] (incl. dense sweeps of [-745, 0]): 0.69 ulp  [1.0]
 *     [-745.13, -708.39): gradual underflow, the properly rounded subnormal
 *       (NOT flushed to 0): 0.76 subnormal-ulp, abs error < 5e-324  [1.0]
 *     x < -745.13 -> +0 (correctly rounded), -inf -> +0, em_exp(+-0) = 1,
 *     x > 709.7827 -> +inf, +inf -> +inf, NaN -> NaN.
 *
 *   double em_log(double x)          natural logarithm
 *     Domain: x > 0.  Normal AND subnormal inputs (subnormals are pre-scaled
 *     by 2^52).  [DBL_MIN, DBL_MAX]: 0.84 ulp; subnormals: 0.50 ulp  [1.0]
 *     em_log(1) = +0 exactly; x = +-0 -> -inf; x < 0 (incl. -inf) -> NaN;
 *     +inf -> +inf; NaN -> NaN.
 *
 *   double em_expm1(double x)        e^x - 1 (vectorizable, no libm)
 *     Domain: all doubles.  [-50, 709.78] incl. |x| down to 1e-300 and
 *     subnormals: 1.19 ulp  [1.5]
 *     Sign of zero preserved (em_expm1(-0) = -0); x <= -45 -> -1 (the
 *     correctly rounded value); x > 709.7827 -> +inf; -inf -> -1;
 *     NaN -> NaN.
 *
 *   double em_log1p(double y)        log(1 + y) (helper, also public)
 *     Domain: y > -1.  (-1, 1e300]: 0.85 ulp  [1.5]
 *     y = -1 -> -inf, y < -1 -> NaN, +inf -> +inf, NaN -> NaN, +-0 -> +-0.
 *
 *   double em_log1mexp(double u)     log(1 - e^{-u}), u > 0
 *     log(-expm1(-u)) for u <= ln2, log1p(-exp(-u)) for u > ln2 (both arms
 *     evaluated branch-free, then selected).  Domain: u > 0.
 *     [1e-300, 708.39]: 1.70 ulp relative error vs long double  [2.0]
 *     (708.39, 745.13]: the subnormal -e^{-u}, 0.75 subnormal-ulp  [1.0]
 *     u > 745.13 and u = +inf -> +0 (true value rounds to -0);
 *     u = +-0 -> -inf; u < 0 -> NaN; NaN -> NaN.
 *
 * NaN inputs propagate a NaN (payload not guaranteed).  Floating-point
 * exception flags (inexact, invalid, overflow, underflow, divide-by-zero)
 * may be raised spuriously, since both arms of every select are evaluated;
 * results are unaffected.  Assumes round-to-nearest and NO -ffast-math /
 * -Ofast / -fassociative-math (they would break the 1.5*2^52 shifter and
 * the Fast2Sum/2Sum compensation steps).  Subnormal results are computed
 * correctly but, on x86, subnormal arithmetic is slow (microcode assists);
 * this is a hardware property, not a code path.
 */
#ifndef EM_VMATH_H
#define EM_VMATH_H

#include <stdint.h>
#include <string.h>
#include <math.h> /* INFINITY, NAN macros only; no libm functions are called */

/* Always inlined (gcc/clang): the functions are meant to be expanded into the
 * callers' vector loops; in a large kernel function gcc's inlining budget
 * otherwise runs out and it calls a scalar out-of-line copy (measured: a
 * third of the exact-data pass time went to an out-of-line em_log). */
#if defined(_MSC_VER) && !defined(__clang__)
#define EM_VM_INLINE static __inline
#elif defined(__GNUC__) || defined(__clang__)
#define EM_VM_INLINE static inline __attribute__((always_inline))
#else
#define EM_VM_INLINE static inline
#endif

/* ---- constants (decimal literals with 17 significant digits; exact) ---- */
#define EM_VM_SHIFTER   6755399441055744.0        /* 1.5 * 2^52            */
#define EM_VM_TWO52     4503599627370496.0        /* 2^52                  */
#define EM_VM_LOG2E     1.4426950408889634        /* log2(e)               */
#define EM_VM_LN2_HI    0.69314718036912382       /* 0x1.62e42fee00000p-1  */
#define EM_VM_LN2_LO    1.9082149292705877e-10    /* 0x1.a39ef35793c76p-33 */
#define EM_VM_LN2       0.69314718055994531       /* ln 2 rounded          */
#define EM_VM_DBL_MIN   2.2250738585072014e-308   /* smallest normal       */
#define EM_VM_INF       ((double)INFINITY)
#define EM_VM_NAN       ((double)NAN)

EM_VM_INLINE uint64_t em_vm_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

EM_VM_INLINE double em_vm_from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Selects.  gcc (12) does not vectorize loops containing floating-point
 * compares used as selects on SSE2/AVX2 under the default -ftrapping-math
 * (plain ternaries with computed arms are not if-converted; compare masks
 * cannot be converted to 64-bit integer masks on SSE2).  So every select in
 * this file uses an all-ones/all-zeros 64-bit mask built with integer
 * arithmetic from the bit patterns, and bitwise and/or -- this vectorizes
 * on SSE2, AVX2 and AVX-512 alike and needs no flags. */
/* Masked select without floating-point compares (SSE2-friendly): m is all
 * ones or all zeros. */
EM_VM_INLINE double em_vm_selm(uint64_t m, double a, double b)
{
    return em_vm_from_bits((em_vm_bits(a) & m) | (em_vm_bits(b) & ~m));
}

/* all-ones mask if the sign bit of d is set */
EM_VM_INLINE uint64_t em_vm_signmask(double d)
{
    return (uint64_t)0 - (em_vm_bits(d) >> 63);
}

/* all-ones mask if x is a NaN (integer arithmetic only) */
EM_VM_INLINE uint64_t em_vm_nanmask(double x)
{
    uint64_t a = em_vm_bits(x) & UINT64_C(0x7fffffffffffffff);
    return (uint64_t)0 - ((UINT64_C(0x7ff0000000000000) - a) >> 63);
}

/* all-ones mask if bits(x) with the sign cleared is zero (x = +-0) */
EM_VM_INLINE uint64_t em_vm_zeromask(double x)
{
    uint64_t a = em_vm_bits(x) & UINT64_C(0x7fffffffffffffff);
    return (uint64_t)0 - ((a - 1u) >> 63);
}

/* all-ones mask if x is +inf */
EM_VM_INLINE uint64_t em_vm_pinfmask(double x)
{
    uint64_t d = em_vm_bits(x) ^ UINT64_C(0x7ff0000000000000);
    return ((d | ((uint64_t)0 - d)) >> 63) - 1u;   /* d == 0 -> ~0 */
}

/* 2^k for integer k in [-1022, 1023], k given modulo 2^64 (two's complement
 * held in an unsigned integer). */
EM_VM_INLINE double em_vm_pow2(uint64_t k)
{
    return em_vm_from_bits((k + 1023u) << 52);
}

/* Shared Cody-Waite reduction: x = n*ln2 + r + rlo, |r| <= ln2/2 (+tiny),
 * with rlo the (Fast2Sum) rounding error of r, so r + rlo carries ~70 bits.
 * n is returned as n1, n2 (mod 2^64) with n = n1 + n2, n1 = round(n/2), so
 * that 2^n1 and 2^n2 are normal for |n| <= 2044.  x must already be clamped
 * to |x| <= 1400. */
EM_VM_INLINE double em_vm_reduce(double x, double *rlo, uint64_t *n1,
                                 uint64_t *n2)
{
    double t = x * EM_VM_LOG2E + EM_VM_SHIFTER;   /* round(x*log2e) in ulps */
    double n = t - EM_VM_SHIFTER;
    uint64_t nu = em_vm_bits(t) - em_vm_bits(EM_VM_SHIFTER);
    double t1 = n * 0.5 + EM_VM_SHIFTER;
    uint64_t h = em_vm_bits(t1) - em_vm_bits(EM_VM_SHIFTER);
    *n1 = h;
    *n2 = nu - h;
    /* n*LN2_HI is exact (LN2_HI has 21 trailing zero bits, |n| < 2^11) and
     * x - n*LN2_HI is exact (Sterbenz); the FMA-contracted form is too. */
    double rh = x - n * EM_VM_LN2_HI;
    double r = rh - n * EM_VM_LN2_LO;
    *rlo = (rh - r) - n * EM_VM_LN2_LO;
    return r;
}

/* e^r - 1 - r - r^2/2, divided by r^3: Taylor terms 1/3! .. 1/13!.
 * Truncation error |r|^14/14! < 4.2e-18 for |r| <= 0.3466. */
EM_VM_INLINE double em_vm_exp_tail(double r)
{
    double p = 1.6059043836821613e-10;        /* 1/13! */
    p = p * r + 2.0876756987868099e-09;       /* 1/12! */
    p = p * r + 2.5052108385441720e-08;       /* 1/11! */
    p = p * r + 2.7557319223985890e-07;       /* 1/10! */
    p = p * r + 2.7557319223985893e-06;       /* 1/9!  */
    p = p * r + 2.4801587301587302e-05;       /* 1/8!  */
    p = p * r + 1.9841269841269841e-04;       /* 1/7!  */
    p = p * r + 1.3888888888888889e-03;       /* 1/6!  */
    p = p * r + 8.3333333333333332e-03;       /* 1/5!  */
    p = p * r + 4.1666666666666664e-02;       /* 1/4!  */
    p = p * r + 1.6666666666666666e-01;       /* 1/3!  */
    return p;
}

/* e^x.  See header comment for domain and measured accuracy. */
EM_VM_INLINE double em_exp(double x)
{
    /* Clamp (NaN passes through: comparisons are false).  Outside
     * [-746, 710] the result is 0 / inf anyway. */
    double xc = em_vm_selm(em_vm_signmask(x + 746.0), -746.0, x);
    xc = em_vm_selm(em_vm_signmask(710.0 - xc), 710.0, xc);
    double rlo;
    uint64_t n1, n2;
    double r = em_vm_reduce(xc, &rlo, &n1, &n2);
    double r2 = r * r;
    /* e^(r+rlo) = 1 + r + (rlo + r^2*(1/2 + r*tail)); 1 + r by Fast2Sum so
     * that the only significant rounding is the final addition. */
    double tl = rlo + r2 * (0.5 + r * em_vm_exp_tail(r));
    double hi = 1.0 + r;
    double lo = (1.0 - hi) + r;
    double p = hi + (lo + tl);
    /* p*2^n1 is exact and normal; the final product rounds once (only
     * matters for subnormal results or overflow to inf). */
    double y = (p * em_vm_pow2(n1)) * em_vm_pow2(n2);
    return em_vm_selm(em_vm_nanmask(x), x, y);
}

/* The last step of e^x - 1 = 2^n (e^r - 1) + (2^n - 1), with 2^n = s1 s2
 * (s2inv = 1/s2) and e^r - 1 = r + tl: 2^n2 (a + b + s1 tl), a + b by 2Sum
 * (shared by em_expm1, em_exp_expm1_neg and em_expm1_pos). */
EM_VM_INLINE double em_vm_expm1_finish(double r, double tl, double s1, double s2, double s2inv)
{
    double a = s1 - s2inv;                 /* exact unless |n| is large  */
    double b = s1 * r;                     /* exact */
    double sm = a + b;
    double bb = sm - a;
    double err = (a - (sm - bb)) + (b - bb);
    return (sm + (err + s1 * tl)) * s2;
}

/* e^x - 1 = 2^n*(e^r - 1) + (2^n - 1), evaluated as
 * ((e^r-1)*2^n1 + (2^n1 - 2^-n2)) * 2^n2. */
EM_VM_INLINE double em_expm1(double x)
{
    /* e^-45 < ulp(1)/2^12, so x <= -45 gives -1 */
    double xc = em_vm_selm(em_vm_signmask(x + 45.0), -45.0, x);
    xc = em_vm_selm(em_vm_signmask(710.0 - xc), 710.0, xc);
    double rlo;
    uint64_t n1, n2;
    double r = em_vm_reduce(xc, &rlo, &n1, &n2);
    double r2 = r * r;
    double tl = rlo + r2 * (0.5 + r * em_vm_exp_tail(r)); /* e^r-1 = r+tl */
    double s1 = em_vm_pow2(n1);
    double s2 = em_vm_pow2(n2);
    double s2inv = em_vm_pow2(0u - n2);
    double y = em_vm_expm1_finish(r, tl, s1, s2, s2inv);
    y = em_vm_selm(em_vm_zeromask(x), x, y);   /* keep the sign of zero */
    return em_vm_selm(em_vm_nanmask(x), x, y);
}

/* log(m) for m in [sqrt(1/2), sqrt(2)): with f = m - 1, s = f/(2+f),
 * log1p(f) = f - f^2/2 + s*(f^2/2 + R),  R = sum_{i>=1} 2 s^(2i)/(2i+1). */
EM_VM_INLINE double em_vm_log_core(double x, double extra)
{
    /* all ones if bits(x) < bits(DBL_MIN): +0 and positive subnormals
     * (also some negatives, which are overridden below) */
    uint64_t ux = em_vm_bits(x);
    uint64_t sub = (uint64_t)0 - ((ux - (UINT64_C(1) << 52)) >> 63);
    double xs = em_vm_selm(sub, x * EM_VM_TWO52, x);
    double kadj = em_vm_selm(sub, 52.0, 0.0);
    uint64_t u = em_vm_bits(xs);
    /* 0x3ff0000000000000 - bits(sqrt(1/2)): makes the exponent field of
     * (u + C) equal to 1023 + k with m = x/2^k in [sqrt(1/2), sqrt(2)). */
    uint64_t kb = (u + UINT64_C(0x00095f619980c433)) >> 52;
    double m = em_vm_from_bits(u - (kb << 52) + (UINT64_C(1023) << 52));
    /* k = kb - 1023 - kadj, exactly, without int64->double conversion. */
    double k = (em_vm_from_bits(UINT64_C(0x4330000000000000) | kb)
                - (EM_VM_TWO52 + 1023.0)) - kadj;
    double f = m - 1.0;                    /* exact (Sterbenz) */
    double s = f / (2.0 + f);
    double z = s * s;
    double R = 9.5238095238095233e-02;     /* 2/21 */
    R = R * z + 1.0526315789473684e-01;    /* 2/19 */
    R = R * z + 1.1764705882352941e-01;    /* 2/17 */
    R = R * z + 1.3333333333333333e-01;    /* 2/15 */
    R = R * z + 1.5384615384615385e-01;    /* 2/13 */
    R = R * z + 1.8181818181818182e-01;    /* 2/11 */
    R = R * z + 2.2222222222222221e-01;    /* 2/9  */
    R = R * z + 2.8571428571428570e-01;    /* 2/7  */
    R = R * z + 4.0000000000000002e-01;    /* 2/5  */
    R = R * z + 6.6666666666666663e-01;    /* 2/3  */
    R = R * z;
    double hfsq = 0.5 * f * f;
    /* extra (|extra| <~ 2^-53 * |f|, used by em_log1p) is folded in before
     * the last two roundings. */
    double y = k * EM_VM_LN2_HI
             - ((hfsq - ((s * (hfsq + R) + k * EM_VM_LN2_LO) + extra)) - f);
    /* special values */
    y = em_vm_selm(em_vm_signmask(x), EM_VM_NAN, y);  /* x < 0, -0, -inf */
    y = em_vm_selm(em_vm_zeromask(x), -EM_VM_INF, y); /* x = +-0 */
    y = em_vm_selm(em_vm_pinfmask(x), EM_VM_INF, y);  /* x = +inf */
    y = em_vm_selm(em_vm_nanmask(x), x, y);           /* NaN */
    return y;
}

/* natural logarithm.  See header comment. */
EM_VM_INLINE double em_log(double x)
{
    return em_vm_log_core(x, 0.0);
}

/* log(1+y): c = fl(1+y), e = (1+y) - c exactly (Fast2Sum),
 * log1p(y) = log(c) + e/c + O((e/c)^2). */
EM_VM_INLINE double em_log1p(double y)
{
    double c = 1.0 + y;
    /* y > 1: Fast2Sum with y as the larger operand */
    double e = em_vm_selm(em_vm_signmask(1.0 - y), 1.0 - (c - y),
                          (1.0 - c) + y);
    double res = em_vm_log_core(c, e / c);
    res = em_vm_selm(em_vm_zeromask(c), -EM_VM_INF, res); /* y = -1 */
    res = em_vm_selm(em_vm_pinfmask(y), EM_VM_INF, res);
    res = em_vm_selm(em_vm_zeromask(y), y, res);  /* keep the sign of 0 */
    return res;
}

/* log(1 - e^{-u}) for u > 0 (Maechler's split at ln 2). */
EM_VM_INLINE double em_log1mexp(double u)
{
    uint64_t large = em_vm_signmask(EM_VM_LN2 - u);  /* u > ln2 */
    double em1 = em_expm1(-u);             /* used for u <= ln2 */
    double w = -em_exp(-u);                /* used for u >  ln2: log1p(w) */
    double c = 1.0 + w;                    /* w in [-0.5, 0]: Fast2Sum ok */
    double e = (1.0 - c) + w;
    double arg = em_vm_selm(large, c, -em1);
    double corr = em_vm_selm(large, e / c, 0.0);
    return em_vm_log_core(arg, corr);
}

/* e^x on the kernels' clamped range, lean: no clamp, no NaN/inf/subnormal
 * handling, one scaling.  Domain: x in [-708.3, 709.0] (callers clamp; the
 * result is then always normal and finite).  Outside the domain the result
 * is garbage (not UB: unsigned arithmetic only).
 * x = n ln2 + r, |r| <= ln2/2 (+tiny), by Cody-Waite with the 2-term ln2;
 * e^r by Horner on the Taylor series through r^13/13! (truncation < 2.3e-17
 * relative), then 2^n by adding n to the exponent field (bits of p plus
 * n << 52, mod 2^64: p in [0.70, 1.42], so 1022 + n >= 1 on the domain).
 * Measured by csrc/tests/test_vmath.c (SSE2, AVX2+FMA, AVX-512, -O0):
 * max 1.15 ulp over the domain [asserted: 1.5].
 * About 20 vector operations against ~50 of em_exp. */
EM_VM_INLINE double em_exp_k(double x)
{
    double t = x * EM_VM_LOG2E + EM_VM_SHIFTER;
    double n = t - EM_VM_SHIFTER;
    uint64_t ni = em_vm_bits(t) - em_vm_bits(EM_VM_SHIFTER);
    double r = x - n * EM_VM_LN2_HI;
    r = r - n * EM_VM_LN2_LO;
    double p = em_vm_exp_tail(r);             /* through 1/3! */
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return em_vm_from_bits(em_vm_bits(p) + (ni << 52));
}

/* ---- appended: domain-restricted helpers of the kinds kernels
 * (em_kernel_trunc.h; formerly em_k_exp_expm1 / em_k_expm1_pos there).
 * csrc/tests/test_kinds.c checks them bitwise against em_exp / em_expm1. */

/* e^x and e^x - 1 for x in [-708, 0] from one Cody-Waite reduction: the
 * same operations as em_exp and em_expm1 of em_vmath.h (so the same
 * results and error bounds, 1 and 1.5 ulp) without their clamps, NaN and
 * signed-zero handling, which this domain does not need.  x must be
 * finite and in [-708, 0]. */
EM_VM_INLINE void em_exp_expm1_neg(double x, double *ex, double *em1)
{
    double rlo;
    uint64_t n1, n2;
    double r = em_vm_reduce(x, &rlo, &n1, &n2);
    double r2 = r * r;
    double tl = rlo + r2 * (0.5 + r * em_vm_exp_tail(r));
    double s1 = em_vm_pow2(n1), s2 = em_vm_pow2(n2), s2inv = em_vm_pow2(0u - n2);
    /* e^x (em_exp) */
    double hi = 1.0 + r;
    double lo = (1.0 - hi) + r;
    double pe = hi + (lo + tl);
    *ex = (pe * s1) * s2;
    *em1 = em_vm_expm1_finish(r, tl, s1, s2, s2inv);   /* em_expm1 */
}

/* e^x - 1 for x in [0, 709]: the operations of em_expm1 (em_vmath.h) without
 * its clamps and special-value selects, which this domain does not need. */
EM_VM_INLINE double em_expm1_pos(double x)
{
    double rlo;
    uint64_t n1, n2;
    double r = em_vm_reduce(x, &rlo, &n1, &n2);
    double r2 = r * r;
    double tl = rlo + r2 * (0.5 + r * em_vm_exp_tail(r));
    double s1 = em_vm_pow2(n1), s2 = em_vm_pow2(n2), s2inv = em_vm_pow2(0u - n2);
    return em_vm_expm1_finish(r, tl, s1, s2, s2inv);
}

#endif /* EM_VMATH_H */
