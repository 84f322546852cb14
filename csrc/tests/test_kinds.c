/* test_kinds.c -- the fast kernels of right-censored, interval and truncation
 * blocks (csrc/em_kernel_interval.h, em_kernel_trunc.h, the exact kernel
 * reused for right-censored points) against the general tile kernel of
 * pass.c (em_kinds_force_general), on every CPU path this machine has, on
 * hostile values: tiny, huge and subnormal bin widths, bins far in the tail,
 * a = 0, t = 0, widths equal to a few ulps and just outside the equal-width
 * tolerance, zero weights, rates far apart, K = 1..8, n not a multiple of
 * the tile.  Also: the combined exp/expm1 helper against em_exp/em_expm1.
 *
 * Tolerance (stated): |fast - general| <= 1e-12 |general| + floor, with
 * floor = 1e-13 * n for the log-likelihood (a sum of n terms, each with an
 * absolute rounding error up to ~(|log w_min| + 1) eps in either kernel) and
 * 1e-250 for R_k, X_k (values below that are the e^-708 clamp residue of
 * components that carry no weight, where both kernels are "zero" in
 * different ways).  Where they differ by more, the fast kernel must be at
 * least as close as the general one to a long-double reference computed in
 * log space (this happens: at mu a ~ 1e6 the general kernel's
 * log w_k - mu_k a loses ~1e-11 relative; the fast kernel's shift by the
 * smallest rate does not).
 *
 * Build and run (from the repository root):
 *   cc -O2 -std=c11 -fopenmp -Icsrc csrc/pass.c csrc/fit.c csrc/em_dispatch*.c \
 *      csrc/tests/test_kinds.c -lm -o /tmp/tk && /tmp/tk
 * EM_TEST_QUICK=1 /tmp/tk runs a representative subset (quick parameter
 * sets K = 1, 3, 8 and the hostile ones, most data sets, 10^5 helper
 * arguments) for the sanitizer builds.
 */
#include "expmix.h"
#include "em_internal.h"
#include "em_dispatch.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_TEST_SEED 0x243F6A8885A308D3ULL
#include "em_check.h"


static int close_enough(double a, double b, double floor_)
{
    if (!(isfinite(a) && isfinite(b))) return a == b || (isnan(a) && isnan(b));
    return fabs(a - b) <= 1e-12 * fabs(b) + floor_;
}

/* g(u) = 1/u - 1/(e^u - 1) in long double (series below 1e-2) */
static long double gld(long double u)
{
    if (u < 1e-2L) {
        long double u2 = u * u;
        return 0.5L + u * (-1.0L / 12 + u2 * (1.0L / 720 + u2 * (-1.0L / 30240
               + u2 * (1.0L / 1209600 + u2 * (-1.0L / 47900160)))));
    }
    return 1.0L / u - 1.0L / expm1l(u);
}

/* An independent reference in long double, in log space (max-shifted
 * log-sum-exp per observation): used where fast and general kernels differ
 * by more than the tolerance, to decide which one is wrong. */
static void reference(const em_data *d, int K, const double *w, const double *mu,
                      long double *L, long double *R, long double *X)
{
    *L = 0;
    for (int k = 0; k < K; k++) R[k] = X[k] = 0;
    for (int kind = 0; kind < 3; kind++) {
        int64_t n = kind == 0 ? d->n_right : kind == 1 ? d->n_interval : d->n_trunc;
        for (int64_t i = 0; i < n; i++) {
            long double a[EM_MAX_COMPONENTS], e[EM_MAX_COMPONENTS], m = -INFINITY, s = 0, v;
            long double lo = kind == 0 ? d->right[i] : kind == 1 ? d->lower[i] : d->trunc[i];
            long double dd = kind == 1 ? (long double)d->upper[i] - lo : 0;
            const double *wt = kind == 0 ? d->right_w : kind == 1 ? d->interval_w : d->trunc_w;
            v = wt ? wt[i] : 1.0;
            for (int k = 0; k < K; k++) {
                a[k] = (w[k] > 0 ? logl(w[k]) : -INFINITY) - mu[k] * lo;
                if (kind == 1) a[k] += logl(-expm1l(-(long double)mu[k] * dd));
                m = a[k] > m ? a[k] : m;
            }
            for (int k = 0; k < K; k++) s += expl(a[k] - m);
            long double ls = m + logl(s);
            if (kind < 2) {
                *L += v * ls;
                for (int k = 0; k < K; k++) {
                    long double r = v * expl(a[k] - ls);
                    long double ex = kind == 0 ? lo + 1.0L / mu[k] : lo + dd * gld(mu[k] * dd);
                    R[k] += r;
                    X[k] += r * ex;
                }
            } else {
                *L -= v * ls;
                for (int k = 0; k < K; k++) {
                    long double u = mu[k] * lo;
                    if (w[k] == 0 || u == 0) continue;
                    e[k] = v * expl(logl(w[k]) - ls) * -expm1l(-u);
                    R[k] += e[k];
                    X[k] += e[k] * lo * gld(u);
                }
            }
        }
    }
}

