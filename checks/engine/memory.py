"""Freed memory stays in the process that freed it (glibc malloc), so a sweep worker touches its
peak memory once instead of once per step.

Why.  glibc serves every block of 32 MiB or more with its own ``mmap`` and unmaps it on ``free``;
an m×m float array is such a block from m = 2048 on (m = 4096: 128 MiB).  A descent or
exponential-Euler step allocates and frees several of them (A(0) + ΔA, the force, temporaries).
On a virtual machine whose host takes back the pages a guest frees (free-page reporting, as on
the 2-core machine the README's times come from), touching such a block again costs ≈ 1 s per
128 MiB (130 MB/s; measured: 12 fresh 4096² arrays, 0.97 s each, 8 ms each when the pages were
freed less than 2 s before).  Measured with and without this module: one m = 4096 descent path
(panel data set 3) 14.8 s → 11.5 s in a fresh process, 11.0 s → 7.2 s in a warm one; eight such paths
on two workers 63.1 s → 45.5 s of wall time (118 → 84 CPU-s), every result bit-identical.

What.  :func:`keep_freed_memory` sets ``M_MMAP_MAX = 0`` (every block comes from the heap) and
``M_TRIM_THRESHOLD`` to its maximum (the heap is never given back), so a worker reuses its own,
already-touched pages from its second step on, and from task to task.  The cost: a worker holds
its peak heap until it exits (≈ 1.5 GiB at m = 4096; the executor's workers exit with the sweep).

Arithmetic is unchanged: where a block lives does not change any operation on it (kernels read
unaligned data in the same order; blocks below 32 MiB already came from the heap), and
``verification.json`` is identical with and without it (README, "Time").  Standard library only;
a no-op returning False off glibc (the faults it avoids are a glibc-and-host matter).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

#: mallopt parameter numbers (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: The largest trim threshold mallopt takes (an int): the heap is never trimmed.
TRIM_NEVER = 2**31 - 1


def keep_freed_memory() -> bool:
    """Make this process's malloc keep what it frees (see the module docstring); True if applied."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    ok = libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(M_TRIM_THRESHOLD, TRIM_NEVER) == 1
    if not ok:  # mallopt returns 1 on success; glibc documents no failure for these two
        raise OSError("glibc mallopt refused M_MMAP_MAX / M_TRIM_THRESHOLD")
    return True
