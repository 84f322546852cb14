# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython bridge to the expmix C core.

The functions here take an *observation set*: any object with the attributes
``exact, exact_w, right, right_w, lower, upper, interval_w, trunc, trunc_w``,
each ``None`` or a 1-D C-contiguous float64 array (see
:class:`expmix.observations.Observations`).  They release the GIL around every
call into C.  Validation of user input happens in the Python facade; the C core
checks again and reports any violation through a status code, which is turned
into an exception here.
"""
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport malloc, free
from libc.string cimport memset, strcmp
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS, PyBUF_FORMAT

import numpy as np

from expmix._core cimport *

cdef extern from "Python.h":
    int PyErr_CheckSignals_raw "PyErr_CheckSignals" () nogil

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int expmix_omp_enabled(void) { return 1; }
    static int expmix_omp_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int expmix_omp_enabled(void) { return 0; }
    static int expmix_omp_max_threads(void) { return 1; }
    #endif
    """
    int expmix_omp_enabled() nogil
    int expmix_omp_max_threads() nogil

STATUS_NAMES = {
    EM_CONVERGED: "converged",
    EM_MAX_ITER: "max_iter",
    EM_DEGENERATE: "degenerate",
    EM_INTERRUPTED: "interrupted",
}

BLOCK_SIZE = EM_BLOCK
MAX_COMPONENTS = EM_MAX_COMPONENTS
C_API_VERSION = EXPMIX_C_API_VERSION


def openmp_enabled():
    """True if the extension was built with OpenMP."""
    return bool(expmix_omp_enabled())


def omp_max_threads():
    """omp_get_max_threads() (honours OMP_NUM_THREADS), or 1 without OpenMP."""
    return expmix_omp_max_threads()


cdef const double *_ptr(object arr, int64_t n) except? NULL:
    cdef const double[::1] mv
    if arr is None or n == 0:
        return NULL
    mv = arr
    return &mv[0]


cdef int _fill(em_data *d, object obs) except -1:
    memset(d, 0, sizeof(em_data))
    if obs.exact is not None:
        d.n_exact = obs.exact.shape[0]
        d.exact = _ptr(obs.exact, d.n_exact)
        d.exact_w = _ptr(obs.exact_w, d.n_exact)
    if obs.right is not None:
        d.n_right = obs.right.shape[0]
        d.right = _ptr(obs.right, d.n_right)
        d.right_w = _ptr(obs.right_w, d.n_right)
    if obs.lower is not None:
        d.n_interval = obs.lower.shape[0]
        d.lower = _ptr(obs.lower, d.n_interval)
        d.upper = _ptr(obs.upper, d.n_interval)
        d.interval_w = _ptr(obs.interval_w, d.n_interval)
    if obs.trunc is not None:
        d.n_trunc = obs.trunc.shape[0]
        d.trunc = _ptr(obs.trunc, d.n_trunc)
        d.trunc_w = _ptr(obs.trunc_w, d.n_trunc)
    return 0


cdef int _raise_pending() except -1:
    # Called only when an exception is set (by PyErr_CheckSignals).
    return -1


cdef int _check_signals(void *ctx) noexcept nogil:
    with gil:
        return 1 if PyErr_CheckSignals_raw() != 0 else 0


def _check_params(w, mu, str what):
    """w and mu: same length, 1 <= K <= EM_MAX_COMPONENTS."""
    if w.shape[0] != mu.shape[0]:
        raise ValueError(f"{what}: w and mu must have the same length, got {w.shape[0]} "
                         f"and {mu.shape[0]}")
    if not 1 <= w.shape[0] <= EM_MAX_COMPONENTS:
        raise ValueError(f"{what}: the number of components (length of w) must be between 1 "
                         f"and {EM_MAX_COMPONENTS}, got {w.shape[0]}")


def _raise_status(int st, str what):
    if st == EM_ERR_NOMEM:
        raise MemoryError(f"{what}: the C core could not allocate its workspace")
    if st == EM_ERR_DATA:
        raise ValueError(f"{what}: the data contain a value out of range "
                         "(negative, NaN, inf, or an interval with lower >= upper)")
    if st == EM_ERR_NUMERIC:
        raise FloatingPointError(
            f"{what}: the log-likelihood is not finite at these parameters "
            "(an observation has zero probability under the model)")
    if st == EM_ERR_NO_INFO:
        raise ValueError(f"{what}: the data carry no information about the rates "
                         "(no exact observation and no interval with a positive lower bound)")
    raise ValueError(f"{what}: invalid argument ({em_status_name(st).decode()})")


