"""Hostile inputs, part 2: the entry points beyond the estimator's fit methods.

``fit_many`` (list and ragged forms), persistence (``load`` / ``save`` /
``loads`` / ``from_dict``), the command line (``main`` in-process and
``python -m expmix`` in a subprocess), the dask estimator, and the remaining
public functions (goodness_of_fit, inference, plotting).  Same row format as
tests/test_hostile_inputs.py: ``(entry point, id, call, expectation)`` where
the expectation is ``Raises`` (the exception and a regex its message must
match: it names the argument), ``Legal`` (a documented result, checked
against an independent truth: a closed form or the separate fit) or, for the
command line, ``Exits`` (exit code, a one-line ``expmix...: error:`` message
matching a regex, no traceback).

Rows in ``XFAIL`` are real bugs in files other helpers own this session
(batch.py, observations.py, mixture.py): they assert the correct behaviour,
are marked ``xfail(strict=True)`` and must be fixed at merge (notes/8.md).
"""
import atexit
import contextlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import expmix
from expmix import ExponentialMixture as EM
from expmix import ModelFileError, NotFittedError, fit_many, goodness_of_fit, load
from expmix import fit_many_intervals as fmi
from expmix.io import from_dict, loads, save
from test_hostile_inputs import CASES as CASES_1, Legal, Raises

X = np.array([0.5, 1.0, 2.0, 3.0, 0.1])
V = np.r_[X, 10 * X]                      # ragged values: two data sets of 5
OFF = np.array([0, 5, 10])


