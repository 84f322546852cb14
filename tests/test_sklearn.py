"""scikit-learn compatibility: the estimator checks, clone, Pipeline,
GridSearchCV, and the input types a scientific-Python user passes.

The estimator does not import or inherit from scikit-learn (importing
``sklearn.base`` costs ~1.5 s and pulls in scipy); it implements the
protocol (get_params/set_params, ``__sklearn_tags__``, fitted attributes,
``n_features_in_``, NotFittedError) itself.
"""
import subprocess
import sys
import traceback
import warnings

import numpy as np
import pytest

import expmix
from expmix import ExponentialMixture

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    # we deliberately implement the protocol without inheriting BaseEstimator
    "ignore:Estimator ExponentialMixture does not inherit:UserWarning")

# ----------------------------------------------------------------------
# The checks that cannot apply, by name, with the reason.  Every reason is
# verified by test_expected_failures_fail_for_the_stated_reason below: the
# check must fail, and fail in the way stated (not for some other cause).

_SK_1D = ("scikit-learn's check cannot run on a 1-D estimator: with the one_d_array tag "
          "_enforce_estimator_tags_X turns X into a 1-D array and the check then indexes "
          "X[:, j] or X.shape[1] itself (IndexError raised inside estimator_checks.py)")
_MULTI = ("the check feeds X with several columns (sample-weight checks do not apply the "
          "input tags); a mixture of exponentials models ONE non-negative variable, so X "
          "with more than one column is rejected with a ValueError")
EXPECTED = {
    "check_dont_overwrite_parameters": ("sklearn-1d", _SK_1D),
    "check_n_features_in_after_fitting": ("sklearn-1d", _SK_1D),
    "check_n_features_in": ("sklearn-1d", _SK_1D),
    "check_dtype_object": ("sklearn-1d", _SK_1D),
    "check_f_contiguous_array_estimator": ("sklearn-1d", _SK_1D),
    "check_methods_sample_order_invariance": ("sklearn-1d", _SK_1D),
    "check_methods_subset_invariance": ("sklearn-1d", _SK_1D),
    "check_fit2d_1sample": ("sklearn-1d", _SK_1D),
    "check_fit2d_1feature": ("sklearn-1d", _SK_1D),
    "check_dict_unchanged": ("sklearn-1d", _SK_1D),
    "check_fit2d_predict1d": ("sklearn-1d", _SK_1D),
    "check_sample_weights_shape": ("multi-column", _MULTI),
    "check_sample_weights_not_overwritten": ("multi-column", _MULTI),
    "check_sample_weight_equivalence_on_dense_data": ("multi-column", _MULTI),
    "check_estimators_nan_inf": ("multi-column", _MULTI + " (before NaN/inf are looked at; "
                                 "NaN and inf are tested in test_nan_inf_rejected)"),
    "check_fit1d": ("fit1d", "the check asserts that 1-D X is rejected; 1-D X of values is "
                    "this estimator's native input (one_d_array tag)"),
    "check_estimator_sparse_array": ("scipy-1d", "the check converts the 1-D data to a 1-D "
                                     "scipy sparse array, which scipy cannot put in LIL "
                                     "format (error raised by scipy before our fit runs); "
                                     "sparse input is rejected, see test_sparse_rejected"),
}
# With K >= 2 the checks' data (integer-valued, shifted to start at exact 0)
# have tied exact values and zeros, where the K >= 2 likelihood is unbounded
# and no MLE exists: the fit raises DegenerateFitError, as documented.
_DEGEN = ("K >= 2 on the check's data (ties and exact zeros): the likelihood is unbounded, "
          "no maximum-likelihood estimate exists and the fit raises DegenerateFitError")
# (check_sample_weights_pandas_series / _not_an_array use the values
# [0]*4 + [1]*4 + [2]*4: since the quantile start groups tied values together
# (csrc/init.c), its restart converges to the finite stationary point
# rates (1, 1) and only the k-means restart degenerates, so the fit succeeds.)
EXPECTED_K2 = dict(EXPECTED, **{
    "check_estimators_dtypes": ("degenerate", _DEGEN),
})

