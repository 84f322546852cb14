/* test_init.c -- the quantile start of csrc/init.c against a sort-based reference.
 *
 * Build and run (from the repository root):
 *   cc -O2 -std=c11 -Icsrc csrc/init.c csrc/tests/test_init.c -lm -o /tmp/ti && /tmp/ti
 * The reference copies and sorts the pseudo-values (qsort), takes the exact
 * weighted quantiles from the sorted cumulative weights and applies the
 * documented cleaning rules (em_init.h); with integer weights every sum is
 * exact, so cuts and starts must agree bitwise.
 * The last line printed is "N passed, M failed"; exit code 0 only if M == 0.
 */
#include "expmix.h"
#include "em_init.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_TEST_SEED 0x2545F4914F6CDD1DULL
#include "em_check.h"

#ifdef EM_TEST_MALLOC_HOOK
/* Built with -DEM_TEST_MALLOC_HOOK: the n-th allocation (fail_at) fails. */
static int n_alloc = 0, fail_at = -1;
void *em_test_malloc(size_t n)
{
    if (n_alloc++ == fail_at) return NULL;
    return malloc(n);
}
#endif

typedef struct pv { double v, w; } pv;

static int cmp_pv(const void *a, const void *b)
{
    const double x = ((const pv *)a)->v, y = ((const pv *)b)->v;
    return x < y ? -1 : (x > y ? 1 : 0);
}

/* Pseudo-values in the documented order (exact, right, interval midpoints). */
static int64_t gather(const em_data *d, pv *out)
{
    int64_t m = 0;
    for (int64_t i = 0; i < d->n_exact; i++) {
        double w = d->exact_w ? d->exact_w[i] : 1.0;
        if (w > 0) { out[m].v = d->exact[i]; out[m].w = w; m++; }
    }
    for (int64_t i = 0; i < d->n_right; i++) {
        double w = d->right_w ? d->right_w[i] : 1.0;
        if (w > 0) { out[m].v = d->right[i]; out[m].w = w; m++; }
    }
    for (int64_t i = 0; i < d->n_interval; i++) {
        double w = d->interval_w ? d->interval_w[i] : 1.0;
        if (w > 0) { out[m].v = 0.5 * (d->lower[i] + d->upper[i]); out[m].w = w; m++; }
    }
    return m;
}

/* Reference: cuts by sorting, then the groups and the cleaning of em_init.h. */
static void reference(const em_data *d, int K, double *cuts, double *w, double *mu)
{
    int64_t n = d->n_exact + d->n_right + d->n_interval, m, i, j;
    pv *a = malloc((size_t)(n > 0 ? n : 1) * sizeof(pv));
    pv *s = malloc((size_t)(n > 0 ? n : 1) * sizeof(pv));
    double W = 0, S = 0, G[EM_MAX_COMPONENTS] = {0}, X[EM_MAX_COMPONENTS] = {0};
    double scale, lo, hi, ws = 0;
    int order[EM_MAX_COMPONENTS];
    m = gather(d, a);
    for (i = 0; i < m; i++) { W += a[i].w; S += a[i].w * a[i].v; }
    memcpy(s, a, (size_t)m * sizeof(pv));
    qsort(s, (size_t)m, sizeof(pv), cmp_pv);
    for (int k = 0; k < K - 1; k++) {
        double t = W * (double)(k + 1) / (double)K, c = 0;
        for (j = 0; j < m; j++) {
            c += s[j].w;
            /* the cumulative weight of all values <= s[j].v */
            while (j + 1 < m && s[j + 1].v == s[j].v) c += s[++j].w;
            if (c >= t) break;
        }
        if (j >= m) j = m - 1;
        cuts[k] = s[j].v;
    }
    for (i = 0; i < m; i++) {      /* groups in data order, as the C code adds */
        int g = 0;
        while (g < K - 1 && a[i].v > cuts[g]) g++;
        G[g] += a[i].w;
        X[g] += a[i].w * a[i].v;
    }
    scale = S / W;
    if (!(scale >= 1e-300)) scale = 1e-300;
    hi = 1e12 / scale;
    lo = 1e-12 / scale;
    for (int k = 0; k < K; k++) {
        double mean = G[k] > 0 ? X[k] / G[k] : cuts[k < K - 1 ? k : K - 2], r;
        if (!(mean >= 1e-3 * scale)) mean = 1e-3 * scale;
        r = 1.0 / mean;
        if (!(r <= DBL_MAX)) r = hi;
        mu[k] = fmin(fmax(r, lo), hi);
        w[k] = G[k] / W + 1e-3 / K;
        ws += w[k];
    }
    for (int k = 0; k < K; k++) w[k] /= ws;
    for (int k = 0; k < K; k++) order[k] = k;
    for (int k = 1; k < K; k++)     /* bubble sort, stable, decreasing rate */
        for (int q = K - 1; q >= k; q--)
            if (mu[order[q]] > mu[order[q - 1]]) {
                int t = order[q]; order[q] = order[q - 1]; order[q - 1] = t;
            }
    for (int k = 1; k < K; k++)
        if (mu[order[k]] >= mu[order[k - 1]] * (1.0 - 1e-3)) mu[order[k]] = mu[order[k - 1]] * 0.7;
    free(a);
    free(s);
}

