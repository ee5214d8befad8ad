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
from theory.errors import ShapeError

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


# ------------------------------------------------------------ the compiled Picard loops (passes.picard)
def _solves(net, X, Z0, maxiter, rtol):
    """Equilibrium and adjoint of one problem, or the ConvergenceError raised: everything a caller sees."""
    from theory.equilibrium import solve_adjoint, solve_equilibrium
    from theory.errors import ConvergenceError

    try:
        eq = solve_equilibrium(net, X, Z0=Z0, maxiter=maxiter, rtol=rtol)
        adj = solve_adjoint(net, eq, rtol=rtol, maxiter=maxiter)
    except ConvergenceError as e:
        return ("ConvergenceError", e.what, e.iterations, np.array(e.history))
    return (eq.Z, eq.P, eq.iterations, eq.error_bound, np.array(eq.history), adj.V, adj.Wa, adj.iterations,
            adj.error_bound)


def _bits(x):
    return x.view(np.uint64).tolist() if isinstance(x, np.ndarray) else x


@given(m=st.integers(1, 120), n=st.integers(2, passes.MAX_COLUMNS), gamma0=st.floats(0.05, 0.99),
       rule=st.sampled_from(["gamma0/2c", "gamma0/c"]), warm=st.booleans(), short=st.booleans(),
       log_rtol=st.floats(-14, -4), seed=st.integers(0, 2**32 - 1))
def test_compiled_picard_loops_are_bit_identical_to_the_numpy_loop(m, n, gamma0, rule, warm, short, log_rtol,
                                                                   seed) -> None:
    """Iterates, iteration counts, bounds, histories and ConvergenceErrors (a short budget draws them) of the
    compiled loops equal the NumPy loop's bit for bit (theory.passes: the same operations in the same order)."""
    import theory

    rng = np.random.default_rng(seed)
    net = theory.init_network(m, 3, gamma0=gamma0, gamma_rule=rule, rng=rng)
    X = theory.normalize_rows(rng.standard_normal((n, 3)))
    Z0 = np.abs(rng.standard_normal((m, n))) if warm else None
    args = (net, X, Z0, 3 if short else None, 10.0**log_rtol)
    calls = []
    real = passes.picard
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passes, "picard", lambda *a: calls.append(1) or real(*a))
        compiled = _solves(*args)
        assert calls, "the compiled loop did not run"
        mp.setattr(passes, "picard_takes", lambda *a: False)
        numpy_loop = _solves(*args)
    assert [_bits(x) for x in compiled] == [_bits(x) for x in numpy_loop]


def test_compiled_picard_loop_is_left_out_where_numpy_sums_differently() -> None:
    """One column (NumPy's einsum then sums the column unrolled) and Fortran-ordered starts go to the NumPy loop."""
    A = np.eye(8)
    assert not passes.picard_takes(A, np.ones((8, 1)))
    assert not passes.picard_takes(A, np.asfortranarray(np.ones((8, 3))))
    assert not passes.picard_takes(A, np.ones((8, 3)), np.ones((8, 2)))
    assert passes.picard_takes(A, np.ones((8, 3)), np.ones((8, 3)))


def _numpy_update(G, c, eta, a, A0):
    """The four NumPy statements passes.descend replaces: (a + η·(c·G), A0 + that)."""
    F = G * c
    F *= eta
    new_a = a + F
    return new_a, A0 + new_a


@given(m=st.integers(1, 60), seed=st.integers(0, 2**32 - 1), order=st.sampled_from("CF"))
def test_theory_descend_is_the_numpy_update_bit_for_bit(m: int, seed: int, order: str) -> None:
    """passes.descend against the four NumPy statements it replaces (the gradient-descent step): equal bits."""
    rng = np.random.default_rng(seed)
    G, a, A0 = (np.asarray(rng.standard_normal((m, m)) * 10.0 ** rng.integers(-8, 3, (m, m)), order=order)
                for _ in range(3))
    c, eta = -float(rng.uniform(1e-4, 1.0)), float(rng.uniform(1e-3, 1e3))
    expected_a, expected_A = _numpy_update(G, c, eta, a, A0)
    got_A = passes.descend(G, c, eta, a, A0)
    assert np.array_equal(a, expected_a) and np.array_equal(got_A, expected_A)


def test_theory_descend_rejects_mismatched_arrays() -> None:
    a = np.zeros((4, 4))
    with pytest.raises(ShapeError, match="G must be float64 of shape"):
        passes.descend(np.zeros((4, 3)), -1.0, 1.0, a, np.zeros((4, 4)))
    with pytest.raises(ShapeError, match="A0 must be float64"):
        passes.descend(np.zeros((4, 4)), -1.0, 1.0, a, np.zeros((4, 4), dtype=np.float32))


