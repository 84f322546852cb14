"""Starting points for EM.

* ``"quantile"`` (deterministic), computed in C (``csrc/init.c``, documented
  in ``csrc/em_init.h``) without sorting or copying the data.  The
  pseudo-values are the exact values, the right-censoring times and the
  interval midpoints ``(a + b) / 2``, in that order, each with its weight
  (pseudo-values of weight 0 are ignored; truncation times are not used).
  With W their total weight, the K - 1 cuts are the exact weighted quantiles
  ``c_k = min{v : weight of the pseudo-values <= v >= W k / K}`` (found by a
  radix selection on the IEEE-754 bit patterns: at most 6 histogram passes of
  2048 bins, O(K x 2048) memory), group k holds the pseudo-values in
  ``(c_k, c_{k+1}]``, and with ``s = max(sum w v / W, 1e-300)``:
  ``rate_k = 1 / max(mean of group k, 1e-3 s)`` (an empty group, possible
  only with ties at a cut, takes the cut value as its mean), clipped to
  ``[1e-12 / s, 1e12 / s]``; ``weight_k = G_k / W + 1e-3 / K`` (G_k the
  group weight), normalised.  Finally the rates are made distinct: in order of
  decreasing rate (ties by index) a rate at least ``1 - 1e-3`` times the
  previous one becomes 0.7 times it.  The result depends only on the data
  (never on the number of threads), and ``fit_many`` computes the very same
  start in its worker threads, so its fits equal single fits bitwise.
* ``"kmeans"`` (random): weighted k-means++ seeding and a few Lloyd steps on
  log(x), on a subsample of at most 20,000 values.
* ``"random"`` (random): rates log-uniform between the inverse 95 % and 5 %
  quantiles, weights from a flat Dirichlet.
The random starts work on the pseudo-values materialized as arrays
(``Observations.pseudo_values``); they are built only when such a start is
requested (``n_init > 1`` or ``init`` "kmeans"/"random").

Per-observation entry times (``entry=array``, K >= 2).  The values x sit
near their entry times when these lie far in the tail, and starts read
from x have the wrong scale.  By memorylessness the excess ``x - t_i`` of a
row from component k is Exp(mu_k) whatever t_i, so the excess data carry
the population's rates (their weights are those seen above the entry
times, w_k e^{-mu_k t_i} / S(t_i)).  The excess pseudo-values are x - t
(exact rows), c - t (right-censored rows) and (a + b) / 2 - t (intervals)
(``Observations.excess_pseudo_values``; the observation set records each
row's entry time for this).  Then:

* the first start is still the quantile start of the values (as without
  entry times);
* the "kmeans" and "random" starts (restarts 2..n_init) are drawn from the
  excess pseudo-values instead of the values;
* without ``weights_init``/``rates_init``, three deterministic starts are
  added (:func:`excess_starts`): rates spread by e^{1.5} .. e^{-1.5} around
  the K = 1 truncated MLE (events / exposure, the closed form for exact and
  right-censored rows), ten Lloyd steps on log(excess) from the group means
  of the excess's quantile start, and a k-means++ start of the excess (a
  fixed seed, :data:`EXCESS_SEED`; subsamples of 20,000 above that size).
  Their weights are those of the excess data, unmapped: mapping them to
  the population with a typical entry time (w_k ~ w'_k e^{mu_k t_median}),
  or by the weights' MLE given the rates, gives the fast components nearly
  all the weight, and EM and the polish then ended below the maximum far
  more often (measured with ``tools/measure_truncation_starts.py``, see
  docs/numerics.md).

Each start costs at most ``TRUNCATION_EM_MAX_ITER`` (300) EM iterations and
a Newton polish.  The extra starts depend only on the data; the restarts
on ``random_state``.  Fits without per-observation entry times get none of
this (their starts are unchanged bit for bit).  The dask path builds the
same starts from the gathered (excess) pseudo-values.
"""
from __future__ import annotations

