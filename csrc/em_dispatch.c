/* em_dispatch.c -- baseline kernel and the choice of the CPU code path. */
#include "em_internal.h"
#include "em_dispatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EMK(name) name##_base
#include "em_kernel_exact.h"
#include "em_kernel_interval.h"
#include "em_kernel_trunc.h"

/* Written only by em_cpu_force (before fitting); read by passes. */
static int em_cpu_forced = EM_CPU_AUTO;

int em_cpu_best(void)
{
#if EM_X86_DISPATCH
    /* reads the feature bits that libgcc / compiler-rt fill in a load-time
     * constructor (no cpuid here: cpuid traps to the hypervisor in VMs);
     * __builtin_cpu_init is only needed before constructors run. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return EM_CPU_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return EM_CPU_AVX2;
#endif
    return EM_CPU_BASELINE;
}

/* EXPMIX_CPU=baseline|avx2|avx512 (unset/"auto": the best); a path the CPU
 * lacks falls back to the best one below it. */
static int em_cpu_env(int best)
{
    const char *e = getenv("EXPMIX_CPU");
    int want = best;
    if (!e || !*e) return best;
    if (strcmp(e, "baseline") == 0) want = EM_CPU_BASELINE;
    else if (strcmp(e, "avx2") == 0) want = EM_CPU_AVX2;
    else if (strcmp(e, "avx512") == 0) want = EM_CPU_AVX512;
    return want < best ? want : best;
}

int em_cpu_path(void)
{
    int best = em_cpu_best();
    if (em_cpu_forced != EM_CPU_AUTO) return em_cpu_forced < best ? em_cpu_forced : best;
    return em_cpu_env(best);
}

int em_cpu_force(int path)
{
    if (path == EM_CPU_AUTO || (path >= EM_CPU_BASELINE && path <= em_cpu_best())) {
        em_cpu_forced = path;
        return em_cpu_path();
    }
    return -100;
}

const char *em_cpu_path_name(int path)
{
    switch (path) {
    case EM_CPU_AVX512: return "avx512";
    case EM_CPU_AVX2: return "avx2";
    case EM_CPU_BASELINE: return "baseline";
    default: return "unknown";
    }
}

int64_t em_exact_fast(int path, const struct em_par *p, const double *x, const double *wt,
                      int64_t n, double *acc)
{
#if EM_X86_DISPATCH
    switch (path) {
    case EM_CPU_AVX512: return em_exact_fast_avx512(p, x, wt, n, acc);
    case EM_CPU_AVX2: return em_exact_fast_avx2(p, x, wt, n, acc);
    default: break;
    }
#endif
    return em_exact_fast_base(p, x, wt, n, acc);
}

/* ---- the other observation kinds (em_kernel_interval.h, em_kernel_trunc.h) ---- */

/* Written only by em_kinds_force_general (tests, before fitting). */
static int em_kinds_forced_general = 0;

int em_kinds_force_general(int on)
{
    int old = em_kinds_forced_general;
    em_kinds_forced_general = on != 0;
    return old;
}

int em_kinds_general(void)
{
    return em_kinds_forced_general;
}

int64_t em_interval_fast(int path, const struct em_par *p, const double *lo, const double *hi,
                         const double *wt, int64_t n, double *acc)
{
#if EM_X86_DISPATCH
    switch (path) {
    case EM_CPU_AVX512: return em_interval_fast_avx512(p, lo, hi, wt, n, acc);
    case EM_CPU_AVX2: return em_interval_fast_avx2(p, lo, hi, wt, n, acc);
    default: break;
    }
#endif
    return em_interval_fast_base(p, lo, hi, wt, n, acc);
}

int64_t em_trunc_fast(int path, const struct em_par *p, const double *t, const double *wt,
                      int64_t n, double *acc)
{
#if EM_X86_DISPATCH
    switch (path) {
    case EM_CPU_AVX512: return em_trunc_fast_avx512(p, t, wt, n, acc);
    case EM_CPU_AVX2: return em_trunc_fast_avx2(p, t, wt, n, acc);
    default: break;
    }
#endif
    return em_trunc_fast_base(p, t, wt, n, acc);
}
