/*
 * test_vmath.c -- accuracy test (and optional benchmark) for csrc/em_vmath.h
 *
 * Build & run from the repository root (each must print "N passed, 0 failed"
 * and exit 0):
 *   gcc -O3 -std=c11 -Wall -Wextra -Werror csrc/tests/test_vmath.c -Icsrc -lm -o /tmp/tv && /tmp/tv
 *   gcc -O3 -std=c11 -mavx2 -mfma -ffp-contract=fast -Wall -Wextra -Werror csrc/tests/test_vmath.c -Icsrc -lm -o /tmp/tv && /tmp/tv
 *   gcc -O3 -std=c11 -mavx512f -mavx512dq -ffp-contract=fast -Wall -Wextra -Werror csrc/tests/test_vmath.c -Icsrc -lm -o /tmp/tv && /tmp/tv
 *   gcc -O1 -g -std=c11 -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror csrc/tests/test_vmath.c -Icsrc -lm -o /tmp/tv && /tmp/tv
 *   clang -O3 -std=c11 -Wall -Wextra -Werror csrc/tests/test_vmath.c -Icsrc -lm -o /tmp/tv && /tmp/tv   (if clang is installed)
 * Vectorization report (the batch_* loops below are the plain loops):
 *   gcc -O3 -std=c11 -mavx2 -mfma -fopt-info-vec-optimized -c csrc/tests/test_vmath.c -Icsrc -o /dev/null
 * Throughput vs libm (1e7 values, best of 5):  /tmp/tv --bench
 *
 * The reference is computed in long double (80-bit on x86-64 gcc) with
 * expl/logl/expm1l/log1pl; the error is measured in ulps of the reference
 * value (ulp found with nextafter on the double-rounded reference).
 * The em_* functions are evaluated through plain loops over arrays, so the
 * code path tested is the vectorized one the EM kernel uses.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "em_vmath.h"
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
/* before any target pragma: gcc gives each intrinsic the target of its own
 * header only when no wider target is active at the first include */
#include <immintrin.h>
#endif

#define BATCH 4096

/* ---------------- plain loops (auto-vectorized at -O3) ---------------- */
#define DEF_BATCH(NAME, FN)                                                  \
    static void NAME(const double *restrict x, double *restrict y, long n)   \
    {                                                                        \
        for (long i = 0; i < n; i++)                                         \
            y[i] = FN(x[i]);                                                 \
    }
DEF_BATCH(batch_exp, em_exp)
DEF_BATCH(batch_exp_k, em_exp_k)
DEF_BATCH(batch_log, em_log)
DEF_BATCH(batch_expm1, em_expm1)
DEF_BATCH(batch_log1p, em_log1p)
DEF_BATCH(batch_log1mexp, em_log1mexp)

static double libm_log1mexp(double u)
{
    return (u <= 0.69314718055994531) ? log(-expm1(-u)) : log1p(-exp(-u));
}
DEF_BATCH(batch_libm_exp, exp)
DEF_BATCH(batch_libm_log, log)
DEF_BATCH(batch_libm_expm1, expm1)
DEF_BATCH(batch_libm_log1mexp, libm_log1mexp)

typedef void (*batch_fn)(const double *restrict, double *restrict, long);

/* ---------------- references ---------------- */
static long double ref_exp(double x) { return expl((long double)x); }
static long double ref_log(double x) { return logl((long double)x); }
static long double ref_expm1(double x) { return expm1l((long double)x); }
static long double ref_log1p(double x) { return log1pl((long double)x); }
static long double ref_log1mexp(double u)
{
    long double U = (long double)u;
    return (U <= 0.693147180559945309417L) ? logl(-expm1l(-U))
                                            : log1pl(-expl(-U));
}
typedef long double (*ref_fn)(double);

/* ---------------- PRNG (splitmix64) ---------------- */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);
static uint64_t splitmix64(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(splitmix64() >> 11) * 0x1p-53; }

/* ---------------- error measurement ---------------- */
typedef struct {
    double max_ulp, worst_x, max_abs;
    long n, bad_special;
} stats_t;

static void stats_init(stats_t *s) { memset(s, 0, sizeof *s); }

/* error of y against reference ref in ulps of ref; special values must match
 * exactly (returns 1e30 on mismatch). */
static double ulp_err(double y, long double ref, double *abserr)
{
    double rd = (double)ref;
    *abserr = 0.0;
    if (isnan(rd))
        return isnan(y) ? 0.0 : 1e30;
    if (isnan(y))
        return 1e30;
    if (isinf(rd) || isinf(y)) {
        /* reference overflowed: must be inf of the same sign */
        if (rd == y)
            return 0.0;
        *abserr = INFINITY;
        return 1e30;
    }
    double a = fabs(rd), ulp;
    if (fabsl(ref) >= (long double)a)
        ulp = nextafter(a, INFINITY) - a;
    else
        ulp = a - nextafter(a, 0.0);
    if (isinf(ulp)) /* a == DBL_MAX */
        ulp = DBL_MAX - nextafter(DBL_MAX, 0.0);
    long double d = fabsl((long double)y - ref);
    *abserr = (double)d;
    return (double)(d / (long double)ulp);
}

