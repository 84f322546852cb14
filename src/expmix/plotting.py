"""Plots for fitted mixtures (requires matplotlib: ``pip install expmix[plot]``).

* :func:`plot_histogram` (``model.plot(X)``): the log-binned dwell-time
  histogram of Sigworth & Sine (1987, Biophys. J. 52:1047): bins of equal
  width in log x and the square root of the counts on the y axis, so that
  every exponential component appears as a hump of the same shape, peaking at
  its mean, and the counting noise is the same height (about 1/2) everywhere.
  The fitted mixture and each component are drawn as expected counts per bin.
* :func:`plot_survival` (``model.plot_survival(X)``): empirical survival
  (Kaplan-Meier when some observations are right-censored) against the
  fitted survival function, on log-log axes.
* :func:`plot_criteria`: information criteria against the number of
  components, from :func:`expmix.select_components`.
* :func:`kaplan_meier`: the Kaplan-Meier estimator used by plot_survival.

Each function draws into ``ax`` (a new figure if None) and returns the Axes.
The curves are plain ``Line2D`` objects with labels, so their data can be read
back with ``line.get_xdata()`` / ``get_ydata()``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Sequence, Tuple, Union

import numpy as np

from .observations import _as_float_1d, _check_values

if TYPE_CHECKING:  # pragma: no cover
    from .mixture import ExponentialMixture
    from .selection import SelectionResult

__all__ = ["plot_histogram", "plot_survival", "plot_criteria", "kaplan_meier",
           "log_bin_edges"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("plotting needs matplotlib: pip install 'expmix[plot]'") from None
    return plt


def _axes(ax: Any) -> Any:
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


def log_bin_edges(x: np.ndarray, bins_per_decade: int = 10) -> np.ndarray:
    """Edges equally spaced in log10, ``bins_per_decade`` per decade, aligned
    on multiples of 1/bins_per_decade decades and covering the positive ``x``."""
    x = np.asarray(x, dtype=np.float64)
    pos = x[x > 0]
    if pos.size == 0:
        raise ValueError("no positive values to bin on a log axis")
    if isinstance(bins_per_decade, bool) or not isinstance(bins_per_decade, (int, np.integer)) \
            or bins_per_decade < 1:
        raise ValueError(f"bins must be an int >= 1 (bins per decade) or an array of edges, "
                         f"got {bins_per_decade!r}")
    b = int(bins_per_decade)
    lo = np.floor(np.log10(pos.min()) * b) / b
    hi = np.ceil(np.log10(pos.max()) * b) / b
    if hi <= lo:
        hi = lo + 1.0 / b
    n = int(round((hi - lo) * b))
    return 10.0 ** np.linspace(lo, hi, n + 1)


def _n_points(n: Any) -> int:
    """The number of points of a plotted curve (an int >= 2)."""
    import numbers
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n_points must be an int, got {n!r}")
    if n < 2:
        raise ValueError(f"n_points must be >= 2, got {n}")
    return int(n)


def plot_histogram(model: "ExponentialMixture", X: Any = None, *, ax: Any = None,
                   bins: Union[int, Sequence[float], np.ndarray, None] = None,
                   components: bool = True, sqrt: bool = True,
                   n_points: int = 400, **hist_kwargs: Any) -> Any:
    """Sigworth-Sine log-binned histogram of ``X`` with the fitted mixture.

    Parameters
    ----------
    model : ExponentialMixture
        A fitted model.
    X : array-like of shape (n,), optional
        The (exact) observations.  Zeros cannot be placed on a log axis and are
        left out of the histogram (the curves are still scaled to all n).
        Without ``X`` only the curves are drawn, scaled to the fitted
        ``total_weight_``.
    bins : int or array-like, optional
        Bins per decade (default 10) or explicit edges (must be positive and
        increasing; equal log widths are assumed for the curves).
    components : bool, default True
        Also draw each component ``w_k mu_k exp(-mu_k x)``.
    sqrt : bool, default True
        Square-root y axis (counts) as Sigworth & Sine; False: counts.
    n_points : int, default 400
        Points of each curve.
    **hist_kwargs
        Passed to ``ax.stairs`` for the histogram.

    Returns
    -------
    matplotlib.axes.Axes
        Lines are labelled ``"mixture"`` and ``"component k (mean m)"``;
        the y data of the mixture line are ``sqrt(n * d * x * pdf(x))`` with
        d the bin width in natural-log units (the expected count in a bin of
        that width centred at x, to first order).

    Notes
    -----
    With equal bins in u = ln x the expected count in the bin at u is
    n * d * x p(x), and a single exponential component gives the hump
    x mu e^{-mu x}, peaking at x = 1/mu, the component's mean.
    """
    model._check_fitted()
    ax = _axes(ax)
    if X is not None:
        x = _as_float_1d(X, "X")
        _check_values(x, "X")
        if x.shape[0] == 0:
            raise ValueError("X is empty")
        n = float(x.shape[0])
    else:
        x = None
        n = float(model.total_weight_)
    if bins is None or isinstance(bins, (int, np.integer)):
        bpd = 10 if bins is None else bins
        if x is not None and np.any(x > 0):
            edges = log_bin_edges(x, bpd)
        else:
            q = model.ppf(np.array([1e-3, 1 - 1e-4]))
            edges = log_bin_edges(q, bpd)
    else:
        try:
            edges = np.asarray(bins, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("bins must be an int >= 1 (bins per decade) or an array of "
                             f"edges, got {bins!r}") from None
        if edges.ndim != 1 or edges.shape[0] < 2 or np.any(edges <= 0) or \
                np.any(np.diff(edges) <= 0) or not np.all(np.isfinite(edges)):
            raise ValueError("bins must be positive, finite, strictly increasing edges")
    logw = np.diff(np.log(edges))
    d = float(np.median(logw))
    if x is not None:
        counts, _ = np.histogram(x[x > 0], bins=edges)
        y = np.sqrt(counts) if sqrt else counts
        kw = dict(fill=True, alpha=0.35, color="0.5", label="data")
        kw.update(hist_kwargs)
        ax.stairs(y, edges, **kw)
    grid = np.geomspace(edges[0], edges[-1], _n_points(n_points))
    def f(c: np.ndarray) -> np.ndarray:
        return np.sqrt(c) if sqrt else c
    ax.plot(grid, f(n * d * grid * model.pdf(grid)), color="k", lw=2, label="mixture")
    if components:
        for k, (w, mu) in enumerate(zip(model.weights_, model.rates_)):
            ax.plot(grid, f(n * d * grid * w * mu * np.exp(-mu * grid)), lw=1, ls="--",
                    label=f"component {k} (mean {1 / mu:.3g})")
    ax.set_xscale("log")
    ax.set_xlabel("x (log scale)")
    ax.set_ylabel("sqrt(count per bin)" if sqrt else "count per bin")
    ax.set_title(f"{model.n_components}-component exponential mixture")
    ax.legend(fontsize="small")
    return ax


def kaplan_meier(x: Any, event_observed: Any = None, entry: Optional[float] = None
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of the survival function.

    Parameters
    ----------
    x : array-like of shape (n,)
        Event or censoring times (non-negative).
    event_observed : array-like of bool, optional
        False marks a right-censoring time (default: all events).
    entry : float, optional
        A common left-truncation (dead) time: the estimate is then of
        P(X > t | X > entry).

    Returns
    -------
    times, survival : ndarray
        The distinct event times and S(t) just after each (a right-continuous
        step function; S = 1 before the first time).  Ties: at a time with
        both events and censorings, the censored observations count as still
        at risk (the usual convention).
    """
    t = _as_float_1d(x, "x")
    _check_values(t, "x")
    if t.shape[0] == 0:
        raise ValueError("x is empty")
    if event_observed is None:
        ev = np.ones(t.shape[0], dtype=bool)
    else:
        ev = np.asarray(event_observed).astype(bool).ravel()
        if ev.shape != t.shape:
            raise ValueError(f"event_observed has length {ev.shape[0]}, x has {t.shape[0]}")
    if entry is not None and np.any(t <= float(entry)):
        raise ValueError("every time must exceed the entry time")
    times = np.unique(t[ev])
    # at risk at time u: number with t >= u
    ts = np.sort(t)
    at_risk = ts.shape[0] - np.searchsorted(ts, times, side="left")
    te = np.sort(t[ev])
    deaths = np.searchsorted(te, times, side="right") - np.searchsorted(te, times, side="left")
    surv = np.cumprod(1.0 - deaths / at_risk)
    return times, surv


