/* init.c -- the deterministic "quantile" starting point without sorting or
 * copying the data (declared and documented in em_init.h).
 *
 * Selection of the weighted quantiles: a value v >= 0 and its IEEE-754 bit
 * pattern (as an unsigned 64-bit key; +0 and -0 both map to key 0) are in the
 * same order, so the cut values can be found by a radix selection on keys.
 * Every target k (the k-th of the K - 1 cuts) keeps an interval [L_k, H_k]
 * of keys known to contain its cut and the weight Wb_k of the keys below
 * L_k.  One pass histograms, for every distinct open interval, the keys in
 * it into EM_INIT_BINS bins of 2^s keys (s as small as fits) and records the
 * weight, the smallest and the largest key of each bin; each target then
 * walks its histogram to the bin where the cumulative weight reaches its
 * target W k / K and shrinks its interval to [smallest, largest] key of that
 * bin.  The interval sizes drop by at least 11 bits a pass, so after at most
 * EM_INIT_LEVELS passes every interval is a single key: the exact weighted
 * quantile.  Targets in the same interval share one histogram; distinct
 * intervals are disjoint and increasing with k.
 *
 * All loops run in the order of the data, single-threaded, so the result is
 * a deterministic function of the data (no dependence on threads).
 */
#include "em_internal.h"
#include "em_init.h"

#include <float.h>
#include <math.h>
#include <string.h>

typedef struct init_seg {
    const double *a;        /* values, or interval lower bounds          */
    const double *b;        /* NULL, or interval upper bounds (midpoint) */
    const double *w;        /* NULL: unit weights                        */
    int64_t n;
} init_seg;

static int init_segments(const em_data *d, init_seg *s)
{
    int m = 0;
    if (d->n_exact > 0) { s[m].a = d->exact; s[m].b = NULL; s[m].w = d->exact_w; s[m].n = d->n_exact; m++; }
    if (d->n_right > 0) { s[m].a = d->right; s[m].b = NULL; s[m].w = d->right_w; s[m].n = d->n_right; m++; }
    if (d->n_interval > 0) {
        s[m].a = d->lower; s[m].b = d->upper; s[m].w = d->interval_w; s[m].n = d->n_interval; m++;
    }
    return m;
}

static inline double pseudo_value(const init_seg *s, int64_t i)
{
    double v;
    if (!s->b) return s->a[i];
    v = 0.5 * (s->a[i] + s->b[i]);
    if (v > DBL_MAX) v = 0.5 * s->a[i] + 0.5 * s->b[i];   /* a + b overflowed */
    return v;
}

static inline uint64_t value_key(double v)
{
    uint64_t u;
    if (v == 0.0) return 0;
    memcpy(&u, &v, sizeof(u));
    return u;
}

