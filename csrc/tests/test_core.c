/* test_core.c -- tests of the expmix C core against direct formulas.
 *
 * Build and run (from the repository root):
 *   cc -O2 -std=c11 -fopenmp -Icsrc csrc/pass.c csrc/fit.c csrc/em_dispatch*.c csrc/tests/test_core.c -lm -o /tmp/tc && /tmp/tc
 * Under the sanitizers:
 *   cc -O1 -g -std=c11 -fsanitize=address,undefined -fno-sanitize-recover=all \
 *      -Icsrc csrc/pass.c csrc/fit.c csrc/em_dispatch*.c csrc/tests/test_core.c -lm -o /tmp/tc_asan && /tmp/tc_asan
 * The last line printed is "N passed, M failed"; the exit code is 0 only if M == 0.
 */
#include "expmix.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_TEST_SEED 0x9E3779B97F4A7C15ULL
#include "em_check.h"

static double draw_mixture(int K, const double *w, const double *mu)
{
    double u = urand(), c = 0.0;
    int k = K - 1;
    for (int j = 0; j < K; j++) {
        c += w[j];
        if (u < c) { k = j; break; }
    }
    return -log(urand()) / mu[k];
}

static double rel(double a, double b)
{
    double d = fabs(a - b), s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return s > 0 ? d / s : d;
}

/* Direct (libm, long double) log-likelihood and statistics. */
static void direct(const em_data *d, int K, const double *w, const double *mu,
                   double *ll, double *R, double *X)
{
    long double L = 0, Rl[EM_MAX_COMPONENTS] = {0}, Xl[EM_MAX_COMPONENTS] = {0};
    for (int64_t i = 0; i < d->n_exact; i++) {
        long double p[EM_MAX_COMPONENTS], s = 0, x = d->exact[i];
        long double v = d->exact_w ? d->exact_w[i] : 1.0;
        for (int k = 0; k < K; k++) { p[k] = w[k] * mu[k] * expl(-mu[k] * x); s += p[k]; }
        L += v * logl(s);
        for (int k = 0; k < K; k++) { Rl[k] += v * p[k] / s; Xl[k] += v * p[k] / s * x; }
    }
    for (int64_t i = 0; i < d->n_right; i++) {
        long double p[EM_MAX_COMPONENTS], s = 0, c = d->right[i];
        long double v = d->right_w ? d->right_w[i] : 1.0;
        for (int k = 0; k < K; k++) { p[k] = w[k] * expl(-mu[k] * c); s += p[k]; }
        L += v * logl(s);
        for (int k = 0; k < K; k++) { Rl[k] += v * p[k] / s; Xl[k] += v * p[k] / s * (c + 1.0L / mu[k]); }
    }
    for (int64_t i = 0; i < d->n_interval; i++) {
        long double p[EM_MAX_COMPONENTS], e[EM_MAX_COMPONENTS], s = 0;
        long double a = d->lower[i], b = d->upper[i];
        long double v = d->interval_w ? d->interval_w[i] : 1.0;
        for (int k = 0; k < K; k++) {
            long double m = mu[k], dd = b - a, u = m * dd, ea = expl(-m * a);
            p[k] = w[k] * ea * -expm1l(-u);
            /* E[x | a < x < b] = a + 1/m - d/(e^u - 1), by series for small u */
            e[k] = u < 1e-3L ? a + dd * (0.5L - u / 12.0L + u * u * u / 720.0L)
                             : a + 1.0L / m - dd / expm1l(u);
            s += p[k];
        }
        L += v * logl(s);
        for (int k = 0; k < K; k++) { Rl[k] += v * p[k] / s; Xl[k] += v * p[k] / s * e[k]; }
    }
    for (int64_t j = 0; j < d->n_trunc; j++) {
        long double t = d->trunc[j], v = d->trunc_w ? d->trunc_w[j] : 1.0, S = 0;
        for (int k = 0; k < K; k++) S += w[k] * expl(-mu[k] * t);
        L -= v * logl(S);
        if (t > 0) {
            for (int k = 0; k < K; k++) {
                long double m = mu[k], et = expl(-m * t);
                long double r = v * w[k] * (1 - et) / S;
                long double e = (0 - t * et) / (1 - et) + 1.0L / m;
                Rl[k] += r;
                Xl[k] += r * e;
            }
        }
    }
    *ll = (double)L;
    for (int k = 0; k < K; k++) { R[k] = (double)Rl[k]; X[k] = (double)Xl[k]; }
}

