"""Runtime CPU dispatch of the fused pass: every path against an independent
long-double evaluation, thread-count independence per path, and forcing a path
by EXPMIX_CPU / set_cpu_dispatch."""
import os
import subprocess
import sys

import numpy as np
import pytest

import expmix
from expmix import _core
from expmix.observations import from_samples

ORDER = ["baseline", "avx2", "avx512"]
PATHS = ORDER[:ORDER.index(_core.cpu_best()) + 1]


@pytest.fixture(autouse=True)
def _restore():
    yield
    _core.set_cpu_dispatch("auto")


def reference_stats(x, v, w, mu):
    """logL, R_k, X_k in long double with an explicit max-shifted log-sum-exp."""
    x = x.astype(np.longdouble)
    v = v.astype(np.longdouble)
    a = np.log(w.astype(np.longdouble)) + np.log(mu.astype(np.longdouble)) \
        - np.outer(x, mu.astype(np.longdouble))
    m = a.max(axis=1, keepdims=True)
    e = np.exp(a - m)
    s = e.sum(axis=1, keepdims=True)
    r = e / s * v[:, None]
    ll = np.sum(v * (m[:, 0] + np.log(s[:, 0])))
    return float(ll), (r.sum(axis=0)).astype(float), (r * x[:, None]).sum(axis=0).astype(float)


CASES = [
    # (K, n, w, mu)
    (1, 1000, [1.0], [2.0]),
    (2, 4133, [0.3, 0.7], [10.0, 0.5]),
    (3, 2048 * 3 + 17, [0.5, 0.3, 0.2], [10.0, 1.0, 0.1]),
    (4, 777, [0.1, 0.2, 0.3, 0.4], [50.0, 5.0, 0.5, 0.05]),
    (5, 999, [0.2] * 5, [16.0, 8.0, 4.0, 2.0, 1.0]),          # K > 4: AVX-512 kernel / general
    (6, 64 * 5, [1 / 6] * 6, [300.0, 30.0, 3.0, 0.3, 0.03, 0.003]),
    (8, 2048 + 64 * 3 + 5, [0.05, 0.1, 0.1, 0.15, 0.1, 0.2, 0.1, 0.2],
     [900.0, 200.0, 50.0, 9.0, 2.0, 0.7, 0.1, 0.01]),
    (8, 1000, [1 / 8] * 8, [1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07]),
    (9, 700, [1 / 9] * 9, [2.0 ** -k for k in range(9)]),     # K > 8: general kernel
    (2, 500, [0.5, 0.5], [1e40, 1.0]),                        # huge D: fallback path
    (3, 640, [0.3, 0.3, 0.4], [1.0, 1.5, 1.2]),               # overlapping rates
    # D + log K = 72.5, near EM_FAST_DMAX = 80: the tile products of the sums
    # (carried as 2^EX * M) reach e^580; points of the slow component have
    # exp arguments ~ -1e31 (clamped, dropped)
    (3, 2048 * 2 + 64, [1 / 3] * 3, [1e-30, 1.0, 10.0]),
]

# exp arguments d = log 2 - x spread over the drop threshold -600
DROP_X = np.linspace(590.0, 610.0, 64 * 40)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("weighted", [False, True])
def test_pass_drop_threshold(path, weighted):
    w, mu = np.array([0.5, 0.5]), np.array([1.0, 2.0])
    x = DROP_X
    v = np.linspace(0.5, 2.0, x.size) if weighted else np.ones(x.size)
    obs = from_samples(x, v if weighted else None)
    assert _core.set_cpu_dispatch(path) == path
    ll, tot, R, X = _core.pass_stats(obs, w, mu, 1)
    rll, rR, rX = reference_stats(x, v, w, mu)
    assert ll == pytest.approx(rll, rel=1e-13)
    np.testing.assert_allclose(R[0], rR[0], rtol=1e-13)
    np.testing.assert_allclose(X[0], rX[0], rtol=1e-13)
    # the second component's responsibilities are below e^-580: dropped
    # (exactly 0) or tiny and normal, never subnormal
    assert R[1] == 0.0 or (R[1] >= 2.2250738585072014e-308 and R[1] < 1e-250)



@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_pass_matches_long_double_reference(path, weighted, case):
    K, n, w, mu = case
    w, mu = np.array(w), np.array(mu)
    rng = np.random.default_rng(K * 1000 + n)
    x = rng.exponential(1.0, n) / rng.choice(mu, n, p=w)
    x[:3] = [0.0, 1e-300, 800.0]                 # range ends: exp args at the clamps
    v = rng.uniform(0.0, 3.0, n) if weighted else np.ones(n)
    obs = from_samples(x, v if weighted else None)
    assert _core.set_cpu_dispatch(path) == path
    ll, tot, R, X = _core.pass_stats(obs, w, mu, 1)
    rll, rR, rX = reference_stats(x, v, w, mu)
    assert tot == pytest.approx(v.sum(), rel=1e-14)
    assert ll == pytest.approx(rll, rel=1e-12, abs=1e-12 * n)
    np.testing.assert_allclose(R, rR, rtol=1e-12, atol=1e-13 * n)
    np.testing.assert_allclose(X, rX, rtol=1e-12, atol=1e-13 * np.sum(v * x))


