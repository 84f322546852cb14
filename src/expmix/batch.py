"""Fit one exponential mixture to each of many data sets: :func:`fit_many`.

All fits (every data set x candidate K x restart) are one call into C, spread
over threads without the GIL, each fit single-threaded (csrc/batch.c).  With
the default single deterministic start the start itself is computed in C, in
the worker threads (csrc/init.c); only random restarts are drawn in Python.
Censored data sets and data sets with a dead time take the same single C
call (csrc/batch.c, em_fit_many_data: one em_data per data set over shared
segment buffers); per-observation entry times add the estimator's Python
starts and Newton polish around it (see _fit_many_observations).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

from typing import Any, Dict, List, Optional

import numpy as np

from . import _core
from ._init import starting_points
from ._threads import effective_n_threads
from .mixture import _ACCEL, ExponentialMixture
from .observations import _check_values, check_weights

__all__ = ["fit_many", "fit_many_intervals", "FitManyResult"]

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
    observed_weights : ndarray, shape (n_datasets, K_max)
        Weights of the components among the observations above the data
        set's dead time, w_k e^{-mu_k t} / S(t) (the estimator's
        ``observed_weights_``): equal to ``weights`` without truncation, NaN
        for per-observation entry times.
    entry : ndarray, shape (n_datasets,)
        The data set's common dead time (the estimator's ``entry_``): 0.0
        without truncation, NaN for per-observation entry times.
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
    observed_weights: Optional[np.ndarray] = None
    entry: Optional[np.ndarray] = None

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


def _check_options(ks, tol, max_iter, n_init, init, acceleration, strict, random_state):
    """The options common to fit_many and fit_many_intervals."""
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
    if _ragged_pair(datasets):
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
    xs, ws = _list_sets(datasets, sample_weight)
    n = len(xs)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.fromiter((x.shape[0] for x in xs), dtype=np.int64, count=n), out=offsets[1:])
    values = np.ascontiguousarray(np.concatenate(xs) if n else np.zeros(0))
    weights = None
    if ws is not None:
        weights = np.ascontiguousarray(np.concatenate(
            [np.ones(x.shape[0]) if w is None else w for x, w in zip(xs, ws)]) if n else np.zeros(0))
    return values, weights, offsets


def _check_list_args(datasets, sample_weight):
    if isinstance(datasets, (str, bytes, np.ndarray)) or not hasattr(datasets, "__len__"):
        raise TypeError("datasets must be a list of 1-D arrays or a (values, offsets) pair "
                        f"of arrays, got {type(datasets).__name__}")
    n = len(datasets)
    if sample_weight is not None and (not hasattr(sample_weight, "__len__")
                                      or isinstance(sample_weight, (np.ndarray, str, bytes))
                                      or len(sample_weight) != n):
        raise ValueError(f"sample_weight must be None or a list of {n} arrays (or None "
                         "entries), one per data set")


def _list_sets(datasets, sample_weight):
    """Lists (xs, ws or None) of 1-D C-contiguous float64 arrays from a list of data
    sets and of weights (None entries stay None: unit weights), converting only
    what needs it, with messages naming datasets[i] / sample_weight[i]."""
    _check_list_args(datasets, sample_weight)
    xs = list(datasets)
    ws = None if sample_weight is None else list(sample_weight)
    for i, d in enumerate(xs):
        if type(d) is np.ndarray and d.ndim == 1 and d.dtype == np.float64 and \
                d.flags.c_contiguous:
            continue
        a = np.asarray(d)
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if a.ndim != 1:
            raise ValueError(f"datasets[{i}] must be 1-D, got shape {a.shape}")
        if a.dtype.kind not in "iuf":
            raise TypeError(f"datasets[{i}] must be numeric, got dtype {a.dtype}"
                            + (" (bool)" if a.dtype.kind == "b" else ""))
        xs[i] = np.ascontiguousarray(a, dtype=np.float64)
    if ws is not None:
        for i, sw in enumerate(ws):
            if sw is None:
                continue
            wp = _weight_array(sw, f"sample_weight[{i}]")
            if wp.ndim != 1 or wp.shape[0] != xs[i].shape[0]:
                raise ValueError(f"sample_weight[{i}] has shape {wp.shape}, but datasets[{i}] "
                                 f"has {xs[i].shape[0]} observations")
            ws[i] = np.ascontiguousarray(wp)
    return xs, ws


def _exact_sets(datasets, sample_weight):
    """(table, x, w) of exact data sets: an ExactSets pointer table over the
    caller's arrays (float64 1-D contiguous arrays are not copied), and
    functions giving data set j's values and weights (None: unit weights)."""
    if _ragged_pair(datasets):
        values, weights, offsets = _ragged(datasets, sample_weight)
        return (_core.ExactSets(values, weights, offsets),
                lambda j: values[offsets[j]:offsets[j + 1]],
                (lambda j: None) if weights is None else
                (lambda j: weights[offsets[j]:offsets[j + 1]]))
    _check_list_args(datasets, sample_weight)
    xs = list(datasets)
    ws = None if sample_weight is None else list(sample_weight)
    try:        # fast: float64 1-D contiguous arrays, checked in C, nothing copied
        table = _core.ExactSets(xs, ws, None)
    except (TypeError, ValueError):
        xs, ws = _list_sets(xs, ws)
        table = _core.ExactSets(xs, ws, None)
    return table, xs.__getitem__, (lambda j: None) if ws is None else ws.__getitem__


