"""Fit one exponential mixture to each of many data sets: :func:`fit_many`.

All fits (every data set x candidate K x restart) are one call into C, spread
over threads without the GIL, each fit single-threaded (csrc/batch.c).  With
the default single deterministic start the start itself is computed in C, in
the worker threads (csrc/init.c); only random restarts are drawn in Python.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

from typing import Any, Dict

import numpy as np

from . import _core
from ._init import starting_points
from ._threads import effective_n_threads
from .mixture import _ACCEL, ExponentialMixture
from .observations import _check_values, check_weights

__all__ = ["fit_many", "FitManyResult"]

_STATUS = {0: "converged", 1: "max_iter", 2: "degenerate", 3: "interrupted"}
_ERRORS = {-1: "invalid argument", -2: "invalid data", -3: "out of memory",
           -4: "non-finite log-likelihood", -5: "no information in the data"}


@dataclass
class FitManyResult:
    """Results of :func:`fit_many`, one row per data set.

    Attributes
    ----------
    weights, rates : ndarray, shape (n_datasets, K_max)
        Fitted parameters, components ordered by decreasing rate, padded with
        NaN beyond the chosen number of components (and all NaN for a data
        set that could not be fitted).
    log_likelihood : ndarray, shape (n_datasets,)
        Total (weighted) log-likelihood of the chosen fit (NaN if none).
    n_components : ndarray of int, shape (n_datasets,)
        Chosen number of components (0 if none).
    converged : ndarray of bool, shape (n_datasets,)
    n_iter : ndarray of int, shape (n_datasets,)
        EM iterations of the chosen fit's best restart.
    bic : ndarray, shape (n_datasets,)
        BIC of the chosen fit, -2 logL + (2K - 1) ln n, n = total weight.
    n_observations : ndarray of int, shape (n_datasets,)
    status : ndarray of str, shape (n_datasets,)
        "converged", "max_iter", "converged (empty component)", ..., or
        "invalid: <reason>" / "degenerate: <reason>" when the data set was not
        fitted.
    table : dict
        Per candidate K (keys): arrays of shape (n_datasets,) with
        ``log_likelihood``, ``bic`` and ``status`` of that K's best restart.
    """

    weights: np.ndarray
    rates: np.ndarray
    log_likelihood: np.ndarray
    n_components: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    bic: np.ndarray
    n_observations: np.ndarray
    status: np.ndarray
    table: dict = field(default_factory=dict)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the data sets that were fitted."""
        return self.n_components > 0

    def __len__(self) -> int:
        return int(self.status.shape[0])


def _candidates(n_components):
    if isinstance(n_components, numbers.Integral) and not isinstance(n_components, bool):
        ks = [int(n_components)]
    else:
        try:
            if isinstance(n_components, (str, bytes)):
                raise TypeError
            items = list(n_components)
            if any(isinstance(k, bool) or not isinstance(k, numbers.Integral) for k in items):
                raise TypeError
            ks = sorted(set(int(k) for k in items))
        except TypeError:
            raise TypeError("n_components must be an int or an iterable of ints "
                            f"(e.g. range(1, 5)), got {n_components!r}") from None
    if not ks:
        raise ValueError("n_components is empty")
    if ks[0] < 1 or ks[-1] > _core.MAX_COMPONENTS:
        raise ValueError(f"n_components must be between 1 and {_core.MAX_COMPONENTS}, got {ks}")
    return ks


def _weight_array(sw, name):
    """A float64 1-D-or-scalar array of real weights, naming the argument."""
    if isinstance(sw, (str, bytes)):
        raise TypeError(f"{name} must be numeric, got a string")
    try:
        a = np.asarray(sw)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name} must be an array of numbers ({e})") from None
    if a.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {a.dtype}")
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    return a.astype(np.float64, copy=False)