cdef void _options(em_options *o, int64_t max_iter, double tol, int n_threads, int accel,
                   double weight_floor, double rate_ceiling, double scale):
    em_options_default(o)
    o.max_iter = max_iter
    o.tol = tol
    o.n_threads = n_threads if n_threads > 0 else 1
    o.accel = accel
    o.weight_floor = weight_floor
    o.rate_ceiling = rate_ceiling
    o.scale = scale


def data_scale(obs):
    """A typical magnitude of the data (mean of the finite bounds)."""
    cdef em_data d
    _fill(&d, obs)
    with nogil:
        s = em_data_scale(&d)
    return s


def fit(obs, double[::1] w, double[::1] mu, *, int64_t max_iter=1000, double tol=1e-10,
        int n_threads=1, int accel=2, double weight_floor=1e-12, double rate_ceiling=1e14,
        double scale=1.0, bint history=True, bint interruptible=True):
    """Fit by EM in C from (w, mu), which are overwritten with the result.

    Returns a dict: status (int), status_name, n_iter, n_passes, loglik,
    weight, degenerate_component, history (array of mean log-likelihoods).
    Raises KeyboardInterrupt if interrupted by a signal (w, mu then hold the
    last iterate), and ValueError/MemoryError for errors reported by C.
    """
    cdef em_data d
    cdef em_options o
    cdef em_result r
    cdef int K = w.shape[0]
    cdef int st
    cdef double[::1] hist
    _check_params(w, mu, "fit")
    if max_iter < 0:
        raise ValueError(f"fit: max_iter must be >= 0, got {max_iter}")
    _fill(&d, obs)
    _options(&o, max_iter, tol, n_threads, accel, weight_floor, rate_ceiling, scale)
    if interruptible:
        o.interrupt = _check_signals
        o.interrupt_seconds = 0.2
    memset(&r, 0, sizeof(em_result))
    hist_arr = np.empty(max_iter + 1 if history else 0, dtype=np.float64)
    if history:
        hist = hist_arr
        r.history = &hist[0]
    with nogil:
        st = em_fit(&d, K, &w[0], &mu[0], &o, &r)
    if st == EM_INTERRUPTED and interruptible:
        _raise_pending()
    if st < 0:
        _raise_status(st, "fit")
    return {
        "status": st,
        "status_name": STATUS_NAMES.get(st, "unknown"),
        "n_iter": r.n_iter,
        "n_passes": r.n_passes,
        "loglik": r.loglik,
        "weight": r.weight,
        "degenerate_component": r.degenerate_component,
        "degenerate_kind": r.degenerate_kind,
        "history": hist_arr[:r.n_history].copy() if history else None,
    }


