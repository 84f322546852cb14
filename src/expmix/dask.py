"""Fit exponential mixtures to dask arrays on a dask.distributed cluster.

Usable after ``pip install "expmix[dask]"`` (dask[array] and distributed) via::

    import expmix.dask
    model = expmix.dask.DaskExponentialMixture(3, n_init=4, random_state=0).fit(x)

where ``x`` is a 1-D :class:`dask.array.Array` (any chunking).  The EM
sufficient statistics are additive over observations, so one EM pass is the
C fused pass (:func:`expmix._core.pass_stats`) run on every chunk where the
chunk lives, followed by a sum of ``2K + 2`` numbers per chunk on the client:

1. every chunk is turned into an observation set (exact / right-censored /
   interval segments and truncation pairs) *on the workers*, once, and kept
   there (the futures are held for the duration of the fit);
2. each EM evaluation submits one task per worker that runs the pass over the
   worker's chunks at the requested parameters and returns, per chunk, the
   log-likelihood, the weight and the per-component sums ``R_k``, ``X_k``;
3. the client adds them (``math.fsum``, correctly rounded, so the total does
   not depend on the order in which chunks arrive), takes the M-step
   ``w_k = R_k / sum R``, ``mu_k = R_k / X_k`` and runs the same EM / SQUAREM
   loop with the same safeguards, degeneracy guards and convergence test as
   the C loop (``csrc/fit.c``), so a dask fit reaches the optimum of the
   in-memory fit from the same starting points.

All restarts (and, in :func:`select_components`, all candidate numbers of
components) advance together: one round trip to the cluster evaluates every
pending parameter set, so the wall time of a selection is the number of
passes of its slowest restart, not the sum.

Without a running :class:`distributed.Client` the same code runs in the
client process: the chunks are computed with dask's default scheduler and
kept in local memory.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised only without dask
    raise ImportError("expmix.dask needs dask[array] and distributed; install them with "
                      "pip install 'expmix[dask]'") from exc

from . import _core
from ._init import excess_starts, starting_points
from ._threads import effective_n_threads
from .exceptions import ConvergenceWarning, DegenerateFitError, DegenerateFitWarning
from .mixture import (_ACCEL, _STATUS, TRUNCATION_EM_MAX_ITER, ExponentialMixture,
                      _polish_truncated_runs, _rng)
from .observations import Observations, _as_float_1d, _check_values
from .selection import SelectionResult, information_criteria

#: Criteria available on a cluster (ICL needs the responsibilities' entropy and
#: LRT bootstrap refits; use the in-memory select_components for those).
CRITERIA = ("bic", "aic", "aicc")

__all__ = ["DaskExponentialMixture", "select_components", "select_components_intervals"]

#: Default number of (pseudo-)values gathered to the client for the starting
#: points.  Up to this many observations, all of them are gathered and the
#: starting points are exactly those of the in-memory estimator; above it a
#: fixed-seed uniform subsample of about this size is used.
INIT_SAMPLE_SIZE = 1_000_000

_EM_ERR_NUMERIC = -4


# ======================================================================
# per-chunk observation sets (run on the workers)

def _chunk_weights(w, n):
    if w is None:
        return None
    w = _as_float_1d(w, "sample_weight")
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has length {w.shape[0]}, but the data have {n} observations")
    if np.isnan(w).any():
        raise ValueError("sample_weight contains NaN")
    if np.isinf(w).any():
        raise ValueError("sample_weight contains inf; weights must be finite")
    if (w < 0).any():
        raise ValueError(f"sample_weight must be non-negative; found {float(w[w < 0][0])!r}")
    return w


def _chunk_events(e, n):
    if e is None:
        return np.ones(n, dtype=bool)
    e = np.asarray(e)
    if e.ndim == 2 and e.shape[1] == 1:
        e = e[:, 0]
    if e.ndim != 1:
        raise ValueError(f"event_observed must be 1-D, got shape {e.shape}")
    if e.shape[0] != n:
        raise ValueError(f"event_observed has length {e.shape[0]}, but X has {n} observations")
    if e.dtype.kind == "b":
        return e.astype(bool)
    if e.dtype.kind in "iuf":
        if not np.isin(e, (0, 1)).all():
            raise ValueError("event_observed must contain only True/False (or 0/1)")
        return e.astype(bool)
    raise TypeError(f"event_observed must be boolean (or 0/1), got dtype {e.dtype}")


def _chunk_entry(t, n):
    if t is None:
        return None
    t = _as_float_1d(t, "entry")
    if t.shape[0] != n:
        raise ValueError(f"entry has length {t.shape[0]}, but the data have {n} observations")
    _check_values(t, "entry")
    return t


def _seg(mask, arr, w):
    if not mask.any():
        return None, None
    return (np.ascontiguousarray(arr[mask]),
            None if w is None else np.ascontiguousarray(w[mask]))


def _truncation(obs, t_scalar, t_arr, w, n):
    if t_scalar is not None and t_scalar > 0 and n > 0:
        obs.trunc = np.array([t_scalar])
        obs.trunc_w = np.array([float(n) if w is None else float(np.sum(w))])
    elif t_arr is not None:
        keep = t_arr > 0
        if keep.any():
            obs.trunc = np.ascontiguousarray(t_arr[keep])
            obs.trunc_w = None if w is None else np.ascontiguousarray(w[keep])


def _samples_chunk(x, w, e, t, t_scalar):
    """The observation set of one chunk of (X, sample_weight, event_observed,
    entry): the checks of :func:`expmix.observations.from_samples` that apply
    to a single row; the checks over the whole data (not empty, not all zero
    weight, informative) are made on the client from the chunk summaries."""
    x = _as_float_1d(x, "X")
    n = x.shape[0]
    _check_values(x, "X")
    w = _chunk_weights(w, n)
    ev = _chunk_events(e, n)
    t_arr = _chunk_entry(t, n)
    if t_arr is not None:
        strict = ev & (t_arr >= x)
        if strict.any():
            i = int(np.flatnonzero(strict)[0])
            raise ValueError(f"entry[{i}] = {float(t_arr[i])!r} is not below X[{i}] = "
                             f"{float(x[i])!r}; "
                             "an observed event must happen after its entry time")
        bad = t_arr > x
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"entry[{i}] = {float(t_arr[i])!r} exceeds the observation "
                             f"({float(x[i])!r}); "
                             "each entry time must be below its observation")
    if t_scalar is not None and t_scalar > 0:
        strict = ev & (x <= t_scalar)
        if strict.any():
            i = int(np.flatnonzero(strict)[0])
            raise ValueError(f"entry = {t_scalar!r} is not below X[{i}] = {float(x[i])!r}; "
                             "every observed value must exceed the dead time")
        bad = x < t_scalar
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"entry = {t_scalar!r} exceeds observation {i} "
                             f"(value {float(x[i])!r}); "
                             "every observation must lie above the truncation point")
    obs = Observations(n_obs=n)
    obs.exact, obs.exact_w = _seg(ev, x, w)
    obs.right, obs.right_w = _seg(~ev, x, w)
    _truncation(obs, t_scalar, t_arr, w, n)
    if obs.trunc is not None and t_arr is not None:   # row entry times (starting points)
        obs.exact_t = _seg(ev, t_arr, None)[0]
        obs.right_t = _seg(~ev, t_arr, None)[0]
    return obs


def _intervals_chunk(lo, hi, w, t, t_scalar):
    """One chunk of :func:`expmix.observations.from_intervals` (row checks only)."""
    lo = _as_float_1d(lo, "lower")
    hi = _as_float_1d(hi, "upper")
    if lo.shape[0] != hi.shape[0]:
        raise ValueError(f"lower and upper have different lengths ({lo.shape[0]} and {hi.shape[0]})")
    n = lo.shape[0]
    _check_values(lo, "lower")
    if np.isnan(hi).any():
        raise ValueError("upper contains NaN")
    if (hi < lo).any():
        i = int(np.flatnonzero(hi < lo)[0])
        raise ValueError(f"lower[{i}] = {float(lo[i])!r} is greater than upper[{i}] = "
                         f"{float(hi[i])!r}")
    w = _chunk_weights(w, n)
    t_arr = _chunk_entry(t, n)
    ex = lo == hi
    rc = np.isinf(hi)
    iv = ~ex & ~rc
    if t_arr is not None:
        bad = (t_arr > lo) | (ex & (t_arr >= lo))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"entry[{i}] = {float(t_arr[i])!r} is above lower[{i}] = "
                             f"{float(lo[i])!r}; "
                             "each observation must lie above its entry time")
    elif t_scalar is not None and t_scalar > 0:
        bad = (lo < t_scalar) | (ex & (lo <= t_scalar))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"entry = {t_scalar!r} is above lower[{i}] = {float(lo[i])!r}; "
                             "every observation must lie above the truncation point")
    obs = Observations(n_obs=n)
    obs.exact, obs.exact_w = _seg(ex, lo, w)
    obs.right, obs.right_w = _seg(rc, lo, w)
    if iv.any():
        obs.lower = np.ascontiguousarray(lo[iv])
        obs.upper = np.ascontiguousarray(hi[iv])
        obs.interval_w = None if w is None else np.ascontiguousarray(w[iv])
    _truncation(obs, t_scalar, t_arr, w, n)
    if obs.trunc is not None and t_arr is not None:   # row entry times (starting points)
        obs.exact_t = _seg(ex, t_arr, None)[0]
        obs.right_t = _seg(rc, t_arr, None)[0]
        obs.interval_t = _seg(iv, t_arr, None)[0]
    return obs


def _build(kind, index, offset, t_scalar, *arrays):
    """Build the observation set of chunk ``index`` (a task on a worker)."""
    try:
        if kind == "samples":
            return _samples_chunk(*arrays, t_scalar)
        return _intervals_chunk(*arrays, t_scalar)
    except (ValueError, TypeError) as e:
        where = f"dask chunk {index}" + ("" if offset is None else f", which starts at row {offset}")
        raise type(e)(f"{e} [in {where}; the index above counts from the start of the chunk]") \
            from None


def _chunk_info(obs: Observations) -> Dict[str, Any]:
    """Small summary of one chunk: what the global checks and the options need."""
    def tot(x, w):
        if x is None:
            return 0.0
        return float(x.shape[0]) if w is None else float(np.sum(w))

    exposure = 0.0
    s, cnt = 0.0, 0
    for seg in (obs.exact, obs.right, obs.upper):
        if seg is not None:
            exposure = max(exposure, float(np.max(seg)))
    for seg in (obs.exact, obs.right):
        if seg is not None:
            s += float(np.sum(seg))
            cnt += seg.shape[0]
    if obs.lower is not None:
        s += float(np.sum(0.5 * (obs.lower + obs.upper)))
        cnt += obs.lower.shape[0]
    from .inference import _loglik_magnitude
    return dict(n_obs=int(obs.n_obs), total_weight=obs.total_weight,
                ll_magnitude=_loglik_magnitude(obs),
                informative=obs.informative_weight(), exposure=exposure,
                scale_sum=s, scale_n=cnt,
                has_exact=obs.exact is not None, has_right=obs.right is not None,
                has_interval=obs.lower is not None, has_trunc=obs.trunc is not None,
                n_exact=0 if obs.exact is None else obs.exact.shape[0],
                n_right=0 if obs.right is None else obs.right.shape[0],
                n_interval=0 if obs.lower is None else obs.lower.shape[0],
                n_zero=0 if obs.exact is None else int(np.sum(obs.exact == 0)))


def _chunk_pseudo(obs: Observations, seed, fraction, excess=False):
    """Pseudo-values of one chunk, per kind (exact, right, interval midpoints),
    each as (values, weights); a uniform subsample when fraction < 1.
    ``excess``: measured from each row's entry time
    (:meth:`Observations.excess_pseudo_values`); None if a chunk with
    truncation pairs lacks its row entry times."""
    rng = None if seed is None else np.random.default_rng(seed)
    out = []
    segs = [(obs.exact, obs.exact_w), (obs.right, obs.right_w),
            (None if obs.lower is None else 0.5 * (obs.lower + obs.upper), obs.interval_w)]
    if excess:
        if obs.trunc is not None and not obs.has_row_entries:
            return None
        for i, t in enumerate((obs.exact_t, obs.right_t, obs.interval_t)):
            if segs[i][0] is not None and t is not None:
                segs[i] = (np.maximum(segs[i][0] - t, 0.0), segs[i][1])
    for x, w in segs:
        if x is None:
            out.append((np.zeros(0), np.zeros(0)))
            continue
        w = np.ones_like(x) if w is None else w
        if rng is not None and fraction < 1.0:
            m = int(rng.binomial(x.shape[0], fraction))
            idx = np.sort(rng.choice(x.shape[0], size=m, replace=False))
            x, w = x[idx], w[idx]
        out.append((np.ascontiguousarray(x), np.ascontiguousarray(w)))
    return out


def _worker_threads(n_threads):
    if n_threads is None:
        try:
            from distributed import get_worker
            n_threads = int(get_worker().state.nthreads)
        except Exception:
            n_threads = 1
    return effective_n_threads(n_threads)


def _group_pass(requests, n_threads, *chunks):
    """The fused pass over several chunks at several parameter sets (a task on
    a worker).  Returns, per chunk, one row [ll, weight, R_0.., X_0..] per
    request, or None for a request whose log-likelihood is not finite."""
    nt = _worker_threads(n_threads)
    out = []
    for obs in chunks:
        rows = []
        for w, mu in requests:
            try:
                ll, wt, R, X = _core.pass_stats(obs, w, mu, nt)
            except FloatingPointError:
                rows.append(None)
                continue
            rows.append(np.concatenate(([ll, wt], R, X)))
        out.append(rows)
    return out


def _group_derivatives(w, mu, *chunks):
    """Gradient and Hessian of the log-likelihood in phi = (w, mu) per chunk
    (a task on a worker; :func:`expmix.inference._raw_derivatives`)."""
    from .inference import _raw_derivatives
    return [_raw_derivatives(obs, w, mu) for obs in chunks]


# ======================================================================
# the data on the cluster (or in the client process)

def _is_dask(a) -> bool:
    return isinstance(a, da.Array) or hasattr(a, "to_dask_array")


def _to_dask_1d(a, name, chunks=None):
    """A dask array of shape (n,), checking dtype and shape as the in-memory API."""
    if a is None:
        raise TypeError(f"{name} must be array-like of numbers, got None")
    if hasattr(a, "to_dask_array") and not isinstance(a, da.Array):
        a = a.to_dask_array(lengths=True)     # dask Series / DataFrame
    if not isinstance(a, da.Array):
        if isinstance(a, (str, bytes)):
            raise TypeError(f"{name} must be array-like of numbers, got {type(a).__name__}")
        arr = np.asarray(a)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        a = da.from_array(arr, chunks=chunks if chunks is not None and arr.ndim == 1
                          and sum(chunks) == arr.shape[0] else "auto")
    if name == "event_observed":
        if a.dtype.kind not in "biuf":
            raise TypeError(f"event_observed must be boolean (or 0/1), got dtype {a.dtype}")
    else:
        kind = a.dtype.kind
        if kind == "c":
            raise TypeError(f"{name} must be real; got a complex array")
        if kind == "b":
            raise TypeError(f"{name} must be numeric; got a boolean array")
        if kind not in "iuf":
            raise TypeError(f"{name} must be numeric; got dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"{name} must be 1-D (or a single column), got a scalar")
    if a.ndim == 2:
        if a.shape[1] != 1:
            raise ValueError(f"{name} must be 1-D or have a single column; got shape {a.shape}")
        a = a[:, 0]
    elif a.ndim != 1:
        raise ValueError(f"{name} must be 1-D or have a single column; got shape {a.shape}")
    return a


def _known_chunks(a):
    return not any(math.isnan(c) for c in a.chunks[0])


def _get_client(client):
    if client is not None:
        if not all(hasattr(client, a) for a in ("compute", "gather", "map", "who_has")):
            raise TypeError("client must be a distributed.Client (or None for the current "
                            f"client), got {type(client).__name__}")
        return client
    try:
        from distributed import get_client
        return get_client()
    except (ImportError, ValueError):
        return None


class _ChunkedData:
    """Observation sets of the chunks of a dask input, built where the chunks
    are (on the workers of ``client``, or locally without a client), with the
    summaries needed by the global checks."""

    def __init__(self, kind, arrays: Sequence, names: Sequence[str], t_scalar, client=None,
                 n_threads=None):
        self.client = _get_client(client)
        self.n_threads = n_threads
        main = arrays[0]
        others = [(i, a) for i, a in enumerate(arrays) if a is not None and i > 0]
        if others and not _known_chunks(main):
            main = main.compute_chunk_sizes()
        aligned = [main] + [None] * (len(arrays) - 1)
        n = main.shape[0]
        for i, a in others:
            if not _known_chunks(a):
                a = a.compute_chunk_sizes()
            if a.shape[0] != n:
                if kind == "samples" and names[i] != "event_observed":
                    raise ValueError(f"{names[i]} has length {a.shape[0]}, but the data have "
                                     f"{n} observations")
                if kind == "samples":
                    raise ValueError(f"event_observed has length {a.shape[0]}, but X has "
                                     f"{n} observations")
                if names[i] == "upper":
                    raise ValueError(f"lower and upper have different lengths ({n} and "
                                     f"{a.shape[0]})")
                raise ValueError(f"{names[i]} has length {a.shape[0]}, but the data have "
                                 f"{n} observations")
            aligned[i] = a.rechunk({0: main.chunks[0]}) if a.chunks[0] != main.chunks[0] else a
        blocks = [None if a is None else list(a.to_delayed().ravel()) for a in aligned]
        n_chunks = len(blocks[0])
        offsets: List[Optional[int]]
        if _known_chunks(main):
            offsets = list(np.concatenate(([0], np.cumsum(main.chunks[0][:-1]))).astype(int)) \
                if n_chunks else []
        else:
            offsets = [None] * n_chunks
        build = dask.delayed(_build, pure=True)
        tasks = [build(kind, c, None if offsets[c] is None else int(offsets[c]), t_scalar,
                       *[None if b is None else b[c] for b in blocks])
                 for c in range(n_chunks)]
        if self.client is not None:
            futs = self.client.compute(tasks)
            infos = self.client.gather(self.client.map(_chunk_info, futs, pure=False))
        else:
            futs = list(dask.compute(*tasks))
            infos = [_chunk_info(o) for o in futs]
        keep = [i for i, inf in enumerate(infos) if inf["n_obs"] > 0]
        self.chunks = [futs[i] for i in keep]
        self.infos = [infos[i] for i in keep]
        del futs
        self._group()

    def _group(self):
        """Group the chunks by the worker that holds them (one task per worker
        and evaluation round)."""
        if self.client is None:
            self.groups = [(None, list(range(len(self.chunks))))]
            return
        who = self.client.who_has(self.chunks)
        groups: Dict[Any, List[int]] = {}
        for i, f in enumerate(self.chunks):
            holders = who.get(f.key) or ()
            addr = sorted(holders)[0] if holders else None
            groups.setdefault(addr, []).append(i)
        self.groups = list(groups.items())

    # ------------------------------------------------------------------
    # global properties (from the chunk summaries)

    def total(self, key):
        return math.fsum(inf[key] for inf in self.infos)

    @property
    def n_obs(self) -> int:
        return int(sum(inf["n_obs"] for inf in self.infos))

    @property
    def total_weight(self) -> float:
        return self.total("total_weight")

    def kinds(self, kind) -> tuple:
        has = lambda key: any(inf[key] for inf in self.infos)  # noqa: E731
        names = [("exact", "has_exact"), ("right", "has_right")]
        if kind == "intervals":
            names.append(("interval", "has_interval"))
        names.append(("truncated", "has_trunc"))
        return tuple(name for name, key in names if has(key))

    @property
    def scale(self) -> float:
        s = self.total("scale_sum")
        n = sum(inf["scale_n"] for inf in self.infos)
        return s / n if n > 0 and s > 0 and math.isfinite(s) else 1.0

    def check(self, kind):
        """The checks of the in-memory API that need the whole data."""
        if self.n_obs == 0:
            raise ValueError(("X" if kind == "samples" else "lower")
                             + " is empty: at least one observation is needed")
        if not self.total_weight > 0:
            raise ValueError("sample_weight is zero everywhere: there is nothing to fit")
        if not math.isfinite(self.total_weight):
            raise ValueError("sample_weight: the weights sum to more than the largest float64 "
                             "(~1.8e308); divide them by a common factor (it does not change "
                             "the fitted parameters)")
        informative = self.total("informative")
        exposure = max(inf["exposure"] for inf in self.infos)
        if informative > 0 and exposure == 0.0:
            raise ValueError("every observed value is 0: the maximum-likelihood rate is infinite. "
                             "If the values were rounded to a resolution d, fit them as intervals "
                             "[0, d) with fit_intervals")
        if informative <= 0:
            if not any(inf["has_exact"] or inf["has_interval"] for inf in self.infos):
                raise ValueError("every observation is right-censored: the data carry no "
                                 "information to estimate rates (at least one observed event "
                                 "or a bounded interval is needed)")
            raise ValueError("the data carry no information to estimate the rates: every "
                             "observation is right-censored or left-censored at 0 (at least "
                             "one exact value or an interval with a positive lower bound is "
                             "needed)")

    def pseudo_values(self, max_size=INIT_SAMPLE_SIZE, excess=False):
        """Pseudo-values for the starting points, gathered once.  Up to
        ``max_size`` observations: all of them, in the order of the in-memory
        :meth:`Observations.pseudo_values` (so the starting points are the
        same); above: a fixed-seed uniform subsample of about ``max_size``.

        ``excess=True``: the excess over the entry times instead
        (:meth:`Observations.excess_pseudo_values`), as ``(values, weights,
        events)`` with ``events`` the weight of the exact and interval rows
        among them (see :func:`expmix._init.excess_of`)."""
        n = self.n_obs
        frac = 1.0 if n <= max_size else max_size / n
        seeds = [None] * len(self.chunks) if frac >= 1.0 else \
            [np.random.SeedSequence([20261201, i]) for i in range(len(self.chunks))]
        if self.client is None:
            parts = [_chunk_pseudo(o, s, frac, excess) for o, s in zip(self.chunks, seeds)]
        else:
            parts = self.client.gather([self.client.submit(_chunk_pseudo, o, s, frac, excess,
                                                           pure=False)
                                        for o, s in zip(self.chunks, seeds)])
        if any(p is None for p in parts):
            return None
        vals, wts = [], []
        events = 0.0
        for k in range(3):
            for p in parts:
                if p[k][0].shape[0]:
                    vals.append(p[k][0])
                    wts.append(p[k][1])
                    if k != 1:
                        events += float(np.sum(p[k][1]))
        if not vals:
            v, w = np.zeros(0), np.zeros(0)
        else:
            v, w = np.concatenate(vals), np.concatenate(wts)
        return (v, w, events) if excess else (v, w)

    # ------------------------------------------------------------------
    def evaluate(self, requests: List[Tuple[np.ndarray, np.ndarray]]):
        """Summed pass statistics (ll, weight, R, X) for each (w, mu), or None
        where the log-likelihood is not finite."""
        reqs = [(np.ascontiguousarray(w, dtype=np.float64), np.ascontiguousarray(mu, dtype=np.float64))
                for w, mu in requests]
        per_chunk: List[Any] = [None] * len(self.chunks)
        if self.client is None:
            res = _group_pass(reqs, effective_n_threads(self.n_threads), *self.chunks)
            per_chunk = res
        else:
            futs = []
            for addr, idx in self.groups:
                kw = {} if addr is None else dict(workers=[addr], allow_other_workers=True)
                futs.append(self.client.submit(_group_pass, reqs, self.n_threads,
                                               *[self.chunks[i] for i in idx], pure=False, **kw))
            for (addr, idx), res in zip(self.groups, self.client.gather(futs)):
                for i, r in zip(idx, res):
                    per_chunk[i] = r
        out = []
        for j, (w, _) in enumerate(reqs):
            rows = [pc[j] for pc in per_chunk]
            if any(r is None for r in rows):
                out.append(None)
                continue
            K = w.shape[0]
            tot = [math.fsum(r[v] for r in rows) for v in range(2 * K + 2)]
            ll, wt = tot[0], tot[1]
            R, X = np.array(tot[2:2 + K]), np.array(tot[2 + K:])
            if not (math.isfinite(ll) and np.all(np.isfinite(R)) and np.all(np.isfinite(X))):
                out.append(None)
                continue
            out.append((ll, wt, R, X))
        return out

    def derivatives(self, w, mu):
        """Gradient and Hessian in phi = (w, mu), summed over the chunks in
        chunk order (so the sum does not depend on the grouping)."""
        w = np.ascontiguousarray(w, dtype=np.float64)
        mu = np.ascontiguousarray(mu, dtype=np.float64)
        per_chunk: List[Any] = [None] * len(self.chunks)
        if self.client is None:
            per_chunk = _group_derivatives(w, mu, *self.chunks)
        else:
            futs = []
            for addr, idx in self.groups:
                kw = {} if addr is None else dict(workers=[addr], allow_other_workers=True)
                futs.append(self.client.submit(_group_derivatives, w, mu,
                                               *[self.chunks[i] for i in idx], pure=False, **kw))
            for (addr, idx), res in zip(self.groups, self.client.gather(futs)):
                for i, r in zip(idx, res):
                    per_chunk[i] = r
        G = np.zeros(2 * w.shape[0])
        H = np.zeros((2 * w.shape[0],) * 2)
        for g, h in per_chunk:
            G += g
            H += h
        return G, H

    def release(self):
        """Drop the chunk futures (the workers free the observation sets)."""
        self.chunks = []
        self.groups = []


def _samples_data(X, sample_weight, event_observed, entry, client, n_threads):
    x = X
    chunks = None
    if not _is_dask(x):
        # X in memory but an auxiliary array on dask: follow its chunks
        for a in (sample_weight, event_observed, entry):
            if _is_dask(a):
                chunks = _to_dask_1d(a, "sample_weight" if a is sample_weight else
                                     "event_observed" if a is event_observed else "entry").chunks[0]
                break
    x = _to_dask_1d(x, "X", chunks)
    ch = x.chunks[0] if _known_chunks(x) else None
    w = None if sample_weight is None else _to_dask_1d(sample_weight, "sample_weight", ch)
    e = None if event_observed is None else _to_dask_1d(event_observed, "event_observed", ch)
    t_scalar, t = _entry_arg(entry, ch)
    return _ChunkedData("samples", [x, w, e, t], ["X", "sample_weight", "event_observed", "entry"],
                        t_scalar, client, n_threads)


def _intervals_data(lower, upper, sample_weight, entry, client, n_threads):
    lo = _to_dask_1d(lower, "lower")
    ch = lo.chunks[0] if _known_chunks(lo) else None
    hi = _to_dask_1d(upper, "upper", ch)
    w = None if sample_weight is None else _to_dask_1d(sample_weight, "sample_weight", ch)
    t_scalar, t = _entry_arg(entry, ch)
    return _ChunkedData("intervals", [lo, hi, w, t], ["lower", "upper", "sample_weight", "entry"],
                        t_scalar, client, n_threads)


def _is_scalar_dead_time(entry) -> bool:
    return (entry is not None and not isinstance(entry, (bool, np.bool_))
            and isinstance(entry, numbers.Real) and float(entry) > 0)


def _entry_arg(entry, chunks):
    if entry is None:
        return None, None
    if isinstance(entry, (bool, np.bool_)):
        raise TypeError("entry must be a number or an array of numbers, got a bool")
    if isinstance(entry, numbers.Real):
        t = float(entry)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"entry must be a finite number >= 0, got {entry!r}")
        return t, None
    return None, _to_dask_1d(entry, "entry", chunks)


# ======================================================================
# the EM / SQUAREM loop of csrc/fit.c, on the client

def _log(x):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _mstep(K, R, X):
    total = 0.0
    for k in range(K):
        total += R[k]
    return [R[k] / total for k in range(K)], [R[k] / X[k] for k in range(K)]


def _par_ok(K, w, mu):
    """em_par_set's checks; returns the normalized weights or None."""
    wsum = 0.0
    for k in range(K):
        if not (w[k] >= 0.0) or not (w[k] <= 1.0 + 1e-9):
            return None
        if not (mu[k] > 0.0) or not (mu[k] < math.inf):
            return None
        wsum += w[k]
    if not (wsum > 0.0):
        return None
    return [w[k] / wsum for k in range(K)]


