"""Build and run the C test programs of csrc/tests (no Python involved)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import cbuild

ROOT = Path(__file__).resolve().parents[1]
CC = os.environ.get("CC", "cc")

pytestmark = pytest.mark.skipif(shutil.which(CC) is None or not (ROOT / "csrc").is_dir(),
                                reason="needs a C compiler and the source tree (csrc/)")


def build_and_run(tmp_path, sources, flags, name):
    exe = cbuild.build(sources, flags, tmp_path / name)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    last = out.stdout.strip().splitlines()[-1]
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert last.endswith(" 0 failed"), last
    return out.stdout


CORE = ["csrc/pass.c", "csrc/fit.c", "csrc/em_dispatch.c", "csrc/em_dispatch_avx2.c",
        "csrc/em_dispatch_avx512.c", "csrc/tests/test_core.c"]


def test_core_openmp(tmp_path):
    build_and_run(tmp_path, CORE, ["-O2", "-fopenmp"], "tc_omp")


#: the flags setup.py compiles the extension with (without OpenMP here)
SETUP_FLAGS = ["-O3", "-std=gnu11", "-fno-math-errno", "-fno-trapping-math"]


def test_core_without_openmp(tmp_path):
    """Serial, with setup.py's flags (the objects of the dispatched kernels are
    shared with the setup-flags build of test_kinds.c)."""
    build_and_run(tmp_path, CORE, SETUP_FLAGS, "tc_serial")


def test_vmath(tmp_path):
    build_and_run(tmp_path, ["csrc/tests/test_vmath.c"], ["-O3"], "tv")


def test_init_quantile(tmp_path):
    """csrc/init.c (the quantile start) against a sort-based reference."""
    build_and_run(tmp_path, ["csrc/init.c", "csrc/tests/test_init.c"], ["-O2"], "ti")


MANY = CORE[:-1] + ["csrc/init.c", "csrc/batch.c", "csrc/tests/test_many.c"]


@pytest.mark.parametrize("omp", [True, False])
def test_fit_many_tables(tmp_path, omp):
    """csrc/tests/test_many.c: em_scan_many counts against a direct count and
    em_fit_many problems equal to single em_fit calls, over pointer tables."""
    build_and_run(tmp_path, MANY, ["-O2"] + (["-fopenmp"] if omp else []), "tm")


def test_init_quantile_allocation_failure(tmp_path):
    """csrc/init.c returns EM_ERR_NOMEM (and frees what it had) when an allocation fails."""
    build_and_run(tmp_path, ["csrc/init.c", "csrc/tests/test_init.c"],
                  ["-O1", "-DEM_TEST_MALLOC_HOOK"], "ti_alloc")
KINDS = ["csrc/pass.c", "csrc/fit.c", "csrc/em_dispatch.c", "csrc/em_dispatch_avx2.c",
         "csrc/em_dispatch_avx512.c", "csrc/tests/test_kinds.c"]


@pytest.mark.parametrize("flags", [["-O2", "-fopenmp"], SETUP_FLAGS + ["-fopenmp"]],
                         ids=["O2", "setup-flags"])
def test_fast_kinds_against_general_kernel(tmp_path, flags):
    """csrc/tests/test_kinds.c: the fast right/interval/truncation kernels equal
    the general tile kernel (or beat it against a long-double reference) on
    every CPU path, on hostile values."""
    out = build_and_run(tmp_path, KINDS, flags, "tk")
    assert "compared" in out


TRUNC_FAR = ["csrc/pass.c", "csrc/fit.c", "csrc/em_dispatch.c", "csrc/em_dispatch_avx2.c",
             "csrc/em_dispatch_avx512.c", "csrc/tests/test_trunc_far.c"]


def test_truncation_far_in_the_tail(tmp_path):
    """csrc/tests/test_trunc_far.c: the truncation term exact in log space for
    mu t up to 1e200, the missing-data statistics exact below the cap and
    finite above it, general and fast kernels, 1 and 3 threads bitwise."""
    out = build_and_run(tmp_path, TRUNC_FAR, ["-O2", "-fopenmp"], "ttf")
    assert "compared" in out
