"""Which starting points reach the maximum of the truncated likelihood when
per-observation entry times lie far in the tail?

Each candidate start is run alone, as a fit runs it (missing-data EM for at
most TRUNCATION_EM_MAX_ITER passes, then the Newton polish), on data with
entry times t = T U^2 (U uniform) drawn above t from a known mixture.  The
maximum is the best of scipy.optimize (the direct truncated log-likelihood of
tests/reference.py, from random starts and from the true parameters) and of
all candidates; a start "reaches" it within 1e-9 in mean log-likelihood.

    python tools/measure_truncation_starts.py [--seeds 8] [--T 60,200]

Prints one line per data set (Y: reached, -: not, !: not stationary) and,
per configuration, the counts for each candidate and for sets of starts
(before: x-quantile + K=1 spread, the starts of a fit before the excess
starts; now: + excess Lloyd + excess k-means++, the starts of a fit with
n_init = 1; and two intermediate sets).
"""
import argparse
import os
import sys
import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from reference import direct_mle_grad, draw_above, loglik_and_grad  # noqa: E402

from expmix import _core  # noqa: E402
from expmix._init import (excess_of, excess_starts, quantile_init, quantile_init_obs,  # noqa: E402
                          random_init)
from expmix.mixture import TRUNCATION_EM_MAX_ITER, _polish_truncated_runs  # noqa: E402
from expmix.observations import from_samples  # noqa: E402

CONFIGS = [
    (2, [0.5, 0.5], [2.0, 0.4], 1500),
    (3, [0.3, 0.4, 0.3], [6.0, 1.0, 0.15], 2500),
    (3, [0.5, 0.3, 0.2], [10.0, 2.0, 0.3], 2500),
    (4, [0.25, 0.25, 0.25, 0.25], [20.0, 4.0, 0.8, 0.15], 4000),
]


def wquantile(t, q):
    s = np.sort(t)
    return s[np.minimum((q * s.shape[0]).astype(int), s.shape[0] - 1)]


def map_median(w, mu, t):
    """Weights mapped to the population at the median entry time."""
    a = np.log(w) + mu * float(np.median(t))
    a = np.exp(a - a.max())
    return a / a.sum()


def map_mle(w, mu, t, m=256, iters=60):
    """The MLE of the population weights given the rates and the excess
    weights w (group shares): maximize sum_k w_k th_k - mean_i lse(th - mu t_i),
    concave in th = log w; Newton with th_0 fixed, on 256 quantiles of t."""
    tq = wquantile(t, (np.arange(m) + 0.5) / m)
    th = np.log(w)
    for _ in range(iters):
        a = th[None, :] - np.outer(tq, mu)
        p = np.exp(a - logsumexp(a, axis=1, keepdims=True))
        g = w - p.mean(axis=0)
        H = -(np.diag(p.mean(axis=0)) - (p.T @ p) / m)
        d = np.linalg.solve(H[1:, 1:] - 1e-12 * np.eye(len(w) - 1), -g[1:])
        if np.max(np.abs(d)) > 2:
            d *= 2 / np.max(np.abs(d))
        th[1:] += d
        if np.max(np.abs(g)) < 1e-12:
            break
    e = np.exp(th - th.max())
    return e / e.sum()


def candidates(obs, t, K):
    """The starts of a fit (x_quantile; k1_spread, ex_lloyd, ex_kmeans from
    expmix._init.excess_starts) and rejected alternatives."""
    v, wt, events = excess_of(obs)
    ones = np.ones_like(v)
    spread, lloyd, kmeans = excess_starts(v, wt, events, K)
    quant = quantile_init(v, wt, K)
    out = {"x_quantile": quantile_init_obs(obs, K), "k1_spread": spread,
           "ex_lloyd": lloyd, "ex_kmeans": kmeans, "ex_quantile": quant,
           "ex_quantile_tmed": (map_median(*quant, t), quant[1]),
           "ex_quantile_mle": (map_mle(*quant, t), quant[1]),
           "ex_random": random_init(v, ones, K, np.random.default_rng(0))}
    return out


def run_start(obs, w, mu):
    """One restart as ExponentialMixture._fit runs it: EM (<= 300 passes),
    then the Newton polish.  Returns (total loglik, stationary)."""
    w = np.ascontiguousarray(w, dtype=np.float64).copy()
    mu = np.ascontiguousarray(mu, dtype=np.float64).copy()
    r = _core.fit(obs, w, mu, n_threads=1, history=False, max_iter=TRUNCATION_EM_MAX_ITER,
                  tol=1e-10, accel=1, scale=float(_core.data_scale(obs)))
    runs = [dict(w=w, mu=mu, status=r["status"], n_iter=r["n_iter"], loglik=r["loglik"],
                 kind={1: "empty", 2: "spike"}.get(r["degenerate_kind"], ""))]
    _polish_truncated_runs(obs, runs, 1)
    return runs[0]["loglik"], runs[0]["status"] == 0


def direct(K, w, mu, seed, **data):
    ll, _, _ = direct_mle_grad(K, np.random.default_rng(seed), n_starts=8,
                               scale=float(np.mean(data["exact"])), **data)

    def f(th):
        v, g = loglik_and_grad(th, K, **data)
        return -v, -g

    th0 = np.concatenate((np.log(np.asarray(w[1:]) / w[0]), np.log(mu)))
    with np.errstate(all="ignore"):
        r = minimize(f, th0, jac=True, method="L-BFGS-B",
                     options=dict(maxiter=5000, ftol=1e-15, gtol=1e-10))
        r = minimize(f, r.x, jac=True, method="BFGS", options=dict(maxiter=500, gtol=1e-9))
    return max(ll, -r.fun)


SETS = {"before": ("x_quantile", "k1_spread"),
        "+ex_quantile": ("x_quantile", "k1_spread", "ex_quantile"),
        "+ex_quantile+ex_lloyd": ("x_quantile", "k1_spread", "ex_quantile", "ex_lloyd"),
        "now": ("x_quantile", "k1_spread", "ex_lloyd", "ex_kmeans")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--T", default="60,200")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    summary = {}
    for T in [float(s) for s in args.T.split(",")]:
        for ci, (K, w, mu, n) in enumerate(CONFIGS):
            key = f"T={T:g} K={K} rates={mu}"
            for seed in range(args.seeds):
                rng = np.random.default_rng(1000 * ci + seed)
                t = T * rng.random(n) ** 2
                x = draw_above(rng, t, np.asarray(w), np.asarray(mu))
                obs = from_samples(x, entry=t)
                if obs.dead_time > 0:            # as the fit does
                    obs = obs.shifted()
                res = {k: run_start(obs, *s) for k, s in candidates(obs, t, K).items()}
                best = max(direct(K, w, mu, seed, exact=x, entry=t), max(r[0] for r in res.values()))
                ok = {k: best - r[0] <= 1e-9 * n for k, r in res.items()}
                summary.setdefault(key, []).append(ok)
                print(f"{key} seed={seed}: " + " ".join(
                    f"{k}:{'Y' if ok[k] else '-'}{'' if res[k][1] else '!'}" for k in res), flush=True)
    print()
    for key, rows in summary.items():
        single = " ".join(f"{k}:{sum(r[k] for r in rows)}" for k in rows[0])
        sets = " ".join(f"[{name}]:{sum(any(r[c] for c in cs) for r in rows)}"
                        for name, cs in SETS.items())
        print(f"{key} (of {len(rows)}): {single} | {sets}")


if __name__ == "__main__":
    main()
