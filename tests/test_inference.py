"""Uncertainty: analytic observed information vs finite differences of a
direct log-likelihood, closed forms for K = 1, profile bounds vs scipy
constrained maximization, coverage of Wald and bootstrap intervals,
singular information, reproducibility and thread-count independence."""
import warnings

import numpy as np
import pytest
from scipy.optimize import brentq, minimize

import expmix
from expmix import ExponentialMixture, inference as inf
from expmix.observations import from_histogram, from_intervals, from_samples
from conftest import draw
from reference import hessian_fd, loglik_wmu


W3 = np.array([0.3, 0.5, 0.2])
MU3 = np.array([8.0, 1.0, 0.1])


def _data_cases():
    rng = np.random.default_rng(11)
    x = draw(rng, 400, W3, MU3)
    v = rng.uniform(0.5, 2.0, x.size)
    ev = x < 3.0
    lo = np.floor(x * 2) / 2
    keep = x > 0.05
    xt, vt = x[keep], v[keep]
    ent = rng.uniform(0, 0.04, xt.size)
    edges = np.array([0, 0.1, 0.3, 0.7, 1.5, 3, 6, 12, np.inf])
    counts = np.histogram(x, edges)[0].astype(float)
    mixed_lo = np.where(ev, x, 3.0)
    mixed_hi = np.where(ev, x, np.inf)
    mixed_lo[:50], mixed_hi[:50] = lo[:50], lo[:50] + 0.5
    cases = {
        "exact-weighted": (from_samples(x, v), dict(exact=x, exact_w=v)),
        "right-censored": (from_samples(np.minimum(x, 3.0), v, event_observed=ev),
                           dict(exact=x[ev], exact_w=v[ev], right=np.full((~ev).sum(), 3.0),
                                right_w=v[~ev])),
        "interval": (from_intervals(lo, lo + 0.5, v), dict(lower=lo, upper=lo + 0.5, interval_w=v)),
        "histogram-open-bin": (from_histogram(edges, counts),
                               dict(lower=edges[:-2], upper=edges[1:-1], interval_w=counts[:-1],
                                    right=edges[-2:-1], right_w=counts[-1:])),
        "dead-time": (from_samples(xt, vt, entry=0.05),
                      dict(exact=xt, exact_w=vt, entry=np.array([0.05]), entry_w=np.array([vt.sum()]))),
        "entry-per-row": (from_samples(xt, vt, entry=ent),
                          dict(exact=xt, exact_w=vt, entry=ent, entry_w=vt)),
        "mixed-kinds-truncated": (from_intervals(np.maximum(mixed_lo, 0.0) + 0.01,
                                                 mixed_hi + 0.01, entry=0.005),
                                  None),
    }
    # mixed: build the reference data from the observation set itself
    obs = cases["mixed-kinds-truncated"][0]
    cases["mixed-kinds-truncated"] = (obs, dict(exact=obs.exact, right=obs.right, lower=obs.lower,
                                                upper=obs.upper, entry=obs.trunc,
                                                entry_w=obs.trunc_w))
    return cases


CASES = _data_cases()


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("at", ["truth", "perturbed"])
def test_hessian_matches_finite_differences(name, at):
    obs, data = CASES[name]
    w, mu = W3.copy(), MU3.copy()
    if at == "perturbed":
        w, mu = np.array([0.25, 0.45, 0.3]), np.array([5.0, 1.7, 0.3])
    K = 3

    def f(theta):
        ww = np.concatenate((theta[:K - 1], [1 - theta[:K - 1].sum()]))
        return loglik_wmu(ww, theta[K - 1:], **data)

    theta = np.concatenate((w[:K - 1], mu))
    g, H = inf.loglik_derivatives(obs, w, mu, block=97)       # several blocks
    Hfd = hessian_fd(f, theta)
    scale = np.max(np.abs(Hfd))
    np.testing.assert_allclose(H, Hfd, rtol=1e-6, atol=1e-6 * scale)
    # the gradient too (central differences)
    h = 1e-6 * np.maximum(np.abs(theta), 1e-3)
    gfd = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h[i])
                    for i, e in enumerate(np.eye(theta.size))])
    np.testing.assert_allclose(g, gfd, rtol=1e-6, atol=1e-6 * np.max(np.abs(gfd)))
    # the log-likelihood of the C pass at the same point is the direct one
    assert expmix._core.pass_stats(obs, w, mu)[0] == pytest.approx(f(theta), rel=1e-11)