def fit_many(datasets, n_components, *, sample_weight=None, event_observed=None, entry=None,
             n_init=1, init="auto", tol=1e-10, max_iter=1000, acceleration="anderson", random_state=None,
             n_threads=None, strict=False):
    """Fit an exponential mixture to each of many data sets, in parallel.

    Every fit (data set x candidate number of components x restart) runs in
    one call into the C core, spread over ``n_threads`` threads without the
    GIL, each fit single-threaded.  Use it for thousands of small data sets
    (inter-event times per user, dwell times per molecule, ...).

    Parameters
    ----------
    datasets : list of 1-D arrays, or a pair ``(values, offsets)``
        The data sets (non-negative, finite observations: exact values, or
        right-censoring times where ``event_observed`` is False).  Ragged form:
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
        ragged form one array parallel to ``values``.  A None entry among
        arrays is fitted with unit weights, bit for bit as the unweighted
        single fit.  1-D C-contiguous float64 arrays (values and weights)
        are read in place, not copied; other entries are converted first.
    event_observed : None, list of bool arrays (or None entries), or 1-D array
        Right censoring, as in :meth:`ExponentialMixture.fit`: False marks a
        value as a censoring time (the event happened later, e.g. at the end
        of the recording or of the test).  A list parallel to ``datasets``
        (None: every event of that data set observed), or for the ragged form
        one array parallel to ``values``.
    entry : None, float, list of floats / arrays / None, or 1-D array
        Left truncation, as in :meth:`ExponentialMixture.fit` (lifelines'
        convention: an observation is seen only because ``X[i] > entry[i]``;
        a censored value may equal its entry time).  A scalar is a dead time
        common to every data set; a list gives per data set a dead time, an
        array of entry times, or None; the ragged form takes one array
        parallel to ``values``.  A data set whose entry times are all equal
        (a dead time) is fitted exactly through memorylessness on the data
        measured from it, in the one C call; per-observation entry times get
        the estimator's extra starts and Newton polish in Python, data set by
        data set (their EM iterations still run in the one C call).
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
        With ``event_observed``/``entry`` a data set is invalid for the
        reasons :meth:`ExponentialMixture.fit` rejects it (an event at or
        below its entry time, every observation censored, NaN entry times,
        flags or entry times of the wrong length, ...), and the message
        names ``datasets[j]``, ``entry[j]`` or ``event_observed[j]``.  An
        argument of the wrong form as a whole (a list of the wrong length, a
        ragged array not parallel to ``values``, a negative scalar entry)
        raises whatever ``strict``.

    Returns
    -------
    FitManyResult
        Arrays with one row per data set: ``weights``, ``rates``
        (n_datasets x max K, NaN-padded), ``log_likelihood``,
        ``n_components``, ``converged``, ``n_iter``, ``bic``, ``status``,
        ``observed_weights``, ``entry``.  With censoring or truncation the
        log-likelihood is that of the data as observed (survival terms,
        division by S(entry)), ``weights`` describe the untruncated
        population and BIC's n is the number of observations (each censored
        or truncated one counts once), as for the estimator's ``bic_``.
        Results equal ``ExponentialMixture(K, random_state=child_j).fit(
        datasets[j], event_observed=..., entry=...)`` bit for bit.

    Examples
    --------
    >>> import numpy as np, expmix
    >>> rng = np.random.default_rng(0)
    >>> data = [rng.exponential(1.0, 300) for _ in range(100)]
    >>> res = expmix.fit_many(data, 1, random_state=0)
    >>> res.rates.shape
    (100, 1)
    >>> x = [rng.exponential(1.0, 300) + 0.1 for _ in range(10)]    # dead time 0.1
    >>> ev = [xi < 2.0 for xi in x]                                 # recording ends at 2
    >>> res = expmix.fit_many([np.minimum(xi, 2.0) for xi in x], 1, event_observed=ev,
    ...                       entry=0.1, random_state=0)
    >>> bool(np.all(np.abs(res.rates[:, 0] - 1.0) < 0.3))
    True
    """
    ks = _candidates(n_components)
    _check_options(ks, tol, max_iter, n_init, init, acceleration, strict, random_state)
    n_threads = effective_n_threads(n_threads)
    if event_observed is not None or entry is not None:
        return _fit_many_observations(
            datasets, ks, sample_weight=sample_weight, event_observed=event_observed,
            entry=entry, n_init=int(n_init), init=init, tol=tol, max_iter=max_iter,
            acceleration=acceleration, random_state=random_state, n_threads=n_threads,
            strict=bool(strict))
    table, x_of, w_of = _exact_sets(datasets, sample_weight)
    n_data = len(table)
    n_init = int(n_init)
    Kmax = ks[-1]
    # The default (one deterministic quantile start) is computed by C in the
    # worker threads (a NaN start asks for it): the whole fit_many is then one
    # nogil call.  Random restarts (n_init > 1, init "kmeans"/"random") are
    # drawn here, per data set, from the documented child seeds.
    c_starts = n_init == 1 and init in ("auto", "quantile")

    # ---- validation: one parallel pass in C; per-data-set detail only where wrong --
    n_obs, n_bad, n_info, n_wpos = table.scan(n_threads)
    invalid = (n_obs == 0) | (n_bad > 0) | (n_wpos == 0) | (n_obs < ks[0]) | (n_info == 0)
    status = np.full(n_data, "", dtype=object)
    for j in np.flatnonzero(invalid):
        x, wj = x_of(j), w_of(j)
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
    if sample_weight is not None:
        with np.errstate(over="ignore"):
            for j in np.flatnonzero(valid):     # as Observations.total_weight (np.sum)
                wj = w_of(j)
                if wj is not None:
                    total_w[j] = float(np.sum(wj))
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
            x, vw = x_of(jj), w_of(jj)
            vw = np.ones_like(x) if vw is None else vw
            rng = np.random.default_rng(children[jj])
            for i, s in enumerate(starting_points(x, vw, kk, n_init, init, rng)):
                W[gi * n_init + i, :kk] = s[0]
                M[gi * n_init + i, :kk] = s[1]
    data_index = np.repeat(grp_j, n_init).astype(np.int64)
    ncomp = np.repeat(grp_k, n_init).astype(np.intc)
    out = _core.fit_many(table, data_index, ncomp, W, M,
                         max_iter=int(max_iter), tol=float(tol),
                         accel=_ACCEL[acceleration], n_threads=n_threads)

    # ---- per (K, data set): best restart as ExponentialMixture; K by BIC --------
    g = _group_best(out, W, M, n_grp, n_init)
    bic = _group_bic(g, grp_k, total_w[grp_j])
    res = _select(n_data, ks, Kmax, grp_j, grp_k, g, bic, valid, status, strict, n_obs)
    res.observed_weights = res.weights       # no truncation: the same weights
    res.entry = np.zeros(n_data)
    return res


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


