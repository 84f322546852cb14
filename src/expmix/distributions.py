"""Distribution functions of a mixture of exponentials, in log space.

All functions take the weights ``w`` and rates ``mu`` (1-D arrays of the same
length, weights summing to 1) and evaluate element-wise on ``x``.  Log-space
evaluation (log-sum-exp over components) keeps them accurate in both tails:
``logsf`` is exact far into the tail, where ``sf`` underflows, and ``cdf``
uses ``-expm1(logsf)`` so that small probabilities near 0 keep full relative
precision.
"""
from __future__ import annotations

import numpy as np

__all__ = ["logpdf", "pdf", "logsf", "sf", "logcdf", "cdf", "ppf", "isf", "mean", "var",
           "moment", "rvs"]


def _lse(a: np.ndarray, axis: int = -1) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", under="ignore"):
        out = np.log(np.sum(np.exp(a - m_safe), axis=axis)) + np.squeeze(m_safe, axis=axis)
    return out


def _prep(x, w, mu):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    return x, w, mu


def logpdf(x, w, mu):
    """log p(x) = log sum_k w_k mu_k exp(-mu_k x); -inf for x < 0."""
    x, w, mu = _prep(x, w, mu)
    with np.errstate(divide="ignore"):
        lw = np.log(w) + np.log(mu)
    xx = np.where(x >= 0, x, 0.0)
    out = _lse(lw - np.multiply.outer(xx, mu))
    return np.where(x >= 0, out, -np.inf)


def pdf(x, w, mu):
    """p(x)."""
    return np.exp(logpdf(x, w, mu))


def _logsf_lse(x, w, mu):
    """log S(x) by log-sum-exp: exact in the upper tail."""
    with np.errstate(divide="ignore"):
        lw = np.log(w)
    xx = np.where(x >= 0, x, 0.0)
    with np.errstate(invalid="ignore"):
        out = _lse(lw - np.multiply.outer(xx, mu))
    out = np.where(np.isposinf(x), -np.inf, out)
    return np.where(x > 0, np.minimum(out, 0.0), 0.0)


def _cdf_direct(x, w, mu):
    """F(x) = sum_k w_k (1 - e^{-mu_k x}) with expm1: exact in the lower tail."""
    xx = np.where(x > 0, x, 0.0)
    with np.errstate(invalid="ignore"):
        F = np.sum(w * -np.expm1(-np.multiply.outer(xx, mu)), axis=-1)
    return np.where(np.isposinf(x), 1.0, F)


def logsf(x, w, mu):
    """log S(x) = log sum_k w_k exp(-mu_k x); 0 for x <= 0.  Accurate in both
    tails: log1p(-F) below the median, log-sum-exp above."""
    x, w, mu = _prep(x, w, mu)
    F = _cdf_direct(x, w, mu)
    return np.where(F < 0.5, np.log1p(-np.minimum(F, 0.5)), _logsf_lse(x, w, mu))


def sf(x, w, mu):
    """Survival function S(x) = P(X > x)."""
    return np.exp(logsf(x, w, mu))


def cdf(x, w, mu):
    """F(x) = 1 - S(x), with full relative precision near 0 and in the tail."""
    x, w, mu = _prep(x, w, mu)
    F = _cdf_direct(x, w, mu)
    return np.where(F < 0.5, F, -np.expm1(_logsf_lse(x, w, mu)))


def logcdf(x, w, mu):
    """log F(x), accurate for small and large x."""
    x, w, mu = _prep(x, w, mu)
    F = _cdf_direct(x, w, mu)
    with np.errstate(divide="ignore"):
        return np.where(F < 0.5, np.log(np.maximum(F, 0.0)),
                        np.log1p(-np.exp(_logsf_lse(x, w, mu))))


def _log_sf_cdf(x, w, mu):
    """(log S(x), log F(x)) both accurate."""
    F = _cdf_direct(x, w, mu)
    ls_lse = _logsf_lse(x, w, mu)
    with np.errstate(divide="ignore"):
        ls = np.where(F < 0.5, np.log1p(-np.minimum(F, 0.5)), ls_lse)
        lc = np.where(F < 0.5, np.log(np.maximum(F, 0.0)), np.log1p(-np.exp(ls_lse)))
    return ls, lc