static void accumulate(stats_t *s, double x, double y, long double ref)
{
    double ae;
    double e = ulp_err(y, ref, &ae);
    s->n++;
    if (e > s->max_ulp || (e != e)) {
        s->max_ulp = e;
        s->worst_x = x;
    }
    if (ae > s->max_abs)
        s->max_abs = ae;
}

/* ---------------- sweeps ---------------- */
enum { GRID, UNIF, LOGU, NLOGU };

static double xbuf[BATCH], ybuf[BATCH];

/* Evaluate fn on count arguments from [lo, hi] of the given kind; arguments
 * x < split go to s_lo, the others to s_hi (s_lo may equal s_hi). */
static void sweep(batch_fn fn, ref_fn ref, int kind, double lo, double hi,
                  long count, double split, stats_t *s_lo, stats_t *s_hi)
{
    double llo = 0, lhi = 0;
    /* EM_TEST_QUICK=1 (the sanitizer job of .ci/sanitizers.sh): a tenth of
     * the arguments of every sweep; the full sweeps run in tests/test_c_core.py */
    const char *quick = getenv("EM_TEST_QUICK");
    if (quick && strcmp(quick, "1") == 0) count = count / 10 > 1000 ? count / 10 : count;
    if (kind == LOGU || kind == NLOGU) {
        llo = log(lo);
        lhi = log(hi);
    }
    for (long done = 0; done < count;) {
        long m = count - done < BATCH ? count - done : BATCH;
        for (long i = 0; i < m; i++) {
            double x;
            switch (kind) {
            case GRID:
                x = lo + (hi - lo) * ((double)(done + i) / (double)(count - 1));
                break;
            case UNIF:
                x = lo + (hi - lo) * rng_unit();
                break;
            default:
                x = exp(llo + (lhi - llo) * rng_unit());
                x = x < lo ? lo : (x > hi ? hi : x);
                if (kind == NLOGU)
                    x = -x;
                break;
            }
            xbuf[i] = x;
        }
        fn(xbuf, ybuf, m);
        for (long i = 0; i < m; i++)
            accumulate(xbuf[i] < split ? s_lo : s_hi, xbuf[i], ybuf[i],
                       ref(xbuf[i]));
        done += m;
    }
}

static long n_pass, n_fail;

static void check(int ok, const char *what)
{
    if (ok)
        n_pass++;
    else {
        n_fail++;
        printf("FAIL: %s\n", what);
    }
}

static void check_range(const char *fname, const char *range, stats_t *s,
                        double bound, double absbound)
{
    char buf[256];
    int ok = s->max_ulp <= bound && (absbound <= 0 || s->max_abs < absbound);
    snprintf(buf, sizeof buf,
             "%s %s: max %.3f ulp (bound %.2f) at x=%.17g, max abs %.3g",
             fname, range, s->max_ulp, bound, s->worst_x, s->max_abs);
    check(ok, buf);
}

/* single value vs reference within bound ulps (special values exact) */
static double eval1(batch_fn fn, double x)
{
    double y;
    fn(&x, &y, 1);
    return y;
}

static void check_point(const char *fname, batch_fn fn, ref_fn ref, double x,
                        double bound, stats_t *pts)
{
    char buf[256];
    double y = eval1(fn, x), ae;
    long double r = ref(x);
    double e = ulp_err(y, r, &ae);
    accumulate(pts, x, y, r);
    snprintf(buf, sizeof buf, "%s(%.17g) = %.17g, ref %.17Lg, %.3f ulp",
             fname, x, y, r, e);
    check(e <= bound, buf);
}

static void check_exact(const char *fname, batch_fn fn, double x, double want)
{
    char buf[256];
    double y = eval1(fn, x);
    int ok = (isnan(want) && isnan(y)) ||
             (y == want && signbit(y) == signbit(want));
    snprintf(buf, sizeof buf, "%s(%.17g) = %.17g, expected %.17g", fname, x,
             y, want);
    check(ok, buf);
}

/* ---------------- documented bounds (ulp) ---------------- */
#define B_EXP 1.0
#define B_EXP_SUB 1.0 /* subnormal ulps */
#define B_EXP8 1.5 /* emz_exp8 (AVX-512): measured 1.005 */
#define B_EXP_K 1.5 /* em_exp_k: measured 1.15 (see em_vmath.h) */
#define B_LOG 1.0
#define B_EXPM1 1.5
#define B_LOG1P 1.5
#define B_LOG1MEXP 2.0
#define ABS_SUB 2.3e-308

static const double M708 = -708.39;