def _guard(K, w, mu, weight_floor, rate_ceiling, scale):
    for k in range(K):
        if w[k] == 0.0:         # no responsibility at all: empty (em_guard)
            return 1, k
    for k in range(K):
        if not (mu[k] > 0.0) or not (mu[k] * scale <= rate_ceiling) or not math.isfinite(mu[k]):
            return 2, k
    for k in range(K):
        if not (w[k] >= weight_floor) or not math.isfinite(w[k]):
            return 1, k
    return 0, -1


def _to_theta(K, w, mu):
    lw0 = _log(w[0])
    return [_log(w[k]) - lw0 for k in range(K)] + [_log(mu[k]) for k in range(K)]


def _from_theta(K, th):
    mx = th[0]
    for k in range(1, K):
        mx = th[k] if th[k] > mx else mx
    w = [_exp(th[k] - mx) for k in range(K)]
    z = 0.0
    for k in range(K):
        z += w[k]
    return [w[k] / z for k in range(K)], [_exp(th[K + k]) for k in range(K)]


def _dist2(a, b):
    s = 0.0
    for j in range(len(a)):
        s += (a[j] - b[j]) * (a[j] - b[j])
    return s


def _converged(d, dq2, dp2, tolw, from_q, rho2_max):
    """em_converged of csrc/fit.c: the stopping rule from one plain EM step.
    rho2_max: a one-element list, the largest rate estimate so far."""
    if not (abs(d) < tolw):
        return False
    if not math.isfinite(dq2) or not math.isfinite(dp2):
        return True
    if not (d > 0.0) or not (dp2 > 0.0):
        return True
    if not (dp2 < dq2):
        return False
    rho2 = dp2 / dq2
    if rho2 > rho2_max[0]:
        rho2_max[0] = rho2
    else:
        rho2 = rho2_max[0]
    return (d if from_q else d * rho2) < tolw * (1.0 - rho2)


