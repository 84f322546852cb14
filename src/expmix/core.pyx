# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""
The C-level API of expmix, for Cython
=====================================

Usable from Cython via::

    from expmix cimport core

(or ``cimport expmix.core as core``).  This module exposes, as ``noexcept
nogil`` C functions, what a compiled extension needs to fit finite mixtures
of exponential distributions,

    p(x) = sum_k w_k mu_k exp(-mu_k x),   x >= 0,

by maximum likelihood inside its own loops -- for example one fit per data
set in a ``prange`` loop with the GIL released.  It is the same C core
(``csrc/``) that :class:`expmix.ExponentialMixture` calls, so a fit from the
same start with the same options gives the same numbers.

Building against it
-------------------
``expmix.get_include()`` returns the directories a downstream build needs:
the directory of the C header ``expmix.h`` (for the C compiler) and the
directory holding the ``expmix`` package with ``core.pxd`` (for Cython).
Pass the list as ``include_dirs`` of the ``Extension`` and as
``include_path`` of ``cythonize``::

    import expmix
    from setuptools import Extension, setup
    from Cython.Build import cythonize
    ext = Extension("mymod", ["mymod.pyx"], include_dirs=expmix.get_include())
    setup(ext_modules=cythonize([ext], include_path=expmix.get_include()))

Nothing has to be linked.  The functions are compiled into the extension
module ``expmix.core`` and exported through its C-API capsule table
(``expmix.core.__pyx_capi__``, the mechanism of ``scipy.special.cython_special``
and ``scipy.linalg.cython_blas``).  Cython makes a module that cimports
``expmix.core`` import it at module initialisation and fetch the function
pointers; ``expmix.h`` is only read for the struct layouts.  The downstream
extension therefore needs no library path, no OpenMP flag and no copy of
the C sources, and it keeps working with any later expmix that has the same
``EXPMIX_C_API_VERSION``.  (A header-only or static-library core was
rejected: it would compile a second copy of the core, with the build flags
and the CPU dispatch of the downstream package instead of the tested ones.)

Data and parameters
-------------------
``em_data`` describes one data set as four segments, each possibly empty
(count 0, pointers ignored); every weight pointer may be NULL (all weights
1); the caller owns every buffer and the functions only read it:

============  ====================================  ==========================
segment       fields                                meaning
============  ====================================  ==========================
exact         n_exact, exact, exact_w               x_i observed (x_i >= 0)
right         n_right, right, right_w               x_i > c_i (right-censored)
interval      n_interval, lower, upper, interval_w  a_i < x_i < b_i (a bin)
truncation    n_trunc, trunc, trunc_w               seen only if x > t_j; v_j
                                                    observations enter at t_j
============  ====================================  ==========================

A per-observation entry time is one truncation pair per observation, a
common dead time t is the single pair (t, total weight).  Parameters are
``w[K]`` (weights, sum 1) and ``mu[K]`` (rates > 0), 1 <= K <= 256
(``EM_MAX_COMPONENTS``).

Functions
---------
All functions are ``noexcept nogil``.  The ``int`` ones return an
``em_status`` code.

- ``int fit(const em_data *data, int K, double *w, double *mu, const em_options *opt, em_result *result)``
  EM with Anderson acceleration (or SQUAREM, ``opt.accel``) from (w, mu), overwritten in place by the
  estimate (in the order of the start; the Python API sorts by decreasing
  rate).  ``opt == NULL`` means the defaults of ``ExponentialMixture`` with
  ``scale = data_scale(data)``; ``result`` may be NULL.
- ``int fit_batch(int64_t n_problems, const em_data *data, int K, double *w, double *mu, const em_options *opts, int same_options, em_result *results, int n_threads)``
  many independent fits over ``n_threads`` threads, each single-threaded.
- ``int fused_pass(const em_data *data, int K, const double *w, const double *mu, int n_threads, em_stats *stats)``
  the fused E+M-statistics pass alone: log-likelihood, total weight and
  the expected counts ``resp[K]`` and expected sums ``resp_x[K]`` (caller
  buffers in ``stats``); ``mstep`` turns them into new (w, mu).
- ``int log_likelihood(data, K, w, mu, int n_threads, double *loglik)``
  the observed-data log-likelihood (truncation applied).
- ``int log_joint(data, K, w, mu, double *out, int n_threads)``
  ``out[i*K + k] = log w_k + log L_ik`` (density, survival or bin
  probability of observation i under component k).
- ``int responsibilities(data, K, w, mu, double *out, int n_threads)``
  ``out[i*K + k] = r_ik``, the posterior probabilities (rows sum to 1).
- ``int score_samples(data, K, w, mu, double *out)``
  ``out[i] = log L_i`` per observation, without an N x K buffer.
- ``int log_survival(int64_t n, const double *t, K, w, mu, double *out)``
  ``out[j] = log S(t_j)``.