static void test_exp(void)
{
    stats_t sn, ss, pts;
    stats_init(&sn);
    stats_init(&ss);
    stats_init(&pts);
    batch_fn f = batch_exp;
    sweep(f, ref_exp, GRID, -745.0, 0.0, 4000000, M708, &ss, &sn);
    sweep(f, ref_exp, GRID, 0.0, 709.78, 1000000, M708, &ss, &sn);
    sweep(f, ref_exp, UNIF, -745.0, 0.0, 3000000, M708, &ss, &sn);
    sweep(f, ref_exp, UNIF, -708.39, 709.78, 1000000, M708, &ss, &sn);
    sweep(f, ref_exp, UNIF, -1.0, 1.0, 500000, M708, &ss, &sn);
    sweep(f, ref_exp, NLOGU, 1e-300, 745.0, 1000000, M708, &ss, &sn);
    sweep(f, ref_exp, LOGU, 1e-300, 709.78, 500000, M708, &ss, &sn);
    check_range("em_exp", "[-708.39,709.78]", &sn, B_EXP, 0);
    check_range("em_exp", "[-745,-708.39) subnormal", &ss, B_EXP_SUB, ABS_SUB);
    const double pv[] = {-708.39, -708.4, -745.0, -745.1332, -745.14, -0.0,
                         0.0, 1e-300, -1e-300, 709.7, 709.78, 709.782712893,
                         DBL_MIN, -DBL_MIN, 1.0, -1.0, 0.5 * 0.69314718055994531,
                         -0.5 * 0.69314718055994531, 0x1p-1074, 100.0, -100.0};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("em_exp", f, ref_exp, pv[i], B_EXP, &pts);
    check_exact("em_exp", f, 0.0, 1.0);
    check_exact("em_exp", f, -0.0, 1.0);
    check_exact("em_exp", f, 709.8, INFINITY);
    check_exact("em_exp", f, 710.0, INFINITY);
    check_exact("em_exp", f, DBL_MAX, INFINITY);
    check_exact("em_exp", f, INFINITY, INFINITY);
    check_exact("em_exp", f, -745.2, 0.0);
    check_exact("em_exp", f, -800.0, 0.0);
    check_exact("em_exp", f, -DBL_MAX, 0.0);
    check_exact("em_exp", f, -INFINITY, 0.0);
    check_exact("em_exp", f, NAN, NAN);
    check_exact("em_exp", f, -NAN, NAN);
    printf("em_exp:      %ld args; [-708.39,709.78] max %.3f ulp (x=%.17g); "
           "subnormal range max %.3f ulp, abs %.3g; points max %.3f ulp\n",
           sn.n + ss.n, sn.max_ulp, sn.worst_x, ss.max_ulp, ss.max_abs,
           pts.max_ulp);
}

/* em_exp_k: the kernels' lean exp, on its documented domain only */
static void test_exp_k(void)
{
    stats_t s, pts;
    stats_init(&s);
    stats_init(&pts);
    batch_fn f = batch_exp_k;
    sweep(f, ref_exp, GRID, -708.3, 709.0, 4000000, -INFINITY, &s, &s);
    sweep(f, ref_exp, UNIF, -708.3, 709.0, 3000000, -INFINITY, &s, &s);
    sweep(f, ref_exp, UNIF, -1.0, 1.0, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_exp, NLOGU, 1e-300, 708.3, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_exp, LOGU, 1e-300, 709.0, 1000000, -INFINITY, &s, &s);
    check_range("em_exp_k", "[-708.3,709]", &s, B_EXP_K, 0);
    const double pv[] = {-708.3, -708.0, -707.99, 709.0, 0.0, -0.0, 1e-300,
                         -1e-300, 1.0, -1.0, 0.5 * 0.69314718055994531,
                         -0.5 * 0.69314718055994531, 0.34657359027997264,
                         -0.34657359027997264, 80.0, -80.0, 100.0, -100.0};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("em_exp_k", f, ref_exp, pv[i], B_EXP_K, &pts);
    check_exact("em_exp_k", f, 0.0, 1.0);
    printf("em_exp_k:    %ld args; [-708.3,709] max %.3f ulp (x=%.17g); points max %.3f ulp\n",
           s.n, s.max_ulp, s.worst_x, pts.max_ulp);
}

/* ---- AVX-512: emz_exp8 (em_vmath_avx512.h), run when the CPU has it ---- */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_EMZ 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
#endif
#include "em_vmath_avx512.h"
static void batch_exp8(const double *restrict x, double *restrict y, long n)
{
    const __m512d tab = _mm512_loadu_pd(emz_tab8);
    long i = 0;
    for (; i + 8 <= n; i += 8)
        _mm512_storeu_pd(y + i, emz_exp8(_mm512_loadu_pd(x + i), tab));
    for (; i < n; i++) {   /* one lane at a time for the rest */
        double in[8] = {x[i], x[i], x[i], x[i], x[i], x[i], x[i], x[i]}, out[8];
        _mm512_storeu_pd(out, emz_exp8(_mm512_loadu_pd(in), tab));
        y[i] = out[0];
    }
}
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
/* e^(u ln2 / 8) = 2^(u/8); u/8 is exact */
static long double ref_exp8(double u) { return exp2l((long double)u / 8.0L); }

