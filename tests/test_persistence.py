"""Saving and loading models: versioned JSON (to_dict/from_dict, save/load) and pickle."""
import copy
import json
import pickle

import numpy as np
import pytest

import expmix
from expmix import ExponentialMixture
from expmix.io import SCHEMA_VERSION, ModelFileError


@pytest.fixture
def fitted(rng):
    lab = rng.random(3000) < 0.3
    x = np.where(lab, rng.exponential(0.1, 3000), rng.exponential(3.0, 3000))
    m = ExponentialMixture(2, n_init=3, random_state=5, tol=1e-11).fit(x, event_observed=x < 8)
    return m, x


FITTED = ("weights_", "rates_", "means_", "converged_", "n_iter_", "log_likelihood_",
          "lower_bound_", "total_weight_", "history_", "n_parameters_", "n_observations_",
          "n_features_in_", "status_", "data_kinds_")


def _same_model(a, b):
    assert a.get_params().keys() == b.get_params().keys()
    for k, v in a.get_params().items():
        assert np.array_equal(v, b.get_params()[k]) if v is not None else b.get_params()[k] is None
    for name in FITTED:
        va, vb = getattr(a, name), getattr(b, name)
        if isinstance(va, np.ndarray):
            np.testing.assert_array_equal(va, vb)     # bit for bit
            assert vb.dtype == np.float64
        else:
            assert va == vb and type(va) is type(vb), name
    assert len(a.restarts_) == len(b.restarts_)
    for ra, rb in zip(a.restarts_, b.restarts_):
        assert ra["log_likelihood"] == rb["log_likelihood"]
        np.testing.assert_array_equal(ra["start"][0], rb["start"][0])


def test_save_load_round_trip_is_exact(fitted, tmp_path):
    m, x = fitted
    p = tmp_path / "model.json"
    m.save(p)
    for loaded in (ExponentialMixture.load(p), expmix.load(str(p)), expmix.io.load(p)):
        _same_model(m, loaded)
        np.testing.assert_array_equal(loaded.score_samples(x), m.score_samples(x))
        np.testing.assert_array_equal(loaded.predict_proba(x[:50]), m.predict_proba(x[:50]))
        assert loaded.bic(x) == m.bic(x)
    d = json.loads(p.read_text())
    assert d["schema"] == "expmix.ExponentialMixture"
    assert d["schema_version"] == SCHEMA_VERSION and d["expmix_version"] == expmix.__version__
    assert d["fitted"]["rates_"] == m.rates_.tolist()


def test_dict_round_trip_and_unfitted(fitted):
    m, _ = fitted
    _same_model(m, ExponentialMixture.from_dict(json.loads(json.dumps(m.to_dict()))))
    u = ExponentialMixture(3, tol=1e-6, rates_init=[3.0, 2.0, 1.0], init="kmeans")
    d = u.to_dict()
    assert d["fitted"] is None
    v = ExponentialMixture.from_dict(d)
    assert repr(v) == repr(u) and not hasattr(v, "rates_")
    np.testing.assert_array_equal(v.rates_init, [3.0, 2.0, 1.0])


def test_loaded_model_can_be_refitted(fitted):
    m, x = fitted
    v = ExponentialMixture.from_dict(m.to_dict())
    v.fit(x, event_observed=x < 8)
    np.testing.assert_array_equal(v.rates_, m.rates_)


def test_generator_random_state_is_dropped_with_warning():
    m = ExponentialMixture(random_state=np.random.default_rng(1))
    with pytest.warns(UserWarning, match="cannot be saved"):
        d = m.to_dict()
    assert d["params"]["random_state"] is None


def test_pickle_round_trip(fitted):
    m, x = fitted
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
        m2 = pickle.loads(pickle.dumps(m, protocol=proto))
        _same_model(m, m2)
        np.testing.assert_array_equal(m2.score_samples(x), m.score_samples(x))
    u = pickle.loads(pickle.dumps(ExponentialMixture(4, n_init=2)))
    assert repr(u) == "ExponentialMixture(n_components=4, n_init=2)"
    _same_model(m, copy.deepcopy(m))


def _corrupt(d, path, value):
    d = copy.deepcopy(d)
    node = d
    for k in path[:-1]:
        node = node[k]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