def _ragged(datasets, sample_weight):
    """(values, weights or None, offsets) from a list or a (values, offsets) pair."""
    if isinstance(datasets, tuple) and len(datasets) == 2 and \
            np.asarray(datasets[1]).dtype.kind in "iu":
        values = np.asarray(datasets[0])
        offsets = np.asarray(datasets[1])
        if values.ndim != 1:
            raise ValueError(f"datasets: ragged values must be 1-D, got shape {values.shape}")
        if values.dtype.kind not in "iuf":
            raise TypeError(f"datasets: values must be numeric, got dtype {values.dtype}")
        if offsets.ndim != 1 or offsets.shape[0] < 1:
            raise ValueError("datasets: offsets must be 1-D with n_datasets + 1 entries")
        if offsets[0] != 0 or offsets[-1] != values.shape[0] or np.any(np.diff(offsets) < 0):
            raise ValueError("datasets: offsets must start at 0, be non-decreasing and end "
                             f"at len(values) = {values.shape[0]}")
        values = np.ascontiguousarray(values, dtype=np.float64)
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        weights = None
        if sample_weight is not None:
            weights = _weight_array(sample_weight, "sample_weight")
            if weights.ndim != 1 or weights.shape[0] != values.shape[0]:
                raise ValueError("sample_weight: with ragged datasets it must be one 1-D array "
                                 f"of length len(values) = {values.shape[0]}")
            weights = np.ascontiguousarray(weights, dtype=np.float64)
        return values, weights, offsets
    if isinstance(datasets, (str, bytes, np.ndarray)) or not hasattr(datasets, "__len__"):
        raise TypeError("datasets must be a list of 1-D arrays or a (values, offsets) pair "
                        f"of arrays, got {type(datasets).__name__}")
    n = len(datasets)
    if sample_weight is not None and (not hasattr(sample_weight, "__len__")
                                      or isinstance(sample_weight, (np.ndarray, str, bytes))
                                      or len(sample_weight) != n):
        raise ValueError(f"sample_weight must be None or a list of {n} arrays (or None "
                         "entries), one per data set")
    if sample_weight is None and n > 0 and all(
            type(d) is np.ndarray and d.ndim == 1 and d.dtype == np.float64 for d in datasets):
        # fast path: a list of float64 vectors (one concatenation, no per-array work)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.fromiter((d.shape[0] for d in datasets), dtype=np.int64, count=n),
                  out=offsets[1:])
        return np.ascontiguousarray(np.concatenate(datasets)), None, offsets
    parts, wparts, lengths = [], [], []
    for i, d in enumerate(datasets):
        a = np.asarray(d)
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if a.ndim != 1:
            raise ValueError(f"datasets[{i}] must be 1-D, got shape {a.shape}")
        if a.dtype.kind not in "iuf":
            raise TypeError(f"datasets[{i}] must be numeric, got dtype {a.dtype}"
                            + (" (bool)" if a.dtype.kind == "b" else ""))
        parts.append(a.astype(np.float64, copy=False))
        lengths.append(a.shape[0])
        if sample_weight is not None:
            sw = sample_weight[i]
            wparts.append(np.ones(a.shape[0]) if sw is None
                          else _weight_array(sw, f"sample_weight[{i}]"))
    values = np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(0))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    weights = None
    if sample_weight is not None:
        for i, (wp, ln) in enumerate(zip(wparts, lengths)):
            if wp.ndim != 1 or wp.shape[0] != ln:
                raise ValueError(f"sample_weight[{i}] has shape {wp.shape}, but datasets[{i}] "
                                 f"has {ln} observations")
        weights = np.ascontiguousarray(np.concatenate(wparts) if wparts else np.zeros(0))
    return values, weights, offsets