def fit_batch(list problems, double[:, ::1] w, double[:, ::1] mu, *, int64_t max_iter=1000,
              double tol=1e-10, int accel=2, double weight_floor=1e-12, double rate_ceiling=1e14,
              scales=None, int n_threads=1, bint history=False, bint interruptible=True):
    """Fit many problems (observation sets) in parallel, each single-threaded.

    w, mu: (P, K) starting points, overwritten with the results.  scales: a
    sequence of P data scales (None: computed).  Returns a dict of arrays:
    status, n_iter, n_passes, loglik, weight, degenerate_component,
    degenerate_kind, and history (list of arrays; None unless requested).  With ``interruptible`` the
    calling thread checks for signals (Ctrl-C) every 0.2 s; on a signal all
    fits stop and its exception (KeyboardInterrupt) is raised.
    """
    cdef int64_t P = len(problems), i
    cdef int K = w.shape[1]
    cdef em_data *d = NULL
    cdef em_options *o = NULL
    cdef em_result *r = NULL
    cdef double[:, ::1] hist
    cdef int st
    if w.shape[0] != P or mu.shape[0] != P or mu.shape[1] != K:
        raise ValueError("w and mu must be (n_problems, n_components)")
    if not 1 <= K <= EM_MAX_COMPONENTS:
        raise ValueError(f"fit_batch: n_components must be between 1 and {EM_MAX_COMPONENTS}, got {K}")
    if max_iter < 0:
        raise ValueError(f"fit_batch: max_iter must be >= 0, got {max_iter}")
    out = _batch_table(P)
    hist_arr = np.empty((P if history else 0, max_iter + 1), dtype=np.float64)
    if P == 0:
        out["history"] = [] if history else None
        return out
    if history:
        hist = hist_arr
    d = <em_data *>malloc(P * sizeof(em_data))
    o = <em_options *>malloc(P * sizeof(em_options))
    r = <em_result *>malloc(P * sizeof(em_result))
    if d == NULL or o == NULL or r == NULL:
        free(d); free(o); free(r)
        raise MemoryError("fit_batch: cannot allocate the problem table")
    try:
        for i in range(P):
            _fill(&d[i], problems[i])
            s = float(scales[i]) if scales is not None else em_data_scale(&d[i])
            _options(&o[i], max_iter, tol, 1, accel, weight_floor, rate_ceiling, s)
            if interruptible:
                o[i].interrupt = _check_signals
                o[i].interrupt_seconds = 0.2
            memset(&r[i], 0, sizeof(em_result))
            if history:
                r[i].history = &hist[i, 0]
        with nogil:
            st = em_fit_batch(P, d, K, &w[0, 0], &mu[0, 0], o, 0, r, n_threads)
        if st < 0:
            _raise_status(st, "fit_batch")
        if interruptible:
            for i in range(P):
                if r[i].status == EM_INTERRUPTED:
                    _raise_pending()
        _fill_batch_table(out, r, P)
        out["history"] = [hist_arr[i, :r[i].n_history].copy() for i in range(P)] \
            if history else None
    finally:
        free(d); free(o); free(r)
    return out


def pass_stats(obs, const double[::1] w, const double[::1] mu, int n_threads=1):
    """One fused pass: (loglik, weight, R, X) at (w, mu)."""
    cdef em_data d
    cdef em_stats s
    cdef int K = w.shape[0]
    cdef int st
    R = np.zeros(K, dtype=np.float64)
    X = np.zeros(K, dtype=np.float64)
    cdef double[::1] Rv = R, Xv = X
    _check_params(w, mu, "pass")
    _fill(&d, obs)
    s.n_components = K
    s.resp = &Rv[0]
    s.resp_x = &Xv[0]
    with nogil:
        st = em_pass(&d, K, &w[0], &mu[0], n_threads if n_threads > 0 else 1, &s)
    if st != EM_OK:
        _raise_status(st, "pass")
    return s.loglik, s.weight, R, X


def log_joint(obs, const double[::1] w, const double[::1] mu, int n_threads=1):
    """(n_obs, K) array of log w_k + log L_ik (exact, right, interval order)."""
    cdef em_data d
    cdef int K = w.shape[0]
    cdef int st
    cdef int64_t n
    _check_params(w, mu, "log_joint")
    _fill(&d, obs)
    n = d.n_exact + d.n_right + d.n_interval
    out = np.empty((n, K), dtype=np.float64)
    cdef double[:, ::1] ov = out
    if n == 0:
        return out
    with nogil:
        st = em_log_joint(&d, K, &w[0], &mu[0], &ov[0, 0], n_threads if n_threads > 0 else 1)
    if st != EM_OK:
        _raise_status(st, "log_joint")
    return out


def log_survival(const double[::1] t, const double[::1] w, const double[::1] mu):
    """log S(t) of the mixture for each t."""
    cdef int64_t n = t.shape[0]
    cdef int K = w.shape[0]
    cdef int st
    _check_params(w, mu, "log_survival")
    out = np.empty(n, dtype=np.float64)
    cdef double[::1] ov = out
    if n == 0:
        return out
    with nogil:
        st = em_log_survival(n, &t[0], K, &w[0], &mu[0], &ov[0])
    if st != EM_OK:
        _raise_status(st, "log_survival")
    return out


# ---------------------------------------------------------------------------
# Runtime CPU dispatch of the hot loop (csrc/em_dispatch.h)

cdef extern from "em_dispatch.h" nogil:
    int em_cpu_best()
    int em_cpu_path()
    int em_cpu_force(int path)
    const char *em_cpu_path_name(int path)

_CPU_PATHS = {"auto": -1, "baseline": 0, "avx2": 1, "avx512": 2}


