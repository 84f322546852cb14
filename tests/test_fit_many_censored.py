"""expmix.fit_many with right-censored and left-truncated data sets
(``event_observed=``, ``entry=``).

Truths: the estimator itself, fitted data set by data set with the documented
child seeds (``ExponentialMixture(K, random_state=child_j).fit(x_j,
event_observed=e_j, entry=t_j)`` and ``select_components``), expected bitwise
equal because every data set runs the same code (the same em_data, the same C
fit, the same Python starts and Newton polish); the K = 1 closed form (events
/ exposure); the log-likelihood written directly with scipy and maximized
with scipy.optimize (tests/reference.py)."""
import warnings

import numpy as np
import pytest

from expmix import ExponentialMixture, fit_many, select_components
from reference import direct_mle, loglik, assert_same_row

ACC = dict(acceleration="squarem")      # the lead switches the default; be explicit


def children(seed, n):
    return np.random.SeedSequence(seed).spawn(n)


def dwell(rng, n, dead=0.0, end=np.inf, w=0.4, means=(0.05, 1.0)):
    """Dwell times of a two-state molecule seen above a dead time and cut at
    the end of the recording: (values, event flags)."""
    x = np.where(rng.random(n) < w, rng.exponential(means[0], n), rng.exponential(means[1], n))
    x = x[x > dead]
    return np.minimum(x, end), x < end


