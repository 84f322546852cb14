"""All expmix benchmarks in one run, printing a table of ratios.

    python benchmarks/run_all.py [--quick] [--threads 2] [--no-memory] [--only 1,4]

Sections (each skipped gracefully when its tool is missing):
  1. per-iteration time at N = 1e7, K = 3: expmix (dispatched path and the
     baseline path) vs ../shared/bench/reference_kernel.c compiled now with
     -O3 -march=native -ffast-math -fopenmp (and without -ffast-math), a
     textbook numpy EM, scikit-learn GaussianMixture, pomegranate (float64,
     checked to iterate exactly expmix's plain EM), mixem;
  2. thread scaling 1 -> 2 threads at N = 1e7;
  3. SQUAREM / Anderson vs plain EM: fewest E-passes to |LL - LL*|/N < 1e-10 (benchmark
     mixture, and overlapping rates 1 and 1.5), and where the tol = 1e-10
     stopping rule ends each method;
  4. fit_many (10,000 data sets x 500 points, K = 2) vs Python loops of
     scikit-learn GaussianMixture / pomegranate / ExponentialMixture (200 data
     sets, extrapolated), and 1 vs 2 threads;
  5. peak extra memory of a fit at N = 1e8 (a subprocess; ru_maxrss and
     tracemalloc);
  6. a chart of time per iteration vs N (log-log) in benchmarks/results/
     (expmix, the reference kernel, numpy EM, pomegranate if installed);
  7. per-pass cost of each observation kind (right-censored, interval,
     truncation pairs) relative to exact data, fast and general kernels
     (benchmarks/bench_kinds.py).
Results: benchmarks/results/run_all.json (run_all_only14.json etc. for
--only) and time_per_iteration.png (only when section 6 runs).
The machine may be shared: every time is a best-of-several; compare ratios.
"""
import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import (MU0, RESULTS, W0, Exact, RefKernel, best_of, expmix_time_per_iter,  # noqa
                     agreement, mixture, numpy_em, pomegranate_fit, pomegranate_loop,
                     pomegranate_time_per_iter, save)

import expmix  # noqa: E402
from expmix import _core  # noqa: E402

OUT = {}


def line(name, value, unit="", note=""):
    print(f"  {name:<58} {value:>12} {unit:<4} {note}", flush=True)


def section(title):
    print(f"\n== {title}", flush=True)


def sklearn_per_iter(x, iters=5):
    try:
        from sklearn.mixture import GaussianMixture
    except ImportError:
        return None
    X = x.reshape(-1, 1)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = GaussianMixture(3, max_iter=iters, tol=0.0, init_params="random_from_data",
                                random_state=0)
            g.fit(X)
        return g.n_iter_
    t = best_of(run, 2)
    return t / iters


def pomegranate_per_iter(x, threads, iters=3):
    """pomegranate's time per EM iteration (float64, plain EM from the common
    start, torch.set_num_threads(threads)); None if not installed."""
    return pomegranate_time_per_iter(x, threads, iters=iters)


def pomegranate_check(threads):
    """That the pomegranate model timed in section 1 is this EM: its iterates
    from the common start equal expmix's plain-EM iterates (and the textbook
    numpy EM's), and run to convergence it reaches expmix's optimum.  None if
    pomegranate is not installed."""
    x = mixture(20_000, seed=11)
    out = {}
    for it in (1, 20):
        pg = pomegranate_fit(x, W0, MU0, max_iter=it, n_threads=threads)
        if pg is None:
            return None
        w, mu = W0.copy(), MU0.copy()
        _core.fit(Exact(x), w, mu, max_iter=it, tol=0.0, accel=0, n_threads=1, history=False)
        wn, mun, _ = numpy_em(x, W0, MU0, it)
        out[f"iterates_{it}_max_rel_vs_expmix"] = float(max(np.max(abs(pg[0] / w - 1)),
                                                            np.max(abs(pg[1] / mu - 1))))
        out[f"iterates_{it}_max_rel_vs_numpy"] = float(max(np.max(abs(pg[0] / wn - 1)),
                                                           np.max(abs(pg[1] / mun - 1))))
    # converged: pomegranate's own stopping rule (total LL gain < 1e-9 N)
    pg = pomegranate_fit(x, W0, MU0, max_iter=100_000, tol=1e-9 * x.size, n_threads=threads)
    w, mu = W0.copy(), MU0.copy()
    r = _core.fit(Exact(x), w, mu, max_iter=100_000, tol=1e-14, accel=1, n_threads=1,
                  history=False)

    def ll(w_, mu_):
        a = np.log(w_) + np.log(mu_) - np.outer(x, mu_)
        m = a.max(axis=1)
        return float(np.sum(m + np.log(np.exp(a - m[:, None]).sum(axis=1))))
    out.update(converged_pomegranate=dict(w=pg[0].tolist(), rates=pg[1].tolist()),
               converged_expmix=dict(w=w.tolist(), rates=mu.tolist(), loglik=r["loglik"]),
               converged_ll_gap_per_n=(ll(w, mu) - ll(pg[0], pg[1])) / x.size,
               converged_max_rel=float(max(np.max(abs(pg[0] / w - 1)),
                                           np.max(abs(pg[1] / mu - 1)))))
    return out


