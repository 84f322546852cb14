"""Write docs/api.md, the API reference, from the docstrings of the public names.

    python tools/gen_api.py            # rewrite docs/api.md
    python tools/gen_api.py --check    # exit 1 if docs/api.md is out of date

The public names are ``expmix.__all__`` and ``expmix.dask.__all__`` (when dask is
installed; otherwise the existing expmix.dask section is kept as it is).
tests/test_docs.py checks that docs/api.md is up to date.
"""
import argparse
import inspect
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
API_MD = os.path.join(HERE, os.pardir, "docs", "api.md")
DASK_MARK = "<!-- expmix.dask section -->"

HEADER = """# API reference

Generated from the docstrings by `python tools/gen_api.py` (do not edit by hand;
`tests/test_docs.py` checks that this page is up to date). Docstrings follow the numpydoc
convention.
"""


def _sig(obj, name):
    try:
        return f"{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        return name


def _doc(obj):
    d = inspect.getdoc(obj) or "(no docstring)"
    return d.replace("```", "'''")


def _public_methods(cls):
    """Public methods defined on cls or on a private base (e.g. the
    get_params/set_params mixin); those of a public base are documented there."""
    out = []
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or owner is object or owner.__module__ == "builtins":
            continue
        if owner is not cls and not owner.__name__.startswith("_"):
            continue
        member = vars(owner)[name]
        if inspect.isfunction(member) or isinstance(member, (classmethod, staticmethod, property)):
            out.append(name)
    return out


def _section(module_name, names, module):
    lines = [f"\n## `{module_name}`\n"]
    mdoc = inspect.getdoc(module)
    if mdoc:
        lines.append("```text\n" + mdoc.replace("```", "'''") + "\n```\n")
    for name in names:
        obj = getattr(module, name)
        full = f"{module_name}.{name}"
        if inspect.isclass(obj):
            lines.append(f"\n### `{full}`\n")
            lines.append("```text\n" + _sig(obj, name) + "\n\n" + _doc(obj) + "\n```\n")
            for meth in _public_methods(obj):
                member = getattr(obj, meth)
                if isinstance(inspect.getattr_static(obj, meth), property):
                    sig = meth
                else:
                    sig = _sig(member, meth)
                lines.append(f"\n#### `{name}.{meth}`\n")
                lines.append("```text\n" + sig + "\n\n" + _doc(member) + "\n```\n")
        elif callable(obj):
            lines.append(f"\n### `{full}`\n")
            lines.append("```text\n" + _sig(obj, name) + "\n\n" + _doc(obj) + "\n```\n")
        else:
            lines.append(f"\n### `{full}`\n")
            lines.append(f"```text\n{name} = {obj!r}\n```\n")
    return "".join(lines)


def generate(existing=None):
    import expmix          # the installed package (its compiled core), not src/
    text = HEADER + _section("expmix", list(expmix.__all__), expmix)
    try:
        import expmix.dask as edask
    except ImportError:
        edask = None
    text += "\n" + DASK_MARK + "\n"
    if edask is not None:
        text += _section("expmix.dask", list(edask.__all__), edask)
    elif existing and DASK_MARK in existing:
        text += existing.split(DASK_MARK + "\n", 1)[1]
    text = re.sub(r" at 0x[0-9a-f]+", "", text)
    return text.rstrip() + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that docs/api.md is current")
    a = ap.parse_args()
    existing = open(API_MD, encoding="utf-8").read() if os.path.exists(API_MD) else None
    text = generate(existing)
    if a.check:
        if existing != text:
            print("docs/api.md is out of date: run python tools/gen_api.py", file=sys.stderr)
            return 1
        return 0
    with open(API_MD, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
