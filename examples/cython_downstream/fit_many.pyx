# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""A downstream extension of expmix: thousands of small fits in a prange loop.

It uses only the public Cython API (``from expmix cimport core``), releases
the GIL once for the whole loop, and runs one single-threaded expmix fit per
data set on each OpenMP thread.  It links against nothing from expmix: the
functions are reached through the C-API capsules of ``expmix.core``.

Data layout (CSR-like): data set ``i`` is
``values[offsets[i]:offsets[i + 1]]``; its last ``n_censored[i]`` values are
right-censoring times, the others exact observations; ``entry[i] > 0`` is a
dead time (the data set is left-truncated there).
"""
from cython.parallel cimport prange
from libc.stdint cimport int64_t

from expmix cimport core

import numpy as np

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int fm_omp_enabled(void) { return 1; }
    static int fm_default_threads(void) { return omp_get_max_threads(); }
    #else
    static int fm_omp_enabled(void) { return 0; }
    static int fm_default_threads(void) { return 1; }
    #endif
    """
    int _omp_enabled "fm_omp_enabled" () nogil
    int _default_threads "fm_default_threads" () nogil


cdef int _fit_one(const double *x,      # IN  [n] exact values, then censoring times
                  int64_t n,            # IN  number of values
                  int64_t n_cens,       # IN  how many of them (at the end) are censored
                  double entry,         # IN  dead time (0: none)
                  int K,                # IN  components
                  double *w,            # IN/OUT [K] start, then estimate
                  double *mu,           # IN/OUT [K]
                  double *loglik,       # OUT
                  int64_t *n_iter       # OUT
                  ) noexcept nogil:
    cdef core.em_data d
    cdef core.em_result r
    cdef double t = entry
    cdef double v = <double>n
    cdef int st
    core.data_init(&d)
    d.n_exact = n - n_cens
    d.exact = x
    d.n_right = n_cens
    d.right = x + (n - n_cens)
    if entry > 0:
        d.n_trunc = 1           # one pair: all n observations entered at t
        d.trunc = &t
        d.trunc_w = &v
    core.result_init(&r, NULL)
    # NULL options: the defaults of expmix.ExponentialMixture (tol 1e-10,
    # max_iter 1000, Anderson acceleration, one thread, scale from the data).
    st = core.fit(&d, K, w, mu, NULL, &r)
    loglik[0] = r.loglik
    n_iter[0] = r.n_iter
    return st


def fit_many(const double[::1] values, const int64_t[::1] offsets, double[:, ::1] w,
             double[:, ::1] mu, n_censored=None, entry=None, int n_threads=0):
    """Fit one K-component mixture to each data set, in parallel.

    Parameters
    ----------
    values : float64 array
        All data sets, concatenated.
    offsets : int64 array of shape (P + 1,)
        Data set ``i`` is ``values[offsets[i]:offsets[i + 1]]``.
    w, mu : float64 arrays of shape (P, K)
        Starting weights and rates, overwritten with the estimates.
    n_censored : int64 array of shape (P,), optional
        Number of right-censored values at the end of each data set.
    entry : float64 array of shape (P,), optional
        Dead time of each data set (0: none).
    n_threads : int
        OpenMP threads (0: the OpenMP default).

    Returns
    -------
    status, loglik, n_iter : arrays of shape (P,)
        The expmix status code (>= 0 success, < 0 error), log-likelihood and
        iterations of each fit.  Errors never raise: they are status codes.
    """
    cdef Py_ssize_t P = w.shape[0], i
    cdef int K = w.shape[1]
    if offsets.shape[0] != P + 1 or mu.shape[0] != P or mu.shape[1] != K:
        raise ValueError("offsets must have P + 1 entries and w, mu the shape (P, K)")
    if P > 0 and (offsets[0] != 0 or offsets[P] != values.shape[0]
                  or np.any(np.diff(np.asarray(offsets)) < 0)):
        raise ValueError("offsets must rise from 0 to len(values)")
    cens_arr = np.zeros(P, np.int64) if n_censored is None else np.ascontiguousarray(n_censored, np.int64)
    entry_arr = np.zeros(P, np.float64) if entry is None else np.ascontiguousarray(entry, np.float64)
    if cens_arr.shape != (P,) or entry_arr.shape != (P,):
        raise ValueError("n_censored and entry must have shape (P,)")
    cdef const int64_t[::1] cens = cens_arr
    cdef const double[::1] ent = entry_arr
    for i in range(P):
        if not 0 <= cens[i] <= offsets[i + 1] - offsets[i]:
            raise ValueError(f"n_censored[{i}] is out of range")
    status = np.empty(P, np.int32)
    loglik = np.empty(P, np.float64)
    n_iter = np.empty(P, np.int64)
    cdef int[::1] st = status
    cdef double[::1] ll = loglik
    cdef int64_t[::1] it = n_iter
    cdef const double *base = &values[0] if values.shape[0] > 0 else NULL
    if P == 0:
        return status, loglik, n_iter
    if n_threads <= 0:
        n_threads = _default_threads()
    with nogil:
        for i in prange(P, num_threads=n_threads, schedule="dynamic"):
            st[i] = _fit_one(base + offsets[i], offsets[i + 1] - offsets[i], cens[i], ent[i],
                             K, &w[i, 0], &mu[i, 0], &ll[i], &it[i])
    return status, loglik, n_iter