def test_k1_closed_forms(rng):
    x = rng.exponential(2.0, 500)
    m = ExponentialMixture(1).fit(x)
    mu = m.rates_[0]
    se = m.standard_errors_
    assert se.rates[0] == pytest.approx(mu / np.sqrt(x.size), rel=1e-10)
    assert se.means[0] == pytest.approx(1 / (mu * np.sqrt(x.size)), rel=1e-10)
    assert m.covariance_.shape == (1, 1)
    assert m.observed_information_[0, 0] == pytest.approx(x.size / mu ** 2, rel=1e-10)
    ci = m.confint(0.9)
    z = 1.6448536269514722
    np.testing.assert_allclose(ci.rates[0], mu * np.exp([-z / np.sqrt(x.size), z / np.sqrt(x.size)]),
                               rtol=1e-9)
    np.testing.assert_allclose(ci.means[0], 1 / ci.rates[0][::-1], rtol=1e-12)
    np.testing.assert_array_equal(ci.weights, [[1.0, 1.0]])
    # profile: n log mu - mu S dropped by chi2_1(0.9)/2, solved by brentq
    n, S = x.size, x.sum()
    q = z * z
    ell = lambda r: n * np.log(r) - r * S
    lo = brentq(lambda r: 2 * (ell(mu) - ell(r)) - q, mu * 0.5, mu)
    hi = brentq(lambda r: 2 * (ell(mu) - ell(r)) - q, mu, mu * 2)
    pr = m.confint(0.9, method="profile")
    np.testing.assert_allclose(pr.rates[0], [lo, hi], rtol=1e-7)


def test_right_censored_k1_information(rng):
    # exponential with censoring: observed information = d / mu^2 (d events)
    x = rng.exponential(1.0, 800)
    ev = x < 1.5
    m = ExponentialMixture(1).fit(np.minimum(x, 1.5), event_observed=ev)
    assert m.rates_[0] == pytest.approx(ev.sum() / np.minimum(x, 1.5).sum(), rel=1e-10)
    assert m.standard_errors_.rates[0] == pytest.approx(m.rates_[0] / np.sqrt(ev.sum()), rel=1e-9)


def test_covariance_is_inverse_of_fd_information_at_mle():
    obs, data = CASES["right-censored"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ExponentialMixture(2, n_init=3, random_state=0, tol=1e-13)._fit(obs)
    K = 2

    def f(theta):
        ww = np.concatenate((theta[:K - 1], [1 - theta[:K - 1].sum()]))
        return loglik_wmu(ww, theta[K - 1:], **data)

    theta = np.concatenate((m.weights_[:K - 1], m.rates_))
    cov_fd = np.linalg.inv(-hessian_fd(f, theta))
    np.testing.assert_allclose(m.covariance_, cov_fd, rtol=1e-5, atol=1e-8 * np.max(np.abs(cov_fd)))
    # weight of the last component by the delta method
    se_last = np.sqrt(np.sum(cov_fd[:K - 1, :K - 1]))
    assert m.standard_errors_.weights[-1] == pytest.approx(se_last, rel=1e-5)


def test_profile_bounds_match_scipy_constrained_maximum():
    rng = np.random.default_rng(3)
    x = draw(rng, 400, [0.4, 0.6], [10.0, 1.0])
    m = ExponentialMixture(2, tol=1e-13).fit(x)
    pr = m.confint(0.95, method="profile")
    q = 3.841458820694124
    for k in range(2):
        for bound in pr.rates[k]:
            # maximize over (logit w, log mu_other) with mu_k = bound
            def negll(p):
                w0 = 1 / (1 + np.exp(-p[0]))
                mu = np.empty(2)
                mu[k] = bound
                mu[1 - k] = np.exp(p[1])
                return -loglik_wmu([w0, 1 - w0], mu, exact=x)
            p0 = np.array([np.log(m.weights_[0] / m.weights_[1]), np.log(m.rates_[1 - k])])
            r = minimize(negll, p0, method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-12,
                                                                       maxiter=5000))
            assert 2 * (m.log_likelihood_ + r.fun) == pytest.approx(q, abs=2e-4)
        for bound in pr.weights[k]:
            def negll(p):
                w = np.array([bound, 1 - bound]) if k == 0 else np.array([1 - bound, bound])
                return -loglik_wmu(w, np.exp(p), exact=x)
            r = minimize(negll, np.log(m.rates_), method="Nelder-Mead",
                         options=dict(xatol=1e-10, fatol=1e-12, maxiter=5000))
            assert 2 * (m.log_likelihood_ + r.fun) == pytest.approx(q, abs=2e-4)
    # profile and Wald agree roughly for a well-determined fit
    wd = m.confint(0.95)
    np.testing.assert_allclose(pr.rates, wd.rates, rtol=0.1)


