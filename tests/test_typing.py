"""Typing: the package ships py.typed and its public API type-checks.

mypy (configured by [tool.mypy] in pyproject.toml) over the package source,
and over a small user script checked from outside the tree: the package must be clean, and the script's
deliberate mistakes must be caught (which proves the hints are visible to
users through py.typed and the _core stub).
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import expmix

ROOT = Path(__file__).resolve().parents[1]
PKG = Path(expmix.__file__).resolve().parent

USER_CODE = textwrap.dedent('''
    import numpy as np
    import expmix
    from expmix import ExponentialMixture

    x = np.random.default_rng(0).exponential(1.0, 100)
    m: ExponentialMixture = ExponentialMixture(2, n_init=2).fit(x)
    ll: float = m.score(x)
    p: np.ndarray = m.predict_proba(x)
    d = m.to_dict()
    m2: ExponentialMixture = expmix.load("model.json")
    m3 = ExponentialMixture.from_dict(d).fit_histogram([0, 1, 2], [3, 4])
    res = expmix.select_components(x, range(1, 4))
    bad1: str = m.score(x)                       # error 1: float is not str
    m.sample(n_samples="10")                     # error 2: str is not int
    ExponentialMixture(n_components="two")       # error 3: str is not int
''')


def test_py_typed_and_stub_are_shipped():
    assert (PKG / "py.typed").is_file()
    assert (PKG / "_core.pyi").is_file()
    text = (ROOT / "pyproject.toml").read_text()
    assert '"py.typed"' in text and '"*.pyi"' in text


def _mypy(args, cwd):
    return subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


SRC = ROOT / "src" / "expmix"


def test_mypy_clean_on_the_package():
    """mypy over the package source, with the project's [tool.mypy] configuration."""
    pytest.importorskip("mypy")
    target = SRC if SRC.is_dir() else PKG
    r = _mypy(["--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(ROOT / ".mypy_cache"), str(target)], ROOT)
    errors = [ln for ln in r.stdout.splitlines() if ": error:" in ln]
    assert r.returncode == 0 and not errors, r.stdout + r.stderr


def test_hints_reach_users_through_py_typed(tmp_path):
    """A user's script, checked from outside the source tree: the installed
    package (py.typed) must be found and its hints must catch the mistakes."""
    pytest.importorskip("mypy")
    user = tmp_path / "user_code.py"
    user.write_text(USER_CODE)
    r = _mypy(["--cache-dir", str(ROOT / ".mypy_cache" / "user"), str(user)], tmp_path)
    errors = [ln for ln in r.stdout.splitlines() if ": error:" in ln]
    assert not any("user_code.py" not in ln for ln in errors), r.stdout
    assert "missing library stubs or py.typed" not in r.stdout, r.stdout
    in_user = sorted({int(ln.split(":")[1]) for ln in errors})
    expected = [i + 1 for i, ln in enumerate(USER_CODE.splitlines()) if "# error" in ln]
    assert in_user == expected, r.stdout + r.stderr
