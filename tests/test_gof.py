"""Goodness of fit: statistics vs scipy.stats, weighted statistics vs the
repeated data, chi-square survival function vs scipy, bootstrap p-values
(power against a wrong K, calibration under the null)."""
import warnings

import numpy as np
import pytest
from scipy import stats

import expmix
from expmix import ExponentialMixture, goodness_of_fit
from expmix.gof import chi2_sf, cvm_statistic, ks_statistic
from conftest import draw


def test_statistics_match_scipy(rng):
    x = draw(rng, 700, [0.4, 0.6], [10.0, 1.0])
    m = ExponentialMixture(2).fit(x)
    g = goodness_of_fit(m, n_bootstrap=19, random_state=0)
    assert g.ks == pytest.approx(stats.kstest(x, m.cdf).statistic, rel=1e-12)
    assert g.cvm == pytest.approx(stats.cramervonmises(x, m.cdf).statistic, rel=1e-10)
    assert g.kind == "exact" and g.n_valid == 19
    assert 0 < g.ks_p_value <= 1 and 0 < g.cvm_p_value <= 1
    assert "Kolmogorov" in str(g)


def test_weighted_statistics_equal_repeated_data(rng):
    x = rng.exponential(1.0, 200)
    reps = rng.integers(1, 5, 200)
    u = np.sort(stats.expon.cdf(x))
    order = np.argsort(x)
    uw = stats.expon.cdf(x[order])
    vw = reps[order].astype(float)
    ur = np.sort(stats.expon.cdf(np.repeat(x, reps)))
    one = np.ones(ur.size)
    assert ks_statistic(uw, vw) == pytest.approx(ks_statistic(ur, one), rel=1e-12)
    assert cvm_statistic(uw, vw) == pytest.approx(cvm_statistic(ur, one), rel=1e-10)
    assert cvm_statistic(u, np.ones(200)) == pytest.approx(
        stats.cramervonmises(x, stats.expon.cdf).statistic, rel=1e-10)


def test_chi2_sf_matches_scipy():
    for df in (1, 2, 3, 5, 10, 37):
        for x in (0.0, 0.01, 0.5, 1.0, df - 0.5, df + 2.0, 3.0 * df + 10, 200.0):
            assert chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=1e-10, abs=1e-300)
    with pytest.raises(ValueError):
        chi2_sf(1.0, 0)


def test_bootstrap_p_values_power(rng):
    x = draw(rng, 600, [0.5, 0.5], [20.0, 1.0])
    wrong = ExponentialMixture(1).fit(x)
    right = ExponentialMixture(2).fit(x)
    gw = goodness_of_fit(wrong, n_bootstrap=49, random_state=1)
    assert gw.ks_p_value == pytest.approx(1 / 50) and gw.cvm_p_value == pytest.approx(1 / 50)
    gr = goodness_of_fit(right, n_bootstrap=49, random_state=1)
    assert gr.ks_p_value > 0.05 and gr.cvm_p_value > 0.05


def test_bootstrap_p_values_calibrated_under_null():
    """K = 1 fits of exponential data: P(p <= 0.1) = 0.1 (19 refits per
    test, 60 seeded data sets: at most 13 rejections = mean + 3 sd)."""
    rng = np.random.default_rng(77)
    pk, pc = [], []
    for i in range(60):
        m = ExponentialMixture(1).fit(rng.exponential(2.0, 100))
        g = goodness_of_fit(m, n_bootstrap=19, random_state=i)
        pk.append(g.ks_p_value)
        pc.append(g.cvm_p_value)
    assert np.sum(np.array(pk) <= 0.1) <= 13
    assert np.sum(np.array(pc) <= 0.1) <= 13
    assert 0.38 <= np.mean(pk) <= 0.67


def test_dead_time_uses_conditional_cdf(rng):
    x = draw(rng, 800, [0.5, 0.5], [20.0, 1.0])
    xt = x[x > 0.05]
    m = ExponentialMixture(2).fit(xt, entry=0.05)
    g = goodness_of_fit(m, n_bootstrap=19, random_state=0)
    cond = lambda z: 1 - m.sf(z) / m.sf(0.05)
    assert g.ks == pytest.approx(stats.kstest(xt, cond).statistic, rel=1e-10)
    assert g.ks_p_value > 0.05


def test_chi2_histogram(rng):
    x = draw(rng, 2000, [0.5, 0.5], [20.0, 1.0])
    edges = np.array([0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, np.inf])
    counts = np.histogram(x, edges)[0].astype(float)
    m = ExponentialMixture(2).fit_histogram(edges, counts)
    g = goodness_of_fit(m, n_bootstrap=49, random_state=0)
    p = np.diff(m.cdf(edges))
    E = counts.sum() * p / p.sum()
    X2 = np.sum((counts - E) ** 2 / E)
    assert g.kind == "binned" and g.df == 9 - 1 - 3
    assert g.chi2 == pytest.approx(X2, rel=1e-9)
    np.testing.assert_allclose(g.expected, E, rtol=1e-9)
    assert g.chi2_p_value == pytest.approx(stats.chi2.sf(X2, 5), rel=1e-9)
    assert g.chi2_p_value > 0.01 and g.chi2_bootstrap_p_value > 0.01
    m1 = ExponentialMixture(1).fit_histogram(edges, counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g1 = goodness_of_fit(m1, n_bootstrap=19, random_state=0)
    assert g1.chi2_p_value < 1e-10 and g1.chi2_bootstrap_p_value == pytest.approx(1 / 20)
    # an empty bin in the middle still counts as a bin
    counts[3] = 0
    m = ExponentialMixture(2).fit_histogram(edges, counts)
    g = goodness_of_fit(m, n_bootstrap=0)
    assert g.observed.size == 9 and g.observed[3] == 0 and np.isnan(g.chi2_bootstrap_p_value)


def test_unsupported_data_and_bad_arguments(rng):
    x = rng.exponential(1.0, 300)
    # general (overlapping) intervals: no test
    m = ExponentialMixture(1).fit_intervals(np.floor(x * 3) / 3, np.floor(x * 3) / 3 + 0.5)
    with pytest.raises(ValueError, match="interval-censored"):
        goodness_of_fit(m)
    m = ExponentialMixture(1).fit(x)
    with pytest.raises(ValueError, match="n_bootstrap"):
        goodness_of_fit(m, n_bootstrap=-1)
    with pytest.raises(ValueError, match="n_bootstrap"):
        goodness_of_fit(m, n_bootstrap=0)
    with pytest.raises(expmix.NotFittedError):
        goodness_of_fit(ExponentialMixture(1))
    g1 = m.goodness_of_fit(n_bootstrap=9, random_state=3)
    g2 = goodness_of_fit(m, n_bootstrap=9, random_state=3, n_threads=1)
    g3 = goodness_of_fit(m, n_bootstrap=9, random_state=3, n_threads=2)
    np.testing.assert_array_equal(g1.replicates["ks"], g2.replicates["ks"])
    np.testing.assert_array_equal(g2.replicates["cvm"], g3.replicates["cvm"])