static void test_pass_against_direct(void)
{
    enum { N = 150001 };   /* 74 blocks: up to 9 threads really run (EM_MIN_BLOCKS_PER_THREAD) */
    static double x[N], wx[N], c[N], wc[N], a[N], b[N], wi[N], t[N], wt[N];
    double w[3] = {0.5, 0.3, 0.2}, mu[3] = {5.0, 1.0, 0.1};
    double R[3], X[3], Rd[3], Xd[3], ll;
    em_stats st = {3, 0, 0, R, X};
    for (int i = 0; i < N; i++) {
        x[i] = draw_mixture(3, w, mu);
        wx[i] = 0.5 + urand();
        c[i] = draw_mixture(3, w, mu);
        wc[i] = urand() < 0.1 ? 0.0 : 1.0 + (double)(i % 3);
        a[i] = draw_mixture(3, w, mu);
        b[i] = a[i] + (i % 5 == 0 ? 1e-9 : urand() * 3.0);
        wi[i] = 1.0 + (double)(i % 7);
        t[i] = 0.01 * urand();
        wt[i] = 1.0;
    }
    a[0] = 0.0;            /* a left-censored bin */
    b[1] = a[1] + 1e-14;   /* a very narrow bin */
    {
        em_data d;
        memset(&d, 0, sizeof d);
        d.n_exact = N; d.exact = x;
        CHECK(em_pass(&d, 3, w, mu, 1, &st) == EM_OK, "pass exact");
        direct(&d, 3, w, mu, &ll, Rd, Xd);
        CHECK(rel(st.loglik, ll) < 1e-12, "exact ll %.17g vs %.17g", st.loglik, ll);
        CHECK(st.weight == N, "exact weight");
        for (int k = 0; k < 3; k++) {
            CHECK(rel(R[k], Rd[k]) < 1e-12, "exact R[%d] %.17g vs %.17g", k, R[k], Rd[k]);
            CHECK(rel(X[k], Xd[k]) < 1e-12, "exact X[%d] %.17g vs %.17g", k, X[k], Xd[k]);
        }
    }
    {
        em_data d;
        memset(&d, 0, sizeof d);
        d.n_exact = N; d.exact = x; d.exact_w = wx;
        d.n_right = N; d.right = c; d.right_w = wc;
        d.n_interval = N; d.lower = a; d.upper = b; d.interval_w = wi;
        d.n_trunc = N; d.trunc = t; d.trunc_w = wt;
        CHECK(em_pass(&d, 3, w, mu, 1, &st) == EM_OK, "pass mixed");
        direct(&d, 3, w, mu, &ll, Rd, Xd);
        CHECK(rel(st.loglik, ll) < 1e-11, "mixed ll %.17g vs %.17g", st.loglik, ll);
        for (int k = 0; k < 3; k++) {
            CHECK(rel(R[k], Rd[k]) < 1e-11, "mixed R[%d] %.17g vs %.17g", k, R[k], Rd[k]);
            CHECK(rel(X[k], Xd[k]) < 1e-9, "mixed X[%d] %.17g vs %.17g", k, X[k], Xd[k]);
        }
        /* thread-count independence, bitwise */
        {
            double R1[3], X1[3];
            em_stats s1 = {3, 0, 0, R1, X1};
            for (int nt = 2; nt <= 8; nt++) {
                CHECK(em_pass(&d, 3, w, mu, nt, &s1) == EM_OK, "pass nt");
                CHECK(memcmp(&s1.loglik, &st.loglik, sizeof(double)) == 0 &&
                      memcmp(R1, R, sizeof R) == 0 && memcmp(X1, X, sizeof X) == 0,
                      "pass differs with %d threads", nt);
            }
        }
    }
}

