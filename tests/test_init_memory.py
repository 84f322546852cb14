"""The C quantile start (csrc/init.c) and the memory of fits.

Independent truths: a numpy implementation of the documented start that
sorts the pseudo-values (np.argsort, cumulative weights, np.searchsorted);
the optimum reached from it (and, for K = 1, the closed form); tracemalloc
and np.shares_memory for the copies a fit makes.
"""
import tracemalloc
import warnings

import numpy as np
import pytest

import expmix
from expmix import ExponentialMixture, _core, _init, fit_many
from expmix.observations import Observations, from_histogram, from_intervals, from_samples


def sorted_reference(v, wt, K):
    """The start of csrc/em_init.h, computed by sorting (the old way)."""
    keep = wt > 0
    v, wt = v[keep], wt[keep]
    W = np.sum(wt)
    S = np.sum(wt * v)
    order = np.argsort(v, kind="stable")
    vs, cw = v[order], np.cumsum(wt[order])
    cuts = []
    for k in range(1, K):
        i = int(np.searchsorted(cw, W * k / K, side="left"))
        i = min(i, vs.shape[0] - 1)
        cuts.append(vs[i])
    cuts = np.asarray(cuts)
    g = np.searchsorted(cuts, v, side="left")       # group k: (c_k, c_{k+1}]
    G = np.bincount(g, weights=wt, minlength=K)
    X = np.bincount(g, weights=wt * v, minlength=K)
    scale = max(S / W, 1e-300)
    mean = np.empty(K)
    for k in range(K):
        mean[k] = X[k] / G[k] if G[k] > 0 else cuts[min(k, K - 2)]
    mu = np.clip(1.0 / np.maximum(mean, 1e-3 * scale), 1e-12 / scale, 1e12 / scale)
    w = G / W + 1e-3 / K
    w = w / w.sum()
    o = np.argsort(-mu, kind="stable")
    for i in range(1, K):
        if mu[o[i]] >= mu[o[i - 1]] * (1 - 1e-3):
            mu[o[i]] = mu[o[i - 1]] * 0.7
    return cuts, w, mu


def mixture(n, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.random(n) < 0.35
    return rng.exponential(1.0, n) * np.where(m, 0.05, 3.0)


CASES = {
    "exact": lambda: from_samples(mixture(5003)),
    "weighted": lambda: from_samples(mixture(4000, 1),
                                     sample_weight=np.random.default_rng(2).integers(0, 5, 4000)),
    "ties": lambda: from_samples(np.floor(mixture(6000, 3) * 4) / 4),
    "censored": lambda: from_samples(mixture(3000, 4),
                                     event_observed=np.random.default_rng(5).random(3000) < 0.7),
    "intervals": lambda: from_intervals(*(lambda x: (np.floor(x * 8) / 8,
                                                     np.where(np.arange(x.shape[0]) % 5 == 0,
                                                              np.inf, np.floor(x * 8) / 8 + 0.125)))(
        mixture(3000, 6))),
    "histogram": lambda: from_histogram(np.linspace(0, 20, 41), np.arange(40.0) % 7),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("K", [1, 2, 3, 5])
def test_c_start_equals_sorted_reference(case, K):
    obs = CASES[case]()
    v, wt = obs.pseudo_values()
    cuts_ref, w_ref, mu_ref = sorted_reference(v, wt, K)
    cuts, W, S = _core.init_cuts(obs, K)
    assert np.array_equal(cuts, cuts_ref)           # exact selection, integer weights
    assert W == pytest.approx(np.sum(wt), rel=1e-14)
    w, mu = _init.quantile_init_obs(obs, K)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12)
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-12)
    # the array entry point (pseudo-values as one exact segment) is the same routine
    w2, mu2 = _init.quantile_init(v, wt, K)
    assert np.array_equal(w, w2) and np.array_equal(mu, mu2)


def test_cuts_are_weighted_quantiles_with_real_weights():
    rng = np.random.default_rng(7)
    x = rng.exponential(1.0, 20000)
    wt = rng.random(20000)
    cuts, W, _ = _core.init_cuts(Observations(exact=x, exact_w=wt), 4)
    for k, c in enumerate(cuts, start=1):
        assert np.sum(wt[x < c]) < W * k / 4 * (1 + 1e-12)
        assert np.sum(wt[x <= c]) >= W * k / 4 * (1 - 1e-12)


