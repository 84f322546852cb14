"""The fast kernels of right-censored, interval and truncation blocks
(csrc/em_kernel_interval.h, csrc/em_kernel_trunc.h and their AVX-512
intrinsics versions em_kernel_*_avx512.h, K <= 8; right-censored points run
the exact-data kernel) on every CPU path:

* one pass against the general tile kernel of pass.c (switched on with the
  testing hook ``_core._set_general_kinds``) and against an independent
  long-double evaluation in log space written here with numpy, on hostile
  values: tiny / huge / subnormal bin widths, bins far in the tail, a = 0,
  t = 0, widths a few ulps apart, n not a multiple of the 64-point tile;
* whole fits with the fast kernels equal the fits with the general kernel;
* results do not depend on the thread count, bitwise, on each path.

Tolerance (stated): |fast - general| <= 1e-12 |general| + floor, floor =
1e-13 n for the log-likelihood (n terms, each with an absolute rounding error
up to ~(|log w_min| + 1) eps in either kernel) and 1e-250 for R_k, X_k.  Where
fast and general differ by more, the fast kernel must be at least as close as
the general one to the long-double reference.
"""
import numpy as np
import pytest

import expmix
from expmix import _core
from expmix.observations import Observations, from_intervals, from_samples

ORDER = ["baseline", "avx2", "avx512"]
PATHS = ORDER[:ORDER.index(_core.cpu_best()) + 1]
LD = np.longdouble


@pytest.fixture(autouse=True)
def _restore():
    yield
    _core.set_cpu_dispatch("auto")
    _core._set_general_kinds(False)


def _g(u):
    """g(u) = 1/u - 1/(e^u - 1) in long double, series below 1e-2."""
    u = np.asarray(u, dtype=LD)
    small = u < 1e-2
    us = np.where(small, u, LD(1))
    ul = np.where(small, LD(1), u)
    u2 = us * us
    ser = 0.5 + us * (-LD(1) / 12 + u2 * (LD(1) / 720 + u2 * (-LD(1) / 30240
                                                            + u2 * (LD(1) / 1209600))))
    with np.errstate(over="ignore"):
        direct = 1 / ul - 1 / np.expm1(ul)
    return np.where(small, ser, direct)


def reference(kind, w, mu, a, b=None, v=None):
    """(loglik, R, X) of one kind in long double, max-shifted log-sum-exp."""
    a = np.asarray(a, dtype=LD)
    v = np.ones(a.shape, dtype=LD) if v is None else np.asarray(v, dtype=LD)
    mu = np.asarray(mu, dtype=LD)
    with np.errstate(divide="ignore"):
        lw = np.log(np.asarray(w, dtype=LD))
    la = lw[None, :] - np.outer(a, mu)
    if kind == "interval":
        d = np.asarray(b, dtype=LD) - a
        u = np.outer(d, mu)
        la = la + np.log(-np.expm1(-u))
    m = la.max(axis=1, keepdims=True)
    ls = m[:, 0] + np.log(np.exp(la - m).sum(axis=1))
    if kind == "trunc":
        u = np.outer(a, mu)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            rc = v[:, None] * np.exp(lw[None, :] - ls[:, None]) * -np.expm1(-u)
        rc = np.where(u > 0, rc, 0)
        return -float(np.sum(v * ls)), rc.sum(0).astype(float), \
            (rc * a[:, None] * _g(np.where(u > 0, u, 1))).sum(0).astype(float)
    r = v[:, None] * np.exp(la - ls[:, None])
    if kind == "right":
        ex = a[:, None] + 1 / mu[None, :]
    else:
        ex = a[:, None] + d[:, None] * _g(u)
    return float(np.sum(v * ls)), r.sum(0).astype(float), (r * ex).sum(0).astype(float)


def _agree(f, g, ref, floor):
    f, g, ref = (np.atleast_1d(np.asarray(z, dtype=float)) for z in (f, g, ref))
    close = np.abs(f - g) <= 1e-12 * np.abs(g) + floor
    better = np.abs(f - ref) <= np.abs(g - ref) + 1e-12 * np.abs(ref)
    return bool(np.all(close | better))