# ----------------------------------------------------------------------
# censored and truncated data sets (event_observed=, entry=)

def _name_message(msg, j):
    """A message of ExponentialMixture.fit's validation, naming data set j."""
    for arg in ("event_observed", "sample_weight", "entry"):
        if msg.startswith(arg):
            msg = f"{arg}[{j}]" + msg[len(arg):]
            break
    else:
        msg = f"datasets[{j}]" + msg[1:] if msg.startswith("X ") else f"datasets[{j}]: " + msg
    return msg.replace(" X[", f" datasets[{j}][").replace(" X has", f" datasets[{j}] has")


def _per_dataset(arg, name, ragged, n_data, n_values):
    """A per-data-set argument in the list form (list of n_data entries) or
    the ragged form (one 1-D array of len(values)); None stays None."""
    if arg is None:
        return None
    if ragged:
        a = np.asarray(arg)
        if a.ndim != 1 or a.shape[0] != n_values:
            raise ValueError(f"{name}: with ragged datasets it must be one 1-D array of length "
                             f"len(values) = {n_values}, got shape {a.shape}")
        return a
    if isinstance(arg, (str, bytes, np.ndarray)) or not hasattr(arg, "__len__") \
            or len(arg) != n_data:
        raise ValueError(f"{name} must be None or a list of {n_data} entries (arrays or None), "
                         f"one per data set" + (" (or, with ragged datasets, one array parallel "
                                                "to values)" if not ragged else ""))
    return arg


def _events(event_observed, ragged, offsets, n_values, bad):
    """Event flags parallel to the values (None: every event observed);
    per-data-set problems go to ``bad`` (data set -> message)."""
    n_data = offsets.shape[0] - 1
    e = _per_dataset(event_observed, "event_observed", ragged, n_data, n_values)
    if e is None:
        return None

    def flags(a, j=None):
        nm = "event_observed" if j is None else f"event_observed[{j}]"
        if a.dtype.kind == "b":
            return a.astype(bool, copy=False), None
        if a.dtype.kind in "iuf":
            ok = (a == 0) | (a == 1)
            return a.astype(bool), (None if ok.all() else ok)
        raise TypeError(f"{nm} must be boolean (or 0/1), got dtype {a.dtype}")

    if ragged:
        ev, ok = flags(e)
        if ok is not None:
            for j in np.unique(np.searchsorted(offsets, np.flatnonzero(~ok), side="right") - 1):
                bad.setdefault(int(j), f"event_observed[{j}] must contain only True/False "
                                       "(or 0/1)")
        return np.ascontiguousarray(ev)
    ev = np.ones(n_values, dtype=bool)
    for j, ej in enumerate(e):
        if ej is None:
            continue
        n_j = int(offsets[j + 1] - offsets[j])
        a = np.asarray(ej)
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        try:
            if a.ndim != 1:
                raise ValueError(f"event_observed[{j}] must be 1-D, got shape {a.shape}")
            if a.shape[0] != n_j:
                raise ValueError(f"event_observed[{j}] has length {a.shape[0]}, but "
                                 f"datasets[{j}] has {n_j} observations")
            f, ok = flags(a, j)
            if ok is not None:
                raise ValueError(f"event_observed[{j}] must contain only True/False (or 0/1)")
        except (TypeError, ValueError) as err:
            bad.setdefault(j, str(err))
            continue
        ev[offsets[j]:offsets[j + 1]] = f
    return ev


def _entries(entry, ragged, offsets, n_values, bad):
    """Entry times parallel to the values (None: no truncation; a scalar is
    a common dead time of every data set), and per data set its entry as
    given: None, a scalar, or "rows" (an array; as fit reads it)."""
    n_data = offsets.shape[0] - 1
    given: List[Any] = [None] * n_data
    if entry is None:
        return None, given
    if isinstance(entry, (bool, np.bool_)):
        raise TypeError("entry must be a number, a list (one entry per data set) or an array, "
                        "got a bool")
    if isinstance(entry, numbers.Real):
        t = float(entry)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"entry must be a finite number >= 0, got {entry!r}")
        return np.full(n_values, t), [t] * n_data
    e = _per_dataset(entry, "entry", ragged, n_data, n_values)
    if ragged:
        if e.dtype.kind not in "iuf":
            raise TypeError(f"entry must be numeric, got dtype {e.dtype}")
        return np.ascontiguousarray(e, dtype=np.float64), ["rows"] * n_data
    t_all = np.zeros(n_values)
    for j, tj in enumerate(e):
        if tj is None:
            continue
        n_j = int(offsets[j + 1] - offsets[j])
        try:
            if isinstance(tj, (bool, np.bool_, str, bytes)):
                raise TypeError(f"entry[{j}] must be a number or an array of numbers, "
                                f"got {type(tj).__name__}")
            a = np.asarray(tj)
            if a.dtype.kind not in "iuf":
                raise TypeError(f"entry[{j}] must be numeric, got dtype {a.dtype}")
            given[j] = "rows"
            if a.ndim == 0:
                given[j] = float(a)
                a = np.full(n_j, float(a))
            elif a.ndim == 2 and a.shape[1] == 1:
                a = a[:, 0]
            if a.ndim != 1:
                raise ValueError(f"entry[{j}] must be a scalar or 1-D, got shape {a.shape}")
            if a.shape[0] != n_j:
                raise ValueError(f"entry[{j}] has length {a.shape[0]}, but datasets[{j}] "
                                 f"has {n_j} observations")
        except (TypeError, ValueError) as err:
            bad.setdefault(j, str(err))
            continue
        t_all[offsets[j]:offsets[j + 1]] = a
    return t_all, given


