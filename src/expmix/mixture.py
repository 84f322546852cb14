"""The ExponentialMixture estimator."""
from __future__ import annotations

import inspect
import numbers
import warnings
import os
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from . import distributions as _dist
from ._init import INIT_METHODS, excess_of, excess_starts, spread_start, starting_points
from ._threads import effective_n_threads
from .exceptions import ConvergenceWarning, DegenerateFitError, DegenerateFitWarning, NotFittedError
from .observations import (Observations, _as_float_1d, exact_weight, from_histogram,
                           from_intervals, from_samples, power_of_two_scale, rescaled)

__all__ = ["ExponentialMixture"]

#: What ``random_state`` accepts.
RandomStateLike = Union[None, int, np.random.Generator, np.random.RandomState,
                        np.random.SeedSequence]
#: A common dead time, or one entry time per observation.
EntryLike = Union[None, float, ArrayLike]
_Est = TypeVar("_Est", bound="_Params")
_Self = TypeVar("_Self", bound="ExponentialMixture")

#: Fits with at most this many observations run their restarts on separate
#: threads (one thread each); larger fits run restarts one after another,
#: each pass spread over blocks on all threads.  Never nested.
BATCH_RESTART_MAX_OBS = 200_000

#: Upper bounds of max_iter and n_init (beyond them a fit would never end).
MAX_ITER_LIMIT = 10**9
N_INIT_LIMIT = 10**5
#: The log-likelihood history is kept when max_iter is at most this (it
#: needs a buffer of max_iter + 1 doubles per restart); history_ is empty above.
HISTORY_MAX_ITER = 10**6

# acceleration name -> em_options.accel of the C core
_ACCEL = {"none": 0, "squarem": 1, "anderson": 2}

_STATUS = {0: "converged", 1: "max_iter", 2: "degenerate", 3: "interrupted"}


def _rng(random_state: RandomStateLike) -> np.random.Generator:
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, bool):
            raise TypeError("random_state must be None, an int, a numpy Generator or "
                            "RandomState, or a SeedSequence; got a bool")
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}")
        return np.random.default_rng(
            None if random_state is None else (
                random_state if isinstance(random_state, np.random.SeedSequence)
                else int(random_state)))
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise TypeError("random_state must be None, an int, a numpy Generator or RandomState, "
                    f"or a SeedSequence; got {type(random_state).__name__}")


_SK_NOT_FITTED: Dict[type, type] = {}


def _not_fitted_error() -> type:
    """expmix's NotFittedError; when scikit-learn is already imported, a
    subclass that is also ``sklearn.exceptions.NotFittedError`` (so
    scikit-learn's ``except NotFittedError`` and its checks recognise it)
    without importing scikit-learn ourselves."""
    import sys
    skexc = sys.modules.get("sklearn.exceptions")
    base = getattr(skexc, "NotFittedError", None)
    if not isinstance(base, type) or not issubclass(base, Exception):
        return NotFittedError
    cls = _SK_NOT_FITTED.get(base)
    if cls is None:
        cls = type("NotFittedError", (NotFittedError, base),
                   {"__module__": "expmix.exceptions", "__qualname__": "NotFittedError",
                    "__doc__": NotFittedError.__doc__,
                    "__reduce__": lambda self: (NotFittedError, self.args)})
        _SK_NOT_FITTED[base] = cls
    return cls


class _Staged:
    """Holder of fitted attributes until a fit has completed."""

    # any attribute may be staged (typed for mypy)
    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


class _Params:
    """get_params / set_params / repr in the scikit-learn convention (no
    dependency on scikit-learn)."""

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """Parameters of this estimator (as given to ``__init__``)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self: _Est, **params: Any) -> _Est:
        """Set parameters; returns self.  Unknown names raise ValueError."""
        valid = self._get_param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for estimator "
                                 f"{type(self).__name__}; valid parameters are {valid}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        items = []
        for name in self._get_param_names():
            v = getattr(self, name)
            d = defaults.get(name, inspect.Parameter.empty)
            same = False
            try:
                same = v is d or (not isinstance(v, np.ndarray) and v == d)
            except Exception:
                same = False
            if not same:
                items.append(f"{name}={v!r}")
        return f"{type(self).__name__}({', '.join(items)})"



def _finite_float(v) -> bool:
    """Whether the real number v converts to a finite float (10**400 does not)."""
    try:
        return bool(np.isfinite(float(v)))
    except (OverflowError, ValueError, TypeError):
        return False


def _real_param(value, name: str) -> np.ndarray:
    """A float64 array from a sequence of real numbers, naming the argument."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of real numbers, got {value!r}")
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name} must be a sequence of real numbers ({e})") from None
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a sequence of real numbers, got dtype {a.dtype}")
    return a.astype(np.float64)

