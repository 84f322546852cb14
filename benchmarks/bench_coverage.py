"""Coverage of 95 % intervals and level of the bootstrap LRT (a larger
version of the seeded checks in tests/).  Not a test: prints a table.

    python benchmarks/bench_coverage.py [--reps 400] [--n 500] [--boot 199]
                                        [--lrt-reps 200] [--lrt-boot 99]

For a separated 2-component mixture (w = 0.5/0.5, rates 20 and 1) it
reports, per rate, the share of replicates whose interval covers the truth:
Wald (log scale), profile likelihood, nonparametric percentile and BCa, and
parametric percentile bootstrap; for right-censored and binned versions of
the same data the Wald coverage; then the rejection rate of the bootstrap
LRT (1 vs 2 components) on exponential data at alpha = 0.05 and 0.10, with
binomial standard errors.
"""
import argparse
import time
import warnings

import numpy as np

from expmix import ExponentialMixture, inference as inf
from expmix.observations import from_histogram, from_samples
from expmix.selection import bootstrap_lrt


def draw(rng, n, w, mu):
    lab = rng.choice(len(w), size=n, p=w)
    return rng.standard_exponential(n) / mu[lab]


def covered(ci, mu):
    return (ci[:, 0] <= mu) & (mu <= ci[:, 1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--boot", type=int, default=199)
    ap.add_argument("--lrt-reps", type=int, default=200)
    ap.add_argument("--lrt-boot", type=int, default=99)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only-lrt", action="store_true")
    a = ap.parse_args()
    w, mu = np.array([0.5, 0.5]), np.array([20.0, 1.0])
    rng = np.random.default_rng(a.seed)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    if not a.only_lrt:
        coverage(a, w, mu, rng, t0)
    lrt_level(a, rng, t0)


def coverage(a, w, mu, rng, t0):
    data = [draw(rng, a.n, w, mu) for _ in range(a.reps)]
    obs = [from_samples(x) for x in data]
    fits = inf.fit_many(obs, 2, [(w, mu), (np.array([0.3, 0.7]), np.array([5.0, 0.5]))], n_threads=2)
    names = ["wald", "profile", "np-percentile", "np-bca", "par-percentile", "wald-censored",
             "wald-binned"]
    cov = {k: np.zeros(2) for k in names}
    edges = np.array([0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 4, np.inf])
    for i, (o, x, wh, mh, ll) in enumerate(zip(obs, data, fits["w"], fits["mu"], fits["loglik"])):
        se = inf.standard_errors(o, wh, mh, warn=False)
        cov["wald"] += covered(inf.wald_confint(se, wh, mh).rates, mu)
        cov["profile"] += covered(inf.profile_confint(o, wh, mh, ll, se=se).rates, mu)
        b = inf.bootstrap(o, wh, mh, a.boot, random_state=i)
        cov["np-percentile"] += covered(b.confint().rates, mu)
        cov["np-bca"] += covered(b.confint(kind="bca").rates, mu)
        bp = inf.bootstrap(o, wh, mh, a.boot, method="parametric", random_state=i)
        cov["par-percentile"] += covered(bp.confint().rates, mu)
        m = ExponentialMixture(2, rates_init=mu, weights_init=w).fit(np.minimum(x, 2.0),
                                                                     event_observed=x < 2.0)
        cov["wald-censored"] += covered(m.confint().rates, mu)
        m = ExponentialMixture(2, rates_init=mu, weights_init=w).fit_histogram(
            edges, np.histogram(x, edges)[0])
        cov["wald-binned"] += covered(m.confint().rates, mu)
    t1 = time.perf_counter()
    se = np.sqrt(0.95 * 0.05 / a.reps)
    print(f"coverage of 95 % intervals, {a.reps} replicates of N = {a.n}, {a.boot} bootstrap "
          f"reps (binomial se {se:.3f}); {t1 - t0:.1f} s")
    print(f"{'method':>16s} {'rate 20':>9s} {'rate 1':>9s}")
    for k in names:
        c = cov[k] / a.reps
        print(f"{k:>16s} {c[0]:>9.3f} {c[1]:>9.3f}")


def lrt_level(a, rng, t0):
    ps = []
    for i in range(a.lrt_reps):
        o = from_samples(rng.exponential(1.0, 200))
        m1 = ExponentialMixture(1)._fit(o)
        m2 = ExponentialMixture(2, n_init=3, random_state=i)._fit(o)
        ps.append(bootstrap_lrt(o, m1, m2, n_bootstrap=a.lrt_boot, random_state=i)["p_value"])
    ps = np.array(ps)
    for al in (0.05, 0.10):
        r = np.mean(ps <= al)
        print(f"bootstrap LRT 1 vs 2 under the null: rejection rate at alpha={al:.2f}: {r:.3f} "
              f"(binomial se {np.sqrt(al * (1 - al) / a.lrt_reps):.3f}, {a.lrt_reps} data sets, "
              f"{a.lrt_boot} reps)")
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