ESTIMATORS = [ExponentialMixture(), ExponentialMixture(2, n_init=2, random_state=0)]


def _expected(estimator):
    table = EXPECTED if estimator.n_components == 1 else EXPECTED_K2
    return {name: reason for name, (_, reason) in table.items()}


with warnings.catch_warnings():
    # we deliberately implement the protocol without inheriting BaseEstimator
    warnings.filterwarnings("ignore", "Estimator ExponentialMixture does not inherit")
    _checks = parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected,
                                      xfail_strict=True)


@_checks
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _chain(e):
    while e is not None:
        yield e
        e = e.__cause__ or e.__context__


def _matches(kind, exc):
    chain = list(_chain(exc))
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1].filename.replace("\\", "/") if frames else ""
    if kind == "sklearn-1d":
        return isinstance(exc, IndexError) and last.endswith("sklearn/utils/estimator_checks.py")
    if kind == "multi-column":
        return any(isinstance(e, ValueError) and "must be 1-D or have a single column" in str(e)
                   for e in chain)
    if kind == "fit1d":
        return isinstance(exc, AssertionError) and "Did not raise" in str(exc)
    if kind == "scipy-1d":
        return isinstance(exc, ValueError) and "/scipy/sparse/" in last
    if kind == "degenerate":
        return any(isinstance(e, expmix.DegenerateFitError) for e in chain)
    raise AssertionError(kind)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=["K1", "K2"])
def test_expected_failures_fail_for_the_stated_reason(estimator):
    table = EXPECTED if estimator.n_components == 1 else EXPECTED_K2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = {r["check_name"]: r["exception"] for r in results if r["status"] == "failed"}
    assert set(failed) == set(table), (set(failed) ^ set(table))
    for name, exc in failed.items():
        kind = table[name][0]
        assert _matches(kind, exc), (name, kind, repr(exc))
    passed = [r["check_name"] for r in results if r["status"] == "passed"]
    assert len(passed) >= 25


