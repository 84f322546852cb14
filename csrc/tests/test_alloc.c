/* test_alloc.c -- allocation failure in the C core returns EM_ERR_NOMEM,
 * never a crash, and leaks nothing (run under ASan/LSan by .ci/sanitizers.sh).
 *
 * Build (from the repository root):
 *   cc -O1 -g -std=c11 -DEM_TEST_MALLOC_HOOK -Icsrc csrc/pass.c csrc/fit.c \
 *      csrc/tests/test_alloc.c -lm -o /tmp/ta && /tmp/ta
 * The core allocates through EM_MALLOC (csrc/em_internal.h); with
 * EM_TEST_MALLOC_HOOK defined, it calls em_test_malloc below, which fails the
 * allocation number `fail_at` (1-based) and every one after it when
 * `fail_all` is set.  The last line printed is "N passed, M failed".
 */
#include "expmix.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "em_check.h"

static long n_calls = 0, fail_at = 0;
static int fail_all = 0;

void *em_test_malloc(size_t n)
{
    long c;
#ifdef _OPENMP
#pragma omp critical(em_test_malloc)
#endif
    c = ++n_calls;
    if (fail_at > 0 && (c == fail_at || (fail_all && c > fail_at))) return NULL;
    return malloc(n);
}

static void arm(long at, int all) { n_calls = 0; fail_at = at; fail_all = all; }

#define N 10000
static double xs[N], cs[N / 10];

int main(void)
{
    em_data d;
    em_options o;
    em_result r;
    em_stats st;
    double R[2], X[2];
    double w0[2] = {0.5, 0.5}, mu0[2] = {2.0, 0.3};
    for (int i = 0; i < N; i++) xs[i] = (double)(i % 97) / 13.0 + 0.01;
    for (int i = 0; i < N / 10; i++) cs[i] = (double)(i % 7) + 0.5;
    memset(&d, 0, sizeof d);
    d.n_exact = N;
    d.exact = xs;
    d.n_right = N / 10;
    d.right = cs;
    st.resp = R;
    st.resp_x = X;

    /* em_pass: a failure at each of its allocations */
    for (long at = 1; at <= 2; at++) {
        arm(at, 0);
        int s = em_pass(&d, 2, w0, mu0, 2, &st);
        CHECK(s == EM_ERR_NOMEM, "em_pass with allocation %ld failing: status %d", at, s);
    }
    arm(0, 0);
    CHECK(em_pass(&d, 2, w0, mu0, 2, &st) == EM_OK, "em_pass without failure");
    CHECK(n_calls == 2, "em_pass makes %ld allocations (expected 2)", n_calls);

    /* em_fit: a workspace or Anderson-history allocation fails; w, mu
     * untouched, status NOMEM */
    em_options_default(&o);
    o.max_iter = 50;
    for (long at = 1; at <= 3; at++) {
        double w[2] = {0.5, 0.5}, mu[2] = {2.0, 0.3};
        arm(at, 1);
        memset(&r, 0, sizeof r);
        int s = em_fit(&d, 2, w, mu, &o, &r);
        CHECK(s == EM_ERR_NOMEM && r.status == EM_ERR_NOMEM,
              "em_fit with allocation %ld failing: status %d", at, s);
        CHECK(w[0] == 0.5 && mu[0] == 2.0 && mu[1] == 0.3, "em_fit changed the start on failure");
    }
    {
        double w[2] = {0.5, 0.5}, mu[2] = {2.0, 0.3};
        arm(0, 0);
        int s = em_fit(&d, 2, w, mu, &o, &r);
        CHECK(s >= 0, "em_fit without failure: status %d", s);
    }

    /* em_fit_batch: every fit of the batch fails cleanly (one and two threads) */
    for (int nt = 1; nt <= 2; nt++) {
        em_data dd[4];
        em_result rr[4];
        double w[8], mu[8];
        for (int i = 0; i < 4; i++) {
            dd[i] = d;
            w[2 * i] = w[2 * i + 1] = 0.5;
            mu[2 * i] = 2.0;
            mu[2 * i + 1] = 0.3;
        }
        memset(rr, 0, sizeof rr);
        arm(4, 1);   /* allocations 4, 5, ... fail (a fit makes three: the
                      * pass workspace's two and the Anderson history) */
        int s = em_fit_batch(4, dd, 2, w, mu, &o, 1, rr, nt);
        int n_nomem = 0, n_ok = 0;
        for (int i = 0; i < 4; i++) {
            n_nomem += rr[i].status == EM_ERR_NOMEM;
            n_ok += rr[i].status >= 0;
        }
        /* one thread: the first fit gets allocations 1-3, the others fail;
         * two threads may split allocations 1-3 between two fits */
        CHECK(s == EM_OK && n_nomem + n_ok == 4 && (nt == 1 ? n_nomem == 3 : n_nomem >= 3),
              "em_fit_batch (%d threads): %d NOMEM, %d ok", nt, n_nomem, n_ok);
    }
    arm(0, 0);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
