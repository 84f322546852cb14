/* em_dispatch_avx512.c -- the hot-loop kernels (exact, interval, truncation) compiled for AVX-512 (F, DQ, VL) + AVX2 + FMA, 512-bit vectors.
 * The target pragma precedes every include, so the inline math of
 * em_vmath.h is compiled (and vectorized) for this ISA too. */
#include "em_dispatch.h"
#if EM_X86_DISPATCH
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512")
#endif
#include "em_internal.h"
#define EMK(name) name##_avx512c
#include "em_kernel_exact.h"
#include "em_kernel_exact_avx512.h"
#include "em_kernel_trunc.h"
#include "em_kernel_trunc_avx512.h"
#include "em_kernel_interval.h"
#include "em_kernel_interval_avx512.h"
#undef EMK
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#else
typedef int em_dispatch_avx512_unused; /* ISO C: no empty translation unit */
#endif
