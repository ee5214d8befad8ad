"""Unit tests of the pass kernels (theory.passes): A·Z and Aᵀ·X against NumPy's ``@``.

Oracle: NumPy's dgemm.  Any summation order obeys |computed − exact| ≤ γ_m·(|A|·|Z|) entrywise,
γ_m = mε/(1 − mε) (Higham 2002, §3.1); two such results differ by at most 2γ_m·(|A|·|Z|), which is the
bound asserted (the 2 covers the oracle's own rounding, derived, not tuned).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory import passes

EPS = np.finfo(float).eps


def _bound(A: np.ndarray, Z: np.ndarray) -> np.ndarray:
    m = A.shape[1]
    g = m * EPS / (1 - m * EPS)
    return 2 * g * (np.abs(A) @ np.abs(Z))


@given(m=st.integers(1, 70), n=st.integers(1, passes.MAX_COLUMNS), seed=st.integers(0, 2**32 - 1))
def test_theory_passes_match_dgemm_within_rounding(m: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A, Z = rng.standard_normal((m, m)), rng.standard_normal((m, n))
    fwd, adj = passes.matmul(A, Z), passes.rmatmul(A, Z)
    assert fwd.shape == adj.shape == (m, n)
    assert np.all(np.abs(fwd - A @ Z) <= _bound(A, Z)), "A·Z off by more than the rounding bound"
    assert np.all(np.abs(adj - A.T @ Z) <= _bound(A.T, Z)), "Aᵀ·X off by more than the rounding bound"


def test_theory_passes_are_deterministic_and_take_strided_columns() -> None:
    rng = np.random.default_rng(3)
    A, Z = rng.standard_normal((37, 37)), rng.standard_normal((37, 12))[:, ::2]  # a non-contiguous Z
    assert np.array_equal(passes.matmul(A, Z), passes.matmul(A, np.ascontiguousarray(Z)))
    assert np.array_equal(passes.rmatmul(A, Z), passes.rmatmul(A, np.ascontiguousarray(Z)))
    assert np.array_equal(passes.matmul(A, Z), passes.matmul(A, Z))


@pytest.mark.parametrize("case", ["fortran A", "transposed view", "float32", "too many columns", "vector",
                                  "rectangular", "no columns"])
def test_theory_passes_leave_other_inputs_to_numpy(case: str) -> None:
    """What the kernels do not take goes to ``@`` and gives exactly its result."""
    rng = np.random.default_rng(5)
    A, Z = rng.standard_normal((9, 9)), rng.standard_normal((9, 3))
    A, Z = {"fortran A": (np.asfortranarray(A), Z), "transposed view": (A.T, Z),
            "float32": (A.astype(np.float32), Z.astype(np.float32)),
            "too many columns": (A, rng.standard_normal((9, passes.MAX_COLUMNS + 1))),
            "vector": (A, Z[:, 0]), "rectangular": (rng.standard_normal((9, 4)), rng.standard_normal((4, 3))),
            "no columns": (A, np.empty((9, 0)))}[case]
    assert not passes._takes(A, Z)
    assert np.array_equal(passes.matmul(A, Z), A @ Z)
    B = Z if A.shape[0] == Z.shape[0] else rng.standard_normal((A.shape[0], 3))
    assert np.array_equal(passes.rmatmul(A, B), A.T @ B)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_theory_passes_propagate_non_finite(bad: float) -> None:
    """fastmath is limited to reassociation and contraction: a NaN or inf in column c reaches column c
    of the result (the solvers stop on it) and no other column."""
    rng = np.random.default_rng(7)
    A = rng.standard_normal((13, 13))
    Z = rng.standard_normal((13, 4))
    Z[5, 2] = bad
    for out in (passes.matmul(A, Z), passes.rmatmul(A, Z)):
        assert not np.isfinite(out[:, 2]).any()
        assert np.isfinite(np.delete(out, 2, axis=1)).all()
