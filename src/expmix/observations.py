"""Observations: every kind of data as canonical, contiguous float64 segments.

An observation is ``(lower, upper, weight)`` with an optional left-truncation
(entry) time ``t``:

* exact: ``lower == upper`` (the value was seen);
* right-censored: ``upper == inf`` (the event happened after ``lower``);
* interval-censored: ``0 <= lower < upper < inf`` (a histogram bin, or a
  left-censored value when ``lower == 0``);
* truncation: the observation is only seen because ``x > t``.

The C core receives each kind as its own segment (see ``csrc/expmix.h``), and
truncation as pairs ``(t, weight)``: a common dead time is one pair carrying
the total weight.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

__all__ = ["Observations", "from_samples", "from_intervals", "from_histogram"]

_Array = Optional[np.ndarray]


@dataclass
class Observations:
    """Canonical observation set (read-only arrays, float64, C-contiguous).

    The arrays are read-only *views* of the caller's arrays whenever no
    conversion or split is needed (a float64 contiguous input whose rows are
    all of one kind), copies otherwise; nothing here ever writes to them.

    Attributes
    ----------
    exact, exact_w : exact values and their weights (weights None = 1)
    right, right_w : right-censoring times and weights
    lower, upper, interval_w : interval bounds and weights
    trunc, trunc_w : truncation pairs (entry time, weight of the observations
        that entered at that time)
    exact_t, right_t, interval_t : with per-observation entry times, the
        entry time of each row of the exact, right-censored and interval
        segment (aligned with it; None without per-observation entries, or
        when the builder did not record them), plus ``row_entry_offset``
        (the data were shifted by it, see :meth:`shifted`: a row's entry
        time is ``exact_t - row_entry_offset``).  The likelihood needs only
        the pairs; these serve the starting points built from the excess
        over the entry time (:meth:`excess_pseudo_values`).
    n_obs : number of observations supplied by the user (rows)
    """

    exact: _Array = None
    exact_w: _Array = None
    right: _Array = None
    right_w: _Array = None
    lower: _Array = None
    upper: _Array = None
    interval_w: _Array = None
    trunc: _Array = None
    trunc_w: _Array = None
    exact_t: _Array = None
    right_t: _Array = None
    interval_t: _Array = None
    row_entry_offset: float = 0.0
    n_obs: int = 0
    kinds: tuple = field(default_factory=tuple)
    #: A common dead time when > 0: every observation is truncated at or above
    #: it (a scalar ``entry``: ``trunc`` is the single pair (dead_time, total
    #: weight); per-observation entries all > 0: their minimum).
    dead_time: float = 0.0

    # ------------------------------------------------------------------
    @property
    def total_weight(self) -> float:
        """Sum of the observation weights (the n of BIC)."""
        tot = 0.0
        for x, w in ((self.exact, self.exact_w), (self.right, self.right_w),
                     (self.lower, self.interval_w)):
            if x is not None:
                tot += float(x.shape[0]) if w is None else float(np.sum(w))
        return tot

    @property
    def is_exact_only(self) -> bool:
        return self.right is None and self.lower is None and self.trunc is None

    @property
    def truncated(self) -> bool:
        return self.trunc is not None and bool(np.any(self.trunc > 0))

    def shifted(self) -> "Observations":
        """The observations measured from the dead time (truncation pairs
        above it stay, measured from it too).

        Exponential memorylessness: x > t has, under component k, the law
        t + Exp(mu_k), so the truncated likelihood of (w, mu) equals the
        untruncated likelihood of the shifted data under
        (w_k e^{-mu_k t} / S(t), mu).  Fitting the shifted data is exact and
        avoids the slow convergence of missing-data EM when S(t) is small.
        Returns ``self`` when there is no dead time.
        """
        t = float(self.dead_time)
        if not t > 0:
            return self

        def sh(a):          # one new array per segment, no further temporaries
            if a is None:
                return None
            out = np.subtract(a, t)
            return np.maximum(out, 0.0, out=out)

        trunc = trunc_w = None
        if self.trunc is not None:
            # per-observation entry times above the common one stay truncation
            # pairs, measured from t: S(t_i) / S(t) is the survival at t_i - t
            # of the mixture seen above t
            keep = self.trunc > t
            if keep.any():
                trunc = np.ascontiguousarray(self.trunc[keep] - t)
                trunc_w = None if self.trunc_w is None else np.ascontiguousarray(self.trunc_w[keep])
        kinds = self.kinds if trunc is not None else \
            tuple(k for k in self.kinds if k != "truncated")
        # row entry times stay (no copy) while pairs remain, measured from t
        # through row_entry_offset
        rows = (lambda a: a if trunc is not None else None)
        return Observations(exact=sh(self.exact), exact_w=self.exact_w,
                            right=sh(self.right), right_w=self.right_w,
                            lower=sh(self.lower), upper=sh(self.upper),
                            interval_w=self.interval_w, trunc=trunc, trunc_w=trunc_w,
                            exact_t=rows(self.exact_t), right_t=rows(self.right_t),
                            interval_t=rows(self.interval_t),
                            row_entry_offset=self.row_entry_offset + t if trunc is not None
                            else 0.0, n_obs=self.n_obs, kinds=kinds)

    def pseudo_values(self):
        """Values and weights for initialization: exact values, censoring
        times, interval midpoints (lower bound doubled for open bins)."""
        vals, wts = [], []
        for x, w in ((self.exact, self.exact_w), (self.right, self.right_w)):
            if x is not None:
                vals.append(x)
                wts.append(np.ones_like(x) if w is None else w)
        if self.lower is not None:
            vals.append(0.5 * (self.lower + self.upper))
            wts.append(np.ones_like(self.lower) if self.interval_w is None else self.interval_w)
        v = np.concatenate(vals) if vals else np.zeros(0)
        w = np.concatenate(wts) if wts else np.zeros(0)
        return v, w

    @property
    def has_row_entries(self) -> bool:
        """Whether per-observation entry times are recorded row by row (every
        non-empty segment has its entry times)."""
        if self.trunc is None:
            return False
        return all(t is not None for x, t in ((self.exact, self.exact_t),
                                              (self.right, self.right_t),
                                              (self.lower, self.interval_t)) if x is not None)

    def excess_pseudo_values(self):
        """Pseudo-values measured from each row's entry time, with weights:
        ``x - t`` (exact), ``c - t`` (right-censored), ``(a + b) / 2 - t``
        (intervals), in the order of :meth:`pseudo_values` (weights None when
        no segment is weighted); None when the row entry times are not
        recorded (:attr:`has_row_entries`).

        By memorylessness the excess of a row from component k is Exp(mu_k)
        whatever its entry time, so these values show the rates at their own
        scale even when the entry times lie far in the tail (the values x do
        not)."""
        if not self.has_row_entries:
            return None
        segs: List[Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]] = []
        for x, t, w in ((self.exact, self.exact_t, self.exact_w),
                        (self.right, self.right_t, self.right_w)):
            if x is not None and t is not None:      # (has_row_entries: t is there)
                segs.append((x, t, w))
        if self.lower is not None and self.upper is not None and self.interval_t is not None:
            segs.append((0.5 * (self.lower + self.upper), self.interval_t, self.interval_w))
        v = np.empty(sum(x.shape[0] for x, _, _ in segs))
        pos = 0
        off = float(self.row_entry_offset)
        for x, t, _ in segs:        # one array of the excess, no further temporaries
            part = v[pos:pos + x.shape[0]]
            np.subtract(x, t, out=part)
            if off != 0.0:          # x was shifted by off: x - (t - off)
                np.add(part, off, out=part)
            np.maximum(part, 0.0, out=part)
            pos += x.shape[0]
        if all(w is None for _, _, w in segs):
            return v, None
        return v, np.concatenate([np.ones_like(x) if w is None else w for x, _, w in segs])

    def informative_weight(self) -> float:
        """Weight of observations that bound a rate from both sides."""
        tot = 0.0
        if self.exact is not None:
            tot += float(self.exact.shape[0]) if self.exact_w is None else float(np.sum(self.exact_w))
        if self.lower is not None:
            pos = self.lower > 0
            w = np.ones_like(self.lower) if self.interval_w is None else self.interval_w
            tot += float(np.sum(w[pos]))
        return tot


# ----------------------------------------------------------------------
# validation helpers

class _RealInputError(TypeError, ValueError):
    """Complex input: a TypeError (wrong kind of number) that is also the
    ValueError scikit-learn's checks expect ("Complex data not supported")."""


