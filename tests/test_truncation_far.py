"""Per-observation truncation far beyond 1/rate (issues 3 and 8).

Missing-data EM crawls when the entry times lie many mean lifetimes into the
tail, and its statistics are not representable for mu t > ~700; the pass caps
them (csrc/pass.c, EM_GHOST_LOG_CAP) and the fit finishes by a Newton polish
of the exact truncated likelihood (expmix.inference.polish_truncated).
Independent truths: the K = 1 closed form n / sum(x - t) (events / exposure
with censoring), the log-likelihood written directly with logsumexp
(tests/reference.py), its direct maximization by scipy.optimize from many
starts, and finite-difference derivatives.
"""
import warnings

import numpy as np
import pytest

from expmix import ExponentialMixture, _core, select_components
from expmix.inference import (POLISH_DECREMENT_TOL, _psi_derivatives, _raw_derivatives,
                              polish_truncated)
from expmix.observations import from_samples
from reference import (direct_mle_grad, draw_above, hessian_fd, loglik, loglik_and_grad,
                       theta_of)


def EM(*args, **kw):
    kw.setdefault("n_threads", 1)
    return ExponentialMixture(*args, **kw)


# ----------------------------------------------------------------------
# the pass: the truncation term in log space, finite statistics

@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("t", [40.0, 703.5, 750.0, 2000.0, 1e5])
def test_pass_far_truncation_loglik_exact_and_stats_finite(K, t):
    W = {1: [1.0], 2: [0.3, 0.7], 3: [0.2, 0.3, 0.5]}[K]
    M = {1: [1.0], 2: [4.0, 1.0], 3: [9.0, 1.5, 0.6]}[K]
    rng = np.random.default_rng(K)
    tt = t * (1 + 0.1 * rng.random(3000))
    x = tt + rng.exponential(1.0, tt.size)
    obs = from_samples(x, entry=tt)
    ref = loglik(theta_of(W, M), K, exact=x, entry=tt)
    for general in (0, 1):
        _core._set_general_kinds(general)
        try:
            ll, wt, R, X = _core.pass_stats(obs, np.array(W), np.array(M), 1)
            ll2, _, R2, X2 = _core.pass_stats(obs, np.array(W), np.array(M), 2)
        finally:
            _core._set_general_kinds(0)
        assert ll == pytest.approx(ref, rel=1e-13, abs=1e-15 * tt.sum() * max(M))
        assert wt == tt.size
        assert np.all(np.isfinite(R)) and np.all(np.isfinite(X)) and np.all(R > 0)
        assert ll2 == ll and np.array_equal(R2, R) and np.array_equal(X2, X)


def test_pass_issue8_row():
    """log f(x) - log S(t) = log mu - mu (x - t) = -234.5 (was FloatingPointError)."""
    ll, _, R, X = _core.pass_stats(from_samples(np.array([938.0]), entry=np.array([703.5])),
                                   np.ones(1), np.ones(1))
    assert ll == pytest.approx(-234.5, rel=1e-13)
    assert np.isfinite(R[0]) and np.isfinite(X[0])


def test_pass_ghost_statistics_exact_below_the_cap():
    """Below the cap the missing mass is exact: R = r_exact + v w (1 - e^{-mu t}) / S(t)."""
    t = np.array([300.0])
    obs = from_samples(np.array([301.0]), entry=t)
    w, mu = np.array([0.5, 0.5]), np.array([2.0, 1.0])
    _, _, R, X = _core.pass_stats(obs, w, mu)
    lS = np.logaddexp(np.log(0.5) - 600.0, np.log(0.5) - 300.0)
    ghost = np.exp(np.log(w) - lS) * -np.expm1(-mu * t)
    a = np.log(w * mu) - mu * 301.0
    r = np.exp(a - np.logaddexp(*a))
    np.testing.assert_allclose(R, ghost + r, rtol=1e-12)
    # X: ghosts times E[x | x < t, k] = t g(mu t) ~ 1/mu, plus r * 301
    g = 1 / (mu * t) - 1 / np.expm1(mu * t)
    np.testing.assert_allclose(X, ghost * t * g + r * 301.0, rtol=1e-12)


# ----------------------------------------------------------------------
# K = 1: the closed form

def far_k1(T, n=400, seed=0, with_zero=False):
    rng = np.random.default_rng(seed)
    t = T * (0.5 + 0.5 * rng.random(n))
    if with_zero:
        t = T * 2 * rng.random(n)
        t[0] = 0.0          # no common dead time: every pair stays a pair
    return t + rng.exponential(1.0, n), t


