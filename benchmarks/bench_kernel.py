"""The exact-data kernel per CPU path against the reference kernel, as ratios
measured in one run (interleaved rounds, best of each): K = 3, unit weights.

    python benchmarks/bench_kernel.py [--n 1e7] [--threads 2] [--rounds 3]

The reference is ../shared/bench/reference_kernel.c compiled now with
-O3 -march=native -ffast-math -fopenmp (see _common.RefKernel); expmix runs
its shipped (portable, dispatched) build, each path forced with
_core.set_cpu_dispatch.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RefKernel, expmix_time_per_iter, mixture, save  # noqa


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args(argv)
    from expmix import _core
    order = ["baseline", "avx2", "avx512"]
    paths = order[:order.index(_core.cpu_best()) + 1]
    x = mixture(int(a.n))
    ref = RefKernel()
    if not ref.ok:
        print(f"reference kernel unavailable: {ref.why}")
        return None
    best = {p: float("inf") for p in paths + ["ref"]}
    try:
        for _ in range(a.rounds):
            best["ref"] = min(best["ref"], ref.time_per_iter(x, a.threads))
            for p in paths:
                _core.set_cpu_dispatch(p)
                best[p] = min(best[p], expmix_time_per_iter(x, a.threads, repeats=2))
    finally:
        _core.set_cpu_dispatch("auto")
    print(f"N = {int(a.n):.0e}, K = 3, {a.threads} threads, per EM iteration (best of {a.rounds})")
    print(f"  reference kernel (-O3 -march=native -ffast-math): {best['ref'] * 1e3:8.2f} ms")
    for p in paths:
        print(f"  expmix {p:<9} {best[p] * 1e3:8.2f} ms   {best[p] / best['ref']:6.3f} x reference"
              + (f"   {best[p] / best[paths[-1]]:5.2f} x {paths[-1]}" if p != paths[-1] else ""))
    save("bench_kernel.json", dict(n=int(a.n), threads=a.threads,
                                   s_per_iter={k: v for k, v in best.items()}))
    return best


if __name__ == "__main__":
    main()
