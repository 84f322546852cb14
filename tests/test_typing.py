"""Typing: the package ships py.typed and its public API type-checks.

One mypy run (configured by [tool.mypy] in pyproject.toml) over the package
and over a small user script: the package must be clean, and the script's
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


def test_mypy_clean_and_hints_visible(tmp_path):
    pytest.importorskip("mypy")
    user = tmp_path / "user_code.py"
    user.write_text(USER_CODE)
    env = dict(os.environ, MYPYPATH=str(PKG.parent))
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                        "--cache-dir", str(ROOT / ".mypy_cache"), "--no-error-summary",
                        str(PKG), str(user)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    errors = [ln for ln in r.stdout.splitlines() if ": error:" in ln]
    in_package = [ln for ln in errors if "user_code.py" not in ln]
    assert not in_package, "\n".join(in_package)
    in_user = sorted(int(ln.split(":")[1]) for ln in errors if "user_code.py" in ln)
    lines = USER_CODE.splitlines()
    expected = [i + 1 for i, ln in enumerate(lines) if "# error" in ln]
    assert sorted(set(in_user)) == expected, r.stdout