def rate(x, w=None):
    """K = 1 maximum-likelihood rate (closed form)."""
    x = np.asarray(x, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    return w.sum() / (w * x).sum()


def _tmpdir():
    d = tempfile.mkdtemp(prefix="expmix-hostile-")
    atexit.register(shutil.rmtree, d, True)
    return d


TMP = _tmpdir()


def tmpfile(name, content=None):
    p = os.path.join(TMP, name)
    if content is not None:
        with open(p, "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)
    return p


_CACHE = {}


def fitted():
    if "m" not in _CACHE:
        rng = np.random.default_rng(3)
        y = np.where(rng.random(400) < 0.4, rng.exponential(0.1, 400), rng.exponential(3, 400))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE["m"] = EM(2, random_state=0).fit(y)
        _CACHE["y"] = y
    return _CACHE["m"]


def model_text():
    return fitted().to_dict()


def model_file(name, edit=None, text=None):
    """A saved model file, edited (``edit(d)`` on the dict) or replaced (``text``)."""
    if text is None:
        d = json.loads(json.dumps(model_text()))
        if edit is not None:
            edit(d)
        text = json.dumps(d)
    return tmpfile(name, text)


def good_file():
    p = tmpfile("good.json")
    if not os.path.exists(p):
        fitted().save(p)
    return p


def set_in(path, value):
    """An ``edit`` that sets (or with KeyError deletes) a nested key."""
    def edit(d):
        node = d
        for k in path[:-1]:
            node = node[k]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return edit


def same_model(a, b):
    assert a.rates_.tobytes() == b.rates_.tobytes()
    assert a.weights_.tobytes() == b.weights_.tobytes()
    y = _CACHE["y"]
    assert a.score(y) == b.score(y)


def single(x, K=1, j=0, n=1, w=None, seed=0):
    """The ExponentialMixture fit fit_many promises for data set j of n."""
    ss = np.random.SeedSequence(seed).spawn(n)[j]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return EM(K, random_state=ss).fit(x, sample_weight=w)


def quiet(f):
    def g():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f()
    return g


# ---------------------------------------------------------------------------
# fit_many

def _fm_legal_invalid_row(res, j, what):
    assert res.status[j].startswith("invalid: ") and what in res.status[j], res.status[j]
    assert res.n_components[j] == 0 and np.all(np.isnan(res.rates[j]))
    assert np.isnan(res.log_likelihood[j]) and not res.converged[j]


def _fm_first_ok(res, x=X, n=2):
    assert res.status[0] == "converged"
    assert res.rates[0, 0] == single(x, n=n).rates_[0]


FIT_MANY = [
    # ---- the datasets argument -------------------------------------------------
    ("fit_many", "datasets None", lambda: fit_many(None, 1), Raises(TypeError, r"datasets must be a list of 1-D arrays or a \(values, offsets\) pair.*NoneType")),
    ("fit_many", "datasets float", lambda: fit_many(3.0, 1), Raises(TypeError, "datasets must be a list.*float")),
    ("fit_many", "datasets str", lambda: fit_many("abc", 1), Raises(TypeError, "datasets must be a list.*str")),
    ("fit_many", "datasets one array", lambda: fit_many(X, 1), Raises(TypeError, "datasets must be a list.*ndarray")),
    ("fit_many", "datasets generator", lambda: fit_many((x for x in [X]), 1), Raises(TypeError, "datasets must be a list.*generator")),
    ("fit_many", "list of floats", lambda: fit_many([1.0, 2.0], 1), Raises(ValueError, r"datasets\[0\] must be 1-D, got shape \(\)")),
    ("fit_many", "None inside", lambda: fit_many([X, None], 1), Raises(ValueError, r"datasets\[1\] must be 1-D")),
    ("fit_many", "object set", lambda: fit_many([X, np.array([1.0, "a"], object)], 1), Raises(TypeError, r"datasets\[1\] must be numeric, got dtype object")),
    ("fit_many", "complex set", lambda: fit_many([X + 1j], 1), Raises(TypeError, r"datasets\[0\] must be numeric, got dtype complex")),
    ("fit_many", "str set", lambda: fit_many([np.array(["1", "2"])], 1), Raises(TypeError, r"datasets\[0\] must be numeric")),
    ("fit_many", "datetime set", lambda: fit_many([np.array([1, 2], "M8[s]")], 1), Raises(TypeError, r"datasets\[0\] must be numeric.*datetime")),
    ("fit_many", "3-D set", lambda: fit_many([np.ones((2, 2, 2))], 1), Raises(ValueError, r"datasets\[0\] must be 1-D, got shape \(2, 2, 2\)")),
    ("fit_many", "bool set", lambda: fit_many([np.array([True, False, True])], 1), Raises(TypeError, r"datasets\[0\] must be numeric.*bool")),
    ("fit_many", "empty list", lambda: fit_many([], 2), Legal(lambda r: len(r) == 0 and r.rates.shape == (0, 2), "no data sets, empty result")),
    ("fit_many", "column vector set", lambda: fit_many([X[:, None]], 1), Legal(lambda r: r.rates[0, 0] == single(X).rates_[0], "(n, 1) is 1-D")),
    ("fit_many", "read-only strided big-endian", lambda: fit_many([_ro(np.repeat(X, 2))[::2], X.astype(">f8")], 1),
     Legal(lambda r: r.rates[0, 0] == single(X, n=2).rates_[0] and r.rates[1, 0] == single(X, j=1, n=2).rates_[0], "same as contiguous native arrays")),
    # ---- ragged (values, offsets) ------------------------------------------------
    ("fit_many", "offsets decreasing", lambda: fit_many((V, np.array([0, 7, 5, 10])), 1), Raises(ValueError, "offsets must start at 0, be non-decreasing and end at len\\(values\\) = 10")),
    ("fit_many", "offsets not from 0", lambda: fit_many((V, np.array([1, 5, 10])), 1), Raises(ValueError, "offsets must start at 0")),
    ("fit_many", "offsets short of end", lambda: fit_many((V, np.array([0, 5, 9])), 1), Raises(ValueError, "end at len\\(values\\) = 10")),
    ("fit_many", "offsets past end", lambda: fit_many((V, np.array([0, 5, 11])), 1), Raises(ValueError, "end at len\\(values\\)")),
    ("fit_many", "offsets huge uint64", lambda: fit_many((V, np.array([0, 5, 2**64 - 1], np.uint64)), 1), Raises(ValueError, "offsets must")),
    ("fit_many", "offsets 2-D", lambda: fit_many((V, OFF[None, :]), 1), Raises(ValueError, r"offsets must be 1-D with n_datasets \+ 1 entries")),
    ("fit_many", "offsets empty", lambda: fit_many((V, np.array([], int)), 1), Raises(ValueError, "offsets must be 1-D with n_datasets")),
    ("fit_many", "offsets 0-d", lambda: fit_many((V, np.array(0)), 1), Raises(ValueError, "offsets must be 1-D")),
    ("fit_many", "values 2-D", lambda: fit_many((V.reshape(2, 5), OFF), 1), Raises(ValueError, r"ragged values must be 1-D, got shape \(2, 5\)")),
    ("fit_many", "values str", lambda: fit_many((V.astype(str), OFF), 1), Raises(TypeError, "values must be numeric")),
    ("fit_many", "values complex", lambda: fit_many((V + 0j, OFF), 1), Raises(TypeError, "values must be numeric.*complex")),
    ("fit_many", "values bool", lambda: fit_many((V > 1, OFF), 1), Raises(TypeError, "values must be numeric.*bool")),
    ("fit_many", "values object", lambda: fit_many((V.astype(object), OFF), 1), Raises(TypeError, "values must be numeric.*object")),
    ("fit_many", "NaN in set 1 strict", lambda: fit_many((np.r_[X, np.nan, X[1:]], OFF), 1, strict=True), Raises(ValueError, r"datasets\[1\] values contains NaN \(at index 0\)")),
    ("fit_many", "negative in set 1 strict", lambda: fit_many((np.r_[X, -1.0, X[1:]], OFF), 1, strict=True), Raises(ValueError, r"datasets\[1\] values must be non-negative")),
    ("fit_many", "inf in set 1 strict", lambda: fit_many([X, np.r_[X, np.inf]], 1, strict=True), Raises(ValueError, r"datasets\[1\] values contains inf")),
    ("fit_many", "NaN in set 1", lambda: fit_many((np.r_[X, np.nan, X[1:]], OFF), 1),
     Legal(lambda r: (_fm_legal_invalid_row(r, 1, "contains NaN"), _fm_first_ok(r)), "set 1 reported invalid, set 0 as fitted alone")),
    ("fit_many", "negative in set 1", lambda: fit_many((np.r_[X, -1.0, X[1:]], OFF), 1),
     Legal(lambda r: (_fm_legal_invalid_row(r, 1, "non-negative"), _fm_first_ok(r)), "set 1 reported invalid")),
    ("fit_many", "float offsets = two sets", lambda: fit_many((V, np.array([0.0, 5.0, 10.0])), 1),
     Legal(lambda r: list(r.n_observations) == [10, 3] and r.rates[1, 0] == pytest.approx(rate([0, 5, 10])),
           "documented: a pair whose second array is not of integer dtype is two data sets")),
    ("fit_many", "ragged = list", lambda: (fit_many((V, OFF), 2, random_state=1), fit_many([X, 10 * X], 2, random_state=1)),
     Legal(lambda r: r[0].rates.tobytes() == r[1].rates.tobytes() and r[0].weights.tobytes() == r[1].weights.tobytes(), "bitwise the same")),
    ("fit_many", "ragged all empty", lambda: fit_many((np.zeros(0), np.zeros(4, int)), 1),
     Legal(lambda r: len(r) == 3 and all(s.startswith("invalid: is empty") for s in r.status), "each empty set reported")),
    ("fit_many", "ragged offsets list", lambda: fit_many((V, [0, 5, 10]), 1),
     Legal(lambda r: r.rates[1, 0] == pytest.approx(rate(10 * X), rel=1e-12), "a list of ints is read as offsets")),
    # ---- sample weights -------------------------------------------------------------
    ("fit_many", "ragged w length", lambda: fit_many((V, OFF), 1, sample_weight=np.ones(9)), Raises(ValueError, r"sample_weight: with ragged datasets it must be one 1-D array of length len\(values\) = 10")),
    ("fit_many", "ragged w 2-D", lambda: fit_many((V, OFF), 1, sample_weight=np.ones((10, 1))), Raises(ValueError, "sample_weight: with ragged datasets")),
    ("fit_many", "ragged w list", lambda: fit_many((V, OFF), 1, sample_weight=[np.ones(5)] * 2), Raises(ValueError, "sample_weight: with ragged datasets")),
    ("fit_many", "ragged w NaN strict", lambda: fit_many((V, OFF), 1, sample_weight=np.r_[np.ones(9), np.nan], strict=True), Raises(ValueError, r"datasets\[1\] sample_weight contains NaN")),
    ("fit_many", "ragged w NaN", lambda: fit_many((V, OFF), 1, sample_weight=np.r_[np.ones(9), np.nan]),
     Legal(lambda r: (_fm_legal_invalid_row(r, 1, "sample_weight contains NaN"), _fm_first_ok(r)), "set 1 invalid")),
    ("fit_many", "ragged w str", lambda: fit_many((V, OFF), 1, sample_weight=np.array(["a"] * 10)), Raises(TypeError, "sample_weight must be numeric")),
    ("fit_many", "ragged w complex", lambda: fit_many((V, OFF), 1, sample_weight=np.ones(10) * (1 + 1j)), Raises(TypeError, "sample_weight must be real")),
    ("fit_many", "w not a list", lambda: fit_many([X, X], 1, sample_weight=np.ones(2)), Raises(ValueError, r"sample_weight must be None or a list of 2 arrays")),
    ("fit_many", "w count", lambda: fit_many([X, X], 1, sample_weight=[None]), Raises(ValueError, "sample_weight must be None or a list of 2")),
    ("fit_many", "w str", lambda: fit_many([X, X], 1, sample_weight="ab"), Raises(ValueError, "sample_weight must be None or a list")),
    ("fit_many", "w[1] length", lambda: fit_many([X, X], 1, sample_weight=[None, np.ones(3)]), Raises(ValueError, r"sample_weight\[1\] has shape \(3,\), but datasets\[1\] has 5 observations")),
    ("fit_many", "w[1] scalar", lambda: fit_many([X, X], 1, sample_weight=[None, 3.0]), Raises(ValueError, r"sample_weight\[1\] has shape \(\)")),
    ("fit_many", "w[1] str", lambda: fit_many([X, X], 1, sample_weight=[None, ["a"] * 5]), Raises(TypeError, r"sample_weight\[1\]|sample_weight must be numeric")),
    ("fit_many", "w[0] complex", lambda: fit_many([X], 1, sample_weight=[np.ones(5) * (1 + 1j)]), Raises(TypeError, "sample_weight.*real")),
    ("fit_many", "w[1] all zero strict", lambda: fit_many([X, X], 1, sample_weight=[None, np.zeros(5)], strict=True), Raises(ValueError, r"datasets\[1\] sample_weight is zero everywhere")),
    ("fit_many", "w[1] inf / zero / negative", lambda: fit_many([X, X, X, X], 1, sample_weight=[None, np.r_[np.ones(4), np.inf], np.zeros(5), -np.ones(5)]),
     Legal(lambda r: (_fm_legal_invalid_row(r, 1, "contains inf"), _fm_legal_invalid_row(r, 2, "zero everywhere"),
                      _fm_legal_invalid_row(r, 3, "non-negative"), _fm_first_ok(r, n=4)), "each bad set reported, set 0 fitted")),
    ("fit_many", "w some zero", lambda: fit_many([X], 1, sample_weight=[np.array([1, 0, 1, 0, 1.0])]),
     Legal(lambda r: r.rates[0, 0] == pytest.approx(rate(X[[0, 2, 4]]), rel=1e-12), "zero weight = observation absent")),
    ("fit_many", "w sum overflows strict", lambda: fit_many([X], 1, sample_weight=[np.full(5, 1e308)], strict=True), Raises(ValueError, r"datasets\[0\].*sample_weight")),
    # ---- n_components ---------------------------------------------------------------
    ("fit_many", "K 0", lambda: fit_many([X], 0), Raises(ValueError, r"n_components must be between 1 and 256, got \[0\]")),
    ("fit_many", "K 257", lambda: fit_many([X], 257), Raises(ValueError, "n_components must be between 1 and 256")),
    ("fit_many", "K [-1, 2]", lambda: fit_many([X], [-1, 2]), Raises(ValueError, "n_components must be between")),
    ("fit_many", "K range(1, 300)", lambda: fit_many([X], range(1, 300)), Raises(ValueError, "n_components must be between 1 and 256")),
    ("fit_many", "K float", lambda: fit_many([X], 2.0), Raises(TypeError, "n_components must be an int or an iterable of ints")),
    ("fit_many", "K [1, 2.5]", lambda: fit_many([X], [1, 2.5]), Raises(TypeError, "n_components must be an int or an iterable")),
    ("fit_many", "K empty range", lambda: fit_many([X], range(3, 1)), Raises(ValueError, "n_components is empty")),
    ("fit_many", "K None", lambda: fit_many([X], None), Raises(TypeError, "n_components must be")),
    ("fit_many", "K bool", lambda: fit_many([X], True), Raises(TypeError, "n_components must be")),
    ("fit_many", "K str", lambda: fit_many([X], "2"), Raises(TypeError, "n_components must be")),
    ("fit_many", "K > N of set 1 strict", lambda: fit_many([X, X[:1]], 2, strict=True), Raises(ValueError, r"datasets\[1\] has 1 observations, fewer than the smallest n_components \(2\)")),
    ("fit_many", "K > N of set 1", lambda: fit_many([X, X[:1]], 2), Legal(lambda r: _fm_legal_invalid_row(r, 1, "fewer than the smallest"), "set 1 reported")),
    ("fit_many", "K range, some K > N", lambda: fit_many([X[:2]], range(1, 4)),
     Legal(lambda r: r.table[3]["status"][0] == "skipped" and 1 <= r.n_components[0] <= 2, "K above N skipped for that set")),
    ("fit_many", "K np.int64", lambda: fit_many([X], np.int64(1)), Legal(lambda r: r.rates[0, 0] == single(X).rates_[0], "numpy ints are ints")),
    # ---- options ------------------------------------------------------------------
    ("fit_many", "n_init 0", lambda: fit_many([X], 1, n_init=0), Raises(ValueError, "n_init must be >= 1")),
    ("fit_many", "n_init 1e20", lambda: fit_many([X], 1, n_init=10**20), Raises(ValueError, "n_init must be >= 1 and <= 100000")),
    ("fit_many", "n_init float", lambda: fit_many([X], 1, n_init=2.0), Raises(TypeError, "n_init must be an int")),
    ("fit_many", "tol -1", lambda: fit_many([X], 1, tol=-1), Raises(ValueError, "tol must be a finite number >= 0")),
    ("fit_many", "tol NaN", lambda: fit_many([X], 1, tol=np.nan), Raises(ValueError, "tol must be a finite number")),
    ("fit_many", "tol str", lambda: fit_many([X], 1, tol="x"), Raises(ValueError, "tol must be")),
    ("fit_many", "max_iter -1", lambda: fit_many([X], 1, max_iter=-1), Raises(ValueError, "max_iter must be >= 0")),
    ("fit_many", "max_iter 1e20", lambda: fit_many([X], 1, max_iter=10**20), Raises(ValueError, "max_iter must be >= 0 and <= ")),
    ("fit_many", "max_iter float", lambda: fit_many([X], 1, max_iter=1.5), Raises(TypeError, "max_iter must be an int")),
    ("fit_many", "max_iter 0", lambda: fit_many([X], 2, max_iter=0),
     Legal(lambda r: r.status[0] == "max_iter" and r.n_iter[0] == 0 and not r.converged[0], "the start, flagged")),
    ("fit_many", "random_state str", lambda: fit_many([X], 1, random_state="0"), Raises(TypeError, "random_state must be None, a non-negative int or a numpy SeedSequence")),
    ("fit_many", "random_state float", lambda: fit_many([X], 1, random_state=1.5), Raises(TypeError, "random_state must be")),
    ("fit_many", "random_state bool", lambda: fit_many([X], 1, random_state=True), Raises(TypeError, "random_state must be")),
    ("fit_many", "random_state Generator", lambda: fit_many([X], 1, random_state=np.random.default_rng(0)), Raises(TypeError, "SeedSequence \\(fit_many spawns one child per data set\\)")),
    ("fit_many", "random_state -1", lambda: fit_many([X], 1, random_state=-1), Raises(ValueError, "random_state must be non-negative")),
    ("fit_many", "random_state SeedSequence", lambda: fit_many([X, X2()], 2, random_state=np.random.SeedSequence(4)),
     Legal(lambda r: r.rates[1].tobytes() == single(X2(), K=2, j=1, n=2, seed=4).rates_.tobytes(), "documented child-seed equivalence")),
    ("fit_many", "n_threads 0", lambda: fit_many([X], 1, n_threads=0), Raises(ValueError, "n_threads must be None, -1 or an int between 1 and 65536")),
    ("fit_many", "n_threads 2**40", lambda: fit_many([X], 1, n_threads=2**40), Raises(ValueError, "n_threads must be")),
    ("fit_many", "n_threads str", lambda: fit_many([X], 1, n_threads="2"), Raises(TypeError, "n_threads must be")),
    ("fit_many", "n_threads -1", lambda: fit_many([X], 1, n_threads=-1), Legal(lambda r: r.rates[0, 0] == single(X).rates_[0], "-1 = all CPUs")),
    ("fit_many", "strict str", lambda: fit_many([X], 1, strict="yes"), Raises(TypeError, "strict must be a bool")),
    ("fit_many", "strict 1", lambda: fit_many([X], 1, strict=1), Raises(TypeError, "strict must be a bool")),
    ("fit_many", "init bogus", lambda: fit_many([X], 1, init="bogus"), Raises(ValueError, "init must be one of")),
    ("fit_many", "acceleration bogus", lambda: fit_many([X], 1, acceleration="bogus"), Raises(ValueError, "acceleration must be")),
    # ---- values --------------------------------------------------------------------
    ("fit_many", "all-zero set strict", lambda: fit_many([np.zeros(4)], 1, strict=True), Raises(ValueError, r"datasets\[0\] carries no information")),
    ("fit_many", "all-zero set", lambda: fit_many([X, np.zeros(4)], 1), Legal(lambda r: _fm_legal_invalid_row(r, 1, "no information"), "reported")),
    ("fit_many", "all-equal set K=2", lambda: fit_many([np.full(5, 2.0)], 2),
     Legal(lambda r: np.allclose(r.rates[0], 0.5, rtol=1e-9) and abs(np.nansum(r.weights[0]) - 1) < 1e-15, "every component at 1/x")),
    ("fit_many", "values ~1e305", lambda: fit_many([1e305 * np.arange(1, 6.0)], 1),
     Legal(lambda r: r.rates[0, 0] == pytest.approx(rate(1e305 * np.arange(1, 6.0)), rel=1e-12), "closed form at the top of the range")),
    ("fit_many", "values ~1e-300", lambda: fit_many([1e-300 * np.arange(1, 6.0)], 1),
     Legal(lambda r: r.rates[0, 0] == pytest.approx(rate(1e-300 * np.arange(1, 6.0)), rel=1e-12), "closed form at the bottom")),
    ("fit_many", "subnormal set", lambda: fit_many([X, np.full(5, 5e-324)], 1),
     Legal(lambda r: r.n_components[1] == 0 and r.status[1].startswith(("degenerate", "invalid")) and _fm_first_ok(r) is None,
           "reported not fitted (rates beyond float64), the other set fitted")),
    # fit_many_intervals (tests/test_fit_many_intervals.py has the equality tests)
    ("fit_many_intervals", "lower None", lambda: fmi(None, [X], 1), Raises(TypeError, "lower must be a list of 1-D arrays.*NoneType")),
    ("fit_many_intervals", "both arrays", lambda: fmi(X, X, 1), Raises(TypeError, "lower must be a list of 1-D arrays.*ndarray")),
    ("fit_many_intervals", "lengths differ", lambda: fmi([X], [X, X], 1), Raises(ValueError, "lower and upper must have one entry per data set each, got 1 and 2")),
    ("fit_many_intervals", "complex set", lambda: fmi([X + 1j], [X], 1), Raises(TypeError, r"lower\[0\]")),
    ("fit_many_intervals", "ragged offsets differ", lambda: fmi((V, OFF), (V, np.array([0, 4, 10])), 1), Raises(ValueError, "same offsets")),
    ("fit_many_intervals", "entry NaN", lambda: fmi([X], [X], 1, entry=np.nan), Raises(ValueError, "entry must be a finite number")),
    ("fit_many_intervals", "empty list", lambda: fmi([], [], 2), Legal(lambda r: len(r) == 0 and r.rates.shape == (0, 2), "no data sets, empty result")),
    ("fit_many_intervals", "upper below lower", lambda: fmi([X, X], [X, X - 0.5], 1),
     Legal(lambda r: r.ok[0] and "lower[1][0]" in r.status[1] and "greater than upper[1][0]" in r.status[1], "invalid row, named")),
    ("fit_many_intervals", "upper below lower strict", lambda: fmi([X, X], [X, X - 0.5], 1, strict=True), Raises(ValueError, r"lower\[1\]\[0\] .* greater than upper\[1\]\[0\]")),
    ("fit_many_intervals", "one row [0, inf)", lambda: fmi([np.zeros(1)], [np.full(1, np.inf)], 1),
     Legal(lambda r: r.status[0].startswith("invalid: ") and "no information" in r.status[0], "no information, reported")),
    ("fit_many_intervals", "exact rows = fit_many", lambda: fmi([X], [X], 1, random_state=0),
     Legal(lambda r: r.rates[0, 0] == fit_many([X], 1, random_state=0).rates[0, 0], "lower == upper is exact")),
]


def X2():
    return np.r_[X, 30 * X]


def _ro(a):
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


# ---------------------------------------------------------------------------
# persistence

def _text_with(path, literal):
    """The model's JSON text with the value at ``path`` replaced by a raw JSON literal."""
    d = json.loads(json.dumps(model_text()))
    set_in(path, "@@LITERAL@@")(d)
    return json.dumps(d).replace('"@@LITERAL@@"', literal)


def _load_edit(name, path, value):
    return lambda: load(model_file(name, set_in(path, value)))


def _round_trip(m):
    p = tmpfile("rt.json")
    m.save(p)
    return m, load(p)


PERSISTENCE = [
    # ---- the path ---------------------------------------------------------------------
    ("load", "missing file", lambda: load(os.path.join(TMP, "nope.json")), Raises(FileNotFoundError, "nope.json")),
    ("load", "directory", lambda: load(TMP), Raises(IsADirectoryError, "is a directory, not a model file")),
    ("load", "path None", lambda: load(None), Raises(TypeError, "path must be a str or os.PathLike, got NoneType")),
    ("load", "path int", lambda: load(3), Raises(TypeError, "path must be a str or os.PathLike, got int")),
    ("load", "path list", lambda: load([good_file()]), Raises(TypeError, "path must be .*got list")),
    ("load", "path bytes / Path", lambda: (load(good_file().encode()), load(pathlib.Path(good_file()))),
     Legal(lambda r: same_model(fitted(), r[0]) is None and same_model(fitted(), r[1]) is None, "os.fspath-able paths work")),
    # ---- not a model file ----------------------------------------------------------------
    ("load", "empty file", lambda: load(tmpfile("empty.json", "")), Raises(ModelFileError, r"empty\.json: invalid expmix model file: not valid JSON")),
    ("load", "whitespace", lambda: load(tmpfile("ws.json", " \n\t")), Raises(ModelFileError, "not valid JSON")),
    ("load", "truncated half", lambda: load(model_file("half.json", text=json.dumps(model_text())[:300])), Raises(ModelFileError, "not valid JSON")),
    ("load", "truncated end", lambda: load(model_file("end.json", text=json.dumps(model_text())[:-2])), Raises(ModelFileError, "not valid JSON")),
    ("load", "plain text", lambda: load(tmpfile("txt.json", "hello")), Raises(ModelFileError, "not valid JSON")),
    ("load", "CSV data", lambda: load(tmpfile("data.csv", "x\n1\n2\n")), Raises(ModelFileError, "not valid JSON")),
    ("load", "binary", lambda: load(tmpfile("bin.json", b"\xff\xfe\x00\x01")), Raises(ModelFileError, r"not an expmix model file \(not UTF-8 text\)")),
    ("load", "UTF-16", lambda: load(tmpfile("u16.json", json.dumps(model_text()).encode("utf-16"))), Raises(ModelFileError, "not UTF-8")),
    ("load", "UTF-8 BOM", lambda: load(tmpfile("bom.json", b"\xef\xbb\xbf" + json.dumps(model_text()).encode())),
     Legal(lambda r: same_model(fitted(), r) is None, "a byte-order mark is accepted")),
    ("load", "JSON null", lambda: load(tmpfile("null.json", "null")), Raises(ModelFileError, "expected a JSON object, got NoneType")),
    ("load", "JSON list", lambda: load(tmpfile("list.json", "[1, 2]")), Raises(ModelFileError, "expected a JSON object, got list")),
    ("load", "JSON number", lambda: load(tmpfile("num.json", "3")), Raises(ModelFileError, "expected a JSON object, got int")),
    ("load", "JSON {}", lambda: load(tmpfile("obj.json", "{}")), Raises(ModelFileError, "not an expmix model file: schema is None")),
    ("load", "nested too deeply", lambda: load(tmpfile("deep.json", "[" * 100000 + "]" * 100000)), Raises(ModelFileError, "nested too deeply")),
    ("load", "bare NaN", lambda: load(model_file("nan.json", text=json.dumps(model_text()).replace('"tol": 1e-10', '"tol": NaN'))), Raises(ModelFileError, "bare NaN is not valid JSON")),
    ("load", "duplicate key", lambda: load(model_file("dup.json", text=json.dumps(model_text()).replace('"schema_version": 1', '"schema_version": 1, "schema_version": 2'))),
     Raises(ModelFileError, "duplicate key 'schema_version'")),
    # ---- schema and version ----------------------------------------------------------------
    ("load", "other schema", _load_edit("sch.json", ("schema",), "sklearn.GaussianMixture"), Raises(ModelFileError, "not an expmix model file: schema is 'sklearn.GaussianMixture'")),
    ("load", "schema missing", _load_edit("schm.json", ("schema",), KeyError), Raises(ModelFileError, "schema is None")),
    ("load", "version missing", _load_edit("vm.json", ("schema_version",), KeyError), Raises(ModelFileError, "schema_version: must be a positive integer, got None")),
    ("load", "version str", _load_edit("vs.json", ("schema_version",), "1"), Raises(ModelFileError, "schema_version: must be a positive integer, got '1'")),
    ("load", "version 1.0", _load_edit("vf.json", ("schema_version",), 1.0), Raises(ModelFileError, "schema_version: must be a positive integer, got 1.0")),
    ("load", "version 0", _load_edit("v0.json", ("schema_version",), 0), Raises(ModelFileError, "schema_version: must be a positive integer")),
    ("load", "newer version", _load_edit("v2.json", ("schema_version",), 2), Raises(ModelFileError, "schema version 2.*Upgrade expmix")),
    ("load", "expmix_version int", _load_edit("ev.json", ("expmix_version",), 3), Raises(ModelFileError, "expmix_version: must be a string")),
    ("load", "unknown top key", _load_edit("tk.json", ("extra",), 1), Raises(ModelFileError, r"top level: unknown key\(s\) \['extra'\]")),
    # ---- params ---------------------------------------------------------------------
    ("load", "params missing", _load_edit("pm.json", ("params",), KeyError), Raises(ModelFileError, "params: must be an object")),
    ("load", "params list", _load_edit("pl.json", ("params",), [1]), Raises(ModelFileError, "params: must be an object")),
    ("load", "params unknown", _load_edit("pu.json", ("params", "frobnicate"), 1), Raises(ModelFileError, r"unknown parameter\(s\) \['frobnicate'\]")),
    ("load", "n_components 0", _load_edit("k0.json", ("params", "n_components"), 0), Raises(ModelFileError, "params: n_components must be between 1 and 256")),
    ("load", "n_components str", _load_edit("ks.json", ("params", "n_components"), "2"), Raises(ModelFileError, "params: n_components must be an int")),
    ("load", "n_components 10**400", _load_edit("kh.json", ("params", "n_components"), 10**400), Raises(ModelFileError, "n_components must be between")),
    ("load", "tol 10**400", _load_edit("tbig.json", ("params", "tol"), 10**400), Raises(ModelFileError, "params: int too large|params: tol must be")),
    ("load", "params encoded float", _load_edit("pef.json", ("params",), {"__float__": "nan"}), Raises(ModelFileError, "params: must be an object")),
    ("load", "fitted encoded float", _load_edit("fef.json", ("fitted",), {"__float__": "inf"}), Raises(ModelFileError, "fitted: missing weights_")),
    ("load", "restart encoded float", _load_edit("ref.json", ("fitted", "restarts_", 0), {"__float__": "nan"}), Raises(ModelFileError, r"restarts_\[0\]: must be an object")),
    ("load", "tol encoded NaN", _load_edit("tn.json", ("params", "tol"), {"__float__": "nan"}), Raises(ModelFileError, "params: tol must be a finite number")),
    ("load", "random_state dict", _load_edit("rs.json", ("params", "random_state"), {"a": 1}), Raises(ModelFileError, r"params\.random_state: must be null or an integer >= 0")),
    ("load", "random_state -1", _load_edit("rs1.json", ("params", "random_state"), -1), Raises(ModelFileError, r"params\.random_state")),
    ("load", "n_threads list", _load_edit("nt.json", ("params", "n_threads"), [1]), Raises(ModelFileError, r"params\.n_threads: n_threads must be")),
    ("load", "n_threads 0", _load_edit("nt0.json", ("params", "n_threads"), 0), Raises(ModelFileError, r"params\.n_threads")),
    ("load", "weights_init str", _load_edit("wi.json", ("params", "weights_init"), "abc"), Raises(ModelFileError, r"params\.weights_init: must be a list of numbers")),
    # ---- fitted numbers -------------------------------------------------------------------
    ("load", "fitted list", _load_edit("fl.json", ("fitted",), [1]), Raises(ModelFileError, "fitted: must be an object or null")),
    ("load", "fitted null", _load_edit("fn.json", ("fitted",), None),
     Legal(lambda m: not hasattr(m, "rates_") and m.get_params() == fitted().get_params(), "an unfitted model with the saved params")),
    ("load", "rates NaN", _load_edit("rn.json", ("fitted", "rates_", 0), {"__float__": "nan"}), Raises(ModelFileError, r"fitted\.rates_: must be finite, got nan")),
    ("load", "rates 1e400 literal", lambda: load(model_file("r4.json", text=_text_with(("fitted", "rates_", 0), "1e400"))),
     Raises(ModelFileError, r"fitted\.rates_: must be finite, got inf")),
    ("load", "rates negative", _load_edit("rneg.json", ("fitted", "rates_", 1), -1.0), Raises(ModelFileError, r"fitted\.rates_: must be positive, got -1.0")),
    ("load", "rates str", _load_edit("rstr.json", ("fitted", "rates_", 0), "fast"), Raises(ModelFileError, r"fitted\.rates_: must be a list of numbers")),
    ("load", "rates nested", _load_edit("rnest.json", ("fitted", "rates_", 0), [1.0]), Raises(ModelFileError, r"fitted\.rates_: must be a list of numbers")),
    ("load", "rates 10**400", _load_edit("rhuge.json", ("fitted", "rates_", 0), 10**400), Raises(ModelFileError, r"fitted\.rates_: must be finite, got an integer beyond the float64 range")),
    ("load", "rates length", _load_edit("rlen.json", ("fitted", "rates_"), [3.0, 2.0, 1.0]), Raises(ModelFileError, r"fitted\.rates_: must have 2 values \(n_components\), got 3")),
    ("load", "rates increasing", lambda: load(model_file("rinc.json", lambda d: (d["fitted"]["rates_"].reverse(), d["fitted"]["means_"].reverse()))), Raises(ModelFileError, "decreasing order")),
    ("load", "weights sum", _load_edit("wsum.json", ("fitted", "weights_", 0), 0.9), Raises(ModelFileError, r"fitted\.weights_: must sum to 1")),
    ("load", "weights negative", _load_edit("wneg.json", ("fitted", "weights_", 0), -0.5), Raises(ModelFileError, r"fitted\.weights_: must be positive")),
    ("load", "weights null", _load_edit("wnull.json", ("fitted", "weights_"), None), Raises(ModelFileError, r"fitted\.weights_: must be a list of numbers")),
    ("load", "encoded float bad", _load_edit("ef.json", ("fitted", "rates_", 0), {"__float__": "1.5"}), Raises(ModelFileError, r"fitted\.rates_\[0\]: invalid encoded float '1.5'")),
    ("load", "means inconsistent", _load_edit("mean.json", ("fitted", "means_", 0), 7.0), Raises(ModelFileError, r"fitted\.means_: must equal 1 / rates_")),
    ("load", "log_likelihood str", _load_edit("ll.json", ("fitted", "log_likelihood_"), "x"), Raises(ModelFileError, r"log_likelihood_: must be a number")),
    ("load", "n_iter float", _load_edit("ni.json", ("fitted", "n_iter_"), 2.5), Raises(ModelFileError, r"fitted\.n_iter_: must be an integer")),
    ("load", "n_observations 10**400", _load_edit("no.json", ("fitted", "n_observations_"), 10**400), Raises(ModelFileError, r"fitted\.n_observations_: must be an integer >= 1 \(and < 2\*\*63\)")),
    ("load", "history nested", _load_edit("hn.json", ("fitted", "history_"), [[1.0, 2.0]]), Raises(ModelFileError, r"fitted\.history_: must be a list of numbers")),
    ("load", "status int", _load_edit("st.json", ("fitted", "status_"), 3), Raises(ModelFileError, r"fitted\.status_: must be a string")),
    ("load", "data_kinds str", _load_edit("dk.json", ("fitted", "data_kinds_"), "exact"), Raises(ModelFileError, r"fitted\.data_kinds_: must be a list")),
    ("load", "restarts empty", _load_edit("re.json", ("fitted", "restarts_"), []), Raises(ModelFileError, r"fitted\.restarts_: must be a non-empty list")),
    ("load", "restart start NaN", _load_edit("rsn.json", ("fitted", "restarts_", 0, "start", 0, 0), {"__float__": "nan"}), Raises(ModelFileError, r"restarts_\[0\]\.start\[0\]: must be finite")),
    ("load", "fitted attribute missing", _load_edit("fam.json", ("fitted", "history_"), KeyError), Raises(ModelFileError, "fitted: missing history_")),
    ("load", "standard errors str", _load_edit("se.json", ("fitted", "standard_errors_"), {k: ["a"] for k in ("weights", "rates", "means", "log_rates", "covariance", "information")}),
     Raises(ModelFileError, r"fitted\.standard_errors_")),
    ("load", "round trip", lambda: _round_trip(fitted()), Legal(lambda r: same_model(*r) is None, "bit for bit, same score")),
    # ---- save / loads / from_dict --------------------------------------------------------------
    ("save", "to a directory", lambda: save(fitted(), TMP), Raises(IsADirectoryError, "is a directory; give the name of the model file")),
    ("save", "into a missing directory", lambda: save(fitted(), os.path.join(TMP, "no", "m.json")), Raises(FileNotFoundError, r"the directory .*no does not exist")),
    ("save", "path None", lambda: fitted().save(None), Raises(TypeError, "path must be a str or os.PathLike, got NoneType")),
    ("save", "path int", lambda: save(fitted(), 3), Raises(TypeError, "path must be")),
    ("save", "not a model", lambda: save("abc", tmpfile("x.json")), Raises(TypeError, "model must be an ExponentialMixture, got str")),
    ("save", "unfitted model", lambda: (save(EM(3, n_init=2), tmpfile("u.json")), load(tmpfile("u.json")))[1],
     Legal(lambda m: not hasattr(m, "rates_") and m.n_components == 3 and m.n_init == 2, "params only")),
    ("loads", "None", lambda: loads(None), Raises(TypeError, "text must be a str")),
    ("loads", "bytes", lambda: loads(json.dumps(model_text()).encode()), Legal(lambda m: same_model(fitted(), m) is None, "UTF-8 bytes accepted")),
    ("from_dict", "list", lambda: from_dict([1]), Raises(ModelFileError, "expected a JSON object, got list")),
    ("from_dict", "EM.from_dict str", lambda: EM.from_dict("abc"), Raises(ModelFileError, "expected a JSON object, got str")),
]


# ---------------------------------------------------------------------------
# the command line

@dataclass
class Exits:
    code: int
    match: str
    subprocess: bool = False


def cli(*argv, stdin=None):
    """Run expmix.cli.main in-process; (exit code, stderr)."""
    from expmix.cli import main
    err, out = io.StringIO(), io.StringIO()
    old = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main([str(a) for a in argv])
    finally:
        sys.stdin = old
    return code, err.getvalue()


def cli_sub(*argv):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    r = subprocess.run([sys.executable, "-m", "expmix", *map(str, argv)], capture_output=True,
                       text=True, env=env, timeout=120)
    return r.returncode, r.stderr


def data_file(name, content):
    return tmpfile(name, content)


def good_csv():
    rng = np.random.default_rng(1)
    return data_file("good.csv", "x\n" + "\n".join(repr(float(v)) for v in rng.exponential(1.0, 100)) + "\n")


def npy(name, a, **kw):
    p = tmpfile(name)
    np.save(p, a, **kw)
    return p


def unfitted_model_file():
    p = tmpfile("unfitted.json")
    save(EM(2), p)
    return p


def png():
    return os.path.join(TMP, "p.png")


CLI = [
    # ---- files -----------------------------------------------------------------------
    ("cli", "no command", lambda: cli(), Exits(2, "required: COMMAND")),
    ("cli", "unknown command", lambda: cli("frobnicate"), Exits(2, "invalid choice: 'frobnicate'")),
    ("cli", "unknown option", lambda: cli("fit", good_csv(), "--bogus"), Exits(2, "unrecognized arguments: --bogus")),
    ("cli", "missing file", lambda: cli("fit", os.path.join(TMP, "nope.csv")), Exits(3, r"nope\.csv: no such file")),
    ("cli", "a directory", lambda: cli("fit", TMP), Exits(3, "is a directory, not a data file")),
    ("cli", "empty file", lambda: cli("fit", data_file("empty.csv", "")), Exits(3, "the file has no data rows")),
    ("cli", "only comments", lambda: cli("fit", data_file("comments.csv", "# a\n# b\n")), Exits(3, "no data rows")),
    ("cli", "header only", lambda: cli("fit", data_file("header.csv", "x,y\n")), Exits(3, "a header but no data rows")),
    ("cli", "non-numeric cell", lambda: cli("fit", data_file("nn.csv", "x\n1\nabc\n")), Exits(3, r"line 3, column 'x': cannot read 'abc' as a number")),
    ("cli", "no such column", lambda: cli("fit", good_csv(), "--column", "zz"), Exits(3, r"no column 'zz' \(columns: x\)")),
    ("cli", "two columns, none chosen", lambda: cli("fit", data_file("two.csv", "a,b\n1,2\n3,4\n")), Exits(2, r"has 2 columns \(a, b\); choose one with --column")),
    ("cli", "ragged rows", lambda: cli("fit", data_file("rag.csv", "a,b\n1,2\n3,4,5\n"), "--column", "a"), Exits(3, r"line 3: expected 2 fields \(a, b\), found 3")),
    ("cli", "binary file", lambda: cli("fit", data_file("bin.csv", b"\x00\xff\xfe\x01" * 8)), Exits(3, "not a text file")),
    ("cli", "junk .npy", lambda: cli("fit", data_file("junk.npy", "junk")), Exits(3, r"not a readable \.npy file \(no NumPy header")),
    ("cli", "object .npy", lambda: cli("fit", npy("obj.npy", np.array([1, "a"], object), allow_pickle=True)), Exits(3, "not a readable .npy file")),
    ("cli", "3-D .npy", lambda: cli("fit", npy("a3.npy", np.ones((2, 2, 2)))), Exits(3, r"must be 1-D or 2-D, got shape \(2, 2, 2\)")),
    ("cli", "complex .npy", lambda: cli("fit", npy("cx.npy", np.ones(4) * 1j)), Exits(3, r"column 'x' is not numeric \(dtype complex128\)")),
    ("cli", "empty .npy", lambda: cli("fit", npy("e0.npy", np.zeros(0))), Exits(4, "the data have no observations")),
    ("cli", "junk parquet", lambda: cli("fit", data_file("junk.parquet", "junk")), Exits(3, "not a readable Parquet file")),
    ("cli", "empty stdin", lambda: cli("fit", "-", stdin=""), Exits(3, "-: the file has no data rows")),
    # ---- data --------------------------------------------------------------------------
    ("cli", "NaN value", lambda: cli("fit", data_file("nan.csv", "1\nnan\n2\n")), Exits(4, r"X contains NaN \(at index 1\)")),
    ("cli", "value 1e400", lambda: cli("fit", data_file("ov.csv", "1e400\n1\n"), "--k", "1"), Exits(4, "X contains inf")),
    ("cli", "negative value", lambda: cli("fit", data_file("neg.csv", "1\n-1\n2\n")), Exits(4, "X must be non-negative")),
    ("cli", "all zero", lambda: cli("fit", data_file("zero.csv", "0\n0\n0\n")), Exits(4, "every observed value is 0")),
    ("cli", "every K degenerate", lambda: cli("fit", data_file("deg.csv", "0\n0\n0\n1\n2\n3\n0\n0\n"), "--k", "2"), Exits(5, "degenerated")),
    ("cli", "weights non-numeric", lambda: cli("fit", data_file("wnn.csv", "x,w\n1,1\n2,a\n"), "--column", "x", "--weights-column", "w"), Exits(3, r"column 'w': cannot read 'a'")),
    ("cli", "weights negative", lambda: cli("fit", data_file("wneg.csv", "x,w\n1,1\n2,-1\n"), "--column", "x", "--weights-column", "w", "--k", "1"), Exits(4, "sample_weight must be non-negative")),
    ("cli", "censor column not 0/1", lambda: cli("fit", data_file("c2.csv", "x,c\n1,0\n2,2\n"), "--column", "x", "--censor-column", "c", "--k", "1"), Exits(4, r"column 'c' must hold 0/1")),
    ("cli", "censor column NaN", lambda: cli("fit", data_file("cnan.csv", "x,c\n1,0\n2,nan\n"), "--column", "x", "--censor-column", "c", "--k", "1"), Exits(4, "must hold 0/1")),
    ("cli", "all censored", lambda: cli("fit", data_file("call.csv", "x,c\n1,1\n2,1\n"), "--column", "x", "--censor-column", "c", "--k", "1"), Exits(4, "every observation is right-censored")),
    ("cli", "histogram one column", lambda: cli("fit", good_csv(), "--histogram"), Exits(3, "--histogram needs three columns")),
    ("cli", "histogram lower > upper", lambda: cli("fit", data_file("hb.csv", "lo,hi,n\n2,1,3\n"), "--histogram", "--k", "1"), Exits(4, r"lower\[0\] = 2.0 is greater than upper\[0\] = 1.0")),
    ("cli", "histogram with --entry-column", lambda: cli("fit", data_file("hec.csv", "lo,hi,n\n0,1,3\n1,2,1\n"), "--histogram", "--entry-column", "lo"), Exits(2, "--entry-column cannot be used with --histogram")),
    ("cli", "entry above data", lambda: cli("fit", good_csv(), "--entry", "100", "--k", "1"), Exits(4, "entry = 100.0 is not below X")),
    # ---- options -----------------------------------------------------------------------------
    ("cli", "--k 0", lambda: cli("fit", good_csv(), "--k", "0"), Exits(2, "--k values must be >= 1")),
    ("cli", "--k abc", lambda: cli("fit", good_csv(), "--k", "abc"), Exits(2, "--k must be an int, a range like 1-6")),
    ("cli", "--k 300", lambda: cli("fit", good_csv(), "--k", "300"), Exits(2, "--k values must be between 1 and 256")),
    ("cli", "--k 1-100000000", lambda: cli("fit", good_csv(), "--k", "1-100000000"), Exits(2, "--k values must be between 1 and 256")),
    ("cli", "--k 5-1", lambda: cli("fit", good_csv(), "--k", "5-1"), Exits(2, "--k range '5-1' is empty")),
    ("cli", "--k 1,,2", lambda: cli("fit", good_csv(), "--k", "1,,2"), Exits(2, "--k must be an int")),
    ("cli", "--n-init 0", lambda: cli("fit", good_csv(), "--n-init", "0"), Exits(2, "--n-init must be between 1 and 100000, got 0")),
    ("cli", "--n-init abc", lambda: cli("fit", good_csv(), "--n-init", "abc"), Exits(2, "argument --n-init: invalid int value: 'abc'")),
    ("cli", "--n-init 1e20", lambda: cli("fit", good_csv(), "--n-init", str(10**20)), Exits(2, "--n-init must be between")),
    ("cli", "--max-iter -1", lambda: cli("fit", good_csv(), "--max-iter", "-1"), Exits(2, "--max-iter must be between 0 and")),
    ("cli", "--tol NaN", lambda: cli("fit", good_csv(), "--tol", "nan"), Exits(2, "--tol must be a finite number >= 0, got nan")),
    ("cli", "--seed -1", lambda: cli("fit", good_csv(), "--seed", "-1"), Exits(2, "--seed must be >= 0, got -1")),
    ("cli", "--entry -1", lambda: cli("fit", good_csv(), "--entry", "-1"), Exits(2, "--entry must be a finite number >= 0")),
    ("cli", "--entry inf", lambda: cli("fit", good_csv(), "--entry", "inf"), Exits(2, "--entry must be a finite number")),
    ("cli", "--entry abc", lambda: cli("fit", good_csv(), "--entry", "abc"), Exits(2, "invalid float value: 'abc'")),
    ("cli", "--criterion bogus", lambda: cli("fit", good_csv(), "--criterion", "bogus"), Exits(2, "--criterion must be one of bic, aic, aicc, icl")),
    ("cli", "--censor and --event", lambda: cli("fit", good_csv(), "--censor-column", "x", "--event-column", "x"), Exits(2, "not allowed with argument --censor-column")),
    ("cli", "--save to a directory", lambda: cli("fit", good_csv(), "--k", "1", "--save", TMP), Exits(3, "is a directory")),
    ("cli", "--json into a missing dir", lambda: cli("fit", good_csv(), "--k", "1", "--json", os.path.join(TMP, "no", "r.json")), Exits(3, r"cannot write \(No such file or directory\)")),
    ("cli", "--plot to a directory", lambda: cli("fit", good_csv(), "--k", "1", "--plot", TMP), Exits(3, "is a directory; give the name of the image file")),
    ("cli", "--plot unknown format", lambda: cli("fit", good_csv(), "--k", "1", "--plot", os.path.join(TMP, "p.xyz")), Exits(3, "cannot write the plot")),
    # ---- simulate and plot --------------------------------------------------------------------
    ("cli", "simulate nothing", lambda: cli("simulate"), Exits(2, "simulate needs --weights and --rates")),
    ("cli", "simulate lengths", lambda: cli("simulate", "--weights", "0.5,0.5", "--rates", "1"), Exits(2, "--weights has 2 values but --rates has 1")),
    ("cli", "simulate rate NaN", lambda: cli("simulate", "--weights", "1", "--rates", "nan"), Exits(2, "must be finite and positive")),
    ("cli", "simulate rate abc", lambda: cli("simulate", "--weights", "1", "--rates", "abc"), Exits(2, "expected comma-separated numbers")),
    ("cli", "simulate --n 0", lambda: cli("simulate", "--weights", "1", "--rates", "1", "--n", "0"), Exits(2, "--n must be between 1 and 2\\*\\*53, got 0")),
    ("cli", "simulate --n 1e20", lambda: cli("simulate", "--weights", "1", "--rates", "1", "--n", str(10**20)), Exits(2, "--n must be between")),
    ("cli", "simulate --seed -1", lambda: cli("simulate", "--weights", "1", "--rates", "1", "--seed", "-1"), Exits(2, "--seed must be >= 0")),
    ("cli", "simulate --entry NaN", lambda: cli("simulate", "--weights", "1", "--rates", "1", "--entry", "nan"), Exits(2, "--entry must be a finite number")),
    ("cli", "simulate --censor-at -1", lambda: cli("simulate", "--weights", "1", "--rates", "1", "--censor-at", "-1"), Exits(2, "--censor-at must be a number > 0")),
    ("cli", "simulate --censor-at NaN", lambda: cli("simulate", "--weights", "1", "--rates", "1", "--censor-at", "nan"), Exits(2, "--censor-at must be a number > 0")),
    ("cli", "simulate missing model", lambda: cli("simulate", "--model", os.path.join(TMP, "nomodel.json")), Exits(3, "no such model file")),
    ("cli", "simulate model is CSV", lambda: cli("simulate", "--model", good_csv()), Exits(3, "invalid expmix model file: not valid JSON")),
    ("cli", "simulate model is a dir", lambda: cli("simulate", "--model", TMP), Exits(3, "is a directory, not a model file")),
    ("cli", "simulate unfitted model", lambda: cli("simulate", "--model", unfitted_model_file()), Exits(4, "the model in this file is not fitted")),
    ("cli", "simulate .npy, 2 columns", lambda: cli("simulate", "--weights", "1", "--rates", "1", "--labels", "-o", os.path.join(TMP, "o.npy")), Exits(2, "--output .npy holds one column")),
    ("cli", "plot without -o", lambda: cli("plot", good_csv()), Exits(2, "required: --output/-o")),
    ("cli", "plot --k 0", lambda: cli("plot", good_csv(), "--k", "0", "-o", png()), Exits(2, "--k must be between 1 and 256, got 0")),
    ("cli", "plot --k > N", lambda: cli("plot", data_file("three.csv", "1\n2\n3\n"), "--k", "5", "-o", png()), Exits(4, "n_components=5 is larger than the number of observations")),
    ("cli", "plot --kind pie", lambda: cli("plot", good_csv(), "--kind", "pie", "-o", png()), Exits(2, "invalid choice: 'pie'")),
    ("cli", "plot censor not 0/1", lambda: cli("plot", data_file("pc.csv", "x,c\n1,0\n2,2\n3,0\n"), "--column", "x", "--censor-column", "c", "-o", png()), Exits(4, "must hold 0/1")),
    ("cli", "plot to a directory", lambda: cli("plot", good_csv(), "-o", TMP), Exits(3, "is a directory")),
    ("cli", "plot unfitted model", lambda: cli("plot", good_csv(), "--model", unfitted_model_file(), "-o", png()), Exits(4, "not fitted")),
    # ---- python -m expmix (subprocess: the real exit status and stderr) -------------------------
    ("cli", "subprocess: missing file", lambda: cli_sub("fit", os.path.join(TMP, "nope.csv")), Exits(3, "no such file", True)),
    ("cli", "subprocess: non-numeric CSV", lambda: cli_sub("fit", data_file("nn2.csv", "x\n1\nabc\n")), Exits(3, "cannot read 'abc' as a number", True)),
    ("cli", "subprocess: bad option", lambda: cli_sub("fit", good_csv(), "--k", "1-100000000"), Exits(2, "--k values must be between 1 and 256", True)),
    ("cli", "subprocess: simulate --n 1e20", lambda: cli_sub("simulate", "--weights", "1", "--rates", "1", "--n", str(10**20)), Exits(2, "--n must be between", True)),
]


# ---------------------------------------------------------------------------
# the dask estimator (local mode: no distributed client, the passes run here)

def _dask():
    pytest.importorskip("dask")
    pytest.importorskip("distributed")
    import dask.array as da
    import expmix.dask as ed
    return da, ed


def dk(f):
    """A row call that gets (da, ed, dx) where dx is 3000 exponential draws in chunks of 1000."""
    def g():
        da, ed = _dask()
        x = np.random.default_rng(0).exponential(1.0, 3000)
        return f(da, ed, x, da.from_array(x, chunks=1000))
    return g


def _with(x, i, v):
    y = x.copy()
    y[i] = v
    return y


def _dask_fit_equals_memory(r):
    m, x = r
    ref = EM(1).fit(x)
    assert m.rates_[0] == pytest.approx(ref.rates_[0], rel=1e-12)


DASK = [
    ("dask", "NaN inside chunk 1", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.from_array(_with(x, 1500, np.nan), chunks=1000))),
     Raises(ValueError, r"X contains NaN \(at index 500\) \[in dask chunk 1, which starts at row 1000")),
    ("dask", "inf in the last chunk", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.from_array(_with(x, 2999, np.inf), chunks=1000))),
     Raises(ValueError, r"X contains inf \(at index 999\).*dask chunk 2")),
    ("dask", "NaN, unknown chunk sizes", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit((lambda a: a[a != 5.0])(da.from_array(_with(x, 1500, np.nan), chunks=1000)))),
     Raises(ValueError, r"X contains NaN.*dask chunk 1")),
    ("dask", "negative value", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.from_array(_with(x, 10, -1.0), chunks=1000))), Raises(ValueError, r"X must be non-negative; X\[10\] = -1.0")),
    ("dask", "2-D", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.ones((10, 2), chunks=5))), Raises(ValueError, r"X must be 1-D or have a single column; got shape \(10, 2\)")),
    ("dask", "3-D", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.ones((2, 2, 2), chunks=1))), Raises(ValueError, "X must be 1-D")),
    ("dask", "0-d", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.from_array(np.float64(3.0)))), Raises(ValueError, "X must be 1-D.*scalar")),
    ("dask", "empty", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.zeros(0, chunks=5))), Raises(ValueError, "X is empty")),
    ("dask", "complex", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx.astype(complex))), Raises(TypeError, "X must be real; got a complex array")),
    ("dask", "bool", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx > 1)), Raises(TypeError, "X must be numeric; got a boolean array")),
    ("dask", "object", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.from_array(np.array([1.0, 2.0], object), chunks=1))), Raises(TypeError, "X must be numeric; got dtype object")),
    ("dask", "all zero", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(da.zeros(100, chunks=30))), Raises(ValueError, "every observed value is 0")),
    ("dask", "K > N", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(5).fit(da.from_array(x[:3], chunks=1))), Raises(ValueError, "n_components=5 is larger than the number of observations")),
    ("dask", "n_init 0", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1, n_init=0).fit(dx)), Raises(ValueError, "n_init must be >= 1")),
    ("dask", "init_sample_size 10", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1, init_sample_size=10).fit(dx)), Raises(ValueError, "init_sample_size must be >= 1000")),
    ("dask", "init_sample_size str", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1, init_sample_size="a").fit(dx)), Raises(TypeError, "init_sample_size must be an int")),
    ("dask", "client str", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, client="abc")), Raises(TypeError, "client must be a distributed.Client")),
    ("dask", "w 2-D", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.ones((3000, 2), chunks=1000))), Raises(ValueError, "sample_weight must be 1-D or have a single column")),
    ("dask", "w NaN in a chunk", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.from_array(_with(np.ones(3000), 2999, np.nan), chunks=700))),
     Raises(ValueError, r"sample_weight contains NaN \[in dask chunk 2, which starts at row 2000")),
    ("dask", "w negative", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.from_array(_with(np.ones(3000), 5, -1.0), chunks=1000))),
     Raises(ValueError, r"sample_weight must be non-negative; found -1.0 \[in dask chunk 0")),
    ("dask", "w complex", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.ones(3000, chunks=700) * 1j)), Raises(TypeError, "sample_weight must be real")),
    ("dask", "w length", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, sample_weight=np.ones(10))), Raises(ValueError, "sample_weight has length 10, but the data have 3000")),
    ("dask", "w length, unknown chunks", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.ones(3000, chunks=1000)[dx > 0.5])),
     Raises(ValueError, "sample_weight has length \\d+, but the data have 3000")),
    ("dask", "w sum overflows", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.full(3000, 1e307, chunks=1000))),
     Raises(ValueError, "sample_weight: the weights sum to more than the largest float64")),
    ("dask", "w zero", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, sample_weight=da.zeros(3000, chunks=1000))), Raises(ValueError, "sample_weight is zero everywhere")),
    ("dask", "event 2", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, event_observed=da.full(3000, 2, chunks=700))), Raises(ValueError, "event_observed must contain only True/False")),
    ("dask", "event str", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, event_observed=da.from_array(np.array(["a"] * 3000), chunks=1000))), Raises(TypeError, "event_observed must be boolean")),
    ("dask", "entry >= X", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, entry=dx + 1)), Raises(ValueError, r"entry\[\d+\] = [0-9.e+-]+ is not below X\[\d+\] = [0-9.e+-]+;")),
    ("dask", "entry NaN in a chunk", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, entry=da.from_array(_with(np.zeros(3000), 2999, np.nan), chunks=1000))),
     Raises(ValueError, "entry contains NaN.*dask chunk 2")),
    ("dask", "entry scalar above data", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, entry=0.5)), Raises(ValueError, "entry = 0.5 is not below X")),
    ("dask", "entry bool", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx, entry=True)), Raises(TypeError, "entry must be a number or an array of numbers, got a bool")),
    ("dask", "intervals lower > upper", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit_intervals(dx, da.from_array(_with(x + 1, 2500, 0.0), chunks=1000))),
     Raises(ValueError, r"lower\[500\] = [0-9.e+-]+ is greater than upper\[500\] = 0.0 \[in dask chunk 2")),
    ("dask", "intervals lengths", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit_intervals(dx, dx[:-1] + 1)), Raises(ValueError, r"lower and upper have different lengths \(3000 and 2999\)")),
    ("dask", "intervals 2-D", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit_intervals(da.ones((10, 2), chunks=5), da.ones((10, 2), chunks=5))), Raises(ValueError, "lower must be 1-D")),
    ("dask", "histogram edges order", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit_histogram(da.from_array(np.array([0, 2, 1.0])), da.from_array(np.array([1, 1.0])))),
     Raises(ValueError, "edges must be strictly increasing")),
    ("dask", "unfitted predict", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).predict(dx)), Raises(NotFittedError, "not fitted yet")),
    ("dask", "unfitted score_samples", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).score_samples(dx)), Raises(NotFittedError, "not fitted yet")),
    ("dask", "unfitted score", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).score(dx)), Raises(NotFittedError, "not fitted yet")),
    ("dask", "score NaN in a chunk", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx).score(da.from_array(_with(x, 1500, np.nan), chunks=1000))),
     Raises(ValueError, r"X contains NaN \(at index 500\).*dask chunk 1")),
    ("dask", "predict_proba 2-D", dk(lambda da, ed, x, dx: ed.DaskExponentialMixture(1).fit(dx).predict_proba(da.ones((10, 2), chunks=5))), Raises(ValueError, "X must be 1-D")),
    ("dask", "select criterion icl", dk(lambda da, ed, x, dx: ed.select_components(dx, criterion="icl")), Raises(ValueError, r"criterion must be one of \('bic', 'aic', 'aicc'\) for dask data")),
    ("dask", "select K str", dk(lambda da, ed, x, dx: ed.select_components(dx, "ab")), Raises(TypeError, "n_components must be an iterable of ints")),
    ("dask", "select K [1.5]", dk(lambda da, ed, x, dx: ed.select_components(dx, [1.5])), Raises(TypeError, "n_components must be an iterable of ints")),
    ("dask", "select K int", dk(lambda da, ed, x, dx: ed.select_components(dx, 2)), Raises(TypeError, "n_components must be an iterable of ints")),
    ("dask", "select K 0", dk(lambda da, ed, x, dx: ed.select_components(dx, [0, 1])), Raises(ValueError, "n_components must be >= 1")),
    ("dask", "empty chunks around data", dk(lambda da, ed, x, dx: (ed.DaskExponentialMixture(1).fit(da.concatenate([da.zeros(0, chunks=1), dx, da.zeros(0, chunks=1)])), x)),
     Legal(_dask_fit_equals_memory, "empty chunks are skipped; K=1 closed form")),
    ("dask", "chunks of one value", dk(lambda da, ed, x, dx: (ed.DaskExponentialMixture(1).fit(da.from_array(x[:50], chunks=1)), x[:50])),
     Legal(_dask_fit_equals_memory, "one task per value works")),
    ("dask", "unknown chunk sizes", dk(lambda da, ed, x, dx: (ed.DaskExponentialMixture(1).fit(dx[dx > 0.5]), x[x > 0.5])),
     Legal(_dask_fit_equals_memory, "chunk sizes are computed")),
    ("dask", "(n, 1) column", dk(lambda da, ed, x, dx: (ed.DaskExponentialMixture(1).fit(dx[:, None]), x)), Legal(_dask_fit_equals_memory, "a single column is 1-D")),
]