import threading

import numpy as np

from . import _core
from .observations import Observations

INIT_METHODS = ("auto", "quantile", "kmeans", "random")


def _clean(w, mu, scale):
    mu = np.asarray(mu, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    hi = 1e12 / scale
    lo = 1e-12 / scale
    mu = np.clip(np.where(np.isfinite(mu), mu, hi), lo, hi)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0) + 1e-3 / w.shape[0]
    w = w / w.sum()
    # distinct rates: identical components would stay identical under EM
    order = np.argsort(-mu, kind="stable")
    mu_sorted = mu[order]
    for i in range(1, mu_sorted.shape[0]):
        if mu_sorted[i] >= mu_sorted[i - 1] * (1 - 1e-3):
            mu_sorted[i] = mu_sorted[i - 1] * 0.7
    mu[order] = mu_sorted
    return w, mu


# From this many observations the C start (~5 reads of the data, ~3 s at
# N = 1e8 on a busy machine) runs in a helper thread (see quantile_init_obs).
_INIT_THREAD_MIN_OBS = 1_000_000


def quantile_init_obs(obs, K):
    """The quantile start (see the module docstring) of an observation set,
    in C, reading the segments in place (no pseudo-value arrays).

    On large data called from the main thread, the C routine (which runs
    without the GIL and cannot poll for signals) runs in a helper thread
    while the main thread waits for it, so Ctrl-C interrupts the wait at once
    (KeyboardInterrupt); the helper then finishes on its own and its result
    is dropped."""
    if (getattr(obs, "n_obs", 0) < _INIT_THREAD_MIN_OBS
            or threading.current_thread() is not threading.main_thread()):
        return _core.init_quantile(obs, int(K))
    out: dict = {}

    def run() -> None:
        try:
            out["r"] = _core.init_quantile(obs, int(K))
        except BaseException as e:   # re-raised in the caller's thread
            out["e"] = e

    t = threading.Thread(target=run, name="expmix-quantile-start", daemon=True)
    t.start()
    while t.is_alive():
        t.join(0.05)
    if "e" in out:
        raise out["e"]
    return out["r"]


def quantile_init(values, weights, K):
    """The quantile start of pseudo-values ``values`` with ``weights``
    (None: unit weights): the same C routine as :func:`quantile_init_obs`."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    wt = None if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    return _core.init_quantile(Observations(exact=v, exact_w=wt), int(K))


def _subsample(values, weights, rng, size=20000):
    if values.shape[0] <= size:
        return values, weights
    p = weights / weights.sum()
    idx = rng.choice(values.shape[0], size=size, replace=True, p=p)
    return values[idx], np.ones(size)


def kmeans_init(values, weights, K, rng):
    v, wt = _subsample(values, weights, rng)
    scale = max(float(np.sum(v * wt) / np.sum(wt)), 1e-300)
    z = _log_values(v, scale)
    # k-means++ seeding (weighted)
    centers = np.empty(K)
    centers[0] = z[rng.choice(z.shape[0], p=wt / wt.sum())]
    d2 = (z - centers[0]) ** 2
    for k in range(1, K):
        p = d2 * wt
        s = p.sum()
        idx = rng.choice(z.shape[0], p=p / s) if s > 0 else rng.integers(z.shape[0])
        centers[k] = z[idx]
        d2 = np.minimum(d2, (z - centers[k]) ** 2)
    return _lloyd_log(v, wt, z, centers, scale)


def _log_values(v, scale):
    """log of the values, zeros replaced by half the smallest positive value."""
    pos = v[v > 0]
    floor = float(pos.min()) * 0.5 if pos.size else scale * 1e-3
    return np.log(np.maximum(v, floor))


def _lloyd_log(v, wt, z, centers, scale):
    """Ten weighted Lloyd steps on z = log v from ``centers`` (modified in
    place); the start is the groups' weights and inverse mean values."""
    K = centers.shape[0]
    for _ in range(10):
        lab = np.argmin(np.abs(z[:, None] - centers[None, :]), axis=1)
        for k in range(K):
            m = lab == k
            if m.any():
                centers[k] = np.sum(z[m] * wt[m]) / np.sum(wt[m])
    lab = np.argmin(np.abs(z[:, None] - centers[None, :]), axis=1)
    w = np.array([np.sum(wt[lab == k]) for k in range(K)], dtype=np.float64)
    mu = np.empty(K)
    for k in range(K):
        m = lab == k
        mean_k = float(np.sum(v[m] * wt[m]) / np.sum(wt[m])) if m.any() else np.exp(centers[k])
        mu[k] = 1.0 / max(mean_k, 1e-3 * scale)
    return _clean(w, mu, scale)


