r"""Goodness of fit of a fitted exponential mixture.

* Exact data (optionally weighted, optionally with a common dead time ``t``,
  where the fitted CDF is the conditional one ``1 - S(x) / S(t)``):
  Kolmogorov--Smirnov ``D = sup |F_n - F|`` and Cramér--von Mises
  ``W^2 = n \int (F_n - F)^2 dF`` (computed exactly for the weighted
  empirical CDF; for unit weights it is the textbook
  ``1/(12n) + sum_i (F(x_(i)) - (2i-1)/(2n))^2``).  Because the parameters
  were estimated, the classical null distributions do not apply: the
  p-values come from a parametric bootstrap that draws data sets from the
  fitted model, *refits* each one and recomputes the statistic
  (``p = (1 + #{T_b >= T}) / (1 + B)``).
* Exact and right-censored data with any truncation (a dead time or an entry
  time per row): each row is mapped by the fitted CDF conditional on its
  own entry time, ``u_i = 1 - S(x_i) / S(t_i)`` (uniform under the model,
  whatever ``t_i``; a censored row is censored at ``u(c_i)``), and the same
  two distances are taken between the Kaplan--Meier estimate of the
  distribution of the ``u_i`` and the uniform CDF, on ``[0, u_max]``
  (:func:`km_statistics`; without censoring it is the EDF and the
  statistics above).  The bootstrap redraws with the observation scheme of
  the data (each row above its entry time, censored as the data are; see
  :mod:`expmix.inference`) and refits as a fresh fit does.
* Binned data (a histogram, possibly with an open last bin and a dead time):
  Pearson's ``X^2 = sum_j (O_j - E_j)^2 / E_j`` over the bins (empty bins
  included), with the asymptotic chi-square p-value on
  ``bins - 1 - (2K - 1)`` degrees of freedom and, if ``n_bootstrap > 0``, a
  parametric-bootstrap p-value (multinomial redraws into the same bins,
  refitted).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import distributions as _dist
from . import inference as _inf
from ._init import quantile_init_obs
from ._threads import effective_n_threads
from .mixture import _rng
from .observations import Observations

__all__ = ["goodness_of_fit", "GoodnessOfFitResult", "ks_statistic", "cvm_statistic",
           "km_statistics", "chi2_sf"]


# ----------------------------------------------------------------------
# chi-square survival function (regularized upper incomplete gamma), no scipy

def _gammaq(a, x):
    """Q(a, x) = Gamma(a, x) / Gamma(a): series for x < a + 1, continued
    fraction (modified Lentz) otherwise."""
    if x <= 0:
        return 1.0
    lg = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = 1.0 / a
        s = term
        ap = a
        for _ in range(10000):
            ap += 1.0
            term *= x / ap
            s += term
            if abs(term) < abs(s) * 1e-16:
                break
        return max(0.0, 1.0 - s * math.exp(lg))
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return math.exp(lg) * h


def chi2_sf(x, df):
    """Survival function of the chi-square distribution, P(X^2_df > x)."""
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df!r}")
    return _gammaq(0.5 * df, 0.5 * float(x))


# ----------------------------------------------------------------------
# statistics

def _sorted_u(x, v, w, mu, t):
    order = np.argsort(x, kind="stable")
    xs = x[order]
    vs = np.ones(x.shape[0]) if v is None else v[order]
    if t > 0:
        u = -np.expm1(_dist.logsf(xs, w, mu) - _dist.logsf(np.array([t]), w, mu)[0])
    else:
        u = _dist.cdf(xs, w, mu)
    return np.clip(u, 0.0, 1.0), vs


def ks_statistic(u, v):
    """KS distance between the weighted EDF of sorted CDF values ``u``
    (weights ``v``) and the uniform CDF."""
    V = v.sum()
    hi = np.cumsum(v) / V
    lo = hi - v / V
    return float(max(np.max(hi - u), np.max(u - lo), 0.0))


def cvm_statistic(u, v):
    """``V * int_0^1 (G_n(u) - u)^2 du`` for the weighted EDF ``G_n`` of the
    sorted values ``u`` (weights ``v``, total ``V``), computed exactly."""
    V = v.sum()
    c = np.concatenate(([0.0], np.cumsum(v) / V))       # EDF level on each segment
    knots = np.concatenate(([0.0], u, [1.0]))
    a, b = knots[:-1], knots[1:]
    seg = ((b - c) ** 3 - (a - c) ** 3) / 3.0
    return float(V * np.sum(seg))


def _exact_stats(obs: Observations, w, mu):
    t = _inf._dead_time(obs) or 0.0
    u, v = _sorted_u(obs.exact, obs.exact_w, w, mu, t)
    return ks_statistic(u, v), cvm_statistic(u, v)


def _pit(obs: Observations, w, mu):
    """Probability integral transform of the exact and right-censored rows
    under the fitted mixture conditional on each row's entry time,
    ``u = 1 - S(x) / S(t)``: (u, weights, event) in the order exact, right."""
    segs = [(x, v, e) for x, v, e in ((obs.exact, obs.exact_w, True),
                                      (obs.right, obs.right_w, False)) if x is not None]
    n_rows = sum(x.shape[0] for x, _, _ in segs)
    t, _ = _inf._row_entries(obs, n_rows)
    x = np.concatenate([x for x, _, _ in segs])
    v = np.concatenate([np.ones(x.shape[0]) if v is None else v for x, v, _ in segs])
    ev = np.concatenate([np.full(x.shape[0], e) for x, _, e in segs])
    with np.errstate(divide="ignore", invalid="ignore"):
        u = -np.expm1(_dist.logsf(x, w, mu) - _dist.logsf(t, w, mu))
    return np.clip(np.where(np.isfinite(u), u, 1.0), 0.0, 1.0), v, ev


def km_statistics(u, v, event):
    """KS and Cramér--von Mises distances between the (weighted)
    Kaplan--Meier estimate G of the distribution of right-censored values
    ``u`` in [0, 1] (weights ``v``, ``event`` False where censored) and the
    uniform CDF, on [0, u_max] (``u_max`` the largest value; the whole of
    [0, 1] when G reaches 1, i.e. the largest value is an event):
    ``D = sup |G(u) - u|``, ``W^2 = V int (G(u) - u)^2 du`` (V the total
    weight).  Without censoring these are :func:`ks_statistic` and
    :func:`cvm_statistic` of the sorted values."""
    u = np.asarray(u, float)
    v = np.asarray(v, float)
    event = np.asarray(event, bool)
    # ties: events before censorings (a censored unit is at risk at its time)
    order = np.lexsort((~event, u))
    u, v, event = u[order], v[order], event[order]
    V = float(v.sum())
    at_risk = V - np.concatenate(([0.0], np.cumsum(v)[:-1]))
    uniq, first = np.unique(u, return_index=True)
    d = np.add.reduceat(np.where(event, v, 0.0), first)
    Y = at_risk[first]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(Y > 0, d / Y, 0.0)
    surv = np.cumprod(1.0 - np.minimum(h, 1.0))
    jump = d > 0
    knots = uniq[jump]
    G = 1.0 - surv[jump]
    end = 1.0 if (G.shape[0] and G[-1] >= 1.0 - 1e-15) else float(u[-1])
    a = np.concatenate(([0.0], knots))
    b = np.concatenate((knots, [end]))
    c = np.concatenate(([0.0], G))
    D = float(max(np.max(np.abs(c - a)), np.max(np.abs(c - b)), 0.0))
    W2 = float(V * np.sum(((b - c) ** 3 - (a - c) ** 3) / 3.0))
    return D, W2


def _stats(obs: Observations, w, mu):
    """(KS, CvM) of exact data (a common dead time allowed: the EDF of
    :func:`_exact_stats`), else of the Kaplan--Meier estimate of the
    probability integral transforms given each row's entry time."""
    if obs.right is None and (obs.trunc is None or _inf._dead_time(obs) is not None):
        return _exact_stats(obs, w, mu)
    return km_statistics(*_pit(obs, w, mu))