def _compare(obs, kind, w, mu, a, b=None, v=None, n_threads=1):
    w = np.asarray(w, float)
    mu = np.asarray(mu, float)
    ref = None
    n = len(a)
    for path in PATHS:
        _core.set_cpu_dispatch(path)
        _core._set_general_kinds(True)
        try:
            lg, _, Rg, Xg = _core.pass_stats(obs, w, mu, n_threads)
        except FloatingPointError:
            # the statistics overflow (missing mass ~ 1/S(t) beyond 1e308):
            # the fast kernels must say so too
            _core._set_general_kinds(False)
            with pytest.raises(FloatingPointError):
                _core.pass_stats(obs, w, mu, n_threads)
            continue
        _core._set_general_kinds(False)
        lf, _, Rf, Xf = _core.pass_stats(obs, w, mu, n_threads)
        if ref is None:
            with np.errstate(over="ignore"):
                ref = reference(kind, w, mu, a, b, v)
        assert _agree(lf, lg, ref[0], 1e-13 * n), (path, lf, lg, ref[0])
        big = np.exp(640.0)     # EM_GHOST_LOG_CAP (650) less a margin, per pair
        if not (np.all(np.isfinite(ref[1])) and np.all(np.isfinite(ref[2]))
                and np.max(np.abs(ref[1])) < big and np.max(np.abs(ref[2])) < big):
            # the exact missing mass is beyond ~1e278: the general kernel caps
            # each pair's at e^650 (EM_GHOST_LOG_CAP in csrc/pass.c) and pass.c
            # routes such blocks to it, finite in both kernels; the
            # log-likelihood stays exact (tests/test_truncation_far.py)
            assert np.all(np.isfinite(Rf)) and np.all(np.isfinite(Xf)), (path, Rf, Xf)
            assert np.all(np.isfinite(Rg)) and np.all(np.isfinite(Xg)), (path, Rg, Xg)
            assert abs(lf - ref[0]) <= 1e-11 * abs(ref[0]) + 1e-13 * n
            continue
        assert _agree(Rf, Rg, ref[1], 1e-250), (path, Rf, Rg, ref[1])
        assert _agree(Xf, Xg, ref[2], 1e-250), (path, Xf, Xg, ref[2])
        # and both agree with the long-double reference itself
        assert abs(lf - ref[0]) <= 1e-11 * abs(ref[0]) + 1e-13 * n
        np.testing.assert_allclose(Rf, ref[1], rtol=1e-11, atol=1e-250)
        np.testing.assert_allclose(Xf, ref[2], rtol=1e-11, atol=1e-250)


PARAMS = [
    ([1.0], [0.7]),
    ([0.3, 0.7], [5.0, 0.2]),
    ([0.2, 0.5, 0.3], [10.0, 1.0, 0.1]),
    ([0.1, 0.2, 0.3, 0.4], [0.05, 30.0, 2.0, 0.5]),
    ([0.2] * 5, [1.0, 2.0, 3.0, 4.0, 5.0]),
    ([0.05, 0.25, 0.1, 0.3, 0.2, 0.1], [0.02, 0.3, 1.0, 4.0, 20.0, 80.0]),
    ([0.125] * 8, [100.0, 0.01, 27.0, 0.036, 7.2, 0.14, 1.9, 0.52]),
    ([0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.2, 0.1], [2.0, 2.0, 0.5, 2.0, 9.0, 0.5, 0.1, 30.0]),
    ([0.5, 0.0, 0.5], [3.0, 1.0, 0.3]),              # zero weight: general kernel
    ([1e-30, 0.5, 0.5 - 1e-30], [1e-3, 1.0, 1e3]),
]


def _mixture(rng, n):
    scale = rng.choice([0.1, 1.0, 10.0], size=n, p=[0.3, 0.4, 0.3])
    return rng.standard_exponential(n) * scale


