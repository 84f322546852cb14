"""The pomegranate comparison of benchmarks/ measures the right thing, and the
benchmarks run without pomegranate (an optional tool, not an extra).

pomegranate (and torch) are not test dependencies: the checks against it run
where it is installed (``pip install torch pomegranate``, the CPU build of
torch); the checks of its absence run everywhere.
"""
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import expmix
from expmix import _core

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
_common = importlib.import_module("_common")


def textbook_em(x, w, mu, iters):
    """Plain EM for an exponential mixture, written out here (N x K
    responsibilities): the independent truth for the iterates."""
    w, mu = np.array(w, float), np.array(mu, float)
    for _ in range(iters):
        a = np.log(w) + np.log(mu) - np.outer(x, mu)
        a -= a.max(axis=1, keepdims=True)
        r = np.exp(a)
        r /= r.sum(axis=1, keepdims=True)
        n_k = r.sum(axis=0)
        w, mu = n_k / x.size, n_k / (r.T @ x)
    return w, mu


@pytest.mark.parametrize("iters", [1, 7, 40])
def test_pomegranate_iterates_are_plain_em(iters):
    """Section 1 times pomegranate's EM iterations: from the common start,
    each of its iterations must be one plain EM step of the same model
    (weights, rates), in float64, so that timing per iteration compares like
    with like.  (The earlier set-up, uniform priors and float32 parameters,
    differs at the first iteration by ~1e-2.)"""
    pytest.importorskip("torch")
    pytest.importorskip("pomegranate")
    x = _common.mixture(5000, seed=5)
    w, mu, _ = _common.pomegranate_fit(x, _common.W0, _common.MU0, max_iter=iters,
                                       n_threads=1)
    wt, mut = textbook_em(x, _common.W0, _common.MU0, iters)
    np.testing.assert_allclose(w, wt, rtol=1e-11)
    np.testing.assert_allclose(mu, mut, rtol=1e-11)
    we, mue = _common.W0.copy(), _common.MU0.copy()
    _core.fit(_common.Exact(x), we, mue, max_iter=iters, tol=0.0, accel=0, n_threads=1,
              history=False)
    np.testing.assert_allclose(w, we, rtol=1e-11)
    np.testing.assert_allclose(mu, mue, rtol=1e-11)


def test_pomegranate_fit_restores_torch_settings():
    torch = pytest.importorskip("torch")
    pytest.importorskip("pomegranate")
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    _common.pomegranate_fit(_common.mixture(1000), _common.W0, _common.MU0, max_iter=2,
                            n_threads=1)
    _common.pomegranate_fit(_common.mixture(1000), k=2, max_iter=2, n_threads=1)
    assert torch.get_default_dtype() == dtype
    assert torch.get_num_threads() == threads


def test_pomegranate_loop_converged_agrees_with_fit_many():
    """The fit_many comparison's loop at 1e-6 per point reaches the fits of
    fit_many (another library as the truth for fit_many, and a check that the
    loop timed is a loop of real fits)."""
    pytest.importorskip("torch")
    pytest.importorskip("pomegranate")
    rng = np.random.default_rng(0)
    data = [np.concatenate([rng.exponential(1.0, 250), rng.exponential(0.1, 250)])
            for _ in range(20)]
    res = expmix.fit_many(data, 2, random_state=0, n_threads=1, tol=1e-12)
    _, fits = _common.pomegranate_loop(data, 2, n_threads=1, tol_per_point=1e-6,
                                       max_iter=1000)
    ag = _common.agreement(data, fits, res.rates, res.log_likelihood, rtol=0.02)
    assert ag["fraction_same_rates"] == 1.0
    # fit_many is the maximum: pomegranate may be short of it, by little
    assert -1e-9 < ag["median_ll_gap_per_point"] < 1e-5
    assert ag["max_ll_gap_per_point"] < 1e-4


def test_mixture_loglik_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    x = _common.mixture(2000, seed=2)
    w, mu = np.array([0.3, 0.7]), np.array([4.0, 0.5])
    dens = sum(wk * stats.expon.pdf(x, scale=1 / mk) for wk, mk in zip(w, mu))
    assert _common.mixture_loglik(x, w, mu) == pytest.approx(np.log(dens).sum(), rel=1e-12)


@pytest.fixture
def no_pomegranate(monkeypatch):
    """pomegranate not importable (None in sys.modules makes import fail)."""
    for name in ["pomegranate", "pomegranate.gmm", "pomegranate.distributions"]:
        monkeypatch.setitem(sys.modules, name, None)


def test_benchmarks_run_without_pomegranate(no_pomegranate, capsys):
    x = _common.mixture(1000)
    assert _common.pomegranate_fit(x, _common.W0, _common.MU0) is None
    assert _common.pomegranate_time_per_iter(x, 1) is None
    assert _common.pomegranate_loop([x], 2) is None
    run_all = importlib.import_module("run_all")
    assert run_all.pomegranate_per_iter(x, 1) is None
    assert run_all.pomegranate_check(1) is None
    r = {}
    run_all.s4_pomegranate_loop([x[:500]], r, 10, 1.0)
    assert r == {}
    assert "pomegranate" in capsys.readouterr().out