_AA_DEPTH = 3   # EM_AA_DEPTH of csrc/fit.c
_SQ_STEP_FACTOR = 2.0   # EM_SQ_STEP_FACTOR of csrc/fit.c


def _aa_lstsq(D, g):
    """aa_lstsq of csrc/fit.c: min |g - sum_j gamma_j D[j]| by modified
    Gram-Schmidt, dropping nearly dependent columns (gamma_j = 0)."""
    nc, n = len(D), len(g)
    R = [[0.0] * nc for _ in range(nc)]
    b = [0.0] * nc
    keep = [False] * nc
    Q = []
    for j in range(nc):
        qj = list(D[j])
        nrm0 = 0.0
        for i in range(n):
            nrm0 += qj[i] * qj[i]
        for l in range(j):
            if not keep[l]:
                continue
            dot = 0.0
            for i in range(n):
                dot += Q[l][i] * qj[i]
            R[l][j] = dot
            for i in range(n):
                qj[i] -= dot * Q[l][i]
        nrm = 0.0
        for i in range(n):
            nrm += qj[i] * qj[i]
        keep[j] = nrm > 1e-24 * nrm0 and nrm > 0.0
        if keep[j]:
            R[j][j] = math.sqrt(nrm)
            for i in range(n):
                qj[i] /= R[j][j]
            dot = 0.0
            for i in range(n):
                dot += qj[i] * g[i]
            b[j] = dot
        Q.append(qj)
    gamma = [0.0] * nc
    for j in range(nc - 1, -1, -1):
        if not keep[j]:
            continue
        s = b[j]
        for l in range(j + 1, nc):
            s -= R[j][l] * gamma[l]
        gamma[j] = s / R[j][j]
    return gamma


