"""The wheel and the sdist, built, installed and used like a user would.

Slow (a few minutes of compiling on a busy 2-core machine): marked ``wheel``,
so ``pytest -m "not wheel"`` deselects it locally; CI (.ci/run) runs it.

1. wheels/build.py builds the sdist and the wheel, repairs the wheel with
   auditwheel (libgomp bundled) and checks it.
2. A fresh virtual environment gets the wheel with ``--no-index
   --only-binary=:all:`` and ``CC=/bin/false``: nothing can compile at install
   time.  A subset of the test suite, including the downstream Cython
   example (tests/test_downstream.py), runs against it from a copy of the
   tests outside the source tree.
3. A second fresh environment builds and installs the sdist with a C
   compiler that lacks OpenMP (in a background thread, while 2. runs): the
   build must say so clearly and fall back to a single-threaded build, whose
   fits must equal the wheel's bit for bit.
4. The EXPMIX_NO_OPENMP=1 switch removes every OpenMP flag from the build.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(not (ROOT / "wheels" / "build.py").is_file() or not (ROOT / "csrc").is_dir(),
                       reason="needs the source tree (wheels/build.py, csrc/)"),
    pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("gcc") is None,
                       reason="the local wheel build is Linux/gcc (auditwheel); other platforms "
                              "are built and tested by cibuildwheel in CI"),
]

# Tests run against the installed wheel (the slowest numerical checks of
# test_fit.py are left to the main run).
SUBSET = ["tests/test_distributions.py", "tests/test_validation.py", "tests/test_downstream.py",
          "tests/test_fit.py"]
DESELECT = "not test_em_reaches_direct_maximum and not test_history_monotone"
RUNTIME_DEPS = ["numpy", "pytest", "scipy", "Cython>=3.1", "setuptools>=77"]

COMPARE = textwrap.dedent("""
    import json, sys
    import numpy as np
    import expmix, expmix._core, expmix.core
    rng = np.random.default_rng(5)
    n = 300_000
    x = np.where(rng.random(n) < 0.3, rng.exponential(0.2, n), rng.exponential(3.0, n))
    out = {"file": expmix.__file__, "omp_core": bool(expmix.core.OPENMP),
           "omp_bridge": bool(expmix._core.openmp_enabled())}
    fits = {
        "exact": lambda m: m.fit(x),
        "censored": lambda m: m.fit(np.minimum(x, 4.0), event_observed=x < 4.0),
        "truncated": lambda m: m.fit(x[x > 0.05], entry=0.05),
        "intervals": lambda m: m.fit_intervals(np.floor(x * 10) / 10, np.floor(x * 10) / 10 + 0.1),
    }
    for name, f in fits.items():
        m = f(expmix.ExponentialMixture(2, n_init=2, random_state=0, n_threads=2))
        out[name] = [m.weights_.tolist(), m.rates_.tolist(), m.log_likelihood_, m.n_iter_]
    json.dump(out, open(sys.argv[1], "w"))
