"""checks/engine/memory.py: after :func:`keep_freed_memory`, a freed 256 MiB array stays resident in
the process (so the next one reuses touched pages); without it, glibc hands the block back at once.
Each arm runs in a fresh interpreter (the suite's own processes already call it)."""

from __future__ import annotations

import platform
import subprocess
import sys

from ..engine.memory import keep_freed_memory

_PROBE = """
import os, sys
import numpy as np
if sys.argv[1] == "keep":
    from checks.engine.memory import keep_freed_memory
    assert keep_freed_memory()
page = os.sysconf("SC_PAGE_SIZE")
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * page
before = rss()
a = np.ones(2**25)  # 256 MiB, touched
del a
print((rss() - before) / 2**20)
"""


def _resident_after_free(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def test_freed_memory_stays_in_the_process_only_when_asked():
    if platform.libc_ver()[0] != "glibc":
        assert keep_freed_memory() is False
        return
    kept, returned = _resident_after_free("keep"), _resident_after_free("plain")
    assert kept >= 250, f"after keep_freed_memory, only {kept:.0f} MiB of a freed 256 MiB block stayed resident"
    assert returned < 16, f"without it, {returned:.0f} MiB stayed resident: the probe cannot tell the two apart"