class ExponentialMixture(_Params):
    r"""Finite mixture of exponential distributions fitted by maximum likelihood.

    .. math:: p(x) = \sum_{k=1}^{K} w_k \mu_k e^{-\mu_k x}, \qquad x \ge 0.

    The fit is EM run entirely in C (one fused pass over the data per
    iteration, no N x K matrix), accelerated by SQUAREM, for exact,
    right-censored, interval-censored (binned) and left-truncated data.

    Parameters
    ----------
    n_components : int, default 1
        Number of components K (1 <= K <= 256).
    tol : float, default 1e-10
        Convergence tolerance on the mean log-likelihood per unit weight.  A
        fit stops at an EM iterate when the gain of its EM step is below
        ``tol`` and so is the gain still expected from the linear rate of EM
        (estimated from the shrinkage of successive steps: gain * rho^2 /
        (1 - rho^2)); SQUAREM stops after an accepted extrapolation only if
        the EM step of that cycle met the same test.  So ``tol`` bounds the
        distance of the mean log-likelihood to its maximum, approximately.
        ``tol=0`` runs ``max_iter`` passes.  See docs/numerics.md.
    max_iter : int, default 1000
        Maximum number of fused passes per restart (each EM update is one
        pass; a SQUAREM cycle costs three); at most 10**9.  Above 10**6 no
        ``history_`` is kept.
    n_init : int, default 1
        Number of restarts (at most 10**5); the one with the highest
        log-likelihood is kept.
    init : {"auto", "quantile", "kmeans", "random"}, default "auto"
        Starting points.  "quantile" is deterministic (K groups of equal
        weight cut at the exact weighted quantiles of the values, computed in
        C without sorting or copying the data; see ``expmix._init``);
        "kmeans" (k-means++ on log x) and
        "random" (log-uniform rates, Dirichlet weights) draw from
        ``random_state``.  "auto": the first restart uses "quantile", the
        others "kmeans".  With "quantile" and n_init > 1 the extra restarts
        use "kmeans".  With per-observation entry times (K >= 2) the
        "kmeans"/"random" starts read the excess over each row's entry time,
        and three deterministic starts from the excess are added (without
        ``weights_init``/``rates_init``); see ``expmix._init``.
    weights_init, rates_init : array-like of shape (K,), optional
        User-supplied start for the first restart (the other restarts follow
        ``init``).  If only ``weights_init`` is given, the rates start from
        "quantile".
    acceleration : {"anderson", "squarem", "none"}, default "anderson"
        Anderson acceleration (depth 3, monotonicity safeguard, restarts;
        5.8x fewer passes than plain EM on the benchmark mixture and 1.5x
        to 15x fewer than SQUAREM, see docs/numerics.md), SQUAREM (Varadhan
        & Roland 2008, scheme S3, with the same safeguard), or plain EM.
        Each stops at a stationary point within ``tol``; with several local
        maxima they can end at different ones from the same start (use
        ``n_init``).
    random_state : None, int, numpy Generator/RandomState or SeedSequence
        Seeds the random initializations; fits are reproducible with it.
    n_threads : int or None, default None
        Threads for the fit; None uses every CPU available to the process
        (honouring OMP_NUM_THREADS and the CPU quota).  Results are bitwise
        identical for any value.
    verbose : int, default 0
        0: silent; 1: one line per restart.

    Attributes
    ----------
    weights_ : ndarray (K,)
        Mixing weights of the (untruncated) population, ordered by decreasing rate.
    rates_ : ndarray (K,)
        Rates mu_k, decreasing.
    means_ : ndarray (K,)
        Component means 1 / rates_.
    converged_ : bool
        Whether the chosen restart met ``tol``.
    n_iter_ : int
        Passes used by the chosen restart.
    log_likelihood_ : float
        Total (weighted) observed-data log-likelihood of the fitted data.
    lower_bound_ : float
        Mean log-likelihood per unit weight (``log_likelihood_ / total weight``),
        as scikit-learn's ``lower_bound_``.
    history_ : ndarray
        Mean log-likelihood at each accepted iterate of the chosen restart.
    n_parameters_ : int
        2K - 1.
    n_observations_ : int
        Number of observations (rows) fitted.
    total_weight_ : float
        Sum of the sample weights (the n in BIC).
    status_ : str
        "converged", "max_iter" or "degenerate" (an emptied component).
    restarts_ : list of dict
        Per restart: log_likelihood, status, n_iter, start (with
        per-observation entry times and K >= 2, the extra starts follow the
        ``n_init`` restarts).
    data_kinds_ : tuple of str
        Kinds of observations fitted ("exact", "right", "interval", "truncated").
    entry_ : float or None
        The common dead time (scalar ``entry``) of the fitted data, 0.0 when
        the data were not truncated, None for per-observation entry times.
    observed_weights_ : ndarray (K,) or None
        Weights of the components among the observations above the dead time,
        w_k e^{-mu_k t} / S(t) (what a dwell-time histogram above the dead
        time shows); equal to ``weights_`` without truncation, None for
        per-observation entry times (use ``weights_above(t)``).
    bic_, aic_ : float
        BIC and AIC of the fitted data, of whatever kind:
        -2 log_likelihood_ + p log n and -2 log_likelihood_ + 2p, with
        p = 2K - 1 and n = ``total_weight_`` (the number of observations when
        unweighted, the total count of a histogram).  Truncated observations
        count once (the unseen ones below the dead time do not enter n).

    Notes
    -----
    Degenerate fits.  With exact zeros in the data and K >= 2 the likelihood
    is unbounded: a component can sit on the zeros with a rate growing
    without bound.  The C loop stops such a restart as soon as a rate exceeds
    ``1e14`` divided by the data scale and flags it; restarts that diverged
    are set aside and the best remaining restart is returned (with a
    ``DegenerateFitWarning``).  If every restart diverged a
    ``DegenerateFitError`` explains the cause; fitting the rounded values as
    intervals (``fit_intervals``) removes it.  A restart whose weight falls
    below 1e-12 stops too; it is kept (its likelihood is finite) and flagged
    in ``status_``.

    Censored, binned and truncated data.  Every likelihood term is exact:
    the density of an exact value, the survival S(c) of a right-censored
    one, the bin probability F(b) - F(a) (in log space, exact far in the
    tail) of an interval, each divided by S(t) when the observation is
    left-truncated at t.  The fitted ``weights_`` and ``rates_`` describe
    the untruncated population; ``observed_weights_`` are the weights seen
    above a common dead time.  A common dead time (scalar ``entry``) is
    fitted through memorylessness (the data measured from t, then
    w_k = w'_k e^{mu_k t} / sum_j w'_j e^{mu_j t}); per-observation entry
    times use missing-data EM in the C pass (the unseen observations below
    each entry time are the missing data), which converges more slowly when
    the entry times remove most of a component (S(t) small); when every
    observation is truncated, the smallest entry time is handled as a dead
    time as above and only the excess is missing data.  If a fast
    component lies so far below the dead time that its population weight
    exceeds the others by more than ~1e300, ``weights_`` underflows; the
    fit and ``observed_weights_`` stay exact.

    Threads and interruption.  The C loop releases the GIL, so fits in
    different Python threads run in parallel.  A fitted estimator may be
    used for prediction, scoring and the distribution functions from any
    number of threads at once.  Fitting the *same* estimator from two
    threads at once is safe but pointless: the fitted attributes are
    computed aside and set together at the end of a fit, so the estimator
    always holds one complete fit (the one that finished last); use one
    estimator per thread.  Ctrl-C (SIGINT) stops a fit within about 0.2 s
    (the C loop checks for signals between iterations, and the calling thread
    does so while restarts run in parallel) and raises KeyboardInterrupt; an
    interrupted or failed fit leaves the estimator as it was (unfitted, or
    fitted to the previous data).

    Reproducibility.  Results are bitwise identical for every ``n_threads``
    and across runs on the same build and CPU code path: every sum in the C
    core is cut into fixed blocks added in a fixed order.  Tested on Linux
    x86-64 (gcc 12, with and without OpenMP); a different compiler, compiler
    flags, or CPU instruction set (another em_vmath code path, FMA
    contraction) may change the last bits, but not the thread invariance.

    Memory.  A fit of exact data given as a contiguous float64 array (with
    or without ``sample_weight``), or of intervals that are all proper
    intervals, makes no copy of the data and no temporary of their size:
    validation is one pass in C, the "quantile" start is computed in C on
    the arrays in place, and the fitted model keeps read-only *views* of
    the arrays it was given (for ``standard_errors_``, ``confint``,
    ``bootstrap`` and ``goodness_of_fit``), which keeps those arrays alive
    as long as the model (``del model._obs`` releases them; inference then
    needs a refit).  Modifying the input in place after the fit changes what
    these methods see.  Other inputs are converted or split once: a
    non-float64 or non-contiguous X is converted to float64 (one copy),
    censored samples (``event_observed`` with both kinds present) are
    split into two contiguous segments (one copy of the values and
    weights), a dead time ``entry`` shifts the data (one copy),
    per-observation entry times are kept as truncation pairs (one copy) and
    row by row (a view, split like the values) and, for K >= 2, their
    starts gather the excess over the entry times (one copy), data at
    extreme magnitudes are rescaled (one copy), and "kmeans"/"random"
    restarts gather the pseudo-values (one copy).

    Extreme magnitudes.  Data whose largest value lies outside [2**-256,
    2**256] are fitted after an exact division by a power of two and the
    rates mapped back, so fits work from about 1e-300 up to the largest
    doubles.  Data so small that the rates would exceed the float64 range
    (subnormal values) raise a ValueError.
    """

    # Fitted attributes (declared for type checkers; set by fit, absent before).
    weights_: np.ndarray
    rates_: np.ndarray
    means_: np.ndarray
    converged_: bool
    n_iter_: int
    log_likelihood_: float
    total_weight_: float
    lower_bound_: float
    history_: np.ndarray
    n_parameters_: int
    n_observations_: int
    n_features_in_: int
    status_: str
    data_kinds_: tuple
    restarts_: List[Dict[str, Any]]
    entry_: Optional[float]
    observed_weights_: Optional[np.ndarray]
    bic_: float
    aic_: float
    _obs: Optional[Observations]
    _se_cache: Optional[Tuple[Any, Any]]

    def __init__(self, n_components: int = 1, *, tol: float = 1e-10, max_iter: int = 1000,
                 n_init: int = 1, init: str = "auto",
                 weights_init: Optional[ArrayLike] = None, rates_init: Optional[ArrayLike] = None,
                 acceleration: str = "anderson", random_state: RandomStateLike = None,
                 n_threads: Optional[int] = None, verbose: int = 0) -> None:
        self.n_components = n_components
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.init = init
        self.weights_init = weights_init
        self.rates_init = rates_init
        self.acceleration = acceleration
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    # ------------------------------------------------------------------
    # validation

    def _validate_params(self):
        K = self.n_components
        if isinstance(K, bool) or not isinstance(K, numbers.Integral):
            raise TypeError(f"n_components must be an int, got {K!r}")
        if not 1 <= int(K) <= _core.MAX_COMPONENTS:
            raise ValueError(f"n_components must be between 1 and {_core.MAX_COMPONENTS}, got {K}")
        if isinstance(self.tol, bool) or not isinstance(self.tol, numbers.Real) \
                or not _finite_float(self.tol) or self.tol < 0:
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        for name in ("max_iter", "n_init"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name} must be an int, got {v!r}")
        if not 0 <= self.max_iter <= MAX_ITER_LIMIT:
            raise ValueError(f"max_iter must be >= 0 and <= {MAX_ITER_LIMIT}, got {self.max_iter}")
        if not 1 <= self.n_init <= N_INIT_LIMIT:
            raise ValueError(f"n_init must be >= 1 and <= {N_INIT_LIMIT}, got {self.n_init}")
        if not isinstance(self.init, str) or self.init not in INIT_METHODS:
            raise ValueError(f"init must be one of {INIT_METHODS}, got {self.init!r}")
        if not isinstance(self.acceleration, str) or self.acceleration not in _ACCEL:
            raise ValueError(f"acceleration must be 'squarem', 'anderson' or 'none', got {self.acceleration!r}")
        if isinstance(self.verbose, bool) or not isinstance(self.verbose, numbers.Integral):
            raise TypeError(f"verbose must be an int, got {self.verbose!r}")
        K = int(K)
        w0 = mu0 = None
        if self.weights_init is not None:
            w0 = _real_param(self.weights_init, "weights_init")
            if w0.shape != (K,):
                raise ValueError(f"weights_init must have shape ({K},), got {w0.shape}")
            if not np.all(np.isfinite(w0)) or np.any(w0 <= 0):
                raise ValueError("weights_init must be finite and positive")
            if abs(w0.sum() - 1.0) > 1e-6:
                raise ValueError(f"weights_init must sum to 1, got {w0.sum()!r}")
        if self.rates_init is not None:
            mu0 = _real_param(self.rates_init, "rates_init")
            if mu0.shape != (K,):
                raise ValueError(f"rates_init must have shape ({K},), got {mu0.shape}")
            if not np.all(np.isfinite(mu0)) or np.any(mu0 <= 0):
                raise ValueError("rates_init must be finite and positive")
        return w0, mu0

    def _check_fitted(self) -> None:
        if not hasattr(self, "rates_"):
            raise _not_fitted_error()(f"This {type(self).__name__} instance is not fitted yet; "
                                 "call fit (or fit_intervals / fit_histogram) first")

    # ------------------------------------------------------------------
    # fitting

    def fit(self: _Self, X: ArrayLike, y: Any = None, sample_weight: Optional[ArrayLike] = None, *,
            event_observed: Optional[ArrayLike] = None, entry: EntryLike = None) -> _Self:
        """Fit the mixture to observations ``X``.

        Parameters
        ----------
        X : array-like of shape (n,) or (n, 1)
            Non-negative finite values: a numpy array of any real dtype
            (integers, float16/32 and longdouble are converted to float64,
            the precision of the C core; float32 values are widened exactly),
            contiguous or not, a Python sequence, a pandas Series or a
            single-column DataFrame.
        y : ignored
        sample_weight : array-like of shape (n,), optional
            Non-negative weights (frequencies); integer weights are
            equivalent to repeating the observations.
        event_observed : array-like of bool, optional
            ``False`` marks ``X[i]`` as a right-censoring time.
        entry : float or array-like of shape (n,), optional
            Left-truncation: a common dead time, or one entry time per
            observation (each below its ``X``).  The fitted parameters
            describe the untruncated population.

        Returns
        -------
        self
        """
        return self._fit(from_samples(X, sample_weight, event_observed, entry))

    def fit_intervals(self: _Self, lower: ArrayLike, upper: ArrayLike,
                      sample_weight: Optional[ArrayLike] = None, *,
                      entry: EntryLike = None) -> _Self:
        """Fit interval-censored observations ``lower < x < upper``.

        ``lower == upper`` is an exact value, ``upper == inf`` a right-censored
        one, ``lower == 0`` a left-censored one.  ``entry``: left truncation as
        in :meth:`fit`.  Returns self.
        """
        return self._fit(from_intervals(lower, upper, sample_weight, entry))

    def fit_histogram(self: _Self, edges: ArrayLike, counts: ArrayLike, *,
                      entry: Optional[float] = None) -> _Self:
        """Fit binned data: ``counts[i]`` observations in [edges[i], edges[i+1]).

        The last edge may be ``inf`` (an open last bin).  ``entry``: a common
        dead time at or below ``edges[0]``.  Returns self.
        """
        return self._fit(from_histogram(edges, counts, entry))

    def fit_predict(self, X: ArrayLike, y: Any = None, sample_weight: Optional[ArrayLike] = None,
                    *, event_observed: Optional[ArrayLike] = None,
                    entry: EntryLike = None) -> np.ndarray:
        """Fit and return the most probable component of each observation
        (equal to ``fit(X).predict(X)``)."""
        self.fit(X, y, sample_weight, event_observed=event_observed, entry=entry)
        return self.predict(X, event_observed=event_observed)

    def _fit(self: _Self, obs: Observations) -> _Self:
        if getattr(obs, "dead_time", 0.0) > 0:
            return self._fit_dead_time(obs)
        w0, mu0 = self._validate_params()
        K = int(self.n_components)
        n_threads = effective_n_threads(self.n_threads)
        n_distinct_ok = obs.n_obs >= K
        if not n_distinct_ok:
            raise ValueError(f"n_components={K} is larger than the number of observations "
                             f"({obs.n_obs}); at least one observation per component is needed")
        rng = _rng(self.random_state)
        # Data at extreme magnitudes are fitted in exactly rescaled units
        # (division by a power of two), then mapped back: see
        # observations.power_of_two_scale.  s_data == 1.0 for ordinary data.
        s_data = power_of_two_scale(obs)
        obs_user = obs
        obs = rescaled(obs, s_data)
        if mu0 is not None:
            mu0 = mu0 * s_data
        # the quantile start reads obs in place (C); pseudo-value arrays are
        # built only for kmeans/random restarts.  Per-observation entry times:
        # the data-driven starts other than the first read the excess over the
        # entry times (see _truncation_starts)
        excess = excess_of(obs) if obs.trunc is not None and K > 1 else None
        starts = starting_points(None, None, K, int(self.n_init), self.init, rng,
                                 weights_init=w0, rates_init=mu0, obs=obs,
                                 excess=None if excess is None else excess[:2])
        scale = float(_core.data_scale(obs))
        if obs.trunc is not None and K > 1 and w0 is None and mu0 is None:
            starts = list(starts) + _truncation_starts(obs, K, n_threads, scale, excess)
        del excess
        accel = _ACCEL[self.acceleration]
        keep_history = int(self.max_iter) <= HISTORY_MAX_ITER
        opts: Dict[str, Any] = dict(max_iter=int(self.max_iter), tol=float(self.tol), accel=accel, scale=scale)
        if obs.trunc is not None:       # EM crawls here; the Newton polish finishes
            opts["max_iter"] = min(opts["max_iter"], TRUNCATION_EM_MAX_ITER)
        n_rows = obs.n_obs
        runs = []
        if len(starts) > 1 and n_rows <= BATCH_RESTART_MAX_OBS and n_threads > 1:
            W = np.ascontiguousarray([s[0] for s in starts], dtype=np.float64)
            M = np.ascontiguousarray([s[1] for s in starts], dtype=np.float64)
            out = _core.fit_batch([obs] * len(starts), W, M, scales=[scale] * len(starts),
                                  n_threads=n_threads, history=keep_history,
                                  max_iter=opts["max_iter"], tol=opts["tol"], accel=accel)
            for i in range(len(starts)):
                runs.append(dict(w=W[i].copy(), mu=M[i].copy(), status=int(out["status"][i]),
                                 n_iter=int(out["n_iter"][i]), loglik=float(out["loglik"][i]),
                                 weight=float(out["weight"][i]),
                                 history=out["history"][i] if keep_history else np.zeros(0),
                                 degenerate_component=int(out["degenerate_component"][i]),
                                 degenerate_kind=int(out["degenerate_kind"][i]),
                                 start=starts[i]))
                if runs[-1]["status"] < 0:
                    _core._raise_status(runs[-1]["status"], "fit")
        else:
            for s in starts:
                w = np.ascontiguousarray(s[0], dtype=np.float64).copy()
                mu = np.ascontiguousarray(s[1], dtype=np.float64).copy()
                r = _core.fit(obs, w, mu, n_threads=n_threads, history=keep_history, **opts)
                runs.append(dict(w=w, mu=mu, start=s, **{k: r[k] for k in (
                    "status", "n_iter", "loglik", "weight", "history", "degenerate_component",
                    "degenerate_kind")}))
        for i, r in enumerate(runs):
            r["kind"] = {1: "empty", 2: "spike"}.get(r["degenerate_kind"], "")
            if self.verbose:
                print(f"[expmix] restart {i}: {_STATUS.get(r['status'], r['status'])}"
                      f"{' (' + r['kind'] + ')' if r['kind'] else ''}, "
                      f"n_iter={r['n_iter']}, mean loglik={r['loglik'] / max(r['weight'], 1e-300):.12g}")
        sound = [r for r in runs if r["kind"] != "spike"]
        if not sound:
            n_zero = int(np.sum(obs.exact == 0)) if obs.exact is not None else 0
            raise DegenerateFitError(
                f"every restart of the {K}-component fit degenerated: a rate diverged "
                f"(a component collapsing onto {'the ' + str(n_zero) + ' exact zeros' if n_zero else 'a point'}). "
                "The likelihood is unbounded for these data; if the values are rounded, "
                "fit them as intervals with fit_intervals(x - d/2, x + d/2) (d the "
                "resolution), or use fewer components")
        if len(sound) < len(runs):
            warnings.warn(f"{len(runs) - len(sound)} of {len(runs)} restarts degenerated "
                          "(a rate diverged, typically on exact zeros) and were set aside",
                          DegenerateFitWarning, stacklevel=3)
        if obs.trunc is not None:
            _polish_truncated_runs(obs, sound, n_threads)
        best = max(sound, key=lambda r: r["loglik"])
        if not any(r["status"] == 0 for r in sound):
            warnings.warn(
                f"No restart of {type(self).__name__}(n_components={K}) converged within "
                f"max_iter={self.max_iter} (tol={self.tol}); the best restart "
                f"(status {_STATUS.get(best['status'])}) is returned. Increase max_iter or tol.",
                ConvergenceWarning, stacklevel=3)
        if best["kind"] == "empty":
            warnings.warn(f"the chosen fit has a component whose weight vanished (< 1e-12): "
                          f"the data support fewer than {K} components", DegenerateFitWarning,
                          stacklevel=3)
        order = np.argsort(-best["mu"], kind="stable")
        # Attributes are staged and set together at the end, so an exception
        # (or a KeyboardInterrupt during the C loop) leaves the estimator in
        # its previous state: unfitted, or fitted to the previous data.
        fitted = _Staged()
        ll_shift = -exact_weight(obs) * np.log(s_data)   # log-density units of the user's data
        with np.errstate(over="ignore"):
            for r in runs:
                r["loglik"] = r["loglik"] + ll_shift
                r["start"] = (r["start"][0], np.asarray(r["start"][1]) / s_data)
            rates_ok = bool(np.all(np.isfinite(best["mu"] / s_data)))
        if not rates_ok:
            raise ValueError("X: the fitted rates exceed the float64 "
                             "range (the data are near the smallest representable numbers); "
                             "multiply the data by a constant c and divide the fitted rates by c")
        fitted.weights_ = best["w"][order] / best["w"].sum()
        fitted.rates_ = best["mu"][order] / s_data
        fitted.means_ = 1.0 / fitted.rates_
        fitted.converged_ = best["status"] == 0
        fitted.n_iter_ = int(best["n_iter"])
        fitted.log_likelihood_ = float(best["loglik"])
        fitted.total_weight_ = float(best["weight"])
        fitted.lower_bound_ = fitted.log_likelihood_ / fitted.total_weight_
        fitted.history_ = (np.zeros(0) if best["history"] is None else
                           np.asarray(best["history"]) + ll_shift / fitted.total_weight_)
        fitted.n_parameters_ = 2 * K - 1
        fitted.n_observations_ = int(obs.n_obs)
        fitted.n_features_in_ = 1
        fitted.status_ = _STATUS.get(best["status"], str(best["status"])) + \
            (" (empty component)" if best["kind"] == "empty" else "")
        fitted.data_kinds_ = obs.kinds
        fitted.restarts_ = [dict(log_likelihood=r["loglik"], status=_STATUS.get(r["status"]),
                               degenerate=r["kind"], n_iter=r["n_iter"],
                               start=(np.asarray(r["start"][0]), np.asarray(r["start"][1])))
                          for r in runs]
        self.__dict__.update(vars(fitted))
        self._obs = obs_user     # the data as given (inference, dead-time mapping)
        self._se_cache = None
        self._set_observation_attrs(obs_user)
        return self

    # ------------------------------------------------------------------
    # evaluation

    def score_samples(self, X: ArrayLike, *, event_observed: Optional[ArrayLike] = None,
                      entry: EntryLike = None) -> np.ndarray:
        """Log-likelihood of each observation under the fitted model.

        The log-density of an exact value, the log-survival of a censored one
        (``event_observed[i] == False``), minus ``log S(entry[i])`` when the
        observation is left-truncated (``entry``: a scalar dead time or one
        entry time per observation, validated as in :meth:`fit`).  The values
        sum to :meth:`log_likelihood` of the same data.

        Returns
        -------
        ndarray of shape (n,), in the order of ``X``.
        """
        self._check_fitted()
        x = _as_values(X)
        # full validation (entry below X, event flags, NaN ...) as in fit
        from_samples(x, None, event_observed, entry, check_information=False)
        ev = np.ones(x.shape[0], bool) if event_observed is None \
            else _as_events(event_observed, x.shape[0])
        lower = x
        upper = np.where(ev, x, np.inf)
        return self._row_logliks(lower, upper, entry)

    def _loglik_obs(self, obs: Observations) -> float:
        w = self.weights_
        if getattr(obs, "dead_time", 0.0) > 0:
            # memorylessness: the truncated likelihood is that of the data
            # measured from the dead time under the weights seen above it
            w = self._weights_at(obs.dead_time)
            obs = obs.shifted()
        s_data = power_of_two_scale(obs)   # extreme magnitudes: evaluate in rescaled units
        with np.errstate(over="ignore"):
            if not np.all(np.isfinite(self.rates_ * s_data)):
                # data far beyond the fitted scale: the rates would overflow in the
                # data's units; the pass handles the unscaled values (exp underflows)
                s_data = 1.0
        ll, _, _, _ = _core.pass_stats(rescaled(obs, s_data), np.ascontiguousarray(w),
                                       np.ascontiguousarray(self.rates_ * s_data),
                                       effective_n_threads(self.n_threads))
        return float(ll) - exact_weight(obs) * np.log(s_data)

    def score(self, X: ArrayLike, y: Any = None, sample_weight: Optional[ArrayLike] = None, *,
              event_observed: Optional[ArrayLike] = None, entry: EntryLike = None) -> float:
        """Mean log-likelihood per unit weight of the observations."""
        self._check_fitted()
        obs = from_samples(X, sample_weight, event_observed, entry, check_information=False)
        return self._loglik_obs(obs) / obs.total_weight

    def log_likelihood(self, X: ArrayLike, sample_weight: Optional[ArrayLike] = None, *,
                       event_observed: Optional[ArrayLike] = None,
                       entry: EntryLike = None) -> float:
        """Total (weighted) log-likelihood of the observations."""
        self._check_fitted()
        return self._loglik_obs(from_samples(X, sample_weight, event_observed, entry,
                                             check_information=False))

    def _criterion(self, X: ArrayLike, sample_weight: Optional[ArrayLike],
                   event_observed: Optional[ArrayLike], entry: EntryLike,
                   penalty: Callable[[int, float], float]) -> float:
        self._check_fitted()
        obs = from_samples(X, sample_weight, event_observed, entry, check_information=False)
        return -2.0 * self._loglik_obs(obs) + penalty(self.n_parameters_, obs.total_weight)

    def bic(self, X: ArrayLike, sample_weight: Optional[ArrayLike] = None, *,
            event_observed: Optional[ArrayLike] = None, entry: EntryLike = None) -> float:
        """Bayesian information criterion: -2 logL + p log n, with p = 2K - 1
        and n the total weight (the number of observations when unweighted;
        the total count for histograms).  Lower is better."""
        return self._criterion(X, sample_weight, event_observed, entry,
                               lambda p, n: p * np.log(n))

    def aic(self, X: ArrayLike, sample_weight: Optional[ArrayLike] = None, *,
            event_observed: Optional[ArrayLike] = None, entry: EntryLike = None) -> float:
        """Akaike information criterion: -2 logL + 2p.  Lower is better."""
        return self._criterion(X, sample_weight, event_observed, entry, lambda p, n: 2.0 * p)

    def predict_proba(self, X: ArrayLike, *,
                      event_observed: Optional[ArrayLike] = None) -> np.ndarray:
        """Posterior probability of each component for each observation
        (shape (n, K)); censored observations use the survival function."""
        self._check_fitted()
        x = _as_values(X)
        ev = np.ones(x.shape[0], bool) if event_observed is None else _as_events(event_observed, x.shape[0])
        lw = np.log(self.weights_)
        a = np.where(ev[:, None], lw + np.log(self.rates_) - np.multiply.outer(x, self.rates_),
                     lw - np.multiply.outer(x, self.rates_))
        a -= a.max(axis=1, keepdims=True)
        p = np.exp(a)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: ArrayLike, *, event_observed: Optional[ArrayLike] = None) -> np.ndarray:
        """Most probable component of each observation (0 = fastest rate)."""
        return np.argmax(self.predict_proba(X, event_observed=event_observed), axis=1)

    def sample(self, n_samples: int = 1, random_state: RandomStateLike = None
               ) -> Tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` values; returns (X of shape (n,), component labels)."""
        self._check_fitted()
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}")
        return _dist.rvs(int(n_samples), self.weights_, self.rates_, _rng(random_state))

    # distribution functions of the fitted mixture
    def _eval(self, fn, x):
        """fn(x) of the fitted mixture for numeric x; NaN in, NaN out."""
        self._check_fitted()
        x = _as_real(x, "x")
        out = fn(x, self.weights_, self.rates_)
        return np.where(np.isnan(x), np.nan, out) if np.isnan(x).any() else out

    def pdf(self, x: ArrayLike) -> np.ndarray:
        """Density of the fitted mixture."""
        self._check_fitted()
        return self._eval(_dist.pdf, x)

    def logpdf(self, x: ArrayLike) -> np.ndarray:
        """Log-density of the fitted mixture."""
        self._check_fitted()
        return self._eval(_dist.logpdf, x)

    def cdf(self, x: ArrayLike) -> np.ndarray:
        """Cumulative distribution function."""
        self._check_fitted()
        return self._eval(_dist.cdf, x)

    def logcdf(self, x: ArrayLike) -> np.ndarray:
        """log CDF, accurate near 0."""
        self._check_fitted()
        return self._eval(_dist.logcdf, x)

    def sf(self, x: ArrayLike) -> np.ndarray:
        """Survival function P(X > x)."""
        self._check_fitted()
        return self._eval(_dist.sf, x)

    def logsf(self, x: ArrayLike) -> np.ndarray:
        """log survival, accurate far into the tail."""
        self._check_fitted()
        return self._eval(_dist.logsf, x)

    def ppf(self, q: ArrayLike) -> np.ndarray:
        """Quantile function (inverse CDF), accurate to ~1e-15 relative."""
        self._check_fitted()
        return _dist.ppf(_as_real(q, "q"), self.weights_, self.rates_)

    def isf(self, q: ArrayLike) -> np.ndarray:
        """Inverse survival function, accurate for tiny q."""
        self._check_fitted()
        return _dist.isf(_as_real(q, "q"), self.weights_, self.rates_)

    def mean(self) -> float:
        """Mean of the fitted mixture, sum_k w_k / mu_k."""
        self._check_fitted()
        return _dist.mean(self.weights_, self.rates_)

    def var(self) -> float:
        """Variance of the fitted mixture."""
        self._check_fitted()
        return _dist.var(self.weights_, self.rates_)

    def weights_above(self, t: float) -> np.ndarray:
        """Weights of the components among observations above ``t``:
        w_k e^{-mu_k t} / S(t) (the weights seen beyond a dead time t)."""
        self._check_fitted()
        ta = _as_real(t, "t")
        if ta.ndim != 0:
            raise ValueError(f"t must be a single number, got shape {ta.shape}")
        t = float(ta)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"t must be a finite number >= 0, got {t!r}")
        if t == 0.0:
            # S(0) = 1: the weights themselves, bit for bit (a loaded model, which
            # recomputes this, then scores exactly as the fitted one)
            return np.array(self.weights_, dtype=np.float64)
        with np.errstate(divide="ignore"):
            a = np.log(self.weights_) - self.rates_ * t
        a -= a.max()
        p = np.exp(a)
        return p / p.sum()


    # ------------------------------------------------------------------
    # scikit-learn integration (scikit-learn is imported only when it asks)

    _estimator_type = "density_estimator"

    def __sklearn_tags__(self) -> Any:
        """Estimator tags for scikit-learn >= 1.6 (``sklearn.utils.get_tags``).

        A density estimator of one non-negative variable: ``X`` may be 1-D or a
        single column, must be non-negative; NaN is rejected; no target.
        scikit-learn is imported here, lazily: only scikit-learn calls this.
        """
        from sklearn.utils import InputTags, Tags, TargetTags
        return Tags(estimator_type="density_estimator",
                    target_tags=TargetTags(required=False),
                    input_tags=InputTags(one_d_array=True, two_d_array=True, positive_only=True,
                                         allow_nan=False, sparse=False),
                    requires_fit=True, non_deterministic=False)

    def __sklearn_is_fitted__(self) -> bool:
        """True once fit (or fit_intervals / fit_histogram / load) has run
        (used by ``sklearn.utils.validation.check_is_fitted``)."""
        return hasattr(self, "rates_")

    # ------------------------------------------------------------------
    # persistence and plots (delegating to expmix.io and expmix.plotting)

    def to_dict(self) -> Dict[str, Any]:
        """The model (parameters and, if fitted, fitted attributes) as a
        JSON-compatible dict in the versioned schema of :mod:`expmix.io`."""
        from . import io
        return io.to_dict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "ExponentialMixture":
        """Rebuild a model from :meth:`to_dict` output; validates every field and
        raises :class:`expmix.io.ModelFileError` naming the first bad one."""
        from . import io
        return io.from_dict(d)

    def save(self, path: "Union[str, os.PathLike[str]]") -> None:
        """Save the model as versioned JSON (see :mod:`expmix.io`); reload it
        with :meth:`ExponentialMixture.load` or :func:`expmix.load`."""
        from . import io
        io.save(self, path)

    @classmethod
    def load(cls, path: "Union[str, os.PathLike[str]]") -> "ExponentialMixture":
        """Load a model written by :meth:`save`.  The file is validated: a file
        from a newer expmix or with an invalid value raises
        :class:`expmix.io.ModelFileError`."""
        from . import io
        return io.load(path)

    def plot(self, X: Optional[ArrayLike] = None, *, ax: Any = None, bins: Any = None,
             components: bool = True, **kwargs: Any) -> Any:
        """Log-binned dwell-time histogram with the fitted density (Sigworth & Sine 1987).

        See :func:`expmix.plotting.plot_histogram` for the parameters; returns
        the matplotlib Axes.  Requires matplotlib (``pip install expmix[plot]``).
        """
        from . import plotting
        return plotting.plot_histogram(self, X, ax=ax, bins=bins, components=components,
                                       **kwargs)

    def plot_survival(self, X: Optional[ArrayLike] = None, *,
                      event_observed: Optional[ArrayLike] = None, ax: Any = None,
                      **kwargs: Any) -> Any:
        """Empirical (Kaplan-Meier when censored) vs fitted survival on log axes.

        See :func:`expmix.plotting.plot_survival`; returns the matplotlib Axes.
        """
        from . import plotting
        return plotting.plot_survival(self, X, event_observed=event_observed, ax=ax, **kwargs)


    # censored, binned and truncated data: fitting with a dead time, the
    # weights seen above it, and evaluation of interval / histogram data

    def _fit_dead_time(self, obs: Observations):
        """Fit with a common dead time t by memorylessness: fit the data
        measured from t (exact, no missing data), whose weights are those
        seen above t, then map them to the population,
        w_k = w'_k e^{mu_k t} / sum_j w'_j e^{mu_j t}."""
        t = float(obs.dead_time)
        w_user = self.weights_init
        if w_user is not None and self.rates_init is not None:
            # a user start describes the population: the shifted fit starts
            # from the weights it implies above t
            a = np.log(np.asarray(w_user, float)) - np.asarray(self.rates_init, float) * t
            a = np.exp(a - a.max())
            self.weights_init = np.maximum(a / a.sum(), 1e-300)
        try:
            self._fit(obs.shifted())
        finally:
            self.weights_init = w_user
        observed = self.weights_
        with np.errstate(divide="ignore"):
            a = np.log(observed) + self.rates_ * t
        a -= a.max()
        w = np.exp(a)
        self.weights_ = w / w.sum()
        self.data_kinds_ = obs.kinds
        self._set_observation_attrs(obs)
        # inference works on the truncated likelihood of the data as given
        # (equal to the shifted one by memorylessness)
        self._obs = obs
        self._se_cache = None
        self._shift_, self._shift_weights_ = t, observed
        if self.entry_ is not None:
            self.observed_weights_ = observed
        return self

    def _set_observation_attrs(self, obs: Observations):
        t = float(getattr(obs, "dead_time", 0.0))
        per_observation = (obs.shifted().trunc if t > 0 else obs.trunc) is not None
        self.entry_ = None if per_observation else t
        self.observed_weights_ = None if per_observation else self.weights_above(t)
        self._shift_, self._shift_weights_ = 0.0, self.weights_
        n = self.total_weight_
        self.bic_ = -2.0 * self.log_likelihood_ + self.n_parameters_ * np.log(n)
        self.aic_ = -2.0 * self.log_likelihood_ + 2.0 * self.n_parameters_

    def _weights_at(self, t: float) -> np.ndarray:
        """Weights seen above t; exact (no underflow) at the fitted dead time."""
        if t == getattr(self, "_shift_", None):
            return self._shift_weights_
        return self.weights_above(t)

    def _row_logliks(self, lower, upper, entry) -> np.ndarray:
        """Per-row log-likelihood of validated bounds (exact: lower == upper,
        right-censored: upper == inf) with optional truncation ``entry``."""
        n = lower.shape[0]
        mu = self.rates_
        trunc: Any
        if entry is None or np.ndim(entry) == 0:
            t0 = 0.0 if entry is None else float(entry)
            w = self._weights_at(t0)       # shift by a common t (memorylessness)
            lo, hi = lower - t0, upper - t0
            trunc = 0.0
        else:
            ts = np.asarray(entry, dtype=np.float64).reshape(n)
            s = self._shift_ if np.all(ts >= self._shift_) else 0.0
            w = self._weights_at(s)
            lo, hi = lower - s, upper - s
            trunc = _dist.logsf(ts - s, w, mu)
        with np.errstate(divide="ignore"):
            lw = np.log(w)
        exact = lo == hi
        d = np.where(exact | np.isinf(hi), 1.0, hi - lo)
        a = lw - np.multiply.outer(lo, mu)
        with np.errstate(divide="ignore"):
            a_int = a + np.log(-np.expm1(-np.multiply.outer(d, mu)))
        a = np.where(exact[:, None], a + np.log(mu),
                     np.where(np.isinf(hi)[:, None], a, a_int))
        return _dist._lse(a) - trunc

    # interval-censored data -------------------------------------------

    def score_samples_intervals(self, lower, upper, *, entry=None):
        """Log-likelihood of each interval-censored observation.

        ``log P(lower < x < upper)`` (the log-density when ``lower == upper``,
        the log-survival when ``upper == inf``), minus ``log S(entry)`` when
        truncated.  Inputs are validated as in :meth:`fit_intervals`.

        Returns
        -------
        ndarray of shape (n,), in the order of the inputs.
        """
        self._check_fitted()
        from_intervals(lower, upper, None, entry, check_information=False)
        lo = _as_float_1d(lower, "lower")
        hi = _as_float_1d(upper, "upper")
        return self._row_logliks(lo, hi, entry)

    def log_likelihood_intervals(self, lower, upper, sample_weight=None, *, entry=None):
        """Total (weighted) log-likelihood of interval-censored observations,
        the quantity :meth:`fit_intervals` maximizes."""
        self._check_fitted()
        return self._loglik_obs(from_intervals(lower, upper, sample_weight, entry,
                                               check_information=False))

    def score_intervals(self, lower, upper, sample_weight=None, *, entry=None):
        """Mean log-likelihood per unit weight of interval-censored observations."""
        self._check_fitted()
        obs = from_intervals(lower, upper, sample_weight, entry, check_information=False)
        return self._loglik_obs(obs) / obs.total_weight

    def bic_intervals(self, lower, upper, sample_weight=None, *, entry=None):
        """BIC of interval-censored observations: -2 logL + p log n, with
        p = 2K - 1 and n the total weight (number of rows when unweighted)."""
        self._check_fitted()
        obs = from_intervals(lower, upper, sample_weight, entry, check_information=False)
        return -2.0 * self._loglik_obs(obs) + self.n_parameters_ * np.log(obs.total_weight)

    def aic_intervals(self, lower, upper, sample_weight=None, *, entry=None):
        """AIC of interval-censored observations: -2 logL + 2p."""
        self._check_fitted()
        obs = from_intervals(lower, upper, sample_weight, entry, check_information=False)
        return -2.0 * self._loglik_obs(obs) + 2.0 * self.n_parameters_

    # histograms -------------------------------------------------------

    def log_likelihood_histogram(self, edges, counts, *, entry=None):
        """Total log-likelihood of a histogram, sum_i counts[i] log P(bin i)
        (divided by S(entry) when truncated), the quantity
        :meth:`fit_histogram` maximizes."""
        self._check_fitted()
        return self._loglik_obs(from_histogram(edges, counts, entry, check_information=False))

    def score_histogram(self, edges, counts, *, entry=None):
        """Mean log-likelihood per counted observation of a histogram."""
        self._check_fitted()
        obs = from_histogram(edges, counts, entry, check_information=False)
        return self._loglik_obs(obs) / obs.total_weight

    def bic_histogram(self, edges, counts, *, entry=None):
        """BIC of a histogram: -2 logL + p log n, n = the total count."""
        self._check_fitted()
        obs = from_histogram(edges, counts, entry, check_information=False)
        return -2.0 * self._loglik_obs(obs) + self.n_parameters_ * np.log(obs.total_weight)

    def aic_histogram(self, edges, counts, *, entry=None):
        """AIC of a histogram: -2 logL + 2p."""
        self._check_fitted()
        obs = from_histogram(edges, counts, entry, check_information=False)
        return -2.0 * self._loglik_obs(obs) + 2.0 * self.n_parameters_



def _as_real(x, name: str) -> np.ndarray:
    """x as a float64 array, or a TypeError naming ``name`` (strings, complex,
    non-numeric objects)."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(x).__name__}")
    a = np.asarray(x)
    if a.dtype == object:
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must contain only real numbers") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers; got dtype {a.dtype}")
    return a.astype(np.float64)


def _as_values(X: ArrayLike) -> np.ndarray:
    from .observations import _as_float_1d, _check_values
    x = _as_float_1d(X, "X")
    _check_values(x, "X")
    return x


def _as_events(event_observed: ArrayLike, n: int) -> np.ndarray:
    e = np.asarray(event_observed)
    if e.ndim == 2 and e.shape[1] == 1:
        e = e[:, 0]
    if e.shape != (n,):
        raise ValueError(f"event_observed must have shape ({n},), got {e.shape}")
    if e.dtype.kind not in "biuf":
        raise TypeError(f"event_observed must be boolean (or 0/1), got dtype {e.dtype}")
    return e.astype(bool)


# ----------------------------------------------------------------------
# Uncertainty (issue 6): delegates to expmix.inference.  Appended as one
# block so that the class body above stays untouched.

def _inference_obs(self):
    self._check_fitted()
    obs = getattr(self, "_obs", None)
    if obs is None:
        raise NotFittedError("this estimator was fitted by a version without the observation "
                             "record; refit it to compute standard errors")
    return obs


def _inference_se(self):
    from . import inference
    cache = getattr(self, "_se_cache", None)
    if cache is not None and cache[0] is None and getattr(self, "_obs", None) is None:
        return cache[1]   # loaded from a saved model (expmix.io), data not kept
    obs = _inference_obs(self)
    if cache is None or cache[0] is not obs:
        se = inference.standard_errors(obs, self.weights_, self.rates_)
        self._se_cache = (obs, se)
        cache = self._se_cache
    return cache[1]


def _standard_errors_(self):
    """Observed-information standard errors (:class:`expmix.inference.StandardErrors`:
    ``.weights``, ``.rates``, ``.means``, ``.log_rates``; NaN where undefined,
    with a :class:`~expmix.inference.SingularInformationWarning`).  Computed on
    first access after a fit from the analytic Hessian of the observed-data
    log-likelihood of the fitted data (any kind)."""
    return _inference_se(self)


def _covariance_(self):
    """Inverse observed information, shape (2K - 1, 2K - 1), in the
    parametrization theta = (w_1, ..., w_{K-1}, mu_1, ..., mu_K) (components
    in the order of ``rates_``; w_K = 1 - sum of the others)."""
    return _inference_se(self).covariance


def _observed_information_(self):
    """Observed information -d^2 logL / d theta^2 (see ``covariance_``)."""
    return _inference_se(self).information


def _confint(self, level=0.95, method="wald", *, n_bootstrap=999, bootstrap_method="nonparametric",
             interval="percentile", random_state=None):
    """Confidence intervals for the weights, rates and means.

    Parameters
    ----------
    level : float, default 0.95
    method : {"wald", "bootstrap", "profile"}
        "wald": observed information, on log-rates (intervals stay positive)
        and logit-weights; means by inverting the rate intervals.
        "bootstrap": :meth:`bootstrap` replicates (``n_bootstrap``,
        ``bootstrap_method`` "nonparametric" or "parametric", ``interval``
        "percentile" or "bca", ``random_state``).  "profile": profile
        likelihood of each rate and weight.

    Returns
    -------
    expmix.inference.ConfidenceIntervals
        ``.weights``, ``.rates``, ``.means`` of shape (K, 2).
    """
    from . import inference
    obs = _inference_obs(self)
    if method == "wald":
        return inference.wald_confint(_inference_se(self), self.weights_, self.rates_, level)
    if method == "profile":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", inference.SingularInformationWarning)
            se = _inference_se(self)
        return inference.profile_confint(obs, self.weights_, self.rates_, self.log_likelihood_,
                                         level, se=se, n_threads=effective_n_threads(self.n_threads))
    if method == "bootstrap":
        res = self.bootstrap(n_bootstrap, method=bootstrap_method, random_state=random_state)
        return res.confint(level, kind=interval)
    raise ValueError(f"method must be 'wald', 'bootstrap' or 'profile', got {method!r}")


def _bootstrap(self, n_bootstrap=999, *, method="nonparametric", random_state=None):
    """Bootstrap replicates of the fit (:class:`expmix.inference.BootstrapResult`).

    ``method="nonparametric"`` reweights the observations by multinomial
    counts; ``"parametric"`` draws data sets from the fitted model with the
    same observation scheme (censoring times, bins, truncation; with
    per-observation entry times each row keeps its own, for any mix of
    exact and censored rows).  Replicates are fitted in parallel (one thread
    per fit, GIL released), started at the estimate (with per-observation
    entry times also at the starts of a fresh fit, then polished as a fit
    is), components matched by order of rate.  Reproducible with
    ``random_state`` (default: the estimator's) for any ``n_threads``.
    """
    from . import inference
    obs = _inference_obs(self)
    rs = self.random_state if random_state is None else random_state
    return inference.bootstrap(obs, self.weights_, self.rates_, n_bootstrap, method=method,
                               random_state=rs, n_threads=self.n_threads,
                               max_iter=int(self.max_iter), tol=float(self.tol))


ExponentialMixture.standard_errors_ = property(_standard_errors_)  # type: ignore[attr-defined]
ExponentialMixture.covariance_ = property(_covariance_)  # type: ignore[attr-defined]
ExponentialMixture.observed_information_ = property(_observed_information_)  # type: ignore[attr-defined]
ExponentialMixture.confint = _confint  # type: ignore[attr-defined]
ExponentialMixture.bootstrap = _bootstrap  # type: ignore[attr-defined]


def _goodness_of_fit(self, *, n_bootstrap=199, random_state=None):
    """Goodness of fit to the fitted data (see :func:`expmix.goodness_of_fit`)."""
    from .gof import goodness_of_fit
    return goodness_of_fit(self, n_bootstrap=n_bootstrap, random_state=random_state)


ExponentialMixture.goodness_of_fit = _goodness_of_fit  # type: ignore[attr-defined]


#: EM iterations at most before the Newton polish, for data with
#: per-observation entry times (where EM's progress per pass vanishes as the
#: entry times move into the tail)
TRUNCATION_EM_MAX_ITER = 300


def _polish_truncated_runs(obs: Observations, runs: List[Dict[str, Any]], n_threads: int,
                           F=None, derivs=None, magnitude: float = 0.0) -> None:
    """Finish each restart of a fit with per-observation truncation pairs by a
    Newton polish of the exact truncated likelihood (in place).

    Missing-data EM crawls when the entry times lie far in the tail (the
    fraction of missing information tends to 1) and its convergence test on
    the change of the log-likelihood then stops it early.  The polish
    (:func:`expmix.inference.newton_polish`) never lowers the likelihood; the
    run's status becomes 0 ("converged") when the polished point is
    stationary (Newton decrement per unit weight <= 1e-24, negative definite
    Hessian), 1 ("max_iter") otherwise.  Degenerate restarts (a vanished
    weight) keep EM's result.  ``F``, ``derivs`` and ``magnitude`` replace
    the in-process likelihood (the dask path; see newton_polish)."""
    from .inference import newton_polish, polish_truncated
    for r in runs:
        if r.get("kind") or r["status"] < 0 or not np.all(np.asarray(r["w"]) > 0):
            continue
        if F is None:
            res = polish_truncated(obs, r["w"], r["mu"], n_threads=n_threads)
        else:
            res = newton_polish(F, derivs, r["w"], r["mu"], magnitude=magnitude)
        if not np.isfinite(res.log_likelihood):
            continue
        r["w"], r["mu"] = np.array(res.weights), np.array(res.rates)
        r["loglik"] = float(res.log_likelihood)
        r["status"] = 0 if res.stationary else 1
        r["n_iter"] = int(r["n_iter"]) + int(res.n_iter)
        r["polish"] = res


def _truncation_starts(obs: Observations, K: int, n_threads: int, scale: float, excess=None):
    """The extra starts of a fit with per-observation entry times (K >= 2).

    The data-driven starts read the values x, which for entry times far in
    the tail sit near the entry times rather than near the excess x - t that
    the rates describe.  With the row entry times recorded (``excess``, from
    :func:`expmix._init.excess_of`): the three deterministic starts of
    :func:`expmix._init.excess_starts` (around the K = 1 truncated MLE, a
    log-scale Lloyd start and a fixed-seed k-means++ start of the excess
    data).
    Without them (an observation set that keeps only the truncation pairs):
    one start around the K = 1 truncated MLE, fitted (EM + Newton polish)."""
    if excess is not None:
        return excess_starts(excess[0], excess[1], excess[2], K)
    from .inference import polish_truncated
    w = np.ones(1)
    mu = np.array([1.0 / scale])
    try:
        _core.fit(obs, w, mu, n_threads=n_threads, history=False, max_iter=200, tol=1e-8,
                  scale=scale)
        res = polish_truncated(obs, w, mu, n_threads=n_threads)
    except (FloatingPointError, ValueError):
        return []
    return spread_start(float(res.rates[0]), K)
