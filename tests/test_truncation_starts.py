"""Starting points for per-observation entry times far in the tail (issue 3).

When the entry times lie many mean lifetimes into the tail, the values x sit
near their entry times and starts read from x have the wrong scale; before
the excess starts, K = 3 with t = 60 U^2 ended at a 2-component stationary
point reported as converged.  Independent truths: the truncated
log-likelihood written directly (tests/reference.py) maximized by
scipy.optimize from many starts and from the true parameters; the excess
pseudo-values computed directly from the inputs.
"""
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

from expmix import ExponentialMixture, select_components
from expmix._init import EXCESS_SEED, excess_of, excess_starts, kmeans_init, quantile_init
from expmix.observations import from_intervals, from_samples, rescaled
from reference import direct_mle_grad, draw_above, loglik, loglik_and_grad, theta_of

W3, MU3 = [0.3, 0.4, 0.3], [6.0, 1.0, 0.15]
W2, MU2 = [0.5, 0.5], [2.0, 0.4]


def far_data(seed, T, K, n=None):
    w, mu = (W3, MU3) if K == 3 else (W2, MU2)
    n = n or (2500 if K == 3 else 1500)
    rng = np.random.default_rng(seed)
    t = T * rng.random(n) ** 2
    return draw_above(rng, t, w, mu), t, w, mu


def direct_optimum(K, w_true, mu_true, seed, **data):
    """The maximum of the truncated likelihood by scipy: the best of 4
    random L-BFGS/BFGS starts and one from the true parameters.
    Returns (loglik, weights, rates) with the rates decreasing."""
    ll, w, mu = direct_mle_grad(K, np.random.default_rng(seed), n_starts=4,
                                scale=float(np.mean(data["exact"])), **data)

    def f(th):
        v, g = loglik_and_grad(th, K, **data)
        return -v, -g

    with np.errstate(all="ignore"):
        r = minimize(f, theta_of(w_true, mu_true), jac=True, method="L-BFGS-B",
                     options=dict(maxiter=5000, ftol=1e-15, gtol=1e-10))
        r = minimize(f, r.x, jac=True, method="BFGS", options=dict(maxiter=500, gtol=1e-9))
    if -r.fun > ll:
        lw = np.concatenate(([0.0], r.x[:K - 1]))
        w = np.exp(lw - lw.max())
        ll, w, mu = -r.fun, w / w.sum(), np.exp(r.x[K - 1:])
    order = np.argsort(-mu)
    return ll, w[order], mu[order]


def check_against_direct(m, K, w_true, mu_true, seed, **data):
    W = m.total_weight_
    ll_d, w_d, mu_d = direct_optimum(K, w_true, mu_true, seed, **data)
    ll_m = loglik(theta_of(m.weights_, m.rates_), K, **data)
    assert m.log_likelihood_ == pytest.approx(ll_m, rel=1e-11)
    assert abs(ll_m / W - ll_d / W) <= 1e-7, (ll_m / W, ll_d / W, m.rates_, mu_d)
    np.testing.assert_allclose(m.rates_, mu_d, rtol=1e-4)
    np.testing.assert_allclose(m.weights_, w_d, rtol=1e-4, atol=1e-6)
    _, g = loglik_and_grad(theta_of(m.weights_, m.rates_), K, **data)
    assert np.max(np.abs(g)) / W < 1e-7


