"""Choosing the number of components by information criteria."""
from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from .exceptions import DegenerateFitError
from .mixture import ExponentialMixture
from .observations import Observations, from_histogram, from_intervals, from_samples

__all__ = ["select_components", "SelectionResult", "CRITERIA"]

CRITERIA = ("bic", "aic")


@dataclass
class SelectionResult:
    """Result of :func:`select_components`.

    Attributes
    ----------
    best_ : ExponentialMixture
        The fitted model with the best criterion.
    best_n_components_ : int
    criterion : str
    table : list of dict
        One row per K: n_components, log_likelihood, n_parameters, bic, aic,
        converged, status ("degenerate" rows are excluded from the choice).
    models : dict
        K -> fitted ExponentialMixture (absent for degenerate K).
    n : float
        The n entering BIC (total weight).
    """

    best_: ExponentialMixture
    best_n_components_: int
    criterion: str
    table: List[dict]
    models: Dict[int, ExponentialMixture] = field(repr=False)
    n: float = 0.0

    def to_frame(self):
        """The table as a pandas DataFrame (requires pandas)."""
        import pandas as pd
        return pd.DataFrame(self.table).set_index("n_components")

    def __str__(self):
        cols = ["n_components", "log_likelihood", "n_parameters", "bic", "aic", "converged", "status"]
        lines = ["  K   log-likelihood   params            BIC            AIC  converged  status"]
        for row in self.table:
            mark = " *" if row["n_components"] == self.best_n_components_ else "  "
            lines.append(f"{mark}{row['n_components']:>2d} {row['log_likelihood']:>16.6f} "
                         f"{row['n_parameters']:>8d} {row['bic']:>14.4f} {row['aic']:>14.4f} "
                         f"{str(row['converged']):>10s}  {row['status']}")
        lines.append(f"(* = selected by {self.criterion.upper()}; n = {self.n:g})")
        del cols
        return "\n".join(lines)


def _criteria(ll, p, n):
    return {"bic": -2.0 * ll + p * np.log(n), "aic": -2.0 * ll + 2.0 * p}


def _select(obs: Observations, n_components, criterion, kwargs) -> SelectionResult:
    if not isinstance(criterion, str) or criterion.lower() not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    criterion = criterion.lower()
    try:
        cand = list(n_components)
    except TypeError:
        raise TypeError("n_components must be an iterable of ints (e.g. range(1, 7))") from None
    if isinstance(n_components, (str, bytes)) or any(
            isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) for k in cand):
        raise TypeError("n_components must be an iterable of ints (e.g. range(1, 7)), "
                        f"got {n_components!r}")
    ks = sorted(set(int(k) for k in cand))
    if not ks:
        raise ValueError("n_components is empty")
    if ks[0] < 1:
        raise ValueError(f"n_components must be >= 1, got {ks[0]}")
    if "n_components" in kwargs:
        raise TypeError("pass the candidate numbers of components as n_components, not in **kwargs")
    n = obs.total_weight
    table, models = [], {}
    for K in ks:
        if K > obs.n_obs:
            table.append(dict(n_components=K, log_likelihood=np.nan, n_parameters=2 * K - 1,
                              bic=np.nan, aic=np.nan, converged=False,
                              status="skipped (K > number of observations)"))
            continue
        model = ExponentialMixture(K, **kwargs)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model._fit(obs)
        except DegenerateFitError:
            table.append(dict(n_components=K, log_likelihood=np.nan, n_parameters=2 * K - 1,
                              bic=np.nan, aic=np.nan, converged=False, status="degenerate"))
            continue
        crit = _criteria(model.log_likelihood_, model.n_parameters_, n)
        table.append(dict(n_components=K, log_likelihood=model.log_likelihood_,
                          n_parameters=model.n_parameters_, converged=model.converged_,
                          status=model.status_, **crit))
        models[K] = model
    usable = [r for r in table if r["n_components"] in models]
    if not usable:
        raise DegenerateFitError("no candidate number of components gave a usable fit")
    best = min(usable, key=lambda r: r[criterion])
    return SelectionResult(best_=models[best["n_components"]],
                           best_n_components_=best["n_components"], criterion=criterion,
                           table=table, models=models, n=n)


def select_components(X, n_components=range(1, 7), criterion="bic", sample_weight=None, *,
                      event_observed=None, entry=None, **kwargs) -> SelectionResult:
    """Fit each candidate number of components and choose by a criterion.

    Parameters
    ----------
    X, sample_weight, event_observed, entry
        As in :meth:`ExponentialMixture.fit`.
    n_components : iterable of int, default range(1, 7)
    criterion : {"bic", "aic"}, default "bic"
        BIC = -2 logL + p log n, AIC = -2 logL + 2p, with p = 2K - 1 and n
        the total weight (number of observations when unweighted).
    **kwargs
        Passed to :class:`ExponentialMixture` (n_init, tol, random_state, ...).

    Returns
    -------
    SelectionResult
    """
    return _select(from_samples(X, sample_weight, event_observed, entry), n_components,
                   criterion, kwargs)


def select_components_intervals(lower, upper, n_components=range(1, 7), criterion="bic",
                                sample_weight=None, *, entry=None, **kwargs) -> SelectionResult:
    """:func:`select_components` for interval-censored data."""
    return _select(from_intervals(lower, upper, sample_weight, entry), n_components,
                   criterion, kwargs)


def select_components_histogram(edges, counts, n_components=range(1, 7), criterion="bic", *,
                                entry=None, **kwargs) -> SelectionResult:
    """:func:`select_components` for binned data (n = total count)."""
    return _select(from_histogram(edges, counts, entry), n_components, criterion, kwargs)