def _fit_many_observations(datasets, ks, *, sample_weight, event_observed, entry, n_init,
                           init, tol, max_iter, acceleration, random_state, n_threads, strict):
    """fit_many for censored and/or truncated data sets (see fit_many).

    Every data set follows ExponentialMixture._fit.  Data sets without
    per-observation truncation left after the common dead time (no entry, a
    scalar dead time, or entry times all equal) are handled on the whole
    buffers at once: shifted by their dead time (memorylessness), split into
    exact and right-censored segments, fitted from starts computed in C in
    the worker threads, and their weights mapped back to the population
    below the dead time.  The others (per-observation entry times, or data
    at magnitudes ExponentialMixture rescales) get their observation set,
    starts (the excess starts included) and Newton polish in Python, data
    set by data set, as a single fit; their EM runs in the same C call."""
    from .mixture import TRUNCATION_EM_MAX_ITER
    from .observations import Observations, from_samples
    ragged = _ragged_pair(datasets)
    values, weights, offsets = _ragged(datasets, sample_weight)
    n_data = offsets.shape[0] - 1
    n_values = values.shape[0]
    bad: Dict[int, str] = {}
    ev = _events(event_observed, ragged, offsets, n_values, bad)
    tr, t_given = _entries(entry, ragged, offsets, n_values, bad)
    Kmax = ks[-1]
    n_obs = np.diff(offsets)
    c_starts = n_init == 1 and init in ("auto", "quantile")

    csum = np.zeros(n_values + 1, np.int64)

    def _count(mask):
        """True entries of a mask parallel to the values, per data set."""
        np.cumsum(mask, out=csum[1:])
        return csum[offsets[1:]] - csum[offsets[:-1]]

    # ---- validation on the whole buffers; messages of fit() where wrong ------
    with np.errstate(invalid="ignore"):
        good_x = np.isfinite(values) & (values >= 0)
        wpos = np.ones(n_values, bool) if weights is None else weights > 0
        n_bad = _count(~good_x)
        if weights is not None:
            n_bad += _count(~(np.isfinite(weights) & (weights >= 0)))
        evm = np.ones(n_values, bool) if ev is None else ev
        t0 = np.zeros(n_values) if tr is None else tr
        if tr is not None:
            n_bad += _count(~(np.isfinite(tr) & (tr >= 0)))
            # per-row entries: an event after its entry, a censoring time at or
            # after it; a scalar (or None) entry t: only t > 0 is checked
            as_rows = np.repeat(np.array([isinstance(g, str) for g in t_given], bool), n_obs)
            n_bad += _count((as_rows | (tr > 0)) & np.where(evm, tr >= values, tr > values))
        n_exposed = _count((values > t0) & wpos)
        n_bounded = _count(evm & wpos)
    invalid = (n_obs == 0) | (n_bad > 0) | (n_exposed == 0) | (n_bounded == 0) | \
        (n_obs < ks[0])
    for j in bad:
        invalid[j] = True
    status = np.full(n_data, "", dtype=object)

    def piece(a, j):
        return None if a is None else a[offsets[j]:offsets[j + 1]]

    def entry_of(j):        # as the user gave it (a scalar stays a scalar)
        return piece(tr, j) if isinstance(t_given[j], str) else t_given[j]

    def reject(j, msg):
        status[j] = "invalid: " + msg
        invalid[j] = True
        if strict:
            raise ValueError(msg)

    for j in (int(i) for i in np.flatnonzero(invalid)):
        if j in bad:
            reject(j, bad[j])
            continue
        if n_obs[j] == 0:
            reject(j, f"datasets[{j}] is empty: at least one observation is needed")
            continue
        try:
            from_samples(piece(values, j), piece(weights, j), piece(ev, j), entry_of(j))
        except ValueError as err:
            reject(j, _name_message(str(err), j))
            continue
        reject(j, f"datasets[{j}] has {int(n_obs[j])} observations, fewer than the smallest "
                  f"n_components ({ks[0]})")
    valid = ~invalid
    nonempty = n_obs > 0
    starts_idx = offsets[:-1][nonempty]

    # ---- per data set: dead time, truncation pairs left, magnitude ----------
    dt = np.zeros(n_data)
    n_pairs = np.zeros(n_data, np.int64)
    if tr is not None and starts_idx.shape[0]:
        with np.errstate(invalid="ignore"):
            tmin = np.minimum.reduceat(t0, starts_idx)
        dt[nonempty] = np.where(valid[nonempty] & (tmin > 0), tmin, 0.0)
        dt_row = np.repeat(dt, n_obs)
        n_pairs = _count(t0 > dt_row)
        # x - t, clipped at 0, where t > 0 (the operations of
        # Observations.shifted); x - 0.0 is x bit for bit elsewhere
        shifted = np.subtract(values, dt_row)
        np.maximum(shifted, 0.0, out=shifted, where=dt_row > 0)
    else:
        shifted = values
    extreme = np.zeros(n_data, bool)
    if starts_idx.shape[0]:
        with np.errstate(invalid="ignore"):
            mx = np.maximum.reduceat(np.where(good_x, shifted, 0.0), starts_idx)
        e2 = np.frexp(mx)[1] - 1
        extreme[nonempty] = (mx > 0) & ((e2 < -256) | (e2 > 256))
    slow = valid & ((n_pairs > 0) | extreme)
    simple = valid & ~slow
    total_w = n_obs.astype(np.float64)

    # ---- segments: the simple data sets on the whole buffers ---------------
    if ev is None:
        exact, exact_w, eoff = shifted, weights, offsets
        right = right_w = roff = None
    else:
        cs = np.zeros(n_values + 1, np.int64)
        np.cumsum(ev, out=cs[1:])
        eoff = cs[offsets]
        roff = offsets - eoff
        exact, right = shifted[ev], shifted[~ev]
        exact_w = None if weights is None else weights[ev]
        right_w = None if weights is None else weights[~ev]
    if weights is not None:
        with np.errstate(over="ignore"):
            for j in (int(i) for i in np.flatnonzero(simple)):  # as Observations.total_weight
                tot = 0.0
                for seg, off in ((exact_w, eoff), (right_w, roff)):
                    if seg is not None and off is not None and off[j + 1] > off[j]:
                        tot += float(np.sum(seg[off[j]:off[j + 1]]))
                total_w[j] = tot
        for j in (int(i) for i in np.flatnonzero(simple & ~np.isfinite(total_w))):
            reject(j, f"sample_weight[{j}]: the weights sum to more than the largest "
                           "float64 (1.8e308); divide them by a common factor")
            valid[j] = simple[j] = False

    def simple_obs(j):
        def seg(a, off):
            return None if a is None or off[j + 1] == off[j] else a[off[j]:off[j + 1]]
        return Observations(exact=seg(exact, eoff), exact_w=seg(exact_w, eoff),
                            right=seg(right, roff), right_w=seg(right_w, roff),
                            n_obs=int(n_obs[j]))

    # ---- the others: their observation sets, as a single fit builds them ---
    slow_j = [int(j) for j in np.flatnonzero(slow)]
    slow_obs = {}
    for j in slow_j:
        try:
            o = from_samples(piece(values, j), piece(weights, j), piece(ev, j), entry_of(j))
        except ValueError as err:       # (the checks above should have caught it)
            reject(j, _name_message(str(err), j))
            valid[j] = slow[j] = False
            continue
        slow_obs[j] = _prepared(o)
        total_w[j] = o.total_weight
    slow_j = list(slow_obs)
    n_c = n_data + len(slow_j)            # C data sets: all, then the slow ones again
    cidx = {j: n_data + r for r, j in enumerate(slow_j)}

    def cat(base, base_w, base_off, parts):
        """One buffer per segment kind: the simple data sets' segment, then
        the slow data sets' (offsets over all n_c C data sets)."""
        off = np.zeros(n_c + 1, np.int64)
        if base_off is not None:
            off[:n_data + 1] = base_off
        off[n_data + 1:] = off[n_data] + np.cumsum([0 if q is None else q.shape[0]
                                                    for q, _ in parts], dtype=np.int64)
        vals = [np.zeros(0) if base is None else base] + \
            [q for q, _ in parts if q is not None]
        if weights is not None:
            ws = [np.zeros(0) if base is None else base_w] + \
                [(np.ones(q.shape[0]) if w is None else w) for q, w in parts if q is not None]
            return (np.ascontiguousarray(np.concatenate(vals), dtype=np.float64),
                    np.ascontiguousarray(np.concatenate(ws), dtype=np.float64), off)
        return np.ascontiguousarray(np.concatenate(vals), dtype=np.float64), None, off

    so = [slow_obs[j][1] for j in slow_j]
    E, Ew, Eo = cat(exact, exact_w, eoff, [(o.exact, o.exact_w) for o in so])
    R, Rw, Ro = cat(right, right_w, roff, [(o.right, o.right_w) for o in so])
    T, Tw, To = cat(None, None, None, [(o.trunc, o.trunc_w) for o in so])
    max_iter_per = np.full(n_c, int(max_iter), np.int64)
    for j in slow_j:
        if slow_obs[j][1].trunc is not None:
            max_iter_per[cidx[j]] = min(int(max_iter), TRUNCATION_EM_MAX_ITER)

    # ---- the problem table: simple groups (n_init each), then the others ----
    children: List[Any] = []
    if not c_starts or slow_j:
        children = (random_state if isinstance(random_state, np.random.SeedSequence)
                    else np.random.SeedSequence(random_state)).spawn(n_data)
    sg_jl, sg_kl = [], []
    for k in ks:
        js = np.flatnonzero(simple & (n_obs >= k))
        sg_jl.append(js)
        sg_kl.append(np.full(js.shape[0], k, dtype=np.int64))
    sg_j = np.concatenate(sg_jl).astype(np.int64)
    sg_k = np.concatenate(sg_kl).astype(np.int64)
    n_sg = sg_j.shape[0]
    slow_groups = [(j, k) for k in ks for j in slow_j if n_obs[j] >= k]
    slow_starts = []
    for j, k in slow_groups:
        slow_starts.append(_estimator_starts(slow_obs[j][1], k, n_init, init, children[j]))
    P = n_sg * n_init + sum(len(st) for st in slow_starts)
    W = np.full((P, Kmax), np.nan)
    M = np.full((P, Kmax), np.nan)
    if not c_starts:
        for gi in range(n_sg):
            jj, kk = int(sg_j[gi]), int(sg_k[gi])
            rng = np.random.default_rng(children[jj])
            for i, s in enumerate(starting_points(None, None, kk, n_init, init, rng,
                                                  obs=simple_obs(jj))):
                W[gi * n_init + i, :kk] = s[0]
                M[gi * n_init + i, :kk] = s[1]
    data_index = np.empty(P, np.int64)
    ncomp = np.empty(P, np.intc)
    data_index[:n_sg * n_init] = np.repeat(sg_j, n_init)
    ncomp[:n_sg * n_init] = np.repeat(sg_k, n_init)
    p = n_sg * n_init
    slow_rows = []
    for (j, k), st in zip(slow_groups, slow_starts):
        slow_rows.append((p, p + len(st)))
        for s in st:
            W[p, :k] = s[0]
            M[p, :k] = s[1]
            data_index[p] = cidx[j]
            ncomp[p] = k
            p += 1
    out = _core.fit_many_data(n_c, E, Ew, Eo, R, Rw, Ro, T if T.shape[0] else None, Tw, To,
                              max_iter_per, data_index, ncomp, W, M, max_iter=int(max_iter),
                              tol=float(tol), accel=_ACCEL[acceleration], n_threads=n_threads)

    # ---- best restart per group: simple ones vectorized, the others as _fit --
    head = {key: v[:n_sg * n_init] for key, v in out.items()}
    g = _group_best(head, W[:n_sg * n_init], M[:n_sg * n_init], n_sg, n_init)
    gs = _estimator_best(slow_groups, slow_rows, slow_obs, W, M, out, Kmax)
    grp_j = np.concatenate([sg_j, np.asarray([j for j, _ in slow_groups], np.int64)])
    grp_k = np.concatenate([sg_k, np.asarray([k for _, k in slow_groups], np.int64)])
    g = {key: np.concatenate([g[key], gs[key]]) for key in g}
    bic = _group_bic(g, grp_k, total_w[grp_j])
    res = _select(n_data, ks, Kmax, grp_j, grp_k, g, bic, valid, status, strict, n_obs)

    # ---- a common dead time: the weights of the population below it --------
    observed = _map_dead_time(res, ks, dt)
    observed[slow & (n_pairs > 0)] = np.nan     # per-observation entry times
    res.observed_weights = observed
    res.entry = np.where(slow & (n_pairs > 0), np.nan, dt)
    return res


