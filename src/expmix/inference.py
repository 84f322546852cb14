r"""Uncertainty of a fitted exponential mixture: observed information, Wald,
bootstrap and profile-likelihood intervals, and simulation under the fitted
model with the observation scheme of the data.

Parametrization
---------------
A fitted model has weights ``w_1..w_K`` and rates ``mu_1..mu_K`` in the order
of the estimator (decreasing rate).  The free parameter vector is

.. math:: \theta = (w_1, \dots, w_{K-1}, \mu_1, \dots, \mu_K), \qquad
          w_K = 1 - \sum_{j<K} w_j,

(``2K - 1`` numbers).  :func:`observed_information` returns
``-d^2 logL / d theta^2`` in this parametrization, and the covariance is its
inverse.  Standard errors of ``w_K`` and of the means ``1/mu_k`` follow by the
delta method.

The Hessian
-----------
Every observation contributes ``v_i log sum_k w_k L_ik``; a truncation pair
(entry time ``t``, weight ``v``) contributes ``-v log sum_k w_k e^{-mu_k t}``.
With ``r_ik`` the responsibilities, ``a_ik = d log L_ik / d mu_k`` and
``b_ik = d^2 log L_ik / d mu_k^2``, the per-observation gradient in
``phi = (w_1..w_K, mu_1..mu_K)`` is ``g = (r_k / w_k, r_k a_k)`` and the
Hessian is ``D - g g^T`` where ``D`` is zero except
``D[w_k, mu_k] = r_k a_k / w_k`` and ``D[mu_k, mu_k] = r_k (b_k + a_k^2)``.
Per kind (``d = upper - lower``, ``u = e^{-mu d}``):

=============  ===========================  =================================
kind           a = d log L / d mu           b = d^2 log L / d mu^2
=============  ===========================  =================================
exact x        1/mu - x                     -1/mu^2
right c        -c                           0
interval a<b   -lower + d u / (1 - u)       -d^2 u / (1 - u)^2
truncation t   -t (term enters with -v)     0
=============  ===========================  =================================

The sum runs over blocks of observations (O(block * K^2) memory, O(N K^2)
time); ``H_theta = A^T H_phi A`` with the linear map ``A`` of the constraint.

Simulating the observation scheme
---------------------------------
:func:`simulate_like` draws a data set of the same design from a mixture
``(w, mu)``:

* exact rows: each row is redrawn once and keeps its weight;
* right censoring: each row has a potential censoring time, a censored row its
  own ``c_i`` and an observed row one drawn at random from the observed
  censoring times above its value (none above: uncensored).  A common
  censoring time (a recording window) is thus reproduced exactly.  With
  per-observation entry times the censoring times are compared and drawn
  either on the clock (``c``) or measured from each row's entry time
  (``c - t``; an observed row then gets ``t_i + (c_j - t_j)`` for a censored
  row j with ``c_j - t_j >= x_i - t_i``), on whichever scale the censoring
  times of the data vary less (standard deviation): a common end of study
  is reproduced exactly on the clock, a follow-up window of fixed length
  after each entry exactly from the entry.  The draw is observed if it falls
  below its censoring time, else censored there;
* histograms (disjoint intervals -- identical intervals, such as values
  rounded to a grid, count as one bin -- possibly with an open last bin): the total
  count is spread over the same bins -- the given ones, the gaps between them
  (empty bins that were dropped) and the open last bin -- by a multinomial
  with the model's bin probabilities conditional on the covered range;
* other interval-censored rows (per-row inspection times): a draw below the
  row's lower bound becomes the interval (entry, lower), one inside stays the
  same interval, one above becomes right-censored at the upper bound;
* truncation: every draw is made above the row's entry time (by
  memorylessness: a component chosen with probability
  ``w_k e^{-mu_k t} / S(t)``, then ``t + Exp(mu_k)``); the truncation pairs
  are kept.  Per-observation entry times are paired with rows through the
  entry time of each row that :func:`~expmix.observations.from_samples` and
  :func:`~expmix.observations.from_intervals` record (``exact_t``,
  ``right_t``, ``interval_t``), for any mix of kinds; a replicate records
  its rows' entry times too.  Only an observation set built by hand with
  nothing but the truncation pairs and several kinds of rows (or entry
  times of 0 mixed with positive ones) cannot be reproduced (ValueError).

The nonparametric bootstrap (:func:`resample_like`) redraws rows, each with
its own entry time.

Refitting replicates
--------------------
:func:`fit_many` refits replicates of data with per-observation entry times
as a fresh :class:`~expmix.ExponentialMixture` fit does (measured from the
smallest entry time, at most 300 EM passes, Newton polish of every sound
run) from the estimate *and* the starts of a fresh fit (the quantile start
and the three excess starts of :func:`expmix._init.excess_starts`).  On far
entry times (t = T U^2, T = 60 and 200, K = 2 and 3, windows of 6;
parametric and nonparametric replicates, 100 per configuration, 800 in all;
``tools/measure_refit_starts.py``) EM alone from the estimate (the refit
before) ended below the best refit in all 800; the estimate alone with the
polish in 0--14 per 100, the fresh starts alone in 0--2 per 100 (5 in all),
both in 2 of 800, at 6--14 times the cost of the estimate alone (EM passes
and polishes of more starts; starts that EM takes to the same point are
polished once).
"""
from __future__ import annotations

import numbers
import statistics
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import _core
from ._threads import effective_n_threads
from .observations import Observations

__all__ = ["observed_information", "StandardErrors", "ConfidenceIntervals", "BootstrapResult",
           "standard_errors", "wald_confint", "profile_confint", "bootstrap", "simulate_like",
           "resample_like", "SingularInformationWarning"]

BLOCK = 8192
#: replicates whose data fit in this many doubles are held in memory together
_CHUNK_DOUBLES = 20_000_000
#: observations above which bootstrap replicates are fitted one after another
#: with a block-parallel pass, instead of many single-threaded fits at once
BATCH_MAX_OBS = 200_000


class SingularInformationWarning(UserWarning):
    """The observed information is singular or nearly so (components that
    merge, a weight at the boundary): some standard errors are undefined."""


# ----------------------------------------------------------------------
# small numerical helpers (no scipy at run time)

def _norm_ppf(p):
    return statistics.NormalDist().inv_cdf(float(p))


def _norm_cdf(z):
    return statistics.NormalDist().cdf(float(z))


def _check_level(level):
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1, got {level!r}")
    return float(level)


def _check_int(v, name, lo=1):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    return int(v)


def _rng(random_state):
    from .mixture import _rng as mrng
    return mrng(random_state)


