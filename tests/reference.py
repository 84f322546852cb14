"""Independent references for the tests: the observed-data log-likelihood
written directly with scipy.special, maximized with scipy.optimize."""
import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp, log_softmax


def unpack(theta, K):
    lw = log_softmax(np.concatenate(([0.0], theta[:K - 1])))
    lmu = theta[K - 1:]
    return lw, lmu


def loglik(theta, K, exact=None, exact_w=None, right=None, right_w=None,
           lower=None, upper=None, interval_w=None, entry=None, entry_w=None):
    """Observed-data log-likelihood at unconstrained theta (direct formulas)."""
    lw, lmu = unpack(theta, K)
    mu = np.exp(lmu)
    ll = 0.0
    if exact is not None:
        a = lw + lmu - np.outer(exact, mu)
        v = 1.0 if exact_w is None else exact_w
        ll += np.sum(v * logsumexp(a, axis=1))
    if right is not None:
        a = lw - np.outer(right, mu)
        v = 1.0 if right_w is None else right_w
        ll += np.sum(v * logsumexp(a, axis=1))
    if lower is not None:
        # log(e^{-mu a} - e^{-mu b}) = -mu a + log(-expm1(-mu (b - a)))
        a = lw - np.outer(lower, mu) + np.log(-np.expm1(-np.outer(upper - lower, mu)))
        v = 1.0 if interval_w is None else interval_w
        ll += np.sum(v * logsumexp(a, axis=1))
    if entry is not None:
        a = lw - np.outer(entry, mu)
        v = 1.0 if entry_w is None else entry_w
        ll -= np.sum(v * logsumexp(a, axis=1))
    return ll


def direct_mle(K, rng, n_starts=20, scale=1.0, **data):
    """Best log-likelihood over many L-BFGS starts; returns (ll, w, mu)."""
    best = (-np.inf, None)
    f = lambda th: -loglik(th, K, **data)
    np.seterr(all="ignore")
    for _ in range(n_starts):
        th0 = np.concatenate((rng.normal(size=K - 1),
                              np.log(rng.uniform(0.01, 100, size=K) / scale)))
        try:
            res = minimize(f, th0, method="L-BFGS-B", options=dict(maxiter=5000, ftol=1e-15, gtol=1e-10))
            res = minimize(f, res.x, method="BFGS", options=dict(maxiter=500, gtol=1e-9))
        except (FloatingPointError, ValueError):
            continue
        if np.isfinite(res.fun) and -res.fun > best[0]:
            best = (-res.fun, res.x)
    lw, lmu = unpack(best[1], K)
    return best[0], np.exp(lw), np.exp(lmu)


def loglik_wmu(w, mu, **data):
    """The observed-data log-likelihood at weights w (summing to 1) and rates mu."""
    w = np.asarray(w, float)
    mu = np.asarray(mu, float)
    th = np.concatenate((np.log(w[1:] / w[0]), np.log(mu)))
    return loglik(th, len(w), **data)


def log_joint(w, mu, exact=None, right=None, lower=None, upper=None):
    """Per-observation log w_k + log L_ik (exact, right, interval order), direct formulas."""
    lw = np.log(np.asarray(w, float))
    mu = np.asarray(mu, float)
    parts = []
    if exact is not None:
        parts.append(lw + np.log(mu) - np.outer(exact, mu))
    if right is not None:
        parts.append(lw - np.outer(right, mu))
    if lower is not None:
        parts.append(lw - np.outer(lower, mu) + np.log(-np.expm1(-np.outer(upper - lower, mu))))
    return np.concatenate(parts, axis=0)


def hessian_fd(f, x, rel_step=1e-3):
    """Central-difference Hessian with one Richardson extrapolation (error
    O(h^4)); steps relative to |x_i|."""
    x = np.asarray(x, float)
    p = x.size
    H = np.zeros((p, p))
    sc = np.maximum(np.abs(x), 1e-3)

    def d2(i, j, h):
        ei = np.zeros(p)
        ej = np.zeros(p)
        ei[i] = h * sc[i]
        ej[j] = h * sc[j]
        return (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * ei[i] * ej[j])

    for i in range(p):
        for j in range(i, p):
            a, b = d2(i, j, rel_step), d2(i, j, rel_step / 2)
            H[i, j] = H[j, i] = (4 * b - a) / 3
    return H