static void test_exp8(void)
{
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))) {
        printf("emz_exp8:    skipped (this CPU has no AVX-512 F/DQ)\n");
        return;
    }
    stats_t s, pts;
    stats_init(&s);
    stats_init(&pts);
    batch_fn f = batch_exp8;
    sweep(f, ref_exp8, GRID, -8176.0, 8184.0, 4000000, -INFINITY, &s, &s);
    sweep(f, ref_exp8, UNIF, -8176.0, 8184.0, 3000000, -INFINITY, &s, &s);
    sweep(f, ref_exp8, UNIF, -8.0, 8.0, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_exp8, NLOGU, 1e-300, 8176.0, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_exp8, LOGU, 1e-300, 8184.0, 1000000, -INFINITY, &s, &s);
    check_range("emz_exp8", "[-8176,8184]", &s, B_EXP8, 0);
    const double pv[] = {-8176.0, -8171.06, -8175.5, 8184.0, 0.0, -0.0, 0.5, -0.5,
                         0.49999999999999994, -0.49999999999999994, 1.0, -1.0, 7.5,
                         -7.5, 923.3, -923.3, 1e-300, -1e-300};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("emz_exp8", f, ref_exp8, pv[i], B_EXP8, &pts);
    check_exact("emz_exp8", f, 0.0, 1.0);
    check_exact("emz_exp8", f, 8.0, 2.0);
    check_exact("emz_exp8", f, -8.0, 0.5);
    printf("emz_exp8:    %ld args; [-8176,8184] max %.3f ulp (u=%.17g); points max %.3f ulp\n",
           s.n, s.max_ulp, s.worst_x, pts.max_ulp);
}
#endif

/* ---- AVX2: emy_exp2 (em_vmath_avx2.h), run when the CPU has AVX2 + FMA ---- */
#if defined(HAVE_EMZ)
#define HAVE_EMY 1
#define B_EXP2 1.5 /* emy_exp2 (AVX2): measured 0.89 */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#include "em_vmath_avx2.h"
static void batch_exp2y(const double *restrict x, double *restrict y, long n)
{
    long i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(y + i, emy_exp2(_mm256_loadu_pd(x + i)));
    for (; i < n; i++) {   /* one lane at a time for the rest */
        double in[4] = {x[i], x[i], x[i], x[i]}, out[4];
        _mm256_storeu_pd(out, emy_exp2(_mm256_loadu_pd(in)));
        y[i] = out[0];
    }
}
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
static long double ref_exp2y(double u) { return exp2l((long double)u); }

static void test_exp2y(void)
{
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        printf("emy_exp2:    skipped (this CPU has no AVX2 + FMA)\n");
        return;
    }
    stats_t s, pts;
    stats_init(&s);
    stats_init(&pts);
    batch_fn f = batch_exp2y;
    sweep(f, ref_exp2y, GRID, -1021.0, 1023.0, 4000000, -INFINITY, &s, &s);
    sweep(f, ref_exp2y, UNIF, -1021.0, 1023.0, 3000000, -INFINITY, &s, &s);
    sweep(f, ref_exp2y, UNIF, -1.0, 1.0, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_exp2y, NLOGU, 1e-300, 1021.0, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_exp2y, LOGU, 1e-300, 1023.0, 1000000, -INFINITY, &s, &s);
    check_range("emy_exp2", "[-1021,1023]", &s, B_EXP2, 0);
    /* range ends, the kernel's clamp (-600 log2 e), half-integers (rounding
     * of m), small arguments */
    const double pv[] = {-1021.0, -1020.5, -1020.51, 1023.0, 1022.5, 1022.99,
                         -865.61702911002, 0.0, -0.0, 0.5, -0.5, 0.49999999999999994,
                         -0.49999999999999994, 1.0, -1.0, 1.5, -1.5, 115.4, -115.4,
                         1e-300, -1e-300};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("emy_exp2", f, ref_exp2y, pv[i], B_EXP2, &pts);
    check_exact("emy_exp2", f, 0.0, 1.0);
    check_exact("emy_exp2", f, 1.0, 2.0);
    check_exact("emy_exp2", f, -1.0, 0.5);
    check_exact("emy_exp2", f, -1021.0, 0x1p-1021);
    check_exact("emy_exp2", f, 1023.0, 0x1p1023);
    printf("emy_exp2:    %ld args; [-1021,1023] max %.3f ulp (u=%.17g); points max %.3f ulp\n",
           s.n, s.max_ulp, s.worst_x, pts.max_ulp);
}
#endif

/* ---- AVX-512: emz_exp_expm1_8 (appended to em_vmath_avx512.h for the
 * truncation and interval kernels) ---- */
#ifdef HAVE_EMZ
#define B_EXPE8 1.0   /* its e^d part: measured 0.61 */
#define B_EXPM1E8 2.0 /* its e^d - 1 part: measured 1.76 */
#define B_EXPM1S8 1.0 /* emz_expm1_small on [-1/16, 1/16]: measured 0.56 */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
#endif
static void batch_ee8(const double *restrict x, double *restrict y, long n, int which)
{
    const __m512d tab = _mm512_loadu_pd(emz_tab8), tabl = _mm512_loadu_pd(emz_tab8l);
    for (long i = 0; i < n; i += 8) {
        double in[8], out[8];
        for (int l = 0; l < 8; l++) in[l] = x[i + l < n ? i + l : i];
        __m512d m1, e = emz_exp_expm1_8(_mm512_loadu_pd(in), tab, tabl, &m1);
        _mm512_storeu_pd(out, which ? m1 : e);
        for (int l = 0; l < 8 && i + l < n; l++) y[i + l] = out[l];
    }
}
static void batch_em1s8(const double *restrict x, double *restrict y, long n)
{
    for (long i = 0; i < n; i += 8) {
        double in[8], out[8];
        for (int l = 0; l < 8; l++) in[l] = x[i + l < n ? i + l : i];
        _mm512_storeu_pd(out, emz_expm1_small(_mm512_loadu_pd(in)));
        for (int l = 0; l < 8 && i + l < n; l++) y[i + l] = out[l];
    }
}
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
static long double ref_expm1n(double x) { return expm1l((long double)x); }
static void batch_ee8_exp(const double *restrict x, double *restrict y, long n)
{
    batch_ee8(x, y, n, 0);
}
static void batch_ee8_expm1(const double *restrict x, double *restrict y, long n)
{
    batch_ee8(x, y, n, 1);
}
/* 2^(u/8) - 1: u/8 is exact; expm1l of (u/8) ln2 for |u| < 8 (the rounding
 * of the product is 2^-64 relative, condition number ~1 there) */