def cpu_dispatch():
    """The CPU code path the fused pass uses now: "avx512", "avx2" or "baseline".

    The path is the best one the CPU supports, lowered by the environment
    variable ``EXPMIX_CPU`` (baseline, avx2, avx512; read at every pass) or by
    :func:`set_cpu_dispatch`.  Paths may differ in the last bits (FMA); one path
    gives bitwise-identical results for every thread count.
    """
    return em_cpu_path_name(em_cpu_path()).decode()


def cpu_best():
    """The best CPU code path this machine and build support."""
    return em_cpu_path_name(em_cpu_best()).decode()


def set_cpu_dispatch(path):
    """Force a CPU code path ("baseline", "avx2", "avx512") or "auto".

    A path the CPU lacks falls back to the best supported one below it.
    Returns the active path.  Not for use while fits run in other threads.
    """
    if path not in _CPU_PATHS:
        raise ValueError(f"path must be one of {sorted(_CPU_PATHS)}, got {path!r}")
    em_cpu_force(_CPU_PATHS[path] if _CPU_PATHS[path] <= em_cpu_best() else em_cpu_best())
    return cpu_dispatch()


# ---------------------------------------------------------------------------
# Many fits over ragged buffers (csrc/batch.c)

cdef extern from "em_batch.h" nogil:
    int em_fit_many(int64_t n_data, const double *const *values, const double *const *weights,
                    const int64_t *lengths, int64_t n_problems, const int64_t *data_index,
                    const int *n_comp, int stride, double *w, double *mu,
                    const em_options *opt, em_result *results, int n_threads)
    int em_scan_many(int64_t n_data, const double *const *values, const double *const *weights,
                     const int64_t *lengths, int n_threads, int64_t *n_bad, int64_t *n_info,
                     int64_t *n_wpos)
    int em_fit_many_data(int64_t n_data, const em_data *data, const int64_t *max_iter,
                         int64_t n_problems, const int64_t *data_index, const int *n_comp,
                         int stride, double *w, double *mu, const em_options *opt,
                         em_result *results, int n_threads)


cdef dict _batch_table(Py_ssize_t P):
    """The per-problem result arrays of fit_batch, fit_many and fit_many_data."""
    return {k: np.zeros(P, dtype=t) for k, t in (
        ("status", np.int32), ("n_iter", np.int64), ("n_passes", np.int64),
        ("loglik", np.float64),
        ("weight", np.float64), ("degenerate_component", np.int32),
        ("degenerate_kind", np.int32))}


cdef int _fill_batch_table(dict out, const em_result *r, Py_ssize_t P) except -1:
    cdef int[::1] st = out["status"], dc = out["degenerate_component"]
    cdef int[::1] dk = out["degenerate_kind"]
    cdef int64_t[::1] it = out["n_iter"], npass = out["n_passes"]
    cdef double[::1] ll = out["loglik"], wt = out["weight"]
    cdef Py_ssize_t i
    for i in range(P):
        st[i] = r[i].status
        it[i] = r[i].n_iter
        npass[i] = r[i].n_passes
        ll[i] = r[i].loglik
        wt[i] = r[i].weight
        dc[i] = r[i].degenerate_component
        dk[i] = r[i].degenerate_kind
    return 0