def _softmax_rows(a):
    m = np.max(a, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(a - m)
    return e / e.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------
# blocks of observations

def _segments(obs: Observations):
    """(kind, values, second, weights) for the exact, right, interval segments."""
    out = []
    if obs.exact is not None and obs.exact.shape[0]:
        out.append(("exact", obs.exact, None, obs.exact_w))
    if obs.right is not None and obs.right.shape[0]:
        out.append(("right", obs.right, None, obs.right_w))
    if obs.lower is not None and obs.lower.shape[0]:
        out.append(("interval", obs.lower, obs.upper, obs.interval_w))
    return out


def _sub_obs(kind, x, y, v):
    if kind == "exact":
        return Observations(exact=x, exact_w=v, n_obs=x.shape[0])
    if kind == "right":
        return Observations(right=x, right_w=v, n_obs=x.shape[0])
    return Observations(lower=x, upper=y, interval_w=v, n_obs=x.shape[0])


def iter_blocks(obs: Observations, w, mu, block: int = BLOCK):
    """Yield ``(kind, x, y, v, log_joint)`` over blocks of the exact, right and
    interval segments; ``log_joint[i, k] = log w_k + log L_ik`` from the C
    core and ``v`` the weights (an array)."""
    w = np.ascontiguousarray(w, dtype=np.float64)
    mu = np.ascontiguousarray(mu, dtype=np.float64)
    for kind, X, Y, V in _segments(obs):
        n = X.shape[0]
        for s in range(0, n, block):
            e = min(n, s + block)
            x = X[s:e]
            y = None if Y is None else Y[s:e]
            v = np.ones(e - s) if V is None else V[s:e]
            lj = _core.log_joint(_sub_obs(kind, x, y, None if V is None else v), w, mu)
            yield kind, x, y, v, lj


def responsibilities(obs: Observations, w, mu, block: int = BLOCK):
    """Yield ``(v, r)`` blocks of weights and responsibilities (posterior
    component probabilities of each observation; truncation cancels)."""
    for _, _, _, v, lj in iter_blocks(obs, w, mu, block):
        yield v, _softmax_rows(lj)


def entropy(obs: Observations, w, mu) -> float:
    """Weighted classification entropy ``-sum_i v_i sum_k r_ik log r_ik``."""
    tot = 0.0
    for v, r in responsibilities(obs, w, mu):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(r > 0, r * np.log(r), 0.0)
        tot -= float(np.sum(v * t.sum(axis=1)))
    return tot


def _derivs(kind, x, y, mu):
    """a = d log L / d mu, b = d^2 log L / d mu^2, arrays (m, K)."""
    if kind == "exact":
        a = 1.0 / mu[None, :] - x[:, None]
        b = np.broadcast_to(-1.0 / mu ** 2, a.shape)
    elif kind in ("right", "trunc"):
        a = np.broadcast_to(-x[:, None], (x.shape[0], mu.shape[0]))
        b = np.zeros_like(a)
    else:
        d = (y - x)[:, None]
        z = d * mu[None, :]
        u = np.exp(-z)
        om = -np.expm1(-z)          # 1 - u, exact for small z
        a = -x[:, None] + d * u / om
        b = -(d * d) * u / (om * om)
    return a, b


def _score_blocks(obs: Observations, w, mu, block: int = BLOCK):
    """Yield (v, r, a, b, sign) blocks, truncation included (sign -1)."""
    w = np.asarray(w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    for kind, x, y, v, lj in iter_blocks(obs, w, mu, block):
        a, b = _derivs(kind, x, y, mu)
        yield v, _softmax_rows(lj), a, b, 1.0
    if obs.trunc is not None and obs.trunc.shape[0]:
        T = obs.trunc
        V = obs.trunc_w
        lw = np.log(w)
        for s in range(0, T.shape[0], block):
            e = min(T.shape[0], s + block)
            t = T[s:e]
            v = np.ones(e - s) if V is None else V[s:e]
            lj = lw[None, :] - np.multiply.outer(t, mu)
            a, b = _derivs("trunc", t, None, mu)
            yield v, _softmax_rows(lj), a, b, -1.0


def _constraint_matrix(K):
    """A (2K x 2K-1): phi = (w_1..w_K, mu_1..mu_K) as a function of theta."""
    A = np.zeros((2 * K, 2 * K - 1))
    for j in range(K - 1):
        A[j, j] = 1.0
        A[K - 1, j] = -1.0
    for k in range(K):
        A[K + k, K - 1 + k] = 1.0
    return A


def loglik_derivatives(obs: Observations, w, mu, block: int = BLOCK):
    """Gradient and Hessian of the observed-data log-likelihood.

    Parameters
    ----------
    obs : Observations
    w, mu : array-like (K,)
        Weights (summing to 1) and rates.
    block : int
        Observations per block (memory is O(block K^2)).

    Returns
    -------
    grad : ndarray (2K - 1,)
    hess : ndarray (2K - 1, 2K - 1)
        In the parametrization ``theta = (w_1..w_{K-1}, mu_1..mu_K)``.
    """
    G, H = _raw_derivatives(obs, w, mu, block)
    A = _constraint_matrix(np.asarray(w).shape[0])
    return A.T @ G, A.T @ H @ A


def _raw_derivatives(obs: Observations, w, mu, block: int = BLOCK):
    """Gradient (2K,) and Hessian (2K, 2K) in phi = (w_1..w_K, mu_1..mu_K),
    the weights treated as free (no constraint applied)."""
    w = np.asarray(w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    K = w.shape[0]
    G = np.zeros(2 * K)
    H = np.zeros((2 * K, 2 * K))
    idx = np.arange(K)
    for v, r, a, b, sign in _score_blocks(obs, w, mu, block):
        g = np.concatenate((r / w[None, :], r * a), axis=1)
        vs = sign * v
        G += vs @ g
        H -= (g * vs[:, None]).T @ g
        dwm = vs @ (r * a) / w
        dmm = vs @ (r * (b + a * a))
        H[idx, K + idx] += dwm
        H[K + idx, idx] += dwm
        H[K + idx, K + idx] += dmm
    return G, H


def observed_information(obs: Observations, w, mu, block: int = BLOCK):
    """Observed information ``-d^2 logL / d theta^2`` at ``(w, mu)``, in the
    parametrization ``theta = (w_1..w_{K-1}, mu_1..mu_K)``."""
    return -loglik_derivatives(obs, w, mu, block)[1]


def _influence_moments(obs, w, mu, cov, grads):
    """Infinitesimal-jackknife influence moments for BCa: for each function
    gradient c (rows of grads, in theta), U_i = c^T cov s_i with s_i the score
    of observation i; returns (sum v U^2, sum v U^3).  Truncation pairs are
    attached to the observations (common dead time: spread by weight)."""
    K = w.shape[0]
    A = _constraint_matrix(K)
    M = A @ cov @ grads.T              # (2K, m)
    s2 = np.zeros(grads.shape[0])
    s3 = np.zeros(grads.shape[0])
    tot = obs.total_weight
    trunc_score = None
    row_t = None
    dead = _dead_time(obs)
    if dead is not None:
        # a common dead time: the term -V log S(t) is shared by every unit
        # in proportion to its weight
        lj = np.log(w) - mu * dead
        rt = np.exp(lj - lj.max())
        rt /= rt.sum()
        trunc_score = -(np.concatenate((rt / w, rt * -dead)))
    elif obs.trunc is not None and obs.trunc.shape[0]:
        n_rows = sum(s[1].shape[0] for s in _segments(obs))
        row_t, _ = _row_entries(obs, n_rows, "")
    off = 0
    for v, r, a, b, sign in _score_blocks(Observations(
            exact=obs.exact, exact_w=obs.exact_w, right=obs.right, right_w=obs.right_w,
            lower=obs.lower, upper=obs.upper, interval_w=obs.interval_w), w, mu):
        g = np.concatenate((r / w[None, :], r * a), axis=1)
        if trunc_score is not None:
            g = g + trunc_score[None, :]
        elif row_t is not None:
            t = row_t[off:off + g.shape[0]]
            lj = np.log(w)[None, :] - np.multiply.outer(t, mu)
            rt = _softmax_rows(lj)
            g = g - np.concatenate((rt / w[None, :], rt * -t[:, None]), axis=1)
        off += g.shape[0]
        U = g @ M
        s2 += v @ (U * U)
        s3 += v @ (U * U * U)
    return s2, s3


# ----------------------------------------------------------------------
# covariance with singularity handling

def _boundary_components(w, tol=1e-8):
    return [k for k in range(w.shape[0]) if w[k] < tol]


def covariance_from_information(info, w, *, cond_max=1e10, warn=True):
    """Invert the information; NaN rows/columns where it is singular.

    The information is scaled to unit diagonal; eigen-directions whose
    eigenvalue is below ``max_eigenvalue / cond_max`` are treated as
    undefined, and every parameter with a loading above 1e-6 on such a
    direction gets NaN variance.  A weight below 1e-8 (a component at the
    boundary of the parameter space) makes its component's parameters NaN.

    Returns
    -------
    cov : ndarray (p, p)
    undefined : ndarray of bool (p,)
    """
    info = np.asarray(info, dtype=np.float64)
    p = info.shape[0]
    K = (p + 1) // 2
    undefined = np.zeros(p, dtype=bool)
    reasons = []
    for k in _boundary_components(w):
        if k < K - 1:
            undefined[k] = True
        undefined[K - 1 + k] = True
        reasons.append(f"the weight of component {k} is at the boundary ({w[k]:.3g})")
    if not np.all(np.isfinite(info)):
        undefined[:] = True
        reasons.append("the information matrix is not finite")
    d = np.diag(info).copy()
    bad_diag = ~(d > 0)
    if bad_diag.any():
        undefined |= bad_diag
        reasons.append("some parameters carry no information")
    keep = np.flatnonzero(~undefined)
    cov = np.full((p, p), np.nan)
    if keep.size:
        sub = info[np.ix_(keep, keep)]
        s = 1.0 / np.sqrt(np.diag(sub))
        C = sub * s[:, None] * s[None, :]
        evals, evecs = np.linalg.eigh(C)
        top = max(float(evals[-1]), 1e-300)
        if evals[0] < -1e-8 * top:
            reasons.append("the information is not positive definite (the fit is not at a "
                           "maximum: not converged, or a saddle point)")
        null = evals < top / cond_max
        if null.any():
            load = np.abs(evecs[:, null]).max(axis=1)
            und_sub = load > 1e-6
            reasons.append("the information is (nearly) singular, condition number "
                           f"{top / max(float(evals[0]), 1e-300):.3g} (components that merge or "
                           "are not identified)")
            ok = ~null
            Ci = (evecs[:, ok] / evals[ok]) @ evecs[:, ok].T
        else:
            und_sub = np.zeros(keep.size, dtype=bool)
            Ci = (evecs / evals) @ evecs.T
        sub_cov = Ci * s[:, None] * s[None, :]
        sub_cov[und_sub, :] = np.nan
        sub_cov[:, und_sub] = np.nan
        cov[np.ix_(keep, keep)] = sub_cov
        undefined[keep[und_sub]] = True
        dg = np.diag(cov)
        negvar = np.isfinite(dg) & ~(dg >= 0)
        if negvar.any():
            undefined |= negvar
            cov[negvar, :] = np.nan
            cov[:, negvar] = np.nan
    if warn and reasons:
        warnings.warn("standard errors are undefined for some parameters (set to NaN): "
                      + "; ".join(reasons), SingularInformationWarning, stacklevel=3)
    return cov, undefined


@dataclass
class StandardErrors:
    """Standard errors of a fitted mixture (NaN where undefined).

    Attributes
    ----------
    weights, rates, means : ndarray (K,)
        In the order of the estimator (decreasing rate).  ``means`` by the
        delta method, se(1/mu) = se(mu) / mu^2.
    log_rates : ndarray (K,)
        se(log mu) = se(mu) / mu (used for the Wald intervals).
    covariance : ndarray (2K - 1, 2K - 1)
        Inverse observed information in theta = (w_1..w_{K-1}, mu_1..mu_K).
    information : ndarray (2K - 1, 2K - 1)
    """

    weights: np.ndarray
    rates: np.ndarray
    means: np.ndarray
    log_rates: np.ndarray
    covariance: np.ndarray = field(repr=False)
    information: np.ndarray = field(repr=False)

    def __str__(self):
        lines = ["  k      se(weight)        se(rate)        se(mean)"]
        for k in range(self.rates.shape[0]):
            lines.append(f"{k:>3d} {self.weights[k]:>15.6g} {self.rates[k]:>15.6g} "
                         f"{self.means[k]:>15.6g}")
        return "\n".join(lines)


def standard_errors(obs: Observations, w, mu, *, warn=True) -> StandardErrors:
    """Observed-information standard errors at ``(w, mu)`` (see module docs)."""
    w = np.asarray(w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    K = w.shape[0]
    info = observed_information(obs, w, mu)
    cov, undefined = covariance_from_information(info, w, warn=warn)
    A = _constraint_matrix(K)
    # covariance of phi (2K x 2K); a phi depending on an undefined theta is undefined
    full = A @ np.where(np.isnan(cov), 0.0, cov) @ A.T
    und_phi = (np.abs(A[:, undefined]) > 0).any(axis=1)
    full[und_phi, :] = np.nan
    full[:, und_phi] = np.nan
    with np.errstate(invalid="ignore"):
        sw = np.sqrt(np.diag(full)[:K])
        sm = np.sqrt(np.diag(full)[K:])
    if K == 1:
        sw = np.zeros(1)
    return StandardErrors(weights=sw, rates=sm, means=sm / mu ** 2, log_rates=sm / mu,
                          covariance=cov, information=info)


# ----------------------------------------------------------------------
# intervals

@dataclass
class ConfidenceIntervals:
    """Confidence intervals for weights, rates and means.

    Attributes
    ----------
    weights, rates, means : ndarray (K, 2)
        Lower and upper bounds, components in the estimator's order.
    level : float
    method : str
        "wald", "profile", "bootstrap-percentile", "bootstrap-bca".
    """

    weights: np.ndarray
    rates: np.ndarray
    means: np.ndarray
    level: float
    method: str

    def __str__(self):
        lines = [f"{100 * self.level:g}% confidence intervals ({self.method})",
                 "  k              weight                        rate"
                 "                        mean"]
        for k in range(self.rates.shape[0]):
            f = lambda a: f"[{a[0]:.5g}, {a[1]:.5g}]"
            lines.append(f"{k:>3d}  {f(self.weights[k]):>26s}  {f(self.rates[k]):>26s}  "
                         f"{f(self.means[k]):>26s}")
        return "\n".join(lines)


def _mean_from_rate_interval(ci):
    with np.errstate(divide="ignore"):
        return np.column_stack((1.0 / ci[:, 1], 1.0 / ci[:, 0]))


def wald_confint(se: StandardErrors, w, mu, level=0.95) -> ConfidenceIntervals:
    """Wald intervals: on log mu for rates (and means), on logit w for
    weights, so that they stay inside the parameter space."""
    level = _check_level(level)
    z = _norm_ppf(0.5 + level / 2)
    w = np.asarray(w, float)
    mu = np.asarray(mu, float)
    rates = np.column_stack((mu * np.exp(-z * se.log_rates), mu * np.exp(z * se.log_rates)))
    K = w.shape[0]
    if K == 1:
        weights = np.array([[1.0, 1.0]])
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.log(w) - np.log1p(-w)
            sl = se.weights / (w * (1 - w))
            weights = np.column_stack((1 / (1 + np.exp(-(lg - z * sl))),
                                       1 / (1 + np.exp(-(lg + z * sl)))))
    return ConfidenceIntervals(weights=weights, rates=rates, means=_mean_from_rate_interval(rates),
                               level=level, method="wald")


# ----------------------------------------------------------------------
# constrained EM and profile likelihood

def _constrained_mstep(R, X, fix_kind, k, value):
    R = np.maximum(R, 1e-300)
    if fix_kind == "rate":
        w = R / R.sum()
        mu = R / X
        mu[k] = value
    else:
        others = np.arange(R.shape[0]) != k
        w = np.empty_like(R)
        w[others] = (1.0 - value) * R[others] / R[others].sum()
        w[k] = value
        mu = R / X
    return w, mu


def constrained_fit(obs: Observations, w, mu, fix_kind, k, value, *, tol=1e-12,
                    max_iter=20000, n_threads=1):
    """Maximize the log-likelihood with one parameter held fixed.

    EM with SQUAREM acceleration (monotone safeguard) in Python over the C
    pass.  With ``mu_k`` fixed the M-step of the other rates and all weights
    is the usual closed form; with ``w_k`` fixed the other weights are
    ``(1 - w_k) R_j / sum_{i != k} R_i``.

    Returns
    -------
    (loglik, w, mu, converged)
    """
    w = np.array(w, dtype=np.float64)
    mu = np.array(mu, dtype=np.float64)
    K = w.shape[0]
    if fix_kind == "rate":
        mu[k] = value
    else:
        others = np.arange(K) != k
        w[others] = (1 - value) * w[others] / w[others].sum()
        w[k] = value

    def F(w, mu):
        ll, tw, R, X = _core.pass_stats(obs, w, mu, n_threads)
        return ll, _constrained_mstep(R, X, fix_kind, k, value)

    def to_th(w, mu):
        return np.concatenate((np.log(w), np.log(mu)))

    def from_th(th):
        lw = th[:K].copy()
        mu = np.exp(th[K:])
        if fix_kind == "rate":
            mu[k] = value
            ww = np.exp(lw - lw.max())
            ww /= ww.sum()
        else:
            others = np.arange(K) != k
            ww = np.empty(K)
            e = np.exp(lw[others] - lw[others].max())
            ww[others] = (1 - value) * e / e.sum()
            ww[k] = value
        return ww, mu

    def safe_ll(w, mu):
        try:
            return _core.pass_stats(obs, w, mu, n_threads)[0]
        except (FloatingPointError, ValueError):
            return -np.inf

    ll0, (w1, mu1) = F(w, mu)
    scale = max(obs.total_weight, 1.0)
    converged = False
    it = 0
    while it < max_iter:
        ll1, (w2, mu2) = F(w1, mu1)
        th0, th1, th2 = to_th(w, mu), to_th(w1, mu1), to_th(w2, mu2)
        r = th1 - th0
        vv = th2 - 2 * th1 + th0
        nr, nv = np.linalg.norm(r), np.linalg.norm(vv)
        cand = None
        if nv > 0 and np.isfinite(nv):
            alpha = -max(1.0, min(nr / nv, 1e4))
            th = th0 - 2 * alpha * r + alpha * alpha * vv
            if np.all(np.isfinite(th)):
                wc, muc = from_th(th)
                llc = safe_ll(wc, muc)
                if llc >= ll0:
                    cand = (wc, muc)
        it += 3
        if cand is None:
            cand = (w2, mu2)
        llc, (wn, mun) = F(*cand)
        done = abs(llc - ll0) <= tol * scale
        w, mu, ll0 = cand[0], cand[1], llc
        w1, mu1 = wn, mun
        if done:
            converged = True
            break
    return float(ll0), w, mu, converged


def _chi2_1_quantile(level):
    z = _norm_ppf(0.5 + level / 2)
    return z * z


def _profile_bound(obs, w_hat, mu_hat, ll_hat, fix_kind, k, side, q, step, n_threads):
    """One bound of the profile interval on the working scale psi (log mu or
    logit w); returns the parameter value or the boundary of its space."""
    if fix_kind == "rate":
        psi0 = np.log(mu_hat[k])
        to_val = np.exp
        lim = (0.0, np.inf)
    else:
        psi0 = np.log(w_hat[k]) - np.log1p(-w_hat[k])
        to_val = lambda p: 1.0 / (1.0 + np.exp(-p))
        lim = (0.0, 1.0)
    state = {"w": w_hat.copy(), "mu": mu_hat.copy()}

    def h(psi):
        ll, w, mu, _ = constrained_fit(obs, state["w"], state["mu"], fix_kind, k,
                                       float(to_val(psi)), n_threads=n_threads)
        if np.isfinite(ll):
            state["w"], state["mu"] = w, mu
        return 2.0 * (ll_hat - ll) - q

    lo_psi, lo_h = psi0, -q
    hi_psi = None
    d = step
    for _ in range(30):
        p = psi0 + side * d
        hp = h(p)
        if hp > 0:
            hi_psi, hi_h = p, hp
            break
        lo_psi, lo_h = p, hp
        d *= 2.0
        if d > 60:
            break
    if hi_psi is None:
        return lim[1] if side > 0 else lim[0], False
    # Illinois (regula falsi) on [lo_psi, hi_psi]
    a, fa, b, fb = lo_psi, lo_h, hi_psi, hi_h
    side_kept = 0
    for _ in range(100):
        c = b - fb * (b - a) / (fb - fa) if fb != fa else 0.5 * (a + b)
        if not (min(a, b) < c < max(a, b)):
            c = 0.5 * (a + b)
        fc = h(c)
        if fc == 0 or abs(b - a) < 1e-10 * max(1.0, abs(c)):
            a = b = c
            break
        if (fc > 0) == (fb > 0):
            b, fb = c, fc
            if side_kept == -1:
                fa *= 0.5
            side_kept = -1
        else:
            a, fa = c, fc
            if side_kept == 1:
                fb *= 0.5
            side_kept = 1
        if abs(b - a) < 1e-9 * max(1.0, abs(a)):
            break
    return float(to_val(0.5 * (a + b))), True


def profile_confint(obs: Observations, w, mu, ll_hat, level=0.95, *, se: Optional[StandardErrors] = None,
                    n_threads=1) -> ConfidenceIntervals:
    """Profile-likelihood intervals for every rate and weight.

    For each parameter the set ``{psi : 2 (logL_hat - max logL | psi) <=
    chi2_1(level)}``; the constrained maxima come from :func:`constrained_fit`,
    the bounds from a bracketing search on log mu (logit w) followed by the
    Illinois method.  A bound that is never reached (the likelihood stays
    within the drop up to the edge of the parameter space) is reported as 0,
    inf (rates) or 0, 1 (weights), with a warning.  Means are the inverted
    rate intervals (profile intervals are invariant under reparametrization).
    """
    level = _check_level(level)
    w = np.asarray(w, float)
    mu = np.asarray(mu, float)
    K = w.shape[0]
    q = _chi2_1_quantile(level)
    if sum(s[1].shape[0] for s in _segments(obs)) < 4 * _core.BLOCK_SIZE:
        n_threads = 1       # a parallel region costs more than a pass over a few blocks
    rates = np.empty((K, 2))
    weights = np.empty((K, 2))
    open_ends = []
    for k in range(K):
        st = 0.1
        if se is not None and np.isfinite(se.log_rates[k]) and se.log_rates[k] > 0:
            st = float(se.log_rates[k])
        for j, side in enumerate((-1, 1)):
            rates[k, j], ok = _profile_bound(obs, w, mu, ll_hat, "rate", k, side, q, st, n_threads)
            if not ok:
                open_ends.append(f"rate {k} {'lower' if side < 0 else 'upper'}")
        if K == 1:
            weights[k] = (1.0, 1.0)
            continue
        st = 0.1
        if se is not None and np.isfinite(se.weights[k]) and se.weights[k] > 0:
            st = float(se.weights[k] / (w[k] * (1 - w[k])))
        for j, side in enumerate((-1, 1)):
            weights[k, j], ok = _profile_bound(obs, w, mu, ll_hat, "weight", k, side, q, st, n_threads)
            if not ok:
                open_ends.append(f"weight {k} {'lower' if side < 0 else 'upper'}")
    if open_ends:
        warnings.warn("the profile likelihood does not drop by chi2/2 before the edge of the "
                      "parameter space for: " + ", ".join(open_ends) +
                      " (the bound is reported as the edge: the parameter is poorly identified)",
                      SingularInformationWarning, stacklevel=3)
    return ConfidenceIntervals(weights=weights, rates=rates, means=_mean_from_rate_interval(rates),
                               level=level, method="profile")


# ----------------------------------------------------------------------
# simulation under the fitted model with the same observation scheme

def _weights_of(x, v):
    return np.ones(x.shape[0]) if v is None else v


def _draw_above(rng, t, w, mu):
    """One draw per entry time t (array) from the mixture conditional on X > t."""
    t = np.asarray(t, dtype=np.float64)
    n = t.shape[0]
    if n == 0:
        return np.zeros(0)
    lw = np.log(w)[None, :] - np.multiply.outer(t, mu)
    p = _softmax_rows(lw)
    c = np.cumsum(p, axis=1)
    u = rng.random(n)
    lab = np.minimum((u[:, None] > c).sum(axis=1), w.shape[0] - 1)
    return t + rng.standard_exponential(n) / mu[lab]


def _dead_time(obs: Observations):
    """The common dead time if the truncation is one pair carrying the total
    weight (as ``entry=<scalar>`` produces), else None."""
    if obs.trunc is None or obs.trunc.shape[0] != 1:
        return None
    tw = 1.0 if obs.trunc_w is None else float(obs.trunc_w[0])
    tot = obs.total_weight
    if abs(tw - tot) <= 1e-9 * max(tot, 1.0):
        return float(obs.trunc[0])
    return None


def _recorded_row_entries(obs: Observations):
    """Entry time of every row, in the order exact, right, interval (0 for
    rows without truncation), from the row entry times the builders record
    (:attr:`Observations.has_row_entries`); None when they are not recorded."""
    if not obs.has_row_entries:
        return None
    parts = [t for x, t in ((obs.exact, obs.exact_t), (obs.right, obs.right_t),
                            (obs.lower, obs.interval_t)) if x is not None and x.shape[0]]
    t = np.concatenate(parts) if parts else np.zeros(0)
    off = float(obs.row_entry_offset)
    if off != 0.0:          # the data were shifted by off (Observations.shifted)
        t = np.maximum(t - off, 0.0)
    return t


def _row_entries(obs: Observations, n_rows: int, kind: str = ""):
    """``(entries, dead)``: the entry time of each row (order exact, right,
    interval) and the common dead time (None for per-observation entries).

    Per-observation entry times come from the row entry times recorded by
    :func:`~expmix.observations.from_samples` and
    :func:`~expmix.observations.from_intervals` (any mix of kinds), or, for an
    observation set built by hand with one kind of observation and one
    truncation pair per row, from the pairs in row order.  Otherwise the
    pairing of entry times with rows is unknown: ValueError."""
    if obs.trunc is None or obs.trunc.shape[0] == 0:
        return np.zeros(n_rows), None
    dead = _dead_time(obs)
    if dead is not None:
        return np.full(n_rows, dead), dead
    rec = _recorded_row_entries(obs)
    if rec is not None and rec.shape[0] == n_rows:
        return rec, None
    segs = _segments(obs)
    if len(segs) == 1 and obs.trunc.shape[0] == n_rows:
        return obs.trunc.copy(), None
    raise ValueError("these observations have per-observation entry times but do not record "
                     "which entry time belongs to which row (an Observations object built by "
                     "hand, with only the truncation pairs trunc/trunc_w, and several kinds of "
                     "observations or entry times of 0 mixed with positive ones), so the "
                     "bootstrap cannot reproduce the observation scheme.  Build the data with "
                     "from_samples/from_intervals (or the estimator's fit methods), which record "
                     "the entry time of each row (exact_t, right_t, interval_t), or use Wald or "
                     "profile intervals")


def _set_row_entries(o: Observations, entries, masks, v) -> None:
    """Give the replicate ``o`` the per-observation truncation of its rows:
    ``entries`` (all rows) split by ``masks`` (exact, right, interval) into
    its row entry times, the truncation pairs (entry > 0, weight ``v`` or 1)
    and, when every row is truncated, the smallest entry time as its common
    dead time (as the builders of :mod:`expmix.observations` do)."""
    keep = entries > 0
    if not keep.any():
        return
    o.trunc = np.ascontiguousarray(entries[keep])
    o.trunc_w = None if v is None else np.ascontiguousarray(v[keep])
    for name, m in zip(("exact_t", "right_t", "interval_t"), masks):
        if m is not None and m.any():
            setattr(o, name, np.ascontiguousarray(entries[m]))
    if keep.all():
        o.dead_time = float(np.min(entries))


def _histogram_cells(obs: Observations):
    """If the interval rows form a histogram (disjoint bins, an optional open
    last bin as right-censored rows at the top edge, no exact rows), return
    (lower_edges, upper_edges) of all cells including gaps; else None."""
    if obs.lower is None or obs.exact is not None:
        return None
    # identical intervals (rounded values on a grid) are one bin
    pairs = np.unique(np.column_stack((obs.lower, obs.upper)), axis=0)
    lo, hi = pairs[:, 0], pairs[:, 1]
    if np.any(lo[1:] < hi[:-1]):
        return None
    top = hi[-1]
    if obs.right is not None:
        cs = np.unique(obs.right)
        if cs.shape[0] != 1 or cs[0] < top:
            return None
    cl, cu = [lo[0]], [hi[0]]
    for i in range(1, lo.shape[0]):
        if lo[i] > cu[-1]:
            cl.append(cu[-1])
            cu.append(lo[i])
        cl.append(lo[i])
        cu.append(hi[i])
    if obs.right is not None:
        c = float(obs.right[0])
        if c > cu[-1]:
            cl.append(cu[-1])
            cu.append(c)
        cl.append(c)
        cu.append(np.inf)
    return np.asarray(cl), np.asarray(cu)


def _is_integral(v):
    return v is None or bool(np.all(v == np.rint(v)))


def _cell_probs(cl, cu, w, mu, t):
    from . import distributions as _dist
    ls = lambda x: _dist.logsf(np.asarray(x, float), w, mu)
    a = np.exp(ls(cl) - ls(t))
    b = np.where(np.isinf(cu), 0.0, np.exp(ls(np.where(np.isinf(cu), 0.0, cu)) - ls(t)))
    p = np.maximum(a - b, 0.0)
    return p / p.sum()


class _Scheme:
    """How to redraw a data set like ``obs`` (see the module docstring)."""

    def __init__(self, obs: Observations):
        self.obs = obs
        self.hist = _histogram_cells(obs)
        tot_int = (obs.interval_w.sum() if obs.interval_w is not None else
                   (obs.lower.shape[0] if obs.lower is not None else 0))
        if self.hist is not None:
            n_total = tot_int + (0 if obs.right is None else _weights_of(obs.right, obs.right_w).sum())
            if not (_is_integral(obs.interval_w) and _is_integral(obs.right_w)):
                self.hist = None
            else:
                self.n_total = int(round(n_total))
        if self.hist is not None:
            self.t = 0.0
            if obs.trunc is not None and obs.trunc.shape[0]:
                dead = _dead_time(obs)
                if dead is None:
                    self.hist = None
                else:
                    self.t = dead
        if self.hist is None:
            segs = _segments(obs)
            n_rows = sum(s[1].shape[0] for s in segs)
            kind = segs[0][0] if len(segs) == 1 else "mixed"
            self.entries, self.dead = _row_entries(obs, n_rows, kind)
            # rows in order exact, right, interval
            xs, kinds, ys, vs = [], [], [], []
            for kd, x, y, v in segs:
                xs.append(x)
                ys.append(np.full(x.shape[0], np.nan) if y is None else y)
                kinds.append(np.full(x.shape[0], {"exact": 0, "right": 1, "interval": 2}[kd]))
                vs.append(_weights_of(x, v))
            self.x = np.concatenate(xs)
            self.y = np.concatenate(ys)
            self.kind = np.concatenate(kinds)
            self.v = np.concatenate(vs)
            self.weighted = any(s[3] is not None for s in segs)
            # potential censoring times of the exact rows: drawn from the
            # censoring times of the censored rows, on the clock (c) or
            # measured from each row's entry time (c - t), whichever scale
            # the censoring times vary less on (see the module docstring)
            isr = self.kind == 1
            cens = self.x[isr]
            self.cens_from_entry = False
            if cens.shape[0] and np.any(self.entries > 0):
                exc = cens - self.entries[isr]
                self.cens_from_entry = bool(np.std(exc) <= np.std(cens))
                if self.cens_from_entry:
                    cens = exc
            self.cens_sorted = np.sort(cens)

    def draw(self, rng, w, mu) -> Observations:
        w = np.asarray(w, float)
        mu = np.asarray(mu, float)
        if self.hist is not None:
            cl, cu = self.hist
            p = _cell_probs(cl, cu, w, mu, self.t)
            counts = rng.multinomial(self.n_total, p).astype(np.float64)
            nz = counts > 0
            iv = nz & np.isfinite(cu)
            rc = nz & np.isinf(cu)
            o = Observations(n_obs=int(nz.sum()))
            if iv.any():
                o.lower = np.ascontiguousarray(cl[iv])
                o.upper = np.ascontiguousarray(cu[iv])
                o.interval_w = np.ascontiguousarray(counts[iv])
            if rc.any():
                o.right = np.ascontiguousarray(cl[rc])
                o.right_w = np.ascontiguousarray(counts[rc])
            if self.t > 0:
                o.trunc = np.array([self.t])
                o.trunc_w = np.array([float(self.n_total)])
            o.kinds = tuple(k for k, a in (("interval", o.lower), ("right", o.right)) if a is not None) \
                + (("truncated",) if self.t > 0 else ())
            return o
        n = self.x.shape[0]
        T = _draw_above(rng, self.entries, w, mu)
        # potential censoring times
        C = np.full(n, np.inf)
        isr = self.kind == 1
        C[isr] = self.x[isr]
        ise = self.kind == 0
        cs = self.cens_sorted
        if cs.shape[0] and ise.any():
            xe = self.x[ise]
            if self.cens_from_entry:
                te = self.entries[ise]
                xe = xe - te
            start = np.searchsorted(cs, xe, side="left")    # censoring times >= x
            m = cs.shape[0] - start
            pick = np.full(xe.shape[0], np.inf)
            has = m > 0
            if has.any():
                j = start[has] + (rng.random(int(has.sum())) * m[has]).astype(np.int64)
                pick[has] = cs[np.minimum(j, cs.shape[0] - 1)]
            if self.cens_from_entry:
                pick = te + pick
            C[ise] = pick
        out_lo = np.empty(n)
        out_hi = np.empty(n)
        pt = (self.kind != 2)
        ev = pt & (T <= C)
        out_lo[ev] = T[ev]
        out_hi[ev] = T[ev]
        ce = pt & ~ev
        out_lo[ce] = C[ce]
        out_hi[ce] = np.inf
        ivm = self.kind == 2
        if ivm.any():
            a, b, t = self.x[ivm], self.y[ivm], self.entries[ivm]
            Ti = T[ivm]
            lo = np.where(Ti < a, t, np.where(Ti < b, a, b))
            hi = np.where(Ti < a, a, np.where(Ti < b, b, np.inf))
            out_lo[ivm] = lo
            out_hi[ivm] = hi
        return _assemble(out_lo, out_hi, self.v if self.weighted else None, self.entries,
                         self.dead)


def _assemble(lo, hi, v, entries, dead) -> Observations:
    ex = lo == hi
    rc = np.isinf(hi)
    iv = ~ex & ~rc
    o = Observations(n_obs=lo.shape[0])
    kinds = []
    for name, m in (("exact", ex), ("right", rc)):
        if m.any():
            setattr(o, name, np.ascontiguousarray(lo[m]))
            setattr(o, name + "_w", None if v is None else np.ascontiguousarray(v[m]))
            kinds.append(name)
    if iv.any():
        o.lower = np.ascontiguousarray(lo[iv])
        o.upper = np.ascontiguousarray(hi[iv])
        o.interval_w = None if v is None else np.ascontiguousarray(v[iv])
        kinds.append("interval")
    if dead is not None and dead > 0:
        o.trunc = np.array([dead])
        o.trunc_w = np.array([float(lo.shape[0]) if v is None else float(v.sum())])
        kinds.append("truncated")
    elif dead is None and np.any(entries > 0):
        # per-observation entry times: the pairs (entry, weight) of the
        # likelihood and each row's entry time (refit starts, resampling)
        _set_row_entries(o, entries, (ex, rc, iv), v)
        kinds.append("truncated")
    o.kinds = tuple(kinds)
    return o


def simulate_like(obs: Observations, w, mu, random_state=None) -> Observations:
    """Draw a data set with the observation scheme of ``obs`` from the
    mixture ``(w, mu)`` (see the module docstring for each scheme)."""
    return _Scheme(obs).draw(_rng(random_state), w, mu)


# ----------------------------------------------------------------------
# nonparametric resampling (multinomial reweighting)

class _Resampler:
    """Bootstrap resampling of the observations as multinomial weights."""

    def __init__(self, obs: Observations):
        self.obs = obs
        segs = _segments(obs)
        self.segs = segs
        self.v = np.concatenate([_weights_of(s[1], s[3]) for s in segs])
        self.sizes = [s[1].shape[0] for s in segs]
        n_rows = int(sum(self.sizes))
        self.dead = None
        self.entries = None
        if obs.trunc is not None and obs.trunc.shape[0]:
            self.dead = _dead_time(obs)
            if self.dead is None:
                self.entries, _ = _row_entries(obs, n_rows, "")
        self.freq = _is_integral(self.v) and self.v.sum() < 2 ** 62
        self.n_draw = int(round(self.v.sum())) if self.freq else n_rows

    def draw(self, rng) -> Observations:
        v = self.v
        if self.freq:
            cnt = rng.multinomial(self.n_draw, v / v.sum()).astype(np.float64)
        else:
            cnt = rng.multinomial(self.n_draw, np.full(v.shape[0], 1.0 / v.shape[0])) * v
        o = Observations(n_obs=int(np.count_nonzero(cnt)))
        s = 0
        kinds = []
        for (kind, x, y, _), m in zip(self.segs, self.sizes):
            c = cnt[s:s + m]
            nz = c > 0
            s += m
            if not nz.any():
                continue
            kinds.append(kind)
            if kind == "exact":
                o.exact, o.exact_w = np.ascontiguousarray(x[nz]), np.ascontiguousarray(c[nz])
            elif kind == "right":
                o.right, o.right_w = np.ascontiguousarray(x[nz]), np.ascontiguousarray(c[nz])
            else:
                o.lower, o.upper = np.ascontiguousarray(x[nz]), np.ascontiguousarray(y[nz])
                o.interval_w = np.ascontiguousarray(c[nz])
        if self.dead is not None:
            o.trunc = np.array([self.dead])
            o.trunc_w = np.array([float(cnt.sum())])
            kinds.append("truncated")
        elif self.entries is not None:
            # each drawn row keeps its own entry time
            nz = cnt > 0
            seg_of = np.repeat(np.arange(len(self.sizes)), self.sizes)[nz]
            kind_of = [s[0] for s in self.segs]
            masks = tuple(None if k not in kind_of else seg_of == kind_of.index(k)
                          for k in ("exact", "right", "interval"))
            _set_row_entries(o, self.entries[nz], masks, cnt[nz])
            if o.trunc is not None:
                kinds.append("truncated")
        o.kinds = tuple(kinds)
        return o


def resample_like(obs: Observations, random_state=None) -> Observations:
    """One nonparametric bootstrap replicate of ``obs`` as multinomial
    weights: integer (frequency) weights resample units with probability
    proportional to their weight; other weights resample rows uniformly and
    multiply the row weight by its count."""
    return _Resampler(obs).draw(_rng(random_state))


# ----------------------------------------------------------------------
# fitting many replicates

def _per_row_truncated(d: Observations) -> bool:
    """Whether ``d`` has per-observation entry times recorded row by row
    (then a fit shifts by the smallest entry time, adds the excess starts,
    caps EM and polishes: see :func:`fit_many`)."""
    return d.trunc is not None and d.has_row_entries and _dead_time(d) is None


def _fresh_starts(ds: Observations, K: int):
    """The data-driven starts of a fresh ``ExponentialMixture(K, n_init=1)``
    fit of the (already shifted) data ``ds`` with per-observation entry
    times: the quantile start, and for K >= 2 the three excess starts
    (:func:`expmix._init.excess_starts`)."""
    from ._init import excess_of, excess_starts, quantile_init_obs
    out = [quantile_init_obs(ds, K)]
    if K > 1:
        ex = excess_of(ds)
        if ex is not None:
            out += excess_starts(ex[0], ex[1], ex[2], K)
    return out


def _above(w, mu, t0):
    """Weights seen above t0 of the population mixture (w, mu)."""
    a = np.log(np.asarray(w, float)) - np.asarray(mu, float) * t0
    a = np.exp(a - a.max())
    return np.maximum(a / a.sum(), 1e-300)


def fit_many(data, K, starts, *, n_threads, max_iter=1000, tol=1e-10, n_obs_hint=None,
             fresh_starts=True, like_fit=True):
    """Fit each observation set in ``data`` from every start (a (w, mu) pair,
    or a callable ``obs -> (w, mu)``) and keep the best sound fit of each.

    Small data sets are fitted in parallel by ``_core.fit_batch`` (one thread
    per fit, GIL released); large ones one after another with the
    block-parallel pass.  Results do not depend on ``n_threads``.

    Data with per-observation entry times recorded row by row (bootstrap and
    simulated replicates of such data) are refitted as
    :class:`~expmix.ExponentialMixture` fits them (``like_fit``): measured
    from the smallest entry time when every row is truncated (the (w, mu)
    starts are mapped to the weights seen above it, the results back),
    at most ``TRUNCATION_EM_MAX_ITER`` EM passes, then the Newton polish of
    the exact truncated likelihood of every sound run.  With
    ``fresh_starts`` they also get the starts of a fresh fit
    (:func:`_fresh_starts`: the quantile start and, for K >= 2, the three
    starts from the excess over the entry times) after the given ones.
    Other data are fitted from the given starts alone, by EM.

    Returns
    -------
    dict of arrays: loglik (n,), w, mu (n, K) in decreasing rate order,
    status (n,) (-1: every start failed or degenerated)
    """
    from .mixture import TRUNCATION_EM_MAX_ITER, _polish_truncated_runs
    n = len(data)
    out_ll = np.full(n, -np.inf)
    out_w = np.full((n, K), np.nan)
    out_mu = np.full((n, K), np.nan)
    out_st = np.full(n, -1, dtype=np.int32)
    if n == 0:
        return dict(loglik=out_ll, w=out_w, mu=out_mu, status=out_st)
    if n_obs_hint is None:
        n_obs_hint = max(sum(s[1].shape[0] for s in _segments(d)) for d in data)
    # the data as fitted (shifted by a common smallest entry time), the
    # shift, whether it is polished, and its starts
    fitted, shifts, polish, owner, start_list = [], [], [], [], []
    for b, d in enumerate(data):
        per_row = like_fit and _per_row_truncated(d)
        t0 = float(d.dead_time) if per_row and d.dead_time > 0 else 0.0
        ds = d.shifted() if t0 > 0 else d
        fitted.append(ds)
        shifts.append(t0)
        polish.append(per_row and ds.trunc is not None)
        mine = []
        for s in starts:
            if callable(s):
                mine.append(s(ds))
            else:
                mine.append((s[0], s[1]) if t0 == 0 else (_above(s[0], s[1], t0), s[1]))
        if fresh_starts and per_row:
            for st in _fresh_starts(ds, K):
                if not any(np.array_equal(st[1], m[1]) and np.array_equal(st[0], m[0])
                           for m in mine):
                    mine.append(st)
        start_list += mine
        owner += [b] * len(mine)
    probs = [fitted[b] for b in owner]
    W = np.ascontiguousarray([np.asarray(s[0], float) for s in start_list])
    M = np.ascontiguousarray([np.asarray(s[1], float) for s in start_list])
    mi = np.full(len(probs), int(max_iter))
    if any(polish):
        # EM crawls on per-observation truncation: the polish finishes
        mi = np.where([polish[b] for b in owner], min(int(max_iter), TRUNCATION_EM_MAX_ITER), mi)
    groups = [np.flatnonzero(mi == v) for v in np.unique(mi)]
    st = np.zeros(len(probs), np.int32)
    ll = np.zeros(len(probs))
    kind = np.zeros(len(probs), np.int32)
    for g in groups:
        it = int(mi[g[0]])
        if n_obs_hint <= BATCH_MAX_OBS and n_threads > 1 and len(g) > 1:
            Wg, Mg = np.ascontiguousarray(W[g]), np.ascontiguousarray(M[g])
            res = _core.fit_batch([probs[j] for j in g], Wg, Mg, n_threads=n_threads,
                                  max_iter=it, tol=tol)
            st[g], ll[g], kind[g] = res["status"], res["loglik"], res["degenerate_kind"]
            W[g], M[g] = Wg, Mg
        else:
            for j in g:
                wj, mj = W[j].copy(), M[j].copy()
                try:
                    r = _core.fit(probs[j], wj, mj, n_threads=n_threads, max_iter=it, tol=tol,
                                  history=False)
                    st[j], ll[j], kind[j] = r["status"], r["loglik"], r["degenerate_kind"]
                    W[j], M[j] = wj, mj
                except (ValueError, FloatingPointError):
                    st[j] = -2
    if any(polish):
        nt_pol = n_threads if n_obs_hint > BATCH_MAX_OBS else 1
        seen = set()
        for j in range(len(probs)):
            if not polish[owner[j]] or st[j] < 0 or kind[j] != 0:
                continue
            # starts that EM took to the same point (to 1e-7) are polished once
            o = np.argsort(-M[j], kind="stable")
            key = (owner[j],) + tuple(np.round(np.log(M[j][o]), 7)) + \
                tuple(np.round(W[j][o] / W[j].sum(), 7))
            if key in seen:
                st[j] = -3
                continue
            seen.add(key)
            run = [dict(w=W[j].copy(), mu=M[j].copy(), status=int(st[j]), n_iter=0,
                        loglik=float(ll[j]), kind="")]
            _polish_truncated_runs(probs[j], run, nt_pol)
            W[j], M[j], ll[j], st[j] = run[0]["w"], run[0]["mu"], run[0]["loglik"], run[0]["status"]
    best_of = {}
    for j in range(len(probs)):
        if st[j] < 0 or kind[j] == 2 or not np.isfinite(ll[j]):
            continue
        b = owner[j]
        if b not in best_of or ll[j] > ll[best_of[b]]:
            best_of[b] = j
    for b, best in best_of.items():
        wb, mb = W[best] / W[best].sum(), M[best]
        if shifts[b] > 0:       # weights seen above t0 -> the population's
            with np.errstate(divide="ignore"):
                a = np.log(wb) + mb * shifts[b]
            a = np.exp(a - a.max())
            wb = a / a.sum()
        order = np.argsort(-mb, kind="stable")
        out_ll[b] = ll[best]
        out_w[b] = wb[order]
        out_mu[b] = mb[order]
        out_st[b] = st[best]
    return dict(loglik=out_ll, w=out_w, mu=out_mu, status=out_st)


def replicate_chunk(n_obs_hint):
    """Replicates held in memory at once for data of this size."""
    return max(1, int(_CHUNK_DOUBLES // max(3 * n_obs_hint, 1)))


def fit_replicates(make, n_rep, K, starts, *, n_obs_hint, rng, n_threads, max_iter=1000,
                   tol=1e-10, **refit):
    """Draw ``n_rep`` data sets with ``make(rng)`` (in chunks, sequentially
    from ``rng``) and fit each with :func:`fit_many` (``refit``: its
    ``fresh_starts`` and ``like_fit``)."""
    parts = []
    chunk = replicate_chunk(n_obs_hint)
    i0 = 0
    while i0 < n_rep:
        i1 = min(n_rep, i0 + chunk)
        data = [make(rng) for _ in range(i0, i1)]
        parts.append(fit_many(data, K, starts, n_threads=n_threads, max_iter=max_iter, tol=tol,
                              n_obs_hint=n_obs_hint, **refit))
        i0 = i1
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@dataclass
class BootstrapResult:
    """Bootstrap replicates of a fitted mixture.

    Components of each replicate are matched to the fitted ones by order of
    rate (decreasing), which removes label switching.

    Attributes
    ----------
    weights, rates, means : ndarray (n_valid, K)
        Replicate estimates (failed replicates removed).
    log_likelihood : ndarray (n_valid,)
    method : str
        "nonparametric" or "parametric".
    n_bootstrap : int
        Replicates drawn.
    n_failed : int
        Replicates whose fit failed (an error, or every start degenerated).
    estimate : dict
        The fitted weights, rates, means.
    """

    weights: np.ndarray
    rates: np.ndarray
    means: np.ndarray
    log_likelihood: np.ndarray
    method: str
    n_bootstrap: int
    n_failed: int
    estimate: dict = field(repr=False)
    _accel: dict = field(repr=False, default=None)

    def standard_errors(self) -> dict:
        """Standard deviations of the replicates: dict of weights, rates, means."""
        return {k: np.std(getattr(self, k), axis=0, ddof=1) for k in ("weights", "rates", "means")}

    def confint(self, level=0.95, kind="percentile") -> ConfidenceIntervals:
        """Percentile or BCa intervals from the replicates.

        Parameters
        ----------
        level : float
        kind : {"percentile", "bca"}
            BCa (Efron 1987): bias correction z0 from the share of replicates
            below the estimate, acceleration from the empirical influence of
            each observation (infinitesimal jackknife, I^{-1} times the
            per-observation score).
        """
        level = _check_level(level)
        if kind not in ("percentile", "bca"):
            raise ValueError(f"kind must be 'percentile' or 'bca', got {kind!r}")
        if self.rates.shape[0] < 2:
            raise ValueError("fewer than 2 valid bootstrap replicates: no interval")
        alpha = (1 - level) / 2
        out = {}
        for name in ("weights", "rates", "means"):
            R = getattr(self, name)
            est = np.asarray(self.estimate[name])
            ci = np.empty((R.shape[1], 2))
            for k in range(R.shape[1]):
                r = R[:, k]
                if kind == "percentile":
                    ci[k] = np.quantile(r, [alpha, 1 - alpha])
                    continue
                if np.all(r == r[0]):
                    ci[k] = (r[0], r[0])
                    continue
                prop = (np.sum(r < est[k]) + 0.5 * np.sum(r == est[k])) / r.shape[0]
                if prop <= 0 or prop >= 1:
                    ci[k] = (np.nan, np.nan)
                    warnings.warn(f"BCa: every replicate of {name}[{k}] lies on one side of the "
                                  "estimate; interval undefined (NaN)", RuntimeWarning, stacklevel=2)
                    continue
                z0 = _norm_ppf(prop)
                a = 0.0 if self._accel is None else float(self._accel[name][k])
                if not np.isfinite(a):
                    a = 0.0
                qs = []
                for zq in (_norm_ppf(alpha), _norm_ppf(1 - alpha)):
                    zz = z0 + (z0 + zq) / (1 - a * (z0 + zq))
                    qs.append(_norm_cdf(zz))
                ci[k] = np.quantile(r, qs)
            out[name] = ci
        return ConfidenceIntervals(weights=out["weights"], rates=out["rates"], means=out["means"],
                                   level=level, method=f"bootstrap-{kind}")


def bootstrap(obs: Observations, w, mu, n_bootstrap=200, method="nonparametric",
              random_state=None, n_threads=None, max_iter=1000, tol=1e-10) -> BootstrapResult:
    """Bootstrap a fitted mixture.

    Parameters
    ----------
    obs : Observations
        The fitted data.
    w, mu : array-like (K,)
        The fitted parameters (decreasing rates).
    n_bootstrap : int, default 200
    method : {"nonparametric", "parametric"}
        Nonparametric: multinomial reweighting of the observations (see
        :func:`resample_like`).  Parametric: data sets drawn from the fitted
        model with the observation scheme of ``obs`` (see
        :func:`simulate_like`).
    random_state : None, int, Generator, ...
        Seeds the replicates; the result does not depend on ``n_threads``.
    n_threads : int or None
        Threads; replicates of small data sets are fitted in parallel (one
        thread per fit).
    max_iter, tol : EM settings of each replicate fit (started at the
        estimate; with per-observation entry times also at the starts of a
        fresh fit, and polished, see :func:`fit_many`).

    Returns
    -------
    BootstrapResult
    """
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap")
    if method not in ("nonparametric", "parametric"):
        raise ValueError(f"method must be 'nonparametric' or 'parametric', got {method!r}")
    w = np.asarray(w, float)
    mu = np.asarray(mu, float)
    K = w.shape[0]
    rng = _rng(random_state)
    nt = effective_n_threads(n_threads)
    if method == "nonparametric":
        rs = _Resampler(obs)
        make = rs.draw
    else:
        sc = _Scheme(obs)
        make = lambda g: sc.draw(g, w, mu)
    n_hint = sum(s[1].shape[0] for s in _segments(obs))
    res = fit_replicates(make, n_bootstrap, K, [(w, mu)], n_obs_hint=n_hint, rng=rng,
                         n_threads=nt, max_iter=max_iter, tol=tol)
    ok = np.isfinite(res["loglik"])
    est = dict(weights=w.copy(), rates=mu.copy(), means=1.0 / mu)
    accel = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            se = standard_errors(obs, w, mu, warn=False)
        cov = np.where(np.isfinite(se.covariance), se.covariance, 0.0)
        p = 2 * K - 1
        accel = {}
        grads = {"weights": np.zeros((K, p)), "rates": np.zeros((K, p)), "means": np.zeros((K, p))}
        for k in range(K):
            if k < K - 1:
                grads["weights"][k, k] = 1.0
            else:
                grads["weights"][k, :K - 1] = -1.0
            grads["rates"][k, K - 1 + k] = 1.0
            grads["means"][k, K - 1 + k] = -1.0 / mu[k] ** 2
        for name, G in grads.items():
            s2, s3 = _influence_moments(obs, w, mu, cov, G)
            with np.errstate(invalid="ignore", divide="ignore"):
                accel[name] = s3 / (6.0 * s2 ** 1.5)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        accel = None
    return BootstrapResult(weights=res["w"][ok], rates=res["mu"][ok], means=1.0 / res["mu"][ok],
                           log_likelihood=res["loglik"][ok], method=method,
                           n_bootstrap=n_bootstrap, n_failed=int((~ok).sum()), estimate=est,
                           _accel=accel)


# ----------------------------------------------------------------------
# Newton polish of the truncated-data likelihood

#: stationarity: Newton decrement per unit weight (see polish_truncated)
POLISH_DECREMENT_TOL = 1e-24
#: the rounding floor: when Newton can make no more progress (rounding of the
#: gradient), a point whose decrement per unit weight is below this is
#: stationary
POLISH_DECREMENT_FLOOR = 1e-14
#: below this decrement per unit weight (the quadratic region) a Newton step
#: within the trust radius is accepted when the log-likelihood does not drop
#: by more than its rounding error (the predicted gain is below it)
POLISH_NEAR = 1e-10


@dataclass
class PolishResult:
    """Outcome of :func:`polish_truncated`.

    Attributes
    ----------
    weights, rates : ndarray (K,)
        The polished parameters (the start when no step was taken).
    log_likelihood : float
        Observed-data log-likelihood there (never below the start's).
    n_iter : int
        Newton steps taken (accepted).
    stationary : bool
        True when the point is a local maximum to working precision: the
        negative Hessian is positive definite and the Newton decrement
        ``g^T (-H)^{-1} g`` divided by the total weight is at most
        ``POLISH_DECREMENT_TOL`` (or at most ``POLISH_DECREMENT_FLOOR`` when
        no further step raises the computed log-likelihood).
    decrement : float
        The Newton decrement per unit weight at the returned point (inf when
        the Hessian is not negative definite there).
    """

    weights: np.ndarray
    rates: np.ndarray
    log_likelihood: float
    n_iter: int
    stationary: bool
    decrement: float


def _psi_derivatives(G, H, w, mu, ref):
    """Gradient and Hessian in psi = (a_j for j != ref, log mu_1..log mu_K),
    w = softmax(a) with a_ref = 0 (unconstrained: every psi is feasible),
    from those in phi = (w, mu) (:func:`_raw_derivatives`)."""
    K = w.shape[0]
    free = [j for j in range(K) if j != ref]
    Gw, Gm = G[:K], G[K:]
    # J[j, k] = d w_j / d a_k = w_j (delta_jk - w_k), k free
    J = np.diag(w)[:, free] - np.outer(w, w[free])
    c = Gw * w
    C = float(c.sum())
    wf, cf = w[free], c[free]
    T = (np.diag(cf) - np.outer(cf, wf) - np.outer(wf, cf) + 2.0 * C * np.outer(wf, wf)
         - C * np.diag(wf))
    D = mu
    g = np.concatenate((J.T @ Gw, D * Gm))
    Haa = J.T @ H[:K, :K] @ J + T
    Hab = (J.T @ H[:K, K:]) * D[None, :]
    Hbb = H[K:, K:] * np.outer(D, D) + np.diag(D * Gm)
    Hp = np.block([[Haa, Hab], [Hab.T, Hbb]])
    return g, 0.5 * (Hp + Hp.T)


def _from_psi(psi, ref, K):
    a = np.zeros(K)
    a[[j for j in range(K) if j != ref]] = psi[:K - 1]
    a -= a.max()
    w = np.exp(a)
    return w / w.sum(), np.exp(psi[K - 1:])


def polish_truncated(obs: Observations, w, mu, *, n_threads: int = 1,
                     max_iter: int = 100) -> PolishResult:
    r"""Newton polish of the observed-data (e.g. truncated) log-likelihood.

    Missing-data EM for per-observation truncation converges ever more slowly
    as the entry times move into the tail (the fraction of missing
    information tends to 1), and its statistics are capped where they are not
    representable (see ``EM_GHOST_LOG_CAP`` in ``csrc/pass.c``).  This
    finishes the fit from EM's point by a safeguarded Newton iteration on the
    exact log-likelihood.

    Parameters
    ----------
    obs : Observations
        The data, truncation pairs included (no common dead time: fit the
        shifted data).
    w, mu : array-like (K,)
        Start (weights > 0 summing to 1, rates > 0).
    n_threads : int
        Threads of the likelihood pass (results do not depend on it).
    max_iter : int
        Accepted Newton steps at most.

    Returns
    -------
    PolishResult

    Notes
    -----
    The variables are unconstrained, ``psi = (log(w_j / w_ref), log mu_k)``
    (softmax weights, log-rates; ``ref`` the largest weight), so every step
    is feasible.  Gradient and Hessian are analytic
    (:func:`loglik_derivatives`, O(block K^2) memory, log space for the
    truncation terms); the log-likelihood of a trial point is one C pass
    (exact in log space).  A step is the Newton step when ``-H`` is positive
    definite, otherwise the saddle-free step ``V |Lambda|^{-1} V^T g`` plus a
    move along the most negative curvature direction (both signs are tried);
    its largest component is held to a trust radius (1 at the start, halved
    on each rejection, doubled after a full accepted step).  A step is
    accepted only if the log-likelihood does not decrease; in the quadratic
    region (decrement per unit weight <= ``POLISH_NEAR``), where the
    predicted gain is below the rounding error of the log-likelihood, a full
    Newton step is accepted when the log-likelihood does not drop by more
    than that rounding error (~16 eps times the sum of |terms|).  It stops
    when the point is stationary (see :class:`PolishResult`), when Newton no
    longer converges quadratically (the rounding floor), after 60
    consecutive rejections, or at ``max_iter``.
    """
    def F(w_, mu_):
        try:
            with np.errstate(all="ignore"):
                ll_, W_, _, _ = _core.pass_stats(obs, np.ascontiguousarray(w_),
                                                 np.ascontiguousarray(mu_), n_threads)
        except (FloatingPointError, ValueError):
            return -np.inf, 1.0
        return (float(ll_) if np.isfinite(ll_) else -np.inf), float(W_)

    return newton_polish(F, lambda w_, mu_: _raw_derivatives(obs, w_, mu_), w, mu,
                         max_iter=max_iter, magnitude=_loglik_magnitude(obs))


def _loglik_magnitude(obs: Observations) -> float:
    """sum_i v_i b_i over the finite bounds of every row and truncation pair:
    times the largest rate, a bound of the sum of |terms| of the
    log-likelihood (its rounding error is ~eps times that)."""
    tot = 0.0
    for x, v in ((obs.exact, obs.exact_w), (obs.right, obs.right_w),
                 (obs.upper, obs.interval_w), (obs.trunc, obs.trunc_w)):
        if x is not None and x.shape[0]:
            tot += float(np.sum(x)) if v is None else float(np.dot(x, v))
    return tot


def newton_polish(F, derivs, w, mu, *, max_iter: int = 100, magnitude: float = 0.0) -> PolishResult:
    """The iteration of :func:`polish_truncated` with the likelihood supplied:
    ``F(w, mu) -> (loglik, total weight)`` (loglik -inf where not finite) and
    ``derivs(w, mu) -> (G, H)``, gradient and Hessian in phi = (w, mu) as
    :func:`_raw_derivatives` returns them (summed over chunks of data, for
    instance on a dask cluster); ``magnitude`` as :func:`_loglik_magnitude`
    (for the rounding error of F)."""
    w = np.array(w, dtype=np.float64)
    mu = np.array(mu, dtype=np.float64)
    w = w / w.sum()
    K = w.shape[0]
    ll, W = F(w, mu)
    W = W if W > 0 else 1.0
    n_acc = 0
    radius = 1.0
    dec = prev_dec = np.inf
    stationary = False
    eps = np.finfo(float).eps
    while True:
        if not (np.all(w > 0) and np.all(np.isfinite(mu))):
            break
        ref = int(np.argmax(w))
        psi = np.concatenate((np.log(np.delete(w, ref) / w[ref]), np.log(mu)))
        with np.errstate(all="ignore"):
            g, H = _psi_derivatives(*derivs(w, mu), w, mu, ref)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
            break
        ev, V = np.linalg.eigh(-H)
        scale = max(float(np.max(np.abs(ev))), 1e-300)
        pd = bool(ev[0] > 1e-13 * scale)
        gv = V.T @ g
        dec = float(np.sum(gv * gv / ev)) / W if pd else np.inf
        if pd and dec <= POLISH_DECREMENT_TOL:
            stationary = True
            break
        # the quadratic region: the predicted gain W dec / 2 is below what the
        # log-likelihood can resolve, so steps are judged by the gradient
        near = pd and dec <= POLISH_NEAR
        if near and dec >= 0.25 * prev_dec:
            # Newton no longer converges quadratically: the rounding floor
            stationary = dec <= POLISH_DECREMENT_FLOOR
            break
        if n_acc >= max_iter:
            break
        prev_dec = dec
        # rounding error of F: ~eps sum |terms| (|log w mu| + mu b per row)
        noise = 16 * eps * (float(np.max(mu)) * magnitude
                            + W * (2.0 + float(np.max(np.abs(np.log(mu)))) - float(np.log(np.min(w)))))
        if pd:
            p_full = V @ (gv / ev)
        else:
            # saddle-free Newton: |eigenvalues|, so that directions of
            # negative curvature are climbed; on a ridge of symmetry (two
            # equal rates: zero gradient along the split) also step along
            # the most negative direction, both signs tried
            p_full = V @ (gv / np.maximum(np.abs(ev), 1e-8 * scale))
            if ev[0] < 0:
                p_full = p_full + V[:, 0] * (np.sign(gv[0]) or 1.0) * max(radius, 0.1)
        accepted = False
        flipped = False
        for _ in range(60):
            step = p_full
            big = float(np.max(np.abs(step)))
            if big > radius:
                step = step * (radius / big)
            w1, mu1 = _from_psi(psi + step, ref, K)
            ll1, _ = F(w1, mu1)
            ok = np.all(w1 > 0) and np.all(np.isfinite(mu1)) and np.all(mu1 > 0)
            if ok and (ll1 >= ll or (near and big <= radius and ll1 >= ll - noise)):
                w, mu, ll = w1, mu1, ll1
                n_acc += 1
                accepted = True
                if big <= radius:
                    radius = min(2.0 * radius, 4.0)
                break
            radius = 0.5 * min(radius, big)
            if not pd and ev[0] < 0 and not flipped and radius < 1e-3:
                # the other side of the ridge
                flipped = True
                radius = 1.0
                p_full = p_full - 2.0 * V[:, 0] * (V[:, 0] @ p_full)
        if not accepted:
            stationary = pd and dec <= POLISH_DECREMENT_FLOOR
            break
    if stationary and not np.isfinite(dec):
        stationary = False
    return PolishResult(weights=w, rates=mu, log_likelihood=float(ll), n_iter=n_acc,
                        stationary=bool(stationary), decrement=float(dec))
