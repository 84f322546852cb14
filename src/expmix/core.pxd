# cython: language_level=3
"""The public Cython API of expmix: ``from expmix cimport core``.

The manual is the docstring of :mod:`expmix.core` (``help(expmix.core)``)
and docs/cython-api.md.  In short:

- the structs below are the C structs of ``expmix.h`` (shipped in the
  package; ``expmix.get_include()`` gives its directory);
- every function is ``noexcept nogil``, reentrant and thread-safe, and
  reports failure through its return value -- an ``em_status`` code,
  negative on error -- never through a Python exception;
- the functions are exported through the C-API capsule of the compiled
  module ``expmix.core`` (``expmix.core.__pyx_capi__``), which Cython
  imports when a module cimporting this file is imported: a downstream
  extension links against nothing.
"""
from libc.stdint cimport int64_t

# Types and constants of the C core.  Only types are taken from the header;
# the functions are reached through the cdef functions declared further down.
cdef extern from "expmix.h" nogil:
    int EXPMIX_C_API_VERSION    # version of the C API of the header
    int EM_BLOCK                # observations per reduction block
    int EM_MAX_COMPONENTS       # largest K accepted (256)

    ctypedef enum em_status:
        EM_OK                   # 0: a pass or an evaluation succeeded
        EM_CONVERGED            # 0: fit met the tolerance
        EM_MAX_ITER             # 1: fit stopped at max_iter (parameters usable)
        EM_DEGENERATE           # 2: fit stopped: a weight vanished or a rate diverged
        EM_INTERRUPTED          # 3: fit stopped by the interrupt callback
        EM_ERR_ARGUMENT         # -1: NULL pointer, K out of range, bad option, ...
        EM_ERR_DATA             # -2: a data value out of range (NaN, negative, a >= b, ...)
        EM_ERR_NOMEM            # -3: the workspace could not be allocated
        EM_ERR_NUMERIC          # -4: the log-likelihood is not finite at the parameters
        EM_ERR_NO_INFO          # -5: the data say nothing about the rates

    # One data set: four segments, each may be empty (n = 0).  A weight
    # pointer may be NULL (all weights 1).  The caller owns the buffers.
    ctypedef struct em_data:
        int64_t n_exact         # exact observations x_i >= 0
        const double *exact
        const double *exact_w
        int64_t n_right         # right-censored: the event happened after c_i
        const double *right
        const double *right_w
        int64_t n_interval      # interval-censored: a_i < x_i < b_i
        const double *lower
        const double *upper
        const double *interval_w
        int64_t n_trunc         # truncation pairs (t_j, v_j): seen only if x > t_j
        const double *trunc
        const double *trunc_w

    # Sufficient statistics of one fused pass (resp, resp_x: caller buffers of K).
    ctypedef struct em_stats:
        int n_components
        double loglik           # observed-data log-likelihood (weighted, truncation applied)
        double weight           # total observed weight
        double *resp            # [K] sum_i v_i r_ik
        double *resp_x          # [K] sum_i v_i r_ik E[x_i | obs_i, k]

    ctypedef int (*em_interrupt_fn)(void *ctx) noexcept nogil

    ctypedef struct em_options:
        int64_t max_iter        # >= 0 M-steps at most (default 1000)
        double tol              # stop when |delta mean loglik| < tol (default 1e-10)
        int n_threads           # threads of the block-parallel pass (default 1)
        int accel               # 2 Anderson (default), 1 SQUAREM, 0 plain EM
        double weight_floor     # degenerate if some w_k < weight_floor (1e-12)
        double rate_ceiling     # degenerate if mu_k * scale > rate_ceiling (1e14)
        double scale            # a typical data value (default 1; see data_scale)
        em_interrupt_fn interrupt   # may be NULL
        void *interrupt_ctx
        double interrupt_seconds

    ctypedef struct em_result:
        int status              # em_status of the fit
        int64_t n_iter          # M-steps taken
        int64_t n_passes        # fused passes evaluated
        double loglik           # log-likelihood at the returned parameters
        double weight           # total observed weight
        int degenerate_component    # offending component or -1
        int degenerate_kind     # 0 none, 1 weight vanished, 2 rate diverged
        double *history         # caller buffer [max_iter + 1] or NULL
        int64_t n_history       # entries written to history


