"""Input validation shared by the public functions (one place, one wording)."""

from __future__ import annotations

import numpy as np

from .errors import LabelRangeError, NonFiniteError, NonUnitDataError, ShapeError

#: Unit-norm tolerance: rows produced by ``normalize_rows`` are unit to a few ulp;
#: 1e-10 leaves room for data read from text files while rejecting real scaling errors.
UNIT_NORM_TOL = 1e-10


def as_finite(name: str, a: object, ndim: int | None = None) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if ndim is not None and arr.ndim != ndim:
        raise ShapeError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise NonFiniteError(name, int((~np.isfinite(arr)).sum()), arr.size)
    return arr


def check_unit_rows(X: np.ndarray, tol: float = UNIT_NORM_TOL) -> None:
    norms = np.linalg.norm(X, axis=1)
    dev = np.abs(norms - 1.0)
    if dev.size and dev.max() > tol:
        i = int(dev.argmax())
        raise NonUnitDataError(i, float(norms[i]), tol)


def check_labels(y: np.ndarray, n: int) -> np.ndarray:
    y = as_finite("y", y, ndim=1)
    if y.shape != (n,):
        raise ShapeError(f"y must have shape ({n},) to match X, got {y.shape}")
    if np.abs(y).max(initial=0.0) > 1.0:
        raise LabelRangeError(f"labels must satisfy |y_i| ≤ 1 (paper's assumption); max |y| = {np.abs(y).max():.6g}")
    return y
