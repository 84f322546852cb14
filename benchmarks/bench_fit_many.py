"""fit_many: 2-thread speedup and the share of time spent outside C.

    python benchmarks/bench_fit_many.py [--sets 10000] [--n 500] [--repeat 3]

Times expmix.fit_many(data, 2) on 1 and 2 threads in the same run (best of
--repeat, alternating), and the C call alone (expmix._core.fit_many with the
problem table fit_many builds), so the Python overhead is visible.  A
benchmark, not a test: on a shared machine only the ratios mean something.
"""
import argparse
import time

import numpy as np

import expmix
from expmix import _core


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=10000)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    h = a.n // 2
    data = [np.concatenate([rng.exponential(1.0, h), rng.exponential(0.1, a.n - h)])
            for _ in range(a.sets)]
    values = np.concatenate(data)
    offsets = np.zeros(a.sets + 1, dtype=np.int64)
    np.cumsum([x.shape[0] for x in data], out=offsets[1:])
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
            _core.fit_many(values, None, offsets, np.arange(a.sets, dtype=np.int64),
                           np.full(a.sets, 2, dtype=np.intc), W, M, n_threads=t)
            core[t] = min(core[t], time.perf_counter() - t0)
    print(f"fit_many {a.sets} sets x {a.n} points, K = 2 (best of {a.repeat})")
    print(f"  2 threads: {best[2]:.3f} s   1 thread: {best[1]:.3f} s   "
          f"speedup {best[1] / best[2]:.2f}x")
    print(f"  C call alone: 2 threads {core[2]:.3f} s, 1 thread {core[1]:.3f} s "
          f"(speedup {core[1] / core[2]:.2f}x); Python around it: "
          f"{best[2] - core[2]:.3f} s at 2 threads")


if __name__ == "__main__":
    main()
