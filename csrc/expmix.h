/* expmix.h -- public C API of the expmix core.
 *
 * Maximum-likelihood fitting of finite mixtures of exponential distributions,
 *     p(x) = sum_k w_k mu_k exp(-mu_k x),  x >= 0,
 * by EM, with every observation kind handled exactly in one fused pass:
 *
 *   exact            x_i observed                         density f(x_i)
 *   right-censored   x_i > c_i                             survival S(c_i)
 *   interval         a_i < x_i < b_i, 0 <= a_i < b_i < inf  F(b_i) - F(a_i)
 *   truncation       an observation is seen only if x > t  divide by S(t)
 *
 * Each kind lives in its own contiguous segment (structure of arrays), so the
 * hot loop of each segment is branch-free.  Truncation is a segment of its own:
 * a pair (t_j, v_j) contributes -v_j log S(t_j) to the log-likelihood, and its
 * EM statistics are those of the unobserved points below t_j (missing-data EM
 * for truncated samples, Dempster, Laird & Rubin 1977, sec. 4.2; McLachlan &
 * Jones 1988).  A per-observation entry time is one pair per observation; a
 * common dead time is a single pair (t, total weight).
 *
 * Conventions
 *   - No Python, no global state; every function is thread-safe and reentrant.
 *   - Indices and counts are int64_t.
 *   - Errors are returned as negative status codes (enum em_status); no function
 *     prints, aborts or longjmps.
 *   - Determinism: a pass cuts each segment into blocks of EM_BLOCK observations;
 *     each block writes its partial sums to its own slot; slots are added by a
 *     fixed pairwise tree.  Results are bitwise identical for every thread count
 *     (for a given build and CPU code path).
 *   - Parameters are w[0..K-1] (weights, sum 1) and mu[0..K-1] (rates > 0).
 */
#ifndef EXPMIX_H
#define EXPMIX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXPMIX_C_API_VERSION 1

/* Observations per reduction block (fixed: it defines the summation order). */
#define EM_BLOCK 2048

/* Largest number of components the core accepts. */
#define EM_MAX_COMPONENTS 256

typedef enum em_status {
    EM_OK = 0,              /* a pass or evaluation succeeded                  */
    EM_CONVERGED = 0,       /* fit: |delta mean log-likelihood| < tol          */
    EM_MAX_ITER = 1,        /* fit: max_iter reached before convergence         */
    EM_DEGENERATE = 2,      /* fit: a weight vanished or a rate diverged        */
    EM_INTERRUPTED = 3,     /* fit: the interrupt callback asked to stop        */
    EM_ERR_ARGUMENT = -1,   /* invalid argument (NULL pointer, K out of range,
                               negative count, bad option)                      */
    EM_ERR_DATA = -2,       /* invalid data value (negative, NaN, inf, a > b...)*/
    EM_ERR_NOMEM = -3,      /* allocation failed                                */
    EM_ERR_NUMERIC = -4,    /* non-finite log-likelihood at the parameters      */
    EM_ERR_NO_INFO = -5     /* the data carry no information about the rates    */
} em_status;

/* The data of one fit.  Any segment may be empty (n = 0, pointers ignored).
 * A weight pointer may be NULL, meaning every weight is 1.  Weights must be
 * finite and >= 0.  The caller owns all buffers; they are only read. */
typedef struct em_data {
    int64_t n_exact;            /* exact observations                          */
    const double *exact;        /* x_i >= 0, finite                            */
    const double *exact_w;

    int64_t n_right;            /* right-censored: event after c_i             */
    const double *right;        /* c_i >= 0, finite                            */
    const double *right_w;

    int64_t n_interval;         /* interval-censored: a_i < x < b_i            */
    const double *lower;        /* a_i >= 0                                    */
    const double *upper;        /* b_i > a_i, finite                           */
    const double *interval_w;

    int64_t n_trunc;            /* truncation pairs: condition on x > t_j      */
    const double *trunc;        /* t_j >= 0, finite                            */
    const double *trunc_w;      /* v_j: the weight of observations entering at t_j */
} em_data;

/* Sufficient statistics of one pass at given parameters. */
typedef struct em_stats {
    int n_components;
    double loglik;              /* observed-data log-likelihood (weighted)     */
    double weight;              /* total observed weight sum_i v_i              */
    double *resp;               /* [K] expected complete-data counts sum r_ik   */
    double *resp_x;             /* [K] expected sum r_ik E[x_i | obs_i, k]      */
} em_stats;

/* Called between EM iterations, never from inside a parallel region.  Return
 * nonzero to stop the fit (status EM_INTERRUPTED). */
typedef int (*em_interrupt_fn)(void *ctx);