cdef class ExactSets:
    """A table of pointers to n exact data sets (and their weights), for
    fit_many and scan: the caller's arrays are used where they are, not
    copied into one buffer.

    ExactSets(values, weights, offsets): with offsets None, ``values`` is a
    list of 1-D C-contiguous float64 arrays and ``weights`` None or a list of
    the same length whose entries are None (unit weights) or such arrays of
    the data set's length; with offsets (n + 1 int64 entries from 0 to
    len(values)), ``values`` and ``weights`` (None or the same length) are
    ragged 1-D float64 buffers.  The buffers are held until the object is
    freed.  TypeError names the first list entry that is not a 1-D
    C-contiguous float64 buffer (the facade converts those first).
    """
    cdef int64_t n
    cdef const double **v
    cdef const double **w
    cdef int64_t *len
    cdef Py_buffer *bufs
    cdef Py_ssize_t n_bufs
    cdef object keep

    def __cinit__(self, values, weights, offsets):
        cdef const double[::1] vv
        cdef const double[::1] wv
        cdef const int64_t[::1] ov
        cdef Py_ssize_t j, n
        cdef list vl
        cdef list wl
        self.keep = (values, weights, offsets)
        if offsets is not None:
            ov = offsets
            vv = values
            n = ov.shape[0] - 1
            if n < 0 or ov[0] != 0 or ov[n] != vv.shape[0]:
                raise ValueError("offsets must have n + 1 entries from 0 to len(values)")
            if weights is not None:
                wv = weights
                if wv.shape[0] != vv.shape[0]:
                    raise ValueError("weights must have the length of values")
            self._alloc(n, weights is not None, 0)
            for j in range(n):
                if ov[j + 1] < ov[j]:
                    raise ValueError("offsets must be non-decreasing")
                self.len[j] = ov[j + 1] - ov[j]
                self.v[j] = &vv[0] + ov[j] if self.len[j] > 0 else NULL
                if weights is not None:
                    self.w[j] = &wv[0] + ov[j] if self.len[j] > 0 else NULL
            return
        vl = values
        n = len(vl)
        if weights is not None:
            wl = weights
            if len(wl) != n:
                raise ValueError("weights must be a list of the length of values")
        self._alloc(n, weights is not None, 2 * n)
        for j in range(n):
            self.v[j] = self._take(vl[j], j, "values", &self.len[j])
            if weights is not None and wl[j] is not None:
                self.w[j] = self._take(wl[j], j, "weights", NULL)
                if self.bufs[self.n_bufs - 1].len // 8 != self.len[j]:
                    raise ValueError(f"weights[{j}] must have the length of values[{j}]")

    cdef int _alloc(self, Py_ssize_t n, bint weighted, Py_ssize_t n_bufs) except -1:
        self.n = n
        self.v = <const double **>malloc((n + 1) * sizeof(double *))
        self.len = <int64_t *>malloc((n + 1) * sizeof(int64_t))
        self.w = <const double **>malloc((n + 1) * sizeof(double *)) if weighted else NULL
        self.bufs = <Py_buffer *>malloc((n_bufs + 1) * sizeof(Py_buffer))
        if self.v == NULL or self.len == NULL or self.bufs == NULL or (weighted and self.w == NULL):
            raise MemoryError("ExactSets: cannot allocate the pointer table")
        if weighted:
            memset(self.w, 0, (n + 1) * sizeof(double *))
        return 0

    cdef const double *_take(self, obj, Py_ssize_t j, str name, int64_t *length) except? NULL:
        cdef Py_buffer *b = &self.bufs[self.n_bufs]
        try:
            PyObject_GetBuffer(obj, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
        except (TypeError, BufferError, ValueError):
            raise TypeError(f"{name}[{j}] is not a C-contiguous float64 buffer") from None
        self.n_bufs += 1
        if b.ndim != 1 or b.itemsize != 8 or b.format == NULL or strcmp(b.format, "d") != 0:
            raise TypeError(f"{name}[{j}] is not a 1-D float64 buffer")
        if length != NULL:
            length[0] = b.shape[0]
        return <const double *>b.buf if b.shape[0] > 0 else NULL

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self.n_bufs):
            PyBuffer_Release(&self.bufs[i])
        free(self.v)
        free(self.w)
        free(self.len)
        free(self.bufs)

    def __len__(self):
        return self.n

    def scan(self, int n_threads=1):
        """Per data set: (n_obs, n_bad, n_info, n_wpos), int64 arrays (em_scan_many)."""
        cdef Py_ssize_t j
        n_obs = np.empty(self.n, dtype=np.int64)
        n_bad = np.zeros(self.n, dtype=np.int64)
        n_info = np.zeros(self.n, dtype=np.int64)
        n_wpos = np.zeros(self.n, dtype=np.int64)
        cdef int64_t[::1] no = n_obs, nb = n_bad, ni = n_info, nw = n_wpos
        cdef int st
        for j in range(self.n):
            no[j] = self.len[j]
        if self.n == 0:
            return n_obs, n_bad, n_info, n_wpos
        with nogil:
            st = em_scan_many(self.n, self.v, self.w, self.len, n_threads if n_threads > 0 else 1,
                              &nb[0], &ni[0], &nw[0])
        if st != EM_OK:
            _raise_status(st, "scan")
        return n_obs, n_bad, n_info, n_wpos


