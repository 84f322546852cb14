"""Starting points for EM.

* ``"quantile"`` (deterministic): sort the (pseudo-)values, cut them into K
  groups of equal weight, rate_k = 1 / mean of group k, weight_k = group weight.
* ``"kmeans"`` (random): weighted k-means++ seeding and a few Lloyd steps on
  log(x), on a subsample of at most 20,000 values.
* ``"random"`` (random): rates log-uniform between the inverse 95 % and 5 %
  quantiles, weights from a flat Dirichlet.
For censored data the pseudo-values are censoring times and interval midpoints.
"""
from __future__ import annotations

import numpy as np

INIT_METHODS = ("auto", "quantile", "kmeans", "random")


def _clean(w, mu, scale):
    mu = np.asarray(mu, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    hi = 1e12 / scale
    lo = 1e-12 / scale
    mu = np.clip(np.where(np.isfinite(mu), mu, hi), lo, hi)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0) + 1e-3 / w.shape[0]
    w = w / w.sum()
    # distinct rates: identical components would stay identical under EM
    order = np.argsort(-mu, kind="stable")
    mu_sorted = mu[order]
    for i in range(1, mu_sorted.shape[0]):
        if mu_sorted[i] >= mu_sorted[i - 1] * (1 - 1e-3):
            mu_sorted[i] = mu_sorted[i - 1] * 0.7
    mu[order] = mu_sorted
    return w, mu


def quantile_init(values, weights, K):
    order = np.argsort(values, kind="stable")
    v = values[order]
    wt = weights[order]
    cw = np.cumsum(wt)
    total = cw[-1]
    scale = max(float(np.sum(v * wt) / total), 1e-300)
    w = np.empty(K)
    mu = np.empty(K)
    cuts = np.searchsorted(cw, total * np.arange(1, K) / K, side="left")
    bounds = np.concatenate(([0], cuts + 1, [v.shape[0]]))
    for k in range(K):
        a, b = bounds[k], max(bounds[k + 1], bounds[k] + 1)
        a = min(a, v.shape[0] - 1)
        b = min(max(b, a + 1), v.shape[0])
        ww = wt[a:b]
        m = float(np.sum(v[a:b] * ww) / max(np.sum(ww), 1e-300))
        w[k] = max(float(np.sum(ww)), 1e-300)
        mu[k] = 1.0 / max(m, 1e-3 * scale)
    return _clean(w, mu, scale)


def _subsample(values, weights, rng, size=20000):
    if values.shape[0] <= size:
        return values, weights
    p = weights / weights.sum()
    idx = rng.choice(values.shape[0], size=size, replace=True, p=p)
    return values[idx], np.ones(size)


def kmeans_init(values, weights, K, rng):
    v, wt = _subsample(values, weights, rng)
    scale = max(float(np.sum(v * wt) / np.sum(wt)), 1e-300)
    pos = v[v > 0]
    floor = float(pos.min()) * 0.5 if pos.size else scale * 1e-3
    z = np.log(np.maximum(v, floor))
    # k-means++ seeding (weighted)
    centers = np.empty(K)
    centers[0] = z[rng.choice(z.shape[0], p=wt / wt.sum())]
    d2 = (z - centers[0]) ** 2
    for k in range(1, K):
        p = d2 * wt
        s = p.sum()
        idx = rng.choice(z.shape[0], p=p / s) if s > 0 else rng.integers(z.shape[0])
        centers[k] = z[idx]
        d2 = np.minimum(d2, (z - centers[k]) ** 2)
    for _ in range(10):
        lab = np.argmin(np.abs(z[:, None] - centers[None, :]), axis=1)
        for k in range(K):
            m = lab == k
            if m.any():
                centers[k] = np.sum(z[m] * wt[m]) / np.sum(wt[m])
    lab = np.argmin(np.abs(z[:, None] - centers[None, :]), axis=1)
    w = np.array([np.sum(wt[lab == k]) for k in range(K)], dtype=np.float64)
    mu = np.empty(K)
    for k in range(K):
        m = lab == k
        mean_k = float(np.sum(v[m] * wt[m]) / np.sum(wt[m])) if m.any() else np.exp(centers[k])
        mu[k] = 1.0 / max(mean_k, 1e-3 * scale)
    return _clean(w, mu, scale)


def random_init(values, weights, K, rng):
    scale = max(float(np.sum(values * weights) / np.sum(weights)), 1e-300)
    q05, q95 = np.quantile(values, [0.05, 0.95])
    lo = 1.0 / max(q95, 1e-3 * scale)
    hi = 1.0 / max(q05, 1e-3 * scale)
    if not hi > lo * 1.01:
        hi = lo * 10.0
    mu = np.exp(rng.uniform(np.log(lo), np.log(hi), size=K))
    w = rng.dirichlet(np.ones(K))
    return _clean(w, mu, scale)


def starting_points(values, weights, K, n_init, method, rng, weights_init=None, rates_init=None):
    """List of n_init (w, mu) starts; user-given parameters come first."""
    starts = []
    if rates_init is not None:
        w0 = np.full(K, 1.0 / K) if weights_init is None else np.asarray(weights_init, float)
        starts.append((w0 / w0.sum(), np.asarray(rates_init, dtype=np.float64).copy()))
    elif weights_init is not None:
        w0 = np.asarray(weights_init, float)
        _, mu0 = quantile_init(values, weights, K)
        starts.append((w0 / w0.sum(), mu0))
    while len(starts) < n_init:
        i = len(starts)
        if method == "quantile" or (method == "auto" and i == 0):
            if method == "quantile" and i > 0:
                starts.append(kmeans_init(values, weights, K, rng))
            else:
                starts.append(quantile_init(values, weights, K))
        elif method in ("kmeans", "auto"):
            starts.append(kmeans_init(values, weights, K, rng))
        else:
            starts.append(random_init(values, weights, K, rng))
    return starts