def loglik_and_grad(theta, K, exact=None, exact_w=None, right=None, right_w=None,
                    lower=None, upper=None, interval_w=None, entry=None, entry_w=None):
    """Observed-data log-likelihood and its gradient in theta (direct
    formulas: d lse_k a_ik = sum_k r_ik d a_ik, with r the softmax of a)."""
    lw, lmu = unpack(theta, K)
    w, mu = np.exp(lw), np.exp(lmu)
    ll, gw, gm = 0.0, np.zeros(K), np.zeros(K)

    def add(a, da_dlmu, v, sign):
        nonlocal ll, gw, gm
        lse = logsumexp(a, axis=1)
        r = np.exp(a - lse[:, None])
        v = np.ones(a.shape[0]) if v is None else np.asarray(v, float)
        ll += sign * np.sum(v * lse)
        gw += sign * (v @ r - v.sum() * w)
        gm += sign * np.sum(v[:, None] * r * da_dlmu, axis=0)

    if exact is not None:
        x = np.asarray(exact, float)
        add(lw + lmu - np.outer(x, mu), 1.0 - np.outer(x, mu), exact_w, 1.0)
    if right is not None:
        c = np.asarray(right, float)
        add(lw - np.outer(c, mu), -np.outer(c, mu), right_w, 1.0)
    if lower is not None:
        a0, b0 = np.asarray(lower, float), np.asarray(upper, float)
        u = np.outer(b0 - a0, mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            du = np.where(u > 1e-300, u / np.expm1(u), 1.0)
        add(lw - np.outer(a0, mu) + np.log(-np.expm1(-u)), -np.outer(a0, mu) + du,
            interval_w, 1.0)
    if entry is not None:
        t = np.asarray(entry, float)
        add(lw - np.outer(t, mu), -np.outer(t, mu), entry_w, -1.0)
    return ll, np.concatenate((gw[1:], gm))


def direct_mle_grad(K, rng, n_starts=20, scale=1.0, **data):
    """As direct_mle, with the analytic gradient (faster, tighter optimum)."""
    best = (-np.inf, None)

    def f(th):
        ll, g = loglik_and_grad(th, K, **data)
        return -ll, -g

    with np.errstate(all="ignore"):
        for _ in range(n_starts):
            th0 = np.concatenate((rng.normal(size=K - 1),
                                  np.log(rng.uniform(0.01, 100, size=K) / scale)))
            try:
                res = minimize(f, th0, jac=True, method="L-BFGS-B",
                               options=dict(maxiter=5000, ftol=1e-15, gtol=1e-10))
                res = minimize(f, res.x, jac=True, method="BFGS",
                               options=dict(maxiter=500, gtol=1e-9))
            except (FloatingPointError, ValueError):
                continue
            if np.isfinite(res.fun) and -res.fun > best[0]:
                best = (-res.fun, res.x)
    lw, lmu = unpack(best[1], K)
    return best[0], np.exp(lw), np.exp(lmu)


def theta_of(w, mu):
    """The unconstrained parameters (log w_k / w_0 for k >= 1, log mu_k) of
    unpack, for weights w and rates mu."""
    w, mu = np.asarray(w, float), np.asarray(mu, float)
    return np.concatenate((np.log(w[1:] / w[0]), np.log(mu)))


def draw_above(rng, t, w, mu):
    """One draw above each entry time t_i from the mixture (w, mu): by
    memorylessness, component k with probability w_k e^{-mu_k t} / S(t),
    then t + Exp(mu_k)."""
    w, mu = np.asarray(w, float), np.asarray(mu, float)
    a = np.log(w)[None, :] - np.outer(t, mu)
    p = np.exp(a - a.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    k = np.minimum((rng.random(t.shape[0])[:, None] > np.cumsum(p, axis=1)).sum(axis=1),
                   len(w) - 1)
    return t + rng.standard_exponential(t.shape[0]) / mu[k]


def assert_same_row(res, j, m, K):
    """Row j of a FitManyResult is, bit for bit, the single fit m with K
    components (parameters, log-likelihood, bookkeeping, BIC, observed weights)."""
    assert res.n_components[j] == K
    assert np.array_equal(res.rates[j, :K], m.rates_)
    assert np.array_equal(res.weights[j, :K], m.weights_)
    assert res.log_likelihood[j] == m.log_likelihood_
    assert res.n_iter[j] == m.n_iter_
    assert res.converged[j] == m.converged_
    assert res.status[j] == m.status_
    assert res.bic[j] == m.bic_
    assert res.n_observations[j] == m.n_observations_
    if m.observed_weights_ is None:
        assert np.all(np.isnan(res.observed_weights[j]))
        assert np.isnan(res.entry[j])
    else:
        assert np.array_equal(res.observed_weights[j, :K], m.observed_weights_)
        assert res.entry[j] == m.entry_
