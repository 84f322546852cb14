"""Per-iteration overhead of expmix.dask against the in-process fit.

    python benchmarks/bench_dask.py                 # N = 1e8 over 2 workers (~2.5 GB RAM)
    python benchmarks/bench_dask.py --n 2e7 --chunks 16 --repeat 10

A LocalCluster of 2 worker processes (1 thread each, loopback) holds the data:
it is generated chunk by chunk on the workers and turned into observation sets
there.  The same data are generated in this process for the reference.  We time

* one EM evaluation (the fused pass over all N observations at fixed
  parameters): ``_core.pass_stats`` on 2 threads in process, against one
  round on the cluster (a pass per chunk on the workers + the O(K) sums);
* the round-trip floor of the cluster (the same round on 2 tiny chunks);
* a whole 3-component fit both ways (the time per pass, the numbers of passes,
  and the largest relative difference of the fitted rates).

This is a benchmark, not a test: the numbers depend on the machine and its load.
"""
import argparse
import time
import warnings

import numpy as np

import dask
import dask.array as da
from distributed import Client, LocalCluster

import expmix
import expmix.dask as ed
from expmix import _core
from expmix.observations import from_samples

W, MU = np.array([0.3, 0.45, 0.25]), np.array([12.0, 1.0, 0.08])


def gen_block(block_id, n):
    rng = np.random.default_rng([2026, block_id])
    lab = rng.choice(3, size=n, p=W)
    return rng.standard_exponential(n) / MU[lab]


def make(n, n_chunks):
    sizes = [n // n_chunks] * n_chunks
    sizes[-1] += n - sum(sizes)
    blocks = [da.from_delayed(dask.delayed(gen_block)(i, s), shape=(s,), dtype=np.float64)
              for i, s in enumerate(sizes)]
    return da.concatenate(blocks)


def best(f, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts), float(np.median(ts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=float, default=1e8, help="number of observations (default 1e8)")
    ap.add_argument("--chunks", type=int, default=8, help="number of chunks (default 8)")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions (default 5)")
    ap.add_argument("--no-fit", action="store_true", help="skip the whole-fit comparison")
    a = ap.parse_args()
    n = int(a.n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                               host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    try:
        X = make(n, a.chunks)
        t = time.perf_counter()
        data = ed._samples_data(X, None, None, None, client, None)
        t_build = time.perf_counter() - t
        req = [(W.copy(), MU.copy())]
        t = time.perf_counter()
        x = X.compute(scheduler="threads")
        obs = from_samples(x)
        t_local_build = time.perf_counter() - t
        cl_min, cl_med = best(lambda: data.evaluate(req), a.repeat)
        lo_min, lo_med = best(lambda: _core.pass_stats(obs, W, MU, 2), a.repeat)
        tiny = ed._samples_data(da.from_array(x[:4096], chunks=2048), None, None, None, client, None)
        fl_min, fl_med = best(lambda: tiny.evaluate(req), max(a.repeat, 20))
        (rc,) = data.evaluate(req)
        rl = _core.pass_stats(obs, W, MU, 2)
        print(f"N = {n:.3g} in {a.chunks} chunks over 2 workers (1 thread each); in process: 2 threads")
        print(f"  build: cluster {t_build:.2f} s (generate + observation sets on the workers), "
              f"in process {t_local_build:.2f} s")
        print(f"  one pass, in process      : min {lo_min * 1e3:9.1f} ms   median {lo_med * 1e3:9.1f} ms")
        print(f"  one round, cluster        : min {cl_min * 1e3:9.1f} ms   median {cl_med * 1e3:9.1f} ms")
        print(f"  round-trip floor (N=4096) : min {fl_min * 1e3:9.1f} ms   median {fl_med * 1e3:9.1f} ms")
        print(f"  overhead per iteration    : {1e3 * (cl_med - lo_med):.1f} ms "
              f"(cluster / in process = {cl_med / lo_med:.2f})")
        print(f"  loglik cluster vs in process: relative difference "
              f"{abs(rc[0] - rl[0]) / abs(rl[0]):.2e}")
        tiny.release()
        if not a.no_fit:
            t = time.perf_counter()
            dm = ed.DaskExponentialMixture(3).fit(X, client=client)
            t_dfit = time.perf_counter() - t
            t = time.perf_counter()
            m = expmix.ExponentialMixture(3, n_threads=2)._fit(obs)
            t_fit = time.perf_counter() - t
            print(f"  3-component fit: cluster {t_dfit:.2f} s ({dm.n_iter_ + 1} passes, "
                  f"{t_dfit / (dm.n_iter_ + 1) * 1e3:.1f} ms/pass incl. set-up); in process "
                  f"{t_fit:.2f} s ({m.n_iter_ + 1} passes, {t_fit / (m.n_iter_ + 1) * 1e3:.1f} ms/pass)")
            print(f"  max relative difference of the rates: "
                  f"{np.max(np.abs(dm.rates_ / m.rates_ - 1)):.2e}")
        data.release()
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