# ------------------------------------------------------------ the float32 start of wide solves (m ≥ MIXED_MIN_M)
# Oracle: the float64 loop alone.  Each result is within its own a-posteriori bound of the fixed point x*, up to
# the rounding of one float64 step, ≤ (m + 2)ε/(1 − q)·‖x‖ (checks/model/tol.py's floor); so the two results
# differ by at most the sum of both bounds plus twice that floor, per column (derived, not tuned).
@pytest.fixture(scope="module")
def wide() -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(20261203)
    m = passes.MIXED_MIN_M + 3  # not a multiple of 4: the kernels' remainder rows run too
    A = np.ascontiguousarray(rng.standard_normal((m, m)))
    import scipy.linalg

    return A, float(scipy.linalg.svdvals(A)[0])


def _wide(A, norm, kind, n, seed, q, mp, mixed=True):
    """One forward or adjoint solve on s·A with ‖s·A‖₂ = q, with or without the float32 phase."""
    m = A.shape[0]
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((m, n))
    Dm = None if kind == "forward" else (rng.random((m, n)) < 0.5).astype(float)
    X0 = np.ascontiguousarray(np.maximum(C, 0.0) if kind == "forward" else C)
    mp.setattr(passes, "MIXED_MIN_M", passes.MIXED_MIN_M if mixed else m + 1)
    X, k, bound, history, ok = passes.picard(A, C, Dm, X0, q / norm, q / (1 - q), 1e-11, 400,
                                             np.linalg.norm(C, axis=0))
    assert ok and len(history) == k
    return X, bound


@pytest.mark.parametrize("kind", ["forward", "adjoint"])
@pytest.mark.parametrize("n,seed,q", [(2, 1, 0.25), (6, 2, 0.5), (9, 3, 0.9)])
def test_wide_solves_start_in_float32_and_keep_the_float64_certificate(wide, kind, n, seed, q) -> None:
    """The float32 phase runs (at least one float32 iteration) and the result agrees with the float64 loop's
    within both certificates; the float32 iterate handed over does not (control: the comparison can fail)."""
    A, norm = wide
    m = A.shape[0]
    phases = []
    real = passes._single_phase
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passes, "_single_phase", lambda *a: phases.append(real(*a)) or phases[-1])
        X, bound = _wide(A, norm, kind, n, seed, q, mp)
        assert len(phases) == 1 and phases[0][1] >= 1 and phases[0][3], "the float32 phase did not run"
        X64, bound64 = _wide(A, norm, kind, n, seed, q, mp, mixed=False)
        assert len(phases) == 1, "the float32 phase ran below MIXED_MIN_M"
    floor = 2 * (m + 2) * EPS / (1 - q) * np.linalg.norm(X64, axis=0)
    allowed = bound + bound64 + floor
    assert np.all(np.linalg.norm(X - X64, axis=0) <= allowed)
    handed_over = phases[0][0]
    assert np.any(np.linalg.norm(handed_over - X64, axis=0) > allowed), "control: the float32 iterate passed"


def test_wide_solve_discards_an_overflowing_float32_phase(wide) -> None:
    """A start beyond float32's range overflows the float32 phase, which is then dropped: the float64 loop
    starts from the caller's start, so the result is the float64 loop's bit for bit."""
    A, norm = wide
    m, n = A.shape[0], 3
    rng = np.random.default_rng(7)
    C = rng.standard_normal((m, n))
    X0 = np.full((m, n), 1e39)
    args = (A, C, None, X0, 0.5 / norm, 1.0, 1e-11, 400, np.linalg.norm(C, axis=0))
    mixed = passes.picard(*args)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passes, "MIXED_MIN_M", m + 1)
        alone = passes.picard(*args)
    assert np.array_equal(mixed[0], alone[0]) and np.array_equal(mixed[2], alone[2])
    assert mixed[1] == alone[1] and mixed[3] == alone[3] and mixed[4] == alone[4]


def test_single_converts_once_per_matrix_and_descend_writes_the_copy() -> None:
    """passes.single: one float32 copy per matrix object (equilibrium and adjoint share it), a new one for a
    new matrix; at MIXED_MIN_M descend writes that copy in its sweep, equal to A.astype(float32) bit for bit,
    and A itself is still the NumPy update bit for bit."""
    rng = np.random.default_rng(3)
    m = passes.MIXED_MIN_M
    A = rng.standard_normal((m, m))
    first = passes.single(A)
    assert passes.single(A) is first and np.array_equal(first, A.astype(np.float32))
    B = A.copy()
    assert passes.single(B) is not first
    G, a, A0 = (rng.standard_normal((m, m)) for _ in range(3))
    c, eta = -0.3, 2.0
    expected_a, expected_A = _numpy_update(G, c, eta, a, A0)
    got = passes.descend(G, c, eta, a, A0)
    assert np.array_equal(a, expected_a) and np.array_equal(got, expected_A)
    copy = passes.single(got)
    assert copy.dtype == np.float32 and np.array_equal(copy, got.astype(np.float32))
    assert passes._single_copy[1] is copy  # written by descend, not converted again