def mixem_per_iter(x, iters=5):
    try:
        import mixem
    except Exception:
        return None

    def run():
        mixem.em(x, [mixem.distribution.ExponentialDistribution(r) for r in MU0],
                 initial_weights=W0, max_iterations=iters, tol=-1, progress_callback=None)
    return best_of(run, 2) / iters


def s1_per_iteration(x, ref, ref_plain, threads, quick):
    section(f"1. time per EM iteration, N = {x.shape[0]:.0e}, K = 3, {threads} threads")
    r = {}
    best = _core.cpu_best()
    for path in ["baseline", best] if best != "baseline" else ["baseline"]:
        _core.set_cpu_dispatch(path)
        r[f"expmix_{path}"] = expmix_time_per_iter(x, threads)
    _core.set_cpu_dispatch("auto")
    r["expmix"] = r[f"expmix_{best}"]
    if ref.ok:
        r["ref_fast"] = min(ref.time_per_iter(x, threads) for _ in range(3))
    if ref_plain.ok:
        r["ref_plain"] = ref_plain.time_per_iter(x, threads, iters=4)
    r["numpy"] = best_of(lambda: numpy_em(x, W0, MU0, 2), 2) / 2
    if not quick:
        v = sklearn_per_iter(x)
        if v:
            r["sklearn_gmm"] = v
        v = pomegranate_per_iter(x, threads)
        if v:
            r["pomegranate"] = v
            OUT["pomegranate_check"] = pomegranate_check(threads)
        v = mixem_per_iter(x)
        if v:
            r["mixem"] = v
    e = r["expmix"]
    line(f"expmix ({best}, portable build)", f"{e * 1e3:.2f}", "ms")
    line("expmix (baseline path)", f"{r['expmix_baseline'] * 1e3:.2f}", "ms")
    for k, label in [("ref_fast", "reference kernel -O3 -march=native -ffast-math"),
                     ("ref_plain", "reference kernel -O3 -march=native (libm)"),
                     ("numpy", "textbook numpy EM (N x K)"),
                     ("sklearn_gmm", "scikit-learn GaussianMixture"),
                     ("pomegranate", "pomegranate 1.x (float64)"),
                     ("mixem", "mixem")]:
        if k in r:
            line(label, f"{r[k] * 1e3:.1f}", "ms", f"expmix/this = {e / r[k]:.3f}  "
                 f"(this/expmix = {r[k] / e:.1f}x)")
        else:
            line(label, "skipped", "", "(--quick)" if quick and k not in
                 ("ref_fast", "ref_plain") else "(not installed / not available)")
    c = OUT.get("pomegranate_check")
    if c:
        line("  pomegranate = this EM? iterates vs expmix plain EM (N=2e4)",
             f"{c['iterates_20_max_rel_vs_expmix']:.1e}", "",
             f"max rel. parameter difference after 20 iterations (1 iteration: "
             f"{c['iterates_1_max_rel_vs_expmix']:.1e}; vs numpy EM "
             f"{c['iterates_20_max_rel_vs_numpy']:.1e})")
        line("  pomegranate converged (tol 1e-9 N) vs expmix optimum",
             f"{c['converged_ll_gap_per_n']:.1e}", "/N",
             f"log-likelihood short of the optimum; max rel. parameter difference "
             f"{c['converged_max_rel']:.1e}")
    OUT["per_iteration"] = r
    return r