def test_no_sklearn_import_at_run_time():
    code = ("import sys, numpy as np, expmix\n"
            "m = expmix.ExponentialMixture(2, random_state=0).fit(np.arange(1, 50.0))\n"
            "m.get_params(); m.score(np.arange(1, 5.0))\n"
            "try:\n    expmix.ExponentialMixture().predict([1.0])\n"
            "except expmix.NotFittedError:\n    pass\n"
            "assert 'sklearn' not in sys.modules, 'sklearn imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_not_fitted_error_is_sklearns_and_ours():
    from sklearn.exceptions import NotFittedError as SkNotFitted
    with pytest.raises(SkNotFitted):
        ExponentialMixture().predict([1.0])
    with pytest.raises(expmix.NotFittedError, match="not fitted"):
        ExponentialMixture().score_samples([1.0])
    import pickle
    try:
        ExponentialMixture().pdf(1.0)
    except expmix.NotFittedError as e:
        e2 = pickle.loads(pickle.dumps(e))
        assert isinstance(e2, expmix.NotFittedError) and e2.args == e.args


def test_tags():
    from sklearn.utils import get_tags
    t = get_tags(ExponentialMixture())
    assert t.estimator_type == "density_estimator"
    assert t.input_tags.positive_only and t.input_tags.one_d_array and not t.input_tags.allow_nan
    assert not t.target_tags.required and t.requires_fit


# ----------------------------------------------------------------------
# clone, Pipeline, GridSearchCV

def _data(rng, n=4000):
    lab = rng.random(n) < 0.4
    return np.where(lab, rng.exponential(0.05, n), rng.exponential(2.0, n))


def test_clone_keeps_params_drops_fit(rng):
    m = ExponentialMixture(3, n_init=4, tol=1e-8, random_state=7, rates_init=[5.0, 1.0, 0.1])
    m.fit(_data(rng, 500))
    c = clone(m)
    assert c.get_params().keys() == m.get_params().keys()
    for k, v in m.get_params().items():
        assert np.array_equal(c.get_params()[k], v)
    assert not hasattr(c, "rates_")
    assert repr(c) == repr(m)


def test_pipeline_with_unit_conversion(rng):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    x = _data(rng)
    to_ms = FunctionTransformer(lambda a: 1000.0 * np.asarray(a).reshape(-1, 1))
    pipe = make_pipeline(to_ms, ExponentialMixture(2, n_init=2, random_state=0)).fit(x)
    direct = ExponentialMixture(2, n_init=2, random_state=0).fit(1000.0 * x)
    mix = pipe[-1]
    np.testing.assert_allclose(mix.rates_, direct.rates_, rtol=1e-9)
    np.testing.assert_allclose(mix.weights_, direct.weights_, rtol=1e-9)
    assert pipe.score(x) == pytest.approx(direct.score(1000.0 * x), rel=1e-12)
    np.testing.assert_allclose(pipe.score_samples(x[:20]), direct.score_samples(1000 * x[:20]))
    np.testing.assert_array_equal(pipe.predict(x[:20]), direct.predict(1000 * x[:20]))


def bic_scorer(estimator, X, y=None):
    """Higher is better for scikit-learn: minus the BIC."""
    return -estimator.bic(X)


def test_gridsearch_over_n_components_with_bic(rng):
    from sklearn.model_selection import GridSearchCV
    x = _data(rng)
    idx = np.arange(x.shape[0])
    gs = GridSearchCV(ExponentialMixture(n_init=3, random_state=0),
                      {"n_components": [1, 2, 3, 4]}, scoring=bic_scorer,
                      cv=[(idx, idx)], refit=True).fit(x)
    sel = expmix.select_components(x, n_components=range(1, 5), n_init=3, random_state=0)
    assert gs.best_params_ == {"n_components": 2} == {"n_components": sel.best_n_components_}
    bics = np.array([r["bic"] for r in sel.table])
    np.testing.assert_allclose(-gs.cv_results_["mean_test_score"], bics, rtol=1e-9)
    # BIC written out from the definition: -2 logL + (2K - 1) log n
    best = gs.best_estimator_
    ll = np.sum(np.log(best.weights_ @ (best.rates_[:, None]
                                        * np.exp(-np.outer(best.rates_, x)))))
    assert -gs.best_score_ == pytest.approx(-2 * ll + 3 * np.log(x.shape[0]), rel=1e-10)


def test_cross_val_score_held_out_likelihood(rng):
    from sklearn.model_selection import KFold, cross_val_score
    x = _data(rng, 3000)
    s = cross_val_score(ExponentialMixture(2, random_state=0), x, cv=KFold(3))
    for (tr, te), v in zip(KFold(3).split(x), s):
        m = ExponentialMixture(2, random_state=0).fit(x[tr])
        assert v == pytest.approx(np.mean(np.log(m.pdf(x[te]))), rel=1e-10)


# ----------------------------------------------------------------------
# what the inapplicable checks were after, tested directly

def test_integer_weights_equal_repetition(rng):
    x = _data(rng, 300)
    w = rng.integers(0, 4, x.shape[0])
    w[0] = 1
    a = ExponentialMixture(2, tol=1e-13, max_iter=5000).fit(x, sample_weight=w)
    b = ExponentialMixture(2, tol=1e-13, max_iter=5000).fit(np.repeat(x, w))
    np.testing.assert_allclose(a.rates_, b.rates_, rtol=1e-6)
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-6)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


def test_sample_weight_inputs_not_overwritten(rng):
    pd = pytest.importorskip("pandas")
    x = _data(rng, 200)
    w = rng.random(200) + 0.5
    w0 = w.copy()
    ref = ExponentialMixture(2, random_state=0).fit(x, sample_weight=w)
    np.testing.assert_array_equal(w, w0)
    for ww in (list(w), pd.Series(w), w.reshape(-1, 1)):
        m = ExponentialMixture(2, random_state=0).fit(x, sample_weight=ww)
        np.testing.assert_array_equal(m.rates_, ref.rates_)
    with pytest.raises(ValueError, match="sample_weight has length"):
        ExponentialMixture().fit(x, sample_weight=w[:-1])