# ----------------------------------------------------------------------
# the estimator's per-data-set steps around the one C call (the data sets
# fit_many cannot handle on the whole buffers, and every fit_many_intervals
# data set)

def _prepared(o):
    """(o, the observations EM runs on, their power-of-two scale, the
    log-likelihood shift back to the user's units), as ExponentialMixture._fit
    (through _fit_dead_time for a dead time) prepares them."""
    from .observations import exact_weight, power_of_two_scale, rescaled
    of = o.shifted() if o.dead_time > 0 else o
    s_data = power_of_two_scale(of)
    of = rescaled(of, s_data)
    return o, of, s_data, -exact_weight(of) * np.log(s_data)


def _estimator_starts(of, k, n_init, init, child):
    """The starts ExponentialMixture(k, random_state=child) fits ``of`` from
    (the excess starts with per-observation entry times included)."""
    from .mixture import _truncation_starts
    from ._init import excess_of
    rng = np.random.default_rng(child)
    excess = excess_of(of) if of.trunc is not None and k > 1 else None
    st = list(starting_points(None, None, k, n_init, init, rng, obs=of,
                              excess=None if excess is None else excess[:2]))
    if of.trunc is not None and k > 1:
        st += _truncation_starts(of, k, 1, float(_core.data_scale(of)), excess)
    return st