def _is_sparse(a) -> bool:
    mod = type(a).__module__ or ""
    return mod.startswith("scipy.sparse") or (hasattr(a, "tocsr") and hasattr(a, "nnz"))


def _as_float_1d(a, name: str, *, allow_2d_column: bool = True) -> np.ndarray:
    """Convert to a 1-D float64 array, or raise a TypeError/ValueError naming ``name``.

    Accepted: numpy arrays of any real dtype (integers, float16/32/64 and
    longdouble are converted to float64, the precision of the C core),
    non-contiguous or read-only arrays (copied only when needed), Python
    sequences, pandas Series / Index / single-column DataFrames (via
    ``to_numpy``; a nullable dtype with missing values is rejected as NaN), and
    anything ``np.asarray`` turns into numbers.  A 2-D input must have exactly
    one column.  Rejected with a message naming ``name``: None, strings,
    booleans, complex numbers, non-numeric objects, sparse matrices, and
    arrays of another shape.
    """
    if a is None:
        raise TypeError(f"{name} must be array-like of numbers, got None")
    if isinstance(a, (str, bytes)):
        raise TypeError(f"{name} must be array-like of numbers, got {type(a).__name__}")
    if _is_sparse(a):
        raise TypeError(f"{name} is a sparse matrix; sparse input is not supported: pass a "
                        "dense 1-D array (e.g. X.toarray().ravel())")
    if hasattr(a, "to_numpy") and not isinstance(a, np.ndarray):
        shape = getattr(a, "shape", None)
        if shape is not None and len(shape) == 2 and shape[1] != 1:
            raise ValueError(f"{name} must be 1-D or have a single column; got a "
                             f"{type(a).__name__} with {shape[1]} columns (select one, "
                             "e.g. df['column'])")
        if shape is not None and len(shape) == 2 and hasattr(a, "iloc"):
            a = a.iloc[:, 0]                                 # single-column DataFrame
        kind = getattr(getattr(a, "dtype", None), "kind", None)
        if kind in ("i", "u", "f"):
            # numeric, including pandas' nullable Int64/Float64 (pd.NA -> NaN, rejected later)
            a = a.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            a = a.to_numpy()
    if isinstance(a, np.ma.MaskedArray):
        if np.ma.getmaskarray(a).any():
            raise ValueError(f"{name} is a masked array with masked entries; numpy would drop "
                             "the mask and fit the hidden values: pass only the valid "
                             f"entries (e.g. {name}.compressed())")
        a = np.ma.getdata(a)
    try:
        arr = np.asarray(a)
    except ValueError as exc:      # ragged nested sequences
        raise ValueError(f"{name} must be a 1-D array of numbers; it could not be converted "
                         f"({exc})") from None
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must contain only real numbers; it has dtype object "
                            f"with non-numeric entries ({exc})") from None
    if arr.dtype.kind == "c":
        raise _RealInputError(f"{name} must be real; got a complex array "
                              "(Complex data not supported)")
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must be numeric; got a boolean array")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{name} must be 1-D (or a single column), got a scalar")
    if arr.ndim == 2 and allow_2d_column:
        if arr.shape[1] == 0:
            raise ValueError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum "
                             "of 1 is required (one column of values)")
        if arr.shape[1] != 1:
            raise ValueError(f"{name} must be 1-D or have a single column; got shape {arr.shape}")
        arr = arr[:, 0]
    elif arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D or have a single column; got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _scan(x: np.ndarray):
    """(first NaN, first inf, first negative, first positive) indices of a
    float64 array, -1 where none: one pass in C, no temporaries."""
    from . import _core
    if x.dtype == np.float64 and x.flags.c_contiguous:
        return _core.scan_values(x)
    return _core.scan_values(np.ascontiguousarray(x, dtype=np.float64))