@pytest.mark.parametrize("path", PATHS)
def test_threads_bitwise_per_path(path):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.exponential(0.1, 30000), rng.exponential(2.0, 20011)])
    obs = from_samples(x)
    _core.set_cpu_dispatch(path)
    w, mu = np.array([0.4, 0.35, 0.25]), np.array([12.0, 1.0, 0.2])
    outs = [_core.pass_stats(obs, w, mu, nt) for nt in (1, 2, 3, 8)]
    for o in outs[1:]:
        assert o[0] == outs[0][0]
        assert np.array_equal(o[2], outs[0][2]) and np.array_equal(o[3], outs[0][3])
    fits = [expmix.ExponentialMixture(2, n_threads=nt).fit(x) for nt in (1, 2, 3)]
    for f in fits[1:]:
        assert np.array_equal(f.rates_, fits[0].rates_)
        assert np.array_equal(f.weights_, fits[0].weights_)


def test_paths_agree_on_the_fit():
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.exponential(0.1, 5000), rng.exponential(1.0, 5000)])
    res = {}
    for p in PATHS:
        _core.set_cpu_dispatch(p)
        m = expmix.ExponentialMixture(2, tol=1e-13, max_iter=5000).fit(x)
        res[p] = (m.rates_, m.weights_, m.log_likelihood_)
    base = res["baseline"]
    for p in PATHS:
        np.testing.assert_allclose(res[p][0], base[0], rtol=1e-7)
        np.testing.assert_allclose(res[p][1], base[1], rtol=1e-7)
        assert res[p][2] == pytest.approx(base[2], rel=1e-13)


def test_cpu_dispatch_api():
    assert _core.cpu_dispatch() in ORDER
    assert _core.cpu_best() in ORDER
    assert _core.set_cpu_dispatch("baseline") == "baseline"
    assert _core.cpu_dispatch() == "baseline"
    assert _core.set_cpu_dispatch("auto") == _core.cpu_best() or os.environ.get("EXPMIX_CPU")
    with pytest.raises(ValueError, match="path must be one of"):
        _core.set_cpu_dispatch("sse9")


@pytest.mark.parametrize("path", ["baseline", "avx2", "avx512"])
def test_env_var_forces_path(path):
    code = "import expmix._core as c; print(c.cpu_dispatch(), c.cpu_best())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, EXPMIX_CPU=path), check=True).stdout.split()
    active, best = out
    # a path the CPU lacks falls back to the best one below it
    assert active == ORDER[min(ORDER.index(path), ORDER.index(best))]


def reference_right(c, v, w, mu):
    """logL, R_k, X_k of right-censored points (survival e^{-mu c}, E = c + 1/mu)."""
    c = c.astype(np.longdouble)
    v = v.astype(np.longdouble)
    mu_l = mu.astype(np.longdouble)
    a = np.log(w.astype(np.longdouble)) - np.outer(c, mu_l)
    m = a.max(axis=1, keepdims=True)
    e = np.exp(a - m)
    s = e.sum(axis=1, keepdims=True)
    r = e / s * v[:, None]
    ll = np.sum(v * (m[:, 0] + np.log(s[:, 0])))
    return (float(ll), r.sum(axis=0).astype(float),
            (r * (c[:, None] + 1 / mu_l)).sum(axis=0).astype(float))


TAIL_K = [(1, [1.0], [2.0]), (2, [0.3, 0.7], [10.0, 0.5]),
          (3, [0.5, 0.3, 0.2], [10.0, 1.0, 0.1]),
          (8, [1 / 8] * 8, [2.0 ** (3 - k) for k in range(8)])]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("K,w,mu", TAIL_K)
def test_segment_tails_of_every_length(path, weighted, K, w, mu):
    """Segments of exact and right-censored points whose length leaves every
    tail 0..63 after the 64-point tiles (short tails: the tile kernel; longer
    ones: the vector kernel on a tile padded with weight-0 points) against
    the long-double evaluation."""
    w, mu = np.array(w), np.array(mu)
    rng = np.random.default_rng(K * 100 + weighted)
    assert _core.set_cpu_dispatch(path) == path
    for n_e, n_r in [(t, 64 - t) for t in range(1, 65)] + [(64 + 9, 128 + 40), (2048 + 33, 17)]:
        x = rng.exponential(1.0, n_e) * rng.choice([0.1, 1.0, 5.0], n_e)
        c = rng.exponential(1.0, n_r) * 3.0
        vx = rng.uniform(0.5, 2.0, n_e) if weighted else np.ones(n_e)
        vc = rng.uniform(0.5, 2.0, n_r) if weighted else np.ones(n_r)
        vals = np.concatenate([x, c])
        ev = np.concatenate([np.ones(n_e, bool), np.zeros(n_r, bool)])
        obs = from_samples(vals, np.concatenate([vx, vc]) if weighted else None, ev, None)
        ll, tot, R, X = _core.pass_stats(obs, w, mu, 1)
        e_ll, e_R, e_X = reference_stats(x, vx, w, mu)
        r_ll, r_R, r_X = reference_right(c, vc, w, mu)
        assert ll == pytest.approx(e_ll + r_ll, rel=1e-12), (n_e, n_r)
        assert tot == pytest.approx(vx.sum() + vc.sum(), rel=1e-13)
        np.testing.assert_allclose(R, e_R + r_R, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(X, e_X + r_X, rtol=1e-12, atol=1e-300)