def test_shifted_is_numpy_addition_and_writes_the_float32_copy() -> None:
    """passes.shifted(A0, ΔA), the flow's A(0) + ΔA: NumPy's ``A0 + dA`` bit for bit below and from MIXED_MIN_M
    on, where its sweep also writes the float32 copy that single() then hands out (equal to
    A.astype(float32) bit for bit); mismatched shapes or dtypes are a ShapeError."""
    rng = np.random.default_rng(5)
    for m in (passes.MIXED_MIN_M - 1, passes.MIXED_MIN_M + 3):
        A0, dA = rng.standard_normal((m, m)), 1e-3 * rng.standard_normal((m, m))
        A = passes.shifted(A0, dA)
        assert A.dtype == np.float64 and np.array_equal(A, A0 + dA)
        if m >= passes.MIXED_MIN_M:
            copy = passes._single_copy[1]
            assert passes.single(A) is copy and np.array_equal(copy, A.astype(np.float32))
    with pytest.raises(ShapeError):
        passes.shifted(A0, dA[:, :-1])
    with pytest.raises(ShapeError):
        passes.shifted(A0, dA.astype(np.float32))


def _outer_case(m: int, n: int, seed: int):
    rng = np.random.default_rng(seed)
    L, R = rng.standard_normal((m, n)), rng.standard_normal((m, n))
    a, A0 = rng.standard_normal((m, m)), rng.standard_normal((m, m))
    return L, R, a, A0, -float(rng.uniform(1e-4, 1.0)), float(rng.uniform(1e-3, 1e3))


def _outer_bound(L, R, c, eta, a_new, A_new):
    """Two n-term sums of (cη)·L·Rᵀ differ by ≤ 2γ_{n+1}·|cη|·|L||R|ᵀ (the +1: the product c·η); the sums
    a + f and A0 + a then round once each, ≤ ε|a| and ε|A| (plus the difference carried from a)."""
    n = L.shape[1]
    g = (n + 1) * EPS / (1 - (n + 1) * EPS)
    df = 2 * g * abs(c * eta) * (np.abs(L) @ np.abs(R).T)
    da = df * (1 + EPS) + 2 * EPS * np.abs(a_new)
    return da, da * (1 + EPS) + 2 * EPS * np.abs(A_new)


@given(m=st.integers(1, 60), n=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_theory_descend_outer_is_descend_without_the_gradient_matrix(m: int, n: int, seed: int) -> None:
    """passes.descend_outer(L, R, …) against descend(L @ Rᵀ, …): within the n-term rounding bound, entrywise;
    the control (the update with η off by one part in 10⁶) lies outside it."""
    L, R, a, A0, c, eta = _outer_case(m, n, seed)
    a1, a2, a3 = a.copy(), a.copy(), a.copy()
    A1 = passes.descend(L @ R.T, c, eta, a1, A0)
    A2 = passes.descend_outer(L, R, c, eta, a2, A0)
    da, dA = _outer_bound(L, R, c, eta, a1, A1)
    assert np.all(np.abs(a1 - a2) <= da) and np.all(np.abs(A1 - A2) <= dA)
    A3 = passes.descend_outer(L, R, c, eta * (1 + 1e-6), a3, A0)
    assert np.any(np.abs(A1 - A3) > dA), "control: a wrong step size passed"


def test_theory_descend_outer_writes_the_float32_copy_and_rejects_bad_shapes() -> None:
    m = passes.MIXED_MIN_M
    L, R, a, A0, c, eta = _outer_case(m, 6, 11)
    a1, a2 = a.copy(), a.copy()
    A1 = passes.descend(L @ R.T, c, eta, a1, A0)
    A2 = passes.descend_outer(L, R, c, eta, a2, A0)
    da, dA = _outer_bound(L, R, c, eta, a1, A1)
    assert np.all(np.abs(a1 - a2) <= da) and np.all(np.abs(A1 - A2) <= dA)
    assert passes._single_copy[1] is passes.single(A2) and np.array_equal(passes.single(A2), A2.astype(np.float32))
    with pytest.raises(ShapeError, match="L must be"):
        passes.descend_outer(L[:, :3], R, c, eta, a, A0)
    with pytest.raises(ShapeError, match="a and A0 must be float64"):
        passes.descend_outer(L, R, c, eta, a, A0.astype(np.float32))