def _check_values(x: np.ndarray, name: str, *, allow_inf: bool = False) -> None:
    i_nan, i_inf, i_neg, _ = _scan(x)
    if i_nan >= 0:
        raise ValueError(f"{name} contains NaN (at index {i_nan})")
    if not allow_inf and i_inf >= 0:
        raise ValueError(f"{name} contains inf (at index {i_inf}); "
                         "values must be finite")
    if i_neg >= 0:
        i = int(i_neg)
        raise ValueError(f"{name} must be non-negative; {name}[{i}] = {float(x[i])!r} "
                         "(Negative values in data: the distribution lives on [0, inf))")


def check_weights(sample_weight, n: int, name: str = "sample_weight") -> Optional[np.ndarray]:
    """Validate sample weights: None, or n finite non-negative numbers, not all zero."""
    if sample_weight is None:
        return None
    w = _as_float_1d(sample_weight, name)
    if w.shape[0] != n:
        raise ValueError(f"{name} has length {w.shape[0]}, but the data have {n} observations")
    i_nan, i_inf, i_neg, i_pos = _scan(w)
    if i_nan >= 0:
        raise ValueError(f"{name} contains NaN")
    if i_inf >= 0:
        raise ValueError(f"{name} contains inf; weights must be finite")
    if i_neg >= 0:
        raise ValueError(f"{name} must be non-negative; found {float(w[i_neg])!r}")
    if i_pos < 0:
        raise ValueError(f"{name} is zero everywhere: there is nothing to fit")
    _check_total(w, name)
    return w