def scenario(kind, seed=0, n_sets=8):
    """(datasets, event_observed, entry) of one observation scheme."""
    rng = np.random.default_rng(seed)
    data, evs, ents = [], [], []
    for j in range(n_sets):
        n = int(rng.integers(80, 300))
        if kind == "censored":              # reliability: failure times cut at a test end
            x, e = dwell(rng, n, end=rng.uniform(0.5, 2.0))
            t = None
        elif kind == "dead_time":           # biophysics: dead time and recording end
            t = 0.01
            x, e = dwell(rng, n, dead=t, end=rng.uniform(1.0, 3.0))
        elif kind == "row_entry":           # per-observation entry (delayed entry)
            t = rng.uniform(0.0, 0.5, n)
            t[: n // 5] = 0.0
            x = t + np.where(rng.random(n) < 0.4, rng.exponential(0.05, n),
                             rng.exponential(1.0, n))
            c = t + rng.uniform(0.5, 4.0, n)
            e = x < c
            x = np.minimum(x, c)
        elif kind == "row_entry_positive":  # every row truncated: min entry is a dead time
            t = rng.uniform(0.02, 0.3, n)
            x = t + np.where(rng.random(n) < 0.4, rng.exponential(0.05, n),
                             rng.exponential(1.0, n))
            e = None
        else:
            raise AssertionError(kind)
        data.append(x)
        evs.append(e)
        ents.append(t)
    return data, evs, ents


@pytest.mark.parametrize("kind", ["censored", "dead_time", "row_entry", "row_entry_positive"])
@pytest.mark.parametrize("K,n_init,init", [(1, 1, "auto"), (2, 1, "auto"), (2, 3, "auto"),
                                           (2, 2, "random")])
def test_equal_to_single_fits(kind, K, n_init, init):
    if kind.startswith("row_entry") and n_init > 1:
        n_sets = 3                          # every start is polished: keep it short
    else:
        n_sets = 8
    data, evs, ents = scenario(kind, seed=K + 10 * n_init, n_sets=n_sets)
    res = fit_many(data, K, event_observed=evs, entry=ents, n_init=n_init, init=init,
                   random_state=42, **ACC)
    ch = children(42, len(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j, x in enumerate(data):
            m = ExponentialMixture(K, n_init=n_init, init=init, random_state=ch[j], **ACC).fit(
                x, event_observed=evs[j], entry=ents[j])
            assert_same_row(res, j, m, K)


def test_weighted_equal_to_single_fits():
    data, evs, ents = scenario("dead_time", seed=3, n_sets=5)
    d2, e2, t2 = scenario("row_entry", seed=4, n_sets=3)
    data, evs, ents = data + d2, evs + e2, ents + t2
    rng = np.random.default_rng(1)
    sw = [rng.integers(1, 4, x.shape[0]).astype(float) for x in data]
    res = fit_many(data, 2, sample_weight=sw, event_observed=evs, entry=ents,
                   random_state=7, **ACC)
    ch = children(7, len(data))
    for j, x in enumerate(data):
        m = ExponentialMixture(2, random_state=ch[j], **ACC).fit(
            x, sample_weight=sw[j], event_observed=evs[j], entry=ents[j])
        assert_same_row(res, j, m, 2)
        assert res.bic[j] == pytest.approx(m.bic_, rel=1e-14)


def test_k_range_matches_select_components():
    data, evs, ents = scenario("dead_time", seed=5, n_sets=6)
    d2, e2, t2 = scenario("row_entry", seed=6, n_sets=2)
    d3, e3, t3 = scenario("censored", seed=7, n_sets=4)
    data, evs, ents = data + d2 + d3, evs + e2 + e3, ents + t2 + t3
    ks = range(1, 4)
    res = fit_many(data, ks, event_observed=evs, entry=ents, random_state=11, **ACC)
    ch = children(11, len(data))
    for j, x in enumerate(data):
        sel = select_components(x, ks, random_state=ch[j], event_observed=evs[j],
                                entry=ents[j], **ACC)
        K = sel.best_n_components_
        assert_same_row(res, j, sel.best_, K)
        for row in sel.table:
            k = row["n_components"]
            assert res.table[k]["bic"][j] == row["bic"]
            assert res.table[k]["log_likelihood"][j] == row["log_likelihood"]
        # BIC's n: every observation counts once, censored ones too
        assert res.bic[j] == -2 * res.log_likelihood[j] + (2 * K - 1) * np.log(x.shape[0])
    assert np.mean(res.n_components == 2) >= 0.5


def test_k1_closed_form():
    """K = 1: rate = sum of events / total exposure sum (x - entry), whatever
    mixes of censoring, a dead time or per-row entries (with weights).  tol=0
    runs EM to the end of max_iter: the default tol bounds the remaining gain
    in log-likelihood (quadratic near the optimum), so the censored K = 1
    rate then stops ~1e-10 from its limit, as in a single fit."""
    rng = np.random.default_rng(8)
    data, evs, ents, sws = [], [], [], []
    for kind in ("censored", "dead_time", "row_entry", "row_entry_positive"):
        d, e, t = scenario(kind, seed=int(rng.integers(1000)), n_sets=3)
        data += d
        evs += e
        ents += t
    sws = [rng.uniform(0.5, 2.0, x.shape[0]) for x in data]
    for sw in (None, sws):
        res = fit_many(data, 1, sample_weight=sw, event_observed=evs, entry=ents, tol=0.0,
                       max_iter=200, **ACC)
        for j, x in enumerate(data):
            e = np.ones(x.shape[0], bool) if evs[j] is None else evs[j]
            t = 0.0 if ents[j] is None else ents[j]
            v = np.ones(x.shape[0]) if sw is None else sw[j]
            rate = np.sum(v * e) / np.sum(v * (x - t))
            assert res.rates[j, 0] == pytest.approx(rate, rel=1e-12, abs=0)
            assert res.weights[j, 0] == 1.0
            ll = np.sum(v * e) * np.log(rate) - rate * np.sum(v * (x - t))
            assert res.log_likelihood[j] == pytest.approx(ll, rel=1e-12)


def test_k2_matches_direct_maximization():
    """The dead-time-and-window fit reaches the maximum of the truncated,
    censored likelihood written directly (scipy)."""
    rng = np.random.default_rng(9)
    data, evs = [], []
    for _ in range(3):
        x, e = dwell(rng, 400, dead=0.02, end=2.0)
        data.append(x)
        evs.append(e)
    res = fit_many(data, 2, event_observed=evs, entry=0.02, tol=1e-13, max_iter=5000, **ACC)
    for j, x in enumerate(data):
        ll_ref, w_ref, mu_ref = direct_mle(2, np.random.default_rng(j), n_starts=8,
                                           exact=x[evs[j]], right=x[~evs[j]],
                                           entry=np.full(x.shape[0], 0.02))
        assert res.log_likelihood[j] >= ll_ref - 1e-7 * abs(ll_ref)
        np.testing.assert_allclose(np.sort(res.rates[j]), np.sort(mu_ref), rtol=1e-4)
        th = np.concatenate((np.log(res.weights[j, 1:] / res.weights[j, 0]),
                             np.log(res.rates[j])))
        assert loglik(th, 2, exact=x[evs[j]], right=x[~evs[j]],
                      entry=np.full(x.shape[0], 0.02)) == pytest.approx(
            res.log_likelihood[j], rel=1e-11)


def test_thread_count_independence():
    data, evs, ents = scenario("dead_time", seed=12, n_sets=10)
    d2, e2, t2 = scenario("row_entry", seed=13, n_sets=3)
    data, evs, ents = data + d2, evs + e2, ents + t2
    runs = [fit_many(data, range(1, 4), n_init=2, event_observed=evs, entry=ents,
                     random_state=5, n_threads=t, **ACC) for t in (1, 2, 3)]
    for r in runs[1:]:
        for f in ("rates", "weights", "log_likelihood", "bic", "observed_weights"):
            assert np.array_equal(getattr(r, f), getattr(runs[0], f), equal_nan=True), f
        assert np.array_equal(r.n_iter, runs[0].n_iter)
        assert list(r.status) == list(runs[0].status)


def test_ragged_equals_list():
    data, evs, ents = scenario("row_entry", seed=14, n_sets=4)
    d2, e2, _ = scenario("censored", seed=15, n_sets=4)
    data, evs = data + d2, evs + e2
    ents = ents + [None, 0.0, np.zeros(d2[2].shape[0]), None]
    values = np.concatenate(data)
    offsets = np.concatenate(([0], np.cumsum([x.shape[0] for x in data])))
    ev_all = np.concatenate(evs)
    t_all = np.concatenate([np.zeros(x.shape[0]) if t is None else np.broadcast_to(t, x.shape)
                            for x, t in zip(data, ents)])
    a = fit_many(data, range(1, 3), event_observed=evs, entry=ents, random_state=3, **ACC)
    b = fit_many((values, offsets), range(1, 3), event_observed=ev_all, entry=t_all,
                 random_state=3, **ACC)
    for f in ("rates", "weights", "log_likelihood", "bic", "n_components", "n_iter"):
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), f
    # a scalar dead time is the same in both forms
    d3, e3, _ = scenario("dead_time", seed=16, n_sets=4)
    a = fit_many(d3, 2, event_observed=e3, entry=0.01, random_state=1, **ACC)
    b = fit_many((np.concatenate(d3), np.concatenate(([0], np.cumsum([len(x) for x in d3])))),
                 2, event_observed=np.concatenate(e3), entry=0.01, random_state=1, **ACC)
    assert np.array_equal(a.rates, b.rates) and np.array_equal(a.weights, b.weights)


def test_all_observed_equals_exact_path():
    """event_observed all True / entry 0 take the censored code path and give
    the exact path's result bit for bit."""
    rng = np.random.default_rng(17)
    data = [rng.exponential(rng.uniform(0.5, 2.0), int(rng.integers(50, 200))) for _ in range(6)]
    a = fit_many(data, range(1, 3), random_state=2, **ACC)
    b = fit_many(data, range(1, 3), event_observed=[np.ones(len(x), bool) for x in data],
                 random_state=2, **ACC)
    c = fit_many(data, range(1, 3), entry=0.0, random_state=2, **ACC)
    for r in (b, c):
        for f in ("rates", "weights", "log_likelihood", "bic", "n_components", "n_iter"):
            assert np.array_equal(getattr(a, f), getattr(r, f), equal_nan=True), f
        assert list(a.status) == list(r.status)


def test_extreme_magnitudes_rescaled_as_single_fits():
    """Data near 2^300 are fitted in rescaled units, as ExponentialMixture does."""
    data, evs, ents = scenario("dead_time", seed=18, n_sets=3)
    big = [x * 2.0 ** 300 for x in data]
    res = fit_many(big, 2, event_observed=evs, entry=0.01 * 2.0 ** 300, random_state=4, **ACC)
    ch = children(4, len(big))
    for j, x in enumerate(big):
        m = ExponentialMixture(2, random_state=ch[j], **ACC).fit(x, event_observed=evs[j],
                                                                entry=0.01 * 2.0 ** 300)
        assert_same_row(res, j, m, 2)


def test_invalid_datasets_reported_not_fitted():
    rng = np.random.default_rng(19)
    good = [dwell(rng, 200, dead=0.01, end=2.0) for _ in range(3)]
    x0 = good[0][0]
    data = [good[0][0], np.array([0.5, 0.2, 1.0]), np.array([1.0, 2.0, 3.0]), good[1][0],
            np.array([1.0, 2.0]), np.array([0.3, 0.4]), np.array([0.3, 0.4, 0.6]), good[2][0],
            np.array([1.0, np.nan])]
    evs = [good[0][1], None, np.zeros(3, bool), good[1][1], np.ones(3, bool), None,
           np.array([1, 0, 2]), good[2][1], None]
    ents = [0.01, np.array([0.1, 0.3, 0.2]), 0.0, 0.01, None, np.array([0.1, np.nan]), None,
            0.01, None]
    res = fit_many(data, 2, event_observed=evs, entry=ents, random_state=0, **ACC)
    st = list(res.status)
    for j in (0, 3, 7):
        assert st[j] in ("converged", "max_iter"), st[j]
    assert st[1].startswith("invalid: entry[1][1] = 0.3 is not below datasets[1][1] = 0.2")
    assert st[2].startswith("invalid: datasets[2]: every observation is right-censored")
    assert st[4] == "invalid: event_observed[4] has length 3, but datasets[4] has 2 observations"
    assert st[5].startswith("invalid: entry[5] contains NaN")
    assert st[6].startswith("invalid: event_observed[6] must contain only True/False")
    assert st[8].startswith("invalid: datasets[8] contains NaN")
    for j in (1, 2, 4, 5, 6, 8):
        assert res.n_components[j] == 0 and np.isnan(res.log_likelihood[j])
        assert np.all(np.isnan(res.rates[j])) and np.all(np.isnan(res.weights[j]))
        assert not res.converged[j] and not res.ok[j]
    # neighbours unaffected
    ch = children(0, len(data))
    m = ExponentialMixture(2, random_state=ch[3], **ACC).fit(x0 if False else data[3],
                                                            event_observed=evs[3], entry=0.01)
    assert_same_row(res, 3, m, 2)
    # the exact value equal to a scalar dead time, an entry list of the wrong length
    r = fit_many([np.array([0.5, 1.0, 2.0]), x0], 1, entry=[0.5, np.zeros(3)])
    assert r.status[0].startswith("invalid: entry[0] = 0.5 is not below datasets[0][0] = 0.5")
    assert r.status[1] == (f"invalid: entry[1] has length 3, but datasets[1] has {len(x0)} "
                           "observations")


def test_strict_raises_naming_the_argument():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"entry\[1\]\[0\] = 1.5 is not below datasets\[1\]\[0\]"):
        fit_many([x, x], 1, entry=[None, np.array([1.5, 0.0, 0.0])], strict=True)
    with pytest.raises(ValueError, match=r"datasets\[0\]: every observation is right-censored"):
        fit_many([x, x], 1, event_observed=[np.zeros(3, bool), None], strict=True)
    with pytest.raises(ValueError, match=r"event_observed\[1\] has length 2"):
        fit_many([x, x], 1, event_observed=[None, [True, False]], strict=True)


def test_bad_arguments():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="event_observed must be None or a list of 2"):
        fit_many([x, x], 1, event_observed=[None])
    with pytest.raises(ValueError, match="event_observed must be None or a list of 2"):
        fit_many([x, x], 1, event_observed=np.ones(6, bool))
    with pytest.raises(ValueError, match="entry must be None or a list of 2"):
        fit_many([x, x], 1, entry=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="entry must be a finite number >= 0"):
        fit_many([x, x], 1, entry=-1.0)
    with pytest.raises(ValueError, match="entry must be a finite number >= 0"):
        fit_many([x, x], 1, entry=np.nan)
    with pytest.raises(TypeError, match="entry must be a number"):
        fit_many([x, x], 1, entry=True)
    ragged = (np.concatenate([x, x]), np.array([0, 3, 6]))
    with pytest.raises(ValueError, match=r"event_observed: with ragged datasets.*length len\(values\) = 6"):
        fit_many(ragged, 1, event_observed=np.ones(5, bool))
    with pytest.raises(ValueError, match=r"entry: with ragged datasets"):
        fit_many(ragged, 1, entry=np.zeros((6, 2)))
    with pytest.raises(TypeError, match="event_observed must be boolean"):
        fit_many(ragged, 1, event_observed=np.array(["a"] * 6))
    with pytest.raises(TypeError, match="entry must be numeric"):
        fit_many(ragged, 1, entry=np.array(["a"] * 6))
    # a ragged flag array with a bad entry marks its data set only
    r = fit_many(ragged, 1, event_observed=np.array([1, 1, 1, 1, 2, 1]))
    assert r.ok[0] and r.status[1].startswith("invalid: event_observed[1]")


