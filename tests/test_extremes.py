"""Extreme inputs: magnitudes from subnormal to 1e308, rates 1e12 apart,
N = 1 and N = K, 10^7 (10^8 opt-in) points, weights past 2^53, and the C
tests for allocation failure and > 2^31 observations."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from functools import partial

from expmix import ExponentialMixture

# single-threaded unless a test is about threads: on an oversubscribed machine
# every OpenMP parallel region of a tiny fit can wait for a time slice
EM = partial(ExponentialMixture, n_threads=1)
from expmix import _core
from expmix.observations import from_samples

BIG = os.environ.get("EXPMIX_BIG_TESTS") == "1"


def two_groups(n=4000, seed=1):
    rng = np.random.default_rng(seed)
    lab = rng.random(n) < 0.4
    return np.where(lab, rng.standard_exponential(n) / 5.0, rng.standard_exponential(n) / 0.5)


X0 = two_groups()


@pytest.fixture(scope="module")
def ref():
    return EM(2, tol=0, max_iter=400).fit(X0)


@pytest.mark.parametrize("c", [2.0**-1000, 1e-300, 1e-200, 1e-100, 1e-20, 1e20, 1e100, 1e200,
                               1e300, 1e304])
def test_scale_equivariance_any_magnitude(ref, c):
    """x -> c x gives rates / c and weights unchanged, to ~1e-12, at every
    representable magnitude (data up to 1e304 * 9: sums near 1e308)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = EM(2, tol=0, max_iter=400).fit(X0 * c)
    np.testing.assert_allclose(m.rates_ * c, ref.rates_, rtol=1e-11)
    np.testing.assert_allclose(m.weights_, ref.weights_, rtol=1e-11, atol=1e-13)
    n = X0.shape[0]
    # the log-likelihood shifts by -n log c (density units)
    assert m.log_likelihood_ == pytest.approx(ref.log_likelihood_ - n * np.log(c), rel=1e-12)
    assert m.score(X0 * c) == pytest.approx(ref.score(X0) - np.log(c), rel=1e-12, abs=1e-9)
    np.testing.assert_allclose(m.history_[-1], ref.history_[-1] - np.log(c), rtol=1e-12)


@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_extreme_magnitudes_censored_and_binned(c):
    x = X0[:1000]
    ev = np.arange(1000) % 5 != 0
    a = EM(2, tol=0, max_iter=300).fit(x, event_observed=ev)
    b = EM(2, tol=0, max_iter=300).fit(x * c, event_observed=ev)
    np.testing.assert_allclose(b.rates_ * c, a.rates_, rtol=1e-10)
    edges = np.r_[0.0, np.quantile(x, np.linspace(0.05, 0.95, 12)), np.inf]
    counts = np.histogram(x, edges)[0]
    h1 = EM(2, tol=0, max_iter=300).fit_histogram(edges, counts)
    h2 = EM(2, tol=0, max_iter=300).fit_histogram(edges * c, counts)
    np.testing.assert_allclose(h2.rates_ * c, h1.rates_, rtol=1e-10)
    # probabilities are scale-free: the log-likelihood of binned data is unchanged
    assert h2.log_likelihood_ == pytest.approx(h1.log_likelihood_, rel=1e-12)


def test_subnormal_data_raise_a_clear_error():
    """Rates of subnormal data (~1/1e-318) exceed the float64 range: a
    specific error, not inf rates or a misleading degeneracy message."""
    with pytest.raises(ValueError, match="X: the fitted rates exceed the float64 range"):
        EM(1).fit(X0[:100] * 5e-324 * 1e6)


def test_subnormal_values_among_normal_ones():
    x = np.r_[X0[:500], 5e-324, 1e-310]
    m = EM(1).fit(x)
    assert m.rates_[0] == pytest.approx(x.size / x.sum(), rel=1e-13)


def test_rates_1e12_apart():
    rng = np.random.default_rng(3)
    x = np.r_[rng.standard_exponential(3000) / 1e6, rng.standard_exponential(3000) / 1e-6]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = EM(2, tol=1e-15, max_iter=2000).fit(x)
    # the groups do not overlap at all: the MLE is the two group MLEs
    np.testing.assert_allclose(m.rates_, [3000 / x[:3000].sum(), 3000 / x[3000:].sum()], rtol=1e-8)
    np.testing.assert_allclose(m.weights_, [0.5, 0.5], rtol=1e-8)


def test_n_equals_1_and_n_equals_k():
    assert EM(1).fit([3.0]).rates_[0] == pytest.approx(1 / 3.0, rel=1e-15)
    m = EM(3, random_state=0).fit([1.0, 10.0, 100.0])
    assert np.all(np.isfinite(m.rates_)) and m.weights_.sum() == pytest.approx(1.0, abs=1e-14)
    assert m.log_likelihood_ >= EM(1).fit([1.0, 10.0, 100.0]).log_likelihood_ - 1e-9