# ---------------------------------------------------------------------------
# the other public functions

def _gof_model():
    return fitted()


OTHER = [
    ("goodness_of_fit", "not a model", lambda: goodness_of_fit("abc"), Raises(TypeError, "model must be a fitted ExponentialMixture, got str")),
    ("goodness_of_fit", "unfitted", lambda: goodness_of_fit(EM(1)), Raises(NotFittedError, "not fitted yet")),
    ("goodness_of_fit", "n_bootstrap -1", lambda: goodness_of_fit(_gof_model(), n_bootstrap=-1), Raises(ValueError, "n_bootstrap must be an int >= 0, got -1")),
    ("goodness_of_fit", "n_bootstrap 2.5", lambda: goodness_of_fit(_gof_model(), n_bootstrap=2.5), Raises(ValueError, "n_bootstrap must be an int")),
    ("goodness_of_fit", "n_bootstrap 0, exact data", lambda: goodness_of_fit(_gof_model(), n_bootstrap=0), Raises(ValueError, "exact data need n_bootstrap >= 1")),
    ("goodness_of_fit", "random_state str", lambda: goodness_of_fit(_gof_model(), n_bootstrap=2, random_state="a"), Raises(TypeError, "random_state must be")),
    ("goodness_of_fit", "n_threads 0", lambda: goodness_of_fit(_gof_model(), n_bootstrap=2, n_threads=0), Raises(ValueError, "n_threads must be")),
    ("goodness_of_fit", "loaded model", lambda: goodness_of_fit(EM.from_dict(fitted().to_dict()), n_bootstrap=2), Raises(ValueError, "does not record its fitted data; refit it")),
    ("goodness_of_fit", "general interval data", lambda: goodness_of_fit(EM(1).fit_intervals([0.0, 0.5, 1.0, 2.0, 0.1], [1.0, 1.5, 3.0, 4.0, 0.6]), n_bootstrap=2), Raises(ValueError, "goodness_of_fit handles exact and right-censored data")),
    ("inference", "bootstrap 0", lambda: fitted().bootstrap(0), Raises(ValueError, "n_bootstrap must be an int >= 1, got 0")),
    ("inference", "bootstrap str", lambda: fitted().bootstrap("a"), Raises(ValueError, "n_bootstrap must be an int")),
    ("inference", "bootstrap method", lambda: fitted().bootstrap(2, method="bogus"), Raises(ValueError, "method must be 'nonparametric' or 'parametric'")),
    ("inference", "bootstrap unfitted", lambda: EM(1).bootstrap(2), Raises(NotFittedError, "not fitted yet")),
    ("inference", "bootstrap of a loaded model", lambda: EM.from_dict(fitted().to_dict()).bootstrap(2), Raises(NotFittedError, "refit it")),
    ("inference", "confint level 0", lambda: fitted().confint(0), Raises(ValueError, "level must be a number strictly between 0 and 1, got 0")),
    ("inference", "confint level 1", lambda: fitted().confint(1), Raises(ValueError, "level must be a number strictly between 0 and 1")),
    ("inference", "confint level NaN", lambda: fitted().confint(np.nan), Raises(ValueError, "level must be")),
    ("inference", "confint level str", lambda: fitted().confint("a"), Raises(ValueError, "level must be")),
    ("inference", "confint method", lambda: fitted().confint(method="bogus"), Raises(ValueError, "method must be 'wald', 'bootstrap' or 'profile'")),
    ("inference", "standard_errors_ unfitted", lambda: EM(1).standard_errors_, Raises(NotFittedError, "not fitted yet")),
    ("inference", "covariance_ unfitted", lambda: EM(1).covariance_, Raises(NotFittedError, "not fitted yet")),
    ("inference", "sample 10**15", lambda: fitted().sample(10**15), Raises(MemoryError, "")),
    ("plotting", "plot unfitted", lambda: EM(1).plot(X), Raises(NotFittedError, "not fitted yet")),
    ("plotting", "bins str", lambda: _mpl() and fitted().plot(X, bins="bogus"), Raises(ValueError, "bins must be an int >= 1 \\(bins per decade\\) or an array of edges, got 'bogus'")),
    ("plotting", "bins -1", lambda: _mpl() and fitted().plot(X, bins=-1), Raises(ValueError, "bins must be an int >= 1")),
    ("plotting", "n_points str", lambda: _mpl() and expmix.plotting.plot_histogram(fitted(), X, n_points="a"), Raises(TypeError, "n_points must be an int")),
    ("plotting", "n_points 0", lambda: _mpl() and expmix.plotting.plot_histogram(fitted(), X, n_points=0), Raises(ValueError, "n_points must be >= 2")),
    ("plotting", "plot_criteria str", lambda: _mpl() and expmix.plotting.plot_criteria("abc"), Raises(TypeError, "result must be a SelectionResult")),
    ("plotting", "plot_survival events length", lambda: _mpl() and fitted().plot_survival(X, event_observed=[1, 0]), Raises(ValueError, "event_observed has length 2")),
    # ---- the estimator's remaining arguments (bugs in mixture.py / observations.py: XFAIL) ----
    ("fit", "weights_init str", lambda: EM(2, weights_init="ab").fit(X), Raises((TypeError, ValueError), "weights_init")),
    ("fit", "weights_init complex", lambda: EM(2, weights_init=[0.5 + 1j, 0.5]).fit(X), Raises((TypeError, ValueError), "weights_init")),
    ("fit", "rates_init str list", lambda: EM(2, rates_init=["a", "b"]).fit(X), Raises((TypeError, ValueError), "rates_init")),
    ("fit", "tol 10**400", lambda: EM(1, tol=10**400).fit(X), Raises(ValueError, "tol must be a finite number")),
    ("fit", "X ragged nested list", lambda: EM(1).fit([[1, 2], [3]]), Raises((TypeError, ValueError), "^X ")),
    ("fit", "X masked array", lambda: EM(1).fit(np.ma.array(X, mask=[0, 1, 0, 0, 0])), Raises((TypeError, ValueError), "mask")),
    ("fit", "w sum overflows, K=1", quiet(lambda: EM(1).fit(X, sample_weight=np.full(5, 1e308))), Raises(ValueError, "sample_weight.*(float64|overflow)")),
    ("fit", "w sum overflows, K=2", quiet(lambda: EM(2, random_state=0).fit(X, sample_weight=np.full(5, 1e308))), Raises(ValueError, "sample_weight.*(float64|overflow)")),
    ("fit_histogram", "counts sum overflows", quiet(lambda: EM(1).fit_histogram([0, 1, 2, 3], [1e308, 1e308, 1.0])), Raises(ValueError, "(counts|sample_weight).*(float64|overflow)")),
    ("fitted", "score w sum overflows", quiet(lambda: fitted().score(X, sample_weight=np.full(5, 1e308))), Raises(ValueError, "sample_weight.*(float64|overflow)")),
    ("fitted", "log_likelihood at 1e308", lambda: fitted().log_likelihood([1e308]),
     Legal(lambda r: r == pytest.approx(float(fitted().score_samples([1e308])[0]), rel=1e-12), "finite, = score_samples")),
    ("_core", "truncation mu*t > 700", lambda: expmix._core.pass_stats(
        expmix.observations.from_samples(np.array([938.0]), entry=np.array([703.5])), np.ones(1), np.ones(1))[0],
     Legal(lambda ll: ll == pytest.approx(-(938.0 - 703.5), rel=1e-12), "log f(x) - log S(t) = log mu - mu (x - t)")),
    ("fit", "entry times >> 1/rate, K=1", lambda: quiet(lambda: EM(1).fit(_far_entries()[0], entry=_far_entries()[1]))(),
     Legal(lambda m: m.rates_[0] == pytest.approx(_far_entries_mle(), rel=1e-6), "memorylessness: n / sum(x - t)")),
    ("fit", "zero-weight rows, K=2", lambda: EM(2, random_state=0).fit([2.0, 1.0, 3.0], sample_weight=[2.0, 1.0, 0.0]),
     Legal(lambda m: m.log_likelihood_ == pytest.approx(
         quiet(lambda: EM(2, random_state=0).fit([2.0, 1.0], sample_weight=[2.0, 1.0]))().log_likelihood_, rel=1e-10),
         "a zero weight is an absent observation")),
    ("fitted", "w=1e300 legal", lambda: EM(1).fit(X, sample_weight=np.full(5, 1e300)),
     Legal(lambda m: m.rates_[0] == pytest.approx(rate(X), rel=1e-12), "weights up to ~1e308 / n work; a common factor does not change the fit")),
]