def random_init(values, weights, K, rng):
    scale = max(float(np.sum(values * weights) / np.sum(weights)), 1e-300)
    q05, q95 = np.quantile(values, [0.05, 0.95])
    lo = 1.0 / max(q95, 1e-3 * scale)
    hi = 1.0 / max(q05, 1e-3 * scale)
    if not hi > lo * 1.01:
        hi = lo * 10.0
    mu = np.exp(rng.uniform(np.log(lo), np.log(hi), size=K))
    w = rng.dirichlet(np.ones(K))
    return _clean(w, mu, scale)


def starting_points(values, weights, K, n_init, method, rng, weights_init=None, rates_init=None,
                    obs=None, excess=None):
    """List of n_init (w, mu) starts; user-given parameters come first.

    Either ``values``/``weights`` (pseudo-value arrays) or ``obs`` (an
    :class:`Observations`; then ``values``/``weights`` may be None and are
    built from ``obs.pseudo_values()`` only if a random start needs them).
    ``excess``: for per-observation entry times, the excess pseudo-values
    ``(values, weights or None)`` (see :func:`excess_of`); the "kmeans" and
    "random" starts then draw from them instead of the values (the first,
    "quantile" start still reads the values).
    """
    cache: dict = {}

    def pseudo() -> tuple:
        if excess is not None:
            return excess[0], (np.ones_like(excess[0]) if excess[1] is None else excess[1])
        if values is not None:
            return values, (np.ones_like(values) if weights is None else weights)
        if "pv" not in cache:
            cache["pv"] = obs.pseudo_values()
        return cache["pv"]

    def quantile():
        return quantile_init(values, weights, K) if obs is None else quantile_init_obs(obs, K)

    def user_weights(w):
        # weights that sum to 1 up to rounding go to C unchanged (the C core
        # divides by their sum): the same start then gives the same fit
        # through the Python and the C / Cython APIs, bit for bit
        w = np.asarray(w, dtype=np.float64)
        return w.copy() if abs(w.sum() - 1.0) <= 1e-12 else w / w.sum()

    starts = []
    if rates_init is not None:
        w0 = np.full(K, 1.0 / K) if weights_init is None else weights_init
        starts.append((user_weights(w0), np.asarray(rates_init, dtype=np.float64).copy()))
    elif weights_init is not None:
        _, mu0 = quantile()
        starts.append((user_weights(weights_init), mu0))
    while len(starts) < n_init:
        i = len(starts)
        if method == "quantile" or (method == "auto" and i == 0):
            if method == "quantile" and i > 0:
                v, wt = pseudo()
                starts.append(kmeans_init(v, wt, K, rng))
            else:
                starts.append(quantile())
        elif method in ("kmeans", "auto"):
            v, wt = pseudo()
            starts.append(kmeans_init(v, wt, K, rng))
        else:
            v, wt = pseudo()
            starts.append(random_init(v, wt, K, rng))
    return starts


# ----------------------------------------------------------------------
# per-observation entry times: starts from the excess over the entry time

