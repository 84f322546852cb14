"""Fitting exact (possibly weighted) data: closed forms, direct maximization,
monotonicity, recovery, invariances and thread-count independence."""
import zlib
import warnings

import numpy as np
import pytest

import expmix
from expmix import ExponentialMixture, select_components
from conftest import draw
from reference import direct_mle, loglik


def test_k1_closed_form(rng):
    x = rng.exponential(2.5, size=10_000)
    m = ExponentialMixture(1).fit(x)
    assert m.rates_[0] == pytest.approx(x.size / x.sum(), rel=1e-12)
    assert m.weights_[0] == 1.0
    assert m.log_likelihood_ == pytest.approx(x.size * np.log(x.size / x.sum()) - x.size, rel=1e-12)


def test_k1_closed_form_weighted(rng):
    x = rng.exponential(0.3, size=5000)
    v = rng.uniform(0, 3, size=5000)
    m = ExponentialMixture(1).fit(x, sample_weight=v)
    assert m.rates_[0] == pytest.approx(v.sum() / (v * x).sum(), rel=1e-12)
    assert m.total_weight_ == pytest.approx(v.sum(), rel=1e-14)


CASES = [
    ("separated-2", [0.3, 0.7], [10.0, 0.5], 3000),
    ("overlapping-2", [0.5, 0.5], [1.0, 2.5], 3000),
    ("separated-3", [0.2, 0.5, 0.3], [20.0, 1.0, 0.05], 4000),
    ("overlapping-3", [0.3, 0.4, 0.3], [4.0, 1.5, 0.4], 4000),
]


@pytest.mark.parametrize("name,w,mu,n", CASES, ids=[c[0] for c in CASES])
def test_em_reaches_direct_maximum(name, w, mu, n):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = draw(rng, n, w, mu)
    K = len(w)
    ll_opt, _, _ = direct_mle(K, rng, n_starts=12, scale=float(np.mean(x)), exact=x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ExponentialMixture(K, n_init=6, random_state=1, tol=1e-12, max_iter=20000).fit(x)
    assert m.log_likelihood_ >= ll_opt - 1e-7 * n
    # the reported log-likelihood is the direct formula at the returned parameters
    th = np.concatenate((np.log(m.weights_[1:] / m.weights_[0]), np.log(m.rates_)))
    assert m.log_likelihood_ == pytest.approx(loglik(th, K, exact=x), rel=1e-12)


@pytest.mark.filterwarnings("ignore::expmix.ConvergenceWarning")
@pytest.mark.parametrize("acceleration", ["squarem", "anderson", "none"])
def test_history_monotone(rng, acceleration):
    x = draw(rng, 20_000, [0.3, 0.4, 0.3], [4.0, 1.5, 0.4])
    m = ExponentialMixture(3, acceleration=acceleration, tol=1e-13, max_iter=3000).fit(x)
    h = m.history_
    assert h.size >= 3
    assert np.all(np.diff(h) >= -1e-12 * np.abs(h[:-1]))
    assert h[-1] == pytest.approx(m.lower_bound_, rel=1e-15)


def test_squarem_same_optimum_fewer_passes(rng):
    x = draw(rng, 50_000, [0.2, 0.5, 0.3], [20.0, 1.0, 0.05])
    plain = ExponentialMixture(3, acceleration="none", tol=1e-12, max_iter=50_000).fit(x)
    fast = ExponentialMixture(3, acceleration="squarem", tol=1e-12, max_iter=50_000).fit(x)
    assert fast.log_likelihood_ >= plain.log_likelihood_ - 1e-9 * x.size
    np.testing.assert_allclose(fast.rates_, plain.rates_, rtol=1e-4)
    assert fast.n_iter_ * 2 < plain.n_iter_


def test_parameter_recovery_large_sample():
    rng = np.random.default_rng(7)
    w, mu = np.array([0.25, 0.45, 0.30]), np.array([8.0, 1.0, 0.1])
    n = 400_000
    x = draw(rng, n, w, mu)
    m = ExponentialMixture(3, n_init=2, random_state=0).fit(x)
    # within 5 standard errors (binomial SE for weights, inflated 2x for the
    # overlap; rate SE ~ mu / sqrt(w n) for a well-separated component)
    assert np.all(np.abs(m.weights_ - w) <= 5 * 2 * np.sqrt(w * (1 - w) / n))
    assert np.all(np.abs(m.rates_ / mu - 1) <= 5 * 2 / np.sqrt(w * n))


def test_integer_weights_equal_repetition(rng):
    x = draw(rng, 800, [0.4, 0.6], [5.0, 0.5])
    c = rng.integers(1, 5, size=x.size)
    a = ExponentialMixture(2, tol=1e-13, max_iter=5000).fit(x, sample_weight=c)
    b = ExponentialMixture(2, tol=1e-13, max_iter=5000).fit(np.repeat(x, c))
    np.testing.assert_allclose(a.rates_, b.rates_, rtol=1e-7)
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-7)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


@pytest.mark.parametrize("c", [1e-6, 3.7, 1e5])
def test_scale_equivariance(rng, c):
    x = draw(rng, 3000, [0.4, 0.6], [5.0, 0.5])
    a = ExponentialMixture(2, tol=1e-13, max_iter=5000).fit(x)
    b = ExponentialMixture(2, tol=1e-13, max_iter=5000).fit(c * x)
    np.testing.assert_allclose(b.rates_, a.rates_ / c, rtol=1e-7)
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=1e-7)


