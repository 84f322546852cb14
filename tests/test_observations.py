"""The observation model: canonical segments for every kind of data, and a
specific error (type and message) for every inconsistent input."""
import numpy as np
import pytest

from expmix import (ExponentialMixture, select_components, select_components_histogram,
                    select_components_intervals)
from expmix.observations import from_histogram, from_intervals, from_samples

INF = np.inf
X = np.array([0.5, 1.0, 2.0, 3.0, 0.1])


# ----------------------------------------------------------------------
# canonical segments

def test_samples_split_into_exact_and_right():
    obs = from_samples(X, sample_weight=[1, 2, 3, 4, 5], event_observed=[1, 0, 1, 0, 1])
    np.testing.assert_array_equal(obs.exact, [0.5, 2.0, 0.1])
    np.testing.assert_array_equal(obs.exact_w, [1, 3, 5])
    np.testing.assert_array_equal(obs.right, [1.0, 3.0])
    np.testing.assert_array_equal(obs.right_w, [2, 4])
    assert obs.trunc is None and obs.dead_time == 0.0
    assert obs.kinds == ("exact", "right")
    assert obs.total_weight == 15.0
    for a in (obs.exact, obs.right, obs.exact_w):
        assert a.dtype == np.float64 and a.flags.c_contiguous


def test_scalar_entry_is_one_pair_and_a_dead_time():
    obs = from_samples(X + 1, sample_weight=[1, 2, 3, 4, 5], entry=0.75)
    np.testing.assert_array_equal(obs.trunc, [0.75])
    np.testing.assert_array_equal(obs.trunc_w, [15.0])
    assert obs.dead_time == 0.75
    sh = obs.shifted()
    np.testing.assert_allclose(sh.exact, X + 0.25)
    assert sh.trunc is None and sh.dead_time == 0.0 and "truncated" not in sh.kinds
    assert obs.kinds == ("exact", "truncated")


def test_per_observation_entry_pairs():
    e = np.array([0.0, 0.5, 0.0, 2.5, 0.05])
    obs = from_samples(X, entry=e, event_observed=[1, 1, 1, 0, 1])
    np.testing.assert_array_equal(obs.trunc, [0.5, 2.5, 0.05])   # zeros are not truncation
    assert obs.trunc_w is None and obs.dead_time == 0.0
    # every row truncated: the smallest entry is a common dead time, the rest
    # stays per-observation, measured from it
    obs = from_samples(X + 1, entry=e + 0.5)
    assert obs.dead_time == 0.5
    np.testing.assert_allclose(obs.shifted().trunc, [0.5, 2.5, 0.05])


def test_intervals_split_by_kind():
    lo = np.array([1.0, 2.0, 0.0, 3.0, 0.5])
    hi = np.array([1.0, INF, 1.5, 4.0, INF])
    obs = from_intervals(lo, hi, sample_weight=[1, 2, 3, 4, 5])
    np.testing.assert_array_equal(obs.exact, [1.0])
    np.testing.assert_array_equal(obs.right, [2.0, 0.5])
    np.testing.assert_array_equal(obs.lower, [0.0, 3.0])
    np.testing.assert_array_equal(obs.upper, [1.5, 4.0])
    np.testing.assert_array_equal(obs.interval_w, [3, 4])
    assert obs.kinds == ("exact", "right", "interval")


def test_histogram_drops_empty_bins_and_keeps_open_last_bin():
    obs = from_histogram([0, 1, 2, 4, INF], [5, 0, 3, 2])
    np.testing.assert_array_equal(obs.lower, [0, 2])
    np.testing.assert_array_equal(obs.upper, [1, 4])
    np.testing.assert_array_equal(obs.interval_w, [5, 3])
    np.testing.assert_array_equal(obs.right, [4])
    np.testing.assert_array_equal(obs.right_w, [2])
    assert obs.total_weight == 10
    obs = from_histogram([1, 2, 3], [4, 6], entry=1.0)
    assert obs.dead_time == 1.0
    np.testing.assert_array_equal(obs.shifted().lower, [0, 1])


