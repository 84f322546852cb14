/* em_init.h -- deterministic "quantile" starting point (csrc/init.c).
 *
 * The pseudo-values of a data set are, in this order, the exact values, the
 * right-censoring times and the interval midpoints 0.5 * (a + b), each with
 * its weight (NULL weights: 1); truncation pairs are not used.  Pseudo-values
 * with weight 0 are ignored.  With W their total weight, the K - 1 cut values
 * are the exact weighted quantiles
 *
 *     c_k = min { v : sum of the weights of the pseudo-values <= v >= W k / K },
 *
 * k = 1..K-1, found without sorting or copying the data: a radix selection on
 * the IEEE-754 bit pattern of the values (monotone for v >= 0), at most
 * EM_INIT_LEVELS passes of EM_INIT_BINS-bin histograms, each bin recording
 * the smallest and largest key it saw so that the search interval shrinks to
 * the keys actually present.  Group k holds the pseudo-values in
 * (c_k, c_{k+1}] (c_0 = -inf, c_K = +inf); one more pass adds the weight G_k
 * and the weighted sum of each group.  Then, with s = max(sum w v / W, 1e-300):
 *
 *     mean_k = (weighted mean of group k), or c_{k+1} (c_{K-1} for the last
 *              group) when the group is empty (ties at a cut),
 *     mu_k   = 1 / max(mean_k, 1e-3 s), clipped to [1e-12 / s, 1e12 / s],
 *     w_k    = (G_k / W + 1e-3 / K), normalised to sum 1,
 *
 * and rates are made distinct: in order of decreasing rate (ties by index),
 * a rate >= (1 - 1e-3) times the previous one becomes 0.7 times it.
 * Memory: O(K * EM_INIT_BINS), independent of the number of observations.
 * Single-threaded; the result is a deterministic function of the data.
 */
#ifndef EM_INIT_H
#define EM_INIT_H

#include "expmix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bins per histogram level and the largest number of refinement passes
 * (6 x 11 bits >= 64 bits: the selection is always exact). */
#define EM_INIT_BINS 2048
#define EM_INIT_LEVELS 6

/* The K - 1 cut values c_1..c_{K-1} (cuts[0..K-2]) and the total weight and
 * weighted sum of the pseudo-values (either pointer may be NULL).  Returns
 * EM_OK, EM_ERR_ARGUMENT (NULL data, K out of range, K > 1 and cuts NULL),
 * EM_ERR_DATA (a negative or non-finite value or weight, or no positive
 * weight) or EM_ERR_NOMEM. */
int em_init_cuts(const em_data *data, int K, double *cuts, double *total_weight,
                 double *total_wx);

/* The quantile start (see above) into w[0..K-1], mu[0..K-1].  Returns EM_OK
 * or the error of em_init_cuts. */
int em_init_quantile(const em_data *data, int K, double *w, double *mu);

#ifdef __cplusplus
}
#endif
#endif /* EM_INIT_H */
