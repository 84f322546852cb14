"""Every ```python block of README.md and docs/*.md runs, and the docs site builds.

Each block runs in a fresh namespace (``__name__ == "__main__"``), in order
within its file, in a temporary working directory.  A block is skipped only
when the line right before its fence is ``<!-- no-test: reason -->``; the
opt-outs are counted and reported.  ``mkdocs build --strict`` runs when
mkdocs is installed (the ``docs`` and ``test`` extras), and docs/api.md must
match what tools/gen_api.py generates from the docstrings.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")

_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_NOTEST = re.compile(r"^\s*<!--\s*no-test:\s*(.*?)\s*-->\s*$")


def extract_blocks(text):
    """[(line number, code, opt-out reason or None)] of the ```python blocks."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2).lower()
        start = i
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        if j >= len(lines):
            raise ValueError(f"unclosed code fence at line {start + 1}")
        if lang == "python":
            prev = start - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            reason = None
            if prev >= 0:
                mm = _NOTEST.match(lines[prev])
                if mm:
                    reason = mm.group(1)
            code = textwrap.dedent("\n".join(lines[start + 1:j]))
            blocks.append((start + 2, code, reason))
        i = j + 1
    return blocks


def doc_files():
    files = [os.path.join(ROOT, "README.md")]
    if os.path.isdir(DOCS):
        files += sorted(os.path.join(DOCS, f) for f in os.listdir(DOCS) if f.endswith(".md"))
    return [f for f in files if os.path.exists(f)]


def _rel(path):
    return os.path.relpath(path, ROOT)


@pytest.mark.parametrize("path", doc_files(), ids=_rel)
def test_code_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    with open(path, encoding="utf-8") as f:
        blocks = extract_blocks(f.read())
    ran = 0
    for line, code, reason in blocks:
        if reason is not None:
            assert reason, f"{_rel(path)}:{line}: a no-test marker must give a reason"
            continue
        ns = {"__name__": "__main__", "__file__": os.path.join(str(tmp_path), "example.py")}
        try:
            exec(compile(code, f"{_rel(path)}:{line}", "exec"), ns)
        except Exception as e:   # report where the example is
            raise AssertionError(f"the code block at {_rel(path)}:{line} failed: "
                                 f"{type(e).__name__}: {e}") from e
        ran += 1
    print(f"{_rel(path)}: {ran} block(s) run, {len(blocks) - ran} opted out")


def test_report_opt_outs():
    """Count the blocks that opted out, with their reasons (shown with -s / -rA)."""
    total, outs = 0, []
    for path in doc_files():
        with open(path, encoding="utf-8") as f:
            for line, _, reason in extract_blocks(f.read()):
                total += 1
                if reason is not None:
                    outs.append(f"{_rel(path)}:{line}: {reason}")
                    assert reason.strip(), f"{_rel(path)}:{line}: empty no-test reason"
    print(f"{total} python blocks in README.md and docs/, {len(outs)} opted out")
    for o in outs:
        print("  no-test", o)
    assert total > 0


def test_extractor_sees_blocks_and_markers():
    text = ("intro\n```python\nx = 1\n```\n\n<!-- no-test: needs a GPU -->\n```python\n"
            "raise SystemExit\n```\n```bash\nls\n```\n  ```python\n  y = 2\n  ```\n")
    blocks = extract_blocks(text)
    assert [(b[1], b[2]) for b in blocks] == [("x = 1", None), ("raise SystemExit", "needs a GPU"),
                                              ("y = 2", None)]
    assert blocks[0][0] == 3
    with pytest.raises(ValueError, match="unclosed"):
        extract_blocks("```python\nx = 1\n")


def test_a_failing_block_fails(tmp_path, monkeypatch):
    bad = tmp_path / "bad.md"
    bad.write_text("```python\nassert 1 == 2, 'wrong'\n```\n")
    with pytest.raises(AssertionError, match=r"bad.md:2 failed"):
        test_code_blocks_run.__wrapped__(str(bad), tmp_path, monkeypatch) \
            if hasattr(test_code_blocks_run, "__wrapped__") else \
            test_code_blocks_run(str(bad), tmp_path, monkeypatch)


def test_api_reference_is_up_to_date():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_api.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + "\n(run: python tools/gen_api.py)"


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install 'expmix[docs]')")
    if not os.path.exists(os.path.join(ROOT, "mkdocs.yml")):
        pytest.fail("mkdocs.yml is missing")
    site = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                          "-f", os.path.join(ROOT, "mkdocs.yml"), "-d", str(site)],
                         capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert (site / "index.html").exists() and (site / "dask" / "index.html").exists()
    assert (site / "api" / "index.html").exists() and (site / "quickstart" / "index.html").exists()
