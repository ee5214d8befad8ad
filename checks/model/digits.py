"""The real-data examples: two-class problems from scikit-learn's bundled digits (no download).

Rows are centred and scaled to unit norm, labels ±1 (the first digit of the pair is +1).  The
studies on them share the digit pairs and the label-noise levels (labels replaced by random signs
with that probability)."""

from __future__ import annotations

import numpy as np

import theory

PAIRS = ((0, 1), (3, 8))
NOISE = (0.0, 0.25, 0.5, 0.75, 1.0)


def digits_pair(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of the digits a and b: unit rows after centring, y = +1 for a and −1 for b."""
    from sklearn.datasets import load_digits

    data = load_digits()
    sel = np.isin(data.target, (a, b))
    X = data.data[sel].astype(float)
    X = theory.normalize_rows(X - X.mean(axis=0))
    y = np.where(data.target[sel] == a, 1.0, -1.0)
    return X, y