def test_start_extremes_and_errors():
    # magnitudes far apart, every value equal, fewer points than components
    x = np.array([1e-300, 1e-200, 1.0, 1e200, 1e300])
    w, mu = _core.init_quantile(Observations(exact=x), 3)
    assert np.all(np.isfinite(mu)) and np.all(mu > 0) and w.sum() == pytest.approx(1.0)
    w, mu = _core.init_quantile(Observations(exact=np.full(50, 2.5)), 3)
    assert len(set(mu.tolist())) == 3
    w, mu = _core.init_quantile(Observations(exact=np.array([1.0, 2.0])), 4)
    assert np.all(mu > 0) and np.all(w > 0)
    with pytest.raises(ValueError, match="init_quantile"):
        _core.init_quantile(Observations(exact=np.array([1.0, np.nan])), 2)
    with pytest.raises(ValueError, match="init_quantile"):
        _core.init_quantile(Observations(exact=np.array([1.0, 2.0]), exact_w=np.zeros(2)), 2)
    with pytest.raises(ValueError, match="K must be"):
        _core.init_quantile(Observations(exact=np.array([1.0, 2.0])), 0)


def test_fit_starts_from_the_c_start_and_reaches_the_optimum():
    rng = np.random.default_rng(8)
    three = rng.exponential(1.0, 30000) * rng.choice([0.01, 0.3, 10.0], 30000, p=[0.3, 0.3, 0.4])
    for K, x in ((2, mixture(20000, 8)), (3, three)):
        obs = from_samples(x)
        m = ExponentialMixture(K, tol=1e-13, max_iter=5000).fit(x)
        w0, mu0 = _core.init_quantile(obs, K)
        assert np.array_equal(m.restarts_[0]["start"][1], mu0)
        assert np.array_equal(m.restarts_[0]["start"][0], w0)
        # the same optimum from the old sort-based start (a different start point)
        _, w_ref, mu_ref = sorted_reference(x, np.ones_like(x), K)
        m2 = ExponentialMixture(K, weights_init=w_ref * 0.5 + 0.5 / K,
                                rates_init=mu_ref * 1.3, tol=1e-13, max_iter=5000).fit(x)
        assert m.log_likelihood_ == pytest.approx(m2.log_likelihood_, rel=1e-10)
        np.testing.assert_allclose(m.rates_, m2.rates_, rtol=1e-4)
    x = mixture(20000, 8)
    m1 = ExponentialMixture(1).fit(x)
    assert m1.rates_[0] == pytest.approx(x.shape[0] / x.sum(), rel=1e-12)


def test_fit_many_default_start_is_computed_in_c():
    rng = np.random.default_rng(3)
    data = [mixture(int(rng.integers(50, 300)), s) for s in range(15)]
    values = np.concatenate(data)
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([d.shape[0] for d in data], out=offsets[1:])
    P = len(data)
    W = np.full((P, 3), np.nan)
    M = np.full((P, 3), np.nan)
    out = _core.fit_many(_core.ExactSets(values, None, offsets), np.arange(P, dtype=np.int64),
                         np.full(P, 3, dtype=np.intc), W, M, max_iter=0)
    assert np.all(out["status"] >= 0)
    for j, x in enumerate(data):
        w0, mu0 = _core.init_quantile(Observations(exact=x), 3)
        # (max_iter = 0: em_fit only renormalises the weights)
        np.testing.assert_allclose(W[j], w0, rtol=1e-14)
        assert np.array_equal(M[j], mu0)
    # a data set the start cannot use is reported in its status, not fitted
    bad = values.copy()
    bad[offsets[2]] = np.nan
    W[:] = np.nan
    out = _core.fit_many(_core.ExactSets(bad, None, offsets), np.arange(P, dtype=np.int64),
                         np.full(P, 2, dtype=np.intc), W[:, :2].copy(), M[:, :2].copy())
    assert out["status"][2] == -2 and out["n_iter"][2] == 0
    assert np.all(out["status"][np.arange(P) != 2] >= 0)
    # and the public fit_many equals single fits (the fit_many tests check
    # every field; here: the start is shared, with ragged weights too)
    sw = [rng.integers(0, 3, d.shape[0]).astype(float) + (np.arange(d.shape[0]) == 0)
          for d in data]
    res = fit_many(data, 2, sample_weight=sw, random_state=1)
    ch = np.random.SeedSequence(1).spawn(len(data))
    for j, x in enumerate(data):
        m = ExponentialMixture(2, random_state=ch[j]).fit(x, sample_weight=sw[j])
        assert np.array_equal(res.rates[j], m.rates_)
        assert np.array_equal(res.weights[j], m.weights_)