def _interval_sets(rng, n):
    x = _mixture(rng, n)
    lo = np.floor(x * 20) / 20
    yield "rounded to 0.05", lo, lo + 0.05
    lo = np.floor(x)
    yield "unit bins", lo, lo + 1.0
    yield "random widths", x, x + 1e-3 + 3 * rng.uniform(size=n)
    h = 0.01 * (1 + (np.arange(n) // 100) % 5)
    lo = np.floor(x / h) * h
    yield "width changes every 100", lo, lo + h
    yield "a = 0", np.zeros(n), np.where(np.arange(n) % 2, 0.3, 0.3 + 0.1 * rng.uniform(size=n))
    yield "width 1e-9 relative", x + 1e-3, (x + 1e-3) * (1 + 1e-9)
    yield "[0, 1e-300]", np.zeros(n), np.full(n, 1e-300)
    yield "subnormal widths", np.zeros(n), 1e-310 * (1 + np.arange(n) % 2)
    yield "width 1e6", x, x + 1e6
    yield "width 1e300", np.where(np.arange(n) % 5, 0.0, x), np.full(n, 1e300)
    lo = 1e3 * (1 + np.arange(n) % 600) + x
    yield "far tail (mu a up to 6e5)", lo, lo + 0.25
    odd = np.arange(n) % 2 == 1
    lo = np.where(odd, 0.0, 50 * x)
    yield "tiny bins at 0 mixed with huge bins", lo, np.where(
        odd, 1e-6 * (1 + np.arange(n) % 5), lo + 1e4)


@pytest.mark.parametrize("weighted", [False, True], ids=["unit", "weighted"])
def test_interval_pass(weighted):
    rng = np.random.default_rng(1)
    n = 2500                       # one block + 452: not a multiple of 64
    v = np.where(np.arange(n) % 7 == 0, 0.0, rng.uniform(0.5, 1.5, n)) if weighted else None
    for name, lo, hi in _interval_sets(rng, n):
        obs = Observations(lower=lo, upper=hi, interval_w=v, n_obs=n)
        for w, mu in PARAMS:
            _compare(obs, "interval", w, mu, lo, hi, v)


@pytest.mark.parametrize("weighted", [False, True], ids=["unit", "weighted"])
def test_trunc_pass(weighted):
    rng = np.random.default_rng(2)
    n = 2500
    v = np.where(np.arange(n) % 5 == 0, 0.0, rng.uniform(0.5, 1.5, n)) if weighted else None
    sets = {
        "entry in [0, 0.05)": 0.05 * rng.uniform(size=n),
        "entry ~ mixture": _mixture(rng, n),
        "t = 0": np.zeros(n),
        "t tiny": np.where(np.arange(n) % 3, 1e-300 * (1 + np.arange(n) % 7),
                           1e-10 * rng.uniform(size=n)),
        "t up to 1200 (S underflows)": 300 + 900 * rng.uniform(size=n),
        "one far entry per tile": np.where(np.arange(n) % 64 == 5, 2000.0, _mixture(rng, n)),
        # mu_0' t + log max c = 700 is the fast kernels' limit (K = 3 set: t ~ 6995)
        "t near the fast limit": np.where((np.arange(n) // 64) % 2, 6985 + 20 * rng.uniform(size=n),
                                          6990.0),
    }
    for name, t in sets.items():
        obs = Observations(trunc=t, trunc_w=v, n_obs=n)
        for w, mu in PARAMS:
            _compare(obs, "trunc", w, mu, t, None, v)


@pytest.mark.parametrize("weighted", [False, True], ids=["unit", "weighted"])
def test_right_pass(weighted):
    rng = np.random.default_rng(3)
    n = 2500
    v = np.where(np.arange(n) % 5 == 0, 0.0, rng.uniform(0.5, 1.5, n)) if weighted else None
    for c in (_mixture(rng, n), np.where(np.arange(n) % 4, 0.0, 1e3 * rng.uniform(size=n))):
        obs = Observations(right=c, right_w=v, n_obs=n)
        for w, mu in PARAMS:
            _compare(obs, "right", w, mu, c, None, v)


def _fit_all(path, general):
    _core.set_cpu_dispatch(path)
    _core._set_general_kinds(general)
    rng = np.random.default_rng(4)
    n = 6000
    x = _mixture(rng, n)
    e = 0.05 * rng.uniform(size=n)
    out = []
    m = expmix.ExponentialMixture(2, n_init=1, random_state=0, n_threads=1, tol=1e-12)
    out.append(m.fit(np.minimum(x, 2.0), event_observed=x < 2.0))
    m = expmix.ExponentialMixture(3, n_init=1, random_state=0, n_threads=1, tol=1e-12)
    lo = np.floor(x * 20) / 20
    out.append(m.fit_intervals(lo, lo + 0.05))
    m = expmix.ExponentialMixture(2, n_init=1, random_state=0, n_threads=1, tol=1e-12)
    out.append(m.fit(x + e, entry=np.where(np.arange(n) % 2, e, 0.0)))
    assert all(f.converged_ for f in out)
    return [(f.log_likelihood_, f.weights_, f.rates_) for f in out]


@pytest.mark.parametrize("path", PATHS)
def test_fits_equal_general_kernel(path):
    """Whole EM fits (right-censored window, rounded intervals, per-observation
    entry) reach the same optimum with the fast kernels as with the general
    kernel: log-likelihood to 1e-12 relative, parameters to 1e-7 (the fit's own
    convergence tolerance sets the parameter agreement)."""
    fast = _fit_all(path, False)
    gen = _fit_all(path, True)
    for (lf, wf, mf), (lg, wg, mg) in zip(fast, gen):
        assert abs(lf - lg) <= 1e-12 * abs(lg)
        np.testing.assert_allclose(wf, wg, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(mf, mg, rtol=1e-7)


@pytest.mark.parametrize("path", PATHS)
def test_threads_bitwise_every_kind(path):
    """One pass over every kind, 12 blocks per kind: 1, 2, 3 and 8 threads give
    bitwise identical statistics on each path (with the fast kernels)."""
    _core.set_cpu_dispatch(path)
    rng = np.random.default_rng(5)
    n = 12 * 2048 + 17
    x = _mixture(rng, n)
    lo = np.floor(_mixture(rng, n) * 20) / 20
    hi = lo + np.where(np.arange(n) % 1000 < 500, 0.05, 0.05 + rng.uniform(size=n))
    obs = Observations(exact=x, right=_mixture(rng, n), lower=lo, upper=hi,
                       trunc=0.05 * rng.uniform(size=n), n_obs=4 * n)
    w = np.array([0.2, 0.5, 0.3])
    mu = np.array([10.0, 1.0, 0.1])
    base = _core.pass_stats(obs, w, mu, 1)
    for nt in (2, 3, 8):
        other = _core.pass_stats(obs, w, mu, nt)
        assert other[0] == base[0] and other[1] == base[1]
        assert np.array_equal(other[2], base[2]) and np.array_equal(other[3], base[3])


def test_hook_restores():
    assert _core._set_general_kinds(True) is False
    assert _core._set_general_kinds(False) is True
    assert _core._set_general_kinds(False) is False


@pytest.mark.parametrize("path", PATHS)
def test_fits_equal_general_kernel_large_k(path):
    """K = 6 fits (the fast kernels take K <= 8) of binned and of truncated
    data reach the same optimum with the fast and the general kernel."""
    rng = np.random.default_rng(6)
    n = 4000
    scale = rng.choice([0.01, 0.1, 1.0, 10.0, 100.0, 1000.0], size=n)
    x = rng.standard_exponential(n) * scale
    e = 0.01 * rng.uniform(size=n)
    res = {}
    for general in (False, True):
        _core.set_cpu_dispatch(path)
        _core._set_general_kinds(general)
        out = []
        lo = np.floor(x * 50) / 50
        for fit in (lambda m: m.fit_intervals(lo, lo + 0.02),
                    lambda m: m.fit(x + e, entry=e)):
            m = expmix.ExponentialMixture(6, n_init=1, random_state=0, n_threads=1, tol=1e-12,
                                          max_iter=300)
            f = fit(m)
            out.append((f.log_likelihood_, f.weights_, f.rates_))
        res[general] = out
    for (lf, wf, mf), (lg, wg, mg) in zip(res[False], res[True]):
        assert abs(lf - lg) <= 1e-11 * abs(lg)
        np.testing.assert_allclose(wf, wg, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(mf, mg, rtol=1e-6)


@pytest.mark.parametrize("path", PATHS)
def test_threads_bitwise_k8(path):
    """K = 8: 1, 2 and 5 threads give bitwise identical statistics for
    interval (equal and differing widths) and truncation blocks."""
    _core.set_cpu_dispatch(path)
    rng = np.random.default_rng(7)
    n = 9 * 2048 + 33
    lo = np.floor(_mixture(rng, n) * 20) / 20
    hi = lo + np.where(np.arange(n) % 3000 < 1500, 0.05, 0.05 + rng.uniform(size=n))
    obs = Observations(lower=lo, upper=hi, trunc=0.05 * rng.uniform(size=n), n_obs=2 * n)
    w = np.full(8, 0.125)
    mu = np.array([100.0, 0.01, 27.0, 0.036, 7.2, 0.14, 1.9, 0.52])
    base = _core.pass_stats(obs, w, mu, 1)
    for nt in (2, 5):
        other = _core.pass_stats(obs, w, mu, nt)
        assert other[0] == base[0] and other[1] == base[1]
        assert np.array_equal(other[2], base[2]) and np.array_equal(other[3], base[3])
