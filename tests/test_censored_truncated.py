"""Censored, interval-censored (binned) and left-truncated data, against
independent truths: closed forms for K = 1, lifelines' ExponentialFitter, and
direct numerical maximization of the observed-data likelihood (scipy) for
K = 2, 3; plus the identities of exponential memorylessness, the limits of
fine bins and late censoring, the extremes of the log-space formulas and
thread-count independence for every kind of data."""
import warnings

import numpy as np
import pytest


from expmix import ExponentialMixture, select_components_histogram
from expmix import _core
from expmix.observations import from_intervals, from_samples
from conftest import draw
from reference import direct_mle_grad, loglik

pytestmark = pytest.mark.filterwarnings("ignore::expmix.ConvergenceWarning")


def theta_of(m):
    """Unconstrained parameters of tests/reference.py for a fitted model."""
    return np.concatenate((np.log(m.weights_[1:] / m.weights_[0]), np.log(m.rates_)))


def EM(*args, **kw):
    """The estimator on one thread: these fits are small, and the thread
    count does not change results (tested below)."""
    return ExponentialMixture(*args, n_threads=1, **kw)


def K1():
    """K = 1 run to EM's fixed point (tol = 0: a fixed number of passes), so
    that the result is compared at full precision rather than at the
    log-likelihood tolerance."""
    return EM(1, tol=0.0, max_iter=300)


