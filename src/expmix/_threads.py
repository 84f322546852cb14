"""How many threads to use.

``None`` means every CPU available to this process: the smallest of
``omp_get_max_threads()`` (which honours ``OMP_NUM_THREADS``), the CPU affinity
mask and the cgroup CPU quota (containers).  Results never depend on the
number chosen: every reduction in the C core runs in a fixed order.
"""
from __future__ import annotations

import math
import numbers
import os

from . import _core

__all__ = ["effective_n_threads", "available_cpus"]

#: Largest accepted n_threads (the C core takes an int).
MAX_THREADS = 1 << 16


def _cgroup_cpus():
    try:  # cgroup v2
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        if quota > 0 and period > 0:
            return max(1, math.ceil(quota / period))
    except (OSError, ValueError):
        pass
    return None


def available_cpus() -> int:
    """CPUs this process may use (affinity mask and cgroup quota)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    q = _cgroup_cpus()
    return max(1, min(n, q) if q else n)


def effective_n_threads(n_threads) -> int:
    """Validate ``n_threads`` (None, or an int >= 1; -1 means all CPUs)."""
    if not _core.openmp_enabled():
        if n_threads is not None:
            _check(n_threads)
        return 1
    if n_threads is None or (isinstance(n_threads, numbers.Integral) and n_threads == -1):
        return max(1, min(_core.omp_max_threads(), available_cpus()))
    _check(n_threads)
    return int(n_threads)


def _check(n_threads):
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be None or an int >= 1, got {n_threads!r}")
    if (n_threads < 1 and n_threads != -1) or n_threads > MAX_THREADS:
        raise ValueError(f"n_threads must be None, -1 or an int between 1 and {MAX_THREADS}, "
                         f"got {n_threads}")