def test_methods_order_and_subset_invariant(rng):
    x = _data(rng, 500)
    m = ExponentialMixture(2, random_state=0).fit(x)
    perm = rng.permutation(500)
    for meth in ("score_samples", "predict", "predict_proba", "pdf", "sf"):
        f = getattr(m, meth)
        full = f(x)
        np.testing.assert_allclose(f(x[perm]), full[perm], rtol=1e-14)
        np.testing.assert_allclose(np.concatenate([f(x[:100]), f(x[100:])]), full, rtol=1e-14)


def test_fit_sets_only_trailing_underscore_and_predict_changes_nothing(rng):
    x = _data(rng, 300)
    m = ExponentialMixture(2, random_state=0)
    before = dict(m.__dict__)
    m.fit(x)
    new = set(m.__dict__) - set(before)
    # scikit-learn's rule (check_dont_overwrite_parameters): public fitted
    # attributes end with "_"; private ones (leading "_") are the fit's own state
    public = {k for k in new if not k.startswith("_")}
    assert public and all(k.endswith("_") for k in public)
    assert new - public == {"_obs", "_se_cache", "_shift_", "_shift_weights_"}
    assert all(m.__dict__[k] is v for k, v in before.items())
    state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in m.__dict__.items()}
    m.predict(x), m.predict_proba(x), m.score_samples(x), m.score(x), m.bic(x)
    assert set(m.__dict__) == set(state)
    for k, v in state.items():
        assert np.array_equal(m.__dict__[k], v) if isinstance(v, np.ndarray) else True


def test_nan_inf_rejected(rng):
    m = ExponentialMixture(2, random_state=0).fit(_data(rng, 100))
    for bad, word in ((np.nan, "NaN"), (np.inf, "inf")):
        x = _data(rng, 50)
        x[3] = bad
        with pytest.raises(ValueError, match=word):
            ExponentialMixture().fit(x)
        for meth in ("predict", "predict_proba", "score_samples", "score"):
            with pytest.raises(ValueError, match=word):
                getattr(m, meth)(x)


def test_n_features_in_and_shape_errors(rng):
    x = _data(rng, 100)
    m = ExponentialMixture().fit(x.reshape(-1, 1))
    assert m.n_features_in_ == 1
    with pytest.raises(ValueError, match="single column"):
        m.predict(np.column_stack([x, x]))
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        ExponentialMixture().fit(np.empty((5, 0)))
    with pytest.raises(ValueError, match="empty"):
        ExponentialMixture().fit(np.empty((0, 1)))
    with pytest.raises(ValueError, match="Negative values"):
        ExponentialMixture().fit(-x)


def test_complex_and_object_rejected():
    with pytest.raises(TypeError, match="complex"):
        ExponentialMixture().fit(np.array([1 + 1j, 2.0]))
    with pytest.raises(ValueError, match="Complex data not supported"):
        ExponentialMixture().fit(np.array([1 + 1j, 2.0]))
    with pytest.raises(TypeError, match="real numbers"):
        ExponentialMixture().fit(np.array([1.0, {"a": 1}], dtype=object))
    with pytest.raises(TypeError, match="numeric"):
        ExponentialMixture().fit(np.array(["1", "2"]))


def test_sparse_rejected():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.csr_matrix(np.array([[1.0], [2.0], [0.0]]))
    with pytest.raises(TypeError, match="sparse input is not supported"):
        ExponentialMixture().fit(X)


# ----------------------------------------------------------------------
# input types

@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble,
                                   np.int8, np.int32, np.int64, np.uint16, np.uint64])
def test_any_real_dtype_is_converted_to_float64(rng, dtype):
    x = np.round(_data(rng, 400) * 20) + 1           # integer-valued, >= 1 (fits in int8? no)
    x = np.minimum(x, 120)
    xd = x.astype(dtype)
    ref = ExponentialMixture(2, random_state=0).fit(xd.astype(np.float64))
    m = ExponentialMixture(2, random_state=0).fit(xd)
    np.testing.assert_array_equal(m.rates_, ref.rates_)
    assert m.rates_.dtype == np.float64
    assert m.score_samples(xd).dtype == np.float64
    np.testing.assert_array_equal(m.score_samples(xd), ref.score_samples(xd.astype(np.float64)))


