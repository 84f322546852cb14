"""Peak extra memory of the facade's fits, per kind of input, at large N.

    python benchmarks/bench_memory.py [--n 1e8] [--iters 3] [--cases exact,weighted,...]

Each case runs in a fresh subprocess: the data are built first, then the
peak RSS growth (resource.getrusage ru_maxrss) and the tracemalloc peak of
the fit alone are reported as a fraction of the data size (the 8-byte
values; plus the weights / flags / second bound where the case has them).
Cases: exact (ExponentialMixture(3).fit(x)), weighted (sample_weight),
censored (event_observed, 10 % censored), intervals (fit_intervals, every
row an interval), histogram (fit_histogram of 1e4 bins), core (the C fit on
the buffer, for reference).  A benchmark, not a test.
"""
import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, tracemalloc, warnings
import numpy as np
import expmix
from expmix import _core, observations
n, iters, what = int(float(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
x = np.empty(n)
for a in range(0, n, 1 << 20):       # the data, without temporaries of size n
    b = min(n, a + (1 << 20))
    m = rng.random(b - a) < 0.4
    x[a:b] = rng.exponential(1.0, b - a) * np.where(m, 0.1, 2.0)
extra_inputs = {}
if what == "weighted":
    extra_inputs["w"] = np.ones(n)
elif what == "censored":
    extra_inputs["ev"] = np.ones(n, dtype=bool)
    extra_inputs["ev"][::10] = False
elif what == "intervals":
    extra_inputs["hi"] = x * 1.01 + 1e-3
elif what == "histogram":
    edges = np.linspace(0.0, 40.0, 10001)
    counts = np.zeros(10000)
    for a in range(0, n, 1 << 20):
        counts += np.histogram(x[a:a + (1 << 20)], bins=edges)[0]
data_bytes = x.nbytes + sum(v.nbytes for v in extra_inputs.values())
m = expmix.ExponentialMixture(3, max_iter=iters, tol=0.0, n_threads=2)
warnings.simplefilter("ignore")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
tracemalloc.start()
if what == "core":
    w, mu = np.array([0.2, 0.3, 0.5]), np.array([10.0, 1.0, 0.1])
    _core.fit(observations.Observations(exact=x), w, mu, max_iter=iters, tol=0.0, n_threads=2)
elif what == "exact":
    m.fit(x)
elif what == "weighted":
    m.fit(x, sample_weight=extra_inputs["w"])
elif what == "censored":
    m.fit(x, event_observed=extra_inputs["ev"])
elif what == "intervals":
    m.fit_intervals(x, extra_inputs["hi"])
elif what == "histogram":
    m.fit_histogram(edges, counts)
cur, peak = tracemalloc.get_traced_memory()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(dict(case=what, n=n, data_bytes=data_bytes, extra=after - before,
                      tracemalloc_peak=peak)))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e8)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--cases", default="core,exact,weighted,censored,intervals,histogram")
    a = ap.parse_args()
    print(f"peak extra memory of a fit, N = {a.n:.0e}, K = 3, {a.iters} iterations")
    for case in a.cases.split(","):
        out = subprocess.run([sys.executable, "-c", CHILD, str(a.n), str(a.iters), case],
                             capture_output=True, text=True, timeout=1800)
        try:
            d = json.loads(out.stdout.strip().splitlines()[-1])
        except Exception:
            print(f"  {case:10s} failed: {out.stderr.strip()[-300:]}")
            continue
        print(f"  {case:10s} extra RSS {d['extra'] / 1e6:9.1f} MB = "
              f"{100 * d['extra'] / d['data_bytes']:7.2f} % of the {d['data_bytes'] / 1e6:.0f} MB "
              f"input; tracemalloc peak {d['tracemalloc_peak'] / 1e6:.1f} MB "
              f"({100 * d['tracemalloc_peak'] / d['data_bytes']:.2f} %)", flush=True)


if __name__ == "__main__":
    main()