def fit_many(datasets, n_components, *, sample_weight=None, n_init=1, init="auto",
             tol=1e-10, max_iter=1000, acceleration="squarem", random_state=None,
             n_threads=None, strict=False):
    """Fit an exponential mixture to each of many data sets, in parallel.

    Every fit (data set x candidate number of components x restart) runs in
    one call into the C core, spread over ``n_threads`` threads without the
    GIL, each fit single-threaded.  Use it for thousands of small data sets
    (inter-event times per user, dwell times per molecule, ...).

    Parameters
    ----------
    datasets : list of 1-D arrays, or a pair ``(values, offsets)``
        The data sets (non-negative, finite exact observations).  Ragged form:
        ``values`` holds all data sets one after the other and data set ``j`` is
        ``values[offsets[j]:offsets[j+1]]``; ``offsets`` is an integer array of
        length n_datasets + 1 starting at 0 and ending at ``len(values)``.  (A
        tuple of two arrays whose second array is of integer dtype is read as
        the ragged form; pass a list to mean two data sets.)
    n_components : int or iterable of int
        The number of components, or candidates (e.g. ``range(1, 5)``) among
        which K is chosen per data set by BIC (-2 logL + (2K - 1) ln n, n the
        total weight).  A candidate K larger than a data set's number of
        observations is skipped for that data set.
    sample_weight : None, list of arrays (or None entries), or 1-D array
        Weights per observation: a list parallel to ``datasets``, or for the
        ragged form one array parallel to ``values``.
    n_init, init, tol, max_iter, acceleration
        As in :class:`ExponentialMixture` (per data set and per K).  With
        ``n_init=1`` and ``init`` "auto" or "quantile" (the default) the
        deterministic quantile start is computed in C inside the worker
        threads, so the whole call runs without Python per data set; random
        restarts (``n_init > 1``, ``init`` "kmeans" or "random") are drawn in
        Python, data set by data set, before the one C call.
    random_state : None, int or numpy SeedSequence
        Seeding is defined so that data set ``j`` gets the child seed
        ``np.random.SeedSequence(random_state).spawn(n_datasets)[j]``; for each
        K, ``ExponentialMixture(K, random_state=child_j, ...).fit(datasets[j])``
        returns exactly the parameters reported here (and
        ``select_components(datasets[j], ks, random_state=child_j)`` the same
        choice of K).  With ``random_state=None`` fresh entropy is drawn.
    n_threads : None or int
        Threads (None: all CPUs available to the process).  Results do not
        depend on it.
    strict : bool, default False
        If True, raise ``ValueError`` naming the first invalid or unfittable
        data set; if False, report it in ``status`` and fill its row with NaN.

    Returns
    -------
    FitManyResult
        Arrays with one row per data set: ``weights``, ``rates``
        (n_datasets x max K, NaN-padded), ``log_likelihood``,
        ``n_components``, ``converged``, ``n_iter``, ``bic``, ``status``.

    Examples
    --------
    >>> import numpy as np, expmix
    >>> rng = np.random.default_rng(0)
    >>> data = [rng.exponential(1.0, 300) for _ in range(100)]
    >>> res = expmix.fit_many(data, 1, random_state=0)
    >>> res.rates.shape
    (100, 1)
    """
    ks = _candidates(n_components)
    # the estimator's own validation of the options (same messages)
    ExponentialMixture(ks[0], tol=tol, max_iter=max_iter, n_init=n_init, init=init,
                       acceleration=acceleration)._validate_params()
    if isinstance(strict, (bool, np.bool_)) is False:
        raise TypeError(f"strict must be a bool, got {strict!r}")
    if random_state is not None and not isinstance(random_state, np.random.SeedSequence):
        if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
            raise TypeError("random_state must be None, a non-negative int or a numpy "
                            f"SeedSequence (fit_many spawns one child per data set), got "
                            f"{random_state!r}")
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state!r}")
    n_threads = effective_n_threads(n_threads)
    values, weights, offsets = _ragged(datasets, sample_weight)
    n_data = offsets.shape[0] - 1
    n_init = int(n_init)
    Kmax = ks[-1]
    # The default (one deterministic quantile start) is computed by C in the
    # worker threads (a NaN start asks for it): the whole fit_many is then one
    # nogil call.  Random restarts (n_init > 1, init "kmeans"/"random") are
    # drawn here, per data set, from the documented child seeds.
    c_starts = n_init == 1 and init in ("auto", "quantile")

    # ---- validation: whole-buffer checks, per-data-set detail only where wrong --
    n_obs = np.diff(offsets)

    def _count(mask):
        """Number of True entries of a (mostly False) mask per data set."""
        idx = np.flatnonzero(mask)
        return np.bincount(np.searchsorted(offsets, idx, side="right") - 1,
                           minlength=n_data)[:n_data]

    i_nan, i_inf, i_neg, _ = _core.scan_values(values)     # one pass, no masks
    n_bad = np.zeros(n_data, dtype=np.int64) if max(i_nan, i_inf, i_neg) < 0 else \
        _count(~(np.isfinite(values) & (values >= 0)))
    if weights is not None:
        n_bad += _count(~(np.isfinite(weights) & (weights >= 0)))
        n_info = n_obs - _count(~((values > 0) & (weights > 0)))
        n_wpos = n_obs - _count(~(weights > 0))
    else:
        # values are >= 0 once n_bad is 0: only the zeros lack information
        n_info = n_obs - (_count(values == 0) if not n_bad.any() else _count(~(values > 0)))
        n_wpos = n_obs
    invalid = (n_obs == 0) | (n_bad > 0) | (n_wpos == 0) | (n_obs < ks[0]) | (n_info == 0)
    status = np.full(n_data, "", dtype=object)
    for j in np.flatnonzero(invalid):
        x = values[offsets[j]:offsets[j + 1]]
        wj = None if weights is None else weights[offsets[j]:offsets[j + 1]]
        try:
            if x.shape[0] == 0:
                raise ValueError("is empty: at least one observation is needed")
            if n_bad[j] or n_wpos[j] == 0:
                _check_values(x, "values")
                if wj is not None:
                    check_weights(wj, x.shape[0])
            if x.shape[0] < ks[0]:
                raise ValueError(f"has {x.shape[0]} observations, fewer than the smallest "
                                 f"n_components ({ks[0]})")
            raise ValueError("carries no information about the rates (every value "
                             "with positive weight is 0)")
        except ValueError as e:
            msg = str(e)
            status[j] = "invalid: " + msg
            if strict:
                raise ValueError(f"datasets[{j}] {msg}") from None
    valid = ~invalid
    total_w = n_obs.astype(np.float64)
    if weights is not None:
        with np.errstate(over="ignore"):
            for j in np.flatnonzero(valid):     # as Observations.total_weight (np.sum)
                total_w[j] = float(np.sum(weights[offsets[j]:offsets[j + 1]]))
        for j in np.flatnonzero(valid & ~np.isfinite(total_w)):
            msg = ("sample_weight: the weights sum to more than the largest float64 "
                   "(1.8e308); divide them by a common factor")
            status[j] = "invalid: " + msg
            valid[j], invalid[j] = False, True
            if strict:
                raise ValueError(f"datasets[{j}] {msg}")

    # ---- the problem table: blocks of n_init restarts per (K, data set) --------
    blocks_j, blocks_k = [], []
    for k in ks:
        js = np.flatnonzero(valid & (n_obs >= k))
        blocks_j.append(js)
        blocks_k.append(np.full(js.shape[0], k, dtype=np.int64))
    grp_j = np.concatenate(blocks_j) if blocks_j else np.zeros(0, np.int64)
    grp_k = np.concatenate(blocks_k) if blocks_k else np.zeros(0, np.int64)
    n_grp = grp_j.shape[0]
    P = n_grp * n_init
    W = np.full((P, Kmax), np.nan)
    M = np.full((P, Kmax), np.nan)
    if not c_starts and n_grp:
        children = (random_state if isinstance(random_state, np.random.SeedSequence)
                    else np.random.SeedSequence(random_state)).spawn(n_data)
        for gi in range(n_grp):
            jj, kk = int(grp_j[gi]), int(grp_k[gi])
            x = values[offsets[jj]:offsets[jj + 1]]
            vw = np.ones_like(x) if weights is None else weights[offsets[jj]:offsets[jj + 1]]
            rng = np.random.default_rng(children[jj])
            for i, s in enumerate(starting_points(x, vw, kk, n_init, init, rng)):
                W[gi * n_init + i, :kk] = s[0]
                M[gi * n_init + i, :kk] = s[1]
    data_index = np.repeat(grp_j, n_init).astype(np.int64)
    ncomp = np.repeat(grp_k, n_init).astype(np.intc)
    out = _core.fit_many(values, weights, offsets, data_index, ncomp, W, M,
                         max_iter=int(max_iter), tol=float(tol),
                         accel=_ACCEL[acceleration], n_threads=n_threads)

    # ---- per (K, data set): best restart as ExponentialMixture; K by BIC --------
    g = _group_best(out, W, M, n_grp, n_init)
    bic = _group_bic(g, grp_k, total_w[grp_j])
    return _select(n_data, ks, Kmax, grp_j, grp_k, g, bic, valid, status, strict, n_obs)