def _em_fit(w, mu, *, max_iter=1000, tol=1e-10, accel=2, weight_floor=1e-12,
            rate_ceiling=1e14, scale=1.0):
    """EM (accel=0), SQUAREM (accel=1) or Anderson (accel=2) from (w, mu), as em_fit in csrc/fit.c.

    A generator: it yields each parameter set (w, mu) to be evaluated and is
    sent back the summed pass statistics (ll, weight, R, X), or None if the
    log-likelihood is not finite there.  It returns a dict like
    :func:`expmix._core.fit` (plus the final w and mu).
    """
    K = len(w)
    res = dict(status=-1, n_iter=0, n_passes=0, loglik=math.nan, weight=0.0,
               degenerate_component=-1, degenerate_kind=0, history=[])
    w = [float(v) for v in w]
    mu = [float(v) for v in mu]
    w0 = _par_ok(K, w, mu)
    if w0 is None:
        res["w"], res["mu"] = np.array(w), np.array(mu)
        return res
    n_passes = 0
    hist = res["history"]
    hist_cap = max_iter + 1
    weight = [0.0]

    def record(ll):
        if len(hist) < hist_cap:
            hist.append(ll / weight[0] if weight[0] > 0.0 else ll)

    def ev(wv, muv):
        """-> (ll, (w', mu')) or None; counts the pass like em_eval."""
        nonlocal n_passes
        if _par_ok(K, wv, muv) is None:
            return None
        r = yield (np.array(wv), np.array(muv))
        n_passes += 1
        if r is None:
            return None
        ll, wt, R, X = r
        weight[0] = wt
        return ll, _mstep(K, R, X)

    def finish(status, s_w, s_mu, ll):
        res.update(status=status, loglik=ll, n_passes=n_passes, n_iter=n_passes - 1,
                   weight=weight[0], w=np.array(s_w), mu=np.array(s_mu))
        res["history"] = np.array(hist)
        return res

    def fail():
        res.update(status=_EM_ERR_NUMERIC, n_passes=n_passes, n_iter=max(n_passes - 1, 0),
                   w=np.array(s0w), mu=np.array(s0mu))
        res["history"] = np.array(hist)
        return res

    s0w, s0mu = w0, mu
    r = yield from ev(s0w, s0mu)
    if r is None:
        return fail()
    s0ll, (s1w, s1mu) = r
    res["weight"] = weight[0]
    tolw = tol * weight[0]
    rho2_max = [0.0]
    record(s0ll)
    status = 1
    stepmax = 1.0
    if accel == 2:
        # Anderson acceleration: anderson_loop of csrc/fit.c, line by line
        M = _AA_DEPTH
        X, FX = [_to_theta(K, s0w, s0mu)], [_to_theta(K, s1w, s1mu)]
        check = last_plain = False
        fresh = 0
        while n_passes - 1 < max_iter:
            xl, fl = X[-1], FX[-1]
            plain = len(X) < 2 or check
            kind, which = _guard(K, s1w, s1mu, weight_floor, rate_ceiling, scale)
            if kind:
                status = 2
                res["degenerate_component"], res["degenerate_kind"] = which, kind
                break
            if plain:
                sxw, sxmu, thn = s1w, s1mu, list(fl)
            else:
                nc = len(X) - 1
                D = [[(FX[j + 1][i] - X[j + 1][i]) - (FX[j][i] - X[j][i]) for i in range(2 * K)]
                     for j in range(nc)]
                DF = [[FX[j + 1][i] - FX[j][i] for i in range(2 * K)] for j in range(nc)]
                gamma = _aa_lstsq(D, [fl[i] - xl[i] for i in range(2 * K)])
                thn = []
                for i in range(2 * K):
                    v = fl[i]
                    for j in range(nc):
                        v -= gamma[j] * DF[j][i]
                    thn.append(v)
                sxw, sxmu = _from_theta(K, thn)
                if _guard(K, sxw, sxmu, weight_floor, rate_ceiling, scale)[0] != 0:
                    X, FX = [xl], [fl]
                    continue
            r = yield from ev(sxw, sxmu)
            if r is None:
                if plain:
                    return fail()
                r = (-math.inf, None)
            if not plain and not (r[0] >= s0ll):
                if fresh:
                    fresh = 2         # a fresh history found no gain
                X, FX = [xl], [fl]
                continue
            d = r[0] - s0ll
            thq = xl
            s0w, s0mu, s0ll = sxw, sxmu, r[0]
            s1w, s1mu = r[1]
            record(s0ll)
            if len(X) == M + 1:
                X, FX = X[1:], FX[1:]
            X.append(thn)
            FX.append(_to_theta(K, s1w, s1mu))
            if plain:
                check = False
                if _converged(d, _dist2(thn, thq), _dist2(FX[-1], thn), tolw, False, rho2_max):
                    if last_plain and fresh == 2:
                        status = 0
                        break
                    if last_plain and not fresh:
                        X, FX = [X[-1]], [FX[-1]]   # confirm with a fresh history
                        fresh = 1
                    elif not last_plain:
                        check = True      # confirm with a second plain step
                last_plain = True
            else:
                last_plain = False
                if abs(d) < tolw:
                    check = True
                    if fresh:
                        fresh = 2
                else:
                    fresh = 0
        return finish(status, s0w, s0mu, s0ll)
    while n_passes - 1 < max_iter:
        remaining = max_iter - (n_passes - 1)
        candw, candmu = s1w, s1mu
        kind, which = _guard(K, s1w, s1mu, weight_floor, rate_ceiling, scale)
        if kind:
            status = 2
            res["degenerate_component"], res["degenerate_kind"] = which, kind
            break
        th0 = _to_theta(K, s0w, s0mu)
        th1 = _to_theta(K, s1w, s1mu)
        llq, thq = s0ll, th0
        if accel == 1 and remaining >= 3:
            r = yield from ev(s1w, s1mu)
            if r is None:
                return fail()
            s1ll, (s2w, s2mu) = r
            kind, which = _guard(K, s2w, s2mu, weight_floor, rate_ceiling, scale)
            if kind:
                s0w, s0mu, s0ll = s1w, s1mu, s1ll
                record(s0ll)
                status = 2
                res["degenerate_component"], res["degenerate_kind"] = which, kind
                break
            th2 = _to_theta(K, s2w, s2mu)
            near = _converged(s1ll - s0ll, _dist2(th1, th0), _dist2(th2, th1), tolw, True, rho2_max)
            rr = vv = 0.0
            for j in range(2 * K):
                rj = th1[j] - th0[j]
                vj = th2[j] - 2.0 * th1[j] + th0[j]
                rr += rj * rj
                vv += vj * vj
            alpha = -math.sqrt(rr / vv) if vv > 0.0 else -1.0
            if alpha > -1.0:
                alpha = -1.0
            if alpha < -stepmax:
                alpha = -stepmax
            if alpha == -stepmax:
                stepmax *= _SQ_STEP_FACTOR
            if alpha < -1.0:
                thx = []
                for j in range(2 * K):
                    rj = th1[j] - th0[j]
                    vj = th2[j] - 2.0 * th1[j] + th0[j]
                    thx.append(th0[j] - 2.0 * alpha * rj + alpha * alpha * vj)
                sxw, sxmu = _from_theta(K, thx)
                accepted = False
                if _guard(K, sxw, sxmu, weight_floor, rate_ceiling, scale)[0] == 0:
                    r = yield from ev(sxw, sxmu)
                    if r is not None and r[0] >= s0ll:   # the safeguard of csrc/fit.c
                        accepted = True
                if accepted:
                    prev = s0ll
                    s0w, s0mu, s0ll = sxw, sxmu, r[0]
                    s1w, s1mu = r[1]
                    record(s0ll)
                    if near and abs(s0ll - prev) < tolw:
                        status = 0
                        break
                    continue
                stepmax = stepmax / _SQ_STEP_FACTOR if stepmax / _SQ_STEP_FACTOR > 1.0 else 1.0
            candw, candmu = s2w, s2mu
            llq, thq = s1ll, th1
            if n_passes - 1 >= max_iter:
                s0w, s0mu, s0ll = s1w, s1mu, s1ll
                record(s0ll)
                break
        s0w, s0mu = candw, candmu
        r = yield from ev(s0w, s0mu)
        if r is None:
            return fail()
        s0ll, (s1w, s1mu) = r
        record(s0ll)
        th0 = _to_theta(K, s0w, s0mu)
        if _converged(s0ll - llq, _dist2(th0, thq), _dist2(_to_theta(K, s1w, s1mu), th0),
                      tolw, False, rho2_max):
            status = 0
            break
    return finish(status, s0w, s0mu, s0ll)


