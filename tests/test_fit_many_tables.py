"""fit_many's exact path over a pointer table (expmix._core.ExactSets): the caller's
arrays are used in place, the per-data-set counts (em_scan_many) agree with numpy,
list entries that need converting give the same fits as float64 input, and a None
weight entry is the unweighted fit bit for bit."""
import numpy as np
import pytest

from expmix import ExponentialMixture, _core, fit_many
from expmix.batch import _exact_sets


def numpy_counts(xs, ws):
    """(n_obs, n_bad, n_info, n_wpos) per data set, computed with numpy."""
    out = []
    for j, x in enumerate(xs):
        w = None if ws is None else ws[j]
        bad = int(np.sum(~(np.isfinite(x) & (x >= 0))))
        if w is None:
            out.append((x.shape[0], bad, int(np.sum(x > 0)), x.shape[0]))
        else:
            bad += int(np.sum(~(np.isfinite(w) & (w >= 0))))
            out.append((x.shape[0], bad, int(np.sum((x > 0) & (w > 0))), int(np.sum(w > 0))))
    return [np.array(c, dtype=np.int64) for c in zip(*out)]


def messy_sets(seed, n_sets=300):
    """Data sets of random lengths (0 included) with sprinkled NaN, +-inf,
    negative values and zeros, and weights with the same defects."""
    rng = np.random.default_rng(seed)
    special = np.array([np.nan, np.inf, -np.inf, -1.0, -0.0, 0.0, 5e-324, 1.7e308])
    xs, ws = [], []
    for _ in range(n_sets):
        n = int(rng.integers(0, 90))
        x = rng.exponential(1.0, n)
        w = rng.random(n)
        for arr in (x, w):
            if n and rng.random() < 0.5:
                k = int(rng.integers(1, 4))
                arr[rng.integers(0, n, k)] = rng.choice(special, k)
        xs.append(x)
        ws.append(None if rng.random() < 0.2 else w)
    return xs, ws


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scan_counts_equal_numpy_for_every_thread_count(seed):
    xs, ws = messy_sets(seed)
    for weights in (None, ws):
        want = numpy_counts(xs, weights)
        table = _core.ExactSets(xs, weights, None)
        assert len(table) == len(xs)
        for t in (1, 2, 3, 7):
            got = table.scan(t)
            for g, e in zip(got, want):
                assert g.dtype == np.int64
                assert np.array_equal(g, e)


def test_scan_ragged_form_equals_list_form():
    xs, ws = messy_sets(5)
    ws = [np.ones(x.shape[0]) if w is None else w for x, w in zip(xs, ws)]
    values, weights = np.concatenate(xs), np.concatenate(ws)
    offsets = np.concatenate(([0], np.cumsum([x.shape[0] for x in xs]))).astype(np.int64)
    a = _core.ExactSets(values, weights, offsets).scan(2)
    b = _core.ExactSets(xs, ws, None).scan(2)
    for g, e in zip(a, b):
        assert np.array_equal(g, e)
    assert len(_core.ExactSets([], None, None)) == 0
    assert all(c.shape == (0,) for c in _core.ExactSets([], None, None).scan(2))


def test_exact_sets_argument_errors():
    x = np.ones(4)
    with pytest.raises(TypeError, match=r"values\[1\] is not a 1-D float64 buffer"):
        _core.ExactSets([x, np.ones(4, dtype=np.float32)], None, None)
    with pytest.raises(TypeError, match=r"values\[0\] is not a C-contiguous"):
        _core.ExactSets([np.ones(8)[::2]], None, None)
    with pytest.raises(TypeError, match=r"values\[0\]"):
        _core.ExactSets([[1.0, 2.0]], None, None)
    with pytest.raises(TypeError, match=r"values\[0\] is not a 1-D"):
        _core.ExactSets([np.ones((4, 1))], None, None)
    with pytest.raises(TypeError, match=r"weights\[0\]"):
        _core.ExactSets([x], [np.ones(4, dtype=np.int64)], None)
    with pytest.raises(ValueError, match=r"weights\[0\] must have the length of values\[0\]"):
        _core.ExactSets([x], [np.ones(3)], None)
    with pytest.raises(ValueError, match="weights must be a list of the length"):
        _core.ExactSets([x, x], [None], None)
    with pytest.raises(ValueError, match="offsets"):
        _core.ExactSets(x, None, np.array([0, 2, 3], dtype=np.int64))
    with pytest.raises(ValueError, match="non-decreasing"):
        _core.ExactSets(x, None, np.array([0, 3, 2, 4], dtype=np.int64))
    with pytest.raises(ValueError, match="weights must have the length of values"):
        _core.ExactSets(x, np.ones(3), np.array([0, 4], dtype=np.int64))


