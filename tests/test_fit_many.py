"""expmix.fit_many: equality with single fits (the independent truth is the
estimator itself, fitted data set by data set with the documented seeds),
ragged vs list input, K chosen by BIC, invalid data sets, thread independence."""
import numpy as np
import pytest

import expmix
from expmix import ExponentialMixture, fit_many, select_components


def make(n_sets=12, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for j in range(n_sets):
        n = int(rng.integers(60, 400))
        k = rng.random(n) < 0.4
        out.append(np.where(k, rng.exponential(0.1, n), rng.exponential(2.0, n)))
    return out


def children(seed, n):
    return np.random.SeedSequence(seed).spawn(n)


@pytest.mark.parametrize("n_init,init", [(1, "auto"), (3, "auto"), (2, "random")])
def test_equal_to_single_fits(n_init, init):
    data = make()
    res = fit_many(data, 2, n_init=n_init, init=init, random_state=42)
    ch = children(42, len(data))
    assert res.weights.shape == (len(data), 2)
    for j, x in enumerate(data):
        m = ExponentialMixture(2, n_init=n_init, init=init, random_state=ch[j]).fit(x)
        assert np.array_equal(res.rates[j], m.rates_)
        assert np.array_equal(res.weights[j], m.weights_)
        assert res.log_likelihood[j] == m.log_likelihood_
        assert res.n_iter[j] == m.n_iter_
        assert res.converged[j] == m.converged_
        assert res.status[j] == m.status_
    assert np.all(res.n_components == 2)


def test_weights_equal_to_single_fits_and_repeats():
    data = make(6, seed=3)
    rng = np.random.default_rng(1)
    sw = [rng.integers(0, 4, x.shape[0]).astype(float) for x in data]
    for w in sw:
        w[0] = 1.0
    res = fit_many(data, 2, sample_weight=sw, random_state=7)
    ch = children(7, len(data))
    for j, x in enumerate(data):
        m = ExponentialMixture(2, random_state=ch[j]).fit(x, sample_weight=sw[j])
        assert np.array_equal(res.rates[j], m.rates_)
        # integer weights = repeated points (up to EM rounding)
        rep = np.repeat(x, sw[j].astype(int))
        m2 = ExponentialMixture(2, tol=1e-13, max_iter=5000).fit(rep)
        np.testing.assert_allclose(np.sort(res.rates[j]), np.sort(m2.rates_), rtol=1e-4)


def test_ragged_equals_list():
    data = make(9, seed=5)
    values = np.concatenate(data)
    offsets = np.concatenate(([0], np.cumsum([x.shape[0] for x in data])))
    a = fit_many(data, range(1, 4), random_state=3)
    b = fit_many((values, offsets), range(1, 4), random_state=3)
    for f in ("weights", "rates", "log_likelihood", "bic"):
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True)
    assert np.array_equal(a.n_components, b.n_components)
    assert list(a.status) == list(b.status)


def test_k_range_matches_select_components():
    data = make(8, seed=9)
    res = fit_many(data, range(1, 4), random_state=11)
    ch = children(11, len(data))
    assert res.weights.shape == (len(data), 3)
    for j, x in enumerate(data):
        sel = select_components(x, range(1, 4), random_state=ch[j])
        K = sel.best_n_components_
        assert res.n_components[j] == K
        assert np.array_equal(res.rates[j, :K], sel.best_.rates_)
        assert np.all(np.isnan(res.rates[j, K:])) and np.all(np.isnan(res.weights[j, K:]))
        n = x.shape[0]
        assert res.bic[j] == pytest.approx(-2 * sel.best_.log_likelihood_ + (2 * K - 1) * np.log(n),
                                           rel=1e-14)
        for k in (1, 2, 3):
            assert res.table[k]["log_likelihood"][j] == sel.models[k].log_likelihood_
    # two well-separated components: BIC should pick K = 2 on most data sets
    assert np.mean(res.n_components == 2) >= 0.7


def test_invalid_datasets_reported_not_fitted():
    good = make(3, seed=2)
    data = [good[0], np.array([1.0, np.nan, 2.0]), np.array([]), np.array([0.5, -1.0, 2.0]),
            good[1], np.array([3.0]), np.zeros(10), good[2]]
    res = fit_many(data, 2, random_state=0)
    st = list(res.status)
    assert st[0] == "converged" and st[4] == "converged" and st[7] == "converged"
    assert st[1].startswith("invalid") and "NaN" in st[1]
    assert st[2].startswith("invalid") and "empty" in st[2]
    assert st[3].startswith("invalid") and "non-negative" in st[3]
    assert st[5].startswith("invalid") and "fewer than" in st[5]
    assert st[6].startswith("invalid") and "no information" in st[6]
    for j in (1, 2, 3, 5, 6):
        assert res.n_components[j] == 0 and np.isnan(res.log_likelihood[j])
        assert np.all(np.isnan(res.rates[j])) and not res.converged[j]
    assert list(res.ok) == [True, False, False, False, True, False, False, True]
    # the valid ones are unaffected by their invalid neighbours
    ch = children(0, len(data))
    m = ExponentialMixture(2, random_state=ch[4]).fit(data[4])
    assert np.array_equal(res.rates[4], m.rates_)


def test_strict_raises_naming_the_dataset():
    data = make(3) + [np.array([1.0, np.inf])]
    with pytest.raises(ValueError, match=r"datasets\[3\].*inf"):
        fit_many(data, 2, strict=True)
    w = [None, None, None, np.array([1.0, -1.0])]
    with pytest.raises(ValueError, match=r"datasets\[3\].*non-negative"):
        fit_many(make(3) + [np.array([1.0, 2.0])], 1, sample_weight=w, strict=True)


def test_thread_count_independence():
    data = make(20, seed=4)
    runs = [fit_many(data, range(1, 4), n_init=2, random_state=5, n_threads=t) for t in (1, 2, 3)]
    for r in runs[1:]:
        assert np.array_equal(r.rates, runs[0].rates, equal_nan=True)
        assert np.array_equal(r.weights, runs[0].weights, equal_nan=True)
        assert np.array_equal(r.log_likelihood, runs[0].log_likelihood, equal_nan=True)


def test_k1_closed_form():
    data = make(5, seed=8)
    res = fit_many(data, 1)
    for j, x in enumerate(data):
        assert res.rates[j, 0] == pytest.approx(x.shape[0] / x.sum(), rel=1e-12)
        assert res.weights[j, 0] == 1.0


def test_bad_arguments():
    data = make(2)
    with pytest.raises(TypeError, match="datasets"):
        fit_many(np.ones(5), 2)
    with pytest.raises(ValueError, match="offsets"):
        fit_many((np.ones(5), np.array([0, 2, 4])), 1)
    with pytest.raises(ValueError, match="n_components"):
        fit_many(data, 0)
    with pytest.raises(TypeError, match="n_components"):
        fit_many(data, "two")
    with pytest.raises(ValueError, match="n_init"):
        fit_many(data, 2, n_init=0)
    with pytest.raises(ValueError, match="sample_weight"):
        fit_many(data, 2, sample_weight=[None])
    with pytest.raises(ValueError, match=r"sample_weight\[1\]"):
        fit_many(data, 2, sample_weight=[None, np.ones(3)])
    with pytest.raises(TypeError, match="random_state"):
        fit_many(data, 2, random_state=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"datasets\[0\] must be 1-D"):
        fit_many([np.ones((3, 2))], 1)
    assert len(fit_many([], 2)) == 0
    assert "fit_many" in expmix.__all__