def _estimator_best(groups, rows, prepared, W, M, out, Kmax):
    """Best restart of each (data set j, K) group whose problems are rows
    [a, b) of the C table, as ExponentialMixture._fit chooses it (Newton
    polish with truncation pairs, rates mapped back to the user's units):
    dict of per-group arrays, as _group_best."""
    from .mixture import _polish_truncated_runs
    n = len(groups)
    gs = dict(has=np.zeros(n, bool), labels=np.empty(n, dtype=object),
              w=np.full((n, Kmax), np.nan), mu=np.full((n, Kmax), np.nan),
              loglik=np.full(n, np.nan), status=np.zeros(n, np.int32),
              n_iter=np.zeros(n, np.int64))
    for gi, ((j, k), (a, b)) in enumerate(zip(groups, rows)):
        o, of, s_data, ll_shift = prepared[j]
        runs: List[Dict[str, Any]] = []
        for q in range(a, b):
            runs.append(dict(w=W[q, :k].copy(), mu=M[q, :k].copy(),
                             status=int(out["status"][q]), n_iter=int(out["n_iter"][q]),
                             loglik=float(out["loglik"][q]),
                             kind={1: "empty", 2: "spike"}.get(int(out["degenerate_kind"][q]),
                                                               "")))
        errs = [r["status"] for r in runs if r["status"] < 0]
        if errs:            # a single fit raises on the first error
            gs["labels"][gi] = "error: " + _ERRORS.get(errs[0], str(errs[0]))
            continue
        sound = [r for r in runs if r["kind"] != "spike"]
        if not sound:
            gs["labels"][gi] = "degenerate"
            continue
        if of.trunc is not None:
            _polish_truncated_runs(of, sound, 1)
        best = max(sound, key=lambda r: r["loglik"])
        with np.errstate(over="ignore"):
            mu = best["mu"] / s_data
        if not np.all(np.isfinite(mu)):
            gs["labels"][gi] = "error: the fitted rates exceed the float64 range"
            continue
        gs["has"][gi] = True
        gs["labels"][gi] = _STATUS.get(best["status"], str(best["status"])) + \
            (" (empty component)" if best["kind"] == "empty" else "")
        gs["w"][gi, :k] = best["w"]
        gs["mu"][gi, :k] = mu
        gs["loglik"][gi] = best["loglik"] + ll_shift
        gs["status"][gi] = best["status"]
        gs["n_iter"][gi] = best["n_iter"]
    return gs


def _map_dead_time(res, ks, dt):
    """Map the weights of the rows with a dead time dt > 0 to the population
    below it, in place (the operations of ExponentialMixture._fit_dead_time,
    row by row); returns the weights seen above it (a copy)."""
    observed = res.weights.copy()
    for k in ks:
        js = np.flatnonzero((dt > 0) & (res.n_components == k))
        if js.shape[0] == 0:
            continue
        with np.errstate(divide="ignore"):
            a = np.log(res.weights[js, :k]) + res.rates[js, :k] * dt[js, None]
        a -= a.max(axis=1, keepdims=True)
        w = np.exp(a)
        res.weights[js, :k] = w / w.sum(axis=1, keepdims=True)
    return observed


# ----------------------------------------------------------------------
# interval-censored / binned data sets (fit_many_intervals)

def _split(arg, name, n_data, offsets):
    """A per-data-set argument: a list of n_data entries, or (with ragged
    bounds, ``offsets`` not None) one 1-D array parallel to the values."""
    if offsets is not None:
        a = np.asarray(arg)
        if a.ndim != 1 or a.shape[0] != offsets[-1]:
            raise ValueError(f"{name}: with ragged lower/upper it must be one 1-D array of "
                             f"length len(values) = {int(offsets[-1])}, got shape {a.shape}")
        return [a[offsets[j]:offsets[j + 1]] for j in range(n_data)]
    if isinstance(arg, (str, bytes, np.ndarray)) or not hasattr(arg, "__len__") \
            or len(arg) != n_data:
        raise ValueError(f"{name} must be None or a list of {n_data} entries, one per data set")
    return list(arg)


def _ragged_pair(arg):
    return isinstance(arg, tuple) and len(arg) == 2 and np.asarray(arg[1]).dtype.kind in "iu"


