"""C reliability tests in the ordinary build: allocation failure (through the
EM_MALLOC test hook), indexing beyond 2^31 observations, and a short run of
the fuzz target's random-input driver.

The same programs run under ASan/UBSan, libFuzzer and valgrind in
.ci/sanitizers.sh (called by .ci/run after the tests, so that work is not
repeated here); set EXPMIX_SANITIZERS=1 to run that script from pytest.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cbuild

ROOT = Path(__file__).resolve().parents[1]
CC = os.environ.get("CC", "cc")

pytestmark = pytest.mark.skipif(shutil.which(CC) is None or not (ROOT / "csrc").is_dir(),
                                reason="needs a C compiler and the source tree (csrc/)")


#: the C core as setup.py builds it (the pass, the loop, the CPU-dispatched kernels)
CORE = ["csrc/pass.c", "csrc/fit.c", "csrc/em_dispatch.c", "csrc/em_dispatch_avx2.c",
        "csrc/em_dispatch_avx512.c"]
DISPATCH = CORE[2:]


def build_and_run(tmp_path, sources, flags, name, args=()):
    exe = cbuild.build(sources, flags, tmp_path / name)
    out = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


@pytest.mark.parametrize("omp", [True, False])
def test_allocation_failure_returns_nomem(tmp_path, omp):
    out = build_and_run(tmp_path, CORE + ["csrc/tests/test_alloc.c"],
                        ["-O2", "-DEM_TEST_MALLOC_HOOK"] + (["-fopenmp"] if omp else []), "ta")
    assert out.strip().splitlines()[-1].endswith(" 0 failed")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mmap of /dev/zero")
def test_index_beyond_2_31(tmp_path):
    out = build_and_run(tmp_path, ["csrc/fit.c"] + DISPATCH + ["csrc/tests/test_big_index.c"],
                        ["-O2", "-fopenmp"], "tb")
    last = out.strip().splitlines()[-1]
    assert last.endswith(" 0 failed") and not last.startswith("0 passed"), last


def test_fuzz_driver_short(tmp_path):
    out = build_and_run(tmp_path, CORE + ["fuzz/fuzz_pass.c"],
                        ["-O2", "-DFUZZ_STANDALONE"], "fz", args=("2",))
    assert "no invariant violated" in out


@pytest.mark.skipif(os.environ.get("EXPMIX_SANITIZERS") != "1",
                    reason="set EXPMIX_SANITIZERS=1 (CI runs .ci/sanitizers.sh directly)")
def test_sanitizer_script():
    out = subprocess.run(["bash", str(ROOT / ".ci" / "sanitizers.sh")], capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-3000:]
