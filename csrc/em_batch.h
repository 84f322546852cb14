/* em_batch.h -- many fits over ragged buffers in one call (csrc/batch.c). */
#ifndef EM_BATCH_H
#define EM_BATCH_H

#include "expmix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Data set j is values[j][0 .. lengths[j]) (exact observations) with weights
 * weights[j] over the same range (weights NULL, or weights[j] NULL: unit
 * weights); values[j] may be NULL only when lengths[j] is 0.  Problem p fits
 * data set data_index[p] with n_comp[p] <= stride components from
 * (w + p*stride, mu + p*stride), in place, with options opt (n_threads,
 * interrupt and scale are overridden: each fit is single-threaded and uses
 * em_data_scale of its data set, as a single fit does), result in results[p]
 * (no history).  Problems run on n_threads threads, one problem at a time per
 * thread; each result equals em_fit of that data set from that start.
 * A start whose first weight w[p*stride] is NaN asks for the quantile start
 * em_init_quantile (em_init.h) of the data set, computed inside the worker
 * thread and written to (w + p*stride, mu + p*stride) before the fit; if it
 * fails (EM_ERR_DATA: a negative or non-finite value or weight, or no
 * positive weight) that status is the problem's result and no fit runs.
 * Returns EM_OK or EM_ERR_ARGUMENT; per-problem status is in results[p].status
 * (EM_ERR_DATA for a data set with a negative or non-finite value). */
int em_fit_many(int64_t n_data, const double *const *values, const double *const *weights,
                const int64_t *lengths, int64_t n_problems, const int64_t *data_index,
                const int *n_comp, int stride, double *w, double *mu,
                const em_options *opt, em_result *results, int n_threads);

/* Per data set (same tables as em_fit_many), in one pass on n_threads threads:
 * n_bad[j] = values that are negative, NaN or infinite plus weights that are
 * (weights NULL or weights[j] NULL: unit weights), n_info[j] = observations
 * with a positive value and a positive weight, n_wpos[j] = observations with a
 * positive weight.  The counts do not depend on n_threads.  Returns EM_OK or
 * EM_ERR_ARGUMENT. */
int em_scan_many(int64_t n_data, const double *const *values, const double *const *weights,
                 const int64_t *lengths, int n_threads, int64_t *n_bad, int64_t *n_info,
                 int64_t *n_wpos);

/* The same as em_fit_many over one em_data per data set (data[0..n_data-1],
 * any observation kinds, e.g. views of per-data-set segments of shared
 * buffers): problem p fits data[data_index[p]].  max_iter: NULL (use
 * opt->max_iter) or one value >= 0 per data set (fits with per-observation
 * truncation cap EM's iterations before a Newton polish).  The quantile start
 * (NaN first weight) and the scale are those of data[j], as a single fit of
 * that em_data computes them.  Returns EM_OK or EM_ERR_ARGUMENT; per-problem
 * status in results[p].status. */
int em_fit_many_data(int64_t n_data, const em_data *data, const int64_t *max_iter,
                     int64_t n_problems, const int64_t *data_index, const int *n_comp,
                     int stride, double *w, double *mu, const em_options *opt,
                     em_result *results, int n_threads);

#ifdef __cplusplus
}
#endif
#endif /* EM_BATCH_H */