def _run_lockstep(data: _ChunkedData, gens: list) -> list:
    """Drive several EM generators together: each round evaluates every
    pending parameter set in one pass per chunk."""
    results: List[Any] = [None] * len(gens)
    pending: Dict[int, Any] = {}
    for i, g in enumerate(gens):
        try:
            pending[i] = next(g)
        except StopIteration as stop:
            results[i] = stop.value
    while pending:
        idx = list(pending)
        out = data.evaluate([pending[i] for i in idx])
        for i, o in zip(idx, out):
            try:
                pending[i] = gens[i].send(o)
            except StopIteration as stop:
                results[i] = stop.value
                del pending[i]
    return results


# ======================================================================
# the estimator

class DaskExponentialMixture(ExponentialMixture):
    r""":class:`~expmix.ExponentialMixture` that fits dask arrays on a cluster.

    It is an :class:`~expmix.ExponentialMixture` (same parameters, fitted
    attributes and methods); ``fit``, ``fit_intervals`` and the scoring
    methods also accept :class:`dask.array.Array` (and dask Series)
    inputs, which are fitted where their chunks live: the chunks are turned
    into observation sets on the workers and stay there, and each EM pass
    moves only ``2K + 2`` numbers per chunk.  Inputs that are all in memory
    (numpy arrays, lists) are fitted in memory exactly as by
    :class:`~expmix.ExponentialMixture`.

    The EM / SQUAREM loop runs on the client with the same rules as the C
    loop; from the same starting point a dask fit and an in-memory fit reach
    the same optimum (the chunk sums differ from the in-memory block sums
    only in the last bits).

    Parameters
    ----------
    n_components, tol, max_iter, n_init, init, weights_init, rates_init, acceleration, random_state, verbose
        As in :class:`~expmix.ExponentialMixture`.
    n_threads : int or None, default None
        Threads of each pass on a worker; None uses the worker's number of
        threads (``nthreads`` of the dask worker).  In memory: as in
        :class:`~expmix.ExponentialMixture`.
    init_sample_size : int, default 1_000_000
        The starting points are computed on the client from the
        (pseudo-)values: all of them when there are at most this many
        observations (then the starting points equal those of the in-memory
        estimator), otherwise a fixed-seed uniform subsample of about this
        size, gathered once.

    Notes
    -----
    ``fit(X, ..., client=None)``: the cluster is ``client`` or, if None, the
    current :class:`distributed.Client` (``distributed.get_client()``); with
    no client at all, the chunks are computed with dask's default scheduler
    and the passes run in this process.

    Examples
    --------
    >>> import dask.array as da
    >>> import expmix.dask
    >>> x = da.random.default_rng(0).exponential(2.0, size=100_000, chunks=25_000)
    >>> m = expmix.dask.DaskExponentialMixture(1).fit(x)
    >>> round(float(m.means_[0]), 1)
    2.0
    """

    def __init__(self, n_components=1, *, tol=1e-10, max_iter=1000, n_init=1, init="auto",
                 weights_init=None, rates_init=None, acceleration="anderson",
                 random_state=None, n_threads=None, verbose=0, init_sample_size=INIT_SAMPLE_SIZE):
        super().__init__(n_components, tol=tol, max_iter=max_iter, n_init=n_init, init=init,
                         weights_init=weights_init, rates_init=rates_init,
                         acceleration=acceleration, random_state=random_state,
                         n_threads=n_threads, verbose=verbose)
        self.init_sample_size = init_sample_size

    # ------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None, *, event_observed=None, entry=None, client=None):
        """Fit to ``X`` (a dask array, or in-memory data).

        Parameters
        ----------
        X : dask.array.Array of shape (n,) or (n, 1), or array-like
            Non-negative finite values, any chunking.
        y : ignored
        sample_weight, event_observed, entry
            As in :meth:`ExponentialMixture.fit`; each may be a dask array
            (it is rechunked to the chunks of ``X``), an in-memory array, or
            (``entry``) a scalar dead time.
        client : distributed.Client, optional
            The cluster to run on (default: the current client, if any).

        Returns
        -------
        self
        """
        if not any(_is_dask(a) for a in (X, sample_weight, event_observed, entry)):
            return super().fit(X, y, sample_weight, event_observed=event_observed, entry=entry)
        self._validate_params()
        data = _samples_data(X, sample_weight, event_observed, entry, client, self.n_threads)
        try:
            data.check("samples")
            kinds = data.kinds("samples")
            if not _is_scalar_dead_time(entry):
                return self._fit_chunked(data, kinds)
        finally:
            data.release()
        # A common dead time t, as in memory (ExponentialMixture._fit_dead_time):
        # by memorylessness, fit the data measured from t (no missing data) and
        # map the weights seen above t back to the population.
        t = float(entry)
        shifted = _samples_data(X - t, sample_weight, event_observed, None, client, self.n_threads)
        w_user = self.weights_init
        if w_user is not None and self.rates_init is not None:
            a = np.log(np.asarray(w_user, float)) - np.asarray(self.rates_init, float) * t
            a = np.exp(a - a.max())
            self.weights_init = np.maximum(a / a.sum(), 1e-300)
        try:
            shifted.check("samples")
            self._fit_chunked(shifted, kinds)
        finally:
            self.weights_init = w_user
            shifted.release()
        observed = self.weights_
        with np.errstate(divide="ignore"):
            a = np.log(observed) + self.rates_ * t
        w = np.exp(a - a.max())
        self.weights_ = w / w.sum()
        self.entry_ = t
        self.observed_weights_ = observed
        self._shift_, self._shift_weights_ = t, observed
        return self

    def fit_intervals(self, lower, upper, sample_weight=None, *, entry=None, client=None):
        """Fit interval-censored observations ``lower < x < upper`` given as
        dask arrays (or in memory); conventions as in
        :meth:`ExponentialMixture.fit_intervals`.  Returns self."""
        if not any(_is_dask(a) for a in (lower, upper, sample_weight, entry)):
            return super().fit_intervals(lower, upper, sample_weight, entry=entry)
        self._validate_params()
        data = _intervals_data(lower, upper, sample_weight, entry, client, self.n_threads)
        try:
            data.check("intervals")
            return self._fit_chunked(data, data.kinds("intervals"))
        finally:
            data.release()

    def fit_histogram(self, edges, counts, *, entry=None):
        """Fit binned data (as :meth:`ExponentialMixture.fit_histogram`).

        A histogram is small: dask inputs are computed and the fit runs in
        memory.  Returns self."""
        edges = edges.compute() if _is_dask(edges) else edges
        counts = counts.compute() if _is_dask(counts) else counts
        return super().fit_histogram(edges, counts, entry=entry)

    # ------------------------------------------------------------------
    def _check_init_sample_size(self):
        s = self.init_sample_size
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"init_sample_size must be an int, got {s!r}")
        if s < 1000:
            raise ValueError(f"init_sample_size must be >= 1000, got {s}")
        return int(s)

    def _prepare(self, data: _ChunkedData, pseudo=None):
        """Validate, and return (K, starting points, options, pseudo-values).

        ``pseudo``: the pseudo-values returned by an earlier call on the same
        data (a dict, filled here as needed), so that they are gathered once.
        Per-observation entry times: the starts of ExponentialMixture._fit
        (the restarts read the excess over the entry times, and the
        deterministic excess starts follow, see expmix._init.excess_starts)."""
        w0, mu0 = self._validate_params()
        size = self._check_init_sample_size()
        K = int(self.n_components)
        if data.n_obs < K:
            raise ValueError(f"n_components={K} is larger than the number of observations "
                             f"({data.n_obs}); at least one observation per component is needed")
        if self.n_threads is not None:
            effective_n_threads(self.n_threads)     # validates
        rng = _rng(self.random_state)
        pseudo = {} if pseudo is None else pseudo
        if "pv" not in pseudo:
            pseudo["pv"] = data.pseudo_values(size)
        values, vweights = pseudo["pv"]
        excess = None
        if K > 1 and any(inf["has_trunc"] for inf in data.infos):
            if "excess" not in pseudo:
                pseudo["excess"] = data.pseudo_values(size, excess=True)
            excess = pseudo["excess"]
        starts = starting_points(values, vweights, K, int(self.n_init), self.init, rng,
                                 weights_init=w0, rates_init=mu0,
                                 excess=None if excess is None else excess[:2])
        if excess is not None and w0 is None and mu0 is None:
            starts = list(starts) + excess_starts(excess[0], excess[1], excess[2], K)
        opts = dict(max_iter=int(self.max_iter), tol=float(self.tol),
                    accel=_ACCEL[self.acceleration], scale=data.scale)
        return K, starts, opts, pseudo

    def _fit_chunked(self, data: _ChunkedData, kinds):
        K, starts, opts, _ = self._prepare(data)
        if any(inf["has_trunc"] for inf in data.infos):     # as ExponentialMixture._fit
            opts["max_iter"] = min(opts["max_iter"], TRUNCATION_EM_MAX_ITER)
        gens = [_em_fit(s[0], s[1], **opts) for s in starts]
        runs = _run_lockstep(data, gens)
        return self._finish(runs, starts, data, kinds, K)

    def _finish(self, results, starts, data: _ChunkedData, kinds, K, stacklevel=4):
        """Choose the restart and set the fitted attributes (the rules of
        :meth:`ExponentialMixture._fit`)."""
        runs = []
        for s, r in zip(starts, results):
            if r["status"] < 0:
                _core._raise_status(r["status"], "fit")
            runs.append(dict(r, start=s, kind={1: "empty", 2: "spike"}.get(r["degenerate_kind"], "")))
        for i, r in enumerate(runs):
            if self.verbose:
                print(f"[expmix] restart {i}: {_STATUS.get(r['status'], r['status'])}"
                      f"{' (' + r['kind'] + ')' if r['kind'] else ''}, "
                      f"n_iter={r['n_iter']}, mean loglik={r['loglik'] / max(r['weight'], 1e-300):.12g}")
        sound = [r for r in runs if r["kind"] != "spike"]
        if not sound:
            n_zero = int(sum(inf["n_zero"] for inf in data.infos))
            raise DegenerateFitError(
                f"every restart of the {K}-component fit degenerated: a rate diverged "
                f"(a component collapsing onto {'the ' + str(n_zero) + ' exact zeros' if n_zero else 'a point'}). "
                "The likelihood is unbounded for these data; if the values are rounded, "
                "fit them as intervals with fit_intervals(x - d/2, x + d/2) (d the "
                "resolution), or use fewer components")
        if len(sound) < len(runs):
            warnings.warn(f"{len(runs) - len(sound)} of {len(runs)} restarts degenerated "
                          "(a rate diverged, typically on exact zeros) and were set aside",
                          DegenerateFitWarning, stacklevel=stacklevel)
        if any(inf["has_trunc"] for inf in data.infos):
            # per-observation entry times: the Newton polish of the in-memory
            # fit (ExponentialMixture._fit), with chunked sums
            def F(w, mu):
                r = data.evaluate([(w, mu)])[0]
                return (-math.inf, 1.0) if r is None else (float(r[0]), float(r[1]))
            _polish_truncated_runs(None, sound, 1, F=F, derivs=data.derivatives,
                                   magnitude=data.total("ll_magnitude"))
        best = max(sound, key=lambda r: r["loglik"])
        if not any(r["status"] == 0 for r in sound):
            warnings.warn(
                f"No restart of {type(self).__name__}(n_components={K}) converged within "
                f"max_iter={self.max_iter} (tol={self.tol}); the best restart "
                f"(status {_STATUS.get(best['status'])}) is returned. Increase max_iter or tol.",
                ConvergenceWarning, stacklevel=stacklevel)
        if best["kind"] == "empty":
            warnings.warn(f"the chosen fit has a component whose weight vanished (< 1e-12): "
                          f"the data support fewer than {K} components", DegenerateFitWarning,
                          stacklevel=stacklevel)
        order = np.argsort(-best["mu"], kind="stable")
        self.weights_ = best["w"][order] / best["w"].sum()
        self.rates_ = best["mu"][order]
        self.means_ = 1.0 / self.rates_
        self.converged_ = best["status"] == 0
        self.n_iter_ = int(best["n_iter"])
        self.log_likelihood_ = float(best["loglik"])
        self.total_weight_ = float(best["weight"])
        self.lower_bound_ = self.log_likelihood_ / self.total_weight_
        self.history_ = np.asarray(best["history"])
        self.n_parameters_ = 2 * K - 1
        self.n_observations_ = int(data.n_obs)
        self.n_features_in_ = 1
        self.status_ = _STATUS.get(best["status"], str(best["status"])) + \
            (" (empty component)" if best["kind"] == "empty" else "")
        self.data_kinds_ = kinds
        self.restarts_ = [dict(log_likelihood=r["loglik"], status=_STATUS.get(r["status"]),
                               degenerate=r["kind"], n_iter=r["n_iter"],
                               start=(np.asarray(r["start"][0]), np.asarray(r["start"][1])))
                          for r in runs]
        return self

    # ------------------------------------------------------------------
    def to_local(self) -> ExponentialMixture:
        """A plain :class:`~expmix.ExponentialMixture` with the same
        parameters and fitted attributes (no reference to dask)."""
        self._check_fitted()
        params = self.get_params()
        params.pop("init_sample_size")
        m = ExponentialMixture(**params)
        for name, value in vars(self).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(m, name, value)
        return m

    # scoring, with dask inputs evaluated on the cluster -----------------
    def _loglik_dask(self, X, sample_weight, event_observed, entry, client):
        self._check_fitted()
        data = _samples_data(X, sample_weight, event_observed, entry, client, self.n_threads)
        try:
            data.check("samples")
            (r,) = data.evaluate([(self.weights_, self.rates_)])
        finally:
            data.release()
        if r is None:
            _core._raise_status(_EM_ERR_NUMERIC, "pass")
        return r[0], data.total_weight

    def log_likelihood(self, X, sample_weight=None, *, event_observed=None, entry=None,
                       client=None):
        """Total (weighted) log-likelihood; dask inputs are evaluated on the cluster."""
        if not any(_is_dask(a) for a in (X, sample_weight, event_observed, entry)):
            return super().log_likelihood(X, sample_weight, event_observed=event_observed,
                                          entry=entry)
        return self._loglik_dask(X, sample_weight, event_observed, entry, client)[0]

    def score(self, X, y=None, sample_weight=None, *, event_observed=None, entry=None,
              client=None):
        """Mean log-likelihood per unit weight; dask inputs are evaluated on the cluster."""
        if not any(_is_dask(a) for a in (X, sample_weight, event_observed, entry)):
            return super().score(X, y, sample_weight, event_observed=event_observed, entry=entry)
        ll, n = self._loglik_dask(X, sample_weight, event_observed, entry, client)
        return ll / n

    def bic(self, X, sample_weight=None, *, event_observed=None, entry=None, client=None):
        """BIC (as :meth:`ExponentialMixture.bic`); dask inputs are evaluated on the cluster."""
        if not any(_is_dask(a) for a in (X, sample_weight, event_observed, entry)):
            return super().bic(X, sample_weight, event_observed=event_observed, entry=entry)
        ll, n = self._loglik_dask(X, sample_weight, event_observed, entry, client)
        return -2.0 * ll + self.n_parameters_ * np.log(n)

    def aic(self, X, sample_weight=None, *, event_observed=None, entry=None, client=None):
        """AIC (as :meth:`ExponentialMixture.aic`); dask inputs are evaluated on the cluster."""
        if not any(_is_dask(a) for a in (X, sample_weight, event_observed, entry)):
            return super().aic(X, sample_weight, event_observed=event_observed, entry=entry)
        ll, _ = self._loglik_dask(X, sample_weight, event_observed, entry, client)
        return -2.0 * ll + 2.0 * self.n_parameters_

    def score_samples(self, X, *, event_observed=None, entry=None):
        """Per-observation log-likelihood; for a dask ``X`` a lazy dask array
        (computed chunk by chunk, in the order of ``X``)."""
        if not _is_dask(X):
            return super().score_samples(X, event_observed=event_observed, entry=entry)
        local = self.to_local()
        x = _to_dask_1d(X, "X")
        args, names = [x], ["x"]
        ch = x.chunks[0]
        if event_observed is not None:
            args.append(_to_dask_1d(event_observed, "event_observed", ch).rechunk({0: ch}))
            names.append("event_observed")
        if entry is not None and not isinstance(entry, numbers.Real):
            args.append(_to_dask_1d(entry, "entry", ch).rechunk({0: ch}))
            names.append("entry")

        def block(*a):
            kw = dict(zip(names[1:], a[1:]))
            if entry is not None and "entry" not in kw:
                kw["entry"] = entry
            return local.score_samples(a[0], **kw)

        return da.map_blocks(block, *args, dtype=np.float64)

    def predict_proba(self, X, *, event_observed=None):
        """Posterior component probabilities; for a dask ``X`` a lazy dask
        array of shape (n, K)."""
        if not _is_dask(X):
            return super().predict_proba(X, event_observed=event_observed)
        local = self.to_local()
        K = self.rates_.shape[0]
        x = _to_dask_1d(X, "X")
        if event_observed is None:
            return da.map_blocks(lambda b: local.predict_proba(b), x, new_axis=1,
                                 chunks=(x.chunks[0], (K,)), dtype=np.float64)
        e = _to_dask_1d(event_observed, "event_observed", x.chunks[0]).rechunk({0: x.chunks[0]})
        return da.map_blocks(lambda b, c: local.predict_proba(b, event_observed=c), x, e,
                             new_axis=1, chunks=(x.chunks[0], (K,)), dtype=np.float64)

    def predict(self, X, *, event_observed=None):
        """Most probable component; for a dask ``X`` a lazy dask array."""
        if not _is_dask(X):
            return super().predict(X, event_observed=event_observed)
        return self.predict_proba(X, event_observed=event_observed).argmax(axis=1)