def fit(K, *args, method="fit", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # no ConvergenceWarning
        m = ExponentialMixture(K, n_threads=1, random_state=0, **kw)
        return getattr(m, method)(*args[:-1], entry=args[-1])


# ----------------------------------------------------------------------
# the fit reaches the truncated-data MLE

@pytest.mark.parametrize("K, T, seed", [(3, 60.0, 101), (3, 60.0, 102), (3, 200.0, 102),
                                        (2, 60.0, 7), (2, 200.0, 8)])
def test_far_entries_reach_the_direct_maximum(K, T, seed):
    """(3, 60, 101), (3, 60, 102) and (3, 200, 102) ended 3e-3 per
    observation below the maximum, at a stationary point with two equal
    rates, before the excess starts."""
    x, t, w, mu = far_data(seed, T, K)
    m = fit(K, x, t)
    assert m.converged_
    check_against_direct(m, K, w, mu, seed, exact=x, entry=t)


def test_far_entries_with_censored_and_binned_rows():
    """Exact, right-censored (a window c above each entry) and binned rows,
    each with its entry time, t = 60 U^2, K = 3."""
    rng = np.random.default_rng(31)
    n = 3000
    t = 60.0 * rng.random(n) ** 2
    x = draw_above(rng, t, W3, MU3)
    kind = rng.integers(0, 3, n)
    lo, hi = x.copy(), x.copy()
    c = t + rng.uniform(2.0, 12.0, n)
    cens = (kind == 1) & (x > c)
    lo[cens], hi[cens] = c[cens], np.inf
    b = kind == 2
    lo[b] = t[b] + np.floor((x[b] - t[b]) / 0.2) * 0.2
    hi[b] = lo[b] + 0.2
    m = fit(3, lo, hi, t, method="fit_intervals")
    assert m.converged_
    ex, rt = lo == hi, np.isinf(hi)
    iv = ~ex & ~rt
    check_against_direct(m, 3, W3, MU3, 5, exact=lo[ex], right=lo[rt], lower=lo[iv],
                         upper=hi[iv], entry=t)


def test_far_entries_right_censored_samples():
    """fit(X, event_observed, entry): censoring times c_i - t_i enter the
    excess starts as censored pseudo-values, t = 200 U^2, K = 2."""
    rng = np.random.default_rng(41)
    n = 2000
    t = 200.0 * rng.random(n) ** 2
    x = draw_above(rng, t, W2, MU2)
    c = t + rng.uniform(1.0, 8.0, n)
    ev = x <= c
    xc = np.minimum(x, c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = ExponentialMixture(2, n_threads=1).fit(xc, event_observed=ev, entry=t)
    assert m.converged_
    check_against_direct(m, 2, W2, MU2, 6, exact=xc[ev], right=xc[~ev], entry=t)


def test_select_components_reaches_the_direct_maximum():
    x, t, w, mu = far_data(101, 60.0, 3)
    res = select_components(x, n_components=[2, 3], entry=t, n_threads=1, random_state=0)
    check_against_direct(res.models[3], 3, w, mu, 3, exact=x, entry=t)


def test_dask_reaches_the_same_maximum():
    """The dask path builds the same starts from the chunks (it had only the
    data-driven ones before) and reaches the same optimum."""
    pytest.importorskip("dask.array", reason="dask[array] is not installed")
    pytest.importorskip("distributed", reason="distributed is not installed")
    import dask.array as da
    import expmix.dask as ed
    x, t, w, mu = far_data(102, 60.0, 3)
    m = fit(3, x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dm = ed.DaskExponentialMixture(3).fit(da.from_array(x, chunks=700),
                                              entry=da.from_array(t, chunks=900))
    assert dm.converged_
    np.testing.assert_allclose(dm.rates_, m.rates_, rtol=1e-9)
    np.testing.assert_allclose(dm.weights_, m.weights_, rtol=1e-9)
    assert len(dm.restarts_) == len(m.restarts_) == 4
    # (the first, quantile start of x differs in the last bits: in memory the
    # smallest entry time is taken out as a dead time first, see fit)
    for a, b in zip(dm.restarts_[1:], m.restarts_[1:]):   # the same extra starts
        np.testing.assert_allclose(a["start"][1], b["start"][1], rtol=1e-12)
        np.testing.assert_allclose(a["start"][0], b["start"][0], rtol=1e-12)
    check_against_direct(dm, 3, w, mu, 4, exact=x, entry=t)


# ----------------------------------------------------------------------
# the starts themselves

def test_excess_pseudo_values_are_the_excess_of_each_row():
    """x - t, c - t and the midpoint minus t, in the order exact, right,
    interval, through the dead-time shift and the power-of-two rescaling."""
    rng = np.random.default_rng(3)
    n = 400
    t = rng.uniform(0.5, 50.0, n)
    lo = t + rng.exponential(1.0, n)
    hi = lo.copy()
    kind = rng.integers(0, 3, n)
    hi[kind == 1] = np.inf
    hi[kind == 2] = lo[kind == 2] + rng.uniform(0.1, 1.0, int(np.sum(kind == 2)))
    v = rng.uniform(0.5, 2.0, n)
    obs = from_intervals(lo, hi, sample_weight=v, entry=t)
    ex, rc = lo == hi, np.isinf(hi)
    iv = ~ex & ~rc
    want = np.concatenate((lo[ex] - t[ex], lo[rc] - t[rc], 0.5 * (lo[iv] + hi[iv]) - t[iv]))
    want_w = np.concatenate((v[ex], v[rc], v[iv]))
    got, got_w = obs.excess_pseudo_values()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got_w, want_w)
    # every row truncated: the fit shifts by the smallest entry time first
    assert obs.dead_time == float(np.min(t))
    got_s, _ = obs.shifted().excess_pseudo_values()
    np.testing.assert_allclose(got_s, want, rtol=0, atol=1e-12)
    got_r, _ = rescaled(obs, 2.0 ** 300).excess_pseudo_values()
    np.testing.assert_allclose(got_r, want * 2.0 ** -300, rtol=1e-12)
    got_rs, _ = rescaled(obs.shifted(), 2.0 ** -300).excess_pseudo_values()
    np.testing.assert_allclose(got_rs, want * 2.0 ** 300, rtol=0, atol=1e-12 * 2.0 ** 300)
    # the weight of the rows ending in an event (exact and interval rows)
    assert excess_of(obs)[2] == pytest.approx(float(np.sum(v[~rc])), rel=1e-13)
    # samples with censoring, unweighted (weights None)
    e = rng.random(n) < 0.7
    o2 = from_samples(lo, event_observed=e, entry=t)
    g2, w2 = o2.excess_pseudo_values()
    assert w2 is None
    np.testing.assert_allclose(g2, np.concatenate((lo[e] - t[e], lo[~e] - t[~e])), atol=1e-12)
    # no per-observation entry times: nothing recorded
    assert from_samples(lo).excess_pseudo_values() is None
    assert from_samples(lo, entry=0.4).excess_pseudo_values() is None


def test_excess_starts_closed_form_and_scale():
    """Start 1 is spread around events / exposure (the K = 1 truncated MLE of
    exact and right-censored rows); start 2 refines the quantile start of the
    excess (written out with numpy here); start 3 is the k-means++ start of
    the excess with the fixed seed."""
    x, t, _, _ = far_data(101, 60.0, 3)
    c = t + 3.0
    ev = x <= c
    xc = np.minimum(x, c)
    obs = from_samples(xc, event_observed=ev, entry=t)
    v, wt, events = excess_of(obs)
    starts = excess_starts(v, wt, events, 3)
    assert len(starts) == 3
    mu1 = ev.sum() / np.sum(xc - t)
    np.testing.assert_allclose(starts[0][1], mu1 * np.exp([1.5, 0.0, -1.5]), rtol=1e-12)
    np.testing.assert_allclose(starts[0][0], np.full(3, 1 / 3))
    # the quantile start of the excess, written out with numpy: cuts at the
    # exact quantiles k/3, rates 1 / group mean, weights the group shares +
    # 1e-3 / K, normalised
    e = np.sort(np.where(ev, x, c) - t)
    cuts = [e[int(np.ceil(e.size * k / 3)) - 1] for k in (1, 2)]
    groups = np.split(e, np.searchsorted(e, cuts, side="right"))
    g_w = np.array([g.size / e.size + 1e-3 / 3 for g in groups])
    wq, muq = quantile_init(v, wt, 3)
    np.testing.assert_allclose(muq, [1 / g.mean() for g in groups], rtol=1e-12)
    np.testing.assert_allclose(wq, g_w / g_w.sum(), rtol=1e-12)
    # Lloyd on log(excess) from it ends at K cells of the log-excess, i.e.
    # contiguous blocks of the sorted excess: sizes from the weights
    # (count + 1e-3/K, normalised), rates the inverse block means
    w2, mu2 = starts[1]
    o = np.argsort(-mu2)
    sizes = np.rint(w2[o] * (e.size + 1e-3) - 1e-3 / 3).astype(int)
    assert sizes.sum() == e.size and np.all(sizes > 0)
    blocks = np.split(e, np.cumsum(sizes)[:-1])
    np.testing.assert_allclose(1 / mu2[o], [b.mean() for b in blocks], rtol=1e-12)
    assert not np.allclose(np.sort(mu2), np.sort(muq), rtol=1e-3)     # it moved
    # the k-means++ start of the excess, from the fixed seed
    wk, muk = kmeans_init(v, np.ones_like(v), 3, np.random.default_rng(EXCESS_SEED))
    np.testing.assert_array_equal(starts[2][0], wk)
    np.testing.assert_array_equal(starts[2][1], muk)
    for w, mu in starts:
        assert np.isclose(w.sum(), 1.0) and np.all(mu > 0)
    # unit weights are no weights (also above the 20,000-value subsample)
    big = np.random.default_rng(2).exponential(1.0, 30000)
    for vv in (v, big):
        s1 = excess_starts(vv, None, vv.size, 3)
        s2 = excess_starts(vv, np.ones_like(vv), vv.size, 3)
        assert len(s1) == len(s2) == 3
        for a, b in zip(s1, s2):
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])


