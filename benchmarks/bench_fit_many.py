"""fit_many: 2-thread speedup and the share of time spent outside C.

    python benchmarks/bench_fit_many.py [--sets 10000] [--n 500] [--repeat 3]
                                        [--loop-sets 200] [--censored] [--row-entry]

Times expmix.fit_many(data, 2) on 1 and 2 threads in the same run (best of
--repeat, alternating), and the C call alone (expmix._core.fit_many with the
problem table fit_many builds), so the Python overhead is visible.  Then the
same data censored at a recording end and seen above a dead time
(``event_observed=``, ``entry=`` scalar; ``--censored``), and with
per-observation entry times on a tenth of the data sets (``--row-entry``),
against the exact fits of the same run.  If pomegranate is installed
(optional, not an extra: it pulls in torch), also a Python loop of
pomegranate fits on the first --loop-sets data sets, extrapolated to --sets
(as run_all.py's scikit-learn loop), at scikit-learn's stopping rule (gain <
1e-3 per point) and at 1e-6 per point, with how far its fits are from
fit_many's.  A benchmark, not a test: on a shared machine only the ratios
mean something.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

import expmix
from expmix import _core

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import agreement, pomegranate_loop  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=10000)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--censored", action="store_true", help="also time censored + dead time")
    ap.add_argument("--row-entry", action="store_true",
                    help="also time per-observation entry times (a tenth of the data sets)")
    ap.add_argument("--loop-sets", type=int, default=200)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    h = a.n // 2
    data = [np.concatenate([rng.exponential(1.0, h), rng.exponential(0.1, a.n - h)])
            for _ in range(a.sets)]
    table = _core.ExactSets(data, None, None)     # the pointer table fit_many builds
    best = {1: np.inf, 2: np.inf}
    core = {1: np.inf, 2: np.inf}
    for _ in range(a.repeat):
        for t in (2, 1):
            t0 = time.perf_counter()
            expmix.fit_many(data, 2, random_state=0, n_threads=t)
            best[t] = min(best[t], time.perf_counter() - t0)
            W = np.full((a.sets, 2), np.nan)
            M = np.full((a.sets, 2), np.nan)
            t0 = time.perf_counter()
            _core.fit_many(table, np.arange(a.sets, dtype=np.int64),
                           np.full(a.sets, 2, dtype=np.intc), W, M, n_threads=t)
            core[t] = min(core[t], time.perf_counter() - t0)
    print(f"fit_many {a.sets} sets x {a.n} points, K = 2 (best of {a.repeat})")
    print(f"  2 threads: {best[2]:.3f} s   1 thread: {best[1]:.3f} s   "
          f"speedup {best[1] / best[2]:.2f}x")
    print(f"  C call alone: 2 threads {core[2]:.3f} s, 1 thread {core[1]:.3f} s "
          f"(speedup {core[1] / core[2]:.2f}x); Python around it: "
          f"{best[2] - core[2]:.3f} s at 2 threads")
    if a.censored:
        dead = 0.005
        cens = [np.minimum(x[x > dead], 3.0) for x in data]
        evs = [x[x > dead] < 3.0 for x in data]
        tc = {1: np.inf, 2: np.inf}
        te = {1: np.inf, 2: np.inf}
        for _ in range(a.repeat):
            for t in (2, 1):
                t0 = time.perf_counter()
                expmix.fit_many(data, 2, random_state=0, n_threads=t, acceleration="squarem")
                te[t] = min(te[t], time.perf_counter() - t0)
                t0 = time.perf_counter()
                expmix.fit_many(cens, 2, event_observed=evs, entry=dead, random_state=0,
                                n_threads=t, acceleration="squarem")
                tc[t] = min(tc[t], time.perf_counter() - t0)
        print(f"  censored at 3 + dead time {dead}: 2 threads {tc[2]:.3f} s, 1 thread "
              f"{tc[1]:.3f} s; exact {te[2]:.3f} / {te[1]:.3f} s (ratio {tc[2] / te[2]:.2f}x / "
              f"{tc[1] / te[1]:.2f}x)")
    if a.row_entry:
        m = max(1, a.sets // 10)
        rr = np.random.default_rng(1)
        ents = [rr.uniform(0.0, 0.5, x.shape[0]) for x in data[:m]]
        xs = [t + x for t, x in zip(ents, data[:m])]
        tr = te1 = np.inf
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            expmix.fit_many(data[:m], 2, random_state=0, n_threads=2, acceleration="squarem")
            te1 = min(te1, time.perf_counter() - t0)
            t0 = time.perf_counter()
            expmix.fit_many(xs, 2, entry=ents, random_state=0, n_threads=2,
                            acceleration="squarem")
            tr = min(tr, time.perf_counter() - t0)
        print(f"  per-observation entry times, {m} sets, 2 threads: {tr:.3f} s against "
              f"{te1:.3f} s exact ({tr / te1:.0f}x; starts and Newton polish in Python)")
    sub = data[:a.loop_sets]
    res = expmix.fit_many(sub, 2, random_state=0, n_threads=1)
    for tpp in (1e-3, 1e-6):
        out = pomegranate_loop(sub, 2, n_threads=1, tol_per_point=tpp,
                               max_iter=100 if tpp >= 1e-3 else 1000)
        if out is None:
            print("  pomegranate loop: skipped (not installed)")
            break
        per, fits = out
        ag = agreement(sub, fits, res.rates, res.log_likelihood)
        print(f"  Python loop of pomegranate (1 torch thread), tol {tpp:.0e}/point: "
              f"{per * 1e3:.2f} ms per data set, {per * a.sets:.1f} s extrapolated to "
              f"{a.sets}: fit_many (2 threads) is {per * a.sets / best[2]:.0f}x faster; "
              f"rates within 5 % of fit_many's on {100 * ag['fraction_same_rates']:.0f} % "
              f"of {len(sub)} data sets, LL short by {ag['median_ll_gap_per_point']:.1e}"
              f"/point (median)")


if __name__ == "__main__":
    main()
