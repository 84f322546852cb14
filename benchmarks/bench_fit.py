"""expmix vs a textbook numpy EM (N x K responsibilities): same data, same
start, K = 3, N = 1e5, 1e6, 1e7.  Prints per-iteration time and time to
converge (|dLL/N| < 1e-10) with their ratios.

    python benchmarks/bench_fit.py [--max-n 1e7] [--threads 2]

At N = 1e7 the numpy EM is not run to convergence (it would take many minutes):
its time to converge is reported as (its measured time per iteration) x (the
number of plain-EM iterations expmix needed from the same start, which is the
same algorithm), marked "est".
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MU0, W0, Exact, best_of, expmix_time_per_iter, mixture, numpy_em, save  # noqa


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-n", type=float, default=1e7)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    from expmix import _core
    rows = []
    print(f"expmix {_core.cpu_dispatch()} path, {a.threads} threads; numpy EM single-threaded "
          "(NumPy ufuncs)")
    print(f"{'N':>10} {'expmix/iter':>12} {'numpy/iter':>12} {'ratio':>7} | "
          f"{'expmix conv':>12} {'(passes)':>9} {'numpy conv':>12} {'(iters)':>8} {'ratio':>8}")
    for n in [10**5, 10**6, 10**7]:
        if n > a.max_n:
            break
        x = mixture(n)
        obs = Exact(x)
        t_ex = expmix_time_per_iter(x, a.threads)
        it_np = 3 if n >= 10**7 else 5
        t_np = best_of(lambda: numpy_em(x, W0, MU0, it_np), 2) / it_np

        # time to converge: expmix default (SQUAREM) and numpy plain EM
        res = {}

        def run_ex(accel):
            w, mu = W0.copy(), MU0.copy()
            res[accel] = _core.fit(obs, w, mu, max_iter=100000, tol=1e-10, accel=accel,
                                   n_threads=a.threads, history=False)
        t_conv_ex = best_of(lambda: run_ex(1), 2)
        run_ex(0)
        plain_iters = int(res[0]["n_iter"])
        if n < 10**7:
            t0 = time.perf_counter()
            _, _, np_iters = numpy_em(x, W0, MU0, 100000, tol=1e-10)
            t_conv_np = time.perf_counter() - t0
            est = ""
        else:
            np_iters = plain_iters
            t_conv_np = t_np * plain_iters
            est = " est"
        row = dict(n=n, expmix_s_per_iter=t_ex, numpy_s_per_iter=t_np,
                   per_iter_ratio=t_np / t_ex, expmix_s_converge=t_conv_ex,
                   expmix_passes=int(res[1]["n_passes"]), numpy_s_converge=t_conv_np,
                   numpy_iters=int(np_iters), numpy_converge_estimated=bool(est),
                   converge_ratio=t_conv_np / t_conv_ex, plain_em_iters=plain_iters)
        rows.append(row)
        print(f"{n:>10.0e} {t_ex * 1e3:>10.2f}ms {t_np * 1e3:>10.1f}ms {t_np / t_ex:>6.0f}x | "
              f"{t_conv_ex:>11.3f}s {row['expmix_passes']:>9d} {t_conv_np:>11.2f}s"
              f"{est:<4}{np_iters:>5d} {t_conv_np / t_conv_ex:>7.0f}x", flush=True)
    save("bench_fit.json", dict(cpu_path=_core.cpu_dispatch(), threads=a.threads, rows=rows))
    return rows


if __name__ == "__main__":
    main()