def test_exact_zeros_with_no_or_scalar_entry_are_valid():
    """A zero value is fine without an entry time or with entry 0 (as in fit),
    but not below a per-row entry time 0 (fit rejects an event at its entry)."""
    x = np.array([0.0, 0.5, 1.0, 2.0, 0.7])
    e = np.array([True, True, False, True, True])
    r = fit_many([x, x, x], 1, event_observed=[e, e, e], entry=[None, 0.0, np.zeros(5)], **ACC)
    ref = ExponentialMixture(1, **ACC).fit(x, event_observed=e)
    assert r.rates[0, 0] == ref.rates_[0] and r.rates[1, 0] == ref.rates_[0]
    assert r.status[2].startswith("invalid: entry[2][0] = 0.0 is not below datasets[2][0]")
    with pytest.raises(ValueError, match="not below"):
        ExponentialMixture(1).fit(x, event_observed=e, entry=np.zeros(5))


def test_weights_summing_past_float64_max_are_reported():
    x = np.array([1.0, 2.0, 3.0])
    e = np.array([True, False, True])
    r = fit_many([x, x], 1, sample_weight=[np.ones(3), np.full(3, 1e308)],
                 event_observed=[e, e])
    assert r.ok[0] and not r.ok[1]
    assert r.status[1].startswith("invalid: sample_weight[1]: the weights sum to more than")
    with pytest.raises(ValueError, match="weights sum"):
        ExponentialMixture(1).fit(x, sample_weight=np.full(3, 1e308), event_observed=e)