def _chi2_parts(obs: Observations, cells, w, mu, t):
    cl, cu = cells
    O = np.zeros(cl.shape[0])
    for lo, hi, v in ((obs.lower, obs.upper, obs.interval_w),
                      (obs.right, None, obs.right_w)):
        if lo is None:
            continue
        vv = np.ones(lo.shape[0]) if v is None else v
        for a, b, c in zip(lo, (np.full(lo.shape[0], np.inf) if hi is None else hi), vv):
            j = int(np.flatnonzero((cl == a) & (cu == b))[0])
            O[j] += c
    p = _inf._cell_probs(cl, cu, w, mu, t)
    E = O.sum() * p
    with np.errstate(divide="ignore", invalid="ignore"):
        X2 = float(np.sum(np.where(E > 0, (O - E) ** 2 / E, np.where(O > 0, np.inf, 0.0))))
    return O, E, X2


@dataclass
class GoodnessOfFitResult:
    """Result of :func:`goodness_of_fit`.

    Attributes
    ----------
    kind : str
        "exact" or "censored" (KS and Cramér--von Mises; of the
        Kaplan--Meier estimate for censored data) or "binned" (chi-square).
    ks, ks_p_value, cvm, cvm_p_value : float
        Statistics and parametric-bootstrap p-values (exact and censored
        data; NaN else).
    chi2, df, chi2_p_value, chi2_bootstrap_p_value : float
        Pearson statistic, degrees of freedom, asymptotic and bootstrap
        p-values (binned data; NaN else or when not computed).
    observed, expected : ndarray or None
        Bin counts and their expectations under the fit (binned data).
    n_bootstrap, n_valid : int
        Replicates drawn and replicates whose refit succeeded.
    replicates : dict
        The bootstrap statistics.
    """

    kind: str
    ks: float = np.nan
    ks_p_value: float = np.nan
    cvm: float = np.nan
    cvm_p_value: float = np.nan
    chi2: float = np.nan
    df: float = np.nan
    chi2_p_value: float = np.nan
    chi2_bootstrap_p_value: float = np.nan
    observed: Optional[np.ndarray] = None
    expected: Optional[np.ndarray] = None
    n_bootstrap: int = 0
    n_valid: int = 0
    replicates: dict = field(default_factory=dict, repr=False)

    def __str__(self):
        if self.kind in ("exact", "censored"):
            return (f"goodness of fit ({self.kind} data, {self.n_valid} bootstrap refits)\n"
                    f"  Kolmogorov-Smirnov D = {self.ks:.6g}, p = {self.ks_p_value:.4g}\n"
                    f"  Cramer-von Mises W2 = {self.cvm:.6g}, p = {self.cvm_p_value:.4g}")
        return (f"goodness of fit (binned data)\n  Pearson X2 = {self.chi2:.6g} on {self.df:g} df, "
                f"p = {self.chi2_p_value:.4g} (asymptotic), {self.chi2_bootstrap_p_value:.4g} "
                f"(bootstrap, {self.n_valid} refits)")