# ======================================================================
# choosing K on a cluster

def _select_chunked(data: _ChunkedData, kinds, n_components, criterion, kwargs):
    if not isinstance(criterion, str) or criterion.lower() not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA} for dask data, got {criterion!r} "
                         "(ICL and LRT need the data in memory: use expmix.select_components)")
    criterion = criterion.lower()
    try:
        if isinstance(n_components, (str, bytes)):
            raise TypeError
        items = list(n_components)
        if any(isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral)
               for k in items):
            raise TypeError
        ks = sorted(set(int(k) for k in items))
    except TypeError:
        raise TypeError("n_components must be an iterable of ints (e.g. range(1, 7)), got "
                        f"{n_components!r}") from None
    if not ks:
        raise ValueError("n_components is empty")
    if ks[0] < 1:
        raise ValueError(f"n_components must be >= 1, got {ks[0]}")
    if "n_components" in kwargs:
        raise TypeError("pass the candidate numbers of components as n_components, not in **kwargs")
    n = data.total_weight
    pseudo = None
    jobs = []
    for K in ks:
        if K > data.n_obs:
            jobs.append((K, None, None))
            continue
        model = DaskExponentialMixture(K, **kwargs)
        _, starts, opts, pseudo = model._prepare(data, pseudo)
        if any(inf["has_trunc"] for inf in data.infos):     # as ExponentialMixture._fit
            opts["max_iter"] = min(opts["max_iter"], TRUNCATION_EM_MAX_ITER)
        jobs.append((K, model, (starts, opts)))
    gens, owners = [], []
    for j, (K, model, prep) in enumerate(jobs):
        if model is None:
            continue
        starts, opts = prep
        for s in starts:
            gens.append(_em_fit(s[0], s[1], **opts))
            owners.append(j)
    results = _run_lockstep(data, gens)
    table, models = [], {}
    for j, (K, model, prep) in enumerate(jobs):
        if model is None:
            table.append(dict(n_components=K, log_likelihood=np.nan, n_parameters=2 * K - 1,
                              bic=np.nan, aic=np.nan, aicc=np.nan, icl=np.nan, converged=False,
                              status="skipped (K > number of observations)"))
            continue
        res_k = [r for r, o in zip(results, owners) if o == j]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model._finish(res_k, prep[0], data, kinds, K)
        except DegenerateFitError:
            table.append(dict(n_components=K, log_likelihood=np.nan, n_parameters=2 * K - 1,
                              bic=np.nan, aic=np.nan, aicc=np.nan, icl=np.nan, converged=False,
                              status="degenerate"))
            continue
        crit = {c: v for c, v in information_criteria(model.log_likelihood_, K, n).items()
                if c in CRITERIA}
        crit["icl"] = np.nan     # not computed on a cluster (see CRITERIA)
        table.append(dict(n_components=K, log_likelihood=model.log_likelihood_,
                          n_parameters=model.n_parameters_, converged=model.converged_,
                          status=model.status_, **crit))
        models[K] = model
    usable = [r for r in table if r["n_components"] in models]
    if not usable:
        raise DegenerateFitError("no candidate number of components gave a usable fit")
    best = min(usable, key=lambda r: r[criterion])
    selected = {c: min(usable, key=lambda r: r[c])["n_components"] for c in CRITERIA}
    return SelectionResult(best_=models[best["n_components"]],
                           best_n_components_=best["n_components"], criterion=criterion,
                           table=table, models=models, n=n, selected_=selected)