def test_float64_arrays_are_used_in_place():
    xs = [np.random.default_rng(i).exponential(1.0, 50) for i in range(4)]
    _, x_of, w_of = _exact_sets(xs, None)
    assert all(x_of(j) is xs[j] for j in range(4)) and w_of(0) is None
    ws = [None, np.ones(50), None, np.full(50, 2.0)]
    _, x_of, w_of = _exact_sets(xs, ws)
    assert all(x_of(j) is xs[j] for j in range(4))
    assert w_of(0) is None and w_of(1) is ws[1] and w_of(3) is ws[3]


def test_entries_that_need_converting_fit_as_float64():
    rng = np.random.default_rng(11)
    base = [np.round(rng.exponential(3.0, n) * 4) / 4 + 0.25 for n in (80, 120, 200, 60, 150)]
    sw = [rng.integers(1, 4, x.shape[0]).astype(np.float64) for x in base]
    messy = [
        base[0].astype(">f8"),                          # big-endian
        np.repeat(base[1], 2)[::2],                     # non-contiguous view
        base[2][:, None],                               # (n, 1) column
        list(base[3]),                                  # a Python list
        (base[4] * 4).astype(np.int64) / 4.0,           # float64 again, via int
    ]
    messy_w = [sw[0].astype(np.int32), sw[1].astype(">f8"), np.repeat(sw[2], 2)[::2],
               list(sw[3]), sw[4].astype(np.float32)]
    for weights, mweights in ((None, None), (sw, messy_w)):
        a = fit_many(base, 2, sample_weight=weights, random_state=4)
        b = fit_many(messy, 2, sample_weight=mweights, random_state=4)
        for f in ("weights", "rates", "log_likelihood", "n_iter", "bic"):
            assert np.array_equal(getattr(a, f), getattr(b, f)), f
        assert list(a.status) == list(b.status) == ["converged"] * 5


@pytest.mark.parametrize("n_init,init", [(1, "auto"), (2, "kmeans"), (2, "random")])
def test_none_weight_entry_is_the_unweighted_fit(n_init, init):
    rng = np.random.default_rng(2)
    data = [np.where(rng.random(n) < 0.3, rng.exponential(0.2, n), rng.exponential(3.0, n))
            for n in (100, 250, 400)]
    sw = [rng.random(100) + 0.5, None, None]
    res = fit_many(data, 2, sample_weight=sw, n_init=n_init, init=init, random_state=9)
    ch = np.random.SeedSequence(9).spawn(3)
    for j in (1, 2):
        m = ExponentialMixture(2, n_init=n_init, init=init, random_state=ch[j]).fit(data[j])
        assert np.array_equal(res.rates[j], m.rates_)
        assert np.array_equal(res.weights[j], m.weights_)
        assert res.log_likelihood[j] == m.log_likelihood_
        assert res.n_iter[j] == m.n_iter_ and res.bic[j] == m.bic_
    m = ExponentialMixture(2, n_init=n_init, init=init, random_state=ch[0]).fit(
        data[0], sample_weight=sw[0])
    assert np.array_equal(res.rates[0], m.rates_)
    assert res.log_likelihood[0] == m.log_likelihood_


def test_invalid_weight_entries_reported_per_set():
    rng = np.random.default_rng(3)
    data = [rng.exponential(1.0, 50) for _ in range(5)]
    sw = [None, np.r_[np.ones(49), np.nan], np.zeros(50), np.r_[np.ones(49), -2.0], np.ones(50)]
    res = fit_many(data, 1, sample_weight=sw)
    st = list(res.status)
    assert st[0] == "converged" and st[4] == "converged"
    assert st[1].startswith("invalid") and "sample_weight" in st[1]
    assert st[2].startswith("invalid")
    assert st[3].startswith("invalid") and "sample_weight" in st[3]
    assert res.rates[0, 0] == pytest.approx(50 / data[0].sum(), rel=1e-12)
