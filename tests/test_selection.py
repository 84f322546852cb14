"""Choosing K: criteria formulas vs direct computation (responsibilities
from direct formulas for every data kind), BIC recovery of the true K,
level of the bootstrap LRT under the null, reproducibility and
thread-count independence, plotting."""
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

import expmix
from expmix import select_components, select_components_histogram, select_components_intervals
from expmix.observations import from_histogram, from_intervals, from_samples
from expmix.selection import bootstrap_lrt, information_criteria, select_observations
from conftest import draw
from reference import log_joint, loglik_wmu


def _direct_entropy(w, mu, **data):
    lj = log_joint(w, mu, **data)
    lr = lj - logsumexp(lj, axis=1, keepdims=True)
    return -np.sum(np.exp(lr) * lr, axis=1)


@pytest.mark.parametrize("kind", ["exact", "right", "interval", "histogram", "truncated"])
def test_criteria_formulas(kind):
    rng = np.random.default_rng(5)
    x = draw(rng, 1500, [0.4, 0.6], [10.0, 1.0])
    if kind == "exact":
        res = select_components(x, range(1, 4), random_state=0)
        data = dict(exact=x)
        v = np.ones(x.size)
    elif kind == "right":
        ev = x < 2.0
        res = select_components(np.minimum(x, 2.0), range(1, 4), event_observed=ev, random_state=0)
        data = dict(exact=x[ev], right=np.full((~ev).sum(), 2.0))
        v = np.ones(x.size)
    elif kind == "interval":
        lo = np.floor(x * 10) / 10
        res = select_components_intervals(lo, lo + 0.1, range(1, 4), random_state=0)
        pos = lo > -1
        data = dict(lower=lo[pos], upper=lo[pos] + 0.1)
        v = np.ones(x.size)
    elif kind == "histogram":
        edges = np.array([0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, np.inf])
        c = np.histogram(x, edges)[0].astype(float)
        res = select_components_histogram(edges, c, range(1, 4), random_state=0)
        data = dict(lower=edges[:-2], upper=edges[1:-1], right=edges[-2:-1])
        v = c
    else:
        xt = x[x > 0.1]
        res = select_components(xt, range(1, 4), entry=0.1, random_state=0)
        data = dict(exact=xt)
        v = np.ones(xt.size)
    n = v.sum()
    assert res.n == pytest.approx(n)
    for row in res.table:
        K = row["n_components"]
        m = res.models[K]
        p = 2 * K - 1
        ll = row["log_likelihood"]
        full = dict(data)
        if kind == "histogram":
            full.update(interval_w=v[:-1], right_w=v[-1:])
        if kind == "truncated":
            full.update(entry=np.array([0.1]), entry_w=np.array([float(n)]))
        assert ll == pytest.approx(loglik_wmu(m.weights_, m.rates_, **full), rel=1e-11)
        # log_joint orders rows exact, right, interval
        vj = np.concatenate((v[-1:], v[:-1])) if kind == "histogram" else v
        ent = float(np.sum(vj * _direct_entropy(m.weights_, m.rates_, **data)))
        assert row["entropy"] == pytest.approx(ent, rel=1e-9, abs=1e-9)
        assert row["bic"] == pytest.approx(-2 * ll + p * np.log(n), rel=1e-13)
        assert row["aic"] == pytest.approx(-2 * ll + 2 * p, rel=1e-13)
        assert row["aicc"] == pytest.approx(-2 * ll + 2 * p + 2 * p * (p + 1) / (n - p - 1), rel=1e-13)
        assert row["icl"] == pytest.approx(row["bic"] + 2 * ent, rel=1e-12)
        np.testing.assert_array_equal(row["rates"], m.rates_)
    for c in ("bic", "aic", "aicc", "icl"):
        assert res.selected_[c] == min(res.table, key=lambda r: r[c])["n_components"]


def test_icl_exact_matches_predict_proba(rng):
    x = draw(rng, 800, [0.3, 0.7], [30.0, 1.0])
    res = select_components(x, [2], random_state=0)
    m = res.best_
    r = m.predict_proba(x)
    ent = -np.sum(np.where(r > 0, r * np.log(r), 0.0))
    assert res.table[0]["icl"] == pytest.approx(m.bic(x) + 2 * ent, rel=1e-12)


def test_aicc_small_n_and_formula_function():
    c = information_criteria(-10.0, 3, 6.0, entropy=1.5)
    assert c["aicc"] == np.inf                     # n - p - 1 = 0
    c = information_criteria(-10.0, 2, 20.0, entropy=1.5)
    assert c["aicc"] == pytest.approx(20 + 6 + 2 * 3 * 4 / 16)
    assert c["icl"] == pytest.approx(20 + 3 * np.log(20) + 3.0)


TRUE = {1: ([1.0], [1.0]), 2: ([0.5, 0.5], [20.0, 1.0]), 3: ([0.3, 0.4, 0.3], [100.0, 5.0, 0.2])}


@pytest.mark.parametrize("K", [1, 2, 3])
def test_bic_selects_true_k(K):
    w, mu = TRUE[K]
    rng = np.random.default_rng(100 + K)
    hits = 0
    R = 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(R):
            res = select_components(draw(rng, 800, w, mu), range(1, 5), n_init=2, random_state=i)
            hits += res.best_n_components_ == K
    assert hits >= 0.95 * R


