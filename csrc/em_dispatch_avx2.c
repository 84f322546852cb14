/* em_dispatch_avx2.c -- the hot-loop kernels (exact, interval, truncation) compiled for AVX2 + FMA.
 * The target pragma precedes every include, so the inline math of
 * em_vmath.h is compiled (and vectorized) for this ISA too. */
#include "em_dispatch.h"
#if EM_X86_DISPATCH
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#include "em_internal.h"
#define EMK(name) name##_avx2c
#include "em_kernel_exact.h"
#include "em_kernel_exact_avx2.h"
#undef EMK
#define EMK(name) name##_avx2c
#include "em_kernel_interval.h"
#include "em_kernel_interval_avx2.h"
#include "em_kernel_trunc.h"
#include "em_kernel_trunc_avx2.h"
#undef EMK
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#else
typedef int em_dispatch_avx2_unused; /* ISO C: no empty translation unit */
#endif