static void compare(const char *name, const em_data *d, int K)
{
    double c1[EM_MAX_COMPONENTS], c2[EM_MAX_COMPONENTS], w1[EM_MAX_COMPONENTS],
        w2[EM_MAX_COMPONENTS], m1[EM_MAX_COMPONENTS], m2[EM_MAX_COMPONENTS];
    int same = 1, st1, st2;
    reference(d, K, c2, w2, m2);
    st1 = em_init_cuts(d, K, c1, NULL, NULL);
    st2 = em_init_quantile(d, K, w1, m1);
    CHECK(st1 == EM_OK && st2 == EM_OK, "%s K=%d: status %d %d", name, K, st1, st2);
    for (int k = 0; k < K - 1; k++) same &= c1[k] == c2[k];
    CHECK(same, "%s K=%d: cuts differ from the sorted reference (first %.17g vs %.17g)",
          name, K, c1[0], c2[0]);
    same = 1;
    for (int k = 0; k < K; k++) same &= w1[k] == w2[k] && m1[k] == m2[k];
    CHECK(same, "%s K=%d: start differs (w0 %.17g vs %.17g, mu0 %.17g vs %.17g)", name, K,
          w1[0], w2[0], m1[0], m2[0]);
}

int main(void)
{
    enum { N = 10007 };
    static double x[N], wt[N], c[N], lo[N], hi[N], iw[N];
    em_data d;
    double w[8], mu[8], cuts[8];

    /* exact data, unit weights: a two-scale mixture */
    for (int i = 0; i < N; i++) x[i] = -log(urand()) * (urand() < 0.3 ? 0.01 : 5.0);
    memset(&d, 0, sizeof(d));
    d.n_exact = N;
    d.exact = x;
    for (int K = 1; K <= 7; K++) compare("exact", &d, K);
    {   /* the cuts are quantiles: about k/K of the points at or below */
        double cc[3];
        int64_t below = 0;
        em_init_cuts(&d, 4, cc, NULL, NULL);
        for (int i = 0; i < N; i++) below += x[i] <= cc[1];
        CHECK(below >= N / 2 && below <= N / 2 + 1, "median cut: %lld below", (long long)below);
    }
    /* integer weights with zeros; weights = repeats */
    for (int i = 0; i < N; i++) wt[i] = (double)(int)(urand() * 4.0);
    d.exact_w = wt;
    for (int K = 1; K <= 5; K++) compare("weighted", &d, K);
    d.exact_w = NULL;

    /* heavy ties and zeros (rounded data): whole groups at one value */
    for (int i = 0; i < N; i++) x[i] = floor(-log(urand()) * 2.0);
    for (int K = 2; K <= 6; K++) compare("ties", &d, K);
    /* every value equal: the rates are still distinct */
    for (int i = 0; i < N; i++) x[i] = 3.25;
    compare("constant", &d, 3);
    em_init_quantile(&d, 3, w, mu);
    CHECK(mu[0] > mu[1] * 1.0001 && mu[1] > mu[2] * 1.0001, "constant: rates %g %g %g not distinct",
          mu[0], mu[1], mu[2]);
    /* keys densely packed (1 + j ulp): the selection needs every refinement */
    for (int i = 0; i < N; i++) x[i] = nextafter(1.0, 2.0) + (double)((i * 7919) % N) * DBL_EPSILON;
    for (int K = 2; K <= 4; K++) compare("dense", &d, K);
    /* magnitudes from 1e-300 to 1e300 */
    for (int i = 0; i < N; i++) x[i] = pow(10.0, -300.0 + 600.0 * urand());
    for (int K = 2; K <= 5; K++) compare("wide", &d, K);

    /* every kind: exact, right-censored, intervals (midpoints) */
    for (int i = 0; i < N; i++) {
        x[i] = -log(urand());
        c[i] = -log(urand()) * 3.0;
        lo[i] = floor(x[i] * 4.0) / 4.0;
        hi[i] = lo[i] + 0.25;
        iw[i] = (double)(1 + (int)(urand() * 3.0));
    }
    d.n_exact = 1000;
    d.n_right = 2000;
    d.right = c;
    d.n_interval = 3000;
    d.lower = lo;
    d.upper = hi;
    d.interval_w = iw;
    for (int K = 1; K <= 5; K++) compare("kinds", &d, K);
    d.n_exact = 0;
    d.exact = NULL;
    for (int K = 1; K <= 4; K++) compare("no exact", &d, K);

    /* non-integer weights: the cut is a weighted quantile up to rounding */
    memset(&d, 0, sizeof(d));
    for (int i = 0; i < N; i++) { x[i] = -log(urand()); wt[i] = urand(); }
    d.n_exact = N;
    d.exact = x;
    d.exact_w = wt;
    CHECK(em_init_cuts(&d, 3, cuts, NULL, NULL) == EM_OK, "real weights: status");
    {
        double W = 0, below[2] = {0, 0}, at_or_below[2] = {0, 0};
        for (int i = 0; i < N; i++) {
            W += wt[i];
            for (int k = 0; k < 2; k++) {
                if (x[i] < cuts[k]) below[k] += wt[i];
                if (x[i] <= cuts[k]) at_or_below[k] += wt[i];
            }
        }
        for (int k = 0; k < 2; k++)
            CHECK(below[k] < W * (k + 1) / 3 * (1 + 1e-12) &&
                  at_or_below[k] >= W * (k + 1) / 3 * (1 - 1e-12),
                  "real weights: cut %d is not the weighted quantile", k);
    }
    /* tiny data sets: fewer points than components */
    memset(&d, 0, sizeof(d));
    x[0] = 1.0;
    x[1] = 2.0;
    d.n_exact = 2;
    d.exact = x;
    compare("two points", &d, 4);
    CHECK(em_init_quantile(&d, 4, w, mu) == EM_OK && w[0] > 0 && mu[3] > 0, "two points");

    /* errors */
    x[1] = NAN;
    CHECK(em_init_quantile(&d, 2, w, mu) == EM_ERR_DATA, "NaN value");
    x[1] = -1.0;
    CHECK(em_init_quantile(&d, 2, w, mu) == EM_ERR_DATA, "negative value");
    x[1] = INFINITY;
    CHECK(em_init_quantile(&d, 2, w, mu) == EM_ERR_DATA, "inf value");
    x[1] = 2.0;
    wt[0] = wt[1] = 0.0;
    d.exact_w = wt;
    CHECK(em_init_quantile(&d, 2, w, mu) == EM_ERR_DATA, "zero total weight");
    wt[0] = INFINITY;
    CHECK(em_init_quantile(&d, 2, w, mu) == EM_ERR_DATA, "inf weight");
    wt[0] = 1.0;
    CHECK(em_init_quantile(&d, 0, w, mu) == EM_ERR_ARGUMENT, "K = 0");
    CHECK(em_init_quantile(&d, EM_MAX_COMPONENTS + 1, w, mu) == EM_ERR_ARGUMENT, "K too large");
    CHECK(em_init_quantile(NULL, 2, w, mu) == EM_ERR_ARGUMENT, "NULL data");
    CHECK(em_init_cuts(&d, 3, NULL, NULL, NULL) == EM_ERR_ARGUMENT, "NULL cuts");
    d.exact = NULL;
    CHECK(em_init_quantile(&d, 2, w, mu) == EM_ERR_ARGUMENT, "NULL values");
    memset(&d, 0, sizeof(d));
    CHECK(em_init_quantile(&d, 1, w, mu) == EM_ERR_DATA, "empty data");

#ifdef EM_TEST_MALLOC_HOOK
    /* each of the three workspace allocations failing: EM_ERR_NOMEM, no leak */
    for (int i = 0; i < N; i++) x[i] = -log(urand());
    memset(&d, 0, sizeof(d));
    d.n_exact = N;
    d.exact = x;
    for (int f = 0; f < 3; f++) {
        n_alloc = 0;
        fail_at = f;
        CHECK(em_init_quantile(&d, 3, w, mu) == EM_ERR_NOMEM, "allocation %d failing", f);
    }
    fail_at = -1;
    CHECK(em_init_quantile(&d, 3, w, mu) == EM_OK, "after the failures");
#endif
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