static long double ref_expm1_8(double u)
{
    long double v = (long double)u / 8.0L;
    if (fabsl(v) < 1.0L) return expm1l(v * 0.693147180559945309417232121458176568L);
    return exp2l(v) - 1.0L;
}

static void test_exp_expm1_8(void)
{
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))) {
        printf("emz_exp_expm1_8: skipped (this CPU has no AVX-512 F/DQ)\n");
        return;
    }
    stats_t se, sm, pts;
    stats_init(&se);
    stats_init(&sm);
    stats_init(&pts);
    sweep(batch_ee8_exp, ref_exp8, GRID, -8176.0, 8184.0, 2000000, -INFINITY, &se, &se);
    sweep(batch_ee8_exp, ref_exp8, UNIF, -8.0, 8.0, 1000000, -INFINITY, &se, &se);
    sweep(batch_ee8_exp, ref_exp8, NLOGU, 1e-300, 8176.0, 1000000, -INFINITY, &se, &se);
    check_range("emz_exp_expm1_8 (e^d)", "[-8176,8184]", &se, B_EXPE8, 0);
    sweep(batch_ee8_expm1, ref_expm1_8, GRID, -8176.0, 8184.0, 2000000, -INFINITY, &sm, &sm);
    sweep(batch_ee8_expm1, ref_expm1_8, UNIF, -24.0, 24.0, 2000000, -INFINITY, &sm, &sm);
    sweep(batch_ee8_expm1, ref_expm1_8, NLOGU, 1e-300, 8176.0, 1000000, -INFINITY, &sm, &sm);
    sweep(batch_ee8_expm1, ref_expm1_8, LOGU, 1e-300, 8184.0, 1000000, -INFINITY, &sm, &sm);
    check_range("emz_exp_expm1_8 (e^d - 1)", "[-8176,8184]", &sm, B_EXPM1E8, 0);
    const double pv[] = {-8176.0, 8184.0, 0.5, -0.5, 0.49999999999999994, -0.49999999999999994,
                         0.50000000000000011, -0.50000000000000011, 1.5, -1.5, 1e-300, -1e-300,
                         5e-324, -5e-324, 8.0, -8.0, 100.0, -100.0};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("emz_exp_expm1_8 (e^d - 1)", batch_ee8_expm1, ref_expm1_8, pv[i], B_EXPM1E8,
                    &pts);
    check_exact("emz_exp_expm1_8 (e^d - 1)", batch_ee8_expm1, 0.0, 0.0);
    check_exact("emz_exp_expm1_8 (e^d)", batch_ee8_exp, 0.0, 1.0);
    printf("emz_exp_expm1_8: %ld args e^d max %.3f ulp (u=%.17g); %ld args e^d-1 max %.3f ulp "
           "(u=%.17g); points max %.3f ulp\n",
           se.n, se.max_ulp, se.worst_x, sm.n, sm.max_ulp, sm.worst_x, pts.max_ulp);
    /* emz_expm1_small: |x| <= 1/16 only (the truncation kernel's small-argument path) */
    stats_t ss;
    stats_init(&ss);
    sweep(batch_em1s8, ref_expm1n, GRID, -0.0625, 0.0625, 2000000, -INFINITY, &ss, &ss);
    sweep(batch_em1s8, ref_expm1n, LOGU, 1e-300, 0.0625, 1000000, -INFINITY, &ss, &ss);
    sweep(batch_em1s8, ref_expm1n, NLOGU, 1e-300, 0.0625, 1000000, -INFINITY, &ss, &ss);
    check_range("emz_expm1_small", "[-1/16,1/16]", &ss, B_EXPM1S8, 0);
    check_exact("emz_expm1_small", batch_em1s8, 0.0, 0.0);
    printf("emz_expm1_small: %ld args max %.3f ulp (x=%.17g)\n", ss.n, ss.max_ulp, ss.worst_x);
}
#endif

/* ---- AVX2: emy_exp_expm1 (appended to em_vmath_avx2.h for the AVX2
 * truncation and interval kernels) ---- */
