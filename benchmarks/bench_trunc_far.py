"""Per-observation entry times far in the tail: time of a fit, its EM part and
its Newton polish, and the gain of the polish over EM alone.

    python benchmarks/bench_trunc_far.py [N]

Not a test.  Timings are wall-clock on one thread; the machine may be shared.
"""
import sys
import time
import warnings

import numpy as np

import expmix
from expmix import _core
from expmix.inference import polish_truncated
from expmix.observations import from_samples


def draw_above(rng, t, w, mu):
    w, mu = np.asarray(w, float), np.asarray(mu, float)
    a = np.log(w)[None, :] - np.outer(t, mu)
    p = np.exp(a - a.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    k = np.minimum((rng.random(t.shape[0])[:, None] > np.cumsum(p, axis=1)).sum(axis=1), len(w) - 1)
    return t + rng.standard_exponential(t.shape[0]) / mu[k]


def main(N):
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    cases = [("K=1, t in [40, 80]", 1, [1.0], [1.0], 80 * (0.5 + 0.5 * rng.random(N))),
             ("K=1, t in [0, 1600] (capped ghosts)", 1, [1.0], [1.0], 1600 * rng.random(N)),
             ("K=2, t = 40 U^2", 2, [0.5, 0.5], [2.0, 0.4], 40 * rng.random(N) ** 2)]
    print(f"N = {N}")
    print(f"{'case':40s} {'fit s':>7s} {'EM s':>7s} {'EM passes':>9s} {'polish s':>8s} "
          f"{'steps':>5s} {'gain/W':>9s}")
    for name, K, w, mu, t in cases:
        x = draw_above(rng, t, w, mu)
        t0 = time.perf_counter()
        m = expmix.ExponentialMixture(K, n_threads=1, random_state=0).fit(x, entry=t)
        t_fit = time.perf_counter() - t0
        obs = from_samples(x, entry=t)
        obs = obs.shifted()
        # EM alone from the same start as the chosen restart
        best = max(m.restarts_, key=lambda r: r["log_likelihood"])
        s = best["start"]
        wv, mv = np.ascontiguousarray(s[0], float).copy(), np.ascontiguousarray(s[1], float).copy()
        t0 = time.perf_counter()
        r = _core.fit(obs, wv, mv, n_threads=1, history=False, scale=float(_core.data_scale(obs)))
        t_em = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = polish_truncated(obs, wv, mv)
        t_pol = time.perf_counter() - t0
        print(f"{name:40s} {t_fit:7.2f} {t_em:7.2f} {r['n_passes']:9d} {t_pol:8.2f} {p.n_iter:5d} "
              f"{(p.log_likelihood - r['loglik']) / N:9.2e}  stationary={p.stationary}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
