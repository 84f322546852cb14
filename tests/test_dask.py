"""expmix.dask on a real dask.distributed LocalCluster (2 worker processes,
loopback only), checked against the in-memory fit and against the C EM loop."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("dask.array", reason="dask[array] is not installed (pip install 'expmix[dask]')")
pytest.importorskip("distributed", reason="distributed is not installed (pip install 'expmix[dask]')")

import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import expmix  # noqa: E402
import expmix.dask as ed  # noqa: E402
from expmix import _core  # noqa: E402
from expmix.observations import from_intervals, from_samples  # noqa: E402

from conftest import draw  # noqa: E402

W3, MU3 = [0.3, 0.45, 0.25], [12.0, 1.0, 0.08]


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                               host="127.0.0.1", dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def data3():
    return draw(np.random.default_rng(7), 12_000, W3, MU3)


def odd(n, seed=0):
    """An irregular chunking of n rows: tiny, empty-free, uneven chunks."""
    rng = np.random.default_rng(seed)
    sizes = [1, 7, 2048, 3]
    while sum(sizes) < n:
        sizes.append(int(rng.integers(1, 4000)))
    sizes[-1] -= sum(sizes) - n
    if sizes[-1] <= 0:
        sizes[-2] += sizes[-1] - 1
        sizes[-1] = 1
    return (tuple(sizes),)


def assert_same_fit(dm, m, rtol=1e-8):
    """Same optimum: log-likelihood to 1e-12, parameters to 1e-8, and the same
    bookkeeping.  Chunked sums round differently from the in-memory pass, and
    the iterate at which Anderson acceleration stops within tol = 1e-10 (mean
    log-likelihood) moves with that rounding: parameters differ by up to ~2e-9
    relative (measured), far below their statistical error."""
    assert isinstance(dm, expmix.ExponentialMixture)
    assert dm.converged_ and m.converged_
    np.testing.assert_allclose(dm.rates_, m.rates_, rtol=rtol, atol=0)
    np.testing.assert_allclose(dm.weights_, m.weights_, rtol=0, atol=rtol)
    np.testing.assert_allclose(dm.log_likelihood_, m.log_likelihood_, rtol=1e-12)
    assert dm.n_observations_ == m.n_observations_
    np.testing.assert_allclose(dm.total_weight_, m.total_weight_, rtol=1e-14)
    assert dm.data_kinds_ == m.data_kinds_
    assert dm.n_parameters_ == m.n_parameters_


# ----------------------------------------------------------------------
# the client-side EM loop against the C loop (the truth: csrc/fit.c)

class _InProcess:
    """One observation set evaluated in this process: with a single chunk the
    client loop sees exactly the sums the C loop sees."""

    def __init__(self, obs):
        self.obs = obs

    def evaluate(self, reqs):
        out = []
        for w, mu in reqs:
            try:
                out.append(_core.pass_stats(self.obs, w, mu, 1))
            except FloatingPointError:
                out.append(None)
        return out


@pytest.mark.parametrize("accel", [0, 1, 2])
@pytest.mark.parametrize("max_iter", [0, 1, 2, 3, 4, 7, 1000])
def test_client_loop_is_the_c_loop_bitwise(accel, max_iter):
    x = draw(np.random.default_rng(3), 3000, W3, MU3)
    x = x[x > 0.001]
    obs = from_samples(x[:2500], event_observed=np.arange(2500) % 5 != 0, entry=0.001)
    w0, mu0 = np.array([0.2, 0.5, 0.3]), np.array([20.0, 2.0, 0.2])
    scale = _core.data_scale(obs)
    w, mu = w0.copy(), mu0.copy()
    ref = _core.fit(obs, w, mu, max_iter=max_iter, tol=1e-12, accel=accel, scale=scale,
                    n_threads=1)
    (res,) = ed._run_lockstep(_InProcess(obs), [ed._em_fit(w0, mu0, max_iter=max_iter, tol=1e-12,
                                                           accel=accel, scale=scale)])
    assert res["status"] == ref["status"]
    assert res["n_iter"] == ref["n_iter"] and res["n_passes"] == ref["n_passes"]
    assert res["loglik"] == ref["loglik"]
    np.testing.assert_array_equal(res["w"], w)
    np.testing.assert_array_equal(res["mu"], mu)
    np.testing.assert_array_equal(res["history"], ref["history"])


def test_client_loop_degenerate_like_c():
    # exact zeros: a component collapses onto them (rate diverges) in C and here
    rng = np.random.default_rng(5)
    x = np.concatenate([np.zeros(300), rng.exponential(1.0, 3000)])
    obs = from_samples(x)
    w0, mu0 = np.array([0.1, 0.9]), np.array([50.0, 1.0])
    scale = _core.data_scale(obs)
    w, mu = w0.copy(), mu0.copy()
    ref = _core.fit(obs, w, mu, scale=scale, n_threads=1)
    (res,) = ed._run_lockstep(_InProcess(obs), [ed._em_fit(w0, mu0, scale=scale)])
    assert ref["status"] == 2 and ref["degenerate_kind"] == 2
    assert (res["status"], res["degenerate_kind"], res["degenerate_component"], res["n_passes"]) == \
        (ref["status"], ref["degenerate_kind"], ref["degenerate_component"], ref["n_passes"])
    np.testing.assert_array_equal(res["mu"], mu)


# ----------------------------------------------------------------------
# dask fits on the cluster == in-memory fits

def test_exact_odd_chunks(client, data3):
    x = data3
    m = expmix.ExponentialMixture(3).fit(x)
    for chunks in (odd(x.shape[0]), 1000, x.shape[0]):
        dm = ed.DaskExponentialMixture(3).fit(da.from_array(x, chunks=chunks))
        assert_same_fit(dm, m)
        assert dm.restarts_[0]["start"][1].tolist() == m.restarts_[0]["start"][1].tolist()


def test_float32_and_column_input(client, data3):
    x = data3.astype(np.float32)
    m = expmix.ExponentialMixture(2).fit(x)
    dm = ed.DaskExponentialMixture(2).fit(da.from_array(x[:, None], chunks=(2500, 1)))
    assert_same_fit(dm, m)


def test_weighted(client, data3):
    x = data3
    w = np.random.default_rng(1).integers(0, 4, x.shape[0]).astype(float)
    m = expmix.ExponentialMixture(3).fit(x, sample_weight=w)
    dx = da.from_array(x, chunks=odd(x.shape[0], 1))
    dw = da.from_array(w, chunks=3333)            # other chunks: rechunked to X's
    dm = ed.DaskExponentialMixture(3).fit(dx, sample_weight=dw)
    assert_same_fit(dm, m)
    # an in-memory weight array with a dask X works as well
    dm2 = ed.DaskExponentialMixture(3).fit(dx, sample_weight=w)
    assert_same_fit(dm2, m)


def test_right_censored(client, data3):
    x = data3
    c = np.random.default_rng(2).uniform(0, 30, x.shape[0])
    t, ev = np.minimum(x, c), x <= c
    m = expmix.ExponentialMixture(3).fit(t, event_observed=ev)
    dm = ed.DaskExponentialMixture(3).fit(da.from_array(t, chunks=odd(t.shape[0], 2)),
                                          event_observed=da.from_array(ev, chunks=1777))
    assert_same_fit(dm, m)
    assert dm.data_kinds_ == ("exact", "right")


def test_binned_intervals_and_histogram(client, data3):
    x = data3
    d = 0.05
    lo = np.floor(x / d) * d
    hi = lo + d
    hi[x > 40] = np.inf                            # an open last class: right-censored
    m = expmix.ExponentialMixture(3).fit_intervals(lo, hi)
    dm = ed.DaskExponentialMixture(3).fit_intervals(da.from_array(lo, chunks=odd(lo.shape[0], 3)),
                                                    da.from_array(hi, chunks=4000))
    assert_same_fit(dm, m)
    assert dm.data_kinds_ == ("right", "interval")
    edges = np.concatenate([np.geomspace(1e-3, 60, 40), [np.inf]])
    edges[0] = 0.0
    counts, _ = np.histogram(x, edges)
    mh = expmix.ExponentialMixture(3).fit_histogram(edges, counts)
    dh = ed.DaskExponentialMixture(3).fit_histogram(edges, da.from_array(counts, chunks=7))
    np.testing.assert_array_equal(dh.rates_, mh.rates_)


def test_weighted_intervals(client, data3):
    x = data3[:5000]
    lo, hi = np.floor(x * 10) / 10, np.floor(x * 10) / 10 + 0.1
    w = np.random.default_rng(4).uniform(0.5, 2.0, x.shape[0])
    m = expmix.ExponentialMixture(2).fit_intervals(lo, hi, w)
    dm = ed.DaskExponentialMixture(2).fit_intervals(da.from_array(lo, chunks=999), hi,
                                                    da.from_array(w, chunks=2000))
    assert_same_fit(dm, m)


def test_truncated_dead_time_and_entry_times(client, data3):
    x = data3
    t0 = 0.02
    xs = x[x > t0]
    m = expmix.ExponentialMixture(3).fit(xs, entry=t0)
    dm = ed.DaskExponentialMixture(3).fit(da.from_array(xs, chunks=odd(xs.shape[0], 5)), entry=t0)
    assert_same_fit(dm, m)
    assert "truncated" in dm.data_kinds_
    # one entry time per observation, with censoring
    e = np.random.default_rng(6).uniform(0, 0.05, x.shape[0])
    keep = x > e
    xe, ee = x[keep], e[keep]
    ev = xe < 25
    xe = np.minimum(xe, 25)
    # per-observation entry times: missing-data EM, then the Newton polish of
    # the truncated likelihood (in memory after taking out the smallest entry
    # time as a dead time; on the cluster with the raw entry times and
    # chunked sums): both end at the stationary point, default options
    m2 = expmix.ExponentialMixture(3).fit(xe, event_observed=ev, entry=ee)
    dm2 = ed.DaskExponentialMixture(3).fit(da.from_array(xe, chunks=2222),
                                           event_observed=da.from_array(ev, chunks=2222),
                                           entry=da.from_array(ee, chunks=5000))
    assert_same_fit(dm2, m2)


def test_unknown_chunk_sizes(client, data3):
    # boolean indexing leaves dask with unknown (nan) chunk sizes
    x = data3
    dx = da.from_array(x, chunks=1500)
    dsel = dx[dx > 0.02]
    assert np.isnan(dsel.shape[0])
    m = expmix.ExponentialMixture(3).fit(x[x > 0.02], entry=0.02)
    dm = ed.DaskExponentialMixture(3).fit(dsel, entry=0.02)
    assert_same_fit(dm, m)
    w = np.linspace(0.5, 1.5, x.shape[0])
    dw = da.from_array(w, chunks=1500)
    m2 = expmix.ExponentialMixture(3).fit(x[x > 0.02], sample_weight=w[x > 0.02])
    dm2 = ed.DaskExponentialMixture(3).fit(dsel, sample_weight=dw[dx > 0.02])
    assert_same_fit(dm2, m2)


def test_restarts_same_starts_and_choice(client, data3):
    x = data3
    kw = dict(n_init=5, init="kmeans", random_state=11)
    m = expmix.ExponentialMixture(3, **kw).fit(x)
    dm = ed.DaskExponentialMixture(3, **kw).fit(da.from_array(x, chunks=odd(x.shape[0], 8)))
    assert_same_fit(dm, m)
    assert len(dm.restarts_) == 5
    for a, b in zip(dm.restarts_, m.restarts_):
        np.testing.assert_array_equal(a["start"][0], b["start"][0])
        np.testing.assert_array_equal(a["start"][1], b["start"][1])
        assert a["status"] == b["status"]
        np.testing.assert_allclose(a["log_likelihood"], b["log_likelihood"], rtol=1e-12)


def test_random_init_and_plain_em(client):
    x = draw(np.random.default_rng(14), 6000, [0.5, 0.5], [10.0, 0.5])
    kw = dict(n_init=3, init="random", random_state=np.random.default_rng(2),
              acceleration="none", max_iter=5000, tol=1e-12)
    m = expmix.ExponentialMixture(2, **kw).fit(x)
    kw["random_state"] = np.random.default_rng(2)
    dm = ed.DaskExponentialMixture(2, **kw).fit(da.from_array(x, chunks=1234))
    assert_same_fit(dm, m, rtol=1e-9)      # plain EM is slow: its stopping point is looser


def test_select_components(client, data3):
    x = data3
    res = expmix.select_components(x, n_components=range(1, 4), n_init=2, random_state=0)
    dres = ed.select_components(da.from_array(x, chunks=odd(x.shape[0], 9)),
                                n_components=range(1, 4), n_init=2, random_state=0)
    assert dres.best_n_components_ == res.best_n_components_ == 3
    assert dres.criterion == "bic"
    np.testing.assert_allclose(dres.n, res.n, rtol=1e-14)
    for a, b in zip(dres.table, res.table):
        assert a["n_components"] == b["n_components"]
        np.testing.assert_allclose(a["bic"], b["bic"], rtol=1e-12)
        np.testing.assert_allclose(a["aic"], b["aic"], rtol=1e-12)
    for K in (1, 2, 3):
        np.testing.assert_allclose(dres.models[K].rates_, res.models[K].rates_, rtol=1e-8)   # see assert_same_fit
    assert "selected by BIC" in str(dres)


def test_select_components_intervals_aic(client, data3):
    x = data3[:8000]
    lo, hi = np.floor(x * 20) / 20, np.floor(x * 20) / 20 + 0.05
    res = expmix.select_components_intervals(lo, hi, n_components=[1, 2, 3], criterion="aic")
    dres = ed.select_components_intervals(da.from_array(lo, chunks=3001),
                                          da.from_array(hi, chunks=3001),
                                          n_components=[1, 2, 3], criterion="aic")
    assert dres.best_n_components_ == res.best_n_components_
    for a, b in zip(dres.table, res.table):
        np.testing.assert_allclose(a["aic"], b["aic"], rtol=1e-12)


def test_degenerate_restarts_like_in_memory(client):
    rng = np.random.default_rng(8)
    x = np.concatenate([np.zeros(200), rng.exponential(1.0, 2000)])
    with pytest.raises(expmix.DegenerateFitError, match="200 exact zeros"):
        expmix.ExponentialMixture(2).fit(x)
    with pytest.raises(expmix.DegenerateFitError, match="200 exact zeros"):
        ed.DaskExponentialMixture(2).fit(da.from_array(x, chunks=700))


def test_evaluation_and_local_copy(client, data3):
    x = data3
    dx = da.from_array(x, chunks=2500)
    dm = ed.DaskExponentialMixture(3).fit(dx)
    local = dm.to_local()
    assert type(local) is expmix.ExponentialMixture
    assert "init_sample_size" not in local.get_params()
    np.testing.assert_array_equal(local.rates_, dm.rates_)
    np.testing.assert_allclose(dm.bic(dx), local.bic(x), rtol=1e-13)
    np.testing.assert_allclose(dm.aic(dx), local.aic(x), rtol=1e-13)
    np.testing.assert_allclose(dm.score(dx), local.score(x), rtol=1e-13)
    np.testing.assert_allclose(dm.log_likelihood(dx), dm.log_likelihood_, rtol=1e-13)
    np.testing.assert_allclose(dm.score_samples(dx).compute(), local.score_samples(x), rtol=1e-14)
    np.testing.assert_allclose(dm.predict_proba(dx).compute(), local.predict_proba(x), rtol=1e-14)
    np.testing.assert_array_equal(dm.predict(dx).compute(), local.predict(x))
    # in-memory input: the in-memory fit, bit for bit
    m = expmix.ExponentialMixture(3).fit(x)
    np.testing.assert_array_equal(ed.DaskExponentialMixture(3).fit(x).rates_, m.rates_)


def test_large_data_uses_a_subsample_for_starts(client):
    x = draw(np.random.default_rng(9), 30_000, [0.5, 0.5], [5.0, 0.5])
    dm = ed.DaskExponentialMixture(2, init_sample_size=5000).fit(da.from_array(x, chunks=7000))
    m = expmix.ExponentialMixture(2).fit(x)
    assert dm.converged_
    # different start, same (single) optimum
    np.testing.assert_allclose(dm.rates_, m.rates_, rtol=1e-6)
    with pytest.raises(ValueError, match="init_sample_size"):
        ed.DaskExponentialMixture(2, init_sample_size=10).fit(da.from_array(x, chunks=7000))


# ----------------------------------------------------------------------
# validation: the messages of the in-memory API

def test_validation_errors(client):
    x = np.random.default_rng(0).exponential(1.0, 5000)
    bad = x.copy()
    bad[3210] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN \(at index 210\).*dask chunk 3, which starts at row 3000"):
        ed.DaskExponentialMixture(1).fit(da.from_array(bad, chunks=1000))
    neg = x.copy()
    neg[10] = -1.0
    with pytest.raises(ValueError, match="X must be non-negative"):
        ed.DaskExponentialMixture(1).fit(da.from_array(neg, chunks=1000))
    dx = da.from_array(x, chunks=1000)
    with pytest.raises(ValueError, match="sample_weight has length 4999"):
        ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.ones(4999, chunks=1000))
    with pytest.raises(ValueError, match="sample_weight is zero everywhere"):
        ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.zeros(5000, chunks=1000))
    with pytest.raises(ValueError, match="every observation is right-censored"):
        ed.DaskExponentialMixture(1).fit(dx, event_observed=da.zeros(5000, dtype=bool, chunks=700))
    with pytest.raises(ValueError, match="event_observed must contain only True/False"):
        ed.DaskExponentialMixture(1).fit(dx, event_observed=da.full(5000, 2, chunks=700))
    with pytest.raises(TypeError, match="X must be real; got a complex array"):
        ed.DaskExponentialMixture(1).fit(dx.astype(complex))
    with pytest.raises(ValueError, match="single column"):
        ed.DaskExponentialMixture(1).fit(da.ones((10, 2), chunks=5))
    with pytest.raises(ValueError, match="larger than the number of observations"):
        ed.DaskExponentialMixture(4).fit(da.from_array(x[:3], chunks=2))
    with pytest.raises(ValueError, match="every observed value is 0"):
        ed.DaskExponentialMixture(1).fit(da.zeros(100, chunks=30))
    with pytest.raises(ValueError, match="entry = 0.5 is not below X"):
        ed.DaskExponentialMixture(1).fit(dx, entry=0.5)
    with pytest.raises(ValueError, match="entry must be a finite number >= 0"):
        ed.DaskExponentialMixture(1).fit(dx, entry=-1.0)
    with pytest.raises(ValueError, match="n_components must be between"):
        ed.DaskExponentialMixture(0).fit(dx)
    with pytest.raises(ValueError, match="lower and upper have different lengths"):
        ed.DaskExponentialMixture(1).fit_intervals(dx, da.from_array(x[:-1] + 1, chunks=1000))
    with pytest.raises(ValueError, match=r"lower\[\d+\] = .* is greater than upper"):
        ed.DaskExponentialMixture(1).fit_intervals(dx, dx - 0.5)
    with pytest.raises(ValueError, match="criterion must be one of"):
        ed.select_components(dx, criterion="icl")


def test_local_mode_without_a_client():
    """No distributed client: the chunks are computed with dask's default
    scheduler and the passes run in the client process, with the same result."""
    code = (
        "import numpy as np, dask.array as da, expmix, expmix.dask as ed\n"
        "x = np.random.default_rng(1).exponential(1.0, 4000)\n"
        "x[:2000] *= 0.05\n"
        "m = expmix.ExponentialMixture(2).fit(x)\n"
        "d = ed.DaskExponentialMixture(2).fit(da.from_array(x, chunks=4000))\n"
        "assert np.array_equal(m.rates_, d.rates_) and np.array_equal(m.history_, d.history_)\n"
        "d = ed.DaskExponentialMixture(2).fit(da.from_array(x, chunks=333))\n"
        "assert np.allclose(m.rates_, d.rates_, rtol=1e-10, atol=0)\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_expmix_does_not_import_dask():
    code = "import sys, expmix; print('dask' in sys.modules, 'distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False False", out.stderr


def test_same_optimum_to_machine_precision(client, data3):
    """Run past convergence (tol=0): both fits settle on the maximum of the
    same likelihood, which they then agree on far below 1e-10."""
    x = data3
    c = np.random.default_rng(12).uniform(0, 40, x.shape[0])
    t, ev = np.minimum(x, c), x <= c
    keep = t > 0.01
    t, ev = t[keep], ev[keep]
    kw = dict(tol=0.0, max_iter=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", expmix.ConvergenceWarning)
        m = expmix.ExponentialMixture(3, **kw).fit(t, event_observed=ev, entry=0.01)
        dm = ed.DaskExponentialMixture(3, **kw).fit(da.from_array(t, chunks=odd(t.shape[0], 13)),
                                                    event_observed=ev, entry=0.01)
    assert not m.converged_ and not dm.converged_
    np.testing.assert_allclose(dm.rates_, m.rates_, rtol=1e-12, atol=0)
    np.testing.assert_allclose(dm.weights_, m.weights_, rtol=0, atol=1e-12)
    # and it is the maximum: the EM map leaves it in place, the gradient vanishes
    obs = from_samples(t, event_observed=ev, entry=0.01)
    ll, wt, R, X = _core.pass_stats(obs, m.weights_, m.rates_, 1)
    np.testing.assert_allclose(R / R.sum(), m.weights_, rtol=1e-11)
    np.testing.assert_allclose(R / X, m.rates_, rtol=1e-11)


def test_larger_data_default_tol(client):
    x = draw(np.random.default_rng(21), 200_000, W3, MU3)
    m = expmix.ExponentialMixture(3).fit(x)
    dm = ed.DaskExponentialMixture(3).fit(da.from_array(x, chunks=30_001))
    assert_same_fit(dm, m)