#: Seed of the generator of the deterministic excess starts (the subsample of
#: the log-excess Lloyd start above 20,000 values, the k-means++ start): the
#: extra starts are a function of the data alone, not of random_state.
EXCESS_SEED = 20261202


def excess_of(obs):
    """``(values, weights, events)`` of an observation set with per-observation
    entry times recorded row by row: the excess pseudo-values
    (:meth:`Observations.excess_pseudo_values`; weights None when
    unweighted) and the total weight of the
    rows that end in an event (exact and interval rows; right-censored rows
    only add exposure).  None without recorded row entry times."""
    ex = obs.excess_pseudo_values()
    if ex is None:
        return None
    v, w = ex
    total = float(v.shape[0]) if w is None else float(np.sum(w))
    right_w = 0.0 if obs.right is None else (
        float(obs.right.shape[0]) if obs.right_w is None else float(np.sum(obs.right_w)))
    return v, w, total - right_w


def spread_start(mu1, K):
    """Rates spread geometrically (factors e^{1.5} .. e^{-1.5}) around the
    K = 1 rate ``mu1``, equal weights; [] when mu1 is not a positive number."""
    if not (np.isfinite(mu1) and mu1 > 0):
        return []
    return [(np.full(K, 1.0 / K), mu1 * np.exp(np.linspace(1.5, -1.5, K)))]


def excess_starts(values, weights, events, K):
    """The extra starts of a fit with per-observation entry times (K >= 2),
    all deterministic functions of the data, built from the excess
    pseudo-values ``values`` (weights ``weights``, None: unit weights;
    ``events`` the weight of the rows ending in an event).

    By memorylessness, the excess ``x - t_i`` of a row from component k is
    Exp(mu_k) whatever ``t_i``: the excess data are a mixture with the
    population's rates and with the weights seen above the entry times.  So
    the rates of these starts come from the excess data, and their weights
    are the weights seen in them, not mapped back to the population (mapping
    them with a typical entry time, w_k ~ w'_k e^{mu_k t}, or by their MLE
    given the rates, measured worse: the fast components take nearly all
    the weight and EM crawls from there; see docs/numerics.md):

    1. rates spread around the K = 1 truncated MLE, events / exposure
       (exact for exact and right-censored rows; intervals enter by their
       midpoints), equal weights;
    2. ten weighted Lloyd steps on the log of the excess data from the group
       means of the excess data's quantile start (on a subsample of 20,000
       above that size);
    3. the k-means++ start of the excess data (:func:`kmeans_init`, on the
       same subsample).

    The generator of 2 and 3 is seeded with :data:`EXCESS_SEED`.  (The
    quantile start of the excess itself, tried as a start, reached the
    maximum less often than 2, which refines it; K = 4 needed 3.)
    """
    out: list = []
    v = np.ascontiguousarray(values, dtype=np.float64)
    wt = None if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    if wt is not None and bool(np.all(wt == 1.0)):
        wt = None               # unit weights are no weights (the same starts)
    exposure = float(np.sum(v) if wt is None else np.dot(v, wt))
    if not (np.isfinite(exposure) and exposure > 0 and events > 0):
        return out
    out += spread_start(events / exposure, K)
    _, muq = quantile_init(v, wt, K)
    # one (sub)sample of at most 20,000 values for both (no N-sized temporary
    # when unweighted)
    rng = np.random.default_rng(EXCESS_SEED)
    if wt is None:
        vs = v[rng.integers(0, v.shape[0], 20000)] if v.shape[0] > 20000 else v
        ws = np.ones(vs.shape[0])
    else:
        vs, ws = _subsample(v, wt, rng)
    scale = max(float(np.sum(vs * ws) / np.sum(ws)), 1e-300)
    centers = np.sort(np.log(1.0 / muq))
    out.append(_lloyd_log(vs, ws, _log_values(vs, scale), centers, scale))
    out.append(kmeans_init(vs, ws, K, rng))
    return out