#ifdef HAVE_EMY
#define B_EXPEY 1.5   /* its e^d part: measured 0.88 */
#define B_EXPM1EY 2.5 /* its e^d - 1 part: measured 2.00 (cancellation at m = 1, r < 0: the rounding of q) */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
static void batch_eey(const double *restrict x, double *restrict y, long n, int which)
{
    for (long i = 0; i < n; i += 4) {
        double in[4], out[4];
        for (int l = 0; l < 4; l++) in[l] = x[i + l < n ? i + l : i];
        __m256d m1, e = emy_exp_expm1(_mm256_loadu_pd(in), &m1);
        _mm256_storeu_pd(out, which ? m1 : e);
        for (int l = 0; l < 4 && i + l < n; l++) y[i + l] = out[l];
    }
}
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
static void batch_eey_exp(const double *restrict x, double *restrict y, long n)
{
    batch_eey(x, y, n, 0);
}
static void batch_eey_expm1(const double *restrict x, double *restrict y, long n)
{
    batch_eey(x, y, n, 1);
}
/* 2^u - 1: expm1l(u ln2) for |u| < 1 (the rounding of the product is 2^-64
 * relative, condition number ~1 there) */
static long double ref_expm1y(double u)
{
    if (fabsl((long double)u) < 1.0L)
        return expm1l((long double)u * 0.693147180559945309417232121458176568L);
    return exp2l((long double)u) - 1.0L;
}

static void test_exp_expm1y(void)
{
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        printf("emy_exp_expm1: skipped (this CPU has no AVX2 + FMA)\n");
        return;
    }
    stats_t se, sm, pts;
    stats_init(&se);
    stats_init(&sm);
    stats_init(&pts);
    sweep(batch_eey_exp, ref_exp2y, GRID, -1021.0, 1023.0, 2000000, -INFINITY, &se, &se);
    sweep(batch_eey_exp, ref_exp2y, UNIF, -1.0, 1.0, 1000000, -INFINITY, &se, &se);
    sweep(batch_eey_exp, ref_exp2y, NLOGU, 1e-300, 1021.0, 1000000, -INFINITY, &se, &se);
    check_range("emy_exp_expm1 (e^d)", "[-1021,1023]", &se, B_EXPEY, 0);
    sweep(batch_eey_expm1, ref_expm1y, GRID, -1021.0, 1023.0, 2000000, -INFINITY, &sm, &sm);
    sweep(batch_eey_expm1, ref_expm1y, UNIF, -3.0, 3.0, 2000000, -INFINITY, &sm, &sm);
    sweep(batch_eey_expm1, ref_expm1y, NLOGU, 1e-300, 1021.0, 1000000, -INFINITY, &sm, &sm);
    sweep(batch_eey_expm1, ref_expm1y, LOGU, 1e-300, 1023.0, 1000000, -INFINITY, &sm, &sm);
    check_range("emy_exp_expm1 (e^d - 1)", "[-1021,1023]", &sm, B_EXPM1EY, 0);
    const double pv[] = {-1021.0, 1023.0, 0.5, -0.5, 0.49999999999999994, -0.49999999999999994,
                         0.50000000000000011, -0.50000000000000011, 1.5, -1.5, 1e-300, -1e-300,
                         5e-324, -5e-324, 1.0, -1.0, 53.5, -53.5, 54.5, -54.5, 100.0, -100.0};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("emy_exp_expm1 (e^d - 1)", batch_eey_expm1, ref_expm1y, pv[i], B_EXPM1EY,
                    &pts);
    check_exact("emy_exp_expm1 (e^d - 1)", batch_eey_expm1, 0.0, 0.0);
    check_exact("emy_exp_expm1 (e^d - 1)", batch_eey_expm1, 1.0, 1.0);
    check_exact("emy_exp_expm1 (e^d)", batch_eey_exp, 0.0, 1.0);
    printf("emy_exp_expm1: %ld args e^d max %.3f ulp (u=%.17g); %ld args e^d-1 max %.3f ulp "
           "(u=%.17g); points max %.3f ulp\n",
           se.n, se.max_ulp, se.worst_x, sm.n, sm.max_ulp, sm.worst_x, pts.max_ulp);
}
#endif