def test_lrt_holds_level_under_null():
    """K = 1 data, test 1 vs 2 with 19 replicates: P(p <= 0.05) = 0.05 under
    the null (exactly: the K = 1 null distribution does not depend on the
    rate); 40 seeded data sets, so at most 6 rejections (mean + 3 sd) and the
    mean p-value near that of the discrete uniform (0.525)."""
    rng = np.random.default_rng(2024)
    ps = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(40):
            obs = from_samples(rng.exponential(1.0, 150))
            m1 = expmix.ExponentialMixture(1)._fit(obs)
            m2 = expmix.ExponentialMixture(2, n_init=3, random_state=i, max_iter=300, tol=1e-8)._fit(obs)
            ps.append(bootstrap_lrt(obs, m1, m2, n_bootstrap=19, random_state=i, max_iter=300,
                                    tol=1e-8)["p_value"])
    ps = np.array(ps)
    assert np.sum(ps <= 0.05) <= 6
    assert 0.38 <= ps.mean() <= 0.67


def test_lrt_sequence_power_reproducible_thread_independent():
    rng = np.random.default_rng(9)
    x = draw(rng, 600, [0.5, 0.5], [20.0, 1.0])
    runs = []
    for nt in (1, 2, 2):
        res = select_components(x, range(1, 4), criterion="lrt", n_bootstrap=19, alpha=0.05,
                                random_state=0, n_threads=nt)
        runs.append(res)
    a, b, c = runs
    assert a.best_n_components_ == 2 and a.selected_["lrt"] == 2
    assert a.lrt[0]["p_value"] == pytest.approx(1 / 20)          # 1 vs 2 rejected
    assert a.lrt[1]["p_value"] > 0.05                             # 2 vs 3 not
    assert [s["p_value"] for s in a.lrt] == [s["p_value"] for s in b.lrt] == [s["p_value"] for s in c.lrt]
    for ra, rb in zip(a.table, b.table):
        assert ra["log_likelihood"] == rb["log_likelihood"]
        np.testing.assert_array_equal(ra["rates"], rb["rates"])
    assert a.table[0]["lrt_p_value"] == a.lrt[0]["p_value"]
    assert "LRT 1 vs 2" in str(a)


@pytest.mark.parametrize("kind", ["right", "histogram", "truncated", "interval"])
def test_lrt_other_data_kinds(kind):
    rng = np.random.default_rng(12)
    x = draw(rng, 800, [0.5, 0.5], [20.0, 1.0])
    kw = dict(criterion="lrt", n_bootstrap=19, random_state=0)
    if kind == "right":
        res = select_components(np.minimum(x, 2.0), range(1, 3), event_observed=x < 2.0, **kw)
    elif kind == "histogram":
        edges = np.array([0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, np.inf])
        res = select_components_histogram(edges, np.histogram(x, edges)[0], range(1, 3), **kw)
    elif kind == "truncated":
        res = select_components(x[x > 0.02], range(1, 3), entry=0.02, **kw)
    else:
        lo = np.floor(x * 20) / 20
        res = select_components_intervals(lo, lo + 0.05, range(1, 3), **kw)
    assert res.selected_["lrt"] == 2 and res.best_n_components_ == 2
    assert res.lrt[0]["p_value"] == pytest.approx(1 / 20)
    assert res.lrt[0]["n_valid"] == 19


def test_parallel_candidates_match_sequential(rng):
    x = draw(rng, 3000, [0.3, 0.4, 0.3], [100.0, 5.0, 0.2])
    g1 = select_components(x, range(1, 5), n_init=3, random_state=np.random.default_rng(1), n_threads=1)
    g2 = select_components(x, range(1, 5), n_init=3, random_state=np.random.default_rng(1), n_threads=2)
    for r1, r2 in zip(g1.table, g2.table):
        assert r1["log_likelihood"] == r2["log_likelihood"]
        assert r1["icl"] == r2["icl"]
    assert g2.models[3].n_threads == 2


def test_backward_compatible_fields_and_errors(rng):
    x = draw(rng, 500, [0.5, 0.5], [20.0, 1.0])
    res = select_components(x, range(1, 4), criterion="aic", random_state=0)
    assert isinstance(res, expmix.SelectionResult)
    assert res.criterion == "aic" and res.best_ is res.models[res.best_n_components_]
    assert set(res.table[0]) >= {"n_components", "log_likelihood", "n_parameters", "bic", "aic",
                                 "converged", "status"}
    assert "AICc" in str(res)
    obs = from_samples(x)
    res2 = select_observations(obs, range(1, 4), criterion="aicc", random_state=0)
    assert res2.best_n_components_ == res2.selected_["aicc"]
    skip = select_components(x, [1, 3], criterion="lrt", n_bootstrap=9, random_state=0)
    assert skip.lrt[0]["alternative"] == 3 and skip.selected_["lrt"] in (1, 3)
    with pytest.raises(ValueError, match="criterion"):
        select_components(x, criterion="hqic")
    with pytest.raises(ValueError, match="alpha"):
        select_components(x, criterion="lrt", alpha=1.5)
    with pytest.raises(ValueError, match="n_bootstrap"):
        select_components(x, criterion="lrt", n_bootstrap=0)
    with pytest.raises(TypeError, match="iterable"):
        select_components(x, n_components=3)


def test_plot_agg(rng):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    x = draw(rng, 500, [0.5, 0.5], [20.0, 1.0])
    res = select_components(x, range(1, 4), criterion="lrt", n_bootstrap=9, random_state=0)
    ax = res.plot(criteria=["bic", "aic", "icl", "lrt"])
    labels = [l.get_label() for l in ax.get_lines()]
    assert "BIC" in labels and "ICL" in labels
    ax.figure.canvas.draw()
    ys = [l for l in ax.get_lines() if l.get_label() == "BIC"][0].get_ydata()
    np.testing.assert_allclose(ys, [r["bic"] for r in res.table])
    with pytest.raises(ValueError, match="criterion"):
        res.plot(criteria=["xyz"])
