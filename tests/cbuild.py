"""Build the C test programs of csrc/tests for the test suite (no Python in them).

Each source is compiled to an object once per set of flags for the whole test
session, on parallel threads, and the objects are linked per program: the
CPU-dispatched kernels (csrc/em_dispatch*.c), the costliest sources, contain
no OpenMP and no allocation, so one object per optimization level serves the
OpenMP, serial and allocation-hook programs alike.
"""
import hashlib
import os
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CC = os.environ.get("CC", "cc")

#: the C core as setup.py builds it (the pass, the loop, the CPU-dispatched kernels)
CORE = ["csrc/pass.c", "csrc/fit.c", "csrc/em_dispatch.c", "csrc/em_dispatch_avx2.c",
        "csrc/em_dispatch_avx512.c"]
DISPATCH = CORE[2:]

#: flags that do not change the objects of the dispatched kernels
_NEUTRAL = {"-fopenmp", "-DEM_TEST_MALLOC_HOOK", "-DFUZZ_STANDALONE"}

_lock = threading.Lock()
_cache: dict = {}
_dir = Path(tempfile.mkdtemp(prefix="expmix-cobj-"))


def _jobs():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _object(src, flags):
    flags = [f for f in flags if not (src in DISPATCH and f in _NEUTRAL)]
    key = (src, tuple(flags))
    with _lock:
        fut = _cache.get(key)
        if fut is None:
            digest = hashlib.sha1(repr(key).encode()).hexdigest()[:16]
            obj = _dir / f"{Path(src).stem}-{digest}.o"
            fut = _cache[key] = _pool.submit(_compile, src, flags, obj)
    return fut


def _compile(src, flags, obj):
    cmd = [CC, "-std=c11", *flags, f"-I{ROOT / 'csrc'}", "-c", str(ROOT / src), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return obj


_pool = ThreadPoolExecutor(max_workers=_jobs())


def build(sources, flags, exe):
    """Compile ``sources`` (paths relative to the repository) with ``flags``
    (objects cached for the session) and link them into ``exe``."""
    futures = [_object(s, list(flags)) for s in sources]     # all submitted, then awaited
    objs = [f.result() for f in futures]
    cmd = [CC, *flags, *[str(o) for o in objs], "-lm", "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe
