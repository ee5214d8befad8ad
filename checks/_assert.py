"""The one comparison helper: precise failure messages naming claim, tolerance and replay."""

from __future__ import annotations

import numpy as np


def rel_error(actual: np.ndarray, desired: np.ndarray) -> float:
    """Normwise relative error ‖a − d‖/‖d‖ (0 if both are 0).  NaN input is a code defect: raises."""
    a, d = np.asarray(actual, float), np.asarray(desired, float)
    if np.isnan(a).any() or np.isnan(d).any():
        from .harness import NaNComparison

        raise NaNComparison("rel_error: NaN in the compared arrays")
    den = np.linalg.norm(d)
    num = np.linalg.norm(a - d)
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return float(num / den)


def assert_close(actual, desired, *, rtol: float, atol: float = 0.0, claim: str, why: str, repro: str) -> None:
    """Entrywise |a − d| ≤ atol + rtol·|d|; on failure list what, how far, why allowed, how to replay."""
    a, d = np.asarray(actual, float), np.asarray(desired, float)
    err = np.abs(a - d)
    bad = ~(err <= atol + rtol * np.abs(d))
    if bad.any():
        rd = err / np.maximum(np.abs(d), np.finfo(float).tiny)
        raise AssertionError(
            f"[{claim}] {int(bad.sum())} of {bad.size} entries out of tolerance\n"
            f"  allowed: rtol={rtol:.1e} atol={atol:.1e}  ({why})\n"
            f"  max |adiff|={err.max():.2e}  max |rdiff|={rd.max():.2e}"
            f" at {np.unravel_index(rd.argmax(), rd.shape)}\n"
            f"  reproduce: {repro}"
        )
