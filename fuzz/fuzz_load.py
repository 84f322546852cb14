"""Fuzz target for the JSON model loader (expmix.io.loads / load).

Invariant: for ANY input bytes, ``expmix.io.loads`` either raises
``ModelFileError`` (a ValueError naming the problem) or returns a model whose
fitted numbers are valid (finite, rates positive and decreasing, weights
positive summing to 1, K consistent) and which survives a dumps/loads round
trip bit for bit.  Any other exception (RecursionError, OverflowError,
TypeError, KeyError, ...) or a violated invariant is a finding.

Run with atheris (coverage-guided; ``pip install atheris``)::

    python fuzz/fuzz_load.py -max_total_time=20

or without it (random structural and byte mutations of valid model files)::

    python fuzz/fuzz_load.py --standalone 20

Both are run by .ci/sanitizers.sh; tests/test_fuzz_load.py runs the same
check on hypothesis-generated inputs.
"""
import json
import random
import sys
import time
import warnings

import numpy as np

import expmix
from expmix.io import ModelFileError, dumps, loads


def seeds():
    """Valid model files: fitted (exact, censored, with standard errors) and unfitted."""
    rng = np.random.default_rng(0)
    x = np.where(rng.random(300) < 0.4, rng.exponential(0.1, 300), rng.exponential(3.0, 300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = expmix.ExponentialMixture(2, n_init=2, random_state=1).fit(x)
        b = expmix.ExponentialMixture(3, random_state=2).fit(x, event_observed=x < 5)
        _ = b.standard_errors_
        c = expmix.ExponentialMixture(1, tol=1e-6, weights_init=[1.0], rates_init=[2.0])
    return [dumps(m).encode() for m in (a, b, c)]


def check_model(m):
    if not hasattr(m, "rates_"):
        return
    K = int(m.n_components)
    w, mu = np.asarray(m.weights_), np.asarray(m.rates_)
    assert w.shape == (K,) and mu.shape == (K,), (w.shape, mu.shape, K)
    assert np.all(np.isfinite(w)) and np.all(w > 0) and abs(w.sum() - 1) <= 1e-9, w
    assert np.all(np.isfinite(mu)) and np.all(mu > 0) and np.all(np.diff(mu) <= 0), mu
    assert np.isfinite(m.log_likelihood_)
    again = loads(dumps(m))
    assert again.rates_.tobytes() == m.rates_.tobytes()
    assert again.weights_.tobytes() == m.weights_.tobytes()
    # the loaded model is usable
    v = m.pdf(np.array([0.0, 1.0]))
    assert np.all(np.isfinite(v)) or np.all(mu > 1e300)


def one_input(data: bytes) -> None:
    """The fuzz entry point: raises only for a finding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = loads(data)
    except ModelFileError:
        return
    check_model(m)


# ----------------------------------------------------------------------
# random mutations (the standalone driver and the hypothesis test use them)

_VALUES = [None, True, False, 0, -1, 1, 2, 3, 2**63, 10**400, -0.0, 0.5, 1e-320, 1e308, "",
           "x", "exact", [], [1.0], [0.5, 0.5], {}, {"__float__": "nan"}, {"__float__": "inf"},
           {"__float__": "-inf"}, {"__float__": 1}, [[1.0]], "1e400"]


def _nodes(obj, path=()):
    yield path
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _nodes(v, path + (i,))


def mutate(seed: bytes, r: random.Random) -> bytes:
    kind = r.randrange(6)
    if kind == 0:                                     # flip bytes
        b = bytearray(seed)
        for _ in range(r.randint(1, 8)):
            b[r.randrange(len(b))] = r.randrange(256)
        return bytes(b)
    if kind == 1:                                     # truncate
        return seed[: r.randrange(len(seed))]
    if kind == 2:                                     # splice two seeds' halves
        i = r.randrange(len(seed))
        return seed[:i] + seed[r.randrange(len(seed)):]
    d = json.loads(seed)
    for _ in range(r.randint(1, 3)):
        paths = list(_nodes(d))[1:]
        p = r.choice(paths)
        node = d
        for k in p[:-1]:
            node = node[k]
        if kind == 3:                                 # replace a value
            node[p[-1]] = json.loads(json.dumps(r.choice(_VALUES)))
        elif kind == 4 and isinstance(node, dict):    # delete a key
            del node[p[-1]]
        elif kind == 4 and isinstance(node, list) and node:
            node.pop(p[-1])
        else:                                         # scale a number
            v = node[p[-1]]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                node[p[-1]] = v * r.choice([-1, 0, 2, 1e300, 1e-300, 1 + 1e-12])
    return json.dumps(d).encode()


def standalone(seconds: float, rseed: int = 0) -> int:
    r = random.Random(rseed)
    corpus = seeds()
    t_end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < t_end:
        one_input(mutate(r.choice(corpus), r))
        n += 1
    for s in corpus:
        one_input(s)
    print(f"fuzz_load: {n} mutated inputs, no invariant violated")
    return n


def main(argv):
    if argv[1:2] == ["--standalone"]:
        standalone(float(argv[2]) if len(argv) > 2 else 20.0)
        return
    import os
    import tempfile
    import atheris
    corpus_dir = tempfile.mkdtemp(prefix="fuzz_load_corpus_")
    for i, s in enumerate(seeds()):
        with open(os.path.join(corpus_dir, f"seed{i}.json"), "wb") as f:
            f.write(s)
    # coverage of the loader's own code (instrument_all would take minutes on numpy)
    import inspect
    import expmix.io as eio
    for obj in list(vars(eio).values()):
        if inspect.isfunction(obj) and obj.__module__ == "expmix.io":
            atheris.instrument_func(obj)
    atheris.Setup(argv + [corpus_dir], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