def s2_scaling(x):
    section(f"2. thread scaling, N = {x.shape[0]:.0e}")
    t1 = expmix_time_per_iter(x, 1)
    t2 = expmix_time_per_iter(x, 2)
    line("expmix 1 thread", f"{t1 * 1e3:.2f}", "ms")
    line("expmix 2 threads", f"{t2 * 1e3:.2f}", "ms", f"scaling {t1 / t2:.2f}x")
    obs = Exact(x)
    outs = []
    for nt in (1, 2, 3):
        w, mu = W0.copy(), MU0.copy()
        _core.fit(obs, w, mu, max_iter=20, tol=0.0, n_threads=nt, history=False)
        outs.append((w.tobytes(), mu.tobytes()))
    same = all(o == outs[0] for o in outs)
    line("bitwise identical parameters for 1, 2, 3 threads", str(same))
    OUT["scaling"] = dict(t1=t1, t2=t2, speedup=t1 / t2, bitwise_identical=same)
    # interleaved 1/2-thread rounds next to a pure-compute OpenMP ceiling
    import bench_scaling
    sc = bench_scaling.run(x=x, rounds=5, verbose=False)
    e, c = sc["expmix"], sc["ceiling"]
    line("interleaved, ratio of minima (5 rounds)", f"{e['ratio_of_minima']:.2f}", "x",
         f"median {e['median_ratio']:.2f}x, range {e['ratio_lo']:.2f}-{e['ratio_hi']:.2f}; "
         f"load avg {min(sc['load_avg']):.1f}-{max(sc['load_avg']):.1f}")
    if c:
        line("ceiling: pure-compute OpenMP loop, same run", f"{c['ratio_of_minima']:.2f}", "x",
             f"median {c['median_ratio']:.2f}x; expmix/ceiling "
             f"{e['ratio_of_minima'] / c['ratio_of_minima']:.2f}")
    OUT["scaling"]["interleaved"] = sc


def _passes_to(obs, w0, mu0, accel, target, threads, hi):
    """Smallest pass budget (max_iter + 1) whose returned fit (tol = 0) has
    LL >= target: the same oracle for plain EM and SQUAREM.  Plain EM: read off
    its history; SQUAREM: bisection over max_iter (its result is
    non-decreasing in the budget up to rounding).  None if not within hi."""
    def ll_at(m):
        w, mu = w0.copy(), mu0.copy()
        return _core.fit(obs, w, mu, max_iter=m, tol=0.0, accel=accel, n_threads=threads,
                         history=accel == 0)
    if accel == 0:
        r = ll_at(hi)
        h = np.asarray(r["history"]) * r["weight"]
        i = np.flatnonzero(h >= target)
        return int(i[0]) + 1 if i.size else None
    if ll_at(hi)["loglik"] < target:
        return None
    lo = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ll_at(mid)["loglik"] >= target:
            hi = mid
        else:
            lo = mid
    return hi + 1