@pytest.mark.parametrize("T", [40.0, 80.0, 300.0, 800.0])
@pytest.mark.parametrize("with_zero", [False, True], ids=["dead-time", "no-dead-time"])
def test_k1_closed_form(T, with_zero):
    x, t = far_k1(T, with_zero=with_zero)
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # no ConvergenceWarning
        m = EM(1).fit(x, entry=t)
    assert m.converged_ and m.status_ == "converged"
    assert m.rates_[0] == pytest.approx(x.size / np.sum(x - t), rel=1e-10)
    ll = loglik(theta_of([1.0], m.rates_), 1, exact=x, entry=t)
    assert m.log_likelihood_ == pytest.approx(ll, rel=1e-12)


@pytest.mark.parametrize("T", [80.0, 800.0])
def test_k1_closed_form_censored(T):
    """events / exposure, with a recording window c_i above each entry."""
    x, t = far_k1(T, n=500, seed=3, with_zero=True)
    c = t + 0.7
    ev = x < c
    xc = np.minimum(x, c)
    m = EM(1).fit(xc, event_observed=ev, entry=t)
    assert m.converged_
    assert m.rates_[0] == pytest.approx(ev.sum() / np.sum(xc - t), rel=1e-10)


def test_k1_weighted_and_scaled():
    x, t = far_k1(300.0, seed=5, with_zero=True)
    v = np.random.default_rng(1).uniform(0.5, 3.0, x.size)
    m = EM(1).fit(x, sample_weight=v, entry=t)
    assert m.rates_[0] == pytest.approx(v.sum() / np.sum(v * (x - t)), rel=1e-10)
    m2 = EM(1).fit(x * 1e-6, sample_weight=v, entry=t * 1e-6)
    assert m2.rates_[0] == pytest.approx(1e6 * v.sum() / np.sum(v * (x - t)), rel=1e-10)


def test_issue8_row_fit():
    rng = np.random.default_rng(0)
    t = 80 * (0.5 + 0.5 * rng.random(200))
    x = t + rng.exponential(1.0, 200)
    m = ExponentialMixture(1).fit(x, entry=t)
    assert m.converged_
    assert m.rates_[0] == pytest.approx(x.size / np.sum(x - t), rel=1e-10)


# ----------------------------------------------------------------------
# K = 2, 3 against direct maximization

def check_direct(m, K, seed, **data):
    ll_d, w_d, mu_d = direct_mle_grad(K, np.random.default_rng(seed), n_starts=12,
                                      scale=float(np.mean(data.get("exact", [1.0]))), **data)
    W = m.total_weight_
    ll_m = loglik(theta_of(m.weights_, m.rates_), K, **data)
    assert m.log_likelihood_ == pytest.approx(ll_m, rel=1e-11)
    assert ll_m / W >= ll_d / W - 1e-8, (ll_m, ll_d)
    assert ll_m / W <= ll_d / W + 1e-8, ("scipy did not reach the optimum?", ll_m, ll_d)
    # stationarity, independently: the reference gradient at the fit
    _, g = loglik_and_grad(theta_of(m.weights_, m.rates_), K, **data)
    assert np.max(np.abs(g)) / W < 1e-7


@pytest.mark.parametrize("case", ["k2", "k3"])
def test_spread_entries_against_direct_maximization(case):
    rng = np.random.default_rng(11)
    if case == "k2":
        K, w, mu, n, T = 2, [0.5, 0.5], [2.0, 0.4], 1500, 40.0
    else:
        K, w, mu, n, T = 3, [0.3, 0.4, 0.3], [6.0, 1.0, 0.15], 2500, 8.0
    t = T * rng.random(n) ** 2          # many small, some far (mu_slow t up to ~10-20)
    x = draw_above(rng, t, w, mu)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = EM(K, n_init=2, random_state=0).fit(x, entry=t)
    assert m.converged_
    check_direct(m, K, 1, exact=x, entry=t)


def test_mixed_kinds_with_entry_against_direct_maximization():
    """exact + right-censored + interval-censored rows, each with its entry."""
    rng = np.random.default_rng(12)
    K, w, mu, n = 2, [0.4, 0.6], [3.0, 0.5], 1800
    t = 30.0 * rng.random(n) ** 2
    x = draw_above(rng, t, w, mu)
    kind = rng.integers(0, 3, n)
    lo, hi = x.copy(), x.copy()
    c = t + rng.uniform(0.5, 4.0, n)                      # right-censored at c
    cens = (kind == 1) & (x > c)
    lo[cens], hi[cens] = c[cens], np.inf
    b = kind == 2                                          # bins of width 0.25 above t
    lo[b] = t[b] + np.floor((x[b] - t[b]) / 0.25) * 0.25
    hi[b] = lo[b] + 0.25
    m = EM(K, n_init=2, random_state=0).fit_intervals(lo, hi, entry=t)
    assert m.converged_
    ex = lo == hi
    rt = np.isinf(hi)
    iv = ~ex & ~rt
    check_direct(m, K, 2, exact=lo[ex], right=lo[rt], lower=lo[iv], upper=hi[iv], entry=t)