def plot_survival(model: "ExponentialMixture", X: Any = None, *, event_observed: Any = None,
                  entry: Optional[float] = None, ax: Any = None, n_points: int = 400,
                  components: bool = False, edges: Any = None, counts: Any = None) -> Any:
    """Empirical survival of ``X`` (Kaplan-Meier if censored) and the fitted
    survival function, on log-log axes.

    Parameters
    ----------
    model : ExponentialMixture
        A fitted model.
    X : array-like, optional
        Event / censoring times; without it only the fitted curve is drawn.
    event_observed : array-like of bool, optional
        False marks right-censored observations (Kaplan-Meier is used).
    entry : float, optional
        A common dead time: the fitted curve is then S(x) / S(entry), the
        survival of the observations that were seen.
    ax : matplotlib Axes, optional
    n_points : int, default 400
    components : bool, default False
        Also draw w_k exp(-mu_k x) for each component.
    edges, counts : array-like, optional
        Binned data instead of ``X`` (contiguous bins ``[edges[i], edges[i+1])``):
        the empirical survival ``1 - cumsum(counts) / sum(counts)`` is drawn
        as points at the finite upper edges.

    Returns
    -------
    matplotlib.axes.Axes
        Lines labelled ``"empirical"`` / ``"Kaplan-Meier"`` (a step line),
        ``"binned"`` (points) and ``"fitted"``.
    """
    model._check_fitted()
    ax = _axes(ax)
    t0 = 0.0 if entry is None else float(entry)
    if edges is not None or counts is not None:
        if X is not None or edges is None or counts is None:
            raise ValueError("give either X or both edges and counts")
        e = _as_float_1d(edges, "edges", allow_2d_column=False)
        c = _as_float_1d(counts, "counts", allow_2d_column=False)
        if e.shape[0] != c.shape[0] + 1 or np.any(np.diff(e) <= 0) or np.any(c < 0) \
                or not np.all(np.isfinite(c)) or c.sum() <= 0:
            raise ValueError("edges must be increasing with len(counts) + 1 values and "
                             "counts non-negative, not all zero")
        s_emp = 1.0 - np.cumsum(c) / c.sum()
        up = e[1:]
        keep = np.isfinite(up) & (s_emp > 0) & (up > 0)
        ax.plot(up[keep], s_emp[keep], "o", color="0.3", ms=4, label="binned")
        pos = e[e > 0]
        lo = pos[np.isfinite(pos)].min() if np.any(np.isfinite(pos)) else model.ppf(1e-3)
        hi = up[keep].max() if np.any(keep) else model.isf(1e-4)
    elif X is not None:
        times, surv = kaplan_meier(X, event_observed, entry)
        label = "empirical" if event_observed is None or np.all(event_observed) else "Kaplan-Meier"
        keep = surv > 0                     # log axis: the last step may reach 0
        ax.step(times[keep], surv[keep], where="post", color="0.2", lw=1.5, label=label,
                zorder=3)
        lo = max(times[times > 0].min() if np.any(times > 0) else model.ppf(1e-3), t0 or 0)
        hi = times.max()
    else:
        lo, hi = model.isf(np.array([0.999, 1e-4]))
    lo = max(lo, 1e-300)
    grid = np.geomspace(lo, hi * 1.5, _n_points(n_points))
    ax.plot(grid, np.exp(model.logsf(grid) - model.logsf(t0)), color="C3", lw=2,
            label="fitted")
    if components:
        for k, (w, mu) in enumerate(zip(model.weights_, model.rates_)):
            ax.plot(grid, w * np.exp(-mu * grid), lw=1, ls="--", label=f"component {k}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("x (log scale)")
    ax.set_ylabel("P(X > x)")
    ax.legend(fontsize="small")
    return ax


def plot_criteria(result: "SelectionResult", *, ax: Any = None,
                  criteria: Optional[Sequence[str]] = None) -> Any:
    """Information criteria against the number of components.

    Parameters
    ----------
    result : SelectionResult
        From :func:`expmix.select_components` (or any object with ``table``,
        a list of dicts with ``n_components`` and criterion columns, and
        ``best_n_components_``).
    ax : matplotlib Axes, optional
    criteria : sequence of str, optional
        Columns to draw (default: every criterion column present among
        "bic", "aic", "icl"); the one used for the choice is drawn bold.

    Returns
    -------
    matplotlib.axes.Axes
        One line per criterion labelled by its upper-case name, x = K;
        rows without a fit (degenerate, skipped) are NaN gaps.  The chosen K
        is marked with a vertical line.
    """
    if not hasattr(result, "table"):
        raise TypeError("result must be a SelectionResult (from expmix.select_components), "
                        f"got {type(result).__name__}")
    ax = _axes(ax)
    table = list(result.table)
    if not table:
        raise ValueError("the selection result has an empty table")
    if criteria is None:
        criteria = [c for c in ("bic", "aic", "icl") if c in table[0]]
    ks = np.array([row["n_components"] for row in table], dtype=float)
    chosen = str(getattr(result, "criterion", "bic")).lower()
    for c in criteria:
        if c not in table[0]:
            raise ValueError(f"criterion {c!r} is not in the table (columns: {sorted(table[0])})")
        v = np.array([row[c] if row[c] is not None else np.nan for row in table], dtype=float)
        ax.plot(ks, v, marker="o", lw=2.5 if c == chosen else 1.2, label=c.upper())
    best = getattr(result, "best_n_components_", None)
    if best is not None:
        ax.axvline(best, color="0.5", ls=":", label=f"selected K = {best}")
    ax.set_xlabel("number of components K")
    ax.set_ylabel("criterion (lower is better)")
    ax.set_xticks(ks)
    ax.legend(fontsize="small")
    return ax