def _check_total(w: np.ndarray, name: str) -> None:
    """The total weight must be a finite float64 (every sum of the fit uses it)."""
    with np.errstate(over="ignore"):
        total = float(np.sum(w))
    if not np.isfinite(total):
        raise ValueError(f"{name}: the weights sum to more than the largest float64 "
                         "(1.8e308); divide them by a common factor, which does not change "
                         "the fitted parameters")


def _entry_array(entry, n: int, name: str = "entry"):
    """None, a scalar dead time, or one entry time per observation."""
    if entry is None:
        return None, None
    if isinstance(entry, numbers.Real) and not isinstance(entry, bool):
        t = float(entry)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {entry!r}")
        return t, None
    if isinstance(entry, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number or an array of numbers, got a bool")
    arr = _as_float_1d(entry, name)
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, but the data have {n} observations")
    _check_values(arr, name)
    return None, arr


def _readonly(a):
    """A read-only view of ``a`` (no copy): the observation set never writes
    its arrays, and a fitted model keeping it cannot change them either."""
    v = a.view()
    v.flags.writeable = False
    return v


def _segment(mask, arr, w, count=None, invert=False):
    """The rows of ``arr`` (and ``w``) where ``mask`` is True, contiguous.

    ``mask`` None means every row: then the arrays themselves are returned as
    read-only views, without a copy (likewise when the mask is all True).
    ``count``: the number of selected rows, if known.  ``invert``: select
    the rows where ``mask`` is False (no inverted copy of the mask is made).
    """
    n = arr.shape[0]
    if mask is None:
        count = 0 if invert else n
    elif count is None:
        count = int(np.count_nonzero(mask))
        if invert:
            count = n - count
    if count == 0:
        return None, None
    if count == n:
        return _readonly(arr), None if w is None else _readonly(w)
    # gather chunk by chunk into the result: no N-sized temporaries
    out = np.empty(count)
    wout = None if w is None else np.empty(count)
    pos = 0
    step = _CHUNK
    for a in range(0, n, step):
        m = mask[a:a + step]
        if invert:
            m = ~m
        part = arr[a:a + step][m]
        out[pos:pos + part.shape[0]] = part
        if wout is not None:
            wout[pos:pos + part.shape[0]] = w[a:a + step][m]
        pos += part.shape[0]
    return out, wout


#: Rows per chunk of the chunked validation passes (bounded temporaries).
_CHUNK = 1 << 16


def _first_true(fn, n: int) -> int:
    """The first index i < n where the boolean array ``fn(a, b)`` (rows
    a..b-1) is True, or -1; evaluated in chunks (no N-sized temporaries)."""
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        m = fn(a, b)
        if m.any():
            return a + int(np.flatnonzero(m)[0])
    return -1


def _chunk(a, lo, hi):
    """Rows lo..hi-1 of an array, or the scalar / None itself."""
    return a[lo:hi] if isinstance(a, np.ndarray) and a.ndim == 1 else a


def _information_ok(lo, hi, w, t=0.0, ev=None) -> bool:
    """Chunked fast path of :func:`_check_information`: True when some row
    with positive weight shows exposure (lower bound above its entry time)
    and some bounds x from above.  ``hi`` None: the rows are samples, exact
    where ``ev`` (None: all) and right-censored elsewhere."""
    n = lo.shape[0]
    bounded = exposure = False
    if hi is None and ev is None and w is None and (np.ndim(t) == 0):
        # exact, unweighted: every row bounds; exposure iff some x > t
        return bool(np.max(lo) > float(t))
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        pos = None if w is None else w[a:b] > 0
        l_ = lo[a:b]
        if not exposure:
            e = l_ > _chunk(t, a, b)
            exposure = bool((e if pos is None else e & pos).any())
        if not bounded:
            if hi is None:          # samples: the observed events bound x
                bm = pos if ev is None else (ev[a:b] if pos is None else ev[a:b] & pos)
                bounded = True if bm is None else bool(bm.any())
            else:
                fin = np.isfinite(hi[a:b])
                bounded = bool((fin if pos is None else fin & pos).any())
        if bounded and exposure:
            return True
    return False


def _add_truncation(obs: Observations, t_scalar, t_arr, weights, lower_for_check, name="entry"):
    """Attach truncation pairs; check entry < the observation's lower bound
    (entry == lower is allowed for censored/interval rows where lower > entry
    is not needed: an interval (t, b) entering at t is fine)."""
    n = lower_for_check.shape[0]
    if t_scalar is not None:
        if t_scalar > 0:
            i = _first_true(lambda a, b: lower_for_check[a:b] < t_scalar, n)
            if i >= 0:
                raise ValueError(f"{name} = {t_scalar!r} exceeds observation {i} "
                                 f"(value {float(lower_for_check[i])!r}); every observation must lie "
                                 f"above the truncation point")
            tw = float(n) if weights is None else float(np.sum(weights))
            obs.trunc = np.array([t_scalar])
            obs.trunc_w = np.array([tw])
            obs.dead_time = float(t_scalar)
    elif t_arr is not None:
        bad = t_arr > lower_for_check
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{i}] = {float(t_arr[i])!r} exceeds the observation "
                             f"({float(lower_for_check[i])!r}); each entry time must be below its "
                             "observation")
        keep = t_arr > 0
        if keep.any():
            obs.trunc = np.ascontiguousarray(t_arr[keep])
            obs.trunc_w = None if weights is None else np.ascontiguousarray(weights[keep])
            if keep.all():
                # every row is truncated: the smallest entry time is a common
                # dead time (see Observations.shifted)
                obs.dead_time = float(np.min(t_arr))
    return obs