static void test_log(void)
{
    stats_t sn, ss, pts;
    stats_init(&sn);
    stats_init(&ss);
    stats_init(&pts);
    batch_fn f = batch_log;
    const double lo1 = 1.0 - 1e-3, hi1 = 1.0 + 1e-3;
    sweep(f, ref_log, LOGU, DBL_MIN, DBL_MAX, 3000000, DBL_MIN, &ss, &sn);
    sweep(f, ref_log, LOGU, 1e-300, 1e300, 2000000, DBL_MIN, &ss, &sn);
    sweep(f, ref_log, GRID, 0.5, 2.0, 2000000, DBL_MIN, &ss, &sn);
    sweep(f, ref_log, UNIF, lo1, hi1, 1000000, DBL_MIN, &ss, &sn);
    sweep(f, ref_log, UNIF, 1.0 - 0x1p-20, 1.0 + 0x1p-20, 1000000, DBL_MIN,
          &ss, &sn);
    sweep(f, ref_log, UNIF, 0.7, 1.42, 1000000, DBL_MIN, &ss, &sn);
    sweep(f, ref_log, LOGU, 0x1p-1074, DBL_MIN, 500000, DBL_MIN, &ss, &sn);
    check_range("em_log", "[DBL_MIN,DBL_MAX]", &sn, B_LOG, 0);
    check_range("em_log", "subnormal inputs", &ss, B_LOG, 0);
    const double pv[] = {1.0, nextafter(1.0, 2.0), nextafter(1.0, 0.0),
                         1.0 + 0x1p-30, 1.0 - 0x1p-30, 0.70710678118654752,
                         1.4142135623730951, 2.0, 0.5, DBL_MIN, DBL_MAX,
                         0x1p-1074, 1e-300, 1e300, 2.718281828459045, 10.0};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("em_log", f, ref_log, pv[i], B_LOG, &pts);
    check_exact("em_log", f, 1.0, 0.0);
    check_exact("em_log", f, 0.0, -INFINITY);
    check_exact("em_log", f, -0.0, -INFINITY);
    check_exact("em_log", f, -1.0, NAN);
    check_exact("em_log", f, -DBL_MIN, NAN);
    check_exact("em_log", f, -INFINITY, NAN);
    check_exact("em_log", f, INFINITY, INFINITY);
    check_exact("em_log", f, NAN, NAN);
    printf("em_log:      %ld args; [DBL_MIN,DBL_MAX] max %.3f ulp (x=%.17g); "
           "subnormal inputs max %.3f ulp; points max %.3f ulp\n",
           sn.n + ss.n, sn.max_ulp, sn.worst_x, ss.max_ulp, pts.max_ulp);
}

static void test_expm1(void)
{
    stats_t s, pts;
    stats_init(&s);
    stats_init(&pts);
    batch_fn f = batch_expm1;
    sweep(f, ref_expm1, UNIF, -1.0, 1.0, 3000000, -INFINITY, &s, &s);
    sweep(f, ref_expm1, LOGU, 1e-300, 40.0, 2000000, -INFINITY, &s, &s);
    sweep(f, ref_expm1, NLOGU, 1e-300, 40.0, 2000000, -INFINITY, &s, &s);
    sweep(f, ref_expm1, GRID, -50.0, 0.0, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_expm1, UNIF, 0.0, 709.78, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_expm1, GRID, -0.4, 0.4, 1000000, -INFINITY, &s, &s);
    check_range("em_expm1", "[-50,709.78]", &s, B_EXPM1, 0);
    const double pv[] = {1e-300, -1e-300, 0x1p-1074, -0x1p-1074, 1e-10,
                         -1e-10, 0.34657359027997264, -0.34657359027997264,
                         0.69314718055994531, -0.69314718055994531, 1.0,
                         -1.0, 709.78, 709.782712893, -745.0, -708.4, 45.0,
                         -45.0, -37.0};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("em_expm1", f, ref_expm1, pv[i], B_EXPM1, &pts);
    check_exact("em_expm1", f, 0.0, 0.0);
    check_exact("em_expm1", f, -0.0, -0.0);
    check_exact("em_expm1", f, 709.8, INFINITY);
    check_exact("em_expm1", f, DBL_MAX, INFINITY);
    check_exact("em_expm1", f, INFINITY, INFINITY);
    check_exact("em_expm1", f, -DBL_MAX, -1.0);
    check_exact("em_expm1", f, -INFINITY, -1.0);
    check_exact("em_expm1", f, NAN, NAN);
    printf("em_expm1:    %ld args; [-50,709.78] max %.3f ulp (x=%.17g); "
           "points max %.3f ulp\n",
           s.n, s.max_ulp, s.worst_x, pts.max_ulp);
}

static void test_log1p(void)
{
    stats_t s, pts;
    stats_init(&s);
    stats_init(&pts);
    batch_fn f = batch_log1p;
    sweep(f, ref_log1p, LOGU, 1e-300, 1e300, 3000000, -INFINITY, &s, &s);
    sweep(f, ref_log1p, NLOGU, 1e-300, 0.999999, 3000000, -INFINITY, &s, &s);
    sweep(f, ref_log1p, UNIF, -0.5, 1.0, 2000000, -INFINITY, &s, &s);
    sweep(f, ref_log1p, UNIF, -1.0, -0.5, 1000000, -INFINITY, &s, &s);
    sweep(f, ref_log1p, UNIF, 0.9, 3.0, 1000000, -INFINITY, &s, &s);
    check_range("em_log1p", "(-1,1e300]", &s, B_LOG1P, 0);
    const double pv[] = {1e-300, -1e-300, 0x1p-1074, 1e-17, -1e-17, 1.0,
                         nextafter(1.0, 2.0), -0.5, 1e300, DBL_MAX,
                         nextafter(-1.0, 0.0)};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("em_log1p", f, ref_log1p, pv[i], B_LOG1P, &pts);
    check_exact("em_log1p", f, 0.0, 0.0);
    check_exact("em_log1p", f, -0.0, -0.0);
    check_exact("em_log1p", f, -1.0, -INFINITY);
    check_exact("em_log1p", f, -2.0, NAN);
    check_exact("em_log1p", f, INFINITY, INFINITY);
    check_exact("em_log1p", f, NAN, NAN);
    printf("em_log1p:    %ld args; (-1,1e300] max %.3f ulp (x=%.17g); "
           "points max %.3f ulp\n",
           s.n, s.max_ulp, s.worst_x, pts.max_ulp);
}

