"""The JSON loader under fuzzing: arbitrary bytes and mutated model files
either raise ModelFileError or load a valid model (fuzz/fuzz_load.py holds the
invariant; .ci/sanitizers.sh runs it coverage-guided with atheris)."""
import importlib.util
import os
import random

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "fuzz_load", os.path.join(os.path.dirname(__file__), "..", "fuzz", "fuzz_load.py"))
fuzz_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz_load)

SEEDS = fuzz_load.seeds()
SET = settings(max_examples=int(os.environ.get("EXPMIX_HYPOTHESIS_EXAMPLES", "30")) * 10,
               deadline=None, derandomize=os.environ.get("EXPMIX_HYPOTHESIS_RANDOM") != "1",
               suppress_health_check=[HealthCheck.too_slow])


def test_seeds_load():
    for s in SEEDS:
        fuzz_load.one_input(s)
    assert fuzz_load.loads(SEEDS[0]).rates_.shape == (2,)


@SET
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data):
    fuzz_load.one_input(data)


@SET
@given(st.integers(0, len(SEEDS) - 1), st.integers(0, 2**32 - 1))
def test_mutated_model_files(i, seed):
    fuzz_load.one_input(fuzz_load.mutate(SEEDS[i], random.Random(seed)))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@SET
@given(json_values)
def test_arbitrary_json_values(v):
    import json
    fuzz_load.one_input(json.dumps(v).encode())


def test_standalone_driver_runs():
    assert fuzz_load.standalone(1.0, rseed=1) > 10