def _peak_fraction(fn, nbytes):
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / nbytes


def test_fit_of_exact_data_allocates_nothing_of_size_n():
    x = mixture(2_000_000, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ExponentialMixture(3, max_iter=3, tol=0.0)
        frac = _peak_fraction(lambda: m.fit(x), x.nbytes)
        assert frac < 0.05
        # weights: no copy either
        sw = np.ones(x.shape[0])
        frac = _peak_fraction(lambda: m.fit(x, sample_weight=sw), x.nbytes + sw.nbytes)
        assert frac < 0.05
        # every row an interval: views as well
        hi = x + 0.01
        frac = _peak_fraction(lambda: m.fit_intervals(x, hi), 2 * x.nbytes)
        assert frac < 0.05
    # the fitted model keeps a read-only view of the data, not a copy
    m.fit(x)
    assert np.shares_memory(m._obs.exact, x) and not m._obs.exact.flags.writeable
    assert x.flags.writeable      # the caller's array is untouched


def test_censored_segments_are_exact_and_copied_once():
    rng = np.random.default_rng(10)
    x = rng.exponential(1.0, 300_000)
    ev = rng.random(x.shape[0]) < 0.8
    sw = rng.random(x.shape[0])
    obs = from_samples(x, sample_weight=sw, event_observed=ev)
    assert np.array_equal(obs.exact, x[ev]) and np.array_equal(obs.right, x[~ev])
    assert np.array_equal(obs.exact_w, sw[ev]) and np.array_equal(obs.right_w, sw[~ev])
    # the segments are the only copies: about one copy of values and weights
    frac = _peak_fraction(lambda: from_samples(x, sample_weight=sw, event_observed=ev),
                          x.nbytes + sw.nbytes)
    assert frac < 1.1
    # all observed: views
    obs = from_samples(x, event_observed=np.ones(x.shape[0], bool))
    assert np.shares_memory(obs.exact, x) and obs.right is None


def test_validation_messages_name_the_first_bad_index():
    x = np.ones(200_000)
    x[123_456] = np.nan
    x[150_000] = np.inf
    with pytest.raises(ValueError, match=r"X contains NaN \(at index 123456\)"):
        ExponentialMixture(2).fit(x)
    x[123_456] = 1.0
    with pytest.raises(ValueError, match=r"X contains inf \(at index 150000\)"):
        ExponentialMixture(2).fit(x)
    x[150_000] = -2.0
    with pytest.raises(ValueError, match=r"X\[150000\] = -2.0"):
        ExponentialMixture(2).fit(x)
    x[150_000] = 1.0
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        ExponentialMixture(2).fit(x, sample_weight=-np.ones(x.shape[0]))
    with pytest.raises(ValueError, match="every observed value is 0"):
        ExponentialMixture(1).fit(np.zeros(100_000))
    with pytest.raises(ValueError, match="right-censored"):
        ExponentialMixture(1).fit(np.ones(100_000), event_observed=np.zeros(100_000, bool))
    # a late informative row is found by the chunked check
    z = np.zeros(300_000)
    z[-1] = 1.0
    assert ExponentialMixture(1).fit(z).rates_[0] == pytest.approx(300_000.0)
    assert "fit_many" in expmix.__all__


def test_fit_many_default_runs_no_python_start(monkeypatch):
    """The default (n_init = 1, init auto/quantile) never computes a start in
    Python: the C workers do; random restarts do use the Python starts."""
    from expmix import batch

    def forbidden(*a, **k):
        raise AssertionError("a Python start was computed")

    monkeypatch.setattr(batch, "starting_points", forbidden)
    data = [mixture(200, s) for s in range(5)]
    for init in ("auto", "quantile"):
        res = fit_many(data, range(1, 3), init=init, random_state=0)
        assert np.all(res.n_components > 0)
    with pytest.raises(AssertionError, match="Python start"):
        fit_many(data, 2, n_init=2, random_state=0)