def fit_many(ExactSets sets, const int64_t[::1] data_index, const int[::1] n_comp,
             double[:, ::1] w, double[:, ::1] mu, *, int64_t max_iter=1000, double tol=1e-10,
             int accel=2, double weight_floor=1e-12, double rate_ceiling=1e14, int n_threads=1):
    """Fit P problems over exact data sets in one call into C, without the GIL.

    sets: an ExactSets table; problem p fits data set data_index[p] with
    n_comp[p] components from (w[p], mu[p]) (rows of width >= max n_comp),
    overwritten in place.  Returns a dict of arrays (status, n_iter, n_passes,
    loglik, weight, degenerate_component, degenerate_kind); negative statuses are
    reported, not raised.
    """
    cdef int64_t P = data_index.shape[0]
    cdef int stride = w.shape[1]
    cdef em_options o
    cdef em_result *r = NULL
    cdef int st
    if n_comp.shape[0] != P or w.shape[0] != P or mu.shape[0] != P or mu.shape[1] != stride:
        raise ValueError("data_index, n_comp, w and mu must describe the same problems")
    _options(&o, max_iter, tol, 1, accel, weight_floor, rate_ceiling, 1.0)
    out = _batch_table(P)
    if P == 0:
        return out
    r = <em_result *>malloc(P * sizeof(em_result))
    if r == NULL:
        raise MemoryError("fit_many: cannot allocate the result table")
    try:
        memset(r, 0, P * sizeof(em_result))
        with nogil:
            st = em_fit_many(sets.n, sets.v, sets.w, sets.len, P, &data_index[0], &n_comp[0],
                             stride, &w[0, 0], &mu[0, 0], &o, r, n_threads if n_threads > 0 else 1)
        if st < 0:
            _raise_status(st, "fit_many")
        _fill_batch_table(out, r, P)
    finally:
        free(r)
    return out


cdef int _segments(object vals, object wts, object offs, int64_t n_data, str name,
                   const double **vp, const double **wp, const int64_t **op) except -1:
    """Pointers of one ragged segment (values, weights or None, offsets)."""
    cdef const double[::1] v
    cdef const double[::1] wv
    cdef const int64_t[::1] o
    cdef int64_t j
    vp[0] = NULL
    wp[0] = NULL
    op[0] = NULL
    if vals is None:
        return 0
    v = vals
    o = offs
    if o.shape[0] != n_data + 1 or o[0] != 0 or o[n_data] != v.shape[0]:
        raise ValueError(f"{name}: offsets must have n_datasets + 1 entries from 0 to "
                         f"len({name})")
    for j in range(n_data):
        if o[j + 1] < o[j]:
            raise ValueError(f"{name}: offsets must be non-decreasing")
    if wts is not None:
        wv = wts
        if wv.shape[0] != v.shape[0]:
            raise ValueError(f"{name}: weights must have the length of the values")
        if wv.shape[0] > 0:
            wp[0] = &wv[0]
    if v.shape[0] > 0:
        vp[0] = &v[0]
    op[0] = &o[0]
    return 0