def s3_squarem(threads):
    section("3. SQUAREM and Anderson vs plain EM: E-passes to reach |LL - LL*|/N < 1e-10 (same start)")
    rows = []
    cases = [("benchmark mixture w=(.5,.3,.2) mu=(10,1,.1), N=1e6", mixture(10**6), W0, MU0, 400),
             ("overlapping mu=(1.5,1), w=(.5,.5), N=1e5",
              mixture(10**5, w=np.array([0.5, 0.5]), mu=np.array([1.5, 1.0]), seed=3),
              np.array([0.4, 0.6]), np.array([2.0, 0.8]), 60000),
             ("overlapping mu=(1.5,1), w=(.5,.5), N=1e6",
              mixture(10**6, w=np.array([0.5, 0.5]), mu=np.array([1.5, 1.0]), seed=4),
              np.array([0.4, 0.6]), np.array([2.0, 0.8]), 8000)]
    for name, x, w0, mu0, cap in cases:
        obs = Exact(x)
        n = x.shape[0]
        # the optimum: a long SQUAREM run at tol = 0 (from the same start)
        w, mu = w0.copy(), mu0.copy()
        ll_star = max(_core.fit(obs, w0.copy(), mu0.copy(), max_iter=cap, tol=0.0, accel=a,
                                n_threads=threads, history=False)["loglik"] for a in (1, 2))
        target = ll_star - 1e-10 * n
        res = {}
        for accel in (0, 1, 2):
            # the default stopping rule, tol = 1e-10: where does each method stop?
            w, mu = w0.copy(), mu0.copy()
            t = time.perf_counter()
            r = _core.fit(obs, w, mu, max_iter=10 * cap, tol=1e-10, accel=accel,
                          n_threads=threads, history=False)
            res[accel] = dict(passes=int(r["n_passes"]), status=r["status_name"],
                              ll=r["loglik"], gap_per_n=(ll_star - r["loglik"]) / n,
                              s=time.perf_counter() - t, rates=mu.tolist(),
                              oracle=_passes_to(obs, w0, mu0, accel, target, threads,
                                                cap if accel == 0 else cap // 4))
        p0, p1, p2 = res[0]["oracle"], res[1]["oracle"], res[2]["oracle"]
        ratio = p0 / p1 if p0 and p1 else float("nan")
        ratio2 = p0 / p2 if p0 and p2 else float("nan")
        rtxt = f"{ratio:.1f}x" if p0 and p1 else "n/a"
        line(name, rtxt, "",
             f"fewest passes to |LL - LL*|/N < 1e-10: plain EM {p0 or '> %d' % cap}, "
             f"SQUAREM {p1 or '> %d' % (cap // 4)}, Anderson {p2 or '> %d' % (cap // 4)} "
             f"({ratio2:.1f}x); "
             f"tol=1e-10 stops: plain {res[0]['passes']} ({res[0]['gap_per_n']:.1e}/N short), "
             f"SQUAREM {res[1]['passes']} ({res[1]['gap_per_n']:.1e}/N short), "
             f"Anderson {res[2]['passes']} ({res[2]['gap_per_n']:.1e}/N short)")
        rows.append(dict(case=name, ll_star=ll_star, plain=res[0], squarem=res[1],
                         anderson=res[2], plain_passes_to_optimum=p0,
                         squarem_passes_to_optimum=p1, anderson_passes_to_optimum=p2,
                         ratio=ratio, ratio_anderson=ratio2))
    OUT["squarem"] = rows


def s4_fit_many(quick):
    n_sets = 2000 if quick else 10000
    section(f"4. fit_many: {n_sets} data sets x 500 points, K = 2")
    rng = np.random.default_rng(0)
    data = [np.concatenate([rng.exponential(1.0, 250), rng.exponential(0.1, 250)])
            for _ in range(n_sets)]
    t2 = best_of(lambda: expmix.fit_many(data, 2, random_state=0, n_threads=2), 2)
    t1 = best_of(lambda: expmix.fit_many(data, 2, random_state=0, n_threads=1), 2)
    r = dict(n_sets=n_sets, fit_many_2t=t2, fit_many_1t=t1, threads_speedup=t1 / t2)
    line("fit_many, 2 threads", f"{t2:.2f}", "s")
    line("fit_many, 1 thread", f"{t1:.2f}", "s", f"2-thread speedup {t1 / t2:.2f}x")
    sub = data[:200]
    t = time.perf_counter()
    for x in sub:
        expmix.ExponentialMixture(2, n_threads=1).fit(x)
    r["loop_expmix_per_set"] = (time.perf_counter() - t) / len(sub)
    line("Python loop of ExponentialMixture (extrapolated)",
         f"{r['loop_expmix_per_set'] * n_sets:.2f}", "s",
         f"fit_many is {r['loop_expmix_per_set'] * n_sets / t2:.1f}x faster")
    try:
        from sklearn.mixture import GaussianMixture
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for x in sub:
                GaussianMixture(2, random_state=0).fit(x.reshape(-1, 1))
        r["loop_sklearn_per_set"] = (time.perf_counter() - t) / len(sub)
        line("Python loop of sklearn GaussianMixture (extrapolated)",
             f"{r['loop_sklearn_per_set'] * n_sets:.1f}", "s",
             f"fit_many is {r['loop_sklearn_per_set'] * n_sets / t2:.0f}x faster")
    except ImportError:
        line("Python loop of sklearn GaussianMixture", "skipped")
    s4_pomegranate_loop(sub, r, n_sets, t2)
    OUT["fit_many"] = r


def s4_pomegranate_loop(sub, r, n_sets, t_fit_many):
    """The same subset through a Python loop of pomegranate fits (its own
    k-means start, one torch thread: two made these 500-point fits ~7x
    slower), at scikit-learn's stopping rule (gain < 1e-3 per point) and at
    1e-6 per point, where the fits agree with fit_many's."""
    res = expmix.fit_many(sub, 2, random_state=0, n_threads=1)
    for tpp in (1e-3, 1e-6):
        out = pomegranate_loop(sub, 2, n_threads=1, tol_per_point=tpp,
                               max_iter=100 if tpp >= 1e-3 else 1000)
        if out is None:
            line("Python loop of pomegranate", "skipped", "", "(not installed)")
            return
        per, fits = out
        ag = agreement(sub, fits, res.rates, res.log_likelihood)
        key = f"loop_pomegranate_tol{tpp:.0e}"
        r[key + "_per_set"] = per
        r[key + "_agreement"] = ag
        line(f"Python loop of pomegranate, tol {tpp:.0e}/point (extrapolated)",
             f"{per * n_sets:.1f}", "s",
             f"fit_many is {per * n_sets / t_fit_many:.0f}x faster; rates within 5 % of "
             f"fit_many's on {100 * ag['fraction_same_rates']:.0f} % of the data sets, "
             f"LL short by {ag['median_ll_gap_per_point']:.1e}/point (median)")


MEM_CHILD = r"""
import json, resource, sys, tracemalloc
import numpy as np
sys.path.insert(0, sys.argv[1])
from _common import Exact, mixture, MU0, W0
import expmix
from expmix import _core
n, iters, what = int(float(sys.argv[2])), int(sys.argv[3]), sys.argv[4]
x = np.empty(n)
mixture(n, out=x, chunk=250_000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
tracemalloc.start()
if what == "core":
    w, mu = W0.copy(), MU0.copy()
    _core.fit(Exact(x), w, mu, max_iter=iters, tol=0.0, n_threads=2)
else:
    expmix.ExponentialMixture(3, max_iter=iters, tol=0.0, n_threads=2).fit(x)
cur, peak_py = tracemalloc.get_traced_memory()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(dict(n=n, data_bytes=x.nbytes, maxrss_before=before, maxrss_after=after,
                      extra=after - before, tracemalloc_peak=peak_py)))
"""


def s5_memory(n=1e8, iters=3):
    section(f"5. peak extra memory of a fit at N = {n:.0e} (K = 3, {iters} iterations)")
    OUT["memory"] = {}
    for what, label in [("core", "C core fit (expmix._core.fit on the buffer)"),
                        ("facade", "ExponentialMixture.fit (validation, init, fit)")]:
        try:
            out = subprocess.run([sys.executable, "-c", MEM_CHILD, str(HERE), str(n), str(iters),
                                  what], capture_output=True, text=True, timeout=900)
            d = json.loads(out.stdout.strip().splitlines()[-1])
        except Exception as e:  # e.g. not enough memory
            line(label, "skipped", "", repr(e)[:80])
            continue
        frac = d["extra"] / d["data_bytes"]
        line(label, f"{d['extra'] / 1e6:.1f}", "MB",
             f"peak extra RSS = {100 * frac:.2f} % of the {d['data_bytes'] / 1e6:.0f} MB data; "
             f"tracemalloc peak {d['tracemalloc_peak'] / 1e6:.1f} MB")
        d["fraction"] = frac
        OUT["memory"][what] = d


def s6_chart(ref, threads, quick):
    section("6. time per iteration vs N (chart)")
    ns = [10**4, 10**5, 10**6, 10**7]
    rows = []
    for n in ns:
        x = mixture(n, seed=7)
        row = dict(n=n, expmix=expmix_time_per_iter(x, threads))
        if ref.ok:
            row["ref_fast"] = min(ref.time_per_iter(x, threads) for _ in range(2))
        if n <= 10**6 or not quick:
            row["numpy"] = best_of(lambda: numpy_em(x, W0, MU0, 2), 2) / 2
            v = pomegranate_time_per_iter(x, threads, iters=3 if n >= 10**6 else 10)
            if v:
                row["pomegranate"] = v
        rows.append(row)
        print("  " + "  ".join(f"{k}={v:.3g}" for k, v in row.items()), flush=True)
    OUT["vs_n"] = rows
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        line("chart", "skipped", "", "(matplotlib not installed)")
        return
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for key, label, st in [("expmix", f"expmix ({_core.cpu_dispatch()}, portable build)", "o-"),
                           ("ref_fast", "reference C kernel, -march=native -ffast-math", "s--"),
                           ("numpy", "textbook numpy EM", "^:"),
                           ("pomegranate", "pomegranate (float64)", "v-.")]:
        pts = [(r["n"], r[key]) for r in rows if key in r]
        if pts:
            ax.plot(*zip(*pts), st, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (observations)")
    ax.set_ylabel("seconds per EM iteration")
    ax.set_title(f"K = 3 exponential mixture, {threads} threads")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = RESULTS / "time_per_iteration.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    line("chart", str(path.relative_to(HERE.parent)))


def s7_kinds(threads, quick):
    section("7. one fused pass per observation kind, x exact data (N = 1e6, K = 3, 1 thread)")
    from bench_kinds import pass_ratios
    best = pass_ratios(n=10**5 if quick else 10**6, k=3, threads=1, repeat=5 if quick else 9)
    base = best["exact"][0]
    OUT["kinds"] = {}
    for name, (tf, tg) in best.items():
        OUT["kinds"][name] = dict(fast_ms=1e3 * tf, general_ms=1e3 * tg,
                                  fast_x_exact=tf / base, general_x_exact=tg / base)
        line(name, f"{tf / base:.2f}", "x", f"(general kernel {tg / base:.2f}x; "
             f"{1e3 * tf:.2f} ms)")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, skip slow libraries")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--only", default="1,2,3,4,5,6,7",
                    help="comma-separated section numbers to run (default: all)")
    a = ap.parse_args(argv)
    only = {int(v) for v in a.only.split(",") if v.strip()}
    t_start = time.perf_counter()
    print(f"expmix {expmix.__version__}, CPU path {_core.cpu_dispatch()} "
          f"(best {_core.cpu_best()}), OpenMP {_core.openmp_enabled()}")
    ref = RefKernel()
    ref_plain = RefKernel(("-O3", "-march=native", "-fopenmp"))
    if not ref.ok:
        print(f"reference kernel unavailable: {ref.why}")
    OUT["env"] = dict(cpu_path=_core.cpu_dispatch(), threads=a.threads,
                      ref_flags=getattr(ref, "flags", None))
    if ref.ok:
        OUT["bandwidth"] = ref.bandwidth()
    x7 = mixture(10**6 if a.quick else 10**7)
    if 1 in only:
        s1_per_iteration(x7, ref, ref_plain, a.threads, a.quick)
    if 2 in only:
        s2_scaling(x7)
    if 3 in only:
        s3_squarem(a.threads)
    if 4 in only:
        s4_fit_many(a.quick)
    if 5 in only and not a.no_memory:
        s5_memory(1e7 if a.quick else 1e8)
    if 6 in only:
        s6_chart(ref, a.threads, a.quick)
    if 7 in only:
        s7_kinds(a.threads, a.quick)
    ref.close()
    ref_plain.close()
    OUT["wall_seconds"] = time.perf_counter() - t_start
    # a partial run writes its own file, so it never replaces the full one
    name = "run_all.json" if only == set(range(1, 8)) else \
        f"run_all_only{''.join(map(str, sorted(only)))}.json"
    p = save(name, OUT)
    print(f"\nresults: {p}  (wall time {OUT['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
