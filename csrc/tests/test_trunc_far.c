/* test_trunc_far.c -- truncation pairs far in the tail (mu t > 700).
 *
 * The truncation log-likelihood term -v log S(t) must be exact for every t
 * (log-sum-exp), and the missing-data ("ghost") statistics R_k, X_k must stay
 * finite: exact below EM_GHOST_LOG_CAP (pass.c), capped above it.  Checked on
 * the general kernel and on the default (dispatched) kernels, for K = 1..3,
 * unit and weighted pairs, thread counts 1 and 3 (bitwise equal).
 * Truth: log S(t) in long double, and the exact ghost mass in long double
 * where it is representable.  Fast (a few ms), also under ASan/UBSan.
 */
#include "expmix.h"
#include "em_dispatch.h"
#include "em_check.h"

#include <math.h>
#include <string.h>

static long double logS_ref(int K, const double *w, const double *mu, double t)
{
    long double mx = -INFINITY, s = 0.0L;
    for (int k = 0; k < K; k++) {
        long double a = logl((long double)w[k]) - (long double)mu[k] * t;
        if (a > mx) mx = a;
    }
    for (int k = 0; k < K; k++)
        s += expl(logl((long double)w[k]) - (long double)mu[k] * t - mx);
    return mx + logl(s);
}

/* one pass over n pairs all at t (weight v each, or unit if v < 0), plus one
 * exact point x; returns the status and fills ll, R, X */
static int one(int K, const double *w, const double *mu, double x, double t, double v,
               int n, int threads, double *ll, double *R, double *X)
{
    static double tt[5000], vv[5000];
    em_data d;
    em_stats s;
    memset(&d, 0, sizeof(d));
    for (int i = 0; i < n; i++) { tt[i] = t; vv[i] = v; }
    d.n_exact = 1;
    d.exact = &x;
    d.n_trunc = n;
    d.trunc = tt;
    d.trunc_w = v < 0 ? NULL : vv;
    s.resp = R;
    s.resp_x = X;
    int st = em_pass(&d, K, w, mu, threads, &s);
    *ll = s.loglik;
    return st;
}