def fit_many_data(int64_t n_data, exact, exact_w, exact_off, right, right_w, right_off,
                  trunc, trunc_w, trunc_off, max_iter_per, const int64_t[::1] data_index,
                  const int[::1] n_comp, double[:, ::1] w, double[:, ::1] mu, *,
                  int64_t max_iter=1000, double tol=1e-10, int accel=1,
                  double weight_floor=1e-12, double rate_ceiling=1e14, int n_threads=1,
                  lower=None, upper=None, interval_w=None, interval_off=None,
                  unweighted=None):
    """Fit P problems over ragged data of several observation kinds in one
    call into C, without the GIL (csrc/batch.c, em_fit_many_data).

    Each segment kind (exact, right-censored, truncation pairs) is a triple
    (values, weights or None, offsets of n_data + 1 entries) or (None, None,
    None); data set j is the j-th slice of every segment.  Interval-censored
    segments: ``lower``, ``upper`` (same length, lower < upper < inf),
    ``interval_w`` (None: 1) and ``interval_off`` (keywords; None: none).
    ``unweighted``: None or a uint8 array of n_data, bit flags per data set
    (1 exact, 2 right, 4 interval, 8 trunc): that segment of data set j gets
    no weights (a NULL pointer, as in a single fit of an Observations whose
    weights are None) even where the buffer holds weights for others.
    max_iter_per: None or an int64 array of n_data per-data-set iteration
    caps.  Otherwise as :func:`fit_many`.
    """
    cdef int64_t P = data_index.shape[0], i, j
    cdef int stride = w.shape[1]
    cdef const double *ev
    cdef const double *ew
    cdef const int64_t *eo
    cdef const double *rv
    cdef const double *rw
    cdef const int64_t *ro
    cdef const double *tv
    cdef const double *tw
    cdef const int64_t *to
    cdef const double *lv
    cdef const double *lw
    cdef const int64_t *lo
    cdef const double[::1] uv
    cdef const double *up = NULL
    cdef const uint8_t[::1] uw
    cdef const uint8_t *uwp = NULL
    cdef const int64_t[::1] mi
    cdef const int64_t *mip = NULL
    cdef em_options o
    cdef em_data *d = NULL
    cdef em_result *r = NULL
    cdef int st
    if n_data < 0:
        raise ValueError("n_data must be >= 0")
    if n_comp.shape[0] != P or w.shape[0] != P or mu.shape[0] != P or mu.shape[1] != stride:
        raise ValueError("data_index, n_comp, w and mu must describe the same problems")
    _segments(exact, exact_w, exact_off, n_data, "exact", &ev, &ew, &eo)
    _segments(right, right_w, right_off, n_data, "right", &rv, &rw, &ro)
    _segments(trunc, trunc_w, trunc_off, n_data, "trunc", &tv, &tw, &to)
    _segments(lower, interval_w, interval_off, n_data, "lower", &lv, &lw, &lo)
    if (lower is None) != (upper is None):
        raise ValueError("lower and upper must be given together")
    if upper is not None:
        uv = upper
        if uv.shape[0] != (<object>lower).shape[0]:
            raise ValueError("upper must have the length of lower")
        if uv.shape[0] > 0:
            up = &uv[0]
    if unweighted is not None:
        uw = unweighted
        if uw.shape[0] != n_data:
            raise ValueError("unweighted must have one entry per data set")
        if n_data > 0:
            uwp = &uw[0]
    if max_iter_per is not None:
        mi = max_iter_per
        if mi.shape[0] != n_data:
            raise ValueError("max_iter_per must have one entry per data set")
        if n_data > 0:
            mip = &mi[0]
    _options(&o, max_iter, tol, 1, accel, weight_floor, rate_ceiling, 1.0)
    out = _batch_table(P)
    if P == 0:
        return out
    d = <em_data *>malloc((n_data if n_data > 0 else 1) * sizeof(em_data))
    r = <em_result *>malloc(P * sizeof(em_result))
    if d == NULL or r == NULL:
        free(d); free(r)
        raise MemoryError("fit_many: cannot allocate the problem table")
    try:
        memset(r, 0, P * sizeof(em_result))
        memset(d, 0, (n_data if n_data > 0 else 1) * sizeof(em_data))
        for j in range(n_data):
            if eo != NULL and eo[j + 1] > eo[j]:
                d[j].n_exact = eo[j + 1] - eo[j]
                d[j].exact = ev + eo[j]
                d[j].exact_w = ew + eo[j] if ew != NULL else NULL
            if ro != NULL and ro[j + 1] > ro[j]:
                d[j].n_right = ro[j + 1] - ro[j]
                d[j].right = rv + ro[j]
                d[j].right_w = rw + ro[j] if rw != NULL else NULL
            if to != NULL and to[j + 1] > to[j]:
                d[j].n_trunc = to[j + 1] - to[j]
                d[j].trunc = tv + to[j]
                d[j].trunc_w = tw + to[j] if tw != NULL else NULL
            if lo != NULL and lo[j + 1] > lo[j]:
                d[j].n_interval = lo[j + 1] - lo[j]
                d[j].lower = lv + lo[j]
                d[j].upper = up + lo[j]
                d[j].interval_w = lw + lo[j] if lw != NULL else NULL
            if uwp != NULL:
                if uwp[j] & 1:
                    d[j].exact_w = NULL
                if uwp[j] & 2:
                    d[j].right_w = NULL
                if uwp[j] & 4:
                    d[j].interval_w = NULL
                if uwp[j] & 8:
                    d[j].trunc_w = NULL
        with nogil:
            st = em_fit_many_data(n_data, d, mip, P, &data_index[0], &n_comp[0], stride,
                                  &w[0, 0], &mu[0, 0], &o, r, n_threads if n_threads > 0 else 1)
        if st < 0:
            _raise_status(st, "fit_many")
        _fill_batch_table(out, r, P)
    finally:
        free(d); free(r)
    return out


