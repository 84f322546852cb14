r"""Choosing the number of components.

Criteria (lower is better; ``p = 2K - 1`` free parameters, ``n`` the total
weight of the observations, ``logL`` the observed-data log-likelihood of
whatever data kind was fitted -- exact, censored, binned or truncated):

* ``bic  = -2 logL + p log n``
* ``aic  = -2 logL + 2 p``
* ``aicc = aic + 2 p (p + 1) / (n - p - 1)`` (``inf`` when ``n <= p + 1``)
* ``icl  = bic + 2 E``, ``E = -sum_i v_i sum_k r_ik log r_ik`` the entropy of
  the responsibilities (Biernacki, Celeux & Govaert 2000); the
  responsibilities of a censored, binned or truncated observation are its
  posterior component probabilities given what was observed
  (``w_k L_ik / sum_j w_j L_ij``, the truncation factor cancels).
* ``lrt``: the parametric bootstrap likelihood-ratio test of K against K + 1
  (the next candidate, when the candidates skip a value) in sequence (McLachlan 1987; mclust's ``mclustBootstrapLRT``): starting at
  the smallest candidate, the statistic ``2 (logL_{K+1} - logL_K)`` is
  compared with its distribution over ``n_bootstrap`` data sets drawn from the
  fitted K-component model *with the observation scheme of the data* (see
  :mod:`expmix.inference`); the first K whose p-value exceeds ``alpha`` is
  selected.  The replicate fits run in parallel through the batch machinery
  with the GIL released.
"""
from __future__ import annotations

import concurrent.futures
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from . import inference as _inf
from ._init import kmeans_init, quantile_init_obs
from ._threads import effective_n_threads
from .exceptions import DegenerateFitError
from .mixture import BATCH_RESTART_MAX_OBS, ExponentialMixture, _rng
from .observations import Observations, from_histogram, from_intervals, from_samples

__all__ = ["select_components", "select_components_intervals", "select_components_histogram",
           "SelectionResult", "CRITERIA", "information_criteria", "bootstrap_lrt"]

CRITERIA = ("bic", "aic", "aicc", "icl", "lrt")
_SCORES = ("bic", "aic", "aicc", "icl")


def information_criteria(log_likelihood, n_components, n, entropy=0.0):
    """BIC, AIC, AICc and ICL from a log-likelihood.

    Parameters
    ----------
    log_likelihood : float
    n_components : int
        K; the number of free parameters is ``p = 2K - 1``.
    n : float
        Total weight of the observations.
    entropy : float
        Classification entropy of the responsibilities (for ICL).

    Returns
    -------
    dict with keys "bic", "aic", "aicc", "icl"
    """
    p = 2 * int(n_components) - 1
    ll = float(log_likelihood)
    bic = -2.0 * ll + p * np.log(n)
    aic = -2.0 * ll + 2.0 * p
    aicc = aic + 2.0 * p * (p + 1) / (n - p - 1) if n - p - 1 > 0 else np.inf
    return {"bic": bic, "aic": aic, "aicc": aicc, "icl": bic + 2.0 * float(entropy)}