def from_samples(X, sample_weight=None, event_observed=None, entry=None, *,
                 check_information=True) -> Observations:
    """Observations from values, optional censoring flags and entry times.

    ``event_observed[i] == False`` means ``X[i]`` is a right-censoring time
    (lifelines' convention).  ``entry`` is a scalar dead time or one entry
    time per observation; each observation must exceed its entry time (an
    exact value equal to its entry time has zero probability density above it
    and makes the likelihood unbounded, so it is rejected).
    """
    x = _as_float_1d(X, "X")
    n = x.shape[0]
    if n == 0:
        raise ValueError("X is empty: at least one observation is needed")
    _check_values(x, "X")
    w = check_weights(sample_weight, n)
    if event_observed is None:
        ev = None
    else:
        e = np.asarray(event_observed)
        if e.ndim == 2 and e.shape[1] == 1:
            e = e[:, 0]
        if e.ndim != 1:
            raise ValueError(f"event_observed must be 1-D, got shape {e.shape}")
        if e.shape[0] != n:
            raise ValueError(f"event_observed has length {e.shape[0]}, but X has {n} observations")
        if e.dtype.kind == "b":
            ev = np.asarray(e, dtype=bool)           # no copy of a bool array
        elif e.dtype.kind in "iuf":
            if not np.isin(e, (0, 1)).all():
                raise ValueError("event_observed must contain only True/False (or 0/1)")
            ev = e.astype(bool)
        else:
            raise TypeError(f"event_observed must be boolean (or 0/1), got dtype {e.dtype}")
    # ev None: every row is an observed event (no mask is built)
    t_scalar, t_arr = _entry_array(entry, n)
    if t_arr is not None:
        i = _first_true(lambda a, b: (t_arr[a:b] >= x[a:b]) if ev is None
                        else ev[a:b] & (t_arr[a:b] >= x[a:b]), n)
        if i >= 0:
            raise ValueError(f"entry[{i}] = {float(t_arr[i])!r} is not below X[{i}] = {float(x[i])!r}; "
                             "an observed event must happen after its entry time")
    if t_scalar is not None and t_scalar > 0:
        i = _first_true(lambda a, b: (x[a:b] <= t_scalar) if ev is None
                        else ev[a:b] & (x[a:b] <= t_scalar), n)
        if i >= 0:
            raise ValueError(f"entry = {t_scalar!r} is not below X[{i}] = {float(x[i])!r}; "
                             "every observed value must exceed the dead time")
    obs = Observations(n_obs=n)
    n_ev = n if ev is None else int(np.count_nonzero(ev))
    # exact rows are the input itself (a read-only view) when every event is observed
    obs.exact, obs.exact_w = _segment(ev, x, w, n_ev)
    obs.right, obs.right_w = _segment(ev, x, w, n - n_ev, invert=True)
    kinds = []
    if obs.exact is not None:
        kinds.append("exact")
    if obs.right is not None:
        kinds.append("right")
    _add_truncation(obs, t_scalar, t_arr, w, x)
    if obs.trunc is not None:
        kinds.append("truncated")
        if t_arr is not None:       # the entry time of each row (starting points)
            obs.exact_t, _ = _segment(ev, t_arr, None, n_ev)
            obs.right_t, _ = _segment(ev, t_arr, None, n - n_ev, invert=True)
    obs.kinds = tuple(kinds)
    t_row = 0.0 if t_arr is None else t_arr
    if t_scalar is not None:
        t_row = t_scalar
    if check_information and not _information_ok(x, None, w, t_row, ev):
        evm = np.ones(n, bool) if ev is None else ev
        _check_information(x - t_row, np.where(evm, x - t_row, np.inf), w)
    return obs