@pytest.mark.parametrize("kind", ["interval", "dead-time"])
def test_profile_other_kinds_drop_is_chi2(kind):
    obs, data = CASES[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ExponentialMixture(2, n_init=2, random_state=0, tol=1e-13)._fit(obs)
    pr = inf.profile_confint(obs, m.weights_, m.rates_, m.log_likelihood_, 0.9)
    q = 1.6448536269514722 ** 2
    for k in range(2):
        for b in pr.rates[k]:
            ll, _, _, ok = inf.constrained_fit(obs, m.weights_, m.rates_, "rate", k, b)
            assert ok
            assert 2 * (m.log_likelihood_ - ll) == pytest.approx(q, abs=1e-5)
        assert pr.rates[k, 0] < m.rates_[k] < pr.rates[k, 1]


def test_coverage_wald_and_bootstrap():
    """200 seeded replicates of a separated 2-component mixture (N = 250):
    95 % Wald (log scale) and percentile-bootstrap (99 reps) intervals of each
    rate cover the truth in 90-99 % of them."""
    w, mu = np.array([0.5, 0.5]), np.array([20.0, 1.0])
    N, R, B = 250, 200, 99
    rng = np.random.default_rng(123)
    data = [from_samples(draw(rng, N, w, mu)) for _ in range(R)]
    fits = inf.fit_many(data, 2, [(w, mu), (np.array([0.3, 0.7]), np.array([5.0, 0.5]))],
                        n_threads=2)
    assert np.all(np.isfinite(fits["loglik"]))
    cover_w = np.zeros(2)
    cover_b = np.zeros(2)
    for i, (d, wh, mh) in enumerate(zip(data, fits["w"], fits["mu"])):
        ci = inf.wald_confint(inf.standard_errors(d, wh, mh), wh, mh)
        cover_w += (ci.rates[:, 0] <= mu) & (mu <= ci.rates[:, 1])
        b = inf.bootstrap(d, wh, mh, B, random_state=i, n_threads=2)
        ci = b.confint()
        cover_b += (ci.rates[:, 0] <= mu) & (mu <= ci.rates[:, 1])
    assert np.all((0.90 <= cover_w / R) & (cover_w / R <= 0.99)), cover_w / R
    assert np.all((0.90 <= cover_b / R) & (cover_b / R <= 0.99)), cover_b / R


def test_bootstrap_reproducible_thread_independent_and_sorted():
    rng = np.random.default_rng(8)
    x = draw(rng, 600, [0.4, 0.6], [10.0, 1.0])
    out = []
    for nt in (1, 2):
        m = ExponentialMixture(2, n_threads=nt, random_state=0).fit(x)
        for method in ("nonparametric", "parametric"):
            out.append(m.bootstrap(60, method=method, random_state=5))
    for a, b in ((out[0], out[2]), (out[1], out[3])):
        np.testing.assert_array_equal(a.rates, b.rates)
        np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(out[0].rates, out[1].rates)
    for r in out:
        assert np.all(r.rates[:, 0] > r.rates[:, 1])           # matched by order of rate
        np.testing.assert_allclose(r.weights.sum(axis=1), 1.0, rtol=1e-12)
        assert r.n_failed == 0 and r.rates.shape == (60, 2)
    m = ExponentialMixture(2, random_state=0).fit(x)
    c1 = m.confint(method="bootstrap", n_bootstrap=60, random_state=5, interval="bca")
    c2 = m.confint(method="bootstrap", n_bootstrap=60, random_state=5, interval="bca")
    np.testing.assert_array_equal(c1.rates, c2.rates)
    assert c1.method == "bootstrap-bca"
    se = out[0].standard_errors()
    np.testing.assert_allclose(se["rates"], m.standard_errors_.rates, rtol=0.35)


def test_bca_acceleration_matches_jackknife_k1(rng):
    # for K = 1 the influence acceleration equals the jackknife one to O(1/n)
    x = rng.exponential(1.0, 300)
    m = ExponentialMixture(1).fit(x)
    b = m.bootstrap(20, random_state=0)
    n = x.size
    th = np.array([(n - 1) / (x.sum() - xi) for xi in x])
    d = th.mean() - th
    a_jk = np.sum(d ** 3) / (6 * np.sum(d ** 2) ** 1.5)
    assert b._accel["rates"][0] == pytest.approx(a_jk, rel=0.05)


def test_bootstrap_all_kinds_run():
    for name, (obs, _) in CASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = ExponentialMixture(2, random_state=0)._fit(obs)
        for method in ("nonparametric", "parametric"):
            b = m.bootstrap(15, method=method, random_state=1)
            assert b.rates.shape[1] == 2 and b.n_failed <= 1
            assert np.all(b.rates[:, 0] >= b.rates[:, 1])


def test_simulation_preserves_scheme():
    rng = np.random.default_rng(4)
    x = draw(rng, 500, [0.4, 0.6], [10.0, 1.0])
    w, mu = np.array([0.4, 0.6]), np.array([10.0, 1.0])
    # a recording window: every censored value sits at the window
    obs = from_samples(np.minimum(x, 2.0), event_observed=x < 2.0)
    s = inf.simulate_like(obs, w, mu, random_state=0)
    assert np.all(s.right == 2.0) and np.all(s.exact < 2.0)
    assert s.exact.size + s.right.size == 500
    # histogram with a dropped empty bin: same edges, total count kept
    edges = np.array([0, 0.1, 0.2, 0.5, 1, 2, 50, np.inf])
    counts = np.array([120, 80, 90, 70, 80, 0, 60.0])
    obs = from_histogram(edges, counts)
    s = inf.simulate_like(obs, w, mu, random_state=0)
    right = s.right if s.right is not None else np.zeros(0)
    right_w = s.right_w if s.right_w is not None else np.zeros(0)
    cells = set(zip(s.lower, s.upper)) | {(c, np.inf) for c in right}
    allowed = set(zip(edges[:-1], edges[1:]))
    assert cells <= allowed
    assert (2.0, 50.0) in cells             # the dropped empty bin is a bin again
    assert s.interval_w.sum() + right_w.sum() == counts.sum()
    # truncation: every draw above the dead time, the pair carries the total
    obs = from_samples(x[x > 0.3], entry=0.3)
    s = inf.simulate_like(obs, w, mu, random_state=0)
    assert s.exact.min() > 0.3 and s.trunc_w[0] == s.exact.size
    ent = rng.uniform(0, 0.2, 300)
    obs = from_samples(ent + draw(rng, 300, w, mu), entry=ent)
    s = inf.simulate_like(obs, w, mu, random_state=0)
    assert np.all(s.exact > s.trunc)
    # nonparametric: frequency weights -> multinomial on the total count
    r = inf.resample_like(from_histogram(edges, counts), random_state=0)
    assert r.interval_w.sum() + r.right_w.sum() == counts.sum()


def test_mixed_kinds_without_row_entries_are_refused_clearly():
    """Mixed kinds with per-row entry times: the builders record which entry
    belongs to which row (tests/test_inference_entries.py); an observation
    set built by hand with only the truncation pairs does not, and the
    scheme cannot be reproduced."""
    import dataclasses
    x = np.array([0.5, 1.0, 2.0, 3.0, 0.7, 1.1])
    obs = from_samples(x, event_observed=[1, 1, 0, 1, 1, 0], entry=[0.1, 0.2, 0.1, 0.3, 0.2, 0.1])
    s = inf.simulate_like(obs, np.array([1.0]), np.array([1.0]), random_state=0)
    assert s.has_row_entries
    bare = dataclasses.replace(obs, exact_t=None, right_t=None)
    for f in (lambda: inf.simulate_like(bare, np.array([1.0]), np.array([1.0]), random_state=0),
              lambda: inf.resample_like(bare, random_state=0)):
        with pytest.raises(ValueError, match="do not record which entry time belongs to which row"):
            f()
    # Wald and profile still work
    m = ExponentialMixture(1)._fit(bare)
    assert np.isfinite(m.standard_errors_.rates[0])
    with pytest.raises(ValueError, match="built by hand"):
        m.bootstrap(5)


def test_singular_information_gives_warning_and_nan(rng):
    x = rng.exponential(1.0, 500)
    obs = from_samples(x)
    # two identical components: the information is singular
    with pytest.warns(inf.SingularInformationWarning, match="undefined"):
        se = inf.standard_errors(obs, np.array([0.5, 0.5]), np.array([1.0, 1.0]))
    assert np.isnan(se.weights).all()
    assert not np.any(np.isinf(se.rates))
    # nearly merged components: (nearly) singular, NaN rather than a huge number
    with pytest.warns(inf.SingularInformationWarning, match="singular"):
        se = inf.standard_errors(obs, np.array([0.5, 0.5]), np.array([1.0, 1.0 + 1e-7]))
    assert np.isnan(se.rates).all()
    # a weight at the boundary: that component undefined, the other one fine
    mu_hat = x.size / x.sum()
    with pytest.warns(inf.SingularInformationWarning, match="boundary"):
        se = inf.standard_errors(obs, np.array([1e-11, 1 - 1e-11]), np.array([5.0, mu_hat]))
    assert np.isnan(se.rates[0]) and np.isnan(se.weights[0])
    assert se.rates[1] == pytest.approx(mu_hat / np.sqrt(x.size), rel=1e-3)
    # the estimator path: a fitted K = 2 on K = 1 data never crashes or gives inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ExponentialMixture(2, random_state=0).fit(x)
        se = m.standard_errors_
        ci = m.confint()
    assert not np.any(np.isinf(se.rates))
    assert np.all(np.isnan(ci.rates) | (ci.rates > 0))


def test_bad_arguments():
    m = ExponentialMixture(2)
    with pytest.raises(expmix.NotFittedError):
        m.standard_errors_
    with pytest.raises(expmix.NotFittedError):
        m.confint()
    x = np.random.default_rng(0).exponential(1.0, 200)
    m = ExponentialMixture(1).fit(x)
    with pytest.raises(ValueError, match="level"):
        m.confint(level=1.5)
    with pytest.raises(ValueError, match="method"):
        m.confint(method="jackknife")
    with pytest.raises(ValueError, match="n_bootstrap"):
        m.bootstrap(0)
    with pytest.raises(ValueError, match="method"):
        m.bootstrap(10, method="wild")
    b = m.bootstrap(10, random_state=0)
    with pytest.raises(ValueError, match="kind"):
        b.confint(kind="studentized")


def test_refit_invalidates_cache(rng):
    m = ExponentialMixture(1)
    a = m.fit(rng.exponential(1.0, 100)).standard_errors_.rates[0]
    b = m.fit(rng.exponential(1.0, 10000)).standard_errors_.rates[0]
    assert b < a / 5


@pytest.mark.parametrize("scheme", ["right-censored", "histogram", "dead-time"])
def test_wald_coverage_other_kinds(scheme):
    """Wald coverage of the rates for censored, binned and truncated versions
    of a separated mixture: 200 seeded replicates, 90-99 %."""
    w, mu = np.array([0.5, 0.5]), np.array([20.0, 1.0])
    rng = np.random.default_rng({"right-censored": 1, "histogram": 2, "dead-time": 3}[scheme])
    edges = np.array([0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 4, np.inf])
    data = []
    for _ in range(200):
        x = draw(rng, 400, w, mu)
        if scheme == "right-censored":
            data.append(from_samples(np.minimum(x, 1.5), event_observed=x < 1.5))
        elif scheme == "histogram":
            data.append(from_histogram(edges, np.histogram(x, edges)[0]))
        else:
            data.append(from_samples(x[x > 0.02], entry=0.02))
    fits = inf.fit_many(data, 2, [(w, mu)], n_threads=2)
    cover = np.zeros(2)
    for d, wh, mh in zip(data, fits["w"], fits["mu"]):
        ci = inf.wald_confint(inf.standard_errors(d, wh, mh), wh, mh)
        cover += (ci.rates[:, 0] <= mu) & (mu <= ci.rates[:, 1])
    assert np.all((0.90 <= cover / 200) & (cover / 200 <= 0.99)), cover / 200
