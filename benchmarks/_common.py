"""Shared helpers of the expmix benchmarks (not tests; timings are noisy on a
shared machine, so everything is best-of-several and reported as ratios
measured in the same run)."""
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _find_ref():
    """reference_kernel.c: $EXPMIX_REF_KERNEL, or ../shared/bench/ relative to
    the repository root (or to a parent of it, for git worktrees)."""
    env = os.environ.get("EXPMIX_REF_KERNEL")
    if env:
        return Path(env).resolve()
    for base in [ROOT, *ROOT.parents]:
        cand = base / ".." / "shared" / "bench" / "reference_kernel.c"
        if cand.is_file():
            return cand.resolve()
    return (ROOT / ".." / "shared" / "bench" / "reference_kernel.c").resolve()


REF_SRC = _find_ref()
W_TRUE = np.array([0.5, 0.3, 0.2])
MU_TRUE = np.array([10.0, 1.0, 0.1])
W0 = np.array([0.4, 0.4, 0.2])        # common start of every EM implementation
MU0 = np.array([5.0, 0.5, 0.05])


def mixture(n, w=W_TRUE, mu=MU_TRUE, seed=1, chunk=1_000_000, out=None):
    """n draws from the mixture, generated in chunks (no transient of size n)."""
    rng = np.random.default_rng(seed)
    x = np.empty(n) if out is None else out
    for i in range(0, n, chunk):
        m = min(chunk, n - i)
        k = rng.choice(len(w), m, p=w)
        x[i:i + m] = rng.exponential(1.0, m) / np.asarray(mu)[k]
    return x


def best_of(fn, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


class Exact:
    """Minimal observation set for expmix._core (exact values only)."""

    def __init__(self, x, w=None):
        self.exact, self.exact_w = x, w
        self.right = self.right_w = self.lower = self.upper = self.interval_w = None
        self.trunc = self.trunc_w = None


def expmix_time_per_iter(x, n_threads, repeats=3, iters=None, K=3, w0=W0, mu0=MU0):
    """Seconds per EM iteration inside the C loop (plain EM, difference of two
    fit lengths so that the one-off validation and set-up cancel)."""
    from expmix import _core
    obs = Exact(x)
    scale = float(_core.data_scale(obs))
    if iters is None:
        iters = int(min(max(10, 2e7 / x.shape[0]), 2000))

    def run(m):
        w, mu = w0[:K].copy(), mu0[:K].copy()
        _core.fit(obs, w, mu, max_iter=m, tol=0.0, accel=0, n_threads=n_threads, scale=scale,
                  history=False, interruptible=False)
    t_short = best_of(lambda: run(1), repeats)
    t_long = best_of(lambda: run(1 + iters), repeats)
    return max(t_long - t_short, 1e-9) / iters


def numpy_em(x, w, mu, max_iter, tol=0.0):
    """Textbook EM with N x K responsibilities (the usual numpy code)."""
    w, mu = np.array(w, float), np.array(mu, float)
    n = x.shape[0]
    prev = -np.inf
    it = 0
    for it in range(1, max_iter + 1):
        a = np.log(w) + np.log(mu) - np.outer(x, mu)
        m = a.max(axis=1, keepdims=True)
        e = np.exp(a - m)
        s = e.sum(axis=1, keepdims=True)
        r = e / s
        ll = float(np.sum(m[:, 0] + np.log(s[:, 0])))
        R = r.sum(axis=0)
        X = r.T @ x
        w, mu = R / n, R / X
        if abs(ll - prev) < tol * n:
            break
        prev = ll
    return w, mu, it


class RefKernel:
    """../shared/bench/reference_kernel.c compiled now (None if unavailable)."""

    def __init__(self, flags=("-O3", "-march=native", "-ffast-math", "-fopenmp")):
        self.ok = False
        self.tmp = Path(tempfile.mkdtemp(prefix="expmix-ref-"))
        cc = os.environ.get("CC", "gcc")
        if not REF_SRC.is_file() or shutil.which(cc) is None:
            self.why = f"not found: {REF_SRC}" if not REF_SRC.is_file() else f"no {cc}"
            return
        self.exe = self.tmp / "refk"
        r = subprocess.run([cc, *flags, str(REF_SRC), "-lm", "-o", str(self.exe)],
                           capture_output=True, text=True)
        self.ok = r.returncode == 0
        self.why = r.stderr[-500:]
        self.flags = " ".join(flags)
        self._data = None

    def time_per_iter(self, x, n_threads, iters=8):
        if self._data is None or self._data[0] is not x:
            path = self.tmp / "x.f64"
            x.tofile(path)
            self._data = (x, path)
        args = [str(self.exe), "em", str(self._data[1]), str(iters), "-1",
                *map(repr, W0.tolist()), *map(repr, MU0.tolist())]
        out = subprocess.run(args, capture_output=True, text=True, check=True,
                             env=dict(os.environ, OMP_NUM_THREADS=str(n_threads)))
        return float(json.loads(out.stdout)["s_per_iter_min"])

    def bandwidth(self, n=10_000_000, reps=10, n_threads=2):
        out = subprocess.run([str(self.exe), "bw", str(n), str(reps)], capture_output=True,
                             text=True, env=dict(os.environ, OMP_NUM_THREADS=str(n_threads)))
        try:
            return json.loads(out.stdout)
        except Exception:
            return None

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def save(name, obj):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(obj, indent=2, default=float))
    return path
