/* bench_kinds_c.c -- one fused pass per observation kind in C, relative to
 * exact data (no Python), N = 1e6 (or argv[2]), K = 3 (or argv[3], 1..8:
 * rates geometric from 10 to 0.1, equal weights), one thread, best of R
 * interleaved rounds (argv[1], default 15), on the best CPU path (or
 * EXPMIX_CPU=...).  The pass is em_pass_ws with a workspace made once, as
 * em_fit runs it each iteration (em_pass would also validate the data each
 * call: one to three extra reads of the arrays).  Each kind is
 * timed with the fast kernels and with the general tile kernel
 * (em_kinds_force_general), in the same rounds.  Build and run from the
 * repository root:
 *   cc -O3 -std=gnu11 -fno-math-errno -fno-trapping-math -fopenmp -Icsrc \
 *      csrc/pass.c csrc/fit.c csrc/em_dispatch*.c benchmarks/bench_kinds_c.c \
 *      -lm -o /tmp/bk && /tmp/bk [rounds] [N] [K]
 * A shared machine is noisy: only ratios measured in the same run mean
 * anything. */
#include "expmix.h"
#include "em_internal.h"
#include "em_dispatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);   /* CPU time of this thread: less noise from other processes */
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

enum { NK = 10 };
static const char *names[NK] = {
    "exact", "exact, weighted", "right-censored", "interval (rounded to 0.05)",
    "interval, weighted", "interval, random widths", "interval, left-censored [0,u)",
    "truncation pairs", "truncation pairs, weighted", "exact + per-obs. entry"};

int main(int argc, char **argv)
{
    int64_t N = argc > 2 ? atoll(argv[2]) : 1000000;
    int K = argc > 3 ? atoi(argv[3]) : 3, rounds = argc > 1 ? atoi(argv[1]) : 15;
    double *x = malloc(N * 8), *lo = malloc(N * 8), *hi = malloc(N * 8), *hr = malloc(N * 8);
    double *t = malloc(N * 8), *v = malloc(N * 8), *z = calloc(N, 8), *xt = malloc(N * 8);
    if (K < 1 || K > 8) return 2;
    srand(1);
    for (int64_t i = 0; i < N; i++) {
        double u = (rand() + 1.0) / (RAND_MAX + 2.0);
        x[i] = -log(u) * (i % 3 == 0 ? 0.1 : i % 3 == 1 ? 1 : 10);
        lo[i] = floor(x[i] * 20) / 20;
        hi[i] = lo[i] + 0.05;
        hr[i] = lo[i] + 0.05 * (0.5 + rand() / (double)RAND_MAX);
        t[i] = 0.05 * (rand() / (double)RAND_MAX);
        v[i] = 0.5 + 1.5 * (rand() / (double)RAND_MAX);
        xt[i] = x[i] + t[i];
    }
    double w[8], mu[8], R[8], X[8], L, W;
    for (int k = 0; k < K; k++) {
        w[k] = 1.0 / K;
        mu[k] = K == 1 ? 1.0 : 10.0 * pow(0.01, k / (K - 1.0));
    }
    em_par par;
    em_workspace ws[NK];
    em_par_set(&par, K, w, mu);
    em_data d[NK] = {{0}};
    d[0].n_exact = N; d[0].exact = x;
    d[1].n_exact = N; d[1].exact = x; d[1].exact_w = v;
    d[2].n_right = N; d[2].right = x;
    d[3].n_interval = N; d[3].lower = lo; d[3].upper = hi;
    d[4].n_interval = N; d[4].lower = lo; d[4].upper = hi; d[4].interval_w = v;
    d[5].n_interval = N; d[5].lower = lo; d[5].upper = hr;
    d[6].n_interval = N; d[6].lower = z; d[6].upper = hi;
    d[7].n_trunc = N; d[7].trunc = t;
    d[8].n_trunc = N; d[8].trunc = t; d[8].trunc_w = v;
    d[9].n_exact = N; d[9].exact = xt; d[9].n_trunc = N; d[9].trunc = t;
    for (int k = 0; k < NK; k++)
        if (em_data_check(&d[k]) != EM_OK || em_workspace_init(&ws[k], &d[k], K, 1) != EM_OK)
            return 1;
    double best[2][NK];
    for (int g = 0; g < 2; g++)
        for (int k = 0; k < NK; k++) best[g][k] = 1e9;
    for (int r = 0; r < rounds; r++)
        for (int g = 0; g < 2; g++) {
            em_kinds_force_general(g);
            for (int k = 0; k < NK; k++) {
                double t0 = now();
                em_pass_ws(&d[k], &par, &ws[k], &L, &W, R, X);
                double dt = now() - t0;
                if (dt < best[g][k]) best[g][k] = dt;
            }
        }
    printf("one fused pass, N = %lld, K = %d, 1 thread, path %s, best of %d rounds\n",
           (long long)N, K, em_cpu_path_name(em_cpu_path()), rounds);
    printf("%-30s %10s %8s %14s %8s\n", "kind", "fast ms", "x exact", "general ms", "x exact");
    for (int k = 0; k < NK; k++)
        printf("%-30s %10.3f %8.2f %14.3f %8.2f\n", names[k], 1e3 * best[0][k],
               best[0][k] / best[0][0], 1e3 * best[1][k], best[1][k] / best[0][0]);
    for (int k = 0; k < NK; k++) em_workspace_free(&ws[k]);
    free(x); free(lo); free(hi); free(hr); free(t); free(v); free(z); free(xt);
    return 0;
}