/* fast and general agree to the tolerance, or the fast one is closer to the
 * long-double reference than the general one (then it is the general kernel
 * that loses digits, e.g. -mu a + log w at mu a ~ 1e6) */
static int agree(double f, double g, long double ref, double floor_)
{
    if (close_enough(f, g, floor_)) return 1;
    return fabsl((long double)f - ref) <= fabsl((long double)g - ref) + 1e-12L * fabsl(ref);
}

static int n_compared = 0;

/* one data set, every path, against the general kernel */
static void compare(const char *what, const em_data *d, int K, const double *w,
                    const double *mu, int n_threads)
{
    double Rg[EM_MAX_COMPONENTS], Xg[EM_MAX_COMPONENTS], Rf[EM_MAX_COMPONENTS],
        Xf[EM_MAX_COMPONENTS];
    em_stats g = {K, 0, 0, Rg, Xg}, f = {K, 0, 0, Rf, Xf};
    int best = em_cpu_best();
    long double Lr = 0, Rr[EM_MAX_COMPONENTS], Xr[EM_MAX_COMPONENTS];
    int have_ref = 0;
    /* the log-likelihood is a sum of n terms; each may carry an absolute
     * rounding error of ~(|log w_min| + 1) eps in either kernel */
    const double floorL = 1e-13 * (double)(d->n_exact + d->n_right + d->n_interval + d->n_trunc);
    for (int path = EM_CPU_BASELINE; path <= best; path++) {
        int sg, sf;
        em_cpu_force(path);
        em_kinds_force_general(1);
        sg = em_pass(d, K, w, mu, n_threads, &g);
        em_kinds_force_general(0);
        sf = em_pass(d, K, w, mu, n_threads, &f);
        CHECK(sg == sf, "%s path %s K=%d: status general %d fast %d", what,
              em_cpu_path_name(path), K, sg, sf);
        if (sg != EM_OK || sf != EM_OK) continue;
        n_compared++;
        if (!have_ref) {
            reference(d, K, w, mu, &Lr, Rr, Xr);
            have_ref = 1;
        }
        CHECK(agree(f.loglik, g.loglik, Lr, floorL),
              "%s path %s K=%d: loglik fast %.17g general %.17g ref %.17Lg", what,
              em_cpu_path_name(path), K, f.loglik, g.loglik, Lr);
        CHECK(close_enough(f.weight, g.weight, 0.0), "%s: weight %.17g vs %.17g", what,
              f.weight, g.weight);
        for (int k = 0; k < K; k++) {
            CHECK(agree(Rf[k], Rg[k], Rr[k], 1e-250),
                  "%s path %s K=%d: R[%d] fast %.17g general %.17g ref %.17Lg",
                  what, em_cpu_path_name(path), K, k, Rf[k], Rg[k], Rr[k]);
            CHECK(agree(Xf[k], Xg[k], Xr[k], 1e-250),
                  "%s path %s K=%d: X[%d] fast %.17g general %.17g ref %.17Lg",
                  what, em_cpu_path_name(path), K, k, Xf[k], Xg[k], Xr[k]);
        }
    }
    em_cpu_force(EM_CPU_AUTO);
}