def test_extra_starts_only_with_per_observation_entries():
    """Three extra starts with per-observation entry times (K >= 2, no user
    start); none for untruncated data, a dead time, K = 1 or a user start."""
    x, t, _, _ = far_data(102, 60.0, 2, n=600)
    for n_init in (1, 3):
        m = ExponentialMixture(2, n_init=n_init, random_state=1, n_threads=1).fit(x, entry=t)
        assert len(m.restarts_) == n_init + 3
        m = ExponentialMixture(2, n_init=n_init, random_state=1, n_threads=1).fit(x - t)
        assert len(m.restarts_) == n_init
        m = ExponentialMixture(2, n_init=n_init, random_state=1,
                               n_threads=1).fit(x[x > 1.0], entry=1.0)
        assert len(m.restarts_) == n_init
    assert len(ExponentialMixture(1, n_threads=1).fit(x, entry=t).restarts_) == 1
    m = ExponentialMixture(2, rates_init=[2.0, 0.4], weights_init=[0.5, 0.5],
                           n_threads=1).fit(x, entry=t)
    assert len(m.restarts_) == 1


def test_restarts_draw_from_the_excess_and_are_reproducible():
    """With per-observation entries the k-means restarts read the excess
    (their rates have its scale); the same random_state gives the same fit,
    bit for bit, for any thread count."""
    x, t, _, _ = far_data(102, 200.0, 3, n=1200)
    fits = [ExponentialMixture(3, n_init=3, random_state=5, n_threads=nt).fit(x, entry=t)
            for nt in (1, 2, 1)]
    for m in fits[1:]:
        np.testing.assert_array_equal(m.rates_, fits[0].rates_)
        np.testing.assert_array_equal(m.weights_, fits[0].weights_)
        for a, b in zip(m.restarts_, fits[0].restarts_):
            np.testing.assert_array_equal(a["start"][1], b["start"][1])
    # restarts 1 and 2 (k-means): at the scale of the excess (mean ~ 2), not of
    # x (mean ~ 70): a rate below 1 / max(x - t) would mean they read x
    for r in fits[0].restarts_[1:3]:
        assert np.min(r["start"][1]) > 1.0 / np.max(x - t)
        assert np.max(r["start"][1]) > 1.0