def test_legal_boundary_cases():
    # a censored row may sit at its entry time; an interval may start at it
    from_samples([1.0, 2.0], event_observed=[True, False], entry=[0.5, 2.0])
    from_intervals([0.5, 1.0], [1.0, 2.0], entry=[0.5, 0.2])
    from_histogram([0.5, 1.0, 2.0], [1, 1], entry=0.5)
    # entry 0 is no truncation; 0/1 event flags are accepted
    obs = from_samples(X, entry=0.0, event_observed=[1, 0, 1, 1, 1])
    assert obs.trunc is None


# ----------------------------------------------------------------------
# the information check: data that cannot give finite positive rates

@pytest.mark.parametrize("call,msg", [
    (lambda m: m.fit(X, event_observed=np.zeros(5, bool)), "every observation is right-censored"),
    (lambda m: m.fit(X + 1, event_observed=np.zeros(5, bool), entry=0.5),
     "every observation is right-censored"),
    (lambda m: m.fit_intervals(X, np.full(5, INF)), "every observation is right-censored"),
    (lambda m: m.fit_histogram([0, 1, 2, INF], [0, 0, 7]), "every observation is right-censored"),
    (lambda m: m.fit_histogram([0, INF], [10]), r"single bin \[0\.0, inf\).*no information"),
    (lambda m: m.fit_histogram([2, INF], [10], entry=2.0), r"single bin \[2\.0, inf\)"),
    (lambda m: m.fit_intervals(np.zeros(3), np.full(3, INF)),
     r"right-censored at its entry time .* no information"),
    (lambda m: m.fit_intervals(np.zeros(3), [1.0, 2.0, 3.0]), "every observation is left-censored"),
    (lambda m: m.fit_histogram([2, 3], [4], entry=2.0), "every observation is left-censored"),
    (lambda m: m.fit(np.zeros(4)), "every observed value is 0"),
    (lambda m: m.fit(X, sample_weight=[0, 0, 0, 0, 1], event_observed=[1, 1, 1, 1, 0]),
     "every observation is right-censored"),
])
def test_no_information_is_rejected(call, msg):
    with pytest.raises(ValueError, match=msg):
        call(ExponentialMixture(1))


def test_information_from_left_and_right_censoring_together():
    # current-status data identify the rate (K = 1 closed form in
    # test_censored_truncated.py); exact zeros plus censoring are fine too
    ExponentialMixture(1).fit_intervals([0.0, 0.0, 1.0], [1.0, 1.0, INF])
    ExponentialMixture(1).fit([0.0, 0.0, 2.0], event_observed=[1, 1, 0])


def test_scoring_needs_no_information():
    m = ExponentialMixture(1).fit(X)
    # all-censored data can be scored (the information check is for fitting)
    s = m.score(X, event_observed=np.zeros(5, bool))
    assert s == pytest.approx(-m.rates_[0] * X.mean(), rel=1e-12)
    assert np.isfinite(m.bic_histogram([0, INF], [4]))
    assert m.log_likelihood_histogram([0, INF], [4]) == 0.0


# ----------------------------------------------------------------------
# bad inputs: every one the issue lists, with error type and message

