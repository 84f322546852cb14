"""Thread scaling 1 -> 2 threads of the EM pass at N = 1e7 (issue 4, goal 3),
reported honestly on a shared machine.

    python benchmarks/bench_scaling.py [--n 1e7] [--rounds 7] [--iters 10]

In one process and one run, interleaved (1 thread, 2 threads, 1, 2, ...):
  * expmix: wall and CPU time per plain EM pass (``_core.fit``, tol = 0);
  * the machine's ceiling: a pure-compute OpenMP loop (no memory traffic,
    benchmarks/scaling_ceiling.c compiled now with -O2 -fopenmp), timed the
    same way in a child process: what 2 threads can give at that moment;
  * the load average and whether kernel autogrouping is on (with
    sched_autogroup_enabled = 1 a process's threads share one "session"
    share of the CPUs when other sessions are busy).
Reported: the ratio of the minima (min over rounds of 1-thread time / min of
2-thread time), the median of the per-round ratios with its spread, and the
CPU time per pass (2 threads doing the same work should use about the same
CPU time as 1). expmix's scaling is meaningful only next to the ceiling: if
the ceiling is ~1.0x, the machine gave the process one core's worth of time.
Results: benchmarks/results/bench_scaling.json.  A benchmark, not a test.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import MU0, W0, Exact, mixture, save  # noqa: E402

CEILING_SRC = HERE / "scaling_ceiling.c"


def _load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _autogroup():
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return None


class Ceiling:
    """The pure-compute OpenMP loop, compiled now (None-like when no compiler)."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="expmix-ceil-"))
        self.exe = self.tmp / "ceil"
        cc = os.environ.get("CC", "gcc")
        self.ok = False
        if shutil.which(cc) and CEILING_SRC.is_file():
            r = subprocess.run([cc, "-O2", "-fopenmp", str(CEILING_SRC), "-lm", "-o",
                                str(self.exe)], capture_output=True, text=True)
            self.ok = r.returncode == 0

    def seconds(self, n_threads, work=40_000_000):
        out = subprocess.run([str(self.exe), str(work)], capture_output=True, text=True,
                             check=True, env=dict(os.environ, OMP_NUM_THREADS=str(n_threads)))
        return float(json.loads(out.stdout)["wall"])

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def expmix_pass(obs, n_threads, iters):
    from expmix import _core
    w, mu = W0.copy(), MU0.copy()
    t, c = time.perf_counter(), time.process_time()
    _core.fit(obs, w, mu, max_iter=iters - 1, tol=0.0, accel=0, n_threads=n_threads,
              history=False)
    return (time.perf_counter() - t) / iters, (time.process_time() - c) / iters


def summarize(t1, t2):
    r = np.asarray(t1) / np.asarray(t2)
    return dict(min_1=min(t1), min_2=min(t2), ratio_of_minima=min(t1) / min(t2),
                median_ratio=float(np.median(r)), ratio_lo=float(r.min()),
                ratio_hi=float(r.max()))


def run(n=10**7, rounds=7, iters=10, x=None, verbose=True):
    """Interleaved 1/2-thread measurements of expmix and of the ceiling."""
    x = mixture(n) if x is None else x
    obs = Exact(x)
    ceil = Ceiling()
    expmix_pass(obs, 1, 2)
    expmix_pass(obs, 2, 2)
    e1, e2, c1, c2, cpu1, cpu2, loads = [], [], [], [], [], [], []
    for _ in range(rounds):
        loads.append(_load())
        a = expmix_pass(obs, 1, iters)
        b = expmix_pass(obs, 2, iters)
        e1.append(a[0]), cpu1.append(a[1]), e2.append(b[0]), cpu2.append(b[1])
        if ceil.ok:
            c1.append(ceil.seconds(1))
            c2.append(ceil.seconds(2))
    ceil.close()
    out = dict(n=int(x.shape[0]), rounds=rounds, iters=iters, load_avg=loads,
               autogroup=_autogroup(), cpu_count=os.cpu_count(),
               expmix=summarize(e1, e2), expmix_cpu_per_pass_1=float(np.median(cpu1)),
               expmix_cpu_per_pass_2=float(np.median(cpu2)),
               ceiling=summarize(c1, c2) if c1 else None)
    if verbose:
        s = out["expmix"]
        print(f"load average {min(loads):.1f}-{max(loads):.1f}, autogroup {out['autogroup']}, "
              f"{out['cpu_count']} CPUs")
        print(f"expmix pass N={n:.0e}: 1 thread {s['min_1'] * 1e3:.1f} ms, 2 threads "
              f"{s['min_2'] * 1e3:.1f} ms (min of {rounds}); scaling {s['ratio_of_minima']:.2f}x "
              f"(median {s['median_ratio']:.2f}x, range {s['ratio_lo']:.2f}-{s['ratio_hi']:.2f}); "
              f"CPU/pass {out['expmix_cpu_per_pass_1'] * 1e3:.1f} vs "
              f"{out['expmix_cpu_per_pass_2'] * 1e3:.1f} ms")
        if out["ceiling"]:
            c = out["ceiling"]
            print(f"ceiling (pure compute OpenMP loop): scaling {c['ratio_of_minima']:.2f}x "
                  f"(median {c['median_ratio']:.2f}x, range {c['ratio_lo']:.2f}-"
                  f"{c['ratio_hi']:.2f})")
            print(f"expmix / ceiling: {s['ratio_of_minima'] / c['ratio_of_minima']:.2f}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iters", type=int, default=10)
    a = ap.parse_args(argv)
    out = run(int(a.n), a.rounds, a.iters)
    save("bench_scaling.json", out)
    return out


if __name__ == "__main__":
    main()