def test_float32_values_are_used_as_they_are(rng):
    """float32 input is widened exactly (no rounding to float32 of the fit)."""
    x32 = _data(rng, 300).astype(np.float32)
    m = ExponentialMixture(1).fit(x32)
    # closed form for K = 1: rate = n / sum(x), computed in float64 from the float32 values
    assert m.rates_[0] == pytest.approx(300 / np.sum(x32.astype(np.float64)), rel=1e-13)


def test_non_contiguous_and_readonly_and_sequences(rng):
    base = _data(rng, 1000)
    ref = ExponentialMixture(2, random_state=0).fit(base[::3])
    strided = base[::3]
    assert not strided.flags.c_contiguous
    fortran = np.asfortranarray(np.column_stack([base, base]))[:, 1][::3]
    ro = base[::3].copy()
    ro.setflags(write=False)
    col = np.asfortranarray(base[::3].reshape(-1, 1))
    for X in (strided, fortran, ro, col, list(base[::3]), tuple(base[::3]),
              base[::-1][::-1][::3], np.array(base[::3], order="F")):
        m = ExponentialMixture(2, random_state=0).fit(X)
        np.testing.assert_array_equal(m.rates_, ref.rates_)
        np.testing.assert_array_equal(m.score_samples(X), ref.score_samples(base[::3]))


def test_pandas_inputs(rng):
    pd = pytest.importorskip("pandas")
    x = _data(rng, 500)
    ref = ExponentialMixture(2, random_state=0).fit(x)
    idx = pd.Index(np.arange(1000, 1500))
    for X in (pd.Series(x), pd.Series(x, index=idx), pd.DataFrame({"t": x}),
              pd.Series(x.astype(np.float32)), pd.Series(x, dtype="Float64")):
        m = ExponentialMixture(2, random_state=0).fit(X)
        np.testing.assert_allclose(m.rates_, ref.rates_, rtol=1e-5 if getattr(X, "dtype", None) == np.float32 else 0)
        assert m.predict(X).shape == (500,)
    with pytest.raises(ValueError, match="2 columns"):
        ExponentialMixture().fit(pd.DataFrame({"a": x, "b": x}))
    with pytest.raises(ValueError, match="NaN"):
        ExponentialMixture().fit(pd.Series([1.0, None, 2.0], dtype="Float64"))
    with pytest.raises(TypeError, match="real numbers|numeric"):
        ExponentialMixture().fit(pd.Series(["a", "b"]))
    # censoring flags and weights from the same frame
    df = pd.DataFrame({"t": x, "ev": x < 3, "w": np.ones(500)})
    m = ExponentialMixture(2, random_state=0).fit(df["t"], sample_weight=df["w"],
                                                  event_observed=df["ev"])
    r = ExponentialMixture(2, random_state=0).fit(x, event_observed=x < 3)
    # unit weights take the weighted kernel (one log per point instead of one
    # per 8 points): equal to rounding, not bitwise
    np.testing.assert_allclose(m.rates_, r.rates_, rtol=1e-12)


def test_pandas_bool_and_nullable_int():
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match="boolean"):
        ExponentialMixture().fit(pd.Series([True, False, True]))
    m = ExponentialMixture().fit(pd.Series([1, 2, 3], dtype="Int64"))
    assert m.rates_[0] == pytest.approx(0.5, rel=1e-12)          # n / sum x
    with pytest.raises(ValueError, match="NaN"):
        ExponentialMixture().fit(pd.Series([1, None, 3], dtype="Int64"))
    m = ExponentialMixture().fit(pd.DataFrame({"t": pd.Series([1.0, 3.0], dtype="Float64")}))
    assert m.rates_[0] == pytest.approx(0.5, rel=1e-12)


def test_check_is_fitted(rng):
    from sklearn.exceptions import NotFittedError as SkNotFitted
    from sklearn.utils.validation import check_is_fitted
    m = ExponentialMixture()
    with pytest.raises(SkNotFitted):
        check_is_fitted(m)
    m.fit(_data(rng, 50))
    check_is_fitted(m)
    check_is_fitted(ExponentialMixture.from_dict(m.to_dict()))
