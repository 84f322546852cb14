"""Property-based tests (hypothesis) of the EM fit and the distribution
functions, on arbitrary generated data, weights and starting points."""
import os
import warnings
from functools import partial

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from expmix import ExponentialMixture  # noqa: E402
from expmix import _core  # noqa: E402
from expmix.observations import from_intervals, from_samples  # noqa: E402

EM = partial(ExponentialMixture, n_threads=1)
SET = settings(max_examples=int(os.environ.get("EXPMIX_HYPOTHESIS_EXAMPLES", "30")), deadline=None,
               derandomize=os.environ.get("EXPMIX_HYPOTHESIS_RANDOM") != "1", suppress_health_check=[HealthCheck.too_slow])

values = st.lists(st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False),
                  min_size=4, max_size=60).map(np.array)


@st.composite
def data_and_start(draw):
    x = draw(values)
    K = draw(st.integers(1, min(4, x.size)))
    w = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=K, max_size=K)))
    mu = np.array(draw(st.lists(st.floats(1e-3, 1e3), min_size=K, max_size=K)))
    cens = np.array(draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size)))
    return x, w / w.sum(), mu, cens


def quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **k)


@SET
@given(data_and_start(), st.sampled_from([0, 1, 2]))
def test_em_never_decreases_loglik(ds, accel):
    x, w, mu, cens = ds
    assume((~cens).sum() >= 1 and x[~cens].max() > 0)
    obs = from_samples(x, event_observed=~cens)
    r = _core.fit(obs, w.copy(), mu.copy(), max_iter=200, tol=0.0, accel=accel,
                  rate_ceiling=1e300, weight_floor=0.0)
    h = r["history"]
    assert np.all(np.isfinite(h))
    drop = h[:-1] - h[1:]
    assert np.all(drop <= 1e-12 * np.abs(h[:-1]) + 1e-300), (h, drop.max())


@SET
@given(values, st.integers(0, 2**32 - 1))
def test_permutation_invariance(x, seed):
    perm = np.random.default_rng(seed).permutation(x.size)
    a = quiet(EM(2, max_iter=100, tol=0).fit, x)
    b = quiet(EM(2, max_iter=100, tol=0).fit, x[perm])
    np.testing.assert_allclose(b.log_likelihood_, a.log_likelihood_, rtol=1e-11)
    np.testing.assert_allclose(b.rates_, a.rates_, rtol=1e-6)


@SET
@given(values, st.floats(1e-6, 1e6))
def test_scale_equivariance(x, c):
    a = quiet(EM(2, max_iter=100, tol=0).fit, x)
    b = quiet(EM(2, max_iter=100, tol=0).fit, x * c)
    # compare fitted distributions, not labels (equal rates make labels arbitrary)
    grid = np.quantile(x, [0.1, 0.5, 0.9]) * np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(b.cdf(grid * c), a.cdf(grid), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(np.sort(b.rates_ * c), np.sort(a.rates_), rtol=1e-6)
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_ - x.size * np.log(c),
                                              rel=1e-9, abs=1e-7)


@SET
@given(values.flatmap(lambda x: st.tuples(
    st.just(x), st.lists(st.integers(0, 4), min_size=x.size, max_size=x.size).map(np.array))))
def test_weight_equals_repetition(xw):
    x, reps = xw
    assume(reps.sum() >= 2 and np.unique(x[reps > 0]).size >= 1)
    start = dict(weights_init=[0.5, 0.5], rates_init=[2.0 / x.mean(), 0.5 / x.mean()])
    a = quiet(EM(2, max_iter=60, tol=0, **start).fit, x, sample_weight=reps.astype(float))
    b = quiet(EM(2, max_iter=60, tol=0, **start).fit, np.repeat(x, reps))
    np.testing.assert_allclose(np.sort(a.rates_), np.sort(b.rates_), rtol=1e-8)
    grid = np.quantile(x, [0.1, 0.5, 0.9]) * np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(a.cdf(grid), b.cdf(grid), rtol=1e-8, atol=1e-13)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)
    assert a.total_weight_ == b.total_weight_


@SET
@given(values, st.integers(1, 5))
def test_censoring_limits_equal_exact(x, n_zero):
    """fit_intervals(x, x) is fit(x) bit for bit; observations right-censored
    at 0 carry no information (S(0) = 1); a vanishing interval tends to the
    exact value."""
    a = quiet(EM(2, max_iter=80, tol=0).fit, x)
    b = quiet(EM(2, max_iter=80, tol=0).fit_intervals, x, x)
    assert a.rates_.tobytes() == b.rates_.tobytes()
    assert a.log_likelihood_ == b.log_likelihood_
    # S(0) = 1: the same likelihood at any parameters (the EM path differs --
    # such points act as missing data -- but the maximum is the same)
    with_zeros = from_samples(np.r_[x, np.zeros(n_zero)],
                              event_observed=np.r_[np.ones(x.size, bool), np.zeros(n_zero, bool)])
    ll0, _, _, _ = _core.pass_stats(with_zeros, a.weights_, a.rates_)
    assert ll0 == pytest.approx(a.log_likelihood_, rel=1e-14, abs=1e-14)
    start = dict(weights_init=a.weights_, rates_init=a.rates_)
    c = quiet(EM(2, max_iter=300, tol=0, **start).fit, np.r_[x, np.zeros(n_zero)],
              event_observed=np.r_[np.ones(x.size, bool), np.zeros(n_zero, bool)])
    assert c.log_likelihood_ >= a.log_likelihood_ - 1e-9 * abs(a.log_likelihood_)
    ll_int, _, _, _ = _core.pass_stats(from_intervals(x, x * (1 + 1e-9)), a.weights_, a.rates_)
    # interval probability ~ density * width
    assert ll_int == pytest.approx(a.log_likelihood_ + np.sum(np.log(x * 1e-9)), rel=1e-6)


@st.composite
def mixtures(draw):
    K = draw(st.integers(1, 5))
    w = np.array(draw(st.lists(st.floats(1e-3, 1.0), min_size=K, max_size=K)))
    mu = np.array(draw(st.lists(st.floats(1e-4, 1e4), min_size=K, max_size=K, unique=True)))
    m = EM(K)
    m.weights_, m.rates_ = w / w.sum(), mu
    return m


@SET
@given(mixtures(), st.lists(st.floats(0, 1e5), min_size=1, max_size=40).map(np.array))
def test_probabilities_and_distribution_functions(m, x):
    p = m.predict_proba(x)
    assert p.shape == (x.size, m.rates_.size)
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    xs = np.sort(x)
    F = m.cdf(xs)
    assert np.all((F >= 0) & (F <= 1))
    assert np.all(np.diff(F) >= 0)
    S = m.sf(xs)
    assert np.all(np.diff(S) <= 0)
    ok = (F > 1e-300) & (F < 1 - 1e-6)     # F ~ 1: x is ill-conditioned in F
    if ok.any():
        np.testing.assert_allclose(m.ppf(F[ok]), xs[ok], rtol=1e-8)
    ok = (S > 1e-300) & (S < 1 - 1e-6)     # S ~ 1: x is ill-conditioned in S
    if ok.any():
        np.testing.assert_allclose(m.isf(S[ok]), xs[ok], rtol=1e-8)