def _interval_sets(lower, upper, sample_weight, entry):
    """Per data set (lower_j, upper_j, weights_j or None, entry_j or None)."""
    if _ragged_pair(lower) != _ragged_pair(upper):
        raise TypeError("lower and upper must both be lists of 1-D arrays or both "
                        "(values, offsets) pairs")
    offsets = None
    if _ragged_pair(lower):
        offsets = np.asarray(lower[1])
        if offsets.ndim != 1 or offsets.shape[0] < 1 or offsets[0] != 0 or \
                np.any(np.diff(offsets) < 0):
            raise ValueError("lower: offsets must be 1-D, start at 0 and be non-decreasing")
        if not np.array_equal(offsets, np.asarray(upper[1])):
            raise ValueError("lower and upper must have the same offsets")
        n_data = offsets.shape[0] - 1
        lows: List[Any] = []
        ups: List[Any] = []
        for name, (vals, _), out in (("lower", lower, lows), ("upper", upper, ups)):
            v = np.asarray(vals)
            if v.ndim != 1 or v.shape[0] != offsets[-1]:
                raise ValueError(f"{name}: ragged values must be 1-D of length offsets[-1] = "
                                 f"{int(offsets[-1])}, got shape {v.shape}")
            out.extend(v[offsets[j]:offsets[j + 1]] for j in range(n_data))
    else:
        for name, a in (("lower", lower), ("upper", upper)):
            if isinstance(a, (str, bytes, np.ndarray)) or not hasattr(a, "__len__"):
                raise TypeError(f"{name} must be a list of 1-D arrays (one per data set) or a "
                                f"(values, offsets) pair, got {type(a).__name__}")
        if len(lower) != len(upper):
            raise ValueError(f"lower and upper must have one entry per data set each, got "
                             f"{len(lower)} and {len(upper)}")
        n_data = len(lower)
        lows, ups = list(lower), list(upper)
    ws = [None] * n_data if sample_weight is None else \
        _split(sample_weight, "sample_weight", n_data, offsets)
    ts: List[Any]
    if entry is None:
        ts = [None] * n_data
    elif isinstance(entry, (bool, np.bool_)):
        raise TypeError("entry must be a number or a list (one entry per data set), got a bool")
    elif isinstance(entry, numbers.Real):
        t = float(entry)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"entry must be a finite number >= 0, got {entry!r}")
        ts = [t] * n_data
    else:
        ts = _split(entry, "entry", n_data, offsets)
    return n_data, lows, ups, ws, ts


def _name_interval_message(msg, j):
    """A message of from_intervals, naming data set j."""
    import re
    named = re.sub(r"\b(lower|upper|entry|sample_weight)\[", rf"\1[{j}][", msg)
    named = re.sub(r"^(lower|upper|entry|sample_weight)\b(?!\[)", rf"\1[{j}]", named)
    if named == msg:
        named = f"lower[{j}]/upper[{j}]: " + msg
    return named