def from_intervals(lower, upper, sample_weight=None, entry=None, *,
                   check_information=True) -> Observations:
    """Observations from interval bounds: lower == upper is exact, upper = inf
    is right-censored, otherwise interval-censored."""
    lo = _as_float_1d(lower, "lower")
    hi = _as_float_1d(upper, "upper")
    if lo.shape[0] != hi.shape[0]:
        raise ValueError(f"lower and upper have different lengths ({lo.shape[0]} and {hi.shape[0]})")
    n = lo.shape[0]
    if n == 0:
        raise ValueError("lower is empty: at least one observation is needed")
    _check_values(lo, "lower")
    if _scan(hi)[0] >= 0:
        raise ValueError("upper contains NaN")
    i = _first_true(lambda a, b: hi[a:b] < lo[a:b], n)
    if i >= 0:
        raise ValueError(f"lower[{i}] = {float(lo[i])!r} is greater than upper[{i}] = {float(hi[i])!r}")
    w = check_weights(sample_weight, n)
    t_scalar, t_arr = _entry_array(entry, n)
    n_ex = sum(int(np.count_nonzero(lo[a:a + _CHUNK] == hi[a:a + _CHUNK]))
               for a in range(0, n, _CHUNK))
    n_rc = sum(int(np.count_nonzero(np.isinf(hi[a:a + _CHUNK]))) for a in range(0, n, _CHUNK))
    ex: Optional[np.ndarray] = None
    rc: Optional[np.ndarray] = None
    iv: Optional[np.ndarray] = None
    if n_ex or n_rc:            # else every row is an interval: no masks, views
        ex = lo == hi
        rc = np.isinf(hi)
        iv = ~ex & ~rc
    if t_arr is not None:
        i = _first_true(lambda a, b: (t_arr[a:b] > lo[a:b]) if ex is None else
                        (t_arr[a:b] > lo[a:b]) | (ex[a:b] & (t_arr[a:b] >= lo[a:b])), n)
        if i >= 0:
            raise ValueError(f"entry[{i}] = {float(t_arr[i])!r} is above lower[{i}] = {float(lo[i])!r}; "
                             "each observation must lie above its entry time")
    elif t_scalar is not None and t_scalar > 0:
        i = _first_true(lambda a, b: (lo[a:b] < t_scalar) if ex is None else
                        (lo[a:b] < t_scalar) | (ex[a:b] & (lo[a:b] <= t_scalar)), n)
        if i >= 0:
            raise ValueError(f"entry = {t_scalar!r} is above lower[{i}] = {float(lo[i])!r}; "
                             "every observation must lie above the truncation point")
    obs = Observations(n_obs=n)
    if ex is None:
        obs.lower, obs.interval_w = _segment(None, lo, w)
        obs.upper = _readonly(hi)
        kinds = ["interval"]
    else:
        obs.exact, obs.exact_w = _segment(ex, lo, w, n_ex)
        obs.right, obs.right_w = _segment(rc, lo, w, n_rc)
        obs.lower, obs.interval_w = _segment(iv, lo, w, n - n_ex - n_rc)
        obs.upper, _ = _segment(iv, hi, None, n - n_ex - n_rc)
        kinds = [k for k, c in (("exact", n_ex), ("right", n_rc), ("interval", n - n_ex - n_rc))
                 if c > 0]
    # lower >= 0 was checked: the truncation check needs no clipped copy
    _add_truncation(obs, t_scalar, t_arr, w, lo)
    if obs.trunc is not None:
        kinds.append("truncated")
        if t_arr is not None:       # the entry time of each row (starting points)
            if ex is None:
                obs.interval_t, _ = _segment(None, t_arr, None)
            else:
                obs.exact_t, _ = _segment(ex, t_arr, None, n_ex)
                obs.right_t, _ = _segment(rc, t_arr, None, n_rc)
                obs.interval_t, _ = _segment(iv, t_arr, None, n - n_ex - n_rc)
    obs.kinds = tuple(kinds)
    t_row = 0.0 if t_arr is None else t_arr
    if t_scalar is not None:
        t_row = t_scalar
    if check_information and not _information_ok(lo, hi, w, t_row):
        _check_information(lo - t_row, hi - t_row, w)
    return obs


