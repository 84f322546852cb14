/* em_dispatch.h -- runtime CPU dispatch of the expmix hot loop (internal).
 *
 * The exact-data kernel (em_kernel_exact.h), and the interval and truncation
 * kernels (em_kernel_interval.h, em_kernel_trunc.h), are compiled once per code path:
 *   baseline  plain C at the build's flags (SSE2 on x86-64; any other CPU)
 *   avx2      AVX2 + FMA                       (x86-64, gcc/clang only)
 *   avx512    AVX-512 F/DQ/VL + AVX2 + FMA     (x86-64, gcc/clang only)
 * Each variant lives in its own translation unit (em_dispatch_avx2.c,
 * em_dispatch_avx512.c) that sets its ISA with a target pragma before any
 * include, so no per-file compiler flags are needed and every build system
 * (setuptools, a plain `cc *.c`) compiles the same sources.  On MSVC and on
 * non-x86 CPUs only the baseline exists (EM_X86_DISPATCH is 0).
 *
 * The path is chosen per pass from the CPU (gcc/clang __builtin_cpu_supports,
 * which also checks that the OS saves the wide registers), lowered by the
 * environment variable EXPMIX_CPU=baseline|avx2|avx512 (read at each pass;
 * a path the CPU lacks falls back to the best one below it) or by
 * em_cpu_force (which takes precedence over the environment).  Results of different paths may differ in the last bits (FMA
 * contraction, vector width); on one path they are bitwise identical for
 * every thread count.
 */
#ifndef EM_DISPATCH_H
#define EM_DISPATCH_H

#include <stdint.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) \
    && !defined(EM_NO_DISPATCH)
#define EM_X86_DISPATCH 1
#else
#define EM_X86_DISPATCH 0
#endif

enum em_cpu_path_id { EM_CPU_AUTO = -1, EM_CPU_BASELINE = 0, EM_CPU_AVX2 = 1, EM_CPU_AVX512 = 2 };

/* Best path this CPU (and build) supports. */
int em_cpu_best(void);
/* The path passes use now (forced or best). */
int em_cpu_path(void);
/* Force a path (EM_CPU_AUTO: back to automatic).  Returns the active path, or
 * EM_ERR_ARGUMENT (-1 is AUTO, so: -100) when the path is unknown or not supported here.
 * Not thread-safe against running passes: call it before fitting. */
int em_cpu_force(int path);
/* "baseline", "avx2", "avx512" */
const char *em_cpu_path_name(int path);

struct em_par;
/* Fast exact-data kernel of the given path (see em_kernel_exact.h). */
int64_t em_exact_fast(int path, const struct em_par *p, const double *x, const double *wt,
                      int64_t n, double *acc);
int64_t em_exact_fast_base(const struct em_par *p, const double *x, const double *wt,
                           int64_t n, double *acc);
#if EM_X86_DISPATCH
int64_t em_exact_fast_avx2(const struct em_par *p, const double *x, const double *wt,
                           int64_t n, double *acc);
int64_t em_exact_fast_avx512(const struct em_par *p, const double *x, const double *wt,
                             int64_t n, double *acc);
#endif

/* Fast kernels of the other observation kinds, same dispatch (see
 * em_kernel_interval.h and em_kernel_trunc.h; right-censored blocks use the
 * exact kernel with log w_k in place of log w_k mu_k).  They return the number
 * of points consumed from the start (whole tiles of 64), or -1 when the
 * parameters are outside their range (the caller then runs the general tile
 * kernel of pass.c). */
/* Largest log of a truncation pair's missing ("ghost") statistics (see
 * pass.c, block_trunc); the fast truncation kernels take only tiles whose
 * pairs provably stay EM_TRUNC_FAST_MARGIN below it (em_kernel_trunc.h,
 * emt_tmax), the general kernel caps the others. */
#define EM_GHOST_LOG_CAP 650.0
#define EM_TRUNC_FAST_MARGIN 10.0
int64_t em_interval_fast(int path, const struct em_par *p, const double *lo, const double *hi,
                         const double *wt, int64_t n, double *acc);
int64_t em_trunc_fast(int path, const struct em_par *p, const double *t, const double *wt,
                      int64_t n, double *acc);
int64_t em_interval_fast_base(const struct em_par *p, const double *lo, const double *hi,
                              const double *wt, int64_t n, double *acc);
int64_t em_trunc_fast_base(const struct em_par *p, const double *t, const double *wt,
                           int64_t n, double *acc);
#if EM_X86_DISPATCH
int64_t em_interval_fast_avx2(const struct em_par *p, const double *lo, const double *hi,
                              const double *wt, int64_t n, double *acc);
int64_t em_trunc_fast_avx2(const struct em_par *p, const double *t, const double *wt,
                           int64_t n, double *acc);
int64_t em_interval_fast_avx512(const struct em_par *p, const double *lo, const double *hi,
                                const double *wt, int64_t n, double *acc);
int64_t em_trunc_fast_avx512(const struct em_par *p, const double *t, const double *wt,
                             int64_t n, double *acc);
#endif
/* Testing hook: on != 0 makes right-censored, interval and truncation blocks
 * run the general tile kernel of pass.c (the reference the fast kernels are
 * tested against); exact data are not affected.  Returns the previous
 * setting.  Like em_cpu_force: call it before fitting, not during. */
int em_kinds_force_general(int on);
int em_kinds_general(void);

#endif /* EM_DISPATCH_H */