@pytest.mark.parametrize("kind", ["exact", "weighted"])
def test_bitwise_identical_across_threads(rng, kind):
    x = draw(rng, 100_003, [0.2, 0.5, 0.3], [20.0, 1.0, 0.05])
    sw = rng.uniform(0.5, 2, size=x.size) if kind == "weighted" else None
    ref = None
    for nt in (1, 2, 3, 8):
        m = ExponentialMixture(3, n_init=3, random_state=5, n_threads=nt).fit(x, sample_weight=sw)
        got = (m.weights_.tobytes(), m.rates_.tobytes(), m.history_.tobytes(), m.n_iter_)
        if ref is None:
            ref = got
        assert got == ref, f"n_threads={nt} differs"


def test_restart_paths_agree(rng):
    # restarts across threads (small data) and one after another give the same fit
    x = draw(rng, 5000, [0.3, 0.7], [6.0, 0.6])
    a = ExponentialMixture(2, n_init=5, random_state=3, n_threads=2).fit(x)
    b = ExponentialMixture(2, n_init=5, random_state=3, n_threads=1).fit(x)
    assert a.rates_.tobytes() == b.rates_.tobytes()
    assert [r["log_likelihood"] for r in a.restarts_] == [r["log_likelihood"] for r in b.restarts_]


def test_reproducible_with_random_state(rng):
    x = draw(rng, 3000, [0.3, 0.4, 0.3], [4.0, 1.5, 0.4])
    a = ExponentialMixture(3, n_init=4, init="random", random_state=11).fit(x)
    b = ExponentialMixture(3, n_init=4, init="random", random_state=11).fit(x)
    assert a.rates_.tobytes() == b.rates_.tobytes()


def test_components_ordered_by_rate(rng):
    x = draw(rng, 5000, [0.3, 0.4, 0.3], [0.1, 10.0, 1.0])
    m = ExponentialMixture(3, n_init=3, random_state=0).fit(x)
    assert np.all(np.diff(m.rates_) < 0)
    np.testing.assert_allclose(m.means_, 1 / m.rates_)
    assert m.n_parameters_ == 5
    assert m.weights_.sum() == pytest.approx(1.0, abs=1e-15)


def test_user_start(rng):
    x = draw(rng, 5000, [0.3, 0.7], [6.0, 0.6])
    m = ExponentialMixture(2, weights_init=[0.5, 0.5], rates_init=[3.0, 0.3]).fit(x)
    np.testing.assert_allclose(m.restarts_[0]["start"][1], [3.0, 0.3])
    assert m.converged_


def test_fit_predict_equals_fit_then_predict(rng):
    x = draw(rng, 2000, [0.3, 0.7], [6.0, 0.6])
    a = ExponentialMixture(2, random_state=0).fit_predict(x)
    b = ExponentialMixture(2, random_state=0).fit(x).predict(x)
    np.testing.assert_array_equal(a, b)


def test_convergence_warning(rng):
    x = draw(rng, 2000, [0.5, 0.5], [1.0, 1.5])
    with pytest.warns(expmix.ConvergenceWarning, match="max_iter=3"):
        m = ExponentialMixture(2, max_iter=3, acceleration="none").fit(x)
    assert not m.converged_
    assert m.status_ == "max_iter"


def test_zeros_spike_is_set_aside():
    rng = np.random.default_rng(3)
    x = np.concatenate([np.zeros(300), rng.exponential(1.0, 3000)])
    # every restart of K=2 heads for a spike on the zeros
    with pytest.raises(expmix.DegenerateFitError, match="fit_intervals"):
        ExponentialMixture(2, weights_init=[0.1, 0.9], rates_init=[100.0, 1.0]).fit(x)
    # K = 1 is fine and exact
    m = ExponentialMixture(1).fit(x)
    assert m.rates_[0] == pytest.approx(x.size / x.sum(), rel=1e-12)


def test_zeros_as_intervals_fit_cleanly():
    rng = np.random.default_rng(3)
    d = 0.01
    x = np.round(np.concatenate([rng.exponential(0.002, 300), rng.exponential(1.0, 3000)]) / d) * d
    m = ExponentialMixture(2, n_init=3, random_state=0).fit_intervals(
        np.maximum(x - d / 2, 0), x + d / 2)
    assert m.converged_
    assert np.all(np.isfinite(m.rates_))


def test_single_distinct_value():
    x = np.full(50, 2.0)
    m = ExponentialMixture(2).fit(x)
    # the likelihood is maximal when every component has rate 1/2
    np.testing.assert_allclose(m.rates_, 0.5, rtol=1e-6)
    assert m.log_likelihood_ == pytest.approx(50 * (np.log(0.5) - 1), rel=1e-10)


def test_n_equals_k(rng):
    x = np.array([0.5, 3.0])
    m = ExponentialMixture(2).fit(x)
    assert np.all(np.isfinite(m.rates_)) and np.all(m.rates_ > 0)


def test_select_components_bic(rng):
    x = draw(rng, 20_000, [0.3, 0.7], [10.0, 0.5])
    res = select_components(x, range(1, 5), n_init=2, random_state=0)
    assert res.best_n_components_ == 2
    row = res.table[1]
    assert row["bic"] == pytest.approx(-2 * row["log_likelihood"] + 3 * np.log(x.size))
    assert row["aic"] == pytest.approx(-2 * row["log_likelihood"] + 6)
    assert res.best_.bic(x) == pytest.approx(row["bic"], rel=1e-12)
    assert "selected by BIC" in str(res)


def test_bic_uses_total_weight(rng):
    x = draw(rng, 1000, [0.3, 0.7], [10.0, 0.5])
    v = np.full(x.size, 2.0)
    m = ExponentialMixture(2).fit(x, sample_weight=v)
    assert m.bic(x, sample_weight=v) == pytest.approx(
        -2 * m.log_likelihood_ + 3 * np.log(2000.0), rel=1e-12)