# ---------------------------------------------------------------------------
# Functions (defined in core.pyx, exported through expmix.core.__pyx_capi__).
# K is the number of components, w[K] the weights (sum 1), mu[K] the rates.

# Version of the C API compiled into expmix.core (compare EXPMIX_C_API_VERSION).
cdef int api_version() noexcept nogil
# 1 if expmix.core was built with OpenMP, else 0.
cdef int openmp_enabled() noexcept nogil

# Set every count of data to 0 and every pointer to NULL.
cdef void data_init(em_data *data) noexcept nogil
# The defaults of ExponentialMixture: max_iter 1000, tol 1e-10, 1 thread,
# Anderson acceleration, weight_floor 1e-12, rate_ceiling 1e14, scale 1, no interrupt.
cdef void options_default(em_options *opt) noexcept nogil
# Zero a result; history (may be NULL) must hold max_iter + 1 doubles.
cdef void result_init(em_result *result, double *history) noexcept nogil

# EM_OK, EM_ERR_ARGUMENT or EM_ERR_DATA.
cdef int data_check(const em_data *data) noexcept nogil
# Weighted mean of the finite bounds (or 1): what the Python API uses as opt.scale.
cdef double data_scale(const em_data *data) noexcept nogil

# Fit by EM (Anderson acceleration by default) from (w, mu), overwritten in place.
# opt NULL: options_default() with scale = data_scale(data), exactly what
# ExponentialMixture(tol=1e-10, max_iter=1000) does for one start.
# result may be NULL.  Returns result.status: >= 0 (w, mu usable), < 0 error.
cdef int fit(const em_data *data, int K, double *w, double *mu,
             const em_options *opt, em_result *result) noexcept nogil
# n_problems independent fits over n_threads threads (w, mu: [n_problems * K]).
cdef int fit_batch(int64_t n_problems, const em_data *data, int K,
                   double *w, double *mu, const em_options *opts, int same_options,
                   em_result *results, int n_threads) noexcept nogil

# The fused E+M-statistics pass alone: stats.loglik, stats.weight,
# stats.resp[K], stats.resp_x[K] at (w, mu).
cdef int fused_pass(const em_data *data, int K, const double *w, const double *mu,
                    int n_threads, em_stats *stats) noexcept nogil
# The M-step: w_k = resp_k / sum resp, mu_k = resp_k / resp_x_k.
cdef void mstep(int K, const double *resp, const double *resp_x,
                double *w, double *mu) noexcept nogil
# Observed-data log-likelihood at (w, mu) (truncation applied) into *loglik.
cdef int log_likelihood(const em_data *data, int K, const double *w, const double *mu,
                        int n_threads, double *loglik) noexcept nogil

# Observations are numbered exact, then right-censored, then interval
# (n = n_exact + n_right + n_interval); truncation is not applied by the
# three functions below (subtract log_survival at the entry time).
# out[i*K + k] = log w_k + log L_ik (density, survival or interval probability).
cdef int log_joint(const em_data *data, int K, const double *w, const double *mu,
                   double *out, int n_threads) noexcept nogil
# out[i*K + k] = r_ik, the posterior probability of component k (rows sum to 1).
cdef int responsibilities(const em_data *data, int K, const double *w, const double *mu,
                          double *out, int n_threads) noexcept nogil
# out[i] = log L_i = log sum_k w_k L_ik; no N x K buffer needed.
cdef int score_samples(const em_data *data, int K, const double *w, const double *mu,
                       double *out) noexcept nogil
# out[j] = log S(t_j) = log sum_k w_k exp(-mu_k t_j).
cdef int log_survival(int64_t n, const double *t, int K, const double *w,
                      const double *mu, double *out) noexcept nogil

# Static name of a status code ("converged", "max_iter", ..., "invalid argument").
cdef const char *status_name(int status) noexcept nogil