def select_components(X, n_components=range(1, 7), criterion="bic", sample_weight=None, *,
                      event_observed=None, entry=None, client=None, **kwargs) -> SelectionResult:
    """:func:`expmix.select_components` for dask arrays, on a cluster.

    Every candidate K and every restart advance together: one round trip per
    EM evaluation for all of them, over chunks that are built once and stay
    on the workers.

    Parameters
    ----------
    X, sample_weight, event_observed, entry
        As in :meth:`DaskExponentialMixture.fit` (dask arrays or in memory).
    n_components : iterable of int, default range(1, 7)
    criterion : {"bic", "aic"}, default "bic"
    client : distributed.Client, optional
        Default: the current client (without one the passes run locally).
    **kwargs
        Passed to :class:`DaskExponentialMixture` (n_init, tol, random_state, ...).

    Returns
    -------
    SelectionResult
        As :func:`expmix.select_components`; the models are fitted
        :class:`DaskExponentialMixture` instances.
    """
    data = _samples_data(X, sample_weight, event_observed, entry, client,
                         kwargs.get("n_threads"))
    try:
        data.check("samples")
        return _select_chunked(data, data.kinds("samples"), n_components, criterion, kwargs)
    finally:
        data.release()


def select_components_intervals(lower, upper, n_components=range(1, 7), criterion="bic",
                                sample_weight=None, *, entry=None, client=None,
                                **kwargs) -> SelectionResult:
    """:func:`select_components` for interval-censored dask arrays ``lower < x < upper``
    (conventions of :meth:`ExponentialMixture.fit_intervals`)."""
    data = _intervals_data(lower, upper, sample_weight, entry, client, kwargs.get("n_threads"))
    try:
        data.check("intervals")
        return _select_chunked(data, data.kinds("intervals"), n_components, criterion, kwargs)
    finally:
        data.release()