BAD_SAMPLES = [
    (dict(X=[1.0, np.nan]), ValueError, "X contains NaN"),
    (dict(X=[1.0, -1.0]), ValueError, "X must be non-negative"),
    (dict(X=[1.0, 2.0], event_observed=[True]), ValueError, "event_observed has length 1"),
    (dict(X=[1.0, 2.0], event_observed=[1, 2]), ValueError, "event_observed must contain only"),
    (dict(X=[1.0, 2.0], event_observed=["a", "b"]), TypeError, "event_observed must be boolean"),
    (dict(X=[1.0, 2.0], event_observed=np.ones((2, 2))), ValueError, "event_observed must be 1-D"),
    (dict(X=[1.0, 2.0], event_observed=[1.0, np.nan]), ValueError, "event_observed must contain"),
    (dict(X=[1.0, 2.0], entry=[0.5]), ValueError, "entry has length 1"),
    (dict(X=[1.0, 2.0], entry=[0.5, np.nan]), ValueError, "entry contains NaN"),
    (dict(X=[1.0, 2.0], entry=[0.5, -0.1]), ValueError, "entry must be non-negative"),
    (dict(X=[1.0, 2.0], entry=[0.5, 2.0]), ValueError, r"entry\[1\] = .* is not below X\[1\]"),
    (dict(X=[1.0, 2.0], entry=[0.5, 3.0], event_observed=[1, 0]), ValueError,
     r"entry\[1\] = .* exceeds the observation"),
    (dict(X=[1.0, 2.0], entry=1.0), ValueError, r"entry = 1.0 is not below X\[0\]"),
    (dict(X=[1.0, 2.0], entry=1.5, event_observed=[0, 1]), ValueError,
     r"entry = 1.5 exceeds observation 0"),
    (dict(X=[1.0, 2.0], entry=np.nan), ValueError, "entry must be a finite number >= 0"),
    (dict(X=[1.0, 2.0], entry=-1.0), ValueError, "entry must be a finite number >= 0"),
    (dict(X=[1.0, 2.0], entry=np.inf), ValueError, "entry must be a finite number >= 0"),
    (dict(X=[1.0, 2.0], entry=True), TypeError, "entry must be a number or an array"),
    (dict(X=[1.0, 2.0], entry="0.5"), TypeError, "entry must be array-like"),
    (dict(X=[1.0, 2.0], sample_weight=[1.0]), ValueError, "sample_weight has length 1"),
    (dict(X=[1.0, 2.0], sample_weight=[1.0, np.nan]), ValueError, "sample_weight contains NaN"),
]


@pytest.mark.parametrize("kw,exc,msg", BAD_SAMPLES)
def test_bad_samples(kw, exc, msg):
    kw = dict(kw)
    x = kw.pop("X")
    with pytest.raises(exc, match=msg):
        ExponentialMixture(1).fit(x, **kw)
    # the same validation where the same keywords are accepted
    fitted = ExponentialMixture(1).fit([1.0, 2.0, 3.0])
    calls = [fitted.score, fitted.bic, fitted.aic, fitted.log_likelihood]
    if "sample_weight" not in kw:
        calls.append(fitted.score_samples)
    for call in calls:
        with pytest.raises(exc, match=msg):
            call(x, **kw)
    with pytest.raises(exc, match=msg):
        select_components(x, n_components=[1], **kw)


BAD_INTERVALS = [
    (dict(lower=[1.0, 2.0], upper=[0.5, 3.0]), ValueError, r"lower\[0\] = .* is greater than upper\[0\]"),
    (dict(lower=[1.0, 2.0], upper=[2.0]), ValueError, "lower and upper have different lengths"),
    (dict(lower=[1.0, np.nan], upper=[2.0, 3.0]), ValueError, "lower contains NaN"),
    (dict(lower=[1.0, 2.0], upper=[2.0, np.nan]), ValueError, "upper contains NaN"),
    (dict(lower=[1.0, -2.0], upper=[2.0, 3.0]), ValueError, "lower must be non-negative"),
    (dict(lower=[1.0, INF], upper=[2.0, INF]), ValueError, "lower contains inf"),
    (dict(lower=[], upper=[]), ValueError, "lower is empty"),
    (dict(lower=[1.0, 2.0], upper=[2.0, 3.0], entry=[1.5, 0.0]), ValueError,
     r"entry\[0\] = .* is above lower\[0\]"),
    (dict(lower=[1.0, 2.0], upper=[1.0, 3.0], entry=[1.0, 0.0]), ValueError,
     r"entry\[0\] = .* is above lower\[0\]"),
    (dict(lower=[1.0, 2.0], upper=[2.0, 3.0], entry=1.5), ValueError,
     r"entry = 1.5 is above lower\[0\]"),
    (dict(lower=[1.0, 2.0], upper=[2.0, 3.0], entry=[0.5]), ValueError, "entry has length 1"),
    (dict(lower=[1.0, 2.0], upper=[2.0, 3.0], sample_weight=[1, -1]), ValueError,
     "sample_weight must be non-negative"),
]