def evaluate(const double[::1] x, const double[::1] w, const double[::1] mu, right=None,
             lower=None, upper=None):
    """Responsibilities (n, K), per-observation log-likelihoods (n,) and the
    total log-likelihood under (w, mu) of exact values ``x``, optionally
    right-censoring times ``right`` and intervals ``(lower, upper)``, through
    the evaluation functions of the Cython API (observations ordered exact,
    right, interval).  Returns (status, resp, logl, total)."""
    cdef int K = w.shape[0]
    cdef core.em_data d
    cdef int st
    cdef double total = 0.0
    cdef const double[::1] rv_ = np.ascontiguousarray(right if right is not None else [], np.float64)
    cdef const double[::1] lo_ = np.ascontiguousarray(lower if lower is not None else [], np.float64)
    cdef const double[::1] up_ = np.ascontiguousarray(upper if upper is not None else [], np.float64)
    if mu.shape[0] != K or lo_.shape[0] != up_.shape[0]:
        raise ValueError("w, mu must have the same length, and lower, upper too")
    core.data_init(&d)
    d.n_exact = x.shape[0]
    d.exact = &x[0] if x.shape[0] else NULL
    d.n_right = rv_.shape[0]
    d.right = &rv_[0] if rv_.shape[0] else NULL
    d.n_interval = lo_.shape[0]
    d.lower = &lo_[0] if lo_.shape[0] else NULL
    d.upper = &up_[0] if up_.shape[0] else NULL
    cdef Py_ssize_t n = d.n_exact + d.n_right + d.n_interval
    if n == 0:
        raise ValueError("no observations")
    resp = np.empty((n, K), np.float64)
    logl = np.empty(n, np.float64)
    cdef double[:, ::1] rv = resp
    cdef double[::1] lv = logl
    with nogil:
        st = core.responsibilities(&d, K, &w[0], &mu[0], &rv[0, 0], 1)
        if st == core.EM_OK:
            st = core.score_samples(&d, K, &w[0], &mu[0], &lv[0])
        if st == core.EM_OK:
            st = core.log_likelihood(&d, K, &w[0], &mu[0], 1, &total)
    return st, resp, logl, total


def manual_em(const double[::1] x, double[::1] w, double[::1] mu, int n_steps):
    """Plain EM written out with the fused pass and the M-step of the API:
    ``n_steps`` iterations from (w, mu), updated in place.  Returns
    (status, log-likelihoods before each step and after the last)."""
    cdef int K = w.shape[0]
    cdef core.em_data d
    cdef core.em_stats s
    cdef int st = 0, j
    if mu.shape[0] != K or not 1 <= K <= core.EM_MAX_COMPONENTS or x.shape[0] == 0:
        raise ValueError("x must be non-empty and w, mu of the same length (<= 256)")
    R = np.zeros(K)
    X = np.zeros(K)
    ll = np.full(n_steps + 1, np.nan)
    cdef double[::1] Rv = R, Xv = X, llv = ll
    core.data_init(&d)
    d.n_exact = x.shape[0]
    d.exact = &x[0]
    s.resp = &Rv[0]
    s.resp_x = &Xv[0]
    with nogil:
        for j in range(n_steps + 1):
            st = core.fused_pass(&d, K, &w[0], &mu[0], 1, &s)
            if st != core.EM_OK:
                break
            llv[j] = s.loglik
            if j < n_steps:
                core.mstep(K, s.resp, s.resp_x, &w[0], &mu[0])
    return st, ll


def status_name(int status):
    """The expmix name of a status code."""
    return core.status_name(status).decode()


def openmp():
    """(whether this example was built with OpenMP, whether expmix.core was)."""
    return bool(_omp_enabled()), bool(core.openmp_enabled())