def test_core_fit_many_data_equals_single_c_fits():
    """The C entry point (em_fit_many_data via _core.fit_many_data): each
    problem equals _core.fit of its em_data (exact, right-censored and
    truncation segments), with the per-data-set max_iter."""
    from expmix import _core
    from expmix.observations import from_samples
    rng = np.random.default_rng(21)
    obs = []
    for j in range(4):
        t = rng.uniform(0, 0.3, 150)
        x = t + rng.exponential(rng.uniform(0.2, 2.0), 150)
        c = t + 1.5
        obs.append(from_samples(np.minimum(x, c), None, x < c, t))

    def ragged(attr):
        parts = [getattr(o, attr) for o in obs]
        off = np.concatenate(([0], np.cumsum([0 if p is None else p.shape[0] for p in parts])))
        return np.concatenate([p for p in parts if p is not None]), None, off.astype(np.int64)

    E, R, T = ragged("exact"), ragged("right"), ragged("trunc")
    max_iter = np.array([5, 50, 0, 1000], np.int64)
    P = 8
    idx = np.repeat(np.arange(4), 2).astype(np.int64)
    W0 = np.tile([[0.5, 0.5]], (P, 1))
    M0 = np.tile([[3.0, 0.5]], (P, 1))
    W0[1::2] = np.nan                        # the odd problems ask for the C quantile start
    W, M = W0.copy(), M0.copy()
    out = _core.fit_many_data(4, *E, *R, *T, max_iter, idx, np.full(P, 2, np.intc), W, M,
                              accel=1, n_threads=2)
    for p in range(P):
        o = obs[idx[p]]
        if p % 2:
            w, mu = _core.init_quantile(o, 2)
        else:
            w, mu = W0[p].copy(), M0[p].copy()
        r = _core.fit(o, w, mu, max_iter=int(max_iter[idx[p]]), accel=1, history=False,
                      scale=_core.data_scale(o))
        assert np.array_equal(w, W[p]) and np.array_equal(mu, M[p])
        assert r["loglik"] == out["loglik"][p] and r["n_iter"] == out["n_iter"][p]
    assert out["n_iter"][4] == 0 and out["n_iter"][0] <= 5
    with pytest.raises(ValueError, match="invalid argument"):
        _core.fit_many_data(4, *E, *R, *T, np.array([1, 1, -1, 1], np.int64), idx,
                            np.full(P, 2, np.intc), W0.copy(), M0.copy())
    with pytest.raises(ValueError, match="offsets"):
        _core.fit_many_data(3, *E, *R, *T, None, idx, np.full(P, 2, np.intc), W0.copy(),
                            M0.copy())
