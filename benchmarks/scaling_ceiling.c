/* scaling_ceiling.c -- what OpenMP threads can give on this machine right
 * now: a pure-compute loop (a dependent multiply-add chain per index, no
 * memory traffic), split over OMP_NUM_THREADS threads with a static
 * schedule like expmix's pass.  Prints {"wall": seconds} (best of 3).
 * Used by benchmarks/bench_scaling.py; not part of the library. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 40000000L;
    double best = 1e300, sink = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        double t = omp_get_wtime(), s = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : s)
        for (long i = 0; i < n; i++) {
            double v = (double)(i & 1023) * 1e-3;
            for (int j = 0; j < 8; j++) v = v * 0.999 + 0.001;
            s += v;
        }
        t = omp_get_wtime() - t;
        sink += s;
        if (t < best) best = t;
    }
    printf("{\"wall\": %.9g, \"sink\": %.3g}\n", best, sink);
    return 0;
}
