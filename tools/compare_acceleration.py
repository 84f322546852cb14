"""Compare the accelerations ("anderson", "squarem", "none") on many random problems
(K = 1..4, N = 60..20000).

For every problem (K, N, data kind, true parameters drawn at random, rates from well
separated to overlapping) each method fits from the same starts (same random_state) with
the default tol; a reference optimum is the best of long runs (tol=1e-15, max_iter=10**5)
of all methods.  Prints, per method, how often a converged fit stopped more than 1e-9 (mean log-likelihood)
below the reference, the worst shortfall, the total and median passes, and non-converged
counts, and how often a converged fit ended more than 1e-6 (mean log-likelihood)
below / above where plain EM ends from the same start (20,000 passes, tol=1e-15):
an extrapolation that jumped into another basin.  Used to choose the default acceleration (docs/numerics.md).

    python tools/compare_acceleration.py [n_problems] [seed]
"""
import sys
import warnings
import zlib

import numpy as np

import expmix

METHODS = ("anderson", "squarem", "none")


def problem(rng):
    K = int(rng.integers(1, 5))
    N = int(rng.choice([60, 300, 2000, 20000]))
    spread = rng.choice([1.2, 2.0, 5.0, 30.0])
    rates = np.sort(spread ** np.arange(K) * rng.uniform(0.5, 2.0))[::-1]
    w = rng.dirichlet(np.full(K, 2.0))
    z = rng.choice(K, size=N, p=w)
    x = rng.exponential(1.0 / rates[z])
    kind = rng.choice(["exact", "right", "entry", "dead", "hist", "weighted"])
    kw = {}
    if kind == "right":
        c = rng.exponential(2.0 * np.median(x), size=N)
        kw["event_observed"] = x <= c
        x = np.minimum(x, c)
    elif kind == "entry":
        t = rng.uniform(0, np.quantile(x, 0.3), size=N)
        keep = x > t
        x, kw["entry"] = x[keep], t[keep]
    elif kind == "dead":
        t = np.quantile(x, 0.1)
        x = x[x > t]
        kw["entry"] = t
    elif kind == "weighted":
        kw["sample_weight"] = rng.uniform(0.2, 3.0, size=x.shape[0])
    if kind == "hist":
        edges = np.unique(np.quantile(x, np.linspace(0, 1, 31)))
        edges[0] = 0.0
        edges = np.append(edges[:-1], np.inf)
        counts = np.histogram(x, bins=np.append(edges[:-1], x.max() + 1))[0]
        return K, ("hist", edges, counts), kind
    return K, ("fit", x, kw), kind


def run(K, data, method, seed, **opts):
    m = expmix.ExponentialMixture(K, acceleration=method, random_state=seed, **opts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if data[0] == "hist":
            m.fit_histogram(data[1], data[2])
        else:
            m.fit(data[1], **data[2])
    return m.log_likelihood_ / m.total_weight_, m.n_iter_ + 1, m.converged_


def main(n=200, seed=0):
    rng = np.random.default_rng(seed)
    short = {m: [] for m in METHODS}
    passes = {m: [] for m in METHODS}
    nonconv = {m: 0 for m in METHODS}
    worst = {m: (0.0, None) for m in METHODS}
    basin = {m: [0, 0] for m in METHODS}   # converged below / above plain EM's end
    for i in range(n):
        K, data, kind = problem(rng)
        s = zlib.crc32(f"{seed}-{i}".encode())
        ref = max(run(K, data, m, s, tol=1e-15, max_iter=10**5)[0] for m in METHODS[:2])
        plain = run(K, data, "none", s, tol=1e-15, max_iter=20000)[0]
        ref = max(ref, plain)
        for m in METHODS:
            ll, p, conv = run(K, data, m, s)
            gap = ref - ll
            if conv and ll < plain - 1e-6:
                basin[m][0] += 1
            elif conv and ll > plain + 1e-6:
                basin[m][1] += 1
            short[m].append(conv and gap > 1e-9)
            passes[m].append(p)
            nonconv[m] += not conv
            if conv and gap > worst[m][0]:
                worst[m] = (gap, (i, K, kind))
    print(f"{n} problems, seed {seed}")
    print(f"{'method':10s} {'>1e-9 short':>12s} {'worst gap':>10s} {'where':>22s} "
          f"{'passes':>8s} {'median':>7s} {'not conv':>8s} {'<plain':>7s} {'>plain':>7s}")
    for m in METHODS:
        print(f"{m:10s} {sum(short[m]):12d} {worst[m][0]:10.2e} {str(worst[m][1]):>22s} "
              f"{sum(passes[m]):8d} {np.median(passes[m]):7.0f} {nonconv[m]:8d} "
              f"{basin[m][0]:7d} {basin[m][1]:7d}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, int(sys.argv[2]) if len(sys.argv) > 2 else 0)