def _invert(log_target, use_sf, comp, w, mu, rtol, max_iter):
    """Solve log S(x) = log_target (use_sf) or log F(x) = log_target,
    bracketed by the component quantiles ``comp`` (n, K)."""
    lo = comp.min(axis=1)
    hi = comp.max(axis=1)
    x = np.where(hi > lo, 0.5 * (lo + hi), lo)
    for _ in range(max_iter):
        ls, lc = _log_sf_cdf(x, w, mu)
        gx = np.where(use_sf, ls - log_target, lc - log_target)
        # shrink the bracket: log S decreases in x, log F increases
        too_far = np.where(use_sf, gx < 0, gx > 0)
        hi = np.where(too_far, x, hi)
        lo = np.where(too_far, lo, x)
        # Newton step: d/dx log S = -f/S, d/dx log F = f/F
        lp = logpdf(x, w, mu)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            deriv = np.where(use_sf, -np.exp(lp - ls), np.exp(lp - lc))
            xn = x - gx / deriv
        bad = ~np.isfinite(xn) | (xn < lo) | (xn > hi)
        xn = np.where(bad, 0.5 * (lo + hi), xn)
        done = (np.abs(xn - x) <= rtol * np.abs(x)) | (gx == 0)
        x = xn
        if done.all():
            break
    return x


def _quantile(p, w, mu, from_upper, rtol, max_iter, name):
    p = np.asarray(p, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    if np.isnan(p).any() or np.any((p < 0) | (p > 1)):
        raise ValueError(f"{name} must lie in [0, 1]")
    shape = p.shape
    pf = p.ravel()
    out = np.empty_like(pf)
    at0, at1 = (pf == 1, pf == 0) if from_upper else (pf == 0, pf == 1)
    out[at0] = 0.0
    out[at1] = np.inf
    inner = (pf > 0) & (pf < 1)
    if inner.any():
        pi = pf[inner]
        # the lower-tail probability q and upper-tail probability 1 - q, each exact
        if from_upper:
            log_up, log_lo = np.log(pi), np.log1p(-pi)
            use_sf = pi <= 0.5
        else:
            log_up, log_lo = np.log1p(-pi), np.log(pi)
            use_sf = pi >= 0.5
        comp = -log_up[:, None] / mu[None, :]            # component quantiles
        target = np.where(use_sf, log_up, log_lo)
        out[inner] = _invert(target, use_sf, comp, w, mu, rtol, max_iter)
    return out.reshape(shape)


def ppf(q, w, mu, *, rtol: float = 4e-16, max_iter: int = 200):
    """Quantile function: the x with F(x) = q, for q in [0, 1].

    Solves in log space (log F(x) = log q for q < 1/2, log S(x) = log(1 - q)
    otherwise) by Newton steps safeguarded by bisection, inside the bracket
    [min_k x_k(q), max_k x_k(q)] of the component quantiles (the mixture CDF
    is a weighted mean of the component CDFs, so its quantile lies between
    theirs).  Relative accuracy about 1e-15.
    """
    return _quantile(q, w, mu, False, rtol, max_iter, "q")


def isf(q, w, mu, *, rtol: float = 4e-16, max_iter: int = 200):
    """Inverse survival function: the x with S(x) = q (exact for tiny q)."""
    return _quantile(q, w, mu, True, rtol, max_iter, "q")


def moment(n: int, w, mu) -> float:
    """Raw moment E[X^n] = sum_k w_k n! / mu_k^n."""
    w = np.asarray(w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    from math import factorial
    return float(np.sum(w * factorial(n) / mu ** n))


def mean(w, mu) -> float:
    """E[X] = sum_k w_k / mu_k."""
    return moment(1, w, mu)


def var(w, mu) -> float:
    """Var[X] = sum_k 2 w_k / mu_k^2 - E[X]^2."""
    m = mean(w, mu)
    return moment(2, w, mu) - m * m


def rvs(n: int, w, mu, rng: np.random.Generator):
    """n draws and their component labels."""
    w = np.asarray(w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    labels = rng.choice(w.shape[0], size=n, p=w / w.sum())
    x = rng.standard_exponential(n) / mu[labels]
    return x, labels
