"""Ctrl-C latency of a long fit (issue 8): SIGINT during
``ExponentialMixture(K).fit(x)`` at N = 1e7 and 1e8, sent at several moments
(during the input checks and the starting point, and during the EM passes).

    python benchmarks/bench_interrupt.py [--n 1e7,1e8] [--k 3] [--threads 2]
                                         [--delays 0.05,0.3,1,3,6] [--repeats 2]

One child process per N builds the data once, fits a small slice (the
"previous state"), then for every delay starts a full fit (tol = 0, no
iteration limit), sends SIGINT to itself from a timer thread after that delay
(os.kill) and measures, inside the child, the time from os.kill to the
``except KeyboardInterrupt`` clause.  It also checks that the estimator kept
its previous fit bit for bit, and reports the time of one EM pass (wall and
CPU) and of the work before the first pass, so the latency can be read
against them.  A benchmark, not a test (tests/test_concurrency.py has the
sub-second test at N = 2e6).  Results: benchmarks/results/bench_interrupt.json.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

CHILD = r"""
import json, os, signal, sys, threading, time, warnings
import numpy as np
from expmix import ExponentialMixture, _core
warnings.simplefilter("ignore")
n, K, nt = int(float(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
delays = [float(v) for v in sys.argv[4].split(",")]
repeats, accel = int(sys.argv[5]), sys.argv[6]
rng = np.random.default_rng(1)
x = np.empty(n)
for a in range(0, n, 1 << 20):
    b = min(n, a + (1 << 20))
    x[a:b] = rng.standard_exponential(b - a) / rng.choice([10.0, 1.0, 0.1], b - a)

sys.path.insert(0, sys.argv[7])
from _common import Exact as Obs

# one EM pass (wall, CPU) and the work before the first pass
w0, mu0 = np.array([0.4, 0.4, 0.2]), np.array([5.0, 0.5, 0.05])
if K != 3:
    w0, mu0 = np.full(K, 1.0 / K), np.geomspace(10.0, 0.1, K)
t, c = time.perf_counter(), time.process_time()
_core.fit(Obs(x), w0.copy(), mu0.copy(), max_iter=4, tol=0.0, accel=0, n_threads=nt,
          history=False)
pass_wall, pass_cpu = (time.perf_counter() - t) / 5, (time.process_time() - c) / 5
t = time.perf_counter()
ExponentialMixture(K, max_iter=0, n_threads=nt).fit(x)
setup_wall = time.perf_counter() - t - pass_wall   # checks + start, without its one pass

m = ExponentialMixture(K, max_iter=5, random_state=0, n_threads=nt,
                       acceleration=accel).fit(x[:2000])
before = (m.rates_.copy(), m.weights_.copy(), m.log_likelihood_)
m.set_params(tol=0.0, max_iter=10**7)
rows = []
for d in delays:
    for _ in range(repeats):
        sent = []
        def kill():
            sent.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)
        timer = threading.Timer(d, kill)
        t0 = time.perf_counter()
        timer.start()
        try:
            m.fit(x)
            lat, what = float("nan"), "finished"
        except KeyboardInterrupt:
            lat, what = time.perf_counter() - sent[0], "interrupted"
        timer.join()
        ok = (np.array_equal(m.rates_, before[0]) and np.array_equal(m.weights_, before[1])
              and m.log_likelihood_ == before[2])
        rows.append(dict(delay=d, latency=lat, outcome=what, previous_state_kept=bool(ok)))
        time.sleep(0.2)
print(json.dumps(dict(n=n, K=K, threads=nt, acceleration=accel, pass_wall=pass_wall,
                      pass_cpu=pass_cpu, setup_wall=setup_wall, rows=rows)))
"""


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="1e7,1e8")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--delays", default="0.05,0.3,1,3,6")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--acceleration", default="squarem")
    a = ap.parse_args(argv)
    out = []
    for n in a.n.split(","):
        p = subprocess.run([sys.executable, "-c", CHILD, n, str(a.k), str(a.threads), a.delays,
                            str(a.repeats), a.acceleration,
                            str(Path(__file__).resolve().parent)], capture_output=True, text=True,
                           timeout=3600)
        if p.returncode != 0:
            print(p.stderr)
            raise SystemExit(f"child for N = {n} failed")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        out.append(r)
        print(f"N = {r['n']:.0e}, K = {r['K']}, {r['threads']} threads, {r['acceleration']}: "
              f"one pass {r['pass_wall'] * 1e3:.0f} ms wall ({r['pass_cpu'] * 1e3:.0f} ms CPU), "
              f"checks + start {r['setup_wall'] * 1e3:.0f} ms", flush=True)
        lats = [row["latency"] for row in r["rows"] if row["outcome"] == "interrupted"]
        for row in r["rows"]:
            print(f"   SIGINT at {row['delay']:5.2f} s: {row['outcome']:<11} latency "
                  f"{row['latency'] * 1e3:7.1f} ms, previous state kept: "
                  f"{row['previous_state_kept']}", flush=True)
        if lats:
            print(f"   max latency {max(lats) * 1e3:.0f} ms, median "
                  f"{sorted(lats)[len(lats) // 2] * 1e3:.0f} ms over {len(lats)} interrupts")
    save("bench_interrupt.json", out)
    return out


if __name__ == "__main__":
    main()