def from_histogram(edges, counts, entry=None, *, check_information=True) -> Observations:
    """Observations from a histogram: bin i is [edges[i], edges[i+1]) with
    weight counts[i]; the last edge may be inf (an open last bin)."""
    e = _as_float_1d(edges, "edges", allow_2d_column=False)
    c = _as_float_1d(counts, "counts", allow_2d_column=False)
    if e.shape[0] < 2:
        raise ValueError(f"edges must have at least 2 values, got {e.shape[0]}")
    if c.shape[0] != e.shape[0] - 1:
        raise ValueError(f"counts must have len(edges) - 1 = {e.shape[0] - 1} values, "
                         f"got {c.shape[0]}")
    if np.isnan(e).any():
        raise ValueError("edges contains NaN")
    if (e[:-1] < 0).any() or np.isinf(e[:-1]).any():
        raise ValueError("edges must be finite and non-negative (only the last edge may be inf)")
    if not (np.diff(e) > 0).all():
        i = int(np.flatnonzero(~(np.diff(e) > 0))[0])
        raise ValueError(f"edges must be strictly increasing; edges[{i}] = {float(e[i])!r} >= "
                         f"edges[{i + 1}] = {float(e[i + 1])!r}")
    if np.isnan(c).any() or np.isinf(c).any():
        raise ValueError("counts must be finite")
    if (c < 0).any():
        raise ValueError("counts must be non-negative")
    if not (c > 0).any():
        raise ValueError("counts is zero everywhere: there is nothing to fit")
    _check_total(c, "counts")
    t_scalar, t_arr = _entry_array(entry, c.shape[0])
    if t_arr is not None:
        raise TypeError("entry for a histogram must be a scalar dead time (all bins share it)")
    if t_scalar is not None and t_scalar > e[0]:
        raise ValueError(f"entry = {t_scalar!r} is above the first edge {e[0]!r}; "
                         "the histogram must start at or above the truncation point")
    keep = c > 0
    lo, hi, w = e[:-1][keep], e[1:][keep], c[keep]
    t0 = 0.0 if t_scalar is None else t_scalar
    if check_information and lo.shape[0] == 1 and lo[0] <= t0 and np.isinf(hi[0]):
        raise ValueError(f"all counts are in the single bin [{float(lo[0])!r}, inf), which "
                         "covers every possible value: such a histogram carries no information "
                         "about the rates (at least two bins with counts are needed)")
    return from_intervals(lo, hi, sample_weight=w, entry=t_scalar,
                          check_information=check_information)