def _group_best(out, W, M, n_grp, n_init):
    """The best restart of each group of ``n_init`` consecutive problems, as
    ExponentialMixture chooses it (errors and diverging rates set aside, the
    first highest log-likelihood): dict of per-group arrays."""
    st = out["status"].reshape(n_grp, n_init)
    ll = out["loglik"].reshape(n_grp, n_init)
    kind = out["degenerate_kind"].reshape(n_grp, n_init)
    usable = (st >= 0) & (kind != 2)            # errors and diverging rates set aside
    score = np.where(usable, ll, -np.inf)
    pick = np.argmax(score, axis=1) if n_grp else np.zeros(0, np.int64)   # first best
    has = usable.any(axis=1) if n_grp else np.zeros(0, bool)
    best = np.arange(n_grp) * n_init + pick
    st_best = out["status"][best] if n_grp else np.zeros(0, np.int32)
    kind_best = out["degenerate_kind"][best] if n_grp else np.zeros(0, np.int32)
    labels = np.empty(n_grp, dtype=object)
    pairs = set(zip(st_best[has].tolist(), kind_best[has].tolist()))
    for sv, kv in pairs:
        labels[has & (st_best == sv) & (kind_best == kv)] = \
            _STATUS.get(int(sv), str(sv)) + (" (empty component)" if kv == 1 else "")
    for gi in np.flatnonzero(~has):     # rare: every restart failed
        errs = st[gi][st[gi] < 0]
        labels[gi] = "degenerate" if errs.shape[0] == 0 else \
            "error: " + _ERRORS.get(int(errs[-1]), str(errs[-1]))
    return dict(has=has, labels=labels, w=W[best], mu=M[best],
                loglik=out["loglik"][best] if n_grp else np.zeros(0),
                status=st_best, n_iter=out["n_iter"][best] if n_grp else np.zeros(0, np.int64))


