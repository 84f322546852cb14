"""expmix.fit_many_intervals: interval-censored / binned data sets.

Truths: the estimator itself, fitted data set by data set with the documented
child seeds (``ExponentialMixture(K, random_state=child_j).fit_intervals(...)``
and ``select_components_intervals``), expected bitwise equal because every
data set runs the same code (the same observation set from from_intervals,
the same Python starts, the same C fit and Newton polish); K = 1 closed forms
(events / exposure for exact + right-censored rows; the geometric MLE of
equal-width bins); the log-likelihood written directly with scipy and
maximized with scipy.optimize (tests/reference.py)."""
import warnings

import numpy as np
import pytest

from expmix import ExponentialMixture, fit_many_intervals, select_components_intervals
from expmix import _core
from reference import direct_mle, loglik_wmu, assert_same_row

ACC = dict(acceleration="squarem")      # explicit: tests compare to single fits


def children(seed, n):
    return np.random.SeedSequence(seed).spawn(n)


def two_rates(rng, n, w=0.4, means=(0.1, 1.0)):
    return np.where(rng.random(n) < w, rng.exponential(means[0], n),
                    rng.exponential(means[1], n))


def scenario(kind, seed=0, n_sets=6):
    """(lower, upper, sample_weight, entry) lists of one observation scheme."""
    rng = np.random.default_rng(seed)
    lows, ups, ws, ts = [], [], [], []
    for _ in range(n_sets):
        n = int(rng.integers(80, 250))
        x = two_rates(rng, n)
        w, t = None, None
        if kind == "mixed":             # exact, rounded (interval) and right-censored rows
            d = 0.05
            lo = np.floor(x / d) * d
            hi = lo + d
            k = rng.integers(0, 3, n)
            c = rng.uniform(0.5, 3.0, n)
            lo = np.where(k == 0, x, lo)
            hi = np.where(k == 0, x, hi)
            cens = (k == 2) & (x > c)
            lo = np.where(cens, c, lo)
            hi = np.where(cens, np.inf, hi)
        elif kind == "bins":            # a histogram: equal-width bins, open last bin
            edges = np.r_[np.arange(0.0, 3.0, 0.1), np.inf]
            cnt = np.histogram(x, edges)[0].astype(float)
            keep = cnt > 0
            lo, hi, w = edges[:-1][keep], edges[1:][keep], cnt[keep]
        elif kind == "dead_time":       # bins above a dead time of 0.02
            t = 0.02
            x = x[x > t]
            edges = np.r_[t + np.arange(0.0, 3.0, 0.08), np.inf]
            cnt = np.histogram(x, edges)[0].astype(float)
            keep = cnt > 0
            lo, hi, w = edges[:-1][keep], edges[1:][keep], cnt[keep]
        elif kind == "row_entry":       # per-row entry times, rounded times above them
            t = rng.uniform(0.0, 0.4, n)
            t[: n // 4] = 0.0
            lo = t + np.floor(x / 0.05) * 0.05
            hi = lo + 0.05
        else:
            raise AssertionError(kind)
        lows.append(lo)
        ups.append(hi)
        ws.append(w)
        ts.append(t)
    return lows, ups, ws, ts


def single(K, lo, hi, w, t, child, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ExponentialMixture(K, random_state=child, **kw).fit_intervals(lo, hi, w, entry=t)


@pytest.mark.parametrize("kind", ["mixed", "bins", "dead_time", "row_entry"])
@pytest.mark.parametrize("K,n_init,init", [(1, 1, "auto"), (2, 1, "auto"), (2, 3, "auto"),
                                           (2, 2, "random")])
def test_equal_to_single_fits(kind, K, n_init, init):
    n_sets = 3 if kind == "row_entry" and n_init > 1 else 6
    lows, ups, ws, ts = scenario(kind, seed=K + 10 * n_init, n_sets=n_sets)
    res = fit_many_intervals(lows, ups, K, sample_weight=ws, entry=ts, n_init=n_init,
                             init=init, random_state=42, **ACC)
    ch = children(42, len(lows))
    for j in range(len(lows)):
        m = single(K, lows[j], ups[j], ws[j], ts[j], ch[j], n_init=n_init, init=init, **ACC)
        assert_same_row(res, j, m, K)


@pytest.mark.parametrize("acc", ["anderson", "squarem", "none"])
def test_equal_to_single_fits_each_acceleration(acc):
    lows, ups, ws, ts = scenario("mixed", seed=3, n_sets=4)
    rng = np.random.default_rng(0)
    ws = [rng.integers(1, 4, lo.shape[0]).astype(float) for lo in lows]
    res = fit_many_intervals(lows, ups, 2, sample_weight=ws, entry=0.0, random_state=1,
                             acceleration=acc)
    ch = children(1, len(lows))
    for j in range(len(lows)):
        assert_same_row(res, j, single(2, lows[j], ups[j], ws[j], 0.0, ch[j], acceleration=acc), 2)


def test_scalar_dead_time_and_ragged_form():
    lows, ups, ws, _ = scenario("dead_time", seed=5, n_sets=4)
    res = fit_many_intervals(lows, ups, 2, sample_weight=ws, entry=0.02, random_state=3, **ACC)
    off = np.r_[0, np.cumsum([lo.shape[0] for lo in lows])]
    rr = fit_many_intervals((np.concatenate(lows), off), (np.concatenate(ups), off), 2,
                            sample_weight=np.concatenate(ws), entry=0.02, random_state=3, **ACC)
    ch = children(3, len(lows))
    for j in range(len(lows)):
        m = single(2, lows[j], ups[j], ws[j], 0.02, ch[j], **ACC)
        assert_same_row(res, j, m, 2)
        assert_same_row(rr, j, m, 2)
        assert res.entry[j] == 0.02


def test_k_range_matches_select_components():
    lows, ups, ws, ts = scenario("mixed", seed=7, n_sets=4)
    l2, u2, w2, t2 = scenario("bins", seed=8, n_sets=3)
    l3, u3, w3, t3 = scenario("row_entry", seed=9, n_sets=2)
    lows, ups, ws, ts = lows + l2 + l3, ups + u2 + u3, ws + w2 + w3, ts + t2 + t3
    ks = range(1, 4)
    res = fit_many_intervals(lows, ups, ks, sample_weight=ws, entry=ts, random_state=11, **ACC)
    ch = children(11, len(lows))
    chosen = set()
    for j in range(len(lows)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sel = select_components_intervals(lows[j], ups[j], ks, sample_weight=ws[j],
                                              entry=ts[j], random_state=ch[j], **ACC)
        K = sel.best_n_components_
        chosen.add(K)
        assert_same_row(res, j, sel.best_, K)
        for row in sel.table:
            k = row["n_components"]
            assert res.table[k]["bic"][j] == row["bic"]
            assert res.table[k]["log_likelihood"][j] == row["log_likelihood"]
    assert 2 in chosen           # the data are two-rate mixtures: K is really chosen


def test_k1_closed_form_events_over_exposure():
    # exact and right-censored rows only: rate = sum v e / sum v (x - t)
    rng = np.random.default_rng(2)
    lows, ups, ws, truth = [], [], [], []
    for t in (0.0, 0.3):
        for weighted in (False, True):
            x = t + rng.exponential(0.7, 300)
            c = t + rng.uniform(0.2, 2.0, 300)
            ev = x < c
            lo = np.minimum(x, c)
            hi = np.where(ev, lo, np.inf)
            v = rng.integers(1, 5, 300).astype(float) if weighted else np.ones(300)
            lows.append(lo)
            ups.append(hi)
            ws.append(v if weighted else None)
            truth.append(np.sum(v * ev) / np.sum(v * (lo - t)))
    ents = [0.0, 0.0, 0.3, 0.3]
    res = fit_many_intervals(lows, ups, 1, sample_weight=ws, entry=ents, tol=0.0,
                             max_iter=200, random_state=0, **ACC)
    np.testing.assert_allclose(res.rates[:, 0], truth, rtol=1e-12)
    np.testing.assert_array_equal(res.weights[:, 0], 1.0)


def test_k1_closed_form_equal_width_bins():
    # bins [i d, (i+1) d), i < N, and [N d, inf): p = e^{-mu d} has the
    # geometric MLE p = A / (A + B), A = sum_i i n_i + N n_open, B = sum_{i<N} n_i
    rng = np.random.default_rng(4)
    lows, ups, ws, truth = [], [], [], []
    for d, N, rate in ((0.1, 25, 1.3), (0.5, 6, 0.4), (0.02, 200, 5.0)):
        edges = np.r_[d * np.arange(N + 1), np.inf]
        cnt = np.histogram(rng.exponential(1 / rate, 2000), edges)[0].astype(float)
        i = np.arange(N + 1)
        A = np.sum(i[:N] * cnt[:N]) + N * cnt[N]
        B = np.sum(cnt[:N])
        truth.append(-np.log(A / (A + B)) / d)
        lows.append(edges[:-1])
        ups.append(edges[1:])
        ws.append(cnt)
    res = fit_many_intervals(lows, ups, 1, sample_weight=ws, tol=0.0, max_iter=500,
                             random_state=0, **ACC)
    np.testing.assert_allclose(res.rates[:, 0], truth, rtol=1e-10)


def test_k2_against_direct_maximization():
    lows, ups, _, _ = scenario("mixed", seed=21, n_sets=2)
    res = fit_many_intervals(lows, ups, 2, random_state=0, n_init=3, **ACC)
    for j in range(2):
        lo, hi = lows[j], ups[j]
        ex, rc = lo == hi, np.isinf(hi)
        iv = ~ex & ~rc
        data = dict(exact=lo[ex], right=lo[rc], lower=lo[iv], upper=hi[iv])
        ll_ref, w_ref, mu_ref = direct_mle(2, np.random.default_rng(j), **data)
        assert res.log_likelihood[j] >= ll_ref - 1e-7 * abs(ll_ref)
        assert res.log_likelihood[j] == pytest.approx(
            loglik_wmu(res.weights[j], res.rates[j], **data), rel=1e-11)
        np.testing.assert_allclose(np.sort(res.rates[j]), np.sort(mu_ref), rtol=1e-4)


def test_thread_count_independent():
    lows, ups, ws, ts = scenario("mixed", seed=13, n_sets=9)
    l2, u2, w2, t2 = scenario("row_entry", seed=14, n_sets=2)
    lows, ups, ws, ts = lows + l2, ups + u2, ws + w2, ts + t2
    outs = [fit_many_intervals(lows, ups, range(1, 3), sample_weight=ws, entry=ts,
                               n_init=2, random_state=5, n_threads=nt, **ACC)
            for nt in (1, 2, 3)]
    for r in outs[1:]:
        for name in ("weights", "rates", "log_likelihood", "bic", "n_iter", "n_components"):
            np.testing.assert_array_equal(getattr(r, name), getattr(outs[0], name))
        np.testing.assert_array_equal(r.status, outs[0].status)


def test_invalid_data_sets_get_a_status():
    lows, ups, ws, _ = scenario("mixed", seed=17, n_sets=2)
    good_l, good_u = lows, ups
    bad = [
        (np.array([1.0, 2.0]), np.array([1.5, 1.0]), "lower[{j}][1] = 2.0 is greater than"),
        (np.array([np.nan, 1.0]), np.array([1.0, 2.0]), "lower[{j}] contains NaN"),
        (np.array([0.5, 1.0]), np.array([np.nan, 2.0]), "upper[{j}] contains NaN"),
        (np.array([-0.5, 1.0]), np.array([1.0, 2.0]), "lower[{j}]"),
        (np.array([0.0]), np.array([np.inf]), "no information"),
        (np.zeros(0), np.zeros(0), "lower[{j}] is empty"),
        (np.array([0.5, 1.0]), np.array([np.inf, np.inf]), "every observation is right-censored"),
    ]
    L = [good_l[0]] + [b[0] for b in bad] + [good_l[1]]
    U = [good_u[0]] + [b[1] for b in bad] + [good_u[1]]
    res = fit_many_intervals(L, U, 2, random_state=3, **ACC)
    ch = children(3, len(L))
    for i, (_, _, msg) in enumerate(bad):
        j = i + 1
        assert res.status[j].startswith("invalid: ")
        assert msg.format(j=j) in res.status[j], res.status[j]
        assert res.n_components[j] == 0
        assert np.all(np.isnan(res.rates[j])) and np.isnan(res.log_likelihood[j])
        with pytest.raises(ValueError):      # the single fit rejects it too
            ExponentialMixture(2).fit_intervals(L[j], U[j])
        with pytest.raises(ValueError, match=r"(lower|upper)\[1\]"):
            fit_many_intervals([L[0], L[j]], [U[0], U[j]], 2, random_state=3, strict=True,
                               **ACC)
    for j in (0, len(L) - 1):               # the neighbours are unaffected
        assert_same_row(res, j, single(2, L[j], U[j], None, None, ch[j], **ACC), 2)
    assert not res.ok[1:-1].any() and res.ok[[0, -1]].all()


def test_invalid_entry_and_too_few_rows():
    lo = [np.array([0.5, 1.0, 2.0]), np.array([0.5, 1.0, 2.0]), np.array([1.0])]
    hi = [np.array([0.6, 1.1, 2.5]), np.array([0.6, 1.1, 2.5]), np.array([1.2])]
    res = fit_many_intervals(lo, hi, 2, entry=[0.0, 0.8, 0.0], random_state=0, **ACC)
    assert res.ok[0]
    assert "entry" in res.status[1] and "lower[1][0]" in res.status[1], res.status[1]
    assert "lower[2] has 1 observations, fewer than the smallest n_components (2)" \
        in res.status[2]
    with pytest.raises(ValueError, match=r"entry.*lower\[1\]\[0\]"):
        fit_many_intervals(lo, hi, 2, entry=[0.0, 0.8, 0.0], strict=True)


def test_argument_errors():
    lo, hi = [np.array([0.5, 1.0])], [np.array([0.6, 1.5])]
    with pytest.raises(ValueError, match="lower and upper must have one entry"):
        fit_many_intervals(lo, hi * 2, 1)
    with pytest.raises(TypeError, match="lower must be a list"):
        fit_many_intervals(np.array([0.5, 1.0]), np.array([0.6, 1.5]), 1)
    with pytest.raises(TypeError, match="both"):
        fit_many_intervals((np.array([0.5, 1.0]), np.array([0, 2])), hi, 1)
    with pytest.raises(ValueError, match="same offsets"):
        fit_many_intervals((np.array([0.5, 1.0]), np.array([0, 2])),
                           (np.array([0.6, 1.5]), np.array([0, 1, 2])), 1)
    with pytest.raises(ValueError, match="sample_weight must be None or a list of 1"):
        fit_many_intervals(lo, hi, 1, sample_weight=[None, None])
    with pytest.raises(ValueError, match="entry must be a finite number"):
        fit_many_intervals(lo, hi, 1, entry=-1.0)
    with pytest.raises(TypeError, match="entry must be a number"):
        fit_many_intervals(lo, hi, 1, entry=True)
    with pytest.raises(ValueError, match="n_components"):
        fit_many_intervals(lo, hi, 0)
    with pytest.raises(TypeError, match="strict"):
        fit_many_intervals(lo, hi, 1, strict="yes")
    with pytest.raises(ValueError, match="acceleration"):
        fit_many_intervals(lo, hi, 1, acceleration="fast")
    with pytest.raises(TypeError, match=r"lower\[0\]"):
        fit_many_intervals([np.array(["a", "b"])], hi, 1)


def test_core_fit_many_data_intervals_argument_errors():
    L = np.array([0.1, 0.2])
    off = np.array([0, 2], np.int64)
    args = (1, None, None, None, None, None, None, None, None, None, None,
            np.zeros(1, np.int64), np.ones(1, np.intc), np.full((1, 1), 1.0),
            np.full((1, 1), 1.0))
    with pytest.raises(ValueError, match="together"):
        _core.fit_many_data(*args, lower=L, interval_off=off)
    with pytest.raises(ValueError, match="length of lower"):
        _core.fit_many_data(*args, lower=L, upper=np.array([0.5]), interval_off=off)