static void test_k1_closed_form(void)
{
    enum { N = 5000 };
    static double x[N], c[N];
    double w = 1.0, mu = 3.0, sx = 0, sc = 0;
    em_options o;
    em_result r;
    em_data d;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < N; i++) { x[i] = -log(urand()) / 2.0; sx += x[i]; }
    for (int i = 0; i < N; i++) { c[i] = -log(urand()); sc += c[i]; }
    memset(&d, 0, sizeof d);
    d.n_exact = N; d.exact = x;
    em_options_default(&o);
    CHECK(em_fit(&d, 1, &w, &mu, &o, &r) == EM_CONVERGED, "K=1 status %d", r.status);
    CHECK(rel(mu, N / sx) < 1e-13, "K=1 rate %.17g vs %.17g", mu, N / sx);
    /* with right censoring: rate = events / exposure */
    d.n_right = N; d.right = c;
    w = 1.0; mu = 0.1;
    em_fit(&d, 1, &w, &mu, &o, &r);
    CHECK(r.status == EM_CONVERGED, "K=1 censored status %d", r.status);
    CHECK(rel(mu, N / (sx + sc)) < 1e-9, "K=1 censored rate %.17g vs %.17g", mu, N / (sx + sc));
}

static void test_fit_monotone_and_threads(void)
{
    enum { N = 30011 };
    static double x[N];
    double wt[3] = {0.2, 0.5, 0.3}, mut[3] = {10.0, 1.0, 0.05};
    double hist[2001];
    em_options o;
    em_result r;
    em_data d;
    double w1[3], mu1[3], ll_plain = 0;
    int64_t passes_plain = 0;
    for (int i = 0; i < N; i++) x[i] = draw_mixture(3, wt, mut);
    memset(&d, 0, sizeof d);
    d.n_exact = N; d.exact = x;
    for (int accel = 0; accel <= 2 /* plain, SQUAREM, Anderson */; accel++) {
        double w[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, mu[3] = {3.0, 0.5, 0.01};
        int mono = 1;
        em_options_default(&o);
        o.max_iter = 2000;
        o.accel = accel;
        o.tol = 1e-12;
        memset(&r, 0, sizeof r);
        r.history = hist;
        em_fit(&d, 3, w, mu, &o, &r);
        CHECK(r.status == EM_CONVERGED, "fit accel=%d status %d after %lld", accel, r.status,
              (long long)r.n_iter);
        for (int64_t i = 1; i < r.n_history; i++)
            if (hist[i] < hist[i - 1] - 1e-13 * fabs(hist[i - 1])) mono = 0;
        CHECK(mono, "history decreases (accel=%d)", accel);
        CHECK(rel(mu[0], 10.0) < 0.2 && rel(mu[1], 1.0) < 0.2 && rel(mu[2], 0.05) < 0.2,
              "recovery accel=%d: %g %g %g", accel, mu[0], mu[1], mu[2]);
        if (accel == 0) {
            memcpy(w1, w, sizeof w); memcpy(mu1, mu, sizeof mu);
            ll_plain = r.loglik; passes_plain = r.n_passes;
        } else {
            /* plain EM crawls: it stops on a small change, short of the optimum */
            CHECK(r.loglik >= ll_plain - 1e-9 * N, "squarem ll %.17g < plain %.17g", r.loglik, ll_plain);
            for (int k = 0; k < 3; k++)
                CHECK(rel(mu[k], mu1[k]) < 1e-3 && rel(w[k], w1[k]) < 1e-3,
                      "squarem optimum differs: %g vs %g", mu[k], mu1[k]);
            CHECK(r.n_passes * 2 < passes_plain, "squarem passes %lld, plain %lld",
                  (long long)r.n_passes, (long long)passes_plain);
        }
        {
            double w2[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, mu2[3] = {3.0, 0.5, 0.01};
            double w3[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, mu3[3] = {3.0, 0.5, 0.01};
            em_result r2, r3;
            memset(&r2, 0, sizeof r2);
            memset(&r3, 0, sizeof r3);
            o.n_threads = 1;
            em_fit(&d, 3, w2, mu2, &o, &r2);
            o.n_threads = 3;
            em_fit(&d, 3, w3, mu3, &o, &r3);
            CHECK(memcmp(w2, w3, sizeof w2) == 0 && memcmp(mu2, mu3, sizeof mu2) == 0 &&
                  r2.n_iter == r3.n_iter, "fit differs between 1 and 3 threads");
        }
    }
}

static void test_degenerate_zero_spike(void)
{
    enum { N = 2000 };
    static double x[N];
    double w[2] = {0.5, 0.5}, mu[2] = {50.0, 1.0};
    em_options o;
    em_result r;
    em_data d;
    for (int i = 0; i < N; i++) x[i] = i % 4 == 0 ? 0.0 : -log(urand());
    memset(&d, 0, sizeof d);
    d.n_exact = N; d.exact = x;
    em_options_default(&o);
    o.scale = em_data_scale(&d);
    memset(&r, 0, sizeof r);
    em_fit(&d, 2, w, mu, &o, &r);
    CHECK(r.status == EM_DEGENERATE, "zeros: status %d (%s)", r.status, em_status_name(r.status));
    CHECK(r.degenerate_component == 0, "zeros: component %d", r.degenerate_component);
    CHECK(isfinite(mu[0]) && isfinite(mu[1]) && isfinite(r.loglik), "zeros: finite result");
}

static void test_errors(void)
{
    double x[3] = {1.0, -1.0, 2.0}, w[2] = {0.5, 0.5}, mu[2] = {1.0, 2.0};
    double R[2], X[2];
    em_stats st = {2, 0, 0, R, X};
    em_data d;
    em_options o;
    em_result r;
    memset(&d, 0, sizeof d);
    memset(&r, 0, sizeof r);
    d.n_exact = 3; d.exact = x;
    CHECK(em_pass(&d, 2, w, mu, 1, &st) == EM_ERR_DATA, "negative value");
    x[1] = NAN;
    CHECK(em_pass(&d, 2, w, mu, 1, &st) == EM_ERR_DATA, "nan value");
    x[1] = 1.0;
    CHECK(em_pass(&d, 0, w, mu, 1, &st) == EM_ERR_ARGUMENT, "K = 0");
    mu[1] = -1.0;
    CHECK(em_pass(&d, 2, w, mu, 1, &st) == EM_ERR_ARGUMENT, "negative rate");
    mu[1] = 2.0;
    d.exact = NULL;
    CHECK(em_pass(&d, 2, w, mu, 1, &st) == EM_ERR_ARGUMENT, "NULL data");
    d.exact = x;
    em_options_default(&o);
    o.tol = -1.0;
    CHECK(em_fit(&d, 2, w, mu, &o, &r) == EM_ERR_ARGUMENT, "tol < 0");
    em_options_default(&o);
    memset(&d, 0, sizeof d);
    d.n_right = 3; d.right = x;
    CHECK(em_fit(&d, 2, w, mu, &o, &r) == EM_ERR_NO_INFO, "all censored");
    CHECK(strcmp(em_status_name(EM_ERR_NO_INFO), "no information in the data") == 0, "name");
}

static void test_batch(void)
{
    enum { P = 37, N = 300 };
    static double x[P][N];
    double wt[2] = {0.4, 0.6}, mut[2] = {4.0, 0.5};
    em_data d[P];
    em_options o;
    em_result rb[P], rs;
    double wb[P * 2], mub[P * 2];
    for (int p = 0; p < P; p++) {
        for (int i = 0; i < N; i++) x[p][i] = draw_mixture(2, wt, mut);
        memset(&d[p], 0, sizeof d[p]);
        d[p].n_exact = N; d[p].exact = x[p];
        wb[2 * p] = wb[2 * p + 1] = 0.5;
        mub[2 * p] = 2.0; mub[2 * p + 1] = 0.2;
        memset(&rb[p], 0, sizeof rb[p]);
    }
    em_options_default(&o);
    CHECK(em_fit_batch(P, d, 2, wb, mub, &o, 1, rb, 2) == EM_OK, "batch");
    for (int p = 0; p < P; p++) {
        double w[2] = {0.5, 0.5}, mu[2] = {2.0, 0.2};
        memset(&rs, 0, sizeof rs);
        em_fit(&d[p], 2, w, mu, &o, &rs);
        CHECK(memcmp(w, wb + 2 * p, sizeof w) == 0 && memcmp(mu, mub + 2 * p, sizeof mu) == 0 &&
              rs.status == rb[p].status, "batch problem %d differs from a single fit", p);
    }
}

/* Interruption inside a pass: a callback that fires on its n-th call (polled
 * between blocks with interrupt_seconds = 0) stops the fit at the last fully
 * evaluated iterate; a callback that never fires changes nothing (bitwise). */
typedef struct { int calls, fire_at; } intr_count;
static int intr_cb(void *ctx)
{
    intr_count *c = (intr_count *)ctx;
    return ++c->calls >= c->fire_at;
}

static void test_interrupt_inside_pass(void)
{
    enum { N = 200000 };
    static double x[N];
    const double wt[3] = {0.5, 0.3, 0.2}, mut[3] = {10.0, 1.0, 0.1};
    em_data d;
    for (int i = 0; i < N; i++) x[i] = draw_mixture(3, wt, mut);
    memset(&d, 0, sizeof d);
    d.n_exact = N; d.exact = x;
    for (int accel = 0; accel <= 2; accel++)
        for (int nt = 1; nt <= 2; nt++) {
            double w0[3] = {0.4, 0.4, 0.2}, mu0[3] = {5.0, 0.5, 0.05};
            double w[3], mu[3], wr[3], mur[3];
            em_options o;
            em_result r, rr;
            em_stats st;
            double R[3], X[3];
            intr_count ic = {0, 1 << 30};
            int ppp;
            em_options_default(&o);
            o.accel = accel;
            o.n_threads = nt;
            o.tol = 0.0;
            o.max_iter = 6;
            o.interrupt = intr_cb;
            o.interrupt_ctx = &ic;
            o.interrupt_seconds = 0.0;
            /* never fires: same as without a callback */
            memcpy(w, w0, sizeof w); memcpy(mu, mu0, sizeof mu);
            memcpy(wr, w0, sizeof w); memcpy(mur, mu0, sizeof mu);
            memset(&r, 0, sizeof r); memset(&rr, 0, sizeof rr);
            em_fit(&d, 3, w, mu, &o, &r);
            CHECK(ic.calls > 4 * r.n_passes, "accel=%d nt=%d: %d polls in %lld passes", accel, nt,
                  ic.calls, (long long)r.n_passes);
            o.interrupt = NULL;
            em_fit(&d, 3, wr, mur, &o, &rr);
            CHECK(r.status == EM_MAX_ITER && memcmp(w, wr, sizeof w) == 0 &&
                  memcmp(mu, mur, sizeof mu) == 0 && r.loglik == rr.loglik,
                  "accel=%d nt=%d: a silent callback changed the fit", accel, nt);
            /* polls per pass (blocks of the calling thread / 16, plus the one
             * after the pass): fire at the second poll of the second pass, so
             * the fit stops at the start (the only full pass) */
            ppp = ic.calls / (int)r.n_passes;
            CHECK(ppp * (int)r.n_passes == ic.calls, "accel=%d nt=%d: %d polls, %lld passes",
                  accel, nt, ic.calls, (long long)r.n_passes);
            ic.calls = 0;
            ic.fire_at = ppp + 2;
            o.interrupt = intr_cb;
            memcpy(w, w0, sizeof w); memcpy(mu, mu0, sizeof mu);
            memset(&r, 0, sizeof r);
            em_fit(&d, 3, w, mu, &o, &r);
            st.n_components = 3; st.resp = R; st.resp_x = X;
            em_pass(&d, 3, w0, mu0, 1, &st);
            CHECK(r.status == EM_INTERRUPTED && r.n_passes == 2,
                  "accel=%d nt=%d: status %d after %lld passes", accel, nt, r.status,
                  (long long)r.n_passes);
            CHECK(r.loglik == st.loglik && rel(mu[0], mu0[0]) < 1e-15 && rel(mu[2], mu0[2]) < 1e-15,
                  "accel=%d nt=%d: not stopped at the start (ll %.17g vs %.17g)", accel, nt,
                  r.loglik, st.loglik);
            /* fires after a few passes: a sound iterate with its log-likelihood */
            ic.calls = 0;
            ic.fire_at = 3 * ppp + 2;
            o.max_iter = 1000;
            memcpy(w, w0, sizeof w); memcpy(mu, mu0, sizeof mu);
            memset(&r, 0, sizeof r);
            em_fit(&d, 3, w, mu, &o, &r);
            em_pass(&d, 3, w, mu, 1, &st);
            CHECK(r.status == EM_INTERRUPTED && r.n_passes == 4 &&
                  rel(r.loglik, st.loglik) < 1e-12,
                  "accel=%d nt=%d: status %d passes %lld ll %.17g vs %.17g", accel, nt, r.status,
                  (long long)r.n_passes, r.loglik, st.loglik);
        }
}

int main(void)
{
    test_pass_against_direct();
    test_k1_closed_form();
    test_fit_monotone_and_threads();
    test_degenerate_zero_spike();
    test_errors();
    test_batch();
    test_interrupt_inside_pass();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