@pytest.mark.parametrize("kw,exc,msg", BAD_INTERVALS)
def test_bad_intervals(kw, exc, msg):
    kw = dict(kw)
    lo, hi = kw.pop("lower"), kw.pop("upper")
    with pytest.raises(exc, match=msg):
        ExponentialMixture(1).fit_intervals(lo, hi, **kw)
    fitted = ExponentialMixture(1).fit([1.0, 2.0, 3.0])
    for call in (fitted.score_intervals, fitted.bic_intervals, fitted.aic_intervals,
                 fitted.log_likelihood_intervals):
        with pytest.raises(exc, match=msg):
            call(lo, hi, **kw)
    with pytest.raises(exc, match=msg):
        select_components_intervals(lo, hi, n_components=[1], **kw)


BAD_HISTOGRAMS = [
    (dict(edges=[0, 1, 1, 2], counts=[1, 2, 3]), ValueError, "edges must be strictly increasing"),
    (dict(edges=[0, 2, 1], counts=[1, 2]), ValueError, r"edges must be strictly increasing; edges\[1\]"),
    (dict(edges=[0, 1, 2], counts=[1, -2]), ValueError, "counts must be non-negative"),
    (dict(edges=[0, 1, 2], counts=[1, 2, 3]), ValueError, r"counts must have len\(edges\) - 1 = 2"),
    (dict(edges=[0, 1, np.nan], counts=[1, 2]), ValueError, "edges contains NaN"),
    (dict(edges=[0, 1, 2], counts=[1, np.nan]), ValueError, "counts must be finite"),
    (dict(edges=[0, 1, 2], counts=[1, INF]), ValueError, "counts must be finite"),
    (dict(edges=[-1, 1, 2], counts=[1, 2]), ValueError, "edges must be finite and non-negative"),
    (dict(edges=[0, INF, INF], counts=[1, 2]), ValueError, "only the last edge may be inf"),
    (dict(edges=[1], counts=[]), ValueError, "edges must have at least 2 values"),
    (dict(edges=[0, 1, 2], counts=[0, 0]), ValueError, "counts is zero everywhere"),
    (dict(edges=[0, 1, 2], counts=[1, 2], entry=0.5), ValueError,
     "entry = 0.5 is above the first edge"),
    (dict(edges=[0, 1, 2], counts=[1, 2], entry=[0.0, 0.0]), TypeError,
     "entry for a histogram must be a scalar"),
    (dict(edges=[[0, 1, 2]], counts=[1, 2]), ValueError, "edges must be 1-D"),
]


@pytest.mark.parametrize("kw,exc,msg", BAD_HISTOGRAMS)
def test_bad_histograms(kw, exc, msg):
    kw = dict(kw)
    e, c = kw.pop("edges"), kw.pop("counts")
    with pytest.raises(exc, match=msg):
        ExponentialMixture(1).fit_histogram(e, c, **kw)
    fitted = ExponentialMixture(1).fit([1.0, 2.0, 3.0])
    for call in (fitted.score_histogram, fitted.bic_histogram, fitted.aic_histogram,
                 fitted.log_likelihood_histogram):
        with pytest.raises(exc, match=msg):
            call(e, c, **kw)
    with pytest.raises(exc, match=msg):
        select_components_histogram(e, c, n_components=[1], **kw)


def test_unfitted_scoring_raises():
    from expmix import NotFittedError
    m = ExponentialMixture(1)
    for call, args in ((m.score_intervals, ([1.0], [2.0])), (m.bic_histogram, ([0, 1], [1])),
                       (m.score_samples_intervals, ([1.0], [2.0]))):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call(*args)
