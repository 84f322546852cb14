/* test_many.c -- em_fit_many and em_scan_many (csrc/batch.c) over pointer tables.
 *
 * Build and run (from the repository root):
 *   cc -O2 -std=c11 -fopenmp -Icsrc csrc/pass.c csrc/fit.c csrc/em_dispatch*.c csrc/init.c \
 *      csrc/batch.c csrc/tests/test_many.c -lm -o /tmp/tm && /tmp/tm
 * Checks: the per-data-set counts of em_scan_many against a direct count (NaN,
 * +-inf, negative values and weights, zeros, empty sets) for 1..4 threads;
 * every problem of em_fit_many equal, bit for bit, to em_fit of the same data
 * set from the same start (unit weights from a NULL table and from NULL
 * entries alike), for 1..4 threads; the quantile start (NaN first weight) equal
 * to em_init_quantile + em_fit; argument errors.
 * The last line printed is "N passed, M failed"; the exit code is 0 only if M == 0.
 */
#include "em_batch.h"
#include "em_init.h"
#include "expmix.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_TEST_SEED 0x2545F4914F6CDD1DULL
#include "em_check.h"

enum { NSETS = 61, MAXN = 700 };

static double vals[NSETS][MAXN], wts[NSETS][MAXN];
static int64_t lens[NSETS];

static int good(double v) { return v >= 0.0 && v <= 1.7976931348623157e308; }

static void test_scan(void)
{
    const double special[] = {NAN, INFINITY, -INFINITY, -1.0, -0.0, 0.0, 5e-324, 1e308};
    const double *vp[NSETS], *wp[NSETS];
    for (int j = 0; j < NSETS; j++) {
        lens[j] = (int64_t)(urand() * 90.0);          /* 0 .. 89 */
        for (int64_t i = 0; i < lens[j]; i++) {
            vals[j][i] = -log(urand());
            wts[j][i] = urand();
            if (urand() < 0.05) vals[j][i] = special[(int)(urand() * 8.0)];
            if (urand() < 0.05) wts[j][i] = special[(int)(urand() * 8.0)];
        }
        vp[j] = lens[j] ? vals[j] : NULL;
        wp[j] = (j % 5 == 0 || !lens[j]) ? NULL : wts[j];   /* some unit-weight sets */
    }
    for (int weighted = 0; weighted < 2; weighted++) {
        for (int nt = 1; nt <= 4; nt++) {
            int64_t nb[NSETS], ni[NSETS], nw[NSETS];
            memset(nb, 0xff, sizeof nb);
            CHECK(em_scan_many(NSETS, vp, weighted ? wp : NULL, lens, nt, nb, ni, nw) == EM_OK,
                  "scan ok");
            for (int j = 0; j < NSETS; j++) {
                const double *w = weighted ? wp[j] : NULL;
                int64_t eb = 0, ei = 0, ew = 0;
                for (int64_t i = 0; i < lens[j]; i++) {
                    const double v = vals[j][i], u = w ? w[i] : 1.0;
                    eb += !good(v) + !good(u);
                    ei += v > 0.0 && u > 0.0;
                    ew += u > 0.0;
                }
                CHECK(nb[j] == eb && ni[j] == ei && nw[j] == ew,
                      "scan set %d (weighted %d, %d threads): %lld %lld %lld vs %lld %lld %lld", j,
                      weighted, nt, (long long)nb[j], (long long)ni[j], (long long)nw[j],
                      (long long)eb, (long long)ei, (long long)ew);
            }
        }
    }
    {
        int64_t nb[2], ni[2], nw[2], bad_len[2] = {3, -1};
        const double *vp2[2] = {vals[1], vals[2]};
        const double *vnull[2] = {NULL, vals[2]};
        int64_t l3[2] = {3, 3};
        CHECK(em_scan_many(2, vp2, NULL, bad_len, 1, nb, ni, nw) == EM_ERR_ARGUMENT, "negative length");
        CHECK(em_scan_many(2, vnull, NULL, l3, 1, nb, ni, nw) == EM_ERR_ARGUMENT, "NULL values");
        CHECK(em_scan_many(2, vp2, NULL, l3, 0, nb, ni, nw) == EM_ERR_ARGUMENT, "0 threads");
        CHECK(em_scan_many(0, NULL, NULL, NULL, 1, NULL, NULL, NULL) == EM_OK, "no sets");
    }
}