BAD = [
    (("fitted", "rates_", 0), -1.0, r"fitted\.rates_: must be positive"),
    (("fitted", "rates_", 1), {"__float__": "inf"}, r"fitted\.rates_: must be finite"),
    (("fitted", "rates_", 1), {"__float__": "nan"}, r"fitted\.rates_: must be finite"),
    (("fitted", "rates_", 0), "fast", r"fitted\.rates_: must be a list of numbers"),
    (("fitted", "rates_"), [1.0], r"fitted\.rates_: must have 2 values"),
    (("fitted", "weights_", 0), 0.9, r"fitted\.weights_: must sum to 1"),
    (("fitted", "weights_", 0), 0.0, r"fitted\.weights_: must be positive"),
    (("fitted", "means_", 0), 7.0, r"fitted\.means_: must equal 1 / rates_"),
    (("fitted", "log_likelihood_"), {"__float__": "nan"}, "log_likelihood_: must be finite"),
    (("fitted", "total_weight_"), -3.0, "total_weight_: must be positive"),
    (("fitted", "n_iter_"), 2.5, r"n_iter_: must be an integer"),
    (("fitted", "n_parameters_"), 5, r"n_parameters_: must be 2 \* n_components - 1"),
    (("fitted", "converged_"), "yes", "converged_: must be true or false"),
    (("fitted", "data_kinds_"), ["exact", "weird"], "data_kinds_"),
    (("fitted", "history_"), KeyError, "fitted: missing history_"),
    (("fitted", "bogus_"), 1, r"unknown attribute\(s\) bogus_"),
    (("fitted", "lower_bound_"), 1.0, "lower_bound_: must equal"),
    (("fitted", "restarts_", 0, "status"), 3, r"restarts_\[0\]\.status: must be a string"),
    (("fitted", "restarts_", 0, "start", 1), [1.0], r"restarts_\[0\]\.start\[1\]: must have 2"),
    (("fitted", "restarts_", 0, "n_iter"), -1, r"restarts_\[0\]\.n_iter: must be an integer"),
    (("fitted", "restarts_", 0, "extra"), 1, r"restarts_\[0\]: unknown key"),
    (("fitted", "restarts_"), [], "restarts_: must be a non-empty list"),
    (("params", "n_components"), 0, "params: n_components must be between"),
    (("params", "tol"), -1.0, "params: tol must be"),
    (("params", "frobnicate"), 1, r"unknown parameter\(s\) \['frobnicate'\]"),
    (("params",), [1, 2], "params: must be an object"),
    (("schema",), "sklearn.GaussianMixture", "not an expmix model file"),
    (("schema_version",), "1", "schema_version: must be a positive integer"),
    (("schema_version",), 0, "schema_version: must be a positive integer"),
    (("extra",), 1, r"unknown key\(s\)"),
]


@pytest.mark.parametrize("path,value,msg", BAD, ids=[".".join(map(str, b[0])) + "=" + repr(b[1])
                                                     for b in BAD])
def test_invalid_values_are_named(fitted, path, value, msg):
    m, _ = fitted
    d = _corrupt(m.to_dict(), path, value)
    with pytest.raises(ModelFileError, match=msg):
        ExponentialMixture.from_dict(d)


def test_n_components_mismatch(fitted):
    m, _ = fitted
    d = _corrupt(m.to_dict(), ("params", "n_components"), 3)
    with pytest.raises(ModelFileError, match=r"weights_: must have 3 values \(n_components\)"):
        ExponentialMixture.from_dict(d)


def test_rates_must_be_decreasing(fitted):
    m, _ = fitted
    d = m.to_dict()
    d["fitted"]["rates_"] = d["fitted"]["rates_"][::-1]
    d["fitted"]["means_"] = d["fitted"]["means_"][::-1]
    with pytest.raises(ModelFileError, match="decreasing"):
        ExponentialMixture.from_dict(d)


def test_future_version_is_refused_clearly(fitted, tmp_path):
    m, _ = fitted
    d = m.to_dict()
    d["schema_version"] = SCHEMA_VERSION + 1
    d["expmix_version"] = "9.0.0"
    p = tmp_path / "new.json"
    p.write_text(json.dumps(d))
    with pytest.raises(ModelFileError, match=r"schema version 2, written by expmix 9\.0\.0.*"
                                             r"Upgrade expmix"):
        expmix.load(p)


def test_malformed_files(tmp_path):
    p = tmp_path / "m.json"
    p.write_text("{not json")
    with pytest.raises(ModelFileError, match="m.json.*not valid JSON"):
        expmix.load(p)
    p.write_text("[1, 2]")
    with pytest.raises(ModelFileError, match="expected a JSON object"):
        expmix.load(p)
    p.write_text('{"schema": "expmix.ExponentialMixture", "schema_version": 1, '
                 '"params": {"tol": NaN}, "fitted": null}')
    with pytest.raises(ModelFileError, match="bare NaN"):
        expmix.load(p)
    p.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ModelFileError, match="not UTF-8"):
        expmix.load(p)
    with pytest.raises(FileNotFoundError):
        expmix.load(tmp_path / "missing.json")


def test_save_is_atomic_and_leaves_no_temp_files(fitted, tmp_path):
    m, _ = fitted
    p = tmp_path / "m.json"
    p.write_text("old")
    m.save(p)
    assert [q.name for q in tmp_path.iterdir()] == ["m.json"]
    assert expmix.load(p).rates_.tolist() == m.rates_.tolist()


def test_standard_errors_are_kept_when_present(fitted):
    m, _ = fitted
    assert "standard_errors_" not in m.to_dict()["fitted"]    # not computed: not written
    se = m.standard_errors_
    v = ExponentialMixture.from_dict(json.loads(json.dumps(m.to_dict())))
    for k in ("weights", "rates", "means", "log_rates", "covariance", "information"):
        np.testing.assert_array_equal(getattr(v.standard_errors_, k), getattr(se, k))
    d = m.to_dict()
    d["fitted"]["standard_errors_"]["rates"] = [1.0]
    with pytest.raises(expmix.ModelFileError, match="standard_errors_.rates"):
        ExponentialMixture.from_dict(d)


def test_attributes_outside_the_schema_are_not_written(fitted):
    m, _ = fitted
    m.restarts_[0]["wall_time"] = 1.5          # e.g. added by a later version of fit
    m.some_new_attribute_ = 3
    d = m.to_dict()
    assert "wall_time" not in d["fitted"]["restarts_"][0]
    assert "some_new_attribute_" not in d["fitted"]
    ExponentialMixture.from_dict(d)            # still loads