def _check_information(lo, hi, w) -> None:
    """Reject data that cannot give finite, positive rates.

    ``lo``, ``hi``: per-row bounds measured from the row's truncation time
    (exact rows have lo == hi, right-censored hi == inf).  A rate is bounded
    above by a row that shows exposure (lo > 0: exact x > 0, censoring time
    c > 0, interval with lower > 0) and below by a row that bounds x from above
    (exact or hi < inf).  Both are needed (for K = 1 the MLE is then finite
    and positive; e.g. left- and right-censored rows together, "current
    status" data, suffice).
    """
    pos = np.ones(lo.shape[0], bool) if w is None else w > 0
    exact = pos & (lo == hi)
    bounded = pos & np.isfinite(hi)
    exposure = pos & (lo > 0)
    if exposure.any() and bounded.any():
        return
    if not bounded.any():
        if not (lo[pos] > 0).any():
            raise ValueError("every observation is right-censored at its entry time (the "
                             "interval [entry, inf) covers every possible value): the data "
                             "carry no information about the rates")
        raise ValueError("every observation is right-censored: the data carry no information "
                         "to estimate rates (the likelihood grows without bound as the rates go "
                         "to 0; at least one observed event or a bounded interval is needed)")
    if exact.any():
        raise ValueError("every observed value is 0 (or equals its entry time): the "
                         "maximum-likelihood rate is infinite. If the values were rounded to a "
                         "resolution d, fit them as intervals [0, d) with fit_intervals")
    raise ValueError("every observation is left-censored (0 <= x < upper, measured from the "
                     "entry time) and none shows positive exposure: the maximum-likelihood rate "
                     "is infinite (at least one exact value, an interval with a positive lower "
                     "bound, or a right-censored observation is needed)")


# ----------------------------------------------------------------------
# exact power-of-two rescaling for data at extreme magnitudes

#: Data whose largest finite bound lies outside [2**-RESCALE_EXP, 2**RESCALE_EXP]
#: are fitted in rescaled units (see :func:`power_of_two_scale`).
RESCALE_EXP = 256


def power_of_two_scale(obs: Observations) -> float:
    """A power of two ``s`` such that the data divided by ``s`` have their
    largest finite bound in [1, 2); 1.0 when the data are of moderate size.

    Dividing by a power of two is exact for normal numbers, so fitting
    ``obs / s`` and multiplying the rates by ``1 / s`` is the same fit without
    overflow of the sums sum_i r_ik x_i (data near the float64 maximum) or of
    the rates (data near the float64 minimum), and with the initialization
    clamps and the divergence guard working at their natural scale.
    """
    m = 0.0
    for seg in (obs.exact, obs.right, obs.lower, obs.upper, obs.trunc):
        if seg is not None and seg.shape[0]:
            m = max(m, float(np.max(seg)))
    if not (m > 0.0) or not np.isfinite(m):
        return 1.0
    e = int(np.frexp(m)[1]) - 1          # m = f * 2**(e+1), f in [0.5, 1)
    if -RESCALE_EXP <= e <= RESCALE_EXP:
        return 1.0
    return float(np.ldexp(1.0, e))


def rescaled(obs: Observations, s: float) -> Observations:
    """The observation set with every bound divided by ``s`` (weights kept)."""
    if s == 1.0:
        return obs
    import dataclasses
    e = int(np.frexp(s)[1]) - 1          # s = 2**e exactly
    f = (lambda a: None if a is None else np.ascontiguousarray(np.ldexp(a, -e)))
    return dataclasses.replace(obs, exact=f(obs.exact), right=f(obs.right),
                               lower=f(obs.lower), upper=f(obs.upper), trunc=f(obs.trunc),
                               exact_t=f(obs.exact_t), right_t=f(obs.right_t),
                               interval_t=f(obs.interval_t),
                               row_entry_offset=float(np.ldexp(obs.row_entry_offset, -e)))


def exact_weight(obs: Observations) -> float:
    """Total weight of the exact observations (each carries a density, whose
    log shifts by -log s when the data are divided by s)."""
    if obs.exact is None:
        return 0.0
    return float(obs.exact.shape[0]) if obs.exact_w is None else float(np.sum(obs.exact_w))
