"""Fit 5,000 small data sets with the downstream extension and compare a few
with the Python API.  Build first: python setup.py build_ext --inplace"""
import time

import numpy as np

import expmix
import fit_many

rng = np.random.default_rng(1)
P, K = 5000, 2
sizes = rng.integers(50, 400, P)
offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
comp = rng.random(offsets[-1]) < 0.3
values = np.where(comp, rng.exponential(0.1, offsets[-1]), rng.exponential(2.0, offsets[-1]))
w = np.tile([0.5, 0.5], (P, 1))
mu = np.tile([5.0, 0.5], (P, 1))
w0, mu0 = w.copy(), mu.copy()

t0 = time.perf_counter()
status, loglik, n_iter = fit_many.fit_many(values, offsets, w, mu)
dt = time.perf_counter() - t0
print(f"{P} fits in {dt:.3f} s ({1e6 * dt / P:.0f} us per fit), statuses "
      f"{dict(zip(*np.unique(status, return_counts=True)))}, openmp {fit_many.openmp()}")

worst = 0.0
for i in range(0, P, 500):
    x = values[offsets[i]:offsets[i + 1]]
    m = expmix.ExponentialMixture(K, weights_init=w0[i], rates_init=mu0[i], n_init=1).fit(x)
    order = np.argsort(-mu[i])
    worst = max(worst, np.max(np.abs(mu[i][order] - m.rates_) / m.rates_),
                np.max(np.abs(w[i][order] - m.weights_)))
print(f"largest difference to ExponentialMixture on 10 data sets: {worst:.2e}")
