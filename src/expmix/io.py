"""Saving and loading fitted models as versioned JSON.

The file is plain JSON (UTF-8), readable by any language::

    {
      "schema": "expmix.ExponentialMixture",
      "schema_version": 1,
      "expmix_version": "0.1.0",
      "params": {"n_components": 2, "tol": 1e-10, ...},       # __init__ arguments
      "fitted": {"weights_": [...], "rates_": [...], ...}      # null if not fitted
    }

Floats are written with ``repr`` precision (17 significant digits), so a
save/load round trip reproduces every parameter bit for bit.  Non-finite
floats, which JSON cannot hold, are written as ``{"__float__": "inf"}``
(``"-inf"``, ``"nan"``); they may only appear where they are legitimate
(e.g. the log-likelihood of a restart that diverged).

Loading validates everything: the schema name, the schema version (a file
from a newer expmix is refused with a message saying so), every parameter
(as the estimator would), and every fitted number: finite, rates positive and
decreasing, weights positive and summing to 1, shapes consistent with
``n_components``, counts non-negative integers.  Any problem raises
:class:`ModelFileError` (a ``ValueError``) naming the offending field.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
import warnings
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Union

import numpy as np

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .mixture import ExponentialMixture

__all__ = ["SCHEMA", "SCHEMA_VERSION", "ModelFileError", "to_dict", "from_dict", "save", "load",
           "dumps", "loads"]

SCHEMA = "expmix.ExponentialMixture"
SCHEMA_VERSION = 1

PathLike = Union[str, "os.PathLike[str]"]

_DATA_KINDS = ("exact", "right", "interval", "truncated")
# fitted attributes written by this version, and how to check them
_FITTED_ORDER = ("weights_", "rates_", "means_", "converged_", "n_iter_", "log_likelihood_",
                 "lower_bound_", "total_weight_", "history_", "n_parameters_",
                 "n_observations_", "n_features_in_", "status_", "data_kinds_", "restarts_")
_OPTIONAL_FITTED = ("standard_errors_",)
_SE_FIELDS = ("weights", "rates", "means", "log_rates", "covariance", "information")
_RESTART_KEYS = ("log_likelihood", "status", "degenerate", "n_iter", "start")


class ModelFileError(ValueError):
    """A saved model is malformed, inconsistent, or from a newer expmix."""


# ----------------------------------------------------------------------
# encoding

def _enc(v: Any) -> Any:
    """Encode a value as JSON-compatible data (recursively)."""
    if isinstance(v, np.ndarray):
        return [_enc(x) for x in v.tolist()]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isfinite(f):
            return f
        return {"__float__": "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")}
    if isinstance(v, str) or v is None:
        return v
    if isinstance(v, Mapping):
        return {str(k): _enc(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_enc(x) for x in v]
    raise TypeError(f"cannot save a value of type {type(v).__name__}")


def _dec(v: Any, field: str = "") -> Any:
    """Decode ``{"__float__": ...}`` (recursively); ``field`` names the
    position in error messages."""
    if isinstance(v, dict):
        if set(v) == {"__float__"}:
            s = v["__float__"]
            if s not in ("inf", "-inf", "nan"):
                raise _fail(field or "value", f"invalid encoded float {s!r} (expected "
                            "\"inf\", \"-inf\" or \"nan\")")
            return float(s)
        return {k: _dec(x, f"{field}.{k}" if field else k) for k, x in v.items()}
    if isinstance(v, list):
        return [_dec(x, f"{field}[{i}]") for i, x in enumerate(v)]
    return v


def to_dict(model: "ExponentialMixture") -> Dict[str, Any]:
    """The model as a JSON-compatible dict (see the module docstring).

    ``random_state`` is kept when it is None or an int; a Generator,
    RandomState or SeedSequence cannot be written and is saved as None with a
    warning (the fitted parameters do not depend on it).
    """
    params = model.get_params()
    rs = params.get("random_state")
    if rs is not None and not (isinstance(rs, numbers.Integral) and not isinstance(rs, bool)):
        warnings.warn(f"random_state of type {type(rs).__name__} cannot be saved; it is "
                      "written as None", UserWarning, stacklevel=3)
        params["random_state"] = None
    out: Dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "expmix_version": __version__,
        "params": _enc(params),
        "fitted": None,
    }
    if hasattr(model, "rates_"):
        fitted: Dict[str, Any] = {}
        for name in _FITTED_ORDER:
            if not hasattr(model, name):
                continue
            v = getattr(model, name)
            if name == "restarts_":   # only the keys of this schema version
                v = [{k: ([np.asarray(x[0]), np.asarray(x[1])] if k == "start" else x)
                      for k, x in r.items() if k in _RESTART_KEYS} for r in v]
            fitted[name] = _enc(v)
        # standard errors are derived from the fitted data; saved only when
        # already computed (reading the property would compute them)
        se_cache = getattr(model, "_se_cache", None)
        if se_cache is not None:
            se = se_cache[1]
            fitted["standard_errors_"] = _enc({k: getattr(se, k) for k in _SE_FIELDS})
        out["fitted"] = fitted
    return out


def dumps(model: "ExponentialMixture", *, indent: Optional[int] = 1) -> str:
    """The model as a JSON string."""
    return json.dumps(to_dict(model), indent=indent, allow_nan=False)


def _fspath(path: Any) -> str:
    """``os.fspath(path)`` as a str, with an error naming the argument."""
    if isinstance(path, (bool, int, float)) or not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = os.fspath(path)
    return os.fsdecode(p) if isinstance(p, bytes) else p


def save(model: "ExponentialMixture", path: PathLike) -> None:
    """Write the model to ``path`` as JSON (atomically: a temporary file in the
    same directory is renamed over ``path``).

    Raises
    ------
    TypeError
        ``model`` is not an ExponentialMixture, or ``path`` is not a path.
    IsADirectoryError, FileNotFoundError
        ``path`` is a directory, or its directory does not exist.
    """
    from .mixture import ExponentialMixture
    if not isinstance(model, ExponentialMixture):
        raise TypeError(f"model must be an ExponentialMixture, got {type(model).__name__}")
    path = _fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path}: is a directory; give the name of the model file "
                                "to write")
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise FileNotFoundError(f"{path}: the directory {d} does not exist")
    text = dumps(model)
    fd, tmp = tempfile.mkstemp(prefix=".expmix-", suffix=".json.tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ----------------------------------------------------------------------
# decoding and validation

def _fail(field: str, msg: str) -> "ModelFileError":
    return ModelFileError(f"invalid expmix model file: {field}: {msg}")


def _num_array(v: Any, field: str, K: Optional[int] = None, *, positive: bool = False,
               allow_empty: bool = True) -> np.ndarray:
    if not isinstance(v, list) or any(isinstance(x, (bool, dict, list, str)) or x is None
                                      for x in v):
        raise _fail(field, "must be a list of numbers")
    try:
        a = np.asarray(v, dtype=np.float64)
    except OverflowError:
        raise _fail(field, "must be finite, got an integer beyond the float64 range") from None
    if K is not None and a.shape != (K,):
        raise _fail(field, f"must have {K} values (n_components), got {a.shape[0]}")
    if not allow_empty and a.shape[0] == 0:
        raise _fail(field, "must not be empty")
    if not np.all(np.isfinite(a)):
        raise _fail(field, f"must be finite, got {v[int(np.flatnonzero(~np.isfinite(a))[0])]!r}")
    if positive and np.any(a <= 0):
        raise _fail(field, f"must be positive, got {v[int(np.flatnonzero(a <= 0)[0])]!r}")
    return a


def _finite(v: Any, field: str, *, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(field, f"must be a number, got {v!r}")
    try:
        f = float(v)
    except OverflowError:
        raise _fail(field, "must be finite, got an integer beyond the float64 range") from None
    if not math.isfinite(f):
        raise _fail(field, f"must be finite, got {v!r}")
    if positive and f <= 0:
        raise _fail(field, f"must be positive, got {v!r}")
    return f


def _count(v: Any, field: str, minimum: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not minimum <= v < 2 ** 63:
        raise _fail(field, f"must be an integer >= {minimum} (and < 2**63), got {v!r}")
    return v


def _check_fitted(fd: Any, K: int) -> Dict[str, Any]:
    if not isinstance(fd, dict):
        raise _fail("fitted", "must be an object or null")
    missing = [k for k in _FITTED_ORDER if k not in fd]
    if missing:
        raise _fail("fitted", f"missing {', '.join(missing)}")
    unknown = [k for k in fd if k not in _FITTED_ORDER + _OPTIONAL_FITTED]
    if unknown:
        raise _fail("fitted", f"unknown attribute(s) {', '.join(unknown)}")
    fd = _dec(fd, "fitted")
    if not isinstance(fd, dict):
        raise _fail("fitted", "must be an object or null")
    out: Dict[str, Any] = {}
    w = _num_array(fd["weights_"], "fitted.weights_", K, positive=True)
    if abs(w.sum() - 1.0) > 1e-9:
        raise _fail("fitted.weights_", f"must sum to 1, sum is {w.sum()!r}")
    mu = _num_array(fd["rates_"], "fitted.rates_", K, positive=True)
    if np.any(np.diff(mu) > 0):
        raise _fail("fitted.rates_", "must be in decreasing order")
    means = _num_array(fd["means_"], "fitted.means_", K, positive=True)
    if not np.allclose(means, 1.0 / mu, rtol=1e-12, atol=0):
        raise _fail("fitted.means_", "must equal 1 / rates_")
    out["weights_"], out["rates_"], out["means_"] = w, mu, 1.0 / mu
    if not isinstance(fd["converged_"], bool):
        raise _fail("fitted.converged_", f"must be true or false, got {fd['converged_']!r}")
    out["converged_"] = fd["converged_"]
    out["n_iter_"] = _count(fd["n_iter_"], "fitted.n_iter_")
    out["log_likelihood_"] = _finite(fd["log_likelihood_"], "fitted.log_likelihood_")
    out["total_weight_"] = _finite(fd["total_weight_"], "fitted.total_weight_", positive=True)
    out["lower_bound_"] = _finite(fd["lower_bound_"], "fitted.lower_bound_")
    lb = out["log_likelihood_"] / out["total_weight_"]
    if not math.isclose(out["lower_bound_"], lb, rel_tol=1e-12, abs_tol=1e-300):
        raise _fail("fitted.lower_bound_", "must equal log_likelihood_ / total_weight_")
    out["history_"] = _num_array(fd["history_"], "fitted.history_")
    out["n_parameters_"] = _count(fd["n_parameters_"], "fitted.n_parameters_", 1)
    if out["n_parameters_"] != 2 * K - 1:
        raise _fail("fitted.n_parameters_", f"must be 2 * n_components - 1 = {2 * K - 1}")
    out["n_observations_"] = _count(fd["n_observations_"], "fitted.n_observations_", 1)
    out["n_features_in_"] = _count(fd["n_features_in_"], "fitted.n_features_in_", 1)
    if out["n_features_in_"] != 1:
        raise _fail("fitted.n_features_in_", "must be 1")
    if not isinstance(fd["status_"], str):
        raise _fail("fitted.status_", "must be a string")
    out["status_"] = fd["status_"]
    kinds = fd["data_kinds_"]
    if not isinstance(kinds, list) or not all(k in _DATA_KINDS for k in kinds):
        raise _fail("fitted.data_kinds_", f"must be a list of {_DATA_KINDS}, got {kinds!r}")
    out["data_kinds_"] = tuple(kinds)
    rs = fd["restarts_"]
    if not isinstance(rs, list) or not rs:
        raise _fail("fitted.restarts_", "must be a non-empty list")
    restarts: List[Dict[str, Any]] = []
    for i, r in enumerate(rs):
        f = f"fitted.restarts_[{i}]"
        if not isinstance(r, dict):
            raise _fail(f, "must be an object")
        r = _dec(r, f)
        if not isinstance(r, dict):
            raise _fail(f, "must be an object")
        ll = r.get("log_likelihood")
        if isinstance(ll, bool) or not isinstance(ll, (int, float)) or (
                isinstance(ll, float) and math.isnan(ll) and r.get("degenerate") != "spike"):
            raise _fail(f + ".log_likelihood", f"must be a number, got {ll!r}")
        _count(r.get("n_iter"), f + ".n_iter")
        for key in ("status", "degenerate"):
            if key in r and r[key] is not None and not isinstance(r[key], str):
                raise _fail(f + "." + key, f"must be a string, got {r[key]!r}")
        unknown_r = set(r) - set(_RESTART_KEYS)
        if unknown_r:
            raise _fail(f, f"unknown key(s) {sorted(unknown_r)}")
        if "start" in r:
            st = r["start"]
            if not isinstance(st, list) or len(st) != 2:
                raise _fail(f + ".start", "must be [weights, rates]")
            r["start"] = (_num_array(st[0], f + ".start[0]", K),
                          _num_array(st[1], f + ".start[1]", K))
        restarts.append(r)
    out["restarts_"] = restarts
    if "standard_errors_" in fd:
        out["standard_errors_"] = _dec_optional(fd["standard_errors_"], "fitted.standard_errors_")
    return out


def _dec_optional(v: Any, field: str) -> Any:
    v = _dec(v, field)
    if isinstance(v, list):
        try:
            return np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise _fail(field, "must be numbers") from None
    if isinstance(v, dict):
        try:
            return {k: (np.asarray(x, dtype=np.float64) if isinstance(x, list) else x)
                    for k, x in v.items()}
        except (TypeError, ValueError, OverflowError):
            raise _fail(field, "must hold numbers") from None
    return v


def from_dict(d: Any) -> "ExponentialMixture":
    """Rebuild a model from :func:`to_dict` output, validating everything.

    Raises
    ------
    ModelFileError
        The dict is not an expmix model, comes from a newer schema version,
        or holds an invalid or inconsistent value (the message names it).
    """
    from .mixture import ExponentialMixture
    if not isinstance(d, dict):
        raise ModelFileError(f"invalid expmix model file: expected a JSON object, got "
                             f"{type(d).__name__}")
    if d.get("schema") != SCHEMA:
        raise ModelFileError(f"not an expmix model file: schema is {d.get('schema')!r}, "
                             f"expected {SCHEMA!r}")
    ver = d.get("schema_version")
    if isinstance(ver, bool) or not isinstance(ver, int) or ver < 1:
        raise _fail("schema_version", f"must be a positive integer, got {ver!r}")
    if ver > SCHEMA_VERSION:
        raise ModelFileError(
            f"this model file uses schema version {ver}, written by expmix "
            f"{d.get('expmix_version', '?')}; this expmix ({__version__}) reads schema "
            f"versions up to {SCHEMA_VERSION}. Upgrade expmix to load it.")
    unknown = set(d) - {"schema", "schema_version", "expmix_version", "params", "fitted"}
    if unknown:
        raise _fail("top level", f"unknown key(s) {sorted(unknown)}")
    params = d.get("params")
    if not isinstance(params, dict):
        raise _fail("params", "must be an object")
    params = _dec(params, "params")
    if not isinstance(params, dict):        # e.g. {"__float__": "nan"}
        raise _fail("params", "must be an object")
    valid = ExponentialMixture._get_param_names()
    bad = sorted(set(params) - set(valid))
    if bad:
        raise _fail("params", f"unknown parameter(s) {bad}")
    for name in ("weights_init", "rates_init"):
        if params.get(name) is not None:
            _num_array(params[name], "params." + name)
    model = ExponentialMixture()
    model.set_params(**params)   # weights_init / rates_init come back as lists
    try:
        model._validate_params()
    except (TypeError, ValueError, OverflowError) as e:   # OverflowError: tol = 10**400
        raise _fail("params", str(e)) from None
    # checked by the estimator only when it fits; a file must not carry them broken
    rs = params.get("random_state")
    if rs is not None and (isinstance(rs, bool) or not isinstance(rs, int) or rs < 0):
        raise _fail("params.random_state", f"must be null or an integer >= 0, got {rs!r}")
    try:
        from ._threads import _check as _check_threads
        if params.get("n_threads") is not None:
            _check_threads(params["n_threads"])
    except (TypeError, ValueError) as e:
        raise _fail("params.n_threads", str(e)) from None
    ev = d.get("expmix_version")
    if ev is not None and not isinstance(ev, str):
        raise _fail("expmix_version", f"must be a string, got {ev!r}")
    fd = d.get("fitted")
    if fd is not None:
        for k, v in _check_fitted(fd, int(model.n_components)).items():
            if k == "standard_errors_":
                model._se_cache = (None, _standard_errors_from(v, int(model.n_components)))
            else:
                setattr(model, k, v)
    return model


def _standard_errors_from(v: Any, K: int):
    """Rebuild saved standard errors (a dict of the StandardErrors fields)."""
    from .inference import StandardErrors
    f = "fitted.standard_errors_"
    if not isinstance(v, dict) or set(v) != set(_SE_FIELDS):
        raise _fail(f, f"must be an object with the keys {list(_SE_FIELDS)}")
    shapes = {"weights": (K,), "rates": (K,), "means": (K,), "log_rates": (K,),
              "covariance": (2 * K - 1, 2 * K - 1), "information": (2 * K - 1, 2 * K - 1)}
    vals = {}
    for k in _SE_FIELDS:
        try:
            a = np.asarray(v[k], dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise _fail(f + "." + k, "must be numbers (or NaN)") from None
        if a.shape != shapes[k]:
            raise _fail(f + "." + k, f"must have shape {shapes[k]}, got {a.shape}")
        if np.any(a[~np.isnan(a)] < 0) and k not in ("covariance", "information"):
            raise _fail(f + "." + k, "standard errors must be >= 0 (or NaN)")
        vals[k] = a
    return StandardErrors(**vals)


def loads(text: str) -> "ExponentialMixture":
    """Rebuild a model from a JSON string written by :func:`dumps`.

    Raises
    ------
    TypeError
        ``text`` is not a str (or UTF-8 bytes).
    ModelFileError
        As :func:`from_dict`, and for text that is not JSON (including
        duplicate keys, bare ``NaN``/``Infinity`` and absurdly deep nesting).
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError("not an expmix model file (not UTF-8 text)") from None
    if not isinstance(text, str):
        raise TypeError(f"text must be a str (JSON), got {type(text).__name__}")
    if text.startswith("\ufeff"):      # a UTF-8 byte-order mark (some editors write one)
        text = text[1:]
    try:
        d = json.loads(text, parse_constant=lambda c: _reject_constant(c),
                       object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"invalid expmix model file: not valid JSON ({e})") from None
    except RecursionError:
        raise ModelFileError("invalid expmix model file: the JSON is nested too deeply "
                             "to be a model") from None
    return from_dict(d)


def _no_duplicates(pairs: List[Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ModelFileError(f"invalid expmix model file: duplicate key {k!r}")
        out[k] = v
    return out


def _reject_constant(c: str) -> Any:
    raise ModelFileError(f"invalid expmix model file: bare {c} is not valid JSON "
                         "(non-finite numbers are written as {\"__float__\": ...})")


def load(path: PathLike) -> "ExponentialMixture":
    """Load a model saved with :func:`save` / ``ExponentialMixture.save``.

    Raises
    ------
    TypeError
        ``path`` is not a str, bytes or os.PathLike.
    FileNotFoundError, IsADirectoryError, PermissionError
        No such file, a directory, or not readable.
    ModelFileError
        The file is not valid JSON, not an expmix model, from a newer expmix,
        or holds invalid values.
    """
    p = _fspath(path)
    if os.path.isdir(p):
        raise IsADirectoryError(f"{p}: is a directory, not a model file")
    with open(p, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(f"{p}: not an expmix model file (not UTF-8 text)") from None
    try:
        return loads(text)
    except ModelFileError as e:
        raise ModelFileError(f"{p}: {e}") from None
