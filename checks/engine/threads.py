"""The one BLAS-thread setting of the suite.

Every process that computes (the pytest controller, each xdist worker, each executor worker, the
benchmarks) runs BLAS on one thread: with several processes per machine more threads would
oversubscribe the cores, and a fixed thread count also fixes the summation order, so the same
seeds give the same bits in every process (determinism).  The variables must be set before NumPy
loads its BLAS; :func:`one_blas_thread` is called first by ``conftest.py`` and by the executor's
workers, and ``threadpoolctl`` enforces the same limit afterwards.  Standard library only.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: The environment variables OpenBLAS, OpenMP and MKL read for their thread count.
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread(environ: MutableMapping[str, str] | None = None, *, override: bool = True) -> None:
    """Set every BLAS thread variable to 1 in ``environ`` (default ``os.environ``); with
    ``override=False`` a value the user set is kept."""
    env = os.environ if environ is None else environ
    for var in BLAS_THREAD_VARS:
        if override:
            env[var] = "1"
        else:
            env.setdefault(var, "1")