static void test_log1mexp(void)
{
    stats_t sn, ss, pts;
    stats_init(&sn);
    stats_init(&ss);
    stats_init(&pts);
    batch_fn f = batch_log1mexp;
    /* split at 708.39: results beyond are subnormal -e^{-u} */
    stats_t *lo = &sn, *hi = &ss;
    const double SPL = 708.39;
    sweep(f, ref_log1mexp, LOGU, 1e-300, 745.0, 4000000, SPL, lo, hi);
    sweep(f, ref_log1mexp, UNIF, 0.0, 2.0, 2000000, SPL, lo, hi);
    sweep(f, ref_log1mexp, UNIF, 0.0, 40.0, 2000000, SPL, lo, hi);
    sweep(f, ref_log1mexp, GRID, 0.68314718055994531, 0.70314718055994531,
          1000000, SPL, lo, hi);
    sweep(f, ref_log1mexp, UNIF, 40.0, 745.0, 1000000, SPL, lo, hi);
    check_range("em_log1mexp", "[1e-300,708.39]", &sn, B_LOG1MEXP, 0);
    check_range("em_log1mexp", "(708.39,745] subnormal", &ss, B_EXP_SUB,
                ABS_SUB);
    const double pv[] = {1e-300, 0x1p-1074, 1e-10, 0.69314718055994531,
                         nextafter(0.69314718055994531, 1.0),
                         nextafter(0.69314718055994531, 0.0), 1.0, 36.0,
                         37.0, 708.39, 708.4, 745.0};
    for (size_t i = 0; i < sizeof pv / sizeof pv[0]; i++)
        check_point("em_log1mexp", f, ref_log1mexp, pv[i],
                    pv[i] > SPL ? B_EXP_SUB : B_LOG1MEXP, &pts);
    check_exact("em_log1mexp", f, 0.0, -INFINITY);
    check_exact("em_log1mexp", f, -0.0, -INFINITY);
    check_exact("em_log1mexp", f, -1.0, NAN);
    check_exact("em_log1mexp", f, 800.0, 0.0);
    check_exact("em_log1mexp", f, INFINITY, 0.0);
    check_exact("em_log1mexp", f, NAN, NAN);
    printf("em_log1mexp: %ld args; [1e-300,708.39] max %.3f ulp (u=%.17g); "
           "subnormal results max %.3f ulp, abs %.3g; points max %.3f ulp\n",
           sn.n + ss.n, sn.max_ulp, sn.worst_x, ss.max_ulp, ss.max_abs,
           pts.max_ulp);
}

/* ---------------- benchmark ---------------- */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double best_of_5(batch_fn fn, const double *x, double *y, long n)
{
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        fn(x, y, n);
        double t = now() - t0;
        best = t < best ? t : best;
    }
    return best;
}

static void bench(void)
{
    const long n = 10000000;
    double *x = malloc((size_t)n * sizeof *x);
    double *y = malloc((size_t)n * sizeof *y);
    if (!x || !y) {
        printf("bench: out of memory\n");
        exit(2);
    }
    struct {
        const char *name;
        batch_fn em, lm;
        int dom;
    } b[] = {{"exp   [-745,0]", batch_exp, batch_libm_exp, 0},
             {"exp   [-700,0] (no subn.)", batch_exp, batch_libm_exp, 4},
             {"log   logu[1e-300,1e300]", batch_log, batch_libm_log, 1},
             {"expm1 [-2,2]", batch_expm1, batch_libm_expm1, 2},
             {"log1mexp logu[1e-3,700]", batch_log1mexp, batch_libm_log1mexp,
              3}};
    for (size_t k = 0; k < sizeof b / sizeof b[0]; k++) {
        for (long i = 0; i < n; i++) {
            double u = rng_unit();
            switch (b[k].dom) {
            case 0: x[i] = -745.0 * u; break;
            case 1: x[i] = exp(log(1e-300) + u * (log(1e300) - log(1e-300))); break;
            case 2: x[i] = -2.0 + 4.0 * u; break;
            case 4: x[i] = -700.0 * u; break;
            default: x[i] = exp(log(1e-3) + u * (log(700.0) - log(1e-3))); break;
            }
        }
        double te = best_of_5(b[k].em, x, y, n);
        double sum = 0;
        for (long i = 0; i < n; i += 1000)
            sum += y[i];
        double tl = best_of_5(b[k].lm, x, y, n);
        for (long i = 0; i < n; i += 1000)
            sum += y[i];
        printf("bench %-26s em %7.2f ns/val  libm %7.2f ns/val  speedup %5.2fx"
               "  (chk %.3g)\n",
               b[k].name, 1e9 * te / n, 1e9 * tl / n, tl / te, sum);
    }
    free(x);
    free(y);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        bench();
        return 0;
    }
    test_exp();
    test_exp_k();
#ifdef HAVE_EMZ
    test_exp8();
    test_exp_expm1_8();
#endif
#ifdef HAVE_EMY
    test_exp2y();
    test_exp_expm1y();
#endif
    test_log();
    test_expm1();
    test_log1p();
    test_log1mexp();
    printf("%ld passed, %ld failed\n", n_pass, n_fail);
    return n_fail != 0;
}