""")


def _run(cmd, timeout=900, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=timeout, **kw)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
    return proc


def _venv(path):
    _run([sys.executable, "-m", "venv", path])
    return Path(path) / "bin" / "python"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    proc = _run([sys.executable, ROOT / "wheels" / "build.py", "--no-isolation", "--outdir", out])
    lines = proc.stdout.strip().splitlines()
    wheel = Path(lines[-2].split(" ", 1)[1])
    sdist = Path(lines[-1].split(" ", 1)[1])
    assert lines[-2].startswith("WHEEL ") and lines[-1].startswith("SDIST ")
    # dependencies as binary wheels only, so that nothing is compiled later
    house = tmp_path_factory.mktemp("wheelhouse")
    _run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", house,
          *RUNTIME_DEPS])
    return dict(wheel=wheel, sdist=sdist, house=house, log=proc.stdout)


def test_wheel_is_repaired_and_checked(built, sdist_job):
    # (sdist_job: starts building the sdist in the background right away)
    name = built["wheel"].name
    assert "manylinux" in name and name.endswith(("_x86_64.whl", "_aarch64.whl")), name
    assert "libgomp" in built["log"]            # bundled by auditwheel
    assert "PASSED" in built["log"] and "ERROR" not in built["log"]   # twine check


@pytest.fixture(scope="module")
def wheel_env(built, tmp_path_factory):
    """A fresh venv with the wheel installed, and a copy of the tests and of
    the example outside the source tree; the reference fits of the wheel."""
    base = tmp_path_factory.mktemp("wheelenv")
    py = _venv(base / "venv")
    env = dict(os.environ, CC="/bin/false", CXX="/bin/false", LDSHARED="/bin/false")
    env.pop("PYTHONPATH", None)
    _run([py, "-m", "pip", "install", "-q", "--no-index", "--only-binary=:all:",
          "--find-links", built["house"], built["wheel"], *RUNTIME_DEPS], env=env)
    proj = base / "proj"
    shutil.copytree(ROOT / "tests", proj / "tests")
    shutil.copytree(ROOT / "examples" / "cython_downstream", proj / "examples" / "cython_downstream")
    (proj / "compare.py").write_text(COMPARE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([py, "compare.py", base / "wheel.json"], cwd=proj, env=env)
    return dict(py=py, proj=proj, env=env, venv=base / "venv",
                fits=json.loads((base / "wheel.json").read_text()))


def test_wheel_installs_without_compiler_and_passes_tests(wheel_env):
    py, proj, env, venv = (wheel_env[k] for k in ("py", "proj", "env", "venv"))
    where = _run([py, "-c", "import expmix, expmix.core; print(expmix.__file__); "
                  "print(expmix.get_include()[0])"], cwd=proj, env=env).stdout.split()
    assert str(venv) in where[0] and str(venv) in where[1]
    assert wheel_env["fits"]["omp_core"] and wheel_env["fits"]["omp_bridge"]
    res = _run([py, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-m", "not wheel",
                "-k", DESELECT, *SUBSET], cwd=proj, env=env)
    assert " passed" in res.stdout and " failed" not in res.stdout
    # the downstream example was built against the wheel and checked, not skipped
    for name in ("test_prange_fits_match_the_python_api", "test_censored_and_truncated_fits_match",
                 "test_evaluation_functions_match_the_python_api"):
        assert f"test_downstream.py::{name} PASSED" in res.stdout, res.stdout[-3000:]


def _sdist_job(built, base, result):
    """Build and install the sdist in a fresh venv with a C compiler that has
    no OpenMP, and record its fits.  Runs in a thread, overlapping the wheel
    tests (the subprocesses do the work)."""
    try:
        py = _venv(base / "venv")
        _run([py, "-m", "pip", "install", "-q", "--no-index", "--only-binary=:all:",
              "--find-links", built["house"], *RUNTIME_DEPS])
        # gcc that refuses every OpenMP flag
        fake = base / "cc-without-openmp"
        fake.write_text("#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in *openmp*) "
                        "echo 'cc-without-openmp: no OpenMP here' >&2; exit 1;; esac; done\n"
                        "exec gcc \"$@\"\n")
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EXPMIX_NO_OPENMP")}
        proc = _run([py, "-m", "pip", "install", "-v", "--no-index", "--no-build-isolation",
                     "--no-deps", built["sdist"]], env=dict(env, CC=str(fake)))
        result["log"] = proc.stdout + proc.stderr
        (base / "compare.py").write_text(COMPARE)
        _run([py, "compare.py", base / "sdist.json"], cwd=base, env=env)
        result["fits"] = json.loads((base / "sdist.json").read_text())
        result["venv"] = base / "venv"
    except BaseException as e:          # reported by the test that waits for it
        result["error"] = e


@pytest.fixture(scope="module")
def sdist_job(built, tmp_path_factory):
    result = {}
    t = threading.Thread(target=_sdist_job, args=(built, tmp_path_factory.mktemp("sdist"), result),
                         daemon=True)
    t.start()
    yield t, result
    t.join(timeout=1200)


def test_sdist_builds_without_openmp_and_gives_the_same_fits(sdist_job, wheel_env):
    t, result = sdist_job
    t.join(timeout=1200)
    assert not t.is_alive(), "the sdist build did not finish in 20 minutes"
    if "error" in result:
        raise result["error"]
    text = result["log"]
    assert "expmix: the C compiler does not support OpenMP" in text
    assert "building single-threaded (results are identical" in text
    a, b = wheel_env["fits"], result["fits"]
    assert not b["omp_core"] and not b["omp_bridge"]
    assert str(result["venv"]) in b["file"]
    for kind in ("exact", "censored", "truncated", "intervals"):
        assert a[kind] == b[kind], kind         # bit for bit (floats round-trip through JSON)


def test_no_openmp_switch_removes_every_openmp_flag(tmp_path):
    # A recording compiler that stops the build at its first compile: enough
    # to see the flags the switch produces, without compiling the core.
    rec = tmp_path / "calls.txt"
    fake = tmp_path / "cc-recorder"
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {rec}\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(CC=str(fake), EXPMIX_NO_OPENMP="1")
    proc = subprocess.run([sys.executable, "setup.py", "build_ext", "--build-temp",
                           tmp_path / "t", "--build-lib", tmp_path / "l"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0                 # stopped by the recorder, as intended
    assert "expmix: EXPMIX_NO_OPENMP set: building without OpenMP" in proc.stderr
    calls = rec.read_text().splitlines()
    flags = [tok for c in calls for tok in c.split()]
    assert calls and not any((t.startswith("-") and "openmp" in t) or t in ("/openmp", "-lomp")
                             for t in flags)
    assert not any("expmix-omp-" in c for c in calls)      # no OpenMP probe either