def test_select_components_reaches_the_same_fit():
    x, t = far_k1(80.0, n=300, seed=9, with_zero=True)
    res = select_components(x, n_components=[1, 2], entry=t, n_threads=1, random_state=0)
    assert res.models[1].rates_[0] == pytest.approx(x.size / np.sum(x - t), rel=1e-10)
    assert res.models[1].converged_


def test_thread_count_does_not_change_the_polished_fit():
    rng = np.random.default_rng(4)
    t = 40.0 * rng.random(9000) ** 2
    x = draw_above(rng, t, [0.5, 0.5], [2.0, 0.4])
    m1 = EM(2, random_state=0, n_threads=1).fit(x, entry=t)
    m2 = EM(2, random_state=0, n_threads=2).fit(x, entry=t)
    assert np.array_equal(m1.rates_, m2.rates_) and np.array_equal(m1.weights_, m2.weights_)
    assert m1.log_likelihood_ == m2.log_likelihood_


# ----------------------------------------------------------------------
# the polish itself

def small_data():
    rng = np.random.default_rng(21)
    t = 20.0 * rng.random(600) ** 2
    x = draw_above(rng, t, [0.3, 0.3, 0.4], [5.0, 1.0, 0.2])
    return x, t, from_samples(x, entry=t)


def test_psi_derivatives_against_reference_and_finite_differences():
    """psi with ref = 0 is the theta of tests/reference.py: gradient against
    its analytic gradient, Hessian against finite differences."""
    x, t, obs = small_data()
    w, mu = np.array([0.25, 0.35, 0.4]), np.array([4.0, 0.8, 0.25])
    g, H = _psi_derivatives(*_raw_derivatives(obs, w, mu), w, mu, 0)
    th = theta_of(w, mu)
    _, g_ref = loglik_and_grad(th, 3, exact=x, entry=t)
    np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-9 * np.abs(g_ref).max())
    H_ref = hessian_fd(lambda z: loglik(z, 3, exact=x, entry=t), th)
    np.testing.assert_allclose(H, H_ref, rtol=1e-5, atol=1e-5 * np.abs(H_ref).max())


def test_polish_never_decreases_and_reaches_a_stationary_point():
    x, t, obs = small_data()
    rng = np.random.default_rng(0)
    for _ in range(6):
        w = rng.dirichlet(np.ones(3))
        mu = np.ascontiguousarray(np.sort(np.exp(rng.uniform(-2, 2, 3)))[::-1])
        ll0 = _core.pass_stats(obs, w, mu)[0]
        res = polish_truncated(obs, w, mu)
        assert res.log_likelihood >= ll0
        if res.stationary:
            assert res.decrement <= 1e-14
            _, g = loglik_and_grad(theta_of(res.weights, res.rates), 3, exact=x, entry=t)
            assert np.max(np.abs(g)) < 1e-6 * x.size


def test_polish_at_the_optimum_is_a_no_op():
    x, t, obs = small_data()
    m = EM(3, n_init=2, random_state=0).fit(x, entry=t)
    assert m.converged_
    order = np.argsort(-m.rates_)
    res = polish_truncated(obs, m.weights_[order], m.rates_[order])
    assert res.stationary and res.decrement <= POLISH_DECREMENT_TOL
    np.testing.assert_allclose(res.rates, m.rates_[order], rtol=1e-10)


def test_far_entries_without_dead_time_k2():
    """Entry times to mu_slow t ~ 900 (ghost statistics capped in the pass):
    the fit still reaches the maximum of the truncated likelihood."""
    rng = np.random.default_rng(8)
    n = 1200
    t = np.where(rng.random(n) < 0.5, rng.uniform(0, 3, n), rng.uniform(600, 900, n))
    t[0] = 0.0
    x = draw_above(rng, t, [0.5, 0.5], [3.0, 1.0])
    m = EM(2, n_init=2, random_state=0).fit(x, entry=t)
    assert m.converged_
    check_direct(m, 2, 3, exact=x, entry=t)


def test_interval_entry_far_k1_closed_form():
    """fit_intervals with exact rows and entry far in the tail, K = 1."""
    x, t = far_k1(800.0, n=300, seed=2, with_zero=True)
    m = EM(1).fit_intervals(x, x, entry=t)
    assert m.rates_[0] == pytest.approx(x.size / np.sum(x - t), rel=1e-10)