static inline double key_value(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

/* Index of the interval holding key, or -1: the intervals are disjoint and
 * sorted (lo[r] <= lo[r] + span[r] < lo[r+1]).  Most keys lie in no interval
 * and fall randomly below or above them, so the test is written without
 * data-dependent branches ((key - lo) <= span in unsigned arithmetic is one
 * comparison); many intervals use a binary search. */
static inline int find_range(uint64_t key, int R, const uint64_t *lo, const uint64_t *span)
{
    int a = 0, b = R - 1, r = -1;
    if (R <= 8) {
        for (int q = 0; q < R; q++) r = (key - lo[q] <= span[q]) ? q : r;
        return r;
    }
    while (a < b) {                 /* largest r with lo[r] <= key */
        int m = (a + b + 1) / 2;
        if (lo[m] <= key) a = m; else b = m - 1;
    }
    return key - lo[a] <= span[a] ? a : -1;
}

/* Cut keys H[0..K-2] (exact weighted quantiles) and the totals. */
static int select_cut_keys(const init_seg *seg, int nseg, int K, uint64_t *H,
                           double *W_out, double *S_out)
{
    double W = 0.0, S = 0.0;
    uint64_t kmin = UINT64_MAX, kmax = 0;
    int bad = 0;
    uint64_t L[EM_MAX_COMPONENTS];
    double Wb[EM_MAX_COMPONENTS], tgt[EM_MAX_COMPONENTS];
    int tr[EM_MAX_COMPONENTS];
    uint64_t rlo[EM_MAX_COMPONENTS], rhi[EM_MAX_COMPONENTS], rspan[EM_MAX_COMPONENTS];
    int rshift[EM_MAX_COMPONENTS];
    double *hist = NULL;
    uint64_t *bmin = NULL, *bmax = NULL;
    int k, lev;

    /* pass 1: validity, totals, key range of the positive-weight values */
    for (int g = 0; g < nseg; g++) {
        const init_seg *s = &seg[g];
        for (int64_t i = 0; i < s->n; i++) {
            const double v = pseudo_value(s, i);
            const double wt = s->w ? s->w[i] : 1.0;
            if (!(v >= 0.0 && v <= DBL_MAX && wt >= 0.0 && wt <= DBL_MAX)) {
                bad = 1;
                continue;
            }
            if (wt > 0.0) {
                const uint64_t key = value_key(v);
                W += wt;
                S += wt * v;
                if (key < kmin) kmin = key;
                if (key > kmax) kmax = key;
            }
        }
    }
    if (bad || !(W > 0.0) || !(W <= DBL_MAX)) return EM_ERR_DATA;
    *W_out = W;
    *S_out = S;
    for (k = 0; k < K - 1; k++) {
        L[k] = kmin;
        H[k] = kmax;
        Wb[k] = 0.0;
        tgt[k] = W * (double)(k + 1) / (double)K;
    }
    if (K < 2) return EM_OK;
    hist = (double *)EM_MALLOC((size_t)(K - 1) * EM_INIT_BINS * sizeof(double));
    bmin = (uint64_t *)EM_MALLOC((size_t)(K - 1) * EM_INIT_BINS * sizeof(uint64_t));
    bmax = (uint64_t *)EM_MALLOC((size_t)(K - 1) * EM_INIT_BINS * sizeof(uint64_t));
    if (!hist || !bmin || !bmax) {
        free(hist);
        free(bmin);
        free(bmax);
        return EM_ERR_NOMEM;
    }
    for (lev = 0; lev < EM_INIT_LEVELS; lev++) {
        int R = 0, r;
        for (k = 0; k < K - 1; k++) {
            if (L[k] == H[k]) { tr[k] = -1; continue; }
            if (R > 0 && rlo[R - 1] == L[k] && rhi[R - 1] == H[k]) { tr[k] = R - 1; continue; }
            rlo[R] = L[k];
            rhi[R] = H[k];
            rshift[R] = 0;
            rspan[R] = rhi[R] - rlo[R];
            while ((rspan[R] >> rshift[R]) >= (uint64_t)EM_INIT_BINS) rshift[R]++;
            tr[k] = R++;
        }
        if (R == 0) break;
        for (int64_t i = 0; i < (int64_t)R * EM_INIT_BINS; i++) {
            hist[i] = 0.0;
            bmin[i] = UINT64_MAX;
            bmax[i] = 0;
        }
        for (int g = 0; g < nseg; g++) {
            const init_seg *s = &seg[g];
            for (int64_t i = 0; i < s->n; i++) {
                const double wt = s->w ? s->w[i] : 1.0;
                uint64_t key;
                int64_t b;
                if (!(wt > 0.0)) continue;
                key = value_key(pseudo_value(s, i));
                r = find_range(key, R, rlo, rspan);
                if (r < 0) continue;
                b = (int64_t)r * EM_INIT_BINS + (int64_t)((key - rlo[r]) >> rshift[r]);
                hist[b] += wt;
                if (key < bmin[b]) bmin[b] = key;
                if (key > bmax[b]) bmax[b] = key;
            }
        }
        for (k = 0; k < K - 1; k++) {
            int64_t nb, b, found = -1, last = -1;
            double acc, before_last = 0.0, before_found = 0.0;
            if ((r = tr[k]) < 0) continue;
            nb = (int64_t)((rhi[r] - rlo[r]) >> rshift[r]) + 1;
            acc = Wb[k];
            for (b = 0; b < nb; b++) {
                const int64_t j = (int64_t)r * EM_INIT_BINS + b;
                if (!(hist[j] > 0.0)) continue;
                last = j;
                before_last = acc;
                if (acc + hist[j] >= tgt[k]) { found = j; before_found = acc; break; }
                acc += hist[j];
            }
            if (found < 0) {        /* rounding: the target lies past the last key */
                found = last;
                before_found = before_last;
            }
            if (found >= 0) {
                L[k] = bmin[found];
                H[k] = bmax[found];
                Wb[k] = before_found;
            } else {                /* cannot happen: the interval holds weight */
                L[k] = H[k];
            }
        }
    }
    free(hist);
    free(bmin);
    free(bmax);
    return EM_OK;
}

/* The segments the starts read (exact, right, interval) have sane counts and
 * buffers. */
static int init_data_ok(const em_data *data)
{
    if (data->n_exact < 0 || data->n_right < 0 || data->n_interval < 0) return 0;
    return !((data->n_exact > 0 && !data->exact) || (data->n_right > 0 && !data->right) ||
             (data->n_interval > 0 && (!data->lower || !data->upper)));
}

int em_init_cuts(const em_data *data, int K, double *cuts, double *total_weight,
                 double *total_wx)
{
    init_seg seg[3];
    uint64_t H[EM_MAX_COMPONENTS];
    double W = 0.0, S = 0.0;
    int nseg, st;
    if (!data || K < 1 || K > EM_MAX_COMPONENTS || (K > 1 && !cuts)) return EM_ERR_ARGUMENT;
    if (!init_data_ok(data)) return EM_ERR_ARGUMENT;
    nseg = init_segments(data, seg);
    st = select_cut_keys(seg, nseg, K, H, &W, &S);
    if (st != EM_OK) return st;
    for (int k = 0; k < K - 1; k++) cuts[k] = key_value(H[k]);
    if (total_weight) *total_weight = W;
    if (total_wx) *total_wx = S;
    return EM_OK;
}

int em_init_quantile(const em_data *data, int K, double *w, double *mu)
{
    init_seg seg[3];
    uint64_t H[EM_MAX_COMPONENTS];
    double G[EM_MAX_COMPONENTS], X[EM_MAX_COMPONENTS];
    int order[EM_MAX_COMPONENTS];
    double W = 0.0, S = 0.0, scale, lo, hi, wsum = 0.0;
    int nseg, st, k;
    if (!data || K < 1 || K > EM_MAX_COMPONENTS || !w || !mu) return EM_ERR_ARGUMENT;
    if (!init_data_ok(data)) return EM_ERR_ARGUMENT;
    nseg = init_segments(data, seg);
    st = select_cut_keys(seg, nseg, K, H, &W, &S);
    if (st != EM_OK) return st;

    /* one pass: weight and weighted sum of each group (c_k, c_{k+1}] */
    for (k = 0; k < K; k++) G[k] = X[k] = 0.0;
    for (int g = 0; g < nseg; g++) {
        const init_seg *s = &seg[g];
        for (int64_t i = 0; i < s->n; i++) {
            const double wt = s->w ? s->w[i] : 1.0;
            double v;
            uint64_t key;
            int a = 0, b = K - 1;
            if (!(wt > 0.0)) continue;
            v = pseudo_value(s, i);
            key = value_key(v);
            if (K <= 17) {              /* the number of cuts below key, branch-free */
                for (int q = 0; q < K - 1; q++) a += key > H[q];
            } else {
                while (a < b) {         /* first k with key <= H[k] (H[K-1] = +inf) */
                    const int m = (a + b) / 2;
                    if (key <= H[m]) b = m; else a = m + 1;
                }
            }
            G[a] += wt;
            X[a] += wt * v;
        }
    }

    /* the cleaning rules of the documented start (em_init.h) */
    scale = S / W;
    if (!(scale >= 1e-300)) scale = 1e-300;
    if (scale > DBL_MAX) scale = DBL_MAX;
    hi = 1e12 / scale;
    lo = 1e-12 / scale;
    for (k = 0; k < K; k++) {
        double m = G[k] > 0.0 ? X[k] / G[k] : key_value(H[k < K - 1 ? k : K - 2]);
        double r;
        if (!(m >= 1e-3 * scale)) m = 1e-3 * scale;
        r = 1.0 / m;
        if (!(r <= DBL_MAX)) r = hi;
        mu[k] = r < lo ? lo : (r > hi ? hi : r);
        w[k] = G[k] / W + 1e-3 / (double)K;
        wsum += w[k];
    }
    for (k = 0; k < K; k++) w[k] /= wsum;
    /* distinct rates: identical components would stay identical under EM */
    for (k = 0; k < K; k++) {       /* stable insertion sort by decreasing rate */
        int j = k;
        while (j > 0 && mu[order[j - 1]] < mu[k]) { order[j] = order[j - 1]; j--; }
        order[j] = k;
    }
    for (k = 1; k < K; k++)
        if (mu[order[k]] >= mu[order[k - 1]] * (1.0 - 1e-3)) mu[order[k]] = mu[order[k - 1]] * 0.7;
    return EM_OK;
}