def test_weights_summing_past_2_53():
    """Huge frequency weights (sum > 2^53, where integer counts stop being
    exact in float64) behave as repetitions: the rate is sum w / sum w x."""
    x = np.array([0.5, 1.0, 2.0, 4.0])
    w = np.array([2.0**53, 3 * 2.0**52, 2.0**54, 7.0])
    m = EM(1).fit(x, sample_weight=w)
    assert m.total_weight_ == pytest.approx(w.sum(), rel=1e-15)
    assert m.rates_[0] == pytest.approx(w.sum() / (w * x).sum(), rel=1e-14)
    # scaling every weight by the same factor changes nothing
    m2 = EM(2, tol=0, max_iter=200).fit(X0[:2000], sample_weight=np.full(2000, 2.0**60))
    m1 = EM(2, tol=0, max_iter=200).fit(X0[:2000])
    np.testing.assert_allclose(m2.rates_, m1.rates_, rtol=1e-12)
    assert m2.log_likelihood_ == pytest.approx(m1.log_likelihood_ * 2.0**60, rel=1e-12)


@pytest.mark.parametrize("n", [10**7] + ([10**8] if BIG else []))
def test_large_n(n):
    """10^7 points by default (about a second); 10^8 with EXPMIX_BIG_TESTS=1.
    K = 1 has the closed form n / sum x."""
    rng = np.random.default_rng(5)
    x = rng.standard_exponential(n)
    m = EM(1, n_threads=2).fit(x)
    s = np.sum(x, dtype=np.float64)
    assert m.rates_[0] == pytest.approx(n / s, rel=1e-12)
    assert m.total_weight_ == n
    ll = n * np.log(n / s) - n
    assert m.log_likelihood_ == pytest.approx(ll, rel=1e-12)


def test_pass_matches_closed_form_large_n_k2():
    n = 3 * 10**6
    x = np.zeros(n)
    x[::3] = 1.0
    w = np.array([0.3, 0.7])
    mu = np.array([4.0, 0.25])
    ll, wt, R, X = _core.pass_stats(from_samples(x), w, mu, 2)
    z0, z1 = w * mu, w * mu * np.exp(-mu)
    n1 = n // 3
    assert wt == n
    assert ll == pytest.approx((n - n1) * np.log(z0.sum()) + n1 * np.log(z1.sum()), rel=1e-13)
    np.testing.assert_allclose(R, (n - n1) * z0 / z0.sum() + n1 * z1 / z1.sum(), rtol=1e-12)
    np.testing.assert_allclose(X, n1 * z1 / z1.sum(), rtol=1e-12)


ALLOC_SCRIPT = r"""
import resource, sys
import numpy as np
from expmix import _core
from expmix.observations import from_samples
obs = from_samples(np.random.default_rng(0).standard_exponential(2_000_000) + 0.01)
K = 256
w = np.full(K, 1.0 / K); mu = np.geomspace(0.01, 100, K)
_core.pass_stats(obs, w[:1] * K, mu[:1], 1)   # warm up (K = 1: a small workspace)
with open("/proc/self/statm") as f:
    vm = int(f.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 20), resource.RLIM_INFINITY))
try:
    _core.pass_stats(obs, w, mu, 1)       # K = 256 needs ~4 MB of block slots
except MemoryError as e:
    print("MemoryError:", e)
    sys.exit(0)
print("no MemoryError")
sys.exit(1)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux")
def test_allocation_failure_becomes_memory_error():
    """The C core's workspace allocation fails under an address-space limit:
    the status EM_ERR_NOMEM becomes a MemoryError naming the C core."""
    out = subprocess.run([sys.executable, "-c", ALLOC_SCRIPT], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1",
                                  # glibc: serve large blocks by mmap, keep no freed heap
                                  MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "the C core could not allocate its workspace" in out.stdout


def test_a_component_with_no_responsibility_is_empty_not_a_spike():
    """A start whose fast component explains no point at all (every term of it
    below the kernels' e^-600 drop, so R_k = 0 exactly and its M-step rate is
    0/0) degenerates as an empty component (kind 1: the fit returns the last
    sound iterate with the vanished-weight warning), not as a diverged rate
    (kind 2, which made fit raise DegenerateFitError)."""
    from expmix import _core
    from expmix.observations import from_samples
    x = np.linspace(1e-3, 6.0, 256)             # whole 64-point tiles
    obs = from_samples(x)
    w, mu = np.array([0.91, 0.09]), np.array([0.0135, 8.7e5])
    r = _core.fit(obs, w.copy(), mu.copy(), n_threads=1, scale=_core.data_scale(obs))
    assert r["status"] == 2 and r["degenerate_kind"] == 1 and r["degenerate_component"] == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = ExponentialMixture(2, weights_init=w, rates_init=mu, n_threads=1).fit(x)
    assert any("weight vanished" in str(c.message) for c in caught)
    # the last sound iterate is returned: here the start (its first EM step empties it)
    # (ordered by decreasing rate)
    np.testing.assert_allclose(m.rates_, mu[::-1], rtol=1e-15)
    np.testing.assert_allclose(m.weights_, w[::-1], rtol=1e-15)