def quiet_fit(model, method="fit", *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(model, method)(*args, **kw)


# ----------------------------------------------------------------------
# K = 1: closed forms (rate = events / exposure) to 1e-12

def test_k1_right_censored_closed_form(rng):
    x = rng.exponential(2.0, 4000)
    c = rng.uniform(0, 6, 4000)
    t, ev = np.minimum(x, c), x <= c
    m = K1().fit(t, event_observed=ev)
    assert m.rates_[0] == pytest.approx(ev.sum() / t.sum(), rel=1e-12)
    lam = ev.sum() / t.sum()
    assert m.log_likelihood_ == pytest.approx(ev.sum() * np.log(lam) - lam * t.sum(), rel=1e-12)
    assert m.data_kinds_ == ("exact", "right")


def test_k1_right_censored_weighted_closed_form(rng):
    x = rng.exponential(0.5, 3000)
    ev = rng.uniform(size=3000) < 0.7
    v = rng.uniform(0.1, 3.0, 3000)
    m = K1().fit(x, sample_weight=v, event_observed=ev)
    assert m.rates_[0] == pytest.approx((v * ev).sum() / (v * x).sum(), rel=1e-12)
    assert m.total_weight_ == pytest.approx(v.sum(), rel=1e-14)


def test_k1_dead_time_closed_form(rng):
    t = 0.7
    x = rng.exponential(1.5, 6000)
    x = x[x > t]
    m = EM(1).fit(x, entry=t)
    assert m.rates_[0] == pytest.approx(x.size / (x - t).sum(), rel=1e-12)
    assert m.entry_ == t
    np.testing.assert_array_equal(m.observed_weights_, [1.0])


@pytest.mark.parametrize("censored", [False, True])
def test_k1_per_observation_entry_closed_form(rng, censored):
    n = 4000
    entry = rng.uniform(0, 1.0, n)
    entry[: n // 4] = 0.0                       # some rows are not truncated
    x = rng.exponential(1.2, n)
    keep = x > entry
    x, entry = x[keep], entry[keep]
    if censored:
        c = entry + rng.uniform(0.5, 4.0, x.size)
        ev = x <= c
        x = np.minimum(x, c)
    else:
        ev = np.ones(x.size, bool)
    m = K1().fit(x, event_observed=ev, entry=entry)
    # exposure with entry: sum(x - entry)
    assert m.rates_[0] == pytest.approx(ev.sum() / (x - entry).sum(), rel=1e-12)
    assert m.entry_ is None and m.observed_weights_ is None


def test_k1_all_rows_truncated_per_observation(rng):
    # every row truncated: the smallest entry is used as a common dead time,
    # the rest stays per-observation truncation (still the closed form)
    n = 3000
    entry = 2.0 + rng.uniform(0, 1.0, n)
    x = entry + rng.exponential(0.8, n)
    m = K1().fit(x, entry=entry)
    assert m.rates_[0] == pytest.approx(n / (x - entry).sum(), rel=1e-12)


def test_k1_equal_bins_closed_form(rng):
    # bins [j d, (j+1) d): geometric likelihood, mu = log1p(N / sum j n_j) / d
    d = 0.25
    counts = np.bincount(np.floor(rng.exponential(1.3, 5000) / d).astype(int))
    edges = d * np.arange(counts.size + 1)
    m = K1().fit_histogram(edges, counts)
    j = np.arange(counts.size)
    assert m.rates_[0] == pytest.approx(np.log1p(counts.sum() / (j * counts).sum()) / d,
                                        rel=1e-12)


def test_k1_open_last_bin_closed_form(rng):
    d, J = 0.5, 6
    b = np.floor(rng.exponential(1.0, 5000) / d).astype(int)
    counts = np.bincount(np.minimum(b, J), minlength=J + 1)
    edges = np.append(d * np.arange(J + 1), np.inf)
    m = K1().fit_histogram(edges, counts)
    j = np.arange(J + 1)
    n_closed = counts[:J].sum()
    assert m.rates_[0] == pytest.approx(np.log1p(n_closed / (j * counts).sum()) / d, rel=1e-12)


def test_k1_current_status_closed_form():
    # left-censored [0, c) and right-censored [c, inf) only: P(x < c) = n0 / n
    c, n0, n1 = 2.0, 300.0, 700.0
    m = K1().fit_histogram([0.0, c, np.inf], [n0, n1])
    assert m.rates_[0] == pytest.approx(-np.log(n1 / (n0 + n1)) / c, rel=1e-12)
    m2 = K1().fit_intervals([0.0, c], [c, np.inf], sample_weight=[n0, n1])
    assert m2.rates_[0] == pytest.approx(m.rates_[0], rel=1e-14)


def test_k1_bins_far_in_the_tail_closed_form(rng):
    # bins [A + j d, A + (j+1) d) with A mu ~ 800: each bin probability
    # (~e^-800) underflows in linear space; the log-space form is exact:
    # mu = log1p(N / (N A / d + sum j n_j)) / d
    A, d = 800.0, 0.5
    counts = np.bincount(np.floor(rng.exponential(1.0, 4000) / d).astype(int)).astype(float)
    edges = A + d * np.arange(counts.size + 1)
    m = K1().fit_histogram(edges, counts)
    N, j = counts.sum(), np.arange(counts.size)
    expected = np.log1p(N / (N * A / d + (j * counts).sum())) / d
    assert m.rates_[0] == pytest.approx(expected, rel=1e-11)
    assert np.isfinite(m.log_likelihood_)


def test_k1_very_narrow_bins_closed_form(rng):
    d = 1e-9
    counts = np.bincount(rng.integers(0, 50, 3000)).astype(float)  # any counts
    edges = 3.0 + d * np.arange(counts.size + 1)
    m = K1().fit_histogram(edges, counts, entry=3.0)
    j = np.arange(counts.size)
    expected = np.log1p(counts.sum() / (j * counts).sum()) / d
    assert m.rates_[0] == pytest.approx(expected, rel=1e-9)


# ----------------------------------------------------------------------
# lifelines' ExponentialFitter (lambda_ is the scale 1 / rate)

def test_same_as_lifelines_censored(rng):
    lifelines = pytest.importorskip("lifelines")
    x = rng.exponential(3.0, 800)
    c = rng.uniform(1, 8, 800)
    t, ev = np.minimum(x, c), x <= c
    f = lifelines.ExponentialFitter().fit(t, event_observed=ev)
    m = K1().fit(t, event_observed=ev)
    assert m.means_[0] == pytest.approx(f.lambda_, rel=1e-7)
    assert m.log_likelihood_ == pytest.approx(f.log_likelihood_, rel=1e-9)


def test_same_as_lifelines_left_truncated(rng):
    lifelines = pytest.importorskip("lifelines")
    n = 1500
    entry = rng.uniform(0, 2.0, n)
    x = rng.exponential(1.5, n)
    keep = x > entry
    x, entry = x[keep], entry[keep]
    c = entry + rng.uniform(0.5, 5.0, x.size)
    t, ev = np.minimum(x, c), x <= c
    f = lifelines.ExponentialFitter().fit(t, event_observed=ev, entry=entry)
    m = K1().fit(t, event_observed=ev, entry=entry)
    assert m.means_[0] == pytest.approx(f.lambda_, rel=1e-7)
    assert m.log_likelihood_ == pytest.approx(f.log_likelihood_, rel=1e-9)
    assert m.log_likelihood(t, event_observed=ev, entry=entry) == \
        pytest.approx(f.log_likelihood_, rel=1e-9)


# ----------------------------------------------------------------------
# K = 2, 3: the EM optimum equals direct maximization (1e-7 in mean logL)

def _case(name, rng):
    """(fit method, args, kwargs, reference data, K, n)"""
    if name == "right-censored-2":
        x = draw(rng, 1200, [0.4, 0.6], [6.0, 0.5])
        c = rng.uniform(0.5, 6.0, x.size)
        t, ev = np.minimum(x, c), x <= c
        return ("fit", (t,), dict(event_observed=ev), dict(exact=t[ev], right=t[~ev]), 2)
    if name == "right-censored-3":
        x = draw(rng, 1500, [0.3, 0.4, 0.3], [20.0, 2.0, 0.2])
        ev = x < 8.0                                  # a recording window
        t = np.minimum(x, 8.0)
        return ("fit", (t,), dict(event_observed=ev), dict(exact=t[ev], right=t[~ev]), 3)
    if name == "interval-2":
        x = draw(rng, 1200, [0.5, 0.5], [5.0, 0.4])
        lo = np.floor(x / 0.2) * 0.2
        return ("fit_intervals", (lo, lo + 0.2), {}, dict(lower=lo, upper=lo + 0.2), 2)
    if name == "histogram-3":
        x = draw(rng, 3000, [0.3, 0.4, 0.3], [30.0, 3.0, 0.3])
        edges = np.concatenate(([0.0], np.geomspace(0.005, 20.0, 40), [np.inf]))
        counts = np.histogram(x, edges)[0].astype(float)
        k = counts > 0
        lo, hi, w = edges[:-1][k], edges[1:][k], counts[k]
        fin = np.isfinite(hi)
        ref = dict(lower=lo[fin], upper=hi[fin], interval_w=w[fin])
        if (~fin).any():
            ref.update(right=lo[~fin], right_w=w[~fin])
        return ("fit_histogram", (edges, counts), {}, ref, 3)
    if name == "dead-time-2":
        t0 = 0.1
        x = draw(rng, 2000, [0.6, 0.4], [15.0, 1.0])
        x = x[x > t0]
        return ("fit", (x,), dict(entry=t0), dict(exact=x, entry=[t0], entry_w=[x.size]), 2)
    if name == "dead-time-window-3":
        t0, T = 0.02, 5.0
        x = draw(rng, 1500, [0.3, 0.4, 0.3], [40.0, 4.0, 0.4])
        x = x[x > t0]
        ev = x < T
        t = np.minimum(x, T)
        return ("fit", (t,), dict(event_observed=ev, entry=t0),
                dict(exact=t[ev], right=t[~ev], entry=[t0], entry_w=[t.size]), 3)
    if name == "entry-2":
        x = draw(rng, 1500, [0.5, 0.5], [4.0, 0.5])
        e = rng.uniform(0, 0.4, x.size)
        e[::3] = 0.0
        k = x > e
        x, e = x[k], e[k]
        return ("fit", (x,), dict(entry=e), dict(exact=x, entry=e[e > 0]), 2)
    if name == "mixed-3":
        x = draw(rng, 1500, [0.3, 0.4, 0.3], [10.0, 1.5, 0.2])
        e = rng.uniform(0, 0.15, x.size)
        e[::2] = 0.0
        k = x > e
        x, e = x[k], e[k]
        kind = rng.integers(0, 3, x.size)       # 0 exact, 1 right, 2 interval
        lo, hi = x.copy(), x.copy()
        c = e + rng.uniform(0.2, 10.0, x.size)
        r = kind == 1
        lo[r] = np.minimum(x[r], c[r])
        hi[r] = np.where(x[r] <= c[r], x[r], np.inf)
        b = kind == 2
        lo[b] = np.maximum(np.floor(x[b] * 4) / 4, e[b])
        hi[b] = np.floor(x[b] * 4) / 4 + 0.25
        ex, rc = lo == hi, np.isinf(hi)
        iv = ~ex & ~rc
        ref = dict(exact=lo[ex], right=lo[rc], lower=lo[iv], upper=hi[iv], entry=e[e > 0])
        return ("fit_intervals", (lo, hi), dict(entry=e), ref, 3)
    raise KeyError(name)


CASES = ["right-censored-2", "right-censored-3", "interval-2", "histogram-3", "dead-time-2",
         "dead-time-window-3", "entry-2", "mixed-3"]


@pytest.mark.parametrize("name", CASES)
def test_em_reaches_direct_maximum(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    method, args, kw, ref, K = _case(name, rng)
    m = quiet_fit(EM(K, n_init=4, random_state=0, tol=1e-13, max_iter=20000),
                  method, *args, **kw)
    n = m.total_weight_
    ll_opt, _, _ = direct_mle_grad(K, rng, n_starts=5, scale=1.0, **ref)
    assert m.log_likelihood_ / n >= ll_opt / n - 1e-7
    assert m.log_likelihood_ / n <= ll_opt / n + 1e-5      # the optimizer is not far off
    # the reported log-likelihood is the direct formula at the returned parameters
    assert m.log_likelihood_ == pytest.approx(loglik(theta_of(m), K, **ref), rel=1e-11)


# ----------------------------------------------------------------------
# memorylessness, limits and identities

def test_dead_time_identity(rng):
    t = 0.15
    x = draw(rng, 6000, [0.5, 0.3, 0.2], [12.0, 2.0, 0.3])
    x = x[x > t]
    kw = dict(tol=1e-13, max_iter=20000, n_init=2, random_state=3)
    m = quiet_fit(EM(3, **kw), "fit", x, entry=t)
    s = quiet_fit(EM(3, **kw), "fit", x - t)
    np.testing.assert_allclose(m.rates_, s.rates_, rtol=1e-9)
    w = s.weights_ * np.exp(s.rates_ * t)
    np.testing.assert_allclose(m.weights_, w / w.sum(), rtol=1e-8)
    np.testing.assert_allclose(m.observed_weights_, s.weights_, rtol=1e-9)
    np.testing.assert_allclose(m.weights_above(t), s.weights_, rtol=1e-9)
    assert m.log_likelihood_ == pytest.approx(s.log_likelihood_, rel=1e-12)


def test_missing_data_em_matches_shift_in_c(rng):
    """The truncation segment of the C pass (one pair (t, N)) gives the same
    fit as the shifted data: fitted through _core directly."""
    t = 0.2
    x = draw(rng, 4000, [0.5, 0.5], [5.0, 0.6])
    x = np.ascontiguousarray(x[x > t])
    obs = from_samples(x, entry=t)
    assert obs.dead_time == t and obs.trunc is not None
    w, mu = np.array([0.5, 0.5]), np.array([3.0, 0.5])
    r = _core.fit(obs, w, mu, max_iter=100000, tol=1e-15)     # missing-data EM
    s = EM(2, tol=1e-14, weights_init=[0.5, 0.5], rates_init=[3.0, 0.5]).fit(
        x, entry=t)
    assert r["loglik"] / x.size == pytest.approx(s.lower_bound_, abs=1e-9)
    np.testing.assert_allclose(np.sort(mu)[::-1], s.rates_, rtol=1e-4)


def test_fine_bins_converge_to_exact_fit(rng):
    x = draw(rng, 4000, [0.4, 0.6], [8.0, 0.7])
    kw = dict(tol=1e-14, max_iter=50000, weights_init=[0.4, 0.6], rates_init=[8.0, 0.7])
    ex = EM(2, **kw).fit(x)
    errs = []
    for d in (1e-1, 1e-2, 1e-3, 1e-4):
        lo = np.floor(x / d) * d
        m = quiet_fit(EM(2, **kw), "fit_intervals", lo, lo + d)
        errs.append(np.max(np.abs(m.rates_ / ex.rates_ - 1)))
    assert errs[-1] < 1e-5
    assert all(b < a for a, b in zip(errs, errs[1:]))
    # bins centred on the values: the interval likelihood is the exact one
    # plus N log d, to O(d^2)
    d = 1e-6
    m = EM(2, **kw).fit_intervals(np.maximum(x - d / 2, 0.0), x + d / 2)
    np.testing.assert_allclose(m.rates_, ex.rates_, rtol=1e-6)


def test_late_censoring_equals_exact(rng):
    x = draw(rng, 3000, [0.3, 0.7], [5.0, 0.5])
    kw = dict(tol=1e-14, max_iter=20000, weights_init=[0.3, 0.7], rates_init=[5.0, 0.5])
    ex = EM(2, **kw).fit(x)
    # censoring beyond every value: every event observed, the same fit bitwise
    T = 10 * x.max()
    m = EM(2, **kw).fit(np.minimum(x, T), event_observed=x < T)
    np.testing.assert_array_equal(m.rates_, ex.rates_)
    np.testing.assert_array_equal(m.weights_, ex.weights_)
    # censoring late in the tail: only the largest values are censored, the
    # fit approaches the exact one as T grows
    prev = np.inf
    for q in (0.99, 0.999, 1.0):
        T = np.quantile(x, q)
        ev = x < T
        m = quiet_fit(EM(2, **kw), "fit", np.minimum(x, T), event_observed=ev)
        err = np.max(np.abs(m.rates_ / ex.rates_ - 1))
        assert err < prev
        prev = err
    assert prev < 1e-3
    # a censoring time at infinity is a row with no information: the interval
    # [x, inf) == right-censored at x; an upper bound inf on every row is
    # the survival likelihood
    m1 = EM(2, **kw).fit_intervals(np.r_[x, 0.0], np.r_[x, np.inf])
    m2 = EM(2, **kw).fit(x)
    np.testing.assert_allclose(m1.rates_, m2.rates_, rtol=1e-7)


def test_row_scoring_sums_to_log_likelihood(rng):
    x = draw(rng, 2000, [0.5, 0.5], [4.0, 0.5])
    e = rng.uniform(0, 0.3, x.size)
    k = x > e
    x, e = x[k], e[k]
    ev = rng.uniform(size=x.size) < 0.8
    m = quiet_fit(EM(2, tol=1e-12), "fit", x, event_observed=ev, entry=e)
    rows = m.score_samples(x, event_observed=ev, entry=e)
    assert rows.sum() == pytest.approx(m.log_likelihood_, rel=1e-11)
    assert m.score(x, event_observed=ev, entry=e) == pytest.approx(m.lower_bound_, rel=1e-12)
    # same through the interval API
    lo, hi = x, np.where(ev, x, np.inf)
    r2 = m.score_samples_intervals(lo, hi, entry=e)
    np.testing.assert_allclose(r2, rows, rtol=1e-12, atol=1e-12)
    assert m.log_likelihood_intervals(lo, hi, entry=e) == pytest.approx(m.log_likelihood_,
                                                                       rel=1e-12)


def test_histogram_criteria_and_fitted_attributes(rng):
    x = draw(rng, 4000, [0.4, 0.6], [6.0, 0.5])
    edges = np.r_[np.linspace(0, 6, 25), np.inf]
    counts = np.histogram(x, edges)[0]
    m = quiet_fit(EM(2, n_init=3, random_state=0), "fit_histogram", edges, counts)
    n, p = counts.sum(), 3
    ll = m.log_likelihood_histogram(edges, counts)
    assert ll == pytest.approx(m.log_likelihood_, rel=1e-13)
    assert m.bic_ == pytest.approx(-2 * ll + p * np.log(n), rel=1e-13)
    assert m.aic_ == pytest.approx(-2 * ll + 2 * p, rel=1e-13)
    assert m.bic_histogram(edges, counts) == pytest.approx(m.bic_, rel=1e-13)
    assert m.aic_histogram(edges, counts) == pytest.approx(m.aic_, rel=1e-13)
    assert m.score_histogram(edges, counts) == pytest.approx(ll / n, rel=1e-13)
    # the same numbers through the interval API with counts as weights
    lo, hi = edges[:-1], edges[1:]
    assert m.bic_intervals(lo, hi, counts) == pytest.approx(m.bic_, rel=1e-13)
    assert m.aic_intervals(lo, hi, counts) == pytest.approx(m.aic_, rel=1e-13)
    assert m.score_intervals(lo, hi, counts) == pytest.approx(ll / n, rel=1e-13)
    # model selection on the histogram uses the same criterion and n
    res = select_components_histogram(edges, counts, n_components=[1, 2, 3], n_init=2,
                                      random_state=0)
    assert res.n == n
    row = [r for r in res.table if r["n_components"] == 2][0]
    assert row["bic"] == pytest.approx(res.models[2].bic_, rel=1e-13)
    assert res.best_n_components_ == 2


def test_truncated_bic_counts_observed_rows(rng):
    t = 0.1
    x = draw(rng, 3000, [0.5, 0.5], [10.0, 1.0])
    x = x[x > t]
    m = quiet_fit(EM(2), "fit", x, entry=t)
    assert m.bic_ == pytest.approx(-2 * m.log_likelihood_ + 3 * np.log(x.size), rel=1e-13)
    assert m.bic(x, entry=t) == pytest.approx(m.bic_, rel=1e-12)
    assert m.aic(x, entry=t) == pytest.approx(m.aic_, rel=1e-12)


# ----------------------------------------------------------------------
# extremes of the log-space formulas

def test_pass_loglik_bins_far_in_tail_and_narrow():
    w, mu = np.array([0.3, 0.7]), np.array([3.0, 0.01])
    lo = np.array([0.0, 1e-300, 5.0, 400.0, 1e4, 2e5, 7e4, 3.0])
    hi = lo + np.array([1e-12, 1e-300, 1e-9, 1.0, 50.0, 1e3, 1e-7, 1e6])
    obs = from_intervals(lo, hi, check_information=False)
    ll, _, R, X = _core.pass_stats(obs, w, mu)
    th = np.concatenate(([np.log(w[1] / w[0])], np.log(mu)))
    assert ll == pytest.approx(loglik(th, 2, lower=obs.lower, upper=obs.upper), rel=1e-13)
    assert np.all(np.isfinite(R)) and np.all(np.isfinite(X))
    assert R.sum() == pytest.approx(lo.size, rel=1e-14)
    # E[x | bin] lies in the bin: sum_k X_k between sum lower and sum upper
    assert lo.sum() <= X.sum() <= hi.sum()


def test_truncation_far_in_the_tail(rng):
    # entry times ~ 900 mean lifetimes: S(t) ~ e^-900 underflows
    n = 2000
    e = 900.0 + rng.uniform(0, 2.0, n)
    x = e + draw(rng, n, [0.5, 0.5], [5.0, 0.5])
    m = quiet_fit(EM(2, tol=1e-13, max_iter=20000, n_init=2, random_state=0),
                  "fit", x, entry=e)
    s = quiet_fit(EM(2, tol=1e-13, max_iter=20000, n_init=2, random_state=0),
                  "fit", x - 900.0, entry=e - 900.0)
    np.testing.assert_allclose(m.rates_, s.rates_, rtol=1e-9)
    assert m.log_likelihood_ == pytest.approx(s.log_likelihood_, rel=1e-11)
    assert m.log_likelihood(x, entry=e) == pytest.approx(s.log_likelihood_, rel=1e-11)
    assert m.score_samples(x, entry=e).sum() == pytest.approx(s.log_likelihood_, rel=1e-10)
    # a common dead time far in the tail
    d = quiet_fit(EM(2, tol=1e-13, n_init=2, random_state=0), "fit", x,
                  entry=900.0)
    d0 = quiet_fit(EM(2, tol=1e-13, n_init=2, random_state=0), "fit",
                   x - 900.0)
    np.testing.assert_allclose(d.rates_, d0.rates_, rtol=1e-9)
    np.testing.assert_allclose(d.observed_weights_, d0.weights_, rtol=1e-9)
    assert np.isfinite(d.score(x, entry=900.0))


def test_truncation_pass_in_log_space():
    # one truncation pair far in the tail: the missing mass is huge but finite
    w, mu = np.array([0.5, 0.5]), np.array([1.0, 0.5])
    t = 1200.0                                   # S(t) ~ e^-600
    obs = from_samples(np.array([t + 1.0]), entry=np.array([t]))
    ll, _, R, X = _core.pass_stats(obs, w, mu)
    logS = np.logaddexp(np.log(0.5) - t, np.log(0.5) - 0.5 * t)
    lf = np.logaddexp(np.log(0.5) - (t + 1), np.log(0.25) - 0.5 * (t + 1))
    assert ll == pytest.approx(lf - logS, rel=1e-13)
    assert np.all(np.isfinite(R)) and R.sum() > 1e250
    # zero weight on a component: no 0 * inf
    ll, _, R, X = _core.pass_stats(obs, np.array([0.0, 1.0]), mu)
    assert np.all(np.isfinite(R)) and R[0] < 1e-300


# ----------------------------------------------------------------------
# bitwise determinism across thread counts, for every kind

def _kind_data(kind, rng):
    n = 12000                                     # several blocks of 2048
    x = draw(rng, n, [0.3, 0.4, 0.3], [10.0, 1.0, 0.1])
    if kind == "right":
        return "fit", (np.minimum(x, 5.0),), dict(event_observed=x < 5.0)
    if kind == "interval":
        lo = np.floor(x * 10) / 10
        return "fit_intervals", (lo, lo + 0.1), {}
    if kind == "histogram":
        edges = np.r_[0, np.geomspace(1e-3, 50, 300), np.inf]
        return "fit_histogram", (edges, np.histogram(x, edges)[0]), {}
    if kind == "dead-time":
        return "fit", (x[x > 0.05],), dict(entry=0.05)
    if kind == "entry":
        e = rng.uniform(0, 0.2, n)
        e[::2] = 0
        k = x > e
        return "fit", (x[k],), dict(entry=e[k])
    if kind == "mixed":
        lo = np.floor(x * 10) / 10
        hi = np.where(np.arange(n) % 3 == 0, lo + 0.1, np.where(np.arange(n) % 3 == 1, x, np.inf))
        lo = np.where(np.arange(n) % 3 == 1, x, lo)
        return "fit_intervals", (lo, hi), dict(sample_weight=rng.uniform(0.5, 2, n))
    raise KeyError(kind)


@pytest.mark.parametrize("kind", ["right", "interval", "histogram", "dead-time", "entry", "mixed"])
def test_bitwise_identical_across_threads(kind):
    rng = np.random.default_rng(sum(map(ord, kind)))
    method, args, kw = _kind_data(kind, rng)
    fits = []
    for nt in (1, 2, 3, 8):
        m = quiet_fit(ExponentialMixture(3, max_iter=100, n_threads=nt),
                      method, *args, **kw)
        fits.append((m.weights_.tobytes(), m.rates_.tobytes(), m.log_likelihood_, m.n_iter_))
    assert all(f == fits[0] for f in fits[1:])