static void test_fit(void)
{
    enum { S = 23, K = 2 };
    const double *vp[S], *wp[S];
    static double xs[S][MAXN], ws[S][MAXN];
    int64_t ln[S];
    for (int j = 0; j < S; j++) {
        ln[j] = 40 + (int64_t)(urand() * 600.0);
        for (int64_t i = 0; i < ln[j]; i++) {
            xs[j][i] = -log(urand()) / (urand() < 0.35 ? 8.0 : 0.5);
            ws[j][i] = 0.25 + 2.0 * urand();
        }
        vp[j] = xs[j];
        wp[j] = (j % 3 == 0) ? NULL : ws[j];
    }
    /* problems: every set twice, once from a given start, once from the quantile start */
    enum { P = 2 * S };
    int64_t di[P];
    int nc[P];
    em_options o;
    em_options_default(&o);
    for (int weighted = 0; weighted < 2; weighted++) {
        double w0[P * K], mu0[P * K];
        em_result r1[P];
        for (int nt = 1; nt <= 4; nt++) {
            double w[P * K], mu[P * K];
            em_result r[P];
            for (int p = 0; p < P; p++) {
                di[p] = p % S;
                nc[p] = K;
                w[K * p] = p < S ? 0.5 : NAN;
                w[K * p + 1] = 0.5;
                mu[K * p] = 4.0;
                mu[K * p + 1] = 0.3;
            }
            memset(r, 0, sizeof r);
            CHECK(em_fit_many(S, vp, weighted ? wp : NULL, ln, P, di, nc, K, w, mu, &o, r, nt) ==
                      EM_OK, "fit_many ok");
            if (nt == 1) {
                memcpy(w0, w, sizeof w);
                memcpy(mu0, mu, sizeof mu);
                memcpy(r1, r, sizeof r);
                for (int p = 0; p < P; p++) {
                    const int j = (int)di[p];
                    em_data d;
                    em_result rs;
                    double ww[K] = {0.5, 0.5}, mm[K] = {4.0, 0.3};
                    memset(&d, 0, sizeof d);
                    d.n_exact = ln[j];
                    d.exact = vp[j];
                    d.exact_w = weighted ? wp[j] : NULL;
                    if (p >= S) CHECK(em_init_quantile(&d, K, ww, mm) == EM_OK, "quantile start");
                    em_options os = o;
                    os.n_threads = 1;
                    os.scale = em_data_scale(&d);
                    memset(&rs, 0, sizeof rs);
                    em_fit(&d, K, ww, mm, &os, &rs);
                    CHECK(memcmp(ww, w + K * p, sizeof ww) == 0 && memcmp(mm, mu + K * p, sizeof mm) == 0 &&
                          rs.status == r[p].status && rs.n_iter == r[p].n_iter &&
                          rs.loglik == r[p].loglik,
                          "problem %d (weighted %d) differs from a single fit", p, weighted);
                    CHECK(r[p].status == EM_CONVERGED, "problem %d status %d", p, r[p].status);
                }
            } else {
                int same = memcmp(w, w0, sizeof w) == 0 && memcmp(mu, mu0, sizeof mu) == 0;
                for (int p = 0; p < P; p++)
                    same = same && r[p].loglik == r1[p].loglik && r[p].n_iter == r1[p].n_iter;
                CHECK(same, "fit_many with %d threads differs from 1 thread (weighted %d)", nt,
                      weighted);
            }
        }
    }
    {   /* a NULL weight entry is unit weights: the same as a table of ones */
        static double ones[MAXN];
        for (int i = 0; i < MAXN; i++) ones[i] = 1.0;
        const double *wn[1] = {NULL}, *w1[1] = {ones};
        double wa[K] = {0.5, 0.5}, ma[K] = {4.0, 0.3}, wb[K] = {0.5, 0.5}, mb[K] = {4.0, 0.3};
        em_result ra, rb;
        int64_t d0 = 0;
        int k2 = K;
        memset(&ra, 0, sizeof ra);
        memset(&rb, 0, sizeof rb);
        CHECK(em_fit_many(1, vp, wn, ln, 1, &d0, &k2, K, wa, ma, &o, &ra, 1) == EM_OK, "NULL entry");
        CHECK(em_fit_many(1, vp, w1, ln, 1, &d0, &k2, K, wb, mb, &o, &rb, 1) == EM_OK, "ones");
        CHECK(fabs(ma[0] - mb[0]) <= 1e-9 * mb[0] && fabs(ma[1] - mb[1]) <= 1e-9 * mb[1] &&
              fabs(ra.loglik - rb.loglik) <= 1e-12 * fabs(rb.loglik),
              "NULL weight entry vs unit weights: %.17g %.17g vs %.17g %.17g", ma[0], ma[1], mb[0],
              mb[1]);
    }
    {   /* argument errors */
        double w[K] = {0.5, 0.5}, mu[K] = {4.0, 0.3};
        em_result r;
        int64_t d_bad = S, d0 = 0, neg[1] = {-1};
        int k2 = K, k9 = K + 1;
        CHECK(em_fit_many(S, vp, NULL, ln, 1, &d_bad, &k2, K, w, mu, &o, &r, 1) == EM_ERR_ARGUMENT,
              "data index out of range");
        CHECK(em_fit_many(S, vp, NULL, ln, 1, &d0, &k9, K, w, mu, &o, &r, 1) == EM_ERR_ARGUMENT,
              "n_comp > stride");
        CHECK(em_fit_many(1, vp, NULL, neg, 1, &d0, &k2, K, w, mu, &o, &r, 1) == EM_ERR_ARGUMENT,
              "negative length");
        CHECK(em_fit_many(S, NULL, NULL, ln, 1, &d0, &k2, K, w, mu, &o, &r, 1) == EM_ERR_ARGUMENT,
              "NULL values table");
        CHECK(em_fit_many(S, vp, NULL, ln, 0, NULL, NULL, K, w, mu, &o, NULL, 1) == EM_OK,
              "no problems");
    }
}

int main(void)
{
    test_scan();
    test_fit();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
