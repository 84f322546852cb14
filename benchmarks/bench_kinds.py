"""Per-iteration cost of each observation kind relative to exact data.

One fused pass (E-step + M-statistics + log-likelihood) is timed on N
observations of each kind, K components, at fixed parameters, and reported
relative to the pass on N exact values measured in the same process (the
machine may be shared: only the ratios are meaningful).  Each kind is timed
with its fast dispatched kernel and with the general tile kernel
(``_core._set_general_kinds(True)``), in the same interleaved rounds; the best
round of each is kept.  A second table times whole EM fits (plain EM, a fixed
number of passes) of realistic data sets.

    python benchmarks/bench_kinds.py [--n 1000000] [--k 3] [--threads 1] [--repeat 9]

``_core.pass_stats`` validates the data on every call (em_pass: one read of
the arrays for exact data, three for intervals), which fits do once; the C
benchmark bench_kinds_c.c times the pass as fits run it.
"""
import argparse
import time

import numpy as np

from expmix import _core
from expmix.observations import Observations, from_intervals, from_samples


def draw(rng, n, w, mu):
    lab = rng.choice(len(w), size=n, p=np.asarray(w) / np.sum(w))
    return rng.standard_exponential(n) / np.asarray(mu)[lab]


def _once(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def pass_ratios(n=1_000_000, k=3, threads=1, repeat=9, seed=0):
    """Best time of one fused pass per kind, fast and general kernel.

    Returns ``{kind: (fast_seconds, general_seconds)}``; the ratio of each to
    ``result["exact"][0]`` is the per-pass cost relative to exact data.
    """
    rng = np.random.default_rng(seed)
    w = np.full(k, 1.0 / k)
    mu = np.geomspace(10.0, 0.1, k)
    x = draw(rng, n, w, mu)
    lo = np.floor(x * 20) / 20
    e = rng.uniform(0, 0.05, n)
    xe = e + draw(rng, n, w, mu)
    v = rng.uniform(0.5, 2, n)
    segments = {
        "exact": Observations(exact=x, n_obs=n),
        "exact, weighted": Observations(exact=x, exact_w=v, n_obs=n),
        "right-censored": Observations(right=x, n_obs=n),
        "right-censored, weighted": Observations(right=x, right_w=v, n_obs=n),
        "interval (rounded to 0.05)": Observations(lower=lo, upper=lo + 0.05, n_obs=n),
        "interval, weighted": Observations(lower=lo, upper=lo + 0.05, interval_w=v, n_obs=n),
        "interval, random widths": Observations(lower=lo, upper=lo + rng.uniform(0.025, 0.075, n),
                                                n_obs=n),
        "interval, left-censored [0, u)": Observations(lower=np.zeros(n), upper=lo + 0.05,
                                                         n_obs=n),
        "truncation pairs": Observations(trunc=e, n_obs=n),
        "truncation pairs, weighted": Observations(trunc=e, trunc_w=v, n_obs=n),
        "exact + per-observation entry": Observations(exact=xe, trunc=e, n_obs=n),
    }
    best = {name: [np.inf, np.inf] for name in segments}
    try:
        # rounds interleave the kinds and the kernels, so that a busy period of
        # a shared machine slows every kind alike
        for _ in range(repeat):
            for g in (0, 1):
                _core._set_general_kinds(bool(g))
                for name, obs in segments.items():
                    t = _once(lambda: _core.pass_stats(obs, w, mu, threads))
                    best[name][g] = min(best[name][g], t)
    finally:
        _core._set_general_kinds(False)
    return {name: tuple(t) for name, t in best.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--passes", type=int, default=20, help="passes per timed fit")
    a = ap.parse_args()
    K, n, nt = a.k, a.n, a.threads
    best = pass_ratios(n, K, nt, a.repeat)
    print(f"One fused pass, N = {n:,}, K = {K}, n_threads = {nt}, CPU path "
          f"{_core.cpu_dispatch()} (best of {a.repeat} interleaved rounds)")
    print(f"{'kind':<32s}{'ms / pass':>11s}{'x exact':>9s}{'general ms':>12s}{'x exact':>9s}")
    base = best["exact"][0]
    for name, (tf, tg) in best.items():
        print(f"{name:<32s}{1e3 * tf:>11.2f}{tf / base:>9.2f}{1e3 * tg:>12.2f}{tg / base:>9.2f}")

    rng = np.random.default_rng(1)
    w = np.full(K, 1.0 / K)
    mu = np.geomspace(10.0, 0.1, K)
    x = draw(rng, n, w, mu)
    e = rng.uniform(0, 0.05, n)
    xe = e + draw(rng, n, w, mu)
    lo = np.floor(x * 20) / 20
    c = np.minimum(x, 2.0)
    fits = {
        "exact": from_samples(x),
        "right-censored at 2 (window)": from_samples(c, event_observed=x < 2.0),
        "dead time 0.05 (scalar entry)": from_samples(x[x > 0.05], entry=0.05).shifted(),
        "per-observation entry": from_samples(xe, entry=np.where(np.arange(n) % 2, e, 0.0)),
        "intervals (rounded to 0.05)": from_intervals(lo, lo + 0.05),
    }
    print(f"\nEM fits, plain EM, {a.passes} passes (time per pass; the dead-time fit is the "
          "shifted data the facade fits)")
    print(f"{'data':<32s}{'ms / pass':>11s}{'x exact':>9s}")

    def run(obs):
        ww, mm = w.copy(), mu.copy()
        _core.fit(obs, ww, mm, max_iter=a.passes, tol=0.0, accel=0, n_threads=nt,
                  history=False, interruptible=False)

    bestf = {name: np.inf for name in fits}
    for _ in range(max(2, a.repeat // 2)):
        for name, obs in fits.items():
            bestf[name] = min(bestf[name], _once(lambda: run(obs)) / (a.passes + 1))
    base = bestf["exact"]
    for name, t in bestf.items():
        print(f"{name:<32s}{1e3 * t:>11.3f}{t / base:>9.2f}")


if __name__ == "__main__":
    main()
