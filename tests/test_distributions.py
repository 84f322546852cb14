"""Distribution functions of the fitted mixture against closed forms and scipy."""
import numpy as np
import pytest
from scipy import integrate, stats

from expmix import ExponentialMixture, NotFittedError
from expmix import distributions as D

W = np.array([0.2, 0.5, 0.3])
MU = np.array([20.0, 1.0, 0.05])


@pytest.fixture
def model():
    rng = np.random.default_rng(0)
    m = ExponentialMixture(3, weights_init=W, rates_init=MU, max_iter=0)
    with pytest.warns(Warning):
        m.fit(rng.exponential(1.0, 100))
    np.testing.assert_array_equal(m.rates_, MU)
    return m


def direct_pdf(x):
    return sum(w * stats.expon(scale=1 / mu).pdf(x) for w, mu in zip(W, MU))


def direct_sf(x):
    return sum(w * stats.expon(scale=1 / mu).sf(x) for w, mu in zip(W, MU))


def test_pdf_cdf_sf(model):
    x = np.array([0.0, 1e-8, 0.01, 0.3, 1.0, 7.0, 100.0])
    np.testing.assert_allclose(model.pdf(x), direct_pdf(x), rtol=1e-13)
    np.testing.assert_allclose(model.sf(x), direct_sf(x), rtol=1e-13)
    np.testing.assert_allclose(model.cdf(x[1:]), 1 - direct_sf(x[1:]), rtol=1e-9)
    assert model.cdf(0.0) == 0.0 and model.sf(0.0) == 1.0
    assert model.pdf(-1.0) == 0.0 and model.cdf(-1.0) == 0.0


def test_pdf_integrates_to_one(model):
    total = sum(integrate.quad(model.pdf, a, b, limit=200)[0]
                for a, b in [(0, 0.1), (0.1, 10), (10, np.inf)])
    assert total == pytest.approx(1.0, abs=1e-10)


def test_tails_in_log_space(model):
    # far tail: sf underflows but logsf is exact (the slowest component dominates)
    x = 30000.0
    assert model.sf(x) == 0.0
    assert model.logsf(x) == pytest.approx(np.log(0.3) - 0.05 * x, rel=1e-14)
    # near zero: cdf keeps relative precision (F(x) ~ x * sum w mu)
    x = 1e-12
    assert model.cdf(x) == pytest.approx(x * np.sum(W * MU), rel=1e-9, abs=0)
    assert model.logcdf(x) == pytest.approx(np.log(x * np.sum(W * MU)), rel=1e-9)


def test_ppf_inverts_cdf(model):
    q = np.concatenate(([1e-300, 1e-15, 1e-6], np.linspace(0.01, 0.99, 25), [1 - 1e-9]))
    x = model.ppf(q)
    np.testing.assert_allclose(model.cdf(x), q, rtol=1e-12)
    assert model.ppf(0.0) == 0.0 and model.ppf(1.0) == np.inf
    # isf is exact for tiny upper-tail probabilities
    p = np.array([1e-300, 1e-100, 1e-20])
    np.testing.assert_allclose(np.exp(model.logsf(model.isf(p))) / p, 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="q must lie in"):
        model.ppf(1.5)


def test_mean_var(model):
    assert model.mean() == pytest.approx(np.sum(W / MU), rel=1e-15)
    ex2 = np.sum(2 * W / MU**2)
    assert model.var() == pytest.approx(ex2 - np.sum(W / MU) ** 2, rel=1e-14)
    m, _ = integrate.quad(lambda x: x * model.pdf(x), 0, np.inf, limit=400)
    assert model.mean() == pytest.approx(m, rel=1e-8)


def test_sample(model):
    x, lab = model.sample(200_000, random_state=1)
    assert x.shape == (200_000,) and lab.shape == (200_000,)
    assert abs(np.mean(x) - model.mean()) < 5 * np.sqrt(model.var() / x.size)
    np.testing.assert_allclose(np.bincount(lab) / x.size, W, atol=0.005)
    assert stats.kstest(x, model.cdf).pvalue > 1e-3


def test_score_samples_and_proba(model):
    x = np.array([0.0, 0.5, 3.0, 50.0])
    np.testing.assert_allclose(model.score_samples(x), np.log(direct_pdf(x)), rtol=1e-13)
    p = model.predict_proba(x)
    comp = np.array([w * mu * np.exp(-mu * x) for w, mu in zip(W, MU)]).T
    np.testing.assert_allclose(p, comp / comp.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(x), np.argmax(comp, axis=1))
    ev = np.array([True, False, True, False])
    s = model.score_samples(x, event_observed=ev)
    assert s[1] == pytest.approx(np.log(direct_sf(0.5)), rel=1e-13)


def test_score_matches_mean_score_samples(model):
    rng = np.random.default_rng(2)
    x = rng.exponential(2.0, 1000)
    assert model.score(x) == pytest.approx(np.mean(model.score_samples(x)), rel=1e-12)


def test_weights_above(model):
    t = 0.2
    wa = model.weights_above(t)
    expect = W * np.exp(-MU * t)
    np.testing.assert_allclose(wa, expect / expect.sum(), rtol=1e-14)


def test_not_fitted():
    m = ExponentialMixture(2)
    for call in (lambda: m.pdf(1.0), lambda: m.predict([1.0]), lambda: m.score([1.0]),
                 lambda: m.sample(3), lambda: m.bic([1.0]), lambda: m.mean()):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()


def test_module_functions_match():
    x = np.linspace(0, 5, 11)
    np.testing.assert_allclose(D.pdf(x, W, MU), direct_pdf(x), rtol=1e-13)
    assert D.mean(W, MU) == pytest.approx(np.sum(W / MU))
