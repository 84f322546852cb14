# cython: language_level=3
"""C declarations of the expmix core (csrc/expmix.h) for Cython.

Every function is ``nogil`` and signals errors by its return value (a
``em_status`` code), never by a Python exception.
"""
from libc.stdint cimport int64_t

cdef extern from "expmix.h" nogil:
    int EXPMIX_C_API_VERSION
    int EM_BLOCK
    int EM_MAX_COMPONENTS

    ctypedef enum em_status:
        EM_OK
        EM_CONVERGED
        EM_MAX_ITER
        EM_DEGENERATE
        EM_INTERRUPTED
        EM_ERR_ARGUMENT
        EM_ERR_DATA
        EM_ERR_NOMEM
        EM_ERR_NUMERIC
        EM_ERR_NO_INFO

    ctypedef struct em_data:
        int64_t n_exact
        const double *exact
        const double *exact_w
        int64_t n_right
        const double *right
        const double *right_w
        int64_t n_interval
        const double *lower
        const double *upper
        const double *interval_w
        int64_t n_trunc
        const double *trunc
        const double *trunc_w

    ctypedef struct em_stats:
        int n_components
        double loglik
        double weight
        double *resp
        double *resp_x

    ctypedef int (*em_interrupt_fn)(void *ctx) noexcept nogil

    ctypedef struct em_options:
        int64_t max_iter
        double tol
        int n_threads
        int accel
        double weight_floor
        double rate_ceiling
        double scale
        em_interrupt_fn interrupt
        void *interrupt_ctx
        double interrupt_seconds

    ctypedef struct em_result:
        int status
        int64_t n_iter
        int64_t n_passes
        double loglik
        double weight
        int degenerate_component
        int degenerate_kind
        double *history
        int64_t n_history

    void em_options_default(em_options *opt)
    int em_data_check(const em_data *data)
    double em_data_scale(const em_data *data)
    int em_pass(const em_data *data, int K, const double *w, const double *mu,
                int n_threads, em_stats *stats)
    void em_mstep(int K, const double *resp, const double *resp_x, double *w, double *mu)
    int em_fit(const em_data *data, int K, double *w, double *mu,
               const em_options *opt, em_result *result)
    int em_fit_batch(int64_t n_problems, const em_data *data, int K,
                     double *w, double *mu, const em_options *opts, int same_options,
                     em_result *results, int n_threads)
    int em_log_joint(const em_data *data, int K, const double *w, const double *mu,
                     double *out, int n_threads)
    int em_log_survival(int64_t n, const double *t, int K, const double *w,
                        const double *mu, double *out)
    const char *em_status_name(int status)