@dataclass
class SelectionResult:
    """Result of :func:`select_components`.

    Attributes
    ----------
    best_ : ExponentialMixture
        The fitted model chosen by ``criterion``.
    best_n_components_ : int
    criterion : str
    table : list of dict
        One row per K: n_components, log_likelihood, n_parameters, bic, aic,
        aicc, icl, entropy, converged, status, weights, rates (and lrt_p_value,
        the p-value of the test of K against K + 1, when the LRT ran).
        Degenerate rows are excluded from the choice.
    models : dict
        K -> fitted ExponentialMixture (absent for degenerate K).
    n : float
        The n entering BIC (total weight).
    selected_ : dict
        criterion -> selected K, for every criterion computed.
    lrt : list of dict
        The bootstrap LRT steps (n_components, alternative, statistic,
        p_value, n_bootstrap, n_valid); empty unless criterion == "lrt".
    alpha : float or None
        Level of the LRT.
    """

    best_: ExponentialMixture
    best_n_components_: int
    criterion: str
    table: List[dict]
    models: Dict[int, ExponentialMixture] = field(repr=False)
    n: float = 0.0
    selected_: Dict[str, int] = field(default_factory=dict)
    lrt: List[dict] = field(default_factory=list)
    alpha: Optional[float] = None

    def to_frame(self):
        """The table as a pandas DataFrame (requires pandas)."""
        import pandas as pd
        return pd.DataFrame(self.table).set_index("n_components")

    def __str__(self):
        lines = ["  K   log-likelihood  params            BIC            AIC           AICc"
                 "            ICL  converged  status"]
        for row in self.table:
            mark = " *" if row["n_components"] == self.best_n_components_ else "  "
            lines.append(f"{mark}{row['n_components']:>2d} {row['log_likelihood']:>16.6f} "
                         f"{row['n_parameters']:>7d} {row['bic']:>14.4f} {row['aic']:>14.4f} "
                         f"{row['aicc']:>14.4f} {row['icl']:>14.4f} "
                         f"{str(row['converged']):>10s}  {row['status']}")
        for step in self.lrt:
            lines.append(f"  LRT {step['n_components']} vs {step['alternative']}: "
                         f"2 dlogL = {step['statistic']:.4f}, p = {step['p_value']:.4g} "
                         f"({step['n_valid']} replicates)")
        sel = ", ".join(f"{k.upper()}: {v}" for k, v in self.selected_.items())
        lines.append(f"(* = selected by {self.criterion.upper()}; n = {self.n:g}; selected K: {sel})")
        return "\n".join(lines)

    def plot(self, criteria=None, ax=None):
        """Draw each criterion against K (requires matplotlib).

        Parameters
        ----------
        criteria : list of str, optional
            Default: bic, aic, aicc, icl.  With "lrt" (after an LRT run) the
            p-values are drawn on a second axis.
        ax : matplotlib Axes, optional

        Returns
        -------
        matplotlib Axes
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("SelectionResult.plot needs matplotlib: pip install 'expmix[plot]'") from None
        crits = list(_SCORES) if criteria is None else [c.lower() for c in criteria]
        for c in crits:
            if c not in CRITERIA:
                raise ValueError(f"unknown criterion {c!r}; choose from {CRITERIA}")
        if ax is None:
            _, ax = plt.subplots()
        rows = [r for r in self.table if r["n_components"] in self.models]
        ks = [r["n_components"] for r in rows]
        for c in crits:
            if c == "lrt":
                continue
            vals = [r[c] for r in rows]
            line, = ax.plot(ks, vals, marker="o", label=c.upper())
            if c in self.selected_:
                kk = self.selected_[c]
                ax.plot([kk], [next(r[c] for r in rows if r["n_components"] == kk)], marker="*",
                        markersize=14, color=line.get_color())
        ax.set_xlabel("number of components K")
        ax.set_ylabel("criterion (lower is better)")
        ax.set_xticks(ks)
        if "lrt" in crits and self.lrt:
            ax2 = ax.twinx()
            ax2.plot([s["n_components"] for s in self.lrt], [s["p_value"] for s in self.lrt],
                     "k--s", label="LRT p-value (K vs K+1)")
            if self.alpha is not None:
                ax2.axhline(self.alpha, color="grey", lw=0.8)
            ax2.set_ylabel("bootstrap LRT p-value")
            ax2.set_ylim(0, 1)
        ax.legend()
        ax.set_title(f"selected K = {self.best_n_components_} ({self.criterion.upper()})")
        return ax


# ----------------------------------------------------------------------

def _fit_one(K, obs, kwargs, n_threads):
    model = ExponentialMixture(K, **{**kwargs, "n_threads": n_threads})
    try:
        model._fit(obs)
    except DegenerateFitError:
        return K, None
    return K, model


def _fit_candidates(obs, ks, kwargs):
    """Fit every candidate K.  Small data: the K's run on separate threads,
    each fit single-threaded (the C loop releases the GIL); large data: one
    after another, each block-parallel.  Never nested."""
    nt = effective_n_threads(kwargs.get("n_threads"))
    fits = {}
    per_k = {K: kwargs for K in ks}
    rs = kwargs.get("random_state")
    if isinstance(rs, (np.random.Generator, np.random.RandomState)):
        # a shared generator would be consumed in thread order: draw one seed
        # per K, in K order, so the result does not depend on the threads
        g = _rng(rs)
        per_k = {K: {**kwargs, "random_state": int(g.integers(2**63 - 1))} for K in ks}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if nt > 1 and len(ks) > 1 and obs.n_obs <= BATCH_RESTART_MAX_OBS:
            with concurrent.futures.ThreadPoolExecutor(max_workers=min(nt, len(ks))) as ex:
                for K, m in ex.map(lambda K: _fit_one(K, obs, per_k[K], 1), ks):
                    fits[K] = m
            for K, m in fits.items():
                if m is not None:
                    m.n_threads = kwargs.get("n_threads")
                    m.random_state = kwargs.get("random_state")
        else:
            for K in ks:
                fits[K] = _fit_one(K, obs, per_k[K], kwargs.get("n_threads"))[1]
    return fits


def _split_start(w, mu):
    """K+1 start: the heaviest component split into rates x2 and /2."""
    j = int(np.argmax(w))
    w1 = np.concatenate((w[:j], [w[j] / 2, w[j] / 2], w[j + 1:]))
    mu1 = np.concatenate((mu[:j], [mu[j] * 2.0, mu[j] / 2.0], mu[j + 1:]))
    return w1 / w1.sum(), mu1


def _quantile_start(K):
    def start(obs):
        return quantile_init_obs(obs, K)      # in C, on the segments in place
    return start


class _KmeansStart:
    """A k-means++ start drawn from a shared generator (called in a fixed
    order from the main thread, so the draws are reproducible)."""

    def __init__(self, K, rng):
        self.K = K
        self.rng = rng

    def __call__(self, obs):
        v, wt = obs.pseudo_values()
        return kmeans_init(v, wt, self.K, self.rng)


def bootstrap_lrt(obs: Observations, model0: ExponentialMixture, model1: ExponentialMixture, *,
                  n_bootstrap=99, random_state=None, n_threads=None, max_iter=1000, tol=1e-10,
                  n_kmeans=2):
    """Parametric bootstrap test of K (``model0``) against K1 > K components
    (``model1``, usually K + 1).

    Data sets are drawn from ``model0`` with the observation scheme of
    ``obs``; each is fitted with K components (started at ``model0``) and
    with K1 (started at ``model1``, at ``model0`` with its heaviest component
    split, at the quantile start and at ``n_kmeans`` k-means++ starts; with
    per-observation entry times both fits also start at the excess starts of
    a fresh fit and are polished, see :func:`expmix.inference.fit_many`; the
    best is kept).  The observed statistic is computed with the same starts
    (and the given fits), so that observed and replicate maxima are searched
    alike -- the test is only as good as that match.

    Returns
    -------
    dict: statistic, p_value = (1 + #{T_b >= T}) / (1 + n_valid),
    replicates (array of T_b), n_valid, n_bootstrap
    """
    n_bootstrap = _inf._check_int(n_bootstrap, "n_bootstrap")
    K = model0.n_components
    rng = _rng(random_state)
    nt = effective_n_threads(n_threads)
    w0, mu0 = model0.weights_.copy(), model0.rates_.copy()
    scheme = _inf._Scheme(obs)
    n_hint = sum(s[1].shape[0] for s in _inf._segments(obs))
    chunk = _inf.replicate_chunk(n_hint)
    starts0 = [(w0, mu0)]
    K1 = model1.n_components
    if K1 <= K:
        raise ValueError(f"model1 must have more components than model0 ({K1} <= {K})")
    split = (w0, mu0)
    for _ in range(K1 - K):
        split = _split_start(*split)
    starts1 = [(model1.weights_.copy(), model1.rates_.copy()), split, _quantile_start(K1)] + \
        [_KmeansStart(K1, rng) for _ in range(n_kmeans)]
    # the observed statistic gets the same starts as the replicates (and the
    # table fits), so that observed and replicate maxima are found alike
    r0 = _inf.fit_many([obs], K, starts0, n_threads=nt, max_iter=max_iter, tol=tol,
                       n_obs_hint=n_hint)
    r1 = _inf.fit_many([obs], K1, starts1, n_threads=nt, max_iter=max_iter, tol=tol,
                       n_obs_hint=n_hint)
    ll0 = max(model0.log_likelihood_, float(r0["loglik"][0]))
    ll1 = max(model1.log_likelihood_, float(r1["loglik"][0]), ll0)
    stat = 2.0 * (ll1 - ll0)
    T = []
    done = 0
    while done < n_bootstrap:
        m = min(chunk, n_bootstrap - done)
        data = [scheme.draw(rng, w0, mu0) for _ in range(m)]
        r0 = _inf.fit_many(data, K, starts0, n_threads=nt, max_iter=max_iter, tol=tol,
                           n_obs_hint=n_hint)
        r1 = _inf.fit_many(data, K1, starts1, n_threads=nt, max_iter=max_iter, tol=tol,
                           n_obs_hint=n_hint)
        for a, b in zip(r0["loglik"], r1["loglik"]):
            if np.isfinite(a):
                T.append(max(0.0, 2.0 * (max(a, b) - a)) if np.isfinite(b) else 0.0)
        done += m
    T = np.asarray(T)
    p = (1.0 + float(np.sum(T >= stat * (1 - 1e-12)))) / (1.0 + T.shape[0])
    return dict(statistic=stat, p_value=p, replicates=T, n_valid=int(T.shape[0]),
                n_bootstrap=n_bootstrap)


def _select(obs: Observations, n_components, criterion, kwargs, n_bootstrap=99, alpha=0.05,
            lrt_random_state=None) -> SelectionResult:
    if not isinstance(criterion, str) or criterion.lower() not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    criterion = criterion.lower()
    if isinstance(n_components, (numbers.Integral, str)):
        raise TypeError("n_components must be an iterable of ints (e.g. range(1, 7))")
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
    if criterion == "lrt":
        _inf._check_int(n_bootstrap, "n_bootstrap")
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
            raise ValueError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    n = obs.total_weight
    table, models = [], {}
    fits = _fit_candidates(obs, [K for K in ks if K <= obs.n_obs], kwargs)
    for K in ks:
        nan_row = dict(n_components=K, log_likelihood=np.nan, n_parameters=2 * K - 1,
                       bic=np.nan, aic=np.nan, aicc=np.nan, icl=np.nan, entropy=np.nan,
                       converged=False, weights=None, rates=None)
        if K > obs.n_obs:
            table.append(dict(nan_row, status="skipped (K > number of observations)"))
            continue
        model = fits[K]
        if model is None:
            table.append(dict(nan_row, status="degenerate"))
            continue
        ent = _inf.entropy(obs, model.weights_, model.rates_) if K > 1 else 0.0
        crit = information_criteria(model.log_likelihood_, K, n, ent)
        table.append(dict(n_components=K, log_likelihood=model.log_likelihood_,
                          n_parameters=model.n_parameters_, entropy=ent,
                          converged=model.converged_, status=model.status_,
                          weights=model.weights_.copy(), rates=model.rates_.copy(), **crit))
        models[K] = model
    usable = [r for r in table if r["n_components"] in models]
    if not usable:
        raise DegenerateFitError("no candidate number of components gave a usable fit")
    selected = {c: int(min(usable, key=lambda r: r[c])["n_components"]) for c in _SCORES}
    lrt_steps = []
    if criterion == "lrt":
        rng = _rng(lrt_random_state if lrt_random_state is not None else kwargs.get("random_state"))
        usable_ks = [r["n_components"] for r in usable]
        chosen = usable_ks[0]
        for i, K in enumerate(usable_ks):
            chosen = K
            if i + 1 >= len(usable_ks):
                break
            K1 = usable_ks[i + 1]         # the next candidate (usually K + 1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = bootstrap_lrt(obs, models[K], models[K1], n_bootstrap=n_bootstrap,
                                    random_state=rng, n_threads=kwargs.get("n_threads"),
                                    max_iter=int(kwargs.get("max_iter", 1000)),
                                    tol=float(kwargs.get("tol", 1e-10)))
            step = dict(n_components=K, alternative=K1, statistic=res["statistic"],
                        p_value=res["p_value"], n_bootstrap=n_bootstrap, n_valid=res["n_valid"])
            lrt_steps.append(step)
            next(r for r in table if r["n_components"] == K)["lrt_p_value"] = res["p_value"]
            if res["p_value"] > alpha:
                break
            chosen = K1
        selected["lrt"] = chosen
    best_k = selected[criterion]
    return SelectionResult(best_=models[best_k], best_n_components_=best_k, criterion=criterion,
                           table=table, models=models, n=n, selected_=selected, lrt=lrt_steps,
                           alpha=alpha if criterion == "lrt" else None)


_DOC_COMMON = """
    criterion : {"bic", "aic", "aicc", "icl", "lrt"}, default "bic"
        See :mod:`expmix.selection`.  Every criterion is computed for the
        table; ``criterion`` picks ``best_``.  "lrt" also runs the sequential
        bootstrap likelihood-ratio test.
    n_bootstrap : int, default 99
        Replicates per LRT step.
    alpha : float, default 0.05
        Level of each LRT step.
    lrt_random_state : optional
        Seed of the LRT replicates (default: ``random_state`` in kwargs).
    **kwargs
        Passed to :class:`ExponentialMixture` (n_init, tol, random_state,
        n_threads, ...).

    Returns
    -------
    SelectionResult
"""


def select_components(X, n_components=range(1, 7), criterion="bic", sample_weight=None, *,
                      event_observed=None, entry=None, n_bootstrap=99, alpha=0.05,
                      lrt_random_state=None, **kwargs) -> SelectionResult:
    """Fit each candidate number of components and choose by a criterion.

    Parameters
    ----------
    X, sample_weight, event_observed, entry
        As in :meth:`ExponentialMixture.fit`.
    n_components : iterable of int, default range(1, 7)
    """
    return _select(from_samples(X, sample_weight, event_observed, entry), n_components,
                   criterion, kwargs, n_bootstrap, alpha, lrt_random_state)


def select_components_intervals(lower, upper, n_components=range(1, 7), criterion="bic",
                                sample_weight=None, *, entry=None, n_bootstrap=99, alpha=0.05,
                                lrt_random_state=None, **kwargs) -> SelectionResult:
    """:func:`select_components` for interval-censored data (``lower ==
    upper`` exact, ``upper == inf`` right-censored).

    Parameters
    ----------
    lower, upper, sample_weight, entry
        As in :meth:`ExponentialMixture.fit_intervals`.
    n_components : iterable of int, default range(1, 7)
    """
    return _select(from_intervals(lower, upper, sample_weight, entry), n_components,
                   criterion, kwargs, n_bootstrap, alpha, lrt_random_state)


def select_components_histogram(edges, counts, n_components=range(1, 7), criterion="bic", *,
                                entry=None, n_bootstrap=99, alpha=0.05, lrt_random_state=None,
                                **kwargs) -> SelectionResult:
    """:func:`select_components` for binned data (n = total count).

    Parameters
    ----------
    edges, counts, entry
        As in :meth:`ExponentialMixture.fit_histogram`.
    n_components : iterable of int, default range(1, 7)
    """
    return _select(from_histogram(edges, counts, entry), n_components, criterion, kwargs,
                   n_bootstrap, alpha, lrt_random_state)


select_components.__doc__ += _DOC_COMMON
select_components_intervals.__doc__ += _DOC_COMMON
select_components_histogram.__doc__ += _DOC_COMMON


def select_observations(obs: Observations, n_components=range(1, 7), criterion="bic", *,
                        n_bootstrap=99, alpha=0.05, lrt_random_state=None, **kwargs) -> SelectionResult:
    """:func:`select_components` for an :class:`~expmix.observations.Observations` set."""
    return _select(obs, n_components, criterion, kwargs, n_bootstrap, alpha, lrt_random_state)
