"""‖A(0)‖₂ of the sweep's networks, measured once per matrix and kept in the task cache.

The panel's calibration and confirmation networks are shared: the network of (data set, m, init) is
the same matrix A(0) for both γ rules and both schemes (γ is a scalar beside it), so at m = 4096 the
decide sweep's 229 paths start from 115 distinct matrices, and each start measured ‖A(0)‖₂ afresh by
ARPACK (≈ 500 products with A or Aᵀ, ≈ 2 s of a 6–8 s path).  :func:`spectral_norm` measures a matrix
once and stores the number under the matrix's own content (SHA-256 of its shape and bytes, ≈ 65 ms at
m = 4096) and the code of the measurement (theory/model.py), so a cached value is the one the
measurement returns for that matrix: the same float (JSON keeps a float's shortest round-trip
repr), whichever process measured it first.  Two workers that reach the same matrix together both
measure it and write the same file (atomically).  IMPLICIT_NO_FLOW_CACHE=1 measures every time.

Below MEMO_MIN_M the norm is a dense SVD of ≤ 0.05 s, too cheap to be worth a file: measured directly.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

import theory

from ..engine import tasks

NAMESPACE = "norms"
#: From this width on: m = 1024 is a dense SVD of ≈ 0.28 s (theory.model.DENSE_NORM_MAX_M), 512 of 0.05 s.
MEMO_MIN_M = 1024


def _key(A: np.ndarray) -> str:
    h = hashlib.sha256(f"{A.dtype.str}{A.shape}".encode())
    h.update(memoryview(np.ascontiguousarray(A)).cast("B"))
    h.update(tasks.theory_code(("model",)))
    return h.hexdigest()[:32]


def spectral_norm(A: np.ndarray) -> float:
    """theory.spectral_norm(A), measured once per matrix (module docstring)."""
    if min(A.shape) < MEMO_MIN_M or tasks.cache_disabled():
        return theory.spectral_norm(A)
    f = tasks.CACHE / NAMESPACE / f"norm-{A.shape[0]}-{_key(A)}.json"
    try:
        return float(json.loads(f.read_text())["norm"])
    except FileNotFoundError:
        pass
    value = theory.spectral_norm(A)
    tasks.write_json_atomic(f, {"norm": value, "shape": list(A.shape)})
    return value