def _p(T, stat):
    T = np.asarray(T)
    return (1.0 + float(np.sum(T >= stat * (1 - 1e-12)))) / (1.0 + T.shape[0])


def goodness_of_fit(model, *, n_bootstrap=199, random_state=None, n_threads=None) -> GoodnessOfFitResult:
    """Goodness of fit of a fitted :class:`ExponentialMixture` to its data.

    Parameters
    ----------
    model : ExponentialMixture
        A fitted model; the test uses the data it was fitted to.
    n_bootstrap : int, default 199
        Parametric-bootstrap replicates (each refitted with the model's K,
        started at the fitted parameters and at the quantile start; with
        per-observation entry times also at the excess starts of a fresh fit,
        and finished by its Newton polish, see
        :func:`expmix.inference.fit_many`).  For binned data 0 skips the
        bootstrap (asymptotic p-value only).
    random_state : optional
        Seed of the replicates (default: the model's ``random_state``).
    n_threads : int or None
        Threads for the refits (default: the model's); results do not depend
        on it.

    Returns
    -------
    GoodnessOfFitResult

    Raises
    ------
    ValueError
        For data that are neither exact/right-censored (any truncation) nor
        a histogram: general interval-censored data have no test here; also
        for an observation set built by hand that does not record which
        entry time belongs to which row.
    """
    from .mixture import ExponentialMixture
    if not isinstance(model, ExponentialMixture):
        raise TypeError(f"model must be a fitted ExponentialMixture, got {type(model).__name__}")
    model._check_fitted()
    obs = getattr(model, "_obs", None)
    if obs is None:
        raise ValueError("the model does not record its fitted data; refit it")
    from .inference import _check_int
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be an int >= 0, got {n_bootstrap!r}")
    n_bootstrap = int(n_bootstrap)
    w, mu = model.weights_.copy(), model.rates_.copy()
    K = w.shape[0]
    rng = _rng(model.random_state if random_state is None else random_state)
    nt = effective_n_threads(model.n_threads if n_threads is None else n_threads)
    trunc_ok = obs.trunc is None or _inf._dead_time(obs) is not None
    # exact and right-censored rows, any truncation whose rows are known
    event_data = obs.lower is None and obs.exact is not None
    cells = _inf._histogram_cells(obs)
    starts = [(w, mu), lambda o: quantile_init_obs(o, K)]
    n_hint = sum(s[1].shape[0] for s in _inf._segments(obs))
    if event_data:
        if n_bootstrap < 1:
            raise ValueError("exact data need n_bootstrap >= 1 (censored ones too: the "
                             "p-values are bootstrap ones)")
        kind = "exact" if obs.right is None else "censored"
        ks, cvm = _stats(obs, w, mu)          # (a ValueError if rows lack entry times)
        scheme = _inf._Scheme(obs)
        Tks, Tcvm = [], []
        chunk = _inf.replicate_chunk(n_hint)
        done = 0
        while done < n_bootstrap:
            m = min(chunk, n_bootstrap - done)
            data = [scheme.draw(rng, w, mu) for _ in range(m)]
            r = _inf.fit_many(data, K, starts, n_threads=nt, max_iter=int(model.max_iter),
                              tol=float(model.tol), n_obs_hint=n_hint)
            for d, ll, wb, mb in zip(data, r["loglik"], r["w"], r["mu"]):
                if np.isfinite(ll):
                    a, b = _stats(d, wb, mb)
                    Tks.append(a)
                    Tcvm.append(b)
            done += m
        return GoodnessOfFitResult(kind=kind, ks=ks, ks_p_value=_p(Tks, ks), cvm=cvm,
                                   cvm_p_value=_p(Tcvm, cvm), n_bootstrap=n_bootstrap,
                                   n_valid=len(Tks),
                                   replicates=dict(ks=np.asarray(Tks), cvm=np.asarray(Tcvm)))
    if cells is not None and trunc_ok:
        t = _inf._dead_time(obs) or 0.0
        O, E, X2 = _chi2_parts(obs, cells, w, mu, t)
        df = cells[0].shape[0] - 1 - (2 * K - 1)
        if df > 0:
            p_asym = chi2_sf(X2, df)
        else:
            p_asym = np.nan
            warnings.warn(f"{cells[0].shape[0]} bins leave no degrees of freedom for a "
                          f"{K}-component fit (2K - 1 = {2 * K - 1} parameters): no asymptotic "
                          "p-value", RuntimeWarning, stacklevel=2)
        if np.any(E < 5) and df > 0:
            warnings.warn("some bins expect fewer than 5 counts: the asymptotic chi-square "
                          "p-value is unreliable; use the bootstrap p-value", RuntimeWarning,
                          stacklevel=2)
        Tb = []
        if n_bootstrap > 0:
            scheme = _inf._Scheme(obs)
            chunk = _inf.replicate_chunk(n_hint)
            done = 0
            while done < n_bootstrap:
                m = min(chunk, n_bootstrap - done)
                data = [scheme.draw(rng, w, mu) for _ in range(m)]
                r = _inf.fit_many(data, K, starts, n_threads=nt, max_iter=int(model.max_iter),
                                  tol=float(model.tol), n_obs_hint=n_hint)
                for d, ll, wb, mb in zip(data, r["loglik"], r["w"], r["mu"]):
                    if np.isfinite(ll):
                        Tb.append(_chi2_parts(d, cells, wb, mb, t)[2])
                done += m
        return GoodnessOfFitResult(kind="binned", chi2=X2, df=float(df), chi2_p_value=p_asym,
                                   chi2_bootstrap_p_value=_p(Tb, X2) if Tb else np.nan,
                                   observed=O, expected=E, n_bootstrap=n_bootstrap,
                                   n_valid=len(Tb), replicates=dict(chi2=np.asarray(Tb)))
    raise ValueError("goodness_of_fit handles exact and right-censored data (weights and "
                     "entry times allowed) and binned data (a histogram, at most a common dead "
                     f"time); these data are {'/'.join(obs.kinds) or 'of another kind'} (general "
                     "interval-censored data have no test here)")
