"""Margins and the relative error.  **A margin means one thing everywhere: the statement holds on the
evidence iff margin ≥ 1** (a slack ratio allowed/observed).  NaN is never evidence: it means our
code produced garbage, so :func:`no_nan`, the one NaN guard of the suite, raises
:class:`NaNComparison` (a test error, not a verdict)."""

from __future__ import annotations

import math

import numpy as np


class NaNComparison(AssertionError):
    """A comparison met NaN.  NaN is never evidence for or against a claim: it means our code
    produced garbage (the code is wrong), so the test errors instead of recording a verdict."""


def no_nan(what: str, *values) -> None:
    """Raise :class:`NaNComparison` naming ``what`` if any of ``values`` holds a NaN."""
    for v in values:
        if np.isnan(np.asarray(v, float)).any():
            raise NaNComparison(f"{what}: NaN among the compared values {values!r}: a defect of our code, "
                                "never a verdict")


def margin_le(observed: float, bound: float, slack: float = 0.0) -> float:
    """Margin of ``observed ≤ bound`` with absolute slack: (bound + slack)/observed."""
    no_nan("margin_le", observed, bound, slack)
    if observed <= 0.0:
        return math.inf if bound + slack >= observed else 0.0
    return (bound + slack) / observed


def margin_ge(observed: float, bound: float, slack: float = 0.0) -> float:
    """Margin of ``observed ≥ bound`` with absolute slack: (observed + slack)/bound."""
    no_nan("margin_ge", observed, bound, slack)
    if bound <= 0.0:
        return math.inf if observed + slack >= bound else 0.0
    return (observed + slack) / bound


def ratio_margin(allowed, err) -> float:
    """min over entries of allowed/err, with +inf where err = 0 (an exact match always holds)."""
    allowed, err = np.broadcast_arrays(np.asarray(allowed, float), np.asarray(err, float))
    no_nan("ratio_margin", allowed, err)
    pos = err > 0
    return float(np.min(np.where(pos, allowed / np.where(pos, err, 1.0), np.inf), initial=np.inf))


def rel_error(actual: np.ndarray, desired: np.ndarray) -> float:
    """Normwise relative error ‖a − d‖/‖d‖ (0 if both are 0)."""
    a, d = np.asarray(actual, float), np.asarray(desired, float)
    no_nan("rel_error", a, d)
    den = np.linalg.norm(d)
    num = np.linalg.norm(a - d)
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return float(num / den)

