"""Plots: rendered to PNG with the Agg backend; curve data checked against the model."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import expmix  # noqa: E402
from expmix import ExponentialMixture  # noqa: E402
from expmix.plotting import kaplan_meier, log_bin_edges, plot_criteria  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def data(rng):
    n = 5000
    lab = rng.random(n) < 0.5
    x = np.where(lab, rng.exponential(0.01, n), rng.exponential(1.0, n))
    m = ExponentialMixture(2, n_init=2, random_state=0).fit(x)
    return m, x


def _png_ok(fig, path):
    fig.savefig(path, dpi=80)
    assert path.stat().st_size > 8000
    img = plt.imread(path)
    assert img.shape[0] > 200 and img.shape[1] > 300
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert colours.shape[0] > 50                     # not blank, not a single colour
    # drawn pixels (not the white background) spread over the canvas
    ink = np.any(img[..., :3] < 0.9, axis=2)
    assert ink.mean() > 0.02
    rows, cols = np.nonzero(ink)
    assert np.ptp(rows) > img.shape[0] / 2 and np.ptp(cols) > img.shape[1] / 2


def _line(ax, label):
    found = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(found) == 1, [ln.get_label() for ln in ax.get_lines()]
    return np.asarray(found[0].get_xdata(), float), np.asarray(found[0].get_ydata(), float)


def test_sigworth_sine_histogram(data, tmp_path):
    m, x = data
    ax = m.plot(x)
    _png_ok(ax.figure, tmp_path / "hist.png")
    assert ax.get_xscale() == "log"
    # the histogram: sqrt of counts in 10-per-decade log bins
    edges = log_bin_edges(x, 10)
    np.testing.assert_allclose(np.diff(np.log10(edges)), 0.1, rtol=1e-9)
    counts, _ = np.histogram(x, edges)
    stairs = [p for p in ax.patches if p.get_label() == "data"][0]
    np.testing.assert_array_equal(stairs.get_data().values, np.sqrt(counts))
    np.testing.assert_array_equal(stairs.get_data().edges, edges)
    # curves: expected counts per bin n d x p(x), written out independently
    d = 0.1 * np.log(10)
    gx, gy = _line(ax, "mixture")
    dens = sum(w * mu * np.exp(-mu * gx) for w, mu in zip(m.weights_, m.rates_))
    np.testing.assert_allclose(gy, np.sqrt(x.size * d * gx * dens), rtol=1e-12)
    for k, (w, mu) in enumerate(zip(m.weights_, m.rates_)):
        cx, cy = _line(ax, f"component {k} (mean {1 / mu:.3g})")
        np.testing.assert_allclose(cy, np.sqrt(x.size * d * cx * w * mu * np.exp(-mu * cx)),
                                   rtol=1e-12)
        # each hump peaks at the component mean (Sigworth & Sine)
        assert cx[np.argmax(cy)] == pytest.approx(1 / mu, rel=0.03)
    # the curve is the exact expected bin count to first order: compare to the
    # bin probabilities n (F(b) - F(a)) at the bin centres
    centres = np.sqrt(edges[:-1] * edges[1:])
    expected = x.size * (m.cdf(edges[1:]) - m.cdf(edges[:-1]))
    approx = x.size * d * centres * m.pdf(centres)
    big = expected > 20
    np.testing.assert_allclose(approx[big], expected[big], rtol=0.02)   # 2nd-order term
    # and the data agree with it (chi-square-ish: sqrt counts within ~4 noise units of 1/2)
    assert np.max(np.abs(np.sqrt(counts[big]) - np.sqrt(expected[big]))) < 2.5


def test_histogram_options(data, tmp_path):
    m, x = data
    fig, ax = plt.subplots()
    out = m.plot(x, ax=ax, bins=np.geomspace(1e-4, 20, 41), components=False, sqrt=False)
    assert out is ax
    assert [ln.get_label() for ln in ax.get_lines()] == ["mixture"]
    gx, gy = _line(ax, "mixture")
    d = np.log(20 / 1e-4) / 40
    np.testing.assert_allclose(gy, x.size * d * gx * m.pdf(gx), rtol=1e-12)
    _png_ok(fig, tmp_path / "h2.png")
    ax2 = m.plot()                         # curves only, scaled to the fitted weight
    gx, gy = _line(ax2, "mixture")
    np.testing.assert_allclose(gy, np.sqrt(m.total_weight_ * 0.1 * np.log(10) * gx * m.pdf(gx)))
    with pytest.raises(ValueError, match="bins"):
        m.plot(x, bins=[1.0, 0.5])
    with pytest.raises(expmix.NotFittedError):
        ExponentialMixture().plot(x)


def test_kaplan_meier_matches_hand_computation():
    # textbook example: times 1,2,2,3,4,5 with censoring at 2 (one of the ties) and 4
    t = [1, 2, 2, 3, 4, 5]
    e = [1, 1, 0, 1, 0, 1]
    times, s = kaplan_meier(t, e)
    np.testing.assert_array_equal(times, [1, 2, 3, 5])
    expect = np.cumprod([1 - 1 / 6, 1 - 1 / 5, 1 - 1 / 3, 1 - 1 / 1])
    np.testing.assert_allclose(s, expect, rtol=1e-15)


def test_kaplan_meier_without_censoring_is_one_minus_ecdf(rng):
    x = np.round(rng.exponential(1.0, 300), 1)     # with ties
    times, s = kaplan_meier(x)
    np.testing.assert_allclose(s, [np.mean(x > u) for u in times], rtol=1e-12, atol=1e-15)


def test_survival_plot_with_censoring(data, tmp_path):
    m, x = data
    c = np.minimum(x, 2.0)
    ev = x < 2.0
    mc = ExponentialMixture(2, n_init=2, random_state=0).fit(c, event_observed=ev)
    ax = mc.plot_survival(c, event_observed=ev, components=True)
    _png_ok(ax.figure, tmp_path / "sf.png")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    kx, ky = _line(ax, "Kaplan-Meier")
    times, s = kaplan_meier(c, ev)
    np.testing.assert_array_equal(kx, times[s > 0])
    np.testing.assert_array_equal(ky, s[s > 0])
    fx, fy = _line(ax, "fitted")
    sf = sum(w * np.exp(-mu * fx) for w, mu in zip(mc.weights_, mc.rates_))
    np.testing.assert_allclose(fy, sf, rtol=1e-12)
    # the KM curve follows the fit (the model is right): max gap small
    at = np.interp(np.log(times[times < 1.9]), np.log(fx), fy)
    assert np.max(np.abs(at - s[times < 1.9])) < 0.03


def test_survival_plot_with_dead_time(data):
    m, x = data
    y = x[x > 0.02]
    mt = ExponentialMixture(2, random_state=0).fit(y, entry=0.02)
    ax = mt.plot_survival(y, entry=0.02)
    fx, fy = _line(ax, "fitted")
    np.testing.assert_allclose(fy, mt.sf(fx) / mt.sf(0.02), rtol=1e-12)
    ex, ey = _line(ax, "empirical")
    np.testing.assert_allclose(ey, [np.mean(y > u) for u in ex], atol=1e-15)


def test_criteria_plot(data, tmp_path):
    _, x = data
    res = expmix.select_components(x, n_components=range(1, 5), random_state=0)
    ax = plot_criteria(res)
    _png_ok(ax.figure, tmp_path / "crit.png")
    for c in ("bic", "aic"):
        kx, ky = _line(ax, c.upper())
        np.testing.assert_array_equal(kx, [1, 2, 3, 4])
        np.testing.assert_array_equal(ky, [r[c] for r in res.table])
    vx, _ = _line(ax, f"selected K = {res.best_n_components_}")
    assert vx[0] == res.best_n_components_ == 2


def test_survival_plot_of_binned_data(data, tmp_path):
    _, x = data
    edges = np.array([0, 0.005, 0.01, 0.03, 0.1, 0.5, 1, 3, np.inf])
    counts, _ = np.histogram(x, edges)
    m = ExponentialMixture(2, random_state=0).fit_histogram(edges, counts)
    ax = m.plot_survival(edges=edges, counts=counts)
    _png_ok(ax.figure, tmp_path / "binned.png")
    bx, by = _line(ax, "binned")
    np.testing.assert_array_equal(bx, edges[1:-1])
    np.testing.assert_allclose(by, [np.mean(x >= e) for e in edges[1:-1]], rtol=1e-12)
    fx, fy = _line(ax, "fitted")
    np.testing.assert_allclose(fy, m.sf(fx), rtol=1e-12)
    with pytest.raises(ValueError, match="either X or both"):
        m.plot_survival(x, edges=edges, counts=counts)