def _far_entries():
    """Per-observation entry times t ~ 80 (mean dwell 1): x = t + Exp(1)."""
    rng = np.random.default_rng(0)
    t = 80 * (0.5 + 0.5 * rng.random(200))
    return t + rng.exponential(1.0, 200), t


def _far_entries_mle():
    x, t = _far_entries()
    return x.size / np.sum(x - t)


def _mpl():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    return True


#: real bugs outside the files this session's reliability helper may edit
XFAIL = {
}

CASES = FIT_MANY + PERSISTENCE + CLI + DASK + OTHER


def _params():
    out = []
    for c in CASES:
        cid = f"{c[0]}:{c[1]}"
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[cid])] if cid in XFAIL else []
        out.append(pytest.param(*c, id=cid, marks=marks))
    return out


def _check_exits(res, expect):
    code, err = res
    lines = err.strip().splitlines()
    assert code == expect.code, (code, err)
    assert len(lines) == 1, f"expected a one-line message, got {err!r}"
    assert "Traceback" not in err
    assert lines[0].startswith("expmix") and ": error: " in lines[0], lines[0]
    import re
    assert re.search(expect.match, lines[0]), (expect.match, lines[0])


@pytest.mark.parametrize("entry,name,call,expect", _params())
def test_hostile_entrypoint(entry, name, call, expect):
    if isinstance(expect, Raises):
        with pytest.raises(expect.exc, match=expect.match):
            call()
    elif isinstance(expect, Exits):
        _check_exits(call(), expect)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = call()
        ok = expect.check(res)
        parts = ok if isinstance(ok, tuple) else (ok,)   # checks may chain assert-helpers
        assert all(p is None or bool(p) for p in parts), f"{entry} {name}: expected {expect.what}"


def test_every_public_entry_point_has_rows():
    """Each name of expmix.__all__ that can be called with user input, the
    CLI, the io functions and the dask estimator appear in the two tables."""
    entries = {c[0] for c in CASES} | {c[0] for c in CASES_1}
    required = {"fit", "fit_intervals", "fit_histogram", "unfitted", "fitted", "select_components",
                "select_components_intervals", "select_components_histogram", "fit_many", "load",
                "save", "loads", "from_dict", "cli", "dask", "goodness_of_fit", "inference",
                "plotting", "_core", "distributions"}
    assert required <= entries, required - entries
    import inspect
    functions = {n for n in expmix.__all__ if inspect.isfunction(getattr(expmix, n))}
    functions -= {"get_include"}          # takes no input
    assert functions <= entries, functions - entries
    assert len(CASES) + len(CASES_1) >= 400