int main(void)
{
    const double ts[] = {0.0, 1e-300, 0.5, 40.0, 80.0, 300.0, 650.0, 703.5, 709.0, 710.0,
                         750.0, 1000.0, 5000.0, 1e6, 1e20, 1e200};
    const double vs[] = {-1.0, 0.0, 1e-300, 0.25, 3.0, 1e100, 1e300};
    const int ns[] = {1, 70, 2100};
    double W[3][3] = {{1.0}, {0.3, 0.7}, {0.2, 0.3, 0.5}};
    double M[3][3] = {{1.0}, {5.0, 1.0}, {20.0, 2.0, 0.5}};
    int compared = 0;
    for (int general = 0; general < 2; general++) {
        em_kinds_force_general(general);
        for (int K = 1; K <= 3; K++)
            for (size_t it = 0; it < sizeof ts / sizeof *ts; it++)
                for (size_t iv = 0; iv < sizeof vs / sizeof *vs; iv++)
                    for (size_t in = 0; in < sizeof ns / sizeof *ns; in++) {
                        const double t = ts[it], v = vs[iv];
                        const int n = ns[in];
                        const double x = t < 1e300 ? t + 2.0 : t;
                        double ll, R[3], X[3], ll3, R3[3], X3[3];
                        int st = one(K, W[K - 1], M[K - 1], x, t, v, n, 1, &ll, R, X);
                        int st3 = one(K, W[K - 1], M[K - 1], x, t, v, n, 3, &ll3, R3, X3);
                        long double vv = v < 0 ? 1.0L : (long double)v;
                        long double lS = logS_ref(K, W[K - 1], M[K - 1], t);
                        /* exact point: log sum_k w_k mu_k e^{-mu_k x} */
                        long double lf = logS_ref(K, W[K - 1], M[K - 1], x), lfx;
                        {
                            long double mx = -INFINITY, s = 0.0L;
                            for (int k = 0; k < K; k++) {
                                long double a = logl((long double)W[K - 1][k] * M[K - 1][k])
                                                - (long double)M[K - 1][k] * x;
                                if (a > mx) mx = a;
                            }
                            for (int k = 0; k < K; k++)
                                s += expl(logl((long double)W[K - 1][k] * M[K - 1][k])
                                          - (long double)M[K - 1][k] * x - mx);
                            lfx = mx + logl(s);
                        }
                        (void)lf;
                        long double ref = lfx - (long double)n * vv * lS;
                        int finite_ref = isfinite((double)ref);
                        if (!finite_ref) continue;     /* v n log S beyond double */
                        compared++;
                        CHECK(st == EM_OK, "status %d K=%d t=%g v=%g n=%d gen=%d", st, K, t, v, n,
                              general);
                        CHECK(st3 == st && ll3 == ll, "threads differ K=%d t=%g v=%g", K, t, v);
                        /* absolute rounding of each term: ~eps (|log S| + |log w| + 1) */
                        long double mag = fabsl(lfx) + (long double)n * vv * (fabsl(lS) + 4.0L);
                        CHECK(fabsl((long double)ll - ref) <= 1e-15L * mag + 1e-13L * (1.0L + fabsl(ref)),
                              "loglik %.17g ref %.17Lg K=%d t=%g v=%g n=%d gen=%d", ll, ref, K, t,
                              v, n, general);
                        for (int k = 0; k < K; k++) {
                            CHECK(isfinite(R[k]) && isfinite(X[k]) && R[k] >= 0 && X[k] >= 0,
                                  "R/X not finite K=%d k=%d t=%g v=%g n=%d: %g %g", K, k, t, v, n,
                                  R[k], X[k]);
                            CHECK(R3[k] == R[k] && X3[k] == X[k], "threads differ (R, X)");
                            /* exact ghost mass where representable (far below the cap) */
                            long double lg = logl(vv) + logl((long double)W[K - 1][k]) - lS
                                             + logl(-expm1l(-(long double)M[K - 1][k] * t));
                            /* within the cap of pass.c (with a margin) */
                            long double lfk = logl((long double)W[K - 1][k]) - lS;
                            long double lt = logl((long double)t), lm = logl((long double)M[K - 1][k]);
                            long double lb = logl(vv) + fminl(0.0L, lm + lt)
                                             + fmaxl(0.0L, fminl(lt, -lm));
                            if (t > 0 && vv > 0 && lfk + lb < 640.0L && lfk < 690.0L
                                && lg > -600.0L) {
                                long double ghost = (long double)n * expl(lg);
                                long double Rex = R[k] - (long double)0.0;
                                /* R_k = exact-point responsibility (<= 1) + ghosts */
                                CHECK(Rex >= ghost * (1.0L - 1e-12L) && Rex <= ghost * (1.0L + 1e-12L) + 1.0L + 1e-12L,
                                      "ghost R K=%d k=%d t=%g v=%g n=%d: %.17g vs %.17Lg", K, k,
                                      t, v, n, R[k], ghost);
                            }
                        }
                    }
    }
    em_kinds_force_general(0);
    /* the issue-8 row: one point x = 938 above t = 703.5, K = 1, mu = 1 */
    {
        double w = 1.0, mu = 1.0, ll, R, X;
        int st = one(1, &w, &mu, 938.0, 703.5, -1.0, 1, 1, &ll, &R, &X);
        CHECK(st == EM_OK && fabs(ll - (-234.5)) <= 1e-12 * 234.5, "row: st %d ll %.17g", st, ll);
        CHECK(isfinite(R) && isfinite(X), "row: R %g X %g", R, X);
    }
    printf("compared %d cases\n", compared);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail > 0;
}