def fit_many_intervals(lower, upper, n_components, *, sample_weight=None, entry=None,
                       n_init=1, init="auto", tol=1e-10, max_iter=1000,
                       acceleration="anderson", random_state=None, n_threads=None,
                       strict=False):
    """Fit an exponential mixture to each of many interval-censored (binned)
    data sets, in parallel: :func:`fit_many` for
    :meth:`ExponentialMixture.fit_intervals`.

    Data set ``j`` is the rows ``lower[j][i] < x < upper[j][i]``:
    ``lower == upper`` is an exact value, ``upper == inf`` a right-censoring
    time at ``lower``, otherwise a bin or rounding interval.  A histogram per
    data set is ``lower[j] = edges_j[:-1]``, ``upper[j] = edges_j[1:]``,
    ``sample_weight[j] = counts_j``.

    Parameters
    ----------
    lower, upper : lists of 1-D arrays, or ``(values, offsets)`` pairs
        The bounds per data set (parallel lists), or both in the ragged form
        of :func:`fit_many` with the same ``offsets``.
    n_components : int or iterable of int
        As in :func:`fit_many` (K chosen per data set by BIC, n the total
        weight).
    sample_weight : None, list of arrays (or None entries), or 1-D array
        Weights (bin counts) per row: a list parallel to ``lower``, or for the
        ragged form one array parallel to the values.
    entry : None, float, or list of floats / arrays / None (ragged: 1-D array)
        Left truncation as in :meth:`ExponentialMixture.fit_intervals`: a dead
        time common to every data set, a dead time (or per-row entry times)
        per data set, or for the ragged form one array parallel to the values.
    n_init, init, tol, max_iter, acceleration, random_state, n_threads
        As in :func:`fit_many`.  Data set ``j`` gets the child seed
        ``np.random.SeedSequence(random_state).spawn(n_datasets)[j]``.
    strict : bool, default False
        If True, raise ``ValueError`` naming ``lower[j]`` / ``upper[j]`` /
        ``entry[j]`` / ``sample_weight[j]`` for the first data set that
        :meth:`ExponentialMixture.fit_intervals` would reject (lower > upper,
        NaN, negative bounds, a row below its entry time, no information such
        as a single row [0, inf), fewer rows than the smallest K); if False,
        report it in ``status`` ("invalid: ...") with a NaN row.

    Returns
    -------
    FitManyResult
        As :func:`fit_many`; ``n_observations`` counts rows.  Each data set's
        result equals ``ExponentialMixture(K, random_state=child_j, ...)
        .fit_intervals(lower[j], upper[j], sample_weight[j], entry=entry[j])``
        bit for bit (the same observation sets, starts and C fit; the EM of
        every data set runs in one C call over the threads), and the choice
        of K that of ``select_components_intervals`` with the same seed.

    Examples
    --------
    >>> import numpy as np, expmix
    >>> rng = np.random.default_rng(0)
    >>> edges = np.r_[np.arange(0.0, 5.0, 0.25), np.inf]           # bins of 0.25, open last
    >>> counts = [np.histogram(rng.exponential(1.0, 400), edges)[0] for _ in range(20)]
    >>> res = expmix.fit_many_intervals([edges[:-1]] * 20, [edges[1:]] * 20, 1,
    ...                                 sample_weight=counts, random_state=0)
    >>> bool(np.all(np.abs(res.rates[:, 0] - 1.0) < 0.2))
    True
    """
    from .mixture import TRUNCATION_EM_MAX_ITER
    from .observations import from_intervals
    ks = _candidates(n_components)
    _check_options(ks, tol, max_iter, n_init, init, acceleration, strict, random_state)
    n_threads = effective_n_threads(n_threads)
    n_init = int(n_init)
    n_data, lows, ups, ws, ts = _interval_sets(lower, upper, sample_weight, entry)
    Kmax = ks[-1]

    # ---- per data set: the estimator's observation set, or why not ----------
    status = np.full(n_data, "", dtype=object)
    n_obs = np.zeros(n_data, np.int64)
    total_w = np.zeros(n_data)
    prepared = {}
    for j in range(n_data):
        try:
            try:
                o = from_intervals(lows[j], ups[j], ws[j], ts[j])
            except TypeError as err:        # wrong form: raised whatever strict
                raise TypeError(_name_interval_message(str(err), j)) from None
            except ValueError as err:
                raise ValueError(_name_interval_message(str(err), j)) from None
            n_obs[j] = o.n_obs
            if o.n_obs < ks[0]:
                raise ValueError(f"lower[{j}] has {o.n_obs} observations, fewer than the "
                                 f"smallest n_components ({ks[0]})")
            with np.errstate(over="ignore"):
                total_w[j] = o.total_weight
            if not np.isfinite(total_w[j]):
                raise ValueError(f"sample_weight[{j}]: the weights sum to more than the "
                                 "largest float64 (1.8e308); divide them by a common factor")
        except ValueError as err:
            status[j] = "invalid: " + str(err)
            if strict:
                raise
            continue
        prepared[j] = _prepared(o)
    valid = np.zeros(n_data, bool)
    valid[list(prepared)] = True

    # ---- segment buffers: C data set j is data set j (empty when invalid) ----
    def segments(name, wname):
        parts = [getattr(prepared[j][1], name) if j in prepared else None
                 for j in range(n_data)]
        if all(p is None for p in parts):
            return None, None, None
        wparts = [getattr(prepared[j][1], wname) if j in prepared else None
                  for j in range(n_data)]
        off = np.zeros(n_data + 1, np.int64)
        np.cumsum([0 if p is None else p.shape[0] for p in parts], out=off[1:])
        vals = np.ascontiguousarray(np.concatenate([p for p in parts if p is not None]),
                                    dtype=np.float64)
        if all(w is None for w in wparts):
            return vals, None, off
        wv = np.concatenate([np.ones(p.shape[0]) if w is None else w
                             for p, w in zip(parts, wparts) if p is not None])
        return vals, np.ascontiguousarray(wv, dtype=np.float64), off

    E, Ew, Eo = segments("exact", "exact_w")
    R, Rw, Ro = segments("right", "right_w")
    T, Tw, To = segments("trunc", "trunc_w")
    L, Lw, Lo = segments("lower", "interval_w")
    # a segment without weights stays without (ones would change the C kernel's
    # rounding against the single fit) when others in its buffer have them
    unweighted = np.zeros(n_data, np.uint8)
    for j, (_, of, _, _) in prepared.items():
        for bit, wname in ((1, "exact_w"), (2, "right_w"), (4, "interval_w"), (8, "trunc_w")):
            if getattr(of, wname) is None:
                unweighted[j] |= bit
    U = None
    if L is not None:
        U = np.ascontiguousarray(np.concatenate([prepared[j][1].upper for j in range(n_data)
                                                 if j in prepared and
                                                 prepared[j][1].lower is not None]),
                                 dtype=np.float64)
    max_iter_per = np.full(n_data, int(max_iter), np.int64)
    for j, (_, of, _, _) in prepared.items():
        if of.trunc is not None:
            max_iter_per[j] = min(int(max_iter), TRUNCATION_EM_MAX_ITER)

    # ---- the problem table: the estimator's starts per (data set, K) --------
    children = (random_state if isinstance(random_state, np.random.SeedSequence)
                else np.random.SeedSequence(random_state)).spawn(n_data)
    groups = [(j, k) for k in ks for j in range(n_data) if valid[j] and n_obs[j] >= k]
    starts = [_estimator_starts(prepared[j][1], k, n_init, init, children[j])
              for j, k in groups]
    P = sum(len(st) for st in starts)
    W = np.full((P, Kmax), np.nan)
    M = np.full((P, Kmax), np.nan)
    data_index = np.empty(P, np.int64)
    ncomp = np.empty(P, np.intc)
    rows, p = [], 0
    for (j, k), st in zip(groups, starts):
        rows.append((p, p + len(st)))
        for s in st:
            W[p, :k] = s[0]
            M[p, :k] = s[1]
            data_index[p] = j
            ncomp[p] = k
            p += 1
    out = _core.fit_many_data(n_data, E, Ew, Eo, R, Rw, Ro, T, Tw, To, max_iter_per,
                              data_index, ncomp, W, M, max_iter=int(max_iter), tol=float(tol),
                              accel=_ACCEL[acceleration], n_threads=n_threads,
                              lower=L, upper=U, interval_w=Lw, interval_off=Lo,
                              unweighted=unweighted)

    # ---- best restart per group as _fit; K by BIC; dead times ---------------
    g = _estimator_best(groups, rows, prepared, W, M, out, Kmax)
    grp_j = np.asarray([j for j, _ in groups], np.int64)
    grp_k = np.asarray([k for _, k in groups], np.int64)
    bic = _group_bic(g, grp_k, total_w[grp_j])
    res = _select(n_data, ks, Kmax, grp_j, grp_k, g, bic, valid, status, strict, n_obs)
    dt = np.asarray([prepared[j][0].dead_time if j in prepared else 0.0
                     for j in range(n_data)], np.float64)
    rows_left = np.asarray([j in prepared and prepared[j][1].trunc is not None
                            for j in range(n_data)], bool)
    observed = _map_dead_time(res, ks, dt)
    observed[rows_left] = np.nan            # per-observation entry times
    res.observed_weights = observed
    res.entry = np.where(rows_left, np.nan, dt)
    return res
