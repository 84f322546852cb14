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


def _pomegranate():
    """(torch, Exponential, GeneralMixtureModel), or None when pomegranate
    (optional, not an extra of expmix: it pulls in torch) is not installed."""
    try:
        import torch
        from pomegranate.distributions import Exponential
        from pomegranate.gmm import GeneralMixtureModel
    except Exception:  # ImportError, or a broken torch install
        return None
    return torch, Exponential, GeneralMixtureModel


def pomegranate_fit(x, w0=None, mu0=None, *, k=None, max_iter=10, tol=float("-inf"),
                    n_threads=None, random_state=0):
    """Fit a K-component exponential mixture with pomegranate 1.x
    (GeneralMixtureModel of Exponential), the way a user would, in float64.

    With a start (w0, mu0: weights and *rates*; pomegranate's Exponential takes
    scales = 1 / rate) the model starts there and runs plain EM: each of its
    ``max_iter`` iterations is one E-step over the data (``summarize``) and one
    M-step (``from_summaries``); ``tol = -inf`` never stops early.  Without a
    start (``k`` components) pomegranate initializes itself (3 k-means
    iterations, its default).  ``tol`` is pomegranate's: on the *total*
    log-likelihood improvement.

    The data are float64.  With a start everything is float64: torch's
    default dtype is switched to float64 while the model is built and fitted
    (pomegranate allocates its sufficient-statistic buffers with the default
    dtype, float32 otherwise, even for float64 data and parameters) and
    restored afterwards.  Without a start the default dtype stays (float32):
    pomegranate's k-means hard-codes float32 and fails under a float64
    default, so the buffers are float32 there, as for any pomegranate user.
    The number of torch threads is restored too.  Returns (weights, rates, seconds of m.fit), or None if
    pomegranate is not installed.
    """
    mods = _pomegranate()
    if mods is None:
        return None
    torch, Exponential, GeneralMixtureModel = mods
    old_dtype, old_threads = torch.get_default_dtype(), torch.get_num_threads()
    if w0 is not None:
        torch.set_default_dtype(torch.float64)
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        X = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float64).reshape(-1, 1))
        if w0 is None:
            dists = [Exponential() for _ in range(k)]
            m = GeneralMixtureModel(dists, max_iter=max_iter, tol=tol,
                                    random_state=random_state)
        else:
            dists = [Exponential(torch.tensor([1.0 / float(r)])) for r in mu0]
            m = GeneralMixtureModel(dists, priors=torch.tensor(np.asarray(w0, float)),
                                    max_iter=max_iter, tol=tol)
        t = time.perf_counter()
        m.fit(X)
        t = time.perf_counter() - t
        w = m.priors.detach().numpy().astype(float)
        rates = np.array([1.0 / float(d.scales[0]) for d in m.distributions])
    finally:
        torch.set_default_dtype(old_dtype)
        torch.set_num_threads(old_threads)
    return w, rates, t


def pomegranate_time_per_iter(x, n_threads, iters=3, repeats=2, w0=W0, mu0=MU0):
    """Seconds per pomegranate EM iteration (plain EM from the common start):
    best-of-``repeats`` fit time with 1 + iters iterations minus that with 1,
    divided by iters (the one-off set-up cancels, as in expmix_time_per_iter).
    None if pomegranate is not installed."""
    if _pomegranate() is None:
        return None

    def fit_time(m):
        return min(pomegranate_fit(x, w0, mu0, max_iter=m, n_threads=n_threads)[2]
                   for _ in range(repeats))
    t_short = fit_time(1)
    t_long = fit_time(1 + iters)
    return max(t_long - t_short, 1e-9) / iters


def pomegranate_loop(datasets, k, n_threads=None, tol_per_point=1e-3, max_iter=100,
                     random_state=0):
    """A Python loop of pomegranate fits, one per data set (its own k-means
    start), as a user without fit_many would write it.  The stopping rule is
    scikit-learn GaussianMixture's default converted to pomegranate's total-
    log-likelihood rule: gain < tol_per_point * n (1e-3 per point), at most
    max_iter = 100 iterations (looser than pomegranate's own default, tol =
    0.1, so the loop is timed at its fastest sensible setting).  Returns
    (seconds per data set, list of (weights, rates)), or None if pomegranate
    is not installed."""
    if _pomegranate() is None:
        return None
    fits = []
    t = time.perf_counter()
    for x in datasets:
        w, rates, _ = pomegranate_fit(x, k=k, max_iter=max_iter, tol=tol_per_point * len(x),
                                      n_threads=n_threads, random_state=random_state)
        fits.append((w, rates))
    return (time.perf_counter() - t) / len(datasets), fits


def mixture_loglik(x, w, rates):
    """Log-likelihood of exact data x under the exponential mixture (w, rates)."""
    w, rates = np.asarray(w, float), np.asarray(rates, float)
    a = np.log(w) + np.log(rates) - np.outer(x, rates)
    m = a.max(axis=1)
    return float(np.sum(m + np.log(np.exp(a - m[:, None]).sum(axis=1))))


def agreement(datasets, fits, ref_rates, ref_loglik, rtol=0.05):
    """How close the fits of a loop (list of (weights, rates)) are to
    fit_many's: the fraction of data sets whose sorted rates agree within
    rtol, and the median and largest of (fit_many LL - loop LL) / n."""
    same, gaps = 0, []
    for x, (w, rates), ref, ll in zip(datasets, fits, ref_rates, ref_loglik):
        ref = np.sort(np.asarray(ref, float)[np.isfinite(ref)])
        r = np.sort(np.asarray(rates, float))
        same += bool(r.shape == ref.shape and np.all(np.abs(r / ref - 1) <= rtol))
        gaps.append((ll - mixture_loglik(x, w, rates)) / len(x))
    gaps = np.asarray(gaps)
    return dict(rates_within=rtol, fraction_same_rates=same / len(fits),
                median_ll_gap_per_point=float(np.nanmedian(gaps)),
                max_ll_gap_per_point=float(np.nanmax(gaps)))
