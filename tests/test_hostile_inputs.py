"""Table-driven hostile inputs across every public entry point.

Each row is ``(entry point, id, call, expectation)``: the call either raises
the named exception with a message naming the argument (``Raises``), or
returns a documented legal result checked by a function (``Legal``).
Rows for entry points added later (fit_many, load/save, the CLI) are appended
to ``CASES`` in the same form (see notes/8.md).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import expmix
from expmix import ExponentialMixture as EM
from expmix import NotFittedError, _core, select_components, select_components_histogram, \
    select_components_intervals
from expmix.observations import from_samples

X = np.array([0.5, 1.0, 2.0, 3.0, 0.1])
X2 = np.r_[X, 10 * X]


@dataclass
class Raises:
    exc: type
    match: str


@dataclass
class Legal:
    check: Callable          # check(result) asserts the documented result
    what: str


def _fitted():
    return EM(2, random_state=0).fit(X2)


FITTED = None


def fitted():
    global FITTED
    if FITTED is None:
        FITTED = _fitted()
    return FITTED


def ref_rate(x, w=None):
    x = np.asarray(x, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    return w.sum() / (w * x).sum()


def _readonly(a):
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def _same_as_plain(res, x=X, w=None, rel=1e-15):
    assert res.rates_[0] == pytest.approx(ref_rate(x, w), rel=rel)


CASES = [
    # ---- fit: types ----------------------------------------------------------
    ("fit", "X None", lambda: EM(1).fit(None), Raises(TypeError, "X must be array-like.*None")),
    ("fit", "X str", lambda: EM(1).fit("abc"), Raises(TypeError, "X must be array-like")),
    ("fit", "X object", lambda: EM(1).fit(np.array([1.0, "x"], dtype=object)),
     Raises(TypeError, "X must contain only real numbers")),
    ("fit", "X complex", lambda: EM(1).fit(np.array([1 + 1j, 2])), Raises(TypeError, "X must be real")),
    ("fit", "X bool", lambda: EM(1).fit(np.array([True, False])), Raises(TypeError, "X must be numeric.*boolean")),
    ("fit", "X str array", lambda: EM(1).fit(np.array(["1", "2"])), Raises(TypeError, "X must be numeric")),
    ("fit", "X datetime", lambda: EM(1).fit(np.array([1, 2], "M8[s]")), Raises(TypeError, "X must be numeric")),
    ("fit", "X dict", lambda: EM(1).fit({"a": 1}), Raises(TypeError, "X must")),
    # ---- fit: values and shapes -----------------------------------------------
    ("fit", "X NaN", lambda: EM(1).fit([1.0, np.nan]), Raises(ValueError, r"X contains NaN \(at index 1\)")),
    ("fit", "X inf", lambda: EM(1).fit([1.0, np.inf]), Raises(ValueError, "X contains inf")),
    ("fit", "X -inf", lambda: EM(1).fit([1.0, -np.inf]), Raises(ValueError, "X contains inf")),
    ("fit", "X negative", lambda: EM(1).fit([1.0, -1e-300]), Raises(ValueError, r"X must be non-negative; X\[1\]")),
    ("fit", "X empty", lambda: EM(1).fit([]), Raises(ValueError, "X is empty")),
    ("fit", "X 0-d", lambda: EM(1).fit(np.float64(3.0)), Raises(ValueError, "X must be 1-D.*scalar")),
    ("fit", "X 2-D", lambda: EM(1).fit(np.ones((3, 2))), Raises(ValueError, r"X must be 1-D or have a single column; got shape \(3, 2\)")),
    ("fit", "X 3-D", lambda: EM(1).fit(np.ones((2, 2, 2))), Raises(ValueError, "X must be 1-D")),
    ("fit", "X all zero", lambda: EM(1).fit(np.zeros(5)), Raises(ValueError, "every observed value is 0")),
    ("fit", "X all equal K=1", lambda: EM(1).fit([2.0] * 10),
     Legal(lambda m: m.rates_[0] == 0.5 and m.weights_[0] == 1.0, "rate 1/x exactly")),
    ("fit", "X all equal K=2", lambda: EM(2).fit([2.0] * 10),
     Legal(lambda m: np.allclose(m.rates_, 0.5, rtol=1e-9) and abs(m.weights_.sum() - 1) < 1e-15,
           "every component at the K=1 MLE 1/x (not identifiable, still the MLE)")),
    ("fit", "X non-contiguous", lambda: EM(1).fit(np.repeat(X, 3)[::3]),
     Legal(lambda m: _same_as_plain(m) is None, "works; same as contiguous")),
    ("fit", "X read-only", lambda: EM(1).fit(_readonly(X)), Legal(lambda m: _same_as_plain(m) is None, "works")),
    ("fit", "X reversed view", lambda: EM(1).fit(X[::-1]), Legal(lambda m: _same_as_plain(m) is None, "works")),
    ("fit", "X big-endian", lambda: EM(1).fit(X.astype(">f8")), Legal(lambda m: _same_as_plain(m) is None, "works")),
    ("fit", "X int", lambda: EM(1).fit([1, 2, 3]), Legal(lambda m: m.rates_[0] == 0.5, "ints are numbers")),
    ("fit", "X float32", lambda: EM(1).fit(X.astype(np.float32)),
     Legal(lambda m: _same_as_plain(m, X.astype(np.float32).astype(float)) is None, "converted to float64")),
    ("fit", "X column", lambda: EM(1).fit(X[:, None]), Legal(lambda m: _same_as_plain(m) is None, "(n, 1) is 1-D")),
    # ---- fit: sample weights ---------------------------------------------------
    ("fit", "w negative", lambda: EM(1).fit(X, sample_weight=[1, -1, 1, 1, 1]), Raises(ValueError, "sample_weight must be non-negative")),
    ("fit", "w NaN", lambda: EM(1).fit(X, sample_weight=[1, np.nan, 1, 1, 1]), Raises(ValueError, "sample_weight contains NaN")),
    ("fit", "w inf", lambda: EM(1).fit(X, sample_weight=[1, np.inf, 1, 1, 1]), Raises(ValueError, "sample_weight contains inf")),
    ("fit", "w all zero", lambda: EM(1).fit(X, sample_weight=np.zeros(5)), Raises(ValueError, "sample_weight is zero everywhere")),
    ("fit", "w length", lambda: EM(1).fit(X, sample_weight=np.ones(4)), Raises(ValueError, "sample_weight has length 4")),
    ("fit", "w 2-D", lambda: EM(1).fit(X, sample_weight=np.ones((5, 2))), Raises(ValueError, "sample_weight must be 1-D")),
    ("fit", "w str", lambda: EM(1).fit(X, sample_weight=["a"] * 5), Raises(TypeError, "sample_weight must be numeric")),
    ("fit", "w complex", lambda: EM(1).fit(X, sample_weight=np.ones(5) * 1j), Raises(TypeError, "sample_weight must be real")),
    ("fit", "w some zero", lambda: EM(1).fit(X, sample_weight=[1, 0, 1, 0, 1]),
     Legal(lambda m: _same_as_plain(m, X[[0, 2, 4]]) is None, "zero weight = observation absent")),
    ("fit", "w read-only strided", lambda: EM(1).fit(X, sample_weight=_readonly(np.arange(10.0) + 1)[::2]),
     Legal(lambda m: _same_as_plain(m, X, np.arange(10.0)[::2] + 1, rel=1e-14) is None, "works")),
    ("fit", "w tiny and huge", lambda: EM(1).fit(X, sample_weight=[1e-300, 1e300, 1, 1, 1]),
     Legal(lambda m: m.rates_[0] == pytest.approx(1.0, rel=1e-12), "finite weights at any magnitude")),
    # ---- fit: censoring flags and entry ---------------------------------------
    ("fit", "event str", lambda: EM(1).fit(X, event_observed=np.array(["a"] * 5)), Raises(TypeError, "event_observed must be boolean")),
    ("fit", "event object", lambda: EM(1).fit(X, event_observed=np.array([1, None, 1, 1, 1], object)),
     Raises(TypeError, "event_observed must be boolean")),
    ("fit", "event 0.5", lambda: EM(1).fit(X, event_observed=[1, 0.5, 1, 1, 1]), Raises(ValueError, "event_observed must contain only True/False")),
    ("fit", "event NaN", lambda: EM(1).fit(X, event_observed=[1, np.nan, 1, 1, 1]), Raises(ValueError, "event_observed must contain only")),
    ("fit", "event length", lambda: EM(1).fit(X, event_observed=[True, False]), Raises(ValueError, "event_observed has length 2")),
    ("fit", "event 2-D", lambda: EM(1).fit(X, event_observed=np.ones((5, 2), bool)), Raises(ValueError, "event_observed must be 1-D")),
    ("fit", "event all False", lambda: EM(1).fit(X, event_observed=np.zeros(5, bool)), Raises(ValueError, "every observation is right-censored")),
    ("fit", "event 0/1 ints", lambda: EM(1).fit(X, event_observed=[1, 0, 1, 1, 1]),
     Legal(lambda m: m.rates_[0] == pytest.approx(4 / X.sum(), rel=1e-12), "0/1 flags: d / sum of times")),
    ("fit", "entry = X", lambda: EM(1).fit(X, entry=X), Raises(ValueError, r"entry\[0\] .* is not below X\[0\]")),
    ("fit", "entry > X", lambda: EM(1).fit(X, entry=X + 1), Raises(ValueError, r"entry\[0\]")),
    ("fit", "entry scalar >= min X", lambda: EM(1).fit(X, entry=0.1), Raises(ValueError, "entry = 0.1 is not below X")),
    ("fit", "entry negative", lambda: EM(1).fit(X, entry=-1.0), Raises(ValueError, "entry must be a finite number >= 0")),
    ("fit", "entry NaN", lambda: EM(1).fit(X, entry=np.nan), Raises(ValueError, "entry must be a finite number")),
    ("fit", "entry bool", lambda: EM(1).fit(X, entry=True), Raises(TypeError, "entry must be a number")),
    ("fit", "entry str", lambda: EM(1).fit(X, entry="a"), Raises(TypeError, "entry must be array-like")),
    ("fit", "entry length", lambda: EM(1).fit(X, entry=[0.01]), Raises(ValueError, "entry has length 1")),
    ("fit", "entry memoryless", lambda: EM(1).fit(X + 1.0, entry=1.0),
     Legal(lambda m: m.rates_[0] == pytest.approx(5 / X.sum(), rel=1e-9), "exponential: rate of X - t")),
    # ---- fit: estimator parameters ---------------------------------------------
    ("fit", "K huge", lambda: EM(10**6).fit(X), Raises(ValueError, "n_components must be between 1 and 256")),
    ("fit", "K 0", lambda: EM(0).fit(X), Raises(ValueError, "n_components must be between")),
    ("fit", "K float", lambda: EM(2.0).fit(X), Raises(TypeError, "n_components must be an int")),
    ("fit", "K str", lambda: EM("2").fit(X), Raises(TypeError, "n_components must be an int")),
    ("fit", "K > N", lambda: EM(6).fit(X), Raises(ValueError, "n_components=6 is larger than the number of observations")),
    ("fit", "K = N", lambda: EM(5, random_state=0).fit(X),
     Legal(lambda m: np.all(np.isfinite(m.rates_)) and abs(m.weights_.sum() - 1) < 1e-12
           and m.log_likelihood_ >= EM(1).fit(X).log_likelihood_ - 1e-9, "a valid fit, logL >= K=1")),
    ("fit", "K > distinct values", lambda: EM(3, random_state=0).fit([1, 1, 1, 2, 2]),
     Legal(lambda m: np.all(np.isfinite(m.rates_)) and abs(m.weights_.sum() - 1) < 1e-12
           and m.log_likelihood_ >= EM(1).fit([1, 1, 1, 2, 2]).log_likelihood_ - 1e-9,
           "a valid (non-identifiable) fit with logL >= the K=1 fit")),
    ("fit", "tol negative", lambda: EM(1, tol=-1).fit(X), Raises(ValueError, "tol must be a finite number >= 0")),
    ("fit", "tol NaN", lambda: EM(1, tol=np.nan).fit(X), Raises(ValueError, "tol must be")),
    ("fit", "tol inf", lambda: EM(1, tol=np.inf).fit(X), Raises(ValueError, "tol must be")),
    ("fit", "tol str", lambda: EM(1, tol="1e-3").fit(X), Raises(ValueError, "tol must be")),
    ("fit", "max_iter -1", lambda: EM(1, max_iter=-1).fit(X), Raises(ValueError, "max_iter must be >= 0")),
    ("fit", "max_iter 1e20", lambda: EM(1, max_iter=10**20).fit(X), Raises(ValueError, "max_iter must be >= 0 and <= ")),
    ("fit", "max_iter float", lambda: EM(1, max_iter=10.0).fit(X), Raises(TypeError, "max_iter must be an int")),
    ("fit", "max_iter 0", lambda: EM(1, max_iter=0).fit(X),
     Legal(lambda m: m.n_iter_ == 0 and m.status_ == "max_iter", "the start, flagged not converged")),
    ("fit", "max_iter 2e6", lambda: EM(1, max_iter=2 * 10**6).fit(X),
     Legal(lambda m: m.history_.shape == (0,) and m.converged_, "converges; no history kept above 1e6")),
    ("fit", "n_init 0", lambda: EM(1, n_init=0).fit(X), Raises(ValueError, "n_init must be >= 1")),
    ("fit", "n_init 1e20", lambda: EM(1, n_init=10**20).fit(X), Raises(ValueError, "n_init must be >= 1 and <= ")),
    ("fit", "n_init bool", lambda: EM(1, n_init=True).fit(X), Raises(TypeError, "n_init must be an int")),
    ("fit", "init bogus", lambda: EM(1, init="bogus").fit(X), Raises(ValueError, "init must be one of")),
    ("fit", "random_state str", lambda: EM(1, random_state="0").fit(X), Raises(TypeError, "random_state must be")),
    ("fit", "random_state float", lambda: EM(1, random_state=1.5).fit(X), Raises(TypeError, "random_state must be")),
    ("fit", "random_state bool", lambda: EM(1, random_state=True).fit(X), Raises(TypeError, "random_state must be.*bool")),
    ("fit", "random_state -1", lambda: EM(1, random_state=-1).fit(X), Raises(ValueError, "random_state must be non-negative")),
    ("fit", "n_threads 0", lambda: EM(1, n_threads=0).fit(X), Raises(ValueError, "n_threads must be")),
    ("fit", "n_threads 2**40", lambda: EM(1, n_threads=2**40).fit(X), Raises(ValueError, "n_threads must be")),
    ("fit", "n_threads str", lambda: EM(1, n_threads="2").fit(X), Raises(TypeError, "n_threads must be")),
    ("fit", "verbose str", lambda: EM(1, verbose="x").fit(X), Raises(TypeError, "verbose must be an int")),
    ("fit", "rates_init NaN", lambda: EM(2, rates_init=[1, np.nan]).fit(X), Raises(ValueError, "rates_init must be finite and positive")),
    ("fit", "weights_init shape", lambda: EM(2, weights_init=[1.0]).fit(X), Raises(ValueError, "weights_init must have shape")),
    # ---- fit_intervals -----------------------------------------------------------
    ("fit_intervals", "lower > upper", lambda: EM(1).fit_intervals([2, 1], [1, 2]), Raises(ValueError, r"lower\[0\] = .* is greater than upper\[0\]")),
    ("fit_intervals", "lengths", lambda: EM(1).fit_intervals([1, 2], [3]), Raises(ValueError, "lower and upper have different lengths")),
    ("fit_intervals", "upper NaN", lambda: EM(1).fit_intervals([1, 2], [np.nan, 3]), Raises(ValueError, "upper contains NaN")),
    ("fit_intervals", "lower inf", lambda: EM(1).fit_intervals([np.inf, 1], [np.inf, 2]), Raises(ValueError, "lower contains inf")),
    ("fit_intervals", "lower negative", lambda: EM(1).fit_intervals([-1, 1], [1, 2]), Raises(ValueError, "lower must be non-negative")),
    ("fit_intervals", "lower complex", lambda: EM(1).fit_intervals(np.ones(2) * 1j, [1, 2]), Raises(TypeError, "lower must be real")),
    ("fit_intervals", "upper str", lambda: EM(1).fit_intervals([1, 2], ["a", "b"]), Raises(TypeError, "upper must be numeric")),
    ("fit_intervals", "all right-censored", lambda: EM(1).fit_intervals([1, 2], [np.inf, np.inf]), Raises(ValueError, "right-censored")),
    ("fit_intervals", "all [0, b)", lambda: EM(1).fit_intervals([0, 0], [1, 2]), Raises(ValueError, "every observation is left-censored.*rate is infinite")),
    ("fit_intervals", "(x, x) = exact", lambda: EM(1).fit_intervals(X, X), Legal(lambda m: _same_as_plain(m) is None, "exact")),
    ("fit_intervals", "read-only strided", lambda: EM(1).fit_intervals(_readonly(np.repeat(X, 2))[::2], _readonly(np.repeat(X, 2))[1::2]),
     Legal(lambda m: _same_as_plain(m) is None, "works")),
    # ---- fit_histogram -----------------------------------------------------------
    ("fit_histogram", "edges out of order", lambda: EM(1).fit_histogram([0, 2, 1], [1, 1]), Raises(ValueError, "edges must be strictly increasing")),
    ("fit_histogram", "edges repeated", lambda: EM(1).fit_histogram([0, 1, 1], [1, 1]), Raises(ValueError, "strictly increasing")),
    ("fit_histogram", "counts length", lambda: EM(1).fit_histogram([0, 1, 2], [1]), Raises(ValueError, "counts must have len")),
    ("fit_histogram", "counts negative", lambda: EM(1).fit_histogram([0, 1, 2], [1, -1]), Raises(ValueError, "counts must be non-negative")),
    ("fit_histogram", "counts NaN", lambda: EM(1).fit_histogram([0, 1, 2], [1, np.nan]), Raises(ValueError, "counts must be finite")),
    ("fit_histogram", "counts zero", lambda: EM(1).fit_histogram([0, 1, 2], [0, 0]), Raises(ValueError, "counts is zero everywhere")),
    ("fit_histogram", "one edge", lambda: EM(1).fit_histogram([0], []), Raises(ValueError, "edges must have at least 2")),
    ("fit_histogram", "inner inf edge", lambda: EM(1).fit_histogram([0, np.inf, 3], [1, 1]), Raises(ValueError, "edges must be finite")),
    ("fit_histogram", "edges NaN", lambda: EM(1).fit_histogram([0, np.nan, 2], [1, 1]), Raises(ValueError, "edges contains NaN")),
    ("fit_histogram", "entry above edge", lambda: EM(1).fit_histogram([1, 2, 3], [1, 1], entry=1.5), Raises(ValueError, "entry = 1.5 is above the first edge")),
    ("fit_histogram", "entry array", lambda: EM(1).fit_histogram([1, 2, 3], [1, 1], entry=[0, 0]), Raises(TypeError, "entry for a histogram must be a scalar")),
    ("fit_histogram", "fractional counts", lambda: EM(1).fit_histogram([0, 1, 2], [0.5, 1.5]),
     Legal(lambda m: np.isfinite(m.rates_[0]) and m.total_weight_ == 2.0, "counts are weights")),
    # ---- unfitted model ------------------------------------------------------------
    ("unfitted", "predict", lambda: EM(1).predict(X), Raises(NotFittedError, "not fitted yet")),
    ("unfitted", "score", lambda: EM(1).score(X), Raises(NotFittedError, "not fitted yet")),
    ("unfitted", "pdf", lambda: EM(1).pdf(1.0), Raises(NotFittedError, "not fitted yet")),
    ("unfitted", "ppf", lambda: EM(1).ppf(0.5), Raises(NotFittedError, "not fitted yet")),
    ("unfitted", "sample", lambda: EM(1).sample(3), Raises(NotFittedError, "not fitted yet")),
    ("unfitted", "bic", lambda: EM(1).bic(X), Raises(NotFittedError, "not fitted yet")),
    # ---- fitted model --------------------------------------------------------------
    ("fitted", "predict NaN", lambda: fitted().predict([np.nan]), Raises(ValueError, "X contains NaN")),
    ("fitted", "predict_proba 2-D", lambda: fitted().predict_proba(np.ones((2, 2))), Raises(ValueError, "X must be 1-D")),
    ("fitted", "predict empty", lambda: fitted().predict([]), Legal(lambda r: r.shape == (0,), "empty in, empty out")),
    ("fitted", "score empty", lambda: fitted().score([]), Raises(ValueError, "X is empty")),
    ("fitted", "score negative", lambda: fitted().score([-1.0]), Raises(ValueError, "X must be non-negative")),
    ("fitted", "score_samples entry str", lambda: fitted().score_samples(X, entry="a"), Raises(TypeError, "entry must be")),
    ("fitted", "score_samples entry neg", lambda: fitted().score_samples(X, entry=-1), Raises(ValueError, "entry must be a finite number >= 0")),
    ("fitted", "predict event shape", lambda: fitted().predict(X, event_observed=[True]), Raises(ValueError, "event_observed must have shape")),
    ("fitted", "pdf str", lambda: fitted().pdf("a"), Raises(TypeError, "x must be a number")),
    ("fitted", "cdf complex", lambda: fitted().cdf(1j), Raises(TypeError, "x must be real")),
    ("fitted", "pdf NaN", lambda: fitted().pdf([np.nan, 1.0]), Legal(lambda r: np.isnan(r[0]) and r[1] > 0, "NaN in, NaN out")),
    ("fitted", "cdf -1, inf", lambda: fitted().cdf([-1.0, np.inf]), Legal(lambda r: r[0] == 0 and r[1] == 1, "0 below the support, 1 at inf")),
    ("fitted", "sf NaN", lambda: fitted().sf(np.nan), Legal(lambda r: np.isnan(r), "NaN in, NaN out")),
    ("fitted", "ppf 1.5", lambda: fitted().ppf(1.5), Raises(ValueError, r"q must lie in \[0, 1\]")),
    ("fitted", "ppf NaN", lambda: fitted().ppf(np.nan), Raises(ValueError, "q must lie in")),
    ("fitted", "ppf str", lambda: fitted().ppf("a"), Raises(TypeError, "q must be a number")),
    ("fitted", "ppf 0, 1", lambda: fitted().ppf([0.0, 1.0]), Legal(lambda r: r[0] == 0 and r[1] == np.inf, "support ends")),
    ("fitted", "sample 0", lambda: fitted().sample(0), Raises(ValueError, "n_samples must be an int >= 1")),
    ("fitted", "sample float", lambda: fitted().sample(2.5), Raises(ValueError, "n_samples must be an int")),
    ("fitted", "sample rs str", lambda: fitted().sample(2, random_state="a"), Raises(TypeError, "random_state must be")),
    ("fitted", "weights_above inf", lambda: fitted().weights_above(np.inf), Raises(ValueError, "t must be a finite number")),
    ("fitted", "weights_above str", lambda: fitted().weights_above("a"), Raises(TypeError, "t must be a number")),
    ("fitted", "weights_above array", lambda: fitted().weights_above([1.0, 2.0]), Raises(ValueError, "t must be a single number")),
    ("fitted", "set_params bogus", lambda: fitted().set_params(bogus=1), Raises(ValueError, "Invalid parameter 'bogus'")),
    # ---- select_components* -----------------------------------------------------------
    ("select_components", "criterion", lambda: select_components(X, [1], criterion="bogus"), Raises(ValueError, "criterion must be one of")),
    ("select_components", "empty", lambda: select_components(X, []), Raises(ValueError, "n_components is empty")),
    ("select_components", "int", lambda: select_components(X, 3), Raises(TypeError, "n_components must be an iterable of ints")),
    ("select_components", "str", lambda: select_components(X, "ab"), Raises(TypeError, "n_components must be an iterable of ints")),
    ("select_components", "float K", lambda: select_components(X, [1.5]), Raises(TypeError, "n_components must be an iterable of ints")),
    ("select_components", "K 0", lambda: select_components(X, [0, 1]), Raises(ValueError, "n_components must be >= 1")),
    ("select_components", "bad kwarg", lambda: select_components(X, [1], bogus=1), Raises(TypeError, "bogus")),
    ("select_components", "X NaN", lambda: select_components([1.0, np.nan], [1]), Raises(ValueError, "X contains NaN")),
    ("select_components", "K > N skipped", lambda: select_components(X, [1, 9]),
     Legal(lambda r: r.best_n_components_ == 1 and r.table[1]["status"].startswith("skipped"), "row marked skipped")),
    ("select_components_intervals", "lower > upper", lambda: select_components_intervals([2.0], [1.0], [1]), Raises(ValueError, "greater than upper")),
    ("select_components_histogram", "edges order", lambda: select_components_histogram([0, 2, 1], [1, 1], [1]), Raises(ValueError, "strictly increasing")),
    # ---- _core functions (the Cython bridge) -------------------------------------------------
    ("_core", "fit K 0", lambda: _core.fit(from_samples(X), np.zeros(0), np.zeros(0)), Raises(ValueError, "number of components.*got 0")),
    ("_core", "fit K 300", lambda: _core.fit(from_samples(X), np.ones(300) / 300, np.ones(300)), Raises(ValueError, "between 1 and 256")),
    ("_core", "fit w/mu lengths", lambda: _core.fit(from_samples(X), np.ones(2) / 2, np.ones(3)), Raises(ValueError, "same length")),
    ("_core", "fit max_iter -1", lambda: _core.fit(from_samples(X), np.ones(1), np.ones(1), max_iter=-1), Raises(ValueError, "max_iter must be >= 0")),
    ("_core", "fit mu <= 0", lambda: _core.fit(from_samples(X), np.ones(1), -np.ones(1)), Raises(ValueError, "invalid argument")),
    ("_core", "pass lengths", lambda: _core.pass_stats(from_samples(X), np.ones(2) / 2, np.ones(3)), Raises(ValueError, "same length")),
    ("_core", "pass non-contiguous w", lambda: _core.pass_stats(from_samples(X), (np.ones(4) / 2)[::2], np.ones(2)), Raises(ValueError, "contiguous")),
    ("_core", "log_survival lengths", lambda: _core.log_survival(np.ones(3), np.ones(3) / 3, np.ones(1)), Raises(ValueError, "same length")),
    ("_core", "log_joint K 0", lambda: _core.log_joint(from_samples(X), np.zeros(0), np.zeros(0)), Raises(ValueError, "got 0")),
    ("_core", "fit_batch K 0", lambda: _core.fit_batch([from_samples(X)], np.zeros((1, 0)), np.zeros((1, 0))), Raises(ValueError, "between 1 and 256")),
    ("_core", "fit_batch empty", lambda: _core.fit_batch([], np.zeros((0, 2)), np.zeros((0, 2))),
     Legal(lambda r: r["status"].shape == (0,), "no problems, empty results")),
    # ---- distributions module -----------------------------------------------------------------------
    ("distributions", "ppf q > 1", lambda: expmix.distributions.ppf(2.0, [1.0], [1.0]), Raises(ValueError, "q must lie in")),
    ("distributions", "isf q < 0", lambda: expmix.distributions.isf(-0.1, [1.0], [1.0]), Raises(ValueError, "q must lie in")),
    ("distributions", "logsf far tail", lambda: expmix.distributions.logsf(1e6, [0.5, 0.5], [1.0, 2.0]),
     Legal(lambda r: r == pytest.approx(np.log(0.5) - 1e6, rel=1e-15), "exact where sf underflows")),
]


@pytest.mark.parametrize("entry,name,call,expect", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_hostile(entry, name, call, expect):
    if isinstance(expect, Raises):
        with pytest.raises(expect.exc, match=expect.match):
            call()
    else:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = call()
        ok = expect.check(res)
        assert ok is None or ok, f"{entry} {name}: expected {expect.what}"


def test_table_size_and_coverage():
    assert len(CASES) >= 40
    entries = {c[0] for c in CASES}
    assert {"fit", "fit_intervals", "fit_histogram", "unfitted", "fitted", "select_components",
            "_core"} <= entries


def test_failed_fit_keeps_previous_state():
    m = EM(1).fit(X)
    before = dict(vars(m))
    with pytest.raises(ValueError):
        m.fit([1.0, np.nan])
    with pytest.raises(ValueError):
        m.set_params(n_components=9).fit(X)
    m.set_params(n_components=1)
    assert vars(m).keys() == before.keys()
    assert m.rates_ is before["rates_"]
    unfitted = EM(1)
    with pytest.raises(ValueError):
        unfitted.fit(np.zeros(3))
    assert not hasattr(unfitted, "rates_")
