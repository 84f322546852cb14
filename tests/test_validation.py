"""Bad input gets a specific error naming the argument."""
import numpy as np
import pytest

from expmix import ExponentialMixture, select_components

X = np.array([0.5, 1.0, 2.0, 3.0, 0.1])

BAD_X = [
    (np.array([1.0, -1.0, 2.0]), ValueError, "X must be non-negative"),
    (np.array([1.0, np.nan]), ValueError, "X contains NaN"),
    (np.array([1.0, np.inf]), ValueError, "X contains inf"),
    (np.array([]), ValueError, "X is empty"),
    (np.ones((3, 2)), ValueError, "single column"),
    (np.ones((2, 2, 2)), ValueError, "1-D"),
    (np.float64(3.0), ValueError, "scalar"),
    (np.array(["a", "b"]), TypeError, "numeric"),
    (np.array([1 + 1j, 2]), TypeError, "complex"),
    (np.array([True, False]), TypeError, "boolean"),
    (np.array([1.0, "x"], dtype=object), TypeError, "real numbers"),
    ("abc", TypeError, "array-like"),
    (None, TypeError, "got None"),
    (np.zeros(5), ValueError, "every observed value is 0"),
]


@pytest.mark.parametrize("x,exc,msg", BAD_X)
def test_bad_X(x, exc, msg):
    with pytest.raises(exc, match=msg):
        ExponentialMixture(1).fit(x)


BAD_W = [
    (np.array([1.0, -1, 1, 1, 1]), "non-negative"),
    (np.array([1.0, np.nan, 1, 1, 1]), "NaN"),
    (np.array([1.0, np.inf, 1, 1, 1]), "inf"),
    (np.zeros(5), "zero everywhere"),
    (np.ones(4), "length 4"),
]


@pytest.mark.parametrize("w,msg", BAD_W)
def test_bad_sample_weight(w, msg):
    with pytest.raises(ValueError, match="sample_weight.*" + msg + "|" + msg):
        ExponentialMixture(1).fit(X, sample_weight=w)


BAD_PARAMS = [
    (dict(n_components=0), ValueError, "n_components must be between"),
    (dict(n_components=1000), ValueError, "n_components must be between"),
    (dict(n_components=2.5), TypeError, "n_components must be an int"),
    (dict(n_components=True), TypeError, "n_components must be an int"),
    (dict(tol=-1.0), ValueError, "tol must be"),
    (dict(tol=np.nan), ValueError, "tol must be"),
    (dict(max_iter=-1), ValueError, "max_iter must be >= 0"),
    (dict(max_iter=1.5), TypeError, "max_iter must be an int"),
    (dict(n_init=0), ValueError, "n_init must be >= 1"),
    (dict(init="bogus"), ValueError, "init must be one of"),
    (dict(acceleration="fast"), ValueError, "acceleration must be"),
    (dict(random_state="seed"), TypeError, "random_state must be"),
    (dict(random_state=-3), ValueError, "random_state must be non-negative"),
    (dict(n_threads=0), ValueError, "n_threads must be"),
    (dict(n_threads="2"), TypeError, "n_threads must be"),
    (dict(n_components=2, rates_init=[1.0]), ValueError, "rates_init must have shape"),
    (dict(n_components=2, rates_init=[1.0, -1.0]), ValueError, "rates_init must be finite and positive"),
    (dict(n_components=2, weights_init=[0.3, 0.3]), ValueError, "weights_init must sum to 1"),
    (dict(n_components=2, weights_init=[1.0, 0.0]), ValueError, "weights_init must be finite and positive"),
    (dict(n_components=6), ValueError, "larger than the number of observations"),
]


@pytest.mark.parametrize("params,exc,msg", BAD_PARAMS)
def test_bad_params(params, exc, msg):
    with pytest.raises(exc, match=msg):
        ExponentialMixture(**params).fit(X)


def test_censoring_flags():
    with pytest.raises(ValueError, match="event_observed has length"):
        ExponentialMixture(1).fit(X, event_observed=[True, False])
    with pytest.raises(TypeError, match="event_observed must be boolean"):
        ExponentialMixture(1).fit(X, event_observed=np.array(["a"] * 5))
    with pytest.raises(ValueError, match="only True/False"):
        ExponentialMixture(1).fit(X, event_observed=[0, 1, 2, 1, 1])
    with pytest.raises(ValueError, match="every observation is right-censored"):
        ExponentialMixture(1).fit(X, event_observed=np.zeros(5, bool))


def test_select_components_bad_input():
    with pytest.raises(ValueError, match="criterion must be one of"):
        select_components(X, [1], criterion="bogus")
    with pytest.raises(ValueError, match="n_components is empty"):
        select_components(X, [])
    with pytest.raises(TypeError, match="iterable of ints"):
        select_components(X, 3)


def test_set_params():
    m = ExponentialMixture(2)
    assert m.get_params()["n_components"] == 2
    m.set_params(n_components=3, tol=1e-6)
    assert m.n_components == 3 and m.tol == 1e-6
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        m.set_params(bogus=1)
    assert repr(ExponentialMixture(3, tol=1e-6)) == "ExponentialMixture(n_components=3, tol=1e-06)"


def test_list_and_column_inputs_equal():
    a = ExponentialMixture(1).fit(list(X))
    b = ExponentialMixture(1).fit(X.reshape(-1, 1))
    c = ExponentialMixture(1).fit(X.astype(np.float32).astype(np.float64)[::1])
    assert a.rates_[0] == b.rates_[0] == pytest.approx(c.rates_[0])
    d = ExponentialMixture(1).fit(np.repeat(X, 2)[::2])   # non-contiguous
    assert d.rates_[0] == a.rates_[0]