- ``void data_init(em_data *data)``: every count 0, every pointer NULL.
- ``void options_default(em_options *opt)``: the defaults of the Python API
  (max_iter 1000, tol 1e-10, 1 thread, SQUAREM, weight_floor 1e-12,
  rate_ceiling 1e14, scale 1, no interrupt).
- ``void result_init(em_result *result, double *history)``: zero a result;
  ``history`` (may be NULL) receives max_iter + 1 mean log-likelihoods.
- ``int data_check(const em_data *data)``: EM_OK, EM_ERR_ARGUMENT or EM_ERR_DATA.
- ``double data_scale(const em_data *data)``: mean of the finite bounds (or 1).
- ``void mstep(int K, const double *resp, const double *resp_x, double *w, double *mu)``.
- ``const char *status_name(int status)``: a static name of a status code.
- ``int api_version()``: the EXPMIX_C_API_VERSION compiled into expmix.core.
- ``int openmp_enabled()``: 1 if expmix.core was built with OpenMP.

In ``log_joint``, ``responsibilities`` and ``score_samples`` observations are
numbered exact, then right-censored, then interval (N = n_exact + n_right +
n_interval) and truncation is not applied (subtract ``log_survival`` at an
observation's entry time to condition on it; responsibilities are not
changed by truncation).

Status codes
------------
Errors are reported by the return value, never by a Python exception; a
function that returns a negative code leaves its outputs unspecified.

===================  ====  ====================================================
code                 value meaning
===================  ====  ====================================================
EM_OK / EM_CONVERGED    0  success / the fit met ``tol``
EM_MAX_ITER             1  fit stopped at ``max_iter``; (w, mu) usable
EM_DEGENERATE           2  fit stopped: a weight fell below ``weight_floor``
                           (``result.degenerate_kind == 1``) or a rate
                           diverged (``== 2``, a spike on tied values/zeros)
EM_INTERRUPTED          3  the ``opt.interrupt`` callback returned nonzero
EM_ERR_ARGUMENT        -1  NULL pointer, K out of range, bad parameter/option
EM_ERR_DATA            -2  a data value out of range (NaN, inf, negative,
                           lower >= upper, negative weight)
EM_ERR_NOMEM           -3  the workspace could not be allocated
EM_ERR_NUMERIC         -4  the log-likelihood is not finite at (w, mu)
EM_ERR_NO_INFO         -5  the data carry no information about the rates
===================  ====  ====================================================

So ``st >= 0`` means the outputs are valid; ``status_name(st)`` gives a
static string for messages.

