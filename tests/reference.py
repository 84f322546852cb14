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