def _group_bic(g, grp_k, n):
    """BIC of each group's best fit, -2 logL + (2K - 1) ln n (inf without one)."""
    has = g["has"]
    return np.where(has, -2.0 * g["loglik"] + (2 * grp_k - 1) * np.log(np.where(has, n, 1.0)),
                    np.inf)


def _select(n_data, ks, Kmax, grp_j, grp_k, g, bic, valid, status, strict, n_obs):
    """K by BIC per data set (the smallest K wins ties, as select_components)
    and the result arrays."""
    n_grp = grp_j.shape[0]
    has, labels, best_ll = g["has"], g["labels"], g["loglik"]
    res_w = np.full((n_data, Kmax), np.nan)
    res_mu = np.full((n_data, Kmax), np.nan)
    res_ll = np.full(n_data, np.nan)
    res_bic = np.full(n_data, np.nan)
    res_k = np.zeros(n_data, dtype=np.int64)
    res_conv = np.zeros(n_data, dtype=bool)
    res_iter = np.zeros(n_data, dtype=np.int64)
    table = {k: dict(log_likelihood=np.full(n_data, np.nan), bic=np.full(n_data, np.nan),
                     status=np.full(n_data, "skipped", dtype=object)) for k in ks}
    kidx = np.searchsorted(np.asarray(ks), grp_k)
    bic_mat = np.full((len(ks), n_data), np.inf)
    g_mat = np.full((len(ks), n_data), -1, dtype=np.int64)
    bic_mat[kidx, grp_j] = bic
    g_mat[kidx, grp_j] = np.arange(n_grp)
    for i, k in enumerate(ks):
        gs = g_mat[i][g_mat[i] >= 0]
        table[k]["status"][grp_j[gs]] = labels[gs]
        sel = gs[has[gs]]
        table[k]["log_likelihood"][grp_j[sel]] = best_ll[sel]
        table[k]["bic"][grp_j[sel]] = bic[sel]
    # K by BIC: the smallest K wins ties (np.argmin takes the first minimum)
    ki = np.argmin(bic_mat, axis=0) if n_data else np.zeros(0, np.int64)
    best_g = np.where(np.isfinite(bic_mat.min(axis=0)) if n_data else np.zeros(0, bool),
                      g_mat[ki, np.arange(n_data)], -1)
    for j in np.flatnonzero(valid & (best_g < 0)):
        reasons = sorted(set(str(table[k]["status"][j]) for k in ks))
        status[j] = "degenerate: no candidate K gave a usable fit (" + ", ".join(reasons) + ")"
        if strict:
            raise ValueError(f"datasets[{j}]: {status[j]}")
    for k in ks:
        js = np.flatnonzero(best_g >= 0)            # (no groups at all: nothing to index)
        js = js[grp_k[best_g[js]] == k]
        if js.shape[0] == 0:
            continue
        ps = best_g[js]
        wv, mv = g["w"][ps, :k], g["mu"][ps, :k]
        order = np.argsort(-mv, axis=1, kind="stable")
        res_w[js, :k] = np.take_along_axis(wv, order, axis=1) / wv.sum(axis=1, keepdims=True)
        res_mu[js, :k] = np.take_along_axis(mv, order, axis=1)
        res_ll[js] = g["loglik"][ps]
        res_bic[js] = bic[ps]
        res_k[js] = k
        res_conv[js] = g["status"][ps] == 0
        res_iter[js] = g["n_iter"][ps]
        status[js] = table[k]["status"][js]
    return FitManyResult(weights=res_w, rates=res_mu, log_likelihood=res_ll,
                         n_components=res_k, converged=res_conv, n_iter=res_iter, bic=res_bic,
                         n_observations=n_obs.astype(np.int64), status=status.astype(str),
                         table=table)
