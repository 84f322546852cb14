/* batch.c -- many independent fits over ragged buffers, in one call.
 *
 * Data set j is values[j][0 .. lengths[j]) (exact observations) with weights
 * weights[j] (unit weights when weights or weights[j] is NULL): a table of
 * pointers, so the caller's arrays are used where they are, without copying
 * them into one buffer.  Each
 * problem p fits data set data_index[p] with n_comp[p] components from the
 * start (w + p*stride, mu + p*stride), in place, single-threaded; problems are
 * spread over n_threads threads (dynamic schedule: one problem at a time), so
 * the result of a problem never depends on the thread count or on the other
 * problems.  The scale of the divergence guard is em_data_scale of the data
 * set, exactly as a single fit computes it.  A problem whose start has a NaN
 * first weight starts from em_init_quantile of its data set, computed in the
 * worker thread (the same function a single fit calls through the facade).
 *
 * em_scan_many counts, per data set, what the caller needs to validate them
 * (invalid values or weights, informative observations, positive weights) in
 * one parallel pass.
 *
 * em_fit_many_data is the same loop over one em_data per data set (any
 * observation kinds: the censored and truncated data sets of fit_many, as
 * views over concatenated segment buffers) with an optional max_iter per
 * data set.
 */
#include "em_internal.h"
#include "em_batch.h"
#include "em_init.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* One problem: the quantile start when asked for (NaN first weight), then the
 * fit, single-threaded, with the data set's own divergence scale. */
static void fit_problem(const em_data *d, int K, double *w, double *mu,
                        const em_options *opt, int64_t max_iter, em_result *r)
{
    em_options o = *opt;
    o.n_threads = 1;
    o.interrupt = NULL;
    o.max_iter = max_iter;
    o.scale = em_data_scale(d);
    r->history = NULL;
    if (isnan(w[0])) {
        const int st = em_init_quantile(d, K, w, mu);
        if (st != EM_OK) {
            memset(r, 0, sizeof(*r));
            r->status = st;
            r->degenerate_component = -1;
            return;
        }
    }
    em_fit(d, K, w, mu, &o, r);
}

static int check_problems(int64_t n_data, int64_t n_problems, const int64_t *data_index,
                          const int *n_comp, int stride)
{
    for (int64_t p = 0; p < n_problems; p++)
        if (data_index[p] < 0 || data_index[p] >= n_data || n_comp[p] < 1 || n_comp[p] > stride ||
            n_comp[p] > EM_MAX_COMPONENTS)
            return EM_ERR_ARGUMENT;
    return EM_OK;
}

/* The pointer tables of em_fit_many / em_scan_many: lengths >= 0, a data
 * pointer wherever a data set is not empty. */
static int check_tables(int64_t n_data, const double *const *values, const int64_t *lengths)
{
    if (!values || !lengths) return EM_ERR_ARGUMENT;
    for (int64_t j = 0; j < n_data; j++)
        if (lengths[j] < 0 || (lengths[j] > 0 && !values[j])) return EM_ERR_ARGUMENT;
    return EM_OK;
}

int em_fit_many(int64_t n_data, const double *const *values, const double *const *weights,
                const int64_t *lengths, int64_t n_problems, const int64_t *data_index,
                const int *n_comp, int stride, double *w, double *mu,
                const em_options *opt, em_result *results, int n_threads)
{
    int64_t p;
    if (n_data < 0 || n_problems < 0 || !opt || n_threads < 1 || stride < 1) return EM_ERR_ARGUMENT;
    if (n_problems == 0) return EM_OK;
    if (!data_index || !n_comp || !w || !mu || !results ||
        check_tables(n_data, values, lengths) != EM_OK)
        return EM_ERR_ARGUMENT;
    if (check_problems(n_data, n_problems, data_index, n_comp, stride) != EM_OK)
        return EM_ERR_ARGUMENT;
    if ((int64_t)n_threads > n_problems) n_threads = (int)n_problems;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads) if (n_threads > 1)
#endif
    for (p = 0; p < n_problems; p++) {
        const int64_t j = data_index[p];
        em_data d;
        memset(&d, 0, sizeof(d));
        d.n_exact = lengths[j];
        d.exact = d.n_exact > 0 ? values[j] : NULL;
        d.exact_w = d.n_exact > 0 && weights ? weights[j] : NULL;
        fit_problem(&d, n_comp[p], w + (size_t)p * (size_t)stride,
                    mu + (size_t)p * (size_t)stride, opt, opt->max_iter, &results[p]);
    }
    return EM_OK;
}

/* Counts of one data set (see em_scan_many). */
static void scan_set(const double *x, const double *wt, int64_t n, int64_t *bad, int64_t *info,
                     int64_t *wpos)
{
    int64_t nb = 0, ni = 0, nw = 0;
    for (int64_t i = 0; i < n; i++) {
        const double v = x[i];
        const int ok = v >= 0.0 && v <= DBL_MAX;        /* false for NaN */
        if (wt) {
            const double u = wt[i];
            nb += !ok + !(u >= 0.0 && u <= DBL_MAX);
            nw += u > 0.0;
            ni += v > 0.0 && u > 0.0;
        } else {
            nb += !ok;
            ni += v > 0.0;
        }
    }
    *bad = nb;
    *info = ni;
    *wpos = wt ? nw : n;
}

int em_scan_many(int64_t n_data, const double *const *values, const double *const *weights,
                 const int64_t *lengths, int n_threads, int64_t *n_bad, int64_t *n_info,
                 int64_t *n_wpos)
{
    int64_t j;
    if (n_data < 0 || n_threads < 1) return EM_ERR_ARGUMENT;
    if (n_data == 0) return EM_OK;
    if (!n_bad || !n_info || !n_wpos || check_tables(n_data, values, lengths) != EM_OK)
        return EM_ERR_ARGUMENT;
    if ((int64_t)n_threads > n_data) n_threads = (int)n_data;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16) num_threads(n_threads) if (n_threads > 1)
#endif
    for (j = 0; j < n_data; j++)
        scan_set(values[j], weights ? weights[j] : NULL, lengths[j], &n_bad[j], &n_info[j],
                 &n_wpos[j]);
    return EM_OK;
}

int em_fit_many_data(int64_t n_data, const em_data *data, const int64_t *max_iter,
                     int64_t n_problems, const int64_t *data_index, const int *n_comp,
                     int stride, double *w, double *mu, const em_options *opt,
                     em_result *results, int n_threads)
{
    int64_t p;
    if (n_data < 0 || n_problems < 0 || !opt || n_threads < 1 || stride < 1) return EM_ERR_ARGUMENT;
    if (n_problems == 0) return EM_OK;
    if (!data || !data_index || !n_comp || !w || !mu || !results) return EM_ERR_ARGUMENT;
    if (check_problems(n_data, n_problems, data_index, n_comp, stride) != EM_OK)
        return EM_ERR_ARGUMENT;
    if (max_iter)
        for (int64_t j = 0; j < n_data; j++)
            if (max_iter[j] < 0) return EM_ERR_ARGUMENT;
    if ((int64_t)n_threads > n_problems) n_threads = (int)n_problems;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads) if (n_threads > 1)
#endif
    for (p = 0; p < n_problems; p++) {
        const int64_t j = data_index[p];
        fit_problem(&data[j], n_comp[p], w + (size_t)p * (size_t)stride,
                    mu + (size_t)p * (size_t)stride, opt, max_iter ? max_iter[j] : opt->max_iter,
                    &results[p]);
    }
    return EM_OK;
}