/* parameter sets: K, weights, rates */
typedef struct { int K; double w[8]; double mu[8]; const char *name; int quick; } params;
static const params PARS[] = {
    {1, {1}, {0.7}, "K1", 1},
    {2, {0.3, 0.7}, {5.0, 0.2}, "K2", 0},
    {3, {0.2, 0.5, 0.3}, {10.0, 1.0, 0.1}, "K3", 1},
    {4, {0.1, 0.2, 0.3, 0.4}, {0.05, 30.0, 2.0, 0.5}, "K4", 0},
    {5, {0.2, 0.2, 0.2, 0.2, 0.2}, {1, 2, 3, 4, 5}, "K5", 0},
    {6, {0.05, 0.25, 0.1, 0.3, 0.2, 0.1}, {0.02, 0.3, 1.0, 4.0, 20.0, 80.0}, "K6", 0},
    {7, {0.1, 0.2, 1e-12, 0.2, 0.2, 0.1, 0.2 - 1e-12}, {3.0, 0.5, 0.05, 7.0, 1.0, 40.0, 0.2},
     "K7, tiny weight on the smallest rate", 0},
    {8, {0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125},
     {100.0, 0.01, 27.0, 0.036, 7.2, 0.14, 1.9, 0.52}, "K8", 1},
    {8, {0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.2, 0.1}, {2.0, 2.0, 0.5, 2.0, 9.0, 0.5, 0.1, 30.0},
     "K8, repeated rates", 0},
    {6, {0.2, 0.2, 0.0, 0.2, 0.2, 0.2}, {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, "K6, zero weight", 0},
    {3, {0.5, 0.0, 0.5}, {3.0, 1.0, 0.3}, "zero weight", 1},
    {3, {1e-30, 0.5, 0.5 - 1e-30}, {1e-3, 1.0, 1e3}, "tiny weight on the smallest rate", 1},
    {2, {0.5, 0.5}, {1e-20, 1e20}, "rates 1e40 apart (fallback)", 1},
    {3, {0.3, 0.3, 0.4}, {2.0, 2.0, 2.0}, "equal rates", 0},
    {2, {0.999999, 1e-6}, {1e-6, 1e6}, "rates 1e12 apart", 0},
};
/* EM_TEST_QUICK=1 (set by the sanitizer CI job): only the parameter sets
 * marked quick, on a subset of the data sets; the full grid otherwise. */
static int quick = 0;
#define NPARS ((int)(sizeof(PARS) / sizeof(PARS[0])))

static void for_all_params(const char *what, const em_data *d)
{
    char buf[256];
    for (int i = 0; i < NPARS; i++) {
        if (quick && !PARS[i].quick) continue;
        snprintf(buf, sizeof buf, "%s [%s]", what, PARS[i].name);
        compare(buf, d, PARS[i].K, PARS[i].w, PARS[i].mu, 1);
    }
}

static double draw(void)
{
    double u = urand();
    double scale = u < 0.3 ? 0.1 : u < 0.7 ? 1.0 : 10.0;
    return -log(urand()) * scale;
}

#define N 2500   /* a block of 2048 + 452: not a multiple of the tile (64) */

static void test_intervals(void)
{
    static double lo[N], hi[N], wt[N];
    em_data d;
    for (int weighted = 0; weighted < 2; weighted++) {
        for (int i = 0; i < N; i++) wt[i] = weighted ? (i % 7 == 0 ? 0.0 : 0.5 + urand()) : 1.0;
        memset(&d, 0, sizeof d);
        d.n_interval = N;
        d.lower = lo;
        d.upper = hi;
        d.interval_w = weighted ? wt : NULL;
        const char *wn = weighted ? "weighted" : "unit";
        char buf[128];
#define RUN(name)                                                              \
        do {                                                                   \
            snprintf(buf, sizeof buf, "interval %s, %s", name, wn);            \
            for_all_params(buf, &d);                                           \
        } while (0)
        /* values rounded to a grid of 0.05: equal widths up to a few ulps */
        for (int i = 0; i < N; i++) { lo[i] = floor(draw() * 20) / 20; hi[i] = lo[i] + 0.05; }
        RUN("rounded to 0.05");
        /* exactly equal widths from integer edges */
        for (int i = 0; i < N; i++) { lo[i] = floor(draw()); hi[i] = lo[i] + 1.0; }
        if (!quick) RUN("unit bins");
        /* random widths: every tile takes the per-point path */
        for (int i = 0; i < N; i++) { lo[i] = draw(); hi[i] = lo[i] + 1e-3 + 3 * urand(); }
        RUN("random widths");
        /* widths changing every 100 points (tiles mixed, dref changes) */
        for (int i = 0; i < N; i++) {
            double h = 0.01 * (1 + (i / 100) % 5);
            lo[i] = floor(draw() / h) * h;
            hi[i] = lo[i] + h;
        }
        RUN("width changes every 100 points");
        /* widths off by just under / just over the 2^-32 tolerance */
        for (int i = 0; i < N; i++) {
            lo[i] = draw();
            hi[i] = lo[i] + 0.5 * (1.0 + (i % 2 ? 2.0e-10 : -2.4e-10) * (i % 3 == 0));
        }
        if (!quick) RUN("widths at the equal-width tolerance");
        /* left-censored a = 0 */
        for (int i = 0; i < N; i++) { lo[i] = 0.0; hi[i] = i % 2 ? 0.3 : 0.3 + 0.1 * urand(); }
        RUN("a = 0");
        /* narrow bins: width 1e-9 and 1e-300 at a = 0 and a > 0 */
        for (int i = 0; i < N; i++) { lo[i] = draw(); hi[i] = lo[i] + 1e-9 * lo[i]; }
        RUN("width 1e-9 relative");
        for (int i = 0; i < N; i++) { lo[i] = 0.0; hi[i] = 1e-300; }
        RUN("[0, 1e-300]");
        for (int i = 0; i < N; i++) { lo[i] = 1e-290 * (1 + i % 3); hi[i] = lo[i] + 1e-300; }
        if (!quick) RUN("width 1e-300 at 1e-290");
        for (int i = 0; i < N; i++) { lo[i] = 0.0; hi[i] = 1e-310 * (1 + i % 2); }
        RUN("subnormal widths");
        /* wide bins: 1e6 and 1e300 */
        for (int i = 0; i < N; i++) { lo[i] = draw(); hi[i] = lo[i] + 1e6; }
        if (!quick) RUN("width 1e6");
        for (int i = 0; i < N; i++) { lo[i] = i % 5 ? 0.0 : draw(); hi[i] = 1e300; }
        RUN("width 1e300");
        /* far in the tail: mu_min a up to 6e5 (every probability underflows) */
        for (int i = 0; i < N; i++) { lo[i] = 1e3 * (1 + i % 600) + draw(); hi[i] = lo[i] + 0.25; }
        RUN("far tail");
        /* open-ended-like huge bins far out and tiny bins at a = 0 in one tile */
        for (int i = 0; i < N; i++) {
            lo[i] = i % 2 ? 0.0 : 50.0 * draw();
            hi[i] = i % 2 ? 1e-6 * (1 + i % 5) : lo[i] + 1e4;
        }
        RUN("tiny bins at 0 and huge bins mixed");
#undef RUN
    }
}

static void test_trunc(void)
{
    static double t[N], wt[N];
    em_data d;
    for (int weighted = 0; weighted < 2; weighted++) {
        for (int i = 0; i < N; i++) wt[i] = weighted ? (i % 5 == 0 ? 0.0 : 0.5 + urand()) : 1.0;
        memset(&d, 0, sizeof d);
        d.n_trunc = N;
        d.trunc = t;
        d.trunc_w = weighted ? wt : NULL;
        const char *wn = weighted ? "weighted" : "unit";
        char buf[128];
#define RUN(name)                                                              \
        do {                                                                   \
            snprintf(buf, sizeof buf, "trunc %s, %s", name, wn);               \
            for_all_params(buf, &d);                                           \
        } while (0)
        for (int i = 0; i < N; i++) t[i] = 0.05 * urand();
        RUN("entry in [0, 0.05)");
        for (int i = 0; i < N; i++) t[i] = draw();
        RUN("entry ~ mixture");
        for (int i = 0; i < N; i++) t[i] = 0.0;
        if (!quick) RUN("t = 0");
        for (int i = 0; i < N; i++) t[i] = i % 3 ? 1e-300 * (1 + i % 7) : 1e-10 * urand();
        RUN("t tiny");
        for (int i = 0; i < N; i++) t[i] = 0.1 * (i % 9000);
        if (!quick) RUN("t up to 500");
        for (int i = 0; i < N; i++) t[i] = 300.0 + 900.0 * urand();
        RUN("t up to 1200 (S underflows)");
        for (int i = 0; i < N; i++) t[i] = i % 64 == 5 ? 2000.0 : draw();
        RUN("one far entry per tile");
        /* straddling the fast kernels' limit mu_0' t + log max c = 700 of
         * the K3 set (mu_0' = 0.1: t ~ 6995) */
        for (int i = 0; i < N; i++) t[i] = (i / 64) % 2 ? 6985.0 + 20.0 * urand() : 6990.0;
        RUN("t near the fast limit");
#undef RUN
    }
}

static void test_right(void)
{
    static double c[N], wt[N];
    em_data d;
    for (int weighted = 0; weighted < 2; weighted++) {
        for (int i = 0; i < N; i++) wt[i] = weighted ? (i % 5 == 0 ? 0.0 : 0.5 + urand()) : 1.0;
        memset(&d, 0, sizeof d);
        d.n_right = N;
        d.right = c;
        d.right_w = weighted ? wt : NULL;
        const char *wn = weighted ? "weighted" : "unit";
        char buf[128];
        for (int i = 0; i < N; i++) c[i] = draw();
        snprintf(buf, sizeof buf, "right mixture, %s", wn);
        for_all_params(buf, &d);
        for (int i = 0; i < N; i++) c[i] = i % 4 ? 0.0 : 1e3 * urand();
        snprintf(buf, sizeof buf, "right zeros and far tail, %s", wn);
        for_all_params(buf, &d);
    }
}

/* every kind in one data set, several threads (per-block results are summed
 * in a fixed order, so the thread count must not matter, bitwise) */
static void test_mixed_threads(void)
{
    enum { M = 20000 };
    static double x[M], c[M], lo[M], hi[M], t[M];
    double w[3] = {0.2, 0.5, 0.3}, mu[3] = {10.0, 1.0, 0.1};
    double R1[3], X1[3], R2[3], X2[3];
    em_stats s1 = {3, 0, 0, R1, X1}, s2 = {3, 0, 0, R2, X2};
    em_data d;
    for (int i = 0; i < M; i++) {
        x[i] = draw();
        c[i] = draw();
        lo[i] = floor(draw() * 20) / 20;
        hi[i] = lo[i] + (i % 1000 < 500 ? 0.05 : 0.05 + urand());
        t[i] = 0.05 * urand();
    }
    memset(&d, 0, sizeof d);
    d.n_exact = M; d.exact = x;
    d.n_right = M; d.right = c;
    d.n_interval = M; d.lower = lo; d.upper = hi;
    d.n_trunc = M; d.trunc = t;
    compare("all kinds, 3 threads", &d, 3, w, mu, 3);
    for (int path = EM_CPU_BASELINE; path <= em_cpu_best(); path++) {
        em_cpu_force(path);
        CHECK(em_pass(&d, 3, w, mu, 1, &s1) == EM_OK, "pass");
        for (int nt = 2; nt <= 8; nt *= 2) {
            int same;
            CHECK(em_pass(&d, 3, w, mu, nt, &s2) == EM_OK, "pass");
            same = memcmp(&s1.loglik, &s2.loglik, sizeof(double)) == 0 &&
                   memcmp(R1, R2, sizeof R1) == 0 && memcmp(X1, X2, sizeof X1) == 0;
            CHECK(same, "path %s: %d threads differ from 1 thread", em_cpu_path_name(path), nt);
        }
    }
    em_cpu_force(EM_CPU_AUTO);
}

/* em_exp_expm1_neg == em_exp, em_expm1 on [-708, 0]; em_expm1_pos == em_expm1 on [0, 709]
 * (em_vmath.h helpers of the kinds kernels, compiled at this file's flags) */
static void test_exp_expm1(void)
{
    int bad_e = 0, bad_m = 0;
    const int nx = quick ? 100000 : 1000000;
    double worst = 0.0;
    for (int i = 0; i <= nx; i++) {
        double x;
        if (i < nx / 2) x = -708.0 * (double)i / (nx / 2);
        else x = -exp(-745.0 + 751.5 * urand());      /* log-uniform in (0, 708] */
        if (x < -708.0) x = -708.0;
        double e, m;
        em_exp_expm1_neg(x, &e, &m);
        if (e != em_exp(x)) bad_e++;
        double mr = em_expm1(x);
        if (x >= -45.0) {
            if (m != mr && !(m == 0.0 && mr == 0.0)) bad_m++;
        } else {
            double dm = fabs(m - mr);
            worst = dm > worst ? dm : worst;
        }
    }
    int bad_p = 0;
    for (int i = 0; i <= nx; i++) {
        double x = i < nx / 2 ? 709.0 * (double)i / (nx / 2) : exp(-745.0 + 751.5 * urand());
        if (x > 709.0) x = 709.0;
        if (em_expm1_pos(x) != em_expm1(x)) bad_p++;
    }
    CHECK(bad_p == 0, "em_expm1_pos differs from em_expm1 on [0, 709] at %d points", bad_p);
    CHECK(bad_e == 0, "em_exp_expm1_neg: exp differs from em_exp at %d points", bad_e);
    CHECK(bad_m == 0, "em_exp_expm1_neg: expm1 differs from em_expm1 on [-45, 0] at %d points", bad_m);
    CHECK(worst <= 1.2e-16, "em_exp_expm1_neg: expm1 below -45 off by %.3g (1 ulp of 1 = 1.1e-16)",
          worst);
}

/* the fast kernels do take the data they are meant for (so the comparisons
 * above compare two different code paths), and decline what they must */
static void test_coverage(void)
{
    enum { M = 2048 };
    static double lo[M], hi[M], hr[M], t[M], tf[M];
    double acc[EM_ACC_SIZE(3)];
    double w[3] = {0.2, 0.5, 0.3}, mu[3] = {10.0, 1.0, 0.1}, w0[3] = {0.5, 0.0, 0.5};
    em_par p, pz;
    em_par_set(&p, 3, w, mu);
    em_par_set(&pz, 3, w0, mu);
    for (int i = 0; i < M; i++) {
        lo[i] = floor(draw() * 20) / 20;
        hi[i] = lo[i] + 0.05;
        hr[i] = lo[i] + 0.05 + urand();
        t[i] = 0.05 * urand();
        tf[i] = i == 1000 ? 1e4 : t[i];
    }
    for (int path = EM_CPU_BASELINE; path <= em_cpu_best(); path++) {
        const char *pn = em_cpu_path_name(path);
        memset(acc, 0, sizeof acc);
        CHECK(em_interval_fast(path, &p, lo, hi, NULL, M, acc) == M, "%s: equal widths", pn);
        CHECK(em_interval_fast(path, &p, lo, hr, NULL, M, acc) == M, "%s: random widths", pn);
        CHECK(em_interval_fast(path, &p, lo, hi, NULL, M - 1, acc) == M - 64, "%s: whole tiles", pn);
        CHECK(em_interval_fast(path, &pz, lo, hi, NULL, M, acc) == -1, "%s: zero weight", pn);
        CHECK(em_trunc_fast(path, &p, t, NULL, M, acc) == M, "%s: trunc", pn);
        CHECK(em_trunc_fast(path, &p, tf, NULL, M, acc) == 960, "%s: trunc stops at the far tile", pn);
        CHECK(em_trunc_fast(path, &pz, t, NULL, M, acc) == -1, "%s: trunc zero weight", pn);
        /* K = 5..8 take the fast kernels too (every path) */
        for (int K = 5; K <= 8; K++) {
            double w8[8], mu8[8], acc8[EM_ACC_SIZE(8)];
            em_par p8;
            for (int k = 0; k < K; k++) {
                w8[k] = 1.0 / K;
                mu8[k] = 0.1 * pow(3.0, k);
            }
            em_par_set(&p8, K, w8, mu8);
            memset(acc8, 0, sizeof acc8);
            CHECK(em_interval_fast(path, &p8, lo, hi, NULL, M, acc8) == M, "%s: K=%d equal widths",
                  pn, K);
            CHECK(em_interval_fast(path, &p8, lo, hr, NULL, M, acc8) == M,
                  "%s: K=%d random widths", pn, K);
            CHECK(em_trunc_fast(path, &p8, t, NULL, M, acc8) == M, "%s: K=%d trunc", pn, K);
        }
    }
}

int main(void)
{
    const char *qe = getenv("EM_TEST_QUICK");
    quick = qe && *qe && strcmp(qe, "0") != 0;
    test_coverage();
    test_exp_expm1();
    test_right();
    test_intervals();
    test_trunc();
    test_mixed_threads();
    printf("compared %d (data set, parameters, path) cases\n", n_compared);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