Threads
-------
Every function is reentrant and thread-safe: no global state, no
allocation that outlives a call, the caller's buffers are only read (except
the documented outputs).  ``n_threads`` (and ``opt.n_threads``) is the
number of OpenMP threads *inside* one call; results are bitwise identical
for every value.  Inside your own ``prange`` keep it at 1 (the default of
``options_default``): parallelise over fits, not within them, and never
nest.  ``fit_batch`` does the same over a table of problems for you.  The
interrupt callback is called between iterations from the calling thread;
leave it NULL in nogil loops.
"""
from libc.math cimport exp, log, INFINITY
from libc.string cimport memset

cdef extern from "expmix.h" nogil:
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

cdef extern from *:
    """
    #ifdef _OPENMP
    static int expmix_core_omp(void) { return 1; }
    #else
    static int expmix_core_omp(void) { return 0; }
    #endif
    """
    int expmix_core_omp() nogil

# Stack scratch of score_samples, and the largest K of the stack buffers.
cdef enum:
    _SCRATCH = 4096
    _KMAX = 256

C_API_VERSION = EXPMIX_C_API_VERSION
OPENMP = bool(expmix_core_omp())
FUNCTIONS = ("api_version", "openmp_enabled", "data_init", "options_default", "result_init",
             "data_check", "data_scale", "fit", "fit_batch", "fused_pass", "mstep",
             "log_likelihood", "log_joint", "responsibilities", "score_samples",
             "log_survival", "status_name")


cdef int api_version() noexcept nogil:
    return EXPMIX_C_API_VERSION


cdef int openmp_enabled() noexcept nogil:
    return expmix_core_omp()


cdef void data_init(em_data *data) noexcept nogil:
    if data != NULL:
        memset(data, 0, sizeof(em_data))


cdef void options_default(em_options *opt) noexcept nogil:
    if opt != NULL:
        em_options_default(opt)


cdef void result_init(em_result *result, double *history) noexcept nogil:
    if result != NULL:
        memset(result, 0, sizeof(em_result))
        result.degenerate_component = -1
        result.history = history


cdef int data_check(const em_data *data) noexcept nogil:
    if data == NULL:
        return EM_ERR_ARGUMENT
    return em_data_check(data)


cdef double data_scale(const em_data *data) noexcept nogil:
    if data == NULL:
        return 1.0
    return em_data_scale(data)


cdef int fit(const em_data *data,       # IN  the data set
             int K,                     # IN  number of components
             double *w,                 # IN/OUT [K] weights: start, then estimate
             double *mu,                # IN/OUT [K] rates: start, then estimate
             const em_options *opt,     # IN  options, or NULL for the defaults
             em_result *result          # OUT status, iterations, loglik; may be NULL
             ) noexcept nogil:
    cdef em_options o
    cdef em_result r
    if data == NULL:
        return EM_ERR_ARGUMENT
    if opt == NULL:
        em_options_default(&o)
        o.scale = em_data_scale(data)
        opt = &o
    if result == NULL:
        result_init(&r, NULL)
        result = &r
    return em_fit(data, K, w, mu, opt, result)


cdef int fit_batch(int64_t n_problems, const em_data *data, int K,
                   double *w, double *mu, const em_options *opts, int same_options,
                   em_result *results, int n_threads) noexcept nogil:
    return em_fit_batch(n_problems, data, K, w, mu, opts, same_options, results, n_threads)


cdef int fused_pass(const em_data *data, int K, const double *w, const double *mu,
                    int n_threads, em_stats *stats) noexcept nogil:
    if data == NULL or stats == NULL or stats.resp == NULL or stats.resp_x == NULL:
        return EM_ERR_ARGUMENT
    return em_pass(data, K, w, mu, n_threads if n_threads > 0 else 1, stats)


cdef void mstep(int K, const double *resp, const double *resp_x,
                double *w, double *mu) noexcept nogil:
    em_mstep(K, resp, resp_x, w, mu)


cdef int log_likelihood(const em_data *data, int K, const double *w, const double *mu,
                        int n_threads, double *loglik) noexcept nogil:
    cdef double R[_KMAX]
    cdef double X[_KMAX]
    cdef em_stats s
    cdef int st
    if loglik == NULL or K < 1 or K > _KMAX or K > EM_MAX_COMPONENTS:
        return EM_ERR_ARGUMENT
    s.n_components = K
    s.resp = R
    s.resp_x = X
    st = fused_pass(data, K, w, mu, n_threads, &s)
    if st == EM_OK:
        loglik[0] = s.loglik
    return st


cdef int log_joint(const em_data *data, int K, const double *w, const double *mu,
                   double *out, int n_threads) noexcept nogil:
    if data == NULL:
        return EM_ERR_ARGUMENT
    return em_log_joint(data, K, w, mu, out, n_threads if n_threads > 0 else 1)


cdef inline double _logsumexp(const double *a, int K) noexcept nogil:
    cdef double mx = -INFINITY, s = 0.0
    cdef int k
    for k in range(K):
        if a[k] > mx:
            mx = a[k]
    if mx == -INFINITY or mx != mx:
        return mx
    for k in range(K):
        s += exp(a[k] - mx)
    return mx + log(s)


cdef int responsibilities(const em_data *data, int K, const double *w, const double *mu,
                          double *out, int n_threads) noexcept nogil:
    cdef int st = log_joint(data, K, w, mu, out, n_threads)
    cdef int64_t i, n
    cdef int k
    cdef double lse
    cdef double *row
    if st != EM_OK:
        return st
    n = data.n_exact + data.n_right + data.n_interval
    for i in range(n):
        row = out + i * K
        lse = _logsumexp(row, K)
        if not (-INFINITY < lse < INFINITY):
            return EM_ERR_NUMERIC
        for k in range(K):
            row[k] = exp(row[k] - lse)
    return EM_OK


cdef int score_samples(const em_data *data, int K, const double *w, const double *mu,
                       double *out) noexcept nogil:
    # Cut each segment into chunks whose log-joint fits a stack buffer.
    cdef double buf[_SCRATCH]
    cdef em_data sub
    cdef int64_t chunk, n, i0, m, i, base = 0
    cdef int seg, st
    if data == NULL or out == NULL or K < 1 or K > _KMAX or K > EM_MAX_COMPONENTS:
        return EM_ERR_ARGUMENT
    st = em_data_check(data)
    if st != EM_OK:
        return st
    chunk = _SCRATCH // K
    for seg in range(3):
        n = data.n_exact if seg == 0 else (data.n_right if seg == 1 else data.n_interval)
        i0 = 0
        while i0 < n:
            m = n - i0 if n - i0 < chunk else chunk
            memset(&sub, 0, sizeof(em_data))
            if seg == 0:
                sub.n_exact = m
                sub.exact = data.exact + i0
            elif seg == 1:
                sub.n_right = m
                sub.right = data.right + i0
            else:
                sub.n_interval = m
                sub.lower = data.lower + i0
                sub.upper = data.upper + i0
            st = em_log_joint(&sub, K, w, mu, buf, 1)
            if st != EM_OK:
                return st
            for i in range(m):
                out[base + i] = _logsumexp(buf + i * K, K)
            base += m
            i0 += m
    return EM_OK


cdef int log_survival(int64_t n, const double *t, int K, const double *w,
                      const double *mu, double *out) noexcept nogil:
    return em_log_survival(n, t, K, w, mu, out)


cdef const char *status_name(int status) noexcept nogil:
    return em_status_name(status)