# ---------------------------------------------------------------------------
# The deterministic quantile start in C (csrc/init.c, em_init.h): no sort,
# no copy of the data

cdef extern from "em_init.h" nogil:
    int em_init_cuts(const em_data *data, int K, double *cuts, double *total_weight,
                     double *total_wx)
    int em_init_quantile(const em_data *data, int K, double *w, double *mu)


def init_quantile(obs, int K):
    """The quantile start of ``obs`` (an Observations-like object) for K
    components, computed in C without sorting or copying the data.

    Returns (w, mu), two float64 arrays of length K.  Raises ValueError for
    K out of range or data the start cannot use (negative / non-finite
    values or weights, no positive weight).  See csrc/em_init.h.
    """
    cdef em_data d
    cdef int st
    if not 1 <= K <= EM_MAX_COMPONENTS:
        raise ValueError(f"init_quantile: K must be between 1 and {EM_MAX_COMPONENTS}, got {K}")
    w = np.empty(K, dtype=np.float64)
    mu = np.empty(K, dtype=np.float64)
    cdef double[::1] wv = w, mv = mu
    _fill(&d, obs)
    with nogil:
        st = em_init_quantile(&d, K, &wv[0], &mv[0])
    if st != EM_OK:
        if st == EM_ERR_DATA:
            raise ValueError("init_quantile: the data contain a negative or non-finite value "
                             "or weight, or no observation has a positive weight")
        _raise_status(st, "init_quantile")
    return w, mu


def init_cuts(obs, int K):
    """The K - 1 cut values of the quantile start (exact weighted quantiles
    of the pseudo-values) and the total weight and weighted sum: returns
    (cuts, total_weight, total_wx)."""
    cdef em_data d
    cdef int st
    cdef double W = 0.0, S = 0.0
    if not 1 <= K <= EM_MAX_COMPONENTS:
        raise ValueError(f"init_cuts: K must be between 1 and {EM_MAX_COMPONENTS}, got {K}")
    cuts = np.empty(max(K - 1, 1), dtype=np.float64)
    cdef double[::1] cv = cuts
    _fill(&d, obs)
    with nogil:
        st = em_init_cuts(&d, K, &cv[0], &W, &S)
    if st != EM_OK:
        _raise_status(st, "init_cuts")
    return cuts[:K - 1].copy(), W, S


def scan_values(const double[::1] x):
    """One pass over x without temporaries: the first index of a NaN, of an
    infinity, of a negative value and of a positive value (-1 where none).
    Used by the validation of large inputs (no N-sized boolean masks)."""
    cdef Py_ssize_t n = x.shape[0], i
    cdef Py_ssize_t i_nan = -1, i_inf = -1, i_neg = -1, i_pos = -1
    cdef double v
    with nogil:
        for i in range(n):
            v = x[i]
            if v > 0.0:
                if i_pos < 0:
                    i_pos = i
                if v > 1.7976931348623157e308 and i_inf < 0:
                    i_inf = i
            elif v < 0.0:
                if i_neg < 0:
                    i_neg = i
                if v < -1.7976931348623157e308 and i_inf < 0:
                    i_inf = i
            elif v != v and i_nan < 0:
                i_nan = i
    return i_nan, i_inf, i_neg, i_pos
# Testing hook of the fast kernels for right-censored, interval and
# truncation blocks (csrc/em_kernel_interval.h, em_kernel_trunc.h)

cdef extern from "em_dispatch.h" nogil:
    int em_kinds_force_general(int on)
    int em_kinds_general()


def _set_general_kinds(on):
    """Make right-censored, interval and truncation blocks use the general
    tile kernel (``on=True``) instead of their fast kernels (testing hook: the
    reference the fast kernels are compared with).  Returns the previous
    setting.  Like :func:`set_cpu_dispatch`: not while fits run in other
    threads."""
    return bool(em_kinds_force_general(1 if on else 0))