typedef struct em_options {
    int64_t max_iter;           /* >= 0: number of M-steps at most              */
    double tol;                 /* >= 0: stop when |delta mean loglik| < tol    */
    int n_threads;              /* >= 1: threads of the block-parallel pass     */
    int accel;                  /* 0: plain EM; 1: SQUAREM; 2: Anderson (default) */
    double weight_floor;        /* degenerate if some w_k < weight_floor        */
    double rate_ceiling;        /* degenerate if mu_k * scale > rate_ceiling,   */
    double scale;               /*   scale: a typical data value (> 0)          */
    em_interrupt_fn interrupt;  /* may be NULL                                   */
    void *interrupt_ctx;
    double interrupt_seconds;   /* call interrupt at most this often (0: every iteration) */
} em_options;

typedef struct em_result {
    int status;                 /* enum em_status                               */
    int64_t n_iter;             /* M-steps taken                                */
    int64_t n_passes;           /* fused passes evaluated                       */
    double loglik;              /* log-likelihood at the returned parameters    */
    double weight;              /* total observed weight                        */
    int degenerate_component;   /* index of the offending component, or -1      */
    int degenerate_kind;        /* 0 none, 1 weight vanished (< weight_floor),
                                   2 rate diverged (mu*scale > rate_ceiling)    */
    double *history;            /* caller buffer [max_iter + 1] or NULL: mean
                                   log-likelihood at each iterate, history[0] at
                                   the start                                     */
    int64_t n_history;          /* entries written to history                   */
} em_result;

/* Defaults: max_iter 1000, tol 1e-10, 1 thread, Anderson acceleration, weight_floor 1e-12,
 * rate_ceiling 1e14, scale 1, no interrupt. */
void em_options_default(em_options *opt);

/* Check a data set: counts >= 0, pointers present, values in range, weights
 * finite and >= 0.  Returns EM_OK, EM_ERR_ARGUMENT or EM_ERR_DATA. */
int em_data_check(const em_data *data);

/* A typical magnitude of the data (weighted mean of the finite bounds, or 1);
 * used as options.scale for the divergence guard. */
double em_data_scale(const em_data *data);

/* One fused pass: log-likelihood and EM statistics at (w, mu) in one read of
 * the data.  stats->resp and stats->resp_x must hold K doubles each.
 * n_threads >= 1.  Returns EM_OK, EM_ERR_ARGUMENT, EM_ERR_NOMEM or
 * EM_ERR_NUMERIC (the log-likelihood is not finite: an observation has zero
 * probability under the parameters). */
int em_pass(const em_data *data, int K, const double *w, const double *mu,
            int n_threads, em_stats *stats);

/* The M-step from statistics: w_k = R_k / sum R, mu_k = R_k / X_k. */
void em_mstep(int K, const double *resp, const double *resp_x, double *w, double *mu);

/* Fit by EM from the starting point (w, mu), which is overwritten by the
 * result.  Returns result->status.  No allocation inside the iteration loop. */
int em_fit(const em_data *data, int K, double *w, double *mu,
           const em_options *opt, em_result *result);

/* Many independent fits, spread over n_threads threads, each fit
 * single-threaded (opts[i].n_threads is ignored).  Problem i fits data[i]
 * from (w + i*K, mu + i*K) in place, with options opts[i] (or opts[0] when
 * same_options is nonzero) and result results[i]; history buffers are
 * per-problem.  Returns EM_OK or EM_ERR_ARGUMENT; per-problem status is in
 * results[i].status.  The interrupt callback of opts[0] (if not NULL) is
 * called only from the calling thread, at most every opts[0].interrupt_seconds
 * while that thread runs a fit; once it returns nonzero every running fit stops
 * with EM_INTERRUPTED and fits not yet started are skipped (status
 * EM_INTERRUPTED, n_iter 0, parameters untouched). */
int em_fit_batch(int64_t n_problems, const em_data *data, int K,
                 double *w, double *mu, const em_options *opts, int same_options,
                 em_result *results, int n_threads);

/* Per-observation log-densities of the observation's own kind:
 * out[i*K + k] = log w_k + log L_ik, where L_ik is the density (exact), survival
 * (right) or interval probability of observation i under component k;
 * observations are ordered exact, right, interval.  Truncation is not applied
 * (subtract em_log_survival at the entry time).  Returns EM_OK or an error. */
int em_log_joint(const em_data *data, int K, const double *w, const double *mu,
                 double *out, int n_threads);

/* log S(t) = log sum_k w_k exp(-mu_k t) for n values of t. */
int em_log_survival(int64_t n, const double *t, int K, const double *w,
                    const double *mu, double *out);

/* Human-readable name of a status code (static string). */
const char *em_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif /* EXPMIX_H */
