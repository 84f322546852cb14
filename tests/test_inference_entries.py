"""Bootstrap, simulation, LRT and goodness of fit for data that mix kinds
(exact + right-censored) with an entry time per row -- the dwell-time /
survival case of lifelines' ``entry`` with ``event_observed``.

Independent truths: the K = 1 closed forms (rate = events / exposure, its
Wald SE rate / sqrt(events) and the sandwich SE sqrt(sum (d_i - rate e_i)^2)
/ exposure that the nonparametric bootstrap estimates); censoring
probabilities S(c) / S(t) of the mixture written out with numpy; the
truncated log-likelihood of tests/reference.py maximized by scipy; a
Kaplan--Meier estimate and its distances to the uniform CDF written as plain
loops and a dense grid.  Before this change every test here raised
"the observation set does not record which entry time belongs to which row"
(or refitted from the estimate by EM alone, which stalls: see
test_refit_reaches_the_direct_maximum).
"""
import warnings

import numpy as np
import pytest
from scipy import stats

import expmix
from expmix import ExponentialMixture, goodness_of_fit, select_components
from expmix import inference as inf
from expmix.gof import cvm_statistic, ks_statistic
from expmix.observations import from_samples
from reference import direct_mle_grad, draw_above


def mixed_data(seed, n, w, mu, T=5.0, window=2.0, zero_share=0.0):
    """Entry times U(0, T) (a share of them 0), each row followed for a
    window after its entry: censored at c = t + window."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, T, n)
    t[rng.random(n) < zero_share] = 0.0
    x = draw_above(rng, t, w, mu)
    c = t + window
    ev = x <= c
    return np.minimum(x, c), ev, t


def sf(x, w, mu):
    return np.exp(-np.multiply.outer(x, mu)) @ np.asarray(w)


# ----------------------------------------------------------------------
# nonparametric resampling keeps each row's entry time

def test_resampled_rows_keep_their_entry_times():
    x, ev, t = mixed_data(1, 400, [1.0], [0.7], zero_share=0.2)
    entry_of = dict(zip(x.tolist(), t.tolist()))
    # a value determines its entry time (only rows entering at 0 and censored
    # at the window share a value)
    assert all(entry_of[a] == b for a, b in zip(x.tolist(), t.tolist()))
    obs = from_samples(x, event_observed=ev, entry=t)
    rs = np.random.default_rng(0)
    for _ in range(5):
        r = inf.resample_like(obs, random_state=rs)
        assert r.has_row_entries
        for seg, seg_t, seg_w in ((r.exact, r.exact_t, r.exact_w), (r.right, r.right_t, r.right_w)):
            want = np.array([entry_of[v] for v in seg.tolist()])
            np.testing.assert_array_equal(seg_t, want)
            assert np.all(seg > seg_t) or seg is r.right
        assert set(r.exact.tolist()) <= set(x[ev].tolist())
        assert set(r.right.tolist()) <= set(x[~ev].tolist())
        assert r.exact_w.sum() + r.right_w.sum() == x.size
        # the truncation pairs are the positive entries of the drawn rows, with
        # their multiplicities
        rows_t = np.concatenate((r.exact_t, r.right_t))
        rows_w = np.concatenate((r.exact_w, r.right_w))
        pos = rows_t > 0
        o1, o2 = np.argsort(r.trunc, kind="stable"), np.argsort(rows_t[pos], kind="stable")
        np.testing.assert_array_equal(r.trunc[o1], rows_t[pos][o2])
        np.testing.assert_array_equal(np.sort(r.trunc_w), np.sort(rows_w[pos]))
        assert r.dead_time == 0.0                       # entries of 0 among the rows
    # every row truncated: the replicate's dead time is its smallest entry
    x2, ev2, t2 = mixed_data(4, 400, [1.0], [0.7])
    assert np.all(t2 > 0)
    r = inf.resample_like(from_samples(x2, event_observed=ev2, entry=t2), random_state=3)
    assert r.dead_time == float(np.min(np.concatenate((r.exact_t, r.right_t))))
    assert r.dead_time >= float(np.min(t2))


def test_nonparametric_bootstrap_se_of_k1_matches_closed_form():
    """K = 1 on exact + right-censored rows with per-row entries: the MLE is
    events / exposure; the bootstrap SE estimates the sandwich SE (equal to
    the Wald SE rate / sqrt(events) under the model), within the Monte-Carlo
    error of B replicates: sd(SE_B) ~ SE / sqrt(2 (B - 1))."""
    x, ev, t = mixed_data(2, 2000, [1.0], [0.7])
    m = ExponentialMixture(1, n_threads=1).fit(x, event_observed=ev, entry=t)
    d = ev.astype(float)
    e = x - t
    rate = d.sum() / e.sum()
    assert m.rates_[0] == pytest.approx(rate, rel=1e-10)
    wald = rate / np.sqrt(d.sum())
    sandwich = np.sqrt(np.sum((d - rate * e) ** 2)) / e.sum()
    assert m.standard_errors_.rates[0] == pytest.approx(wald, rel=1e-8)
    assert sandwich == pytest.approx(wald, rel=0.05)         # the model holds
    B = 400
    b = m.bootstrap(B, random_state=7)
    assert b.n_failed == 0
    mc = sandwich / np.sqrt(2 * (B - 1))
    se_b = b.standard_errors()["rates"][0]
    assert abs(se_b - sandwich) <= 4 * mc, (se_b, sandwich, mc)
    # the replicates are centred on the estimate (entries kept: a replicate
    # measured from 0 instead would have a rate ~ 3 times smaller)
    assert abs(np.mean(b.rates[:, 0]) - rate) <= 4 * sandwich / np.sqrt(B)
    # percentile and BCa intervals exist and contain the estimate
    for kind in ("percentile", "bca"):
        ci = b.confint(0.9, kind=kind).rates[0]
        assert ci[0] < rate < ci[1]
    ci = m.confint(0.9, method="bootstrap", n_bootstrap=50, random_state=1)
    assert ci.rates[0, 0] < rate < ci.rates[0, 1]


# ----------------------------------------------------------------------
# parametric simulation reproduces the scheme

@pytest.mark.parametrize("design", ["window", "study end"])
def test_simulation_draws_above_entry_and_censors_as_the_data(design):
    """Window design: every row followed for L after its entry (c = t + L);
    study-end design: every row followed to a common time E.  A simulated
    row is above its entry, a censored one at its design censoring time; the
    number censored over R replicates is a sum of independent Bernoulli
    variables with p_i = S(c_i) / S(t_i)."""
    w, mu = np.array([0.4, 0.6]), np.array([3.0, 0.5])
    rng = np.random.default_rng(5)
    n = 600
    t = rng.uniform(0.0, 4.0, n)
    x = draw_above(rng, t, w, mu)
    c = t + 1.5 if design == "window" else np.full(n, 5.0)
    ev = x <= c
    xc = np.minimum(x, c)
    obs = from_samples(xc, event_observed=ev, entry=t)
    p = sf(c, w, mu) / sf(t, w, mu)
    R = 150
    g = np.random.default_rng(11)
    n_cens = 0
    entries = np.sort(t)
    excess_sum, n_ex = 0.0, 0
    for _ in range(R):
        s = inf.simulate_like(obs, w, mu, random_state=g)
        assert s.has_row_entries and s.n_obs == n
        np.testing.assert_array_equal(np.sort(np.concatenate((s.exact_t, s.right_t))), entries)
        assert np.all(s.exact > s.exact_t)
        if design == "window":
            np.testing.assert_allclose(s.right - s.right_t, 1.5, rtol=0, atol=1e-12)
            assert np.all(s.exact - s.exact_t <= 1.5 + 1e-12)
        else:
            assert np.all(s.right == 5.0) and np.all(s.exact <= 5.0)
        np.testing.assert_array_equal(np.sort(s.trunc), entries)
        assert s.dead_time == entries[0]
        n_cens += s.right.size
        excess_sum += float(np.sum(s.exact - s.exact_t))
        n_ex += s.exact.size
    mean, var = R * p.sum(), R * np.sum(p * (1 - p))
    assert abs(n_cens - mean) <= 4 * np.sqrt(var), (n_cens, mean, np.sqrt(var))


def test_simulated_excess_of_k1_has_the_truncated_exponential_mean():
    """K = 1, window L: an uncensored simulated row has excess
    Exp(mu) | < L, mean 1/mu - L e^{-mu L} / (1 - e^{-mu L})."""
    mu, L = 0.8, 2.0
    x, ev, t = mixed_data(8, 800, [1.0], [mu], window=L)
    obs = from_samples(x, event_observed=ev, entry=t)
    g = np.random.default_rng(2)
    ex = np.concatenate([(s.exact - s.exact_t) for s in
                         (inf.simulate_like(obs, [1.0], [mu], random_state=g) for _ in range(40))])
    q = np.exp(-mu * L)
    mean = 1 / mu - L * q / (1 - q)
    second = 2 / mu ** 2 - (L * L + 2 * L / mu) * q / (1 - q)
    sd = np.sqrt(second - mean ** 2)
    assert abs(ex.mean() - mean) <= 4 * sd / np.sqrt(ex.size)


def test_parametric_bootstrap_se_of_k1_matches_wald():
    x, ev, t = mixed_data(3, 1500, [1.0], [0.7])
    m = ExponentialMixture(1, n_threads=1).fit(x, event_observed=ev, entry=t)
    wald = m.standard_errors_.rates[0]
    B = 300
    b = m.bootstrap(B, method="parametric", random_state=4)
    # the parametric bootstrap SE estimates the SE of events / exposure under
    # the fitted model; the Wald SE is its large-sample value
    assert abs(b.standard_errors()["rates"][0] - wald) <= 4 * wald / np.sqrt(2 * (B - 1)) + 0.03 * wald


# ----------------------------------------------------------------------
# refits reach the maximum (far entry times)

def test_refit_reaches_the_direct_maximum():
    """Entry times far in the tail (t = 60 U^2, K = 2, windows of 6): each
    refit of a replicate reaches the maximum of its truncated likelihood
    found by scipy.optimize from random starts.  EM alone from the estimate
    (the refit before) stopped far below it."""
    K, w, mu = 2, np.array([0.5, 0.5]), np.array([2.0, 0.4])
    rng = np.random.default_rng(1001)
    n = 800
    t = 60.0 * rng.random(n) ** 2
    x = draw_above(rng, t, w, mu)
    c = t + 6.0
    ev = x <= c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ExponentialMixture(K, n_threads=1, random_state=0).fit(np.minimum(x, c),
                                                                   event_observed=ev, entry=t)
    g = np.random.default_rng(3)
    reps = [inf.simulate_like(m._obs, m.weights_, m.rates_, random_state=g),
            inf.resample_like(m._obs, random_state=g)]
    new = inf.fit_many(reps, K, [(m.weights_, m.rates_)], n_threads=1)
    old = inf.fit_many(reps, K, [(m.weights_, m.rates_)], n_threads=1, fresh_starts=False,
                       like_fit=False)
    for i, d in enumerate(reps):
        data = dict(exact=d.exact, exact_w=d.exact_w, right=d.right, right_w=d.right_w,
                    entry=d.trunc, entry_w=d.trunc_w)
        ll_d, _, mu_d = direct_mle_grad(K, np.random.default_rng(i), n_starts=6,
                                        scale=float(np.mean(d.exact - d.exact_t)), **data)
        W = d.total_weight
        assert new["loglik"][i] >= ll_d - 1e-8 * W, (new["loglik"][i], ll_d)
        np.testing.assert_allclose(new["mu"][i], np.sort(mu_d)[::-1], rtol=1e-4)
        assert old["loglik"][i] < ll_d - 1e-7 * W      # EM alone stalled (SQUAREM: 1e-4 W short, Anderson 1e-6 W)


# ----------------------------------------------------------------------
# the LRT and goodness of fit run and behave

def test_lrt_on_mixed_kinds_with_entries():
    """Under K = 1 the bootstrap LRT p-value is not small; for a clear K = 2
    it is the smallest possible, 1 / (B + 1)."""
    B = 9
    ps = []
    for seed in (21, 22, 23):
        x, ev, t = mixed_data(seed, 250, [1.0], [0.7])
        res = select_components(x, [1, 2], criterion="lrt", event_observed=ev, entry=t,
                                n_bootstrap=B, lrt_random_state=seed, n_threads=1,
                                random_state=0)
        step = res.lrt[0]
        assert step["n_valid"] == B
        ps.append(step["p_value"])
    assert min(ps) > 1.0 / (B + 1) and np.mean(ps) > 0.2, ps
    # (entries below 0.2: the fast component stays visible above them)
    x, ev, t = mixed_data(24, 250, [0.5, 0.5], [8.0, 0.4], T=0.2, window=3.0)
    res = select_components(x, [1, 2], criterion="lrt", event_observed=ev, entry=t,
                            n_bootstrap=B, lrt_random_state=1, n_threads=1, random_state=0)
    assert res.lrt[0]["p_value"] == pytest.approx(1.0 / (B + 1))
    assert res.lrt[0]["statistic"] > 20


def km_reference(u, v, ev):
    """Kaplan--Meier by a plain loop over the distinct values, its distances
    to the uniform CDF on a dense grid (plus the knots) and by quadrature."""
    order = np.argsort(u)
    u, v, ev = u[order], v[order], ev[order]
    times, G = [0.0], [0.0]
    S = 1.0
    for z in np.unique(u):
        at = v[u >= z].sum()
        d = v[(u == z) & ev].sum()
        if d > 0:
            S *= 1 - d / at
            times.append(z)
            G.append(1 - S)
    times, G = np.array(times), np.array(G)
    end = 1.0 if G[-1] >= 1 - 1e-15 else u.max()
    grid = np.unique(np.concatenate((np.linspace(0, end, 400001), times)))
    lev = G[np.searchsorted(times, grid, side="right") - 1]
    left = G[np.maximum(np.searchsorted(times, grid, side="left") - 1, 0)]
    D = max(np.max(np.abs(lev - grid)), np.max(np.abs(left - grid)))
    W2 = v.sum() * np.trapezoid((lev - grid) ** 2, grid)
    return D, W2


def test_km_statistics_against_a_direct_kaplan_meier():
    from expmix.gof import km_statistics
    rng = np.random.default_rng(9)
    u = rng.random(300) ** 1.3
    v = rng.integers(1, 4, 300).astype(float)
    ev = rng.random(300) < 0.7
    u[:10] = u[10:20]                         # ties between events and censorings
    D, W2 = km_statistics(u, v, ev)
    Dr, W2r = km_reference(u, v, ev)
    assert D == pytest.approx(Dr, rel=1e-9)
    assert W2 == pytest.approx(W2r, rel=1e-4)
    ev[np.argmax(u)] = True                   # the KM reaches 1: integrate to 1
    D, W2 = km_statistics(u, v, ev)
    Dr, W2r = km_reference(u, v, ev)
    assert D == pytest.approx(Dr, rel=1e-9) and W2 == pytest.approx(W2r, rel=1e-4)
    # no censoring: the EDF statistics
    s = np.sort(u)
    one = np.ones(u.size)
    assert km_statistics(u, one, np.ones(u.size, bool))[0] == pytest.approx(ks_statistic(s, one),
                                                                           rel=1e-12)
    assert km_statistics(u, one, np.ones(u.size, bool))[1] == pytest.approx(cvm_statistic(s, one),
                                                                           rel=1e-10)


def test_gof_with_per_row_entries():
    """Exact rows with per-row entries: the KS distance is scipy's for the
    PIT u_i = 1 - S(x_i) / S(t_i); with censoring the p-values are not small
    for the right K and the smallest possible for a wrong one."""
    rng = np.random.default_rng(12)
    t = rng.uniform(0, 3, 500)
    x = draw_above(rng, t, [0.5, 0.5], [6.0, 0.5])
    m = ExponentialMixture(2, n_threads=1, random_state=0).fit(x, entry=t)
    g = goodness_of_fit(m, n_bootstrap=19, random_state=0)
    u = 1 - m.sf(x) / m.sf(t)
    assert g.kind == "exact"
    assert g.ks == pytest.approx(stats.kstest(u, "uniform").statistic, rel=1e-9)
    assert g.cvm == pytest.approx(stats.cramervonmises(u, "uniform").statistic, rel=1e-8)
    B = 19
    ps = []
    for seed in (31, 32):
        x, ev, t = mixed_data(seed, 400, [1.0], [0.7])
        m = ExponentialMixture(1, n_threads=1).fit(x, event_observed=ev, entry=t)
        g = goodness_of_fit(m, n_bootstrap=B, random_state=seed)
        assert g.kind == "censored" and g.n_valid == B
        ps += [g.ks_p_value, g.cvm_p_value]
    assert min(ps) > 1.0 / (B + 1), ps
    x, ev, t = mixed_data(33, 600, [0.5, 0.5], [8.0, 0.4], T=0.2, window=3.0)
    wrong = ExponentialMixture(1, n_threads=1).fit(x, event_observed=ev, entry=t)
    g = goodness_of_fit(wrong, n_bootstrap=B, random_state=1)
    assert g.ks_p_value == pytest.approx(1 / (B + 1)) and g.cvm_p_value == pytest.approx(1 / (B + 1))
    assert "censored data" in str(g)


def test_results_do_not_depend_on_threads():
    x, ev, t = mixed_data(41, 300, [0.5, 0.5], [4.0, 0.5])
    m = ExponentialMixture(2, random_state=0, n_threads=1).fit(x, event_observed=ev, entry=t)
    out = []
    for nt in (1, 2):
        m.n_threads = nt
        b = m.bootstrap(8, method="parametric", random_state=3)
        out.append(b.rates)
    np.testing.assert_array_equal(out[0], out[1])


def test_bootstrap_of_exact_censored_and_binned_rows_with_entries():
    """fit_intervals with exact, right-censored and interval rows, each with
    its entry time: replicates keep the rows' entries, simulated intervals
    lie above their entry, and both bootstraps run."""
    from expmix.observations import from_intervals
    rng = np.random.default_rng(51)
    n = 600
    t = rng.uniform(0, 3, n)
    x = draw_above(rng, t, [0.5, 0.5], [3.0, 0.5])
    kind = rng.integers(0, 3, n)
    lo, hi = x.copy(), x.copy()
    c = t + 2.0
    cens = (kind == 1) & (x > c)
    lo[cens], hi[cens] = c[cens], np.inf
    b = kind == 2
    lo[b] = t[b] + np.floor((x[b] - t[b]) / 0.5) * 0.5
    hi[b] = lo[b] + 0.5
    obs = from_intervals(lo, hi, entry=t)
    w, mu = np.array([0.5, 0.5]), np.array([3.0, 0.5])
    s = inf.simulate_like(obs, w, mu, random_state=0)
    assert s.has_row_entries
    assert np.all(s.exact > s.exact_t) and np.all(s.right >= s.right_t)
    assert np.all(s.lower >= s.interval_t)
    np.testing.assert_array_equal(np.sort(np.concatenate((s.exact_t, s.right_t, s.interval_t))),
                                  np.sort(t))
    r = inf.resample_like(obs, random_state=0)
    assert r.has_row_entries
    m = ExponentialMixture(2, n_threads=1, random_state=0).fit_intervals(lo, hi, entry=t)
    for method in ("nonparametric", "parametric"):
        bt = m.bootstrap(6, method=method, random_state=2)
        assert bt.n_failed == 0 and np.all(np.isfinite(bt.rates))
