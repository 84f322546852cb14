"""Threads beyond tests/test_concurrency.py: fit_many, scoring, censored /
interval / histogram fits, model selection and saving, each from 8 Python
threads at once, compared bit for bit with the same calls made serially.

The C loops release the GIL, so these calls really overlap; any shared
mutable state (a global workspace, a cached array written by two threads, a
non-reentrant RNG) would show up as a difference from the serial result.
"""
import copy
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import expmix
from expmix import ExponentialMixture as EM

N_THREADS = 8


def dataset(i, n=2000):
    rng = np.random.default_rng(500 + i)
    lab = rng.random(n) < 0.3 + 0.04 * i
    return np.where(lab, rng.standard_exponential(n) / (4.0 + i), rng.standard_exponential(n) / 0.4)


def quiet(f):
    def g(*a, **k):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f(*a, **k)
    return g


def parallel(fn, items):
    """fn over items from N_THREADS threads that start together (a barrier)."""
    barrier = threading.Barrier(min(N_THREADS, len(items)))

    def run(item):
        barrier.wait()
        return fn(item)
    with ThreadPoolExecutor(N_THREADS) as ex:
        return list(ex.map(run, items))


def fm_state(r):
    return (r.rates.tobytes(), r.weights.tobytes(), r.log_likelihood.tobytes(),
            r.n_components.tobytes(), tuple(r.status))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_fit_many_from_eight_threads_equals_serial(n_threads):
    groups = [[dataset(8 * g + j, 300) for j in range(6)] for g in range(N_THREADS)]
    call = quiet(lambda d: expmix.fit_many(d, range(1, 4), n_init=2, random_state=7,
                                           n_threads=n_threads))
    serial = [fm_state(call(d)) for d in groups]
    assert parallel(lambda d: fm_state(call(d)), groups) == serial


def test_shared_model_scoring_from_eight_threads():
    m = quiet(EM(2, n_init=2, random_state=0).fit)(dataset(0))
    rng = np.random.default_rng(1)
    inputs = []
    for i in range(N_THREADS):
        x = dataset(i, 700)
        inputs.append((x, rng.random(x.size) < 0.8, x * rng.random(x.size) * 0.5))

    def work(inp):
        x, ev, t = inp
        return (m.score(x), m.score(x, event_observed=ev), m.score_samples(x, entry=t).tobytes(),
                m.predict_proba(x, event_observed=ev).tobytes(), m.log_likelihood(x, entry=t),
                m.score_intervals(x, x * 1.5), m.bic(x), m.cdf(x).tobytes(), m.ppf(np.linspace(0, 1, 50)).tobytes(),
                m.weights_above(float(np.median(x))).tobytes())
    serial = [work(i) for i in inputs]
    assert parallel(work, inputs) == serial


def _state(m):
    return (m.rates_.tobytes(), m.weights_.tobytes(), m.log_likelihood_, m.n_iter_, m.status_)


def test_censored_interval_histogram_fits_from_eight_threads():
    def work(i):
        x = dataset(i, 1500)
        c = float(np.quantile(x, 0.8))
        a = EM(2, random_state=i, n_threads=1).fit(np.minimum(x, c), event_observed=x <= c)
        b = EM(2, random_state=i, n_threads=1).fit_intervals(np.floor(x * 10) / 10, np.floor(x * 10) / 10 + 0.1)
        edges = np.r_[0, np.geomspace(0.01, 20, 25), np.inf]
        counts, _ = np.histogram(x, edges)
        h = EM(2, random_state=i, n_threads=1).fit_histogram(edges, counts)
        t = EM(2, random_state=i, n_threads=1).fit(x + 0.5, entry=0.5)
        return _state(a), _state(b), _state(h), _state(t)
    work = quiet(work)
    serial = [work(i) for i in range(N_THREADS)]
    assert parallel(work, list(range(N_THREADS))) == serial


def test_select_components_from_eight_threads():
    def work(i):
        r = expmix.select_components(dataset(i, 800), range(1, 4), random_state=i, n_init=2)
        return (r.best_n_components_,
                tuple(float(row["log_likelihood"]) for row in r.table),
                r.best_.rates_.tobytes())
    work = quiet(work)
    serial = [work(i) for i in range(N_THREADS)]
    assert parallel(work, list(range(N_THREADS))) == serial


def test_concurrent_saves_to_one_path_leave_a_complete_file(tmp_path):
    """save writes a temporary file and renames it: with 8 threads saving
    different models to the same path, the file is always one complete model."""
    models = [quiet(EM(2, random_state=i).fit)(dataset(i, 500)) for i in range(N_THREADS)]
    path = tmp_path / "m.json"
    seen = []

    def work(m):
        for _ in range(5):
            m.save(path)
            seen.append(expmix.load(path).rates_.tobytes())
        return True
    assert all(parallel(work, models))
    ok = {m.rates_.tobytes() for m in models}
    assert set(seen) <= ok
    assert expmix.load(path).rates_.tobytes() in ok
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]      # no temporary files left


def test_bootstrap_and_standard_errors_from_threads():
    """Replicate fits with their own seeds: the same numbers from any thread."""
    models = [quiet(EM(2, random_state=i).fit)(dataset(i, 600)) for i in range(4)]

    def work(m):
        b = m.bootstrap(8, random_state=3)
        se = m.standard_errors_
        return (np.asarray(b.rates).tobytes(), se.rates.tobytes())
    work = quiet(work)
    # fresh copies for each run: standard errors are cached on the model
    serial = [work(copy.deepcopy(m)) for m in models]
    assert parallel(work, [copy.deepcopy(m) for m in models]) == serial
