"""Bad input gets a clear, typed error (never a silent wrong number).

This is a test of our code, not of the paper: each case names the error class and a
fragment of the message that tells the user the quantity and the remedy.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import theory
from theory import derivatives as dv


def _net(m=6, d=3, seed=0, **kw):
    return theory.init_network(m, d, rng=np.random.default_rng(seed), **kw)


def _data(n=4, d=3, seed=1):
    return theory.make_data(n, d, np.random.default_rng(seed))


def test_non_contractive_gamma_reports_measured_q():
    net = _net()
    with pytest.raises(theory.NonContractiveError, match=r"γ‖A‖₂/√m = 1\.5") as info:
        theory.Network(A=net.A, W=net.W, u=net.u, gamma=1.5 * np.sqrt(net.m) / theory.spectral_norm(net.A))
    assert info.value.q == pytest.approx(1.5, rel=1e-12, abs=0)


@pytest.mark.parametrize("gamma0", [1.0, 1.3, 0.0, -0.2])
def test_gamma0_outside_unit_interval(gamma0):
    with pytest.raises(theory.NonContractiveError, match="γ₀ must lie in"):
        _net(gamma0=gamma0)


def test_declared_gamma0_is_enforced():
    net = _net()
    with pytest.raises(theory.NonContractiveError):
        theory.Network(A=net.A, W=net.W, u=net.u, gamma=net.gamma, gamma0=net.q * 0.9)


@pytest.mark.parametrize("field", ["A", "W", "u"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_parameters(field, bad):
    net = _net()
    arr = getattr(net, field).copy()
    arr.flat[0] = bad
    kw = {"A": net.A, "W": net.W, "u": net.u, "gamma": net.gamma, field: arr}
    with pytest.raises(theory.NonFiniteError, match=f"{field} holds 1 non-finite"):
        theory.Network(**kw)


def test_non_finite_data_and_labels():
    net = _net()
    X, y = _data()
    X[1, 0] = np.nan
    with pytest.raises(theory.NonFiniteError, match="X holds"):
        theory.solve_equilibrium(net, X)
    from theory._validate import check_labels

    y[0] = np.inf
    with pytest.raises(theory.NonFiniteError, match="y holds"):
        check_labels(y, 4)


def test_labels_out_of_range():
    from theory._validate import check_labels

    with pytest.raises(theory.LabelRangeError, match=r"\|y_i\| ≤ 1"):
        check_labels(np.array([0.5, 1.5]), 2)
    np.testing.assert_array_equal(check_labels(np.array([1.0, -1.0]), 2), [1.0, -1.0])  # the boundary is allowed
    assert check_labels(np.array([]), 0).shape == (0,)


def test_labels_shape():
    from theory._validate import check_labels

    with pytest.raises(theory.ShapeError, match=r"y must be 1-dimensional, got shape \(2, 1\)"):
        check_labels(np.zeros((2, 1)), 2)
    with pytest.raises(theory.ShapeError, match=r"y must have shape \(3,\) to match X, got \(2,\)"):
        check_labels(np.zeros(2), 3)


SHAPE_MESSAGES = {
    "A_not_square": r"A must be a non-empty square m×m matrix, got shape \(6, 5\)",
    "W_rows": r"W must be m×d = 6×d with d ≥ 1, got shape \(5, 3\)",
    "u_len": r"u must have shape \(6,\), got \(5,\)",
    "X_cols": "X has 4 columns but W expects d = 3",
    "X_empty": r"X must hold at least one sample \(n ≥ 1\)",
    "Z0": r"warm start Z0 must be m×n = \(6, 4\), got \(6, 1\)",
    "Delta": r"direction Δ must be m×m = 6×6, got \(2, 2\)",
}


@pytest.mark.parametrize("case", list(SHAPE_MESSAGES))
def test_wrong_shapes(case):
    net = _net()
    X, _ = _data()
    with pytest.raises(theory.ShapeError, match=SHAPE_MESSAGES[case]):
        if case == "A_not_square":
            theory.Network(A=net.A[:, :-1], W=net.W, u=net.u, gamma=net.gamma)
        elif case == "W_rows":
            theory.Network(A=net.A, W=net.W[:-1], u=net.u, gamma=net.gamma)
        elif case == "u_len":
            theory.Network(A=net.A, W=net.W, u=net.u[:-1], gamma=net.gamma)
        elif case == "X_cols":
            theory.solve_equilibrium(net, theory.normalize_rows(np.ones((3, 4))))
        elif case == "X_empty":
            theory.solve_equilibrium(net, np.zeros((0, 3)))
        elif case == "Z0":
            theory.solve_equilibrium(net, X, Z0=np.zeros((net.m, 1)))
        elif case == "Delta":
            eq = theory.solve_equilibrium(net, X)
            dv.dz_directional(net, eq, np.zeros((2, 2)))


def test_non_unit_rows_name_the_row():
    net = _net()
    X, _ = _data()
    X[2] *= 1.001
    with pytest.raises(theory.NonUnitDataError, match=r"row 2 of X has norm 1\.000999") as info:
        theory.solve_equilibrium(net, X)
    assert info.value.worst_row == 2


@pytest.mark.parametrize("m,n", [(0, 3), (3, 0)])
def test_sizes_below_one(m, n):
    with pytest.raises(theory.InputError, match=f"width m must be ≥ 1, got {m}" if m < 1 else
                       f"number of samples n must be ≥ 1, got {n}"):
        if m < 1:
            _net(m=m)
        else:
            theory.make_data(n, 3, np.random.default_rng(0))


def test_solver_not_converged_carries_history():
    net = _net(gamma0=0.9, gamma_rule="gamma0/c")
    X, _ = _data()
    with pytest.raises(theory.ConvergenceError, match="did not converge in 2 iterations") as info:
        theory.solve_equilibrium(net, X, maxiter=2)
    assert len(info.value.history) == 2 and info.value.history[-1] > info.value.target


def test_adjoint_not_converged():
    net = _net(gamma0=0.9, gamma_rule="gamma0/c")
    X, _ = _data()
    eq = theory.solve_equilibrium(net, X)
    with pytest.raises(theory.ConvergenceError, match="adjoint v = D Qᵀ u did not converge in 1 iterations"):
        theory.solve_adjoint(net, eq, maxiter=1)


def test_singular_gram_for_parallel_inputs():
    net = _net(m=16)
    X, _ = _data(n=3)
    X[2] = X[0]  # duplicate input: H has two equal rows
    eq = theory.solve_equilibrium(net, X)
    H = theory.gram(net, eq, theory.solve_adjoint(net, eq).V)
    with pytest.raises(theory.SingularGramError, match="parallel"):
        theory.lambda0(H)


def test_unknown_names():
    with pytest.raises(theory.InputError, match="unknown initialisation scheme 'uniform'; choose one of"):
        _net(scheme="uniform")
    with pytest.raises(theory.InputError, match="unknown γ rule 'gamma0'; choose one of"):
        _net(gamma_rule="gamma0")
    with pytest.raises(theory.InputError, match="unknown activation φ = 'sigmoid'; choose one of"):
        _net(phi="sigmoid")
    with pytest.raises(theory.InputError, match="unknown activation φ = 'sigmoid'; choose one of"):
        theory.phi_fn("sigmoid", np.zeros(2))


@pytest.mark.parametrize("gamma", [0.0, -1.0, np.nan, np.inf])
def test_gamma_must_be_positive_and_finite(gamma):
    net = _net()
    with pytest.raises(theory.InputError, match="γ must be a positive finite number"):
        theory.Network(A=net.A, W=net.W, u=net.u, gamma=gamma)


@pytest.mark.parametrize("gamma0", [1.0, 1.2, 0.0])
def test_declared_gamma0_outside_unit_interval(gamma0):
    net = _net()
    with pytest.raises(theory.NonContractiveError, match=r"declared γ₀ must lie in \(0, 1\)") as info:
        theory.Network(A=net.A, W=net.W, u=net.u, gamma=net.gamma, gamma0=gamma0)
    assert info.value.q == gamma0 and info.value.limit == 1.0


def test_declared_gamma0_allows_its_own_rounding():
    """γ = γ₀/c reproduces q = γ₀ only to rounding: the check allows γ₀·(1 + 1e-12), not more."""
    net = _net()
    q = net.gamma * theory.spectral_norm(net.A) / np.sqrt(net.m)
    theory.Network(A=net.A, W=net.W, u=net.u, gamma=net.gamma, gamma0=q * (1 - 1e-13))
    with pytest.raises(theory.NonContractiveError):
        theory.Network(A=net.A, W=net.W, u=net.u, gamma=net.gamma, gamma0=q * (1 - 1e-11))


def test_all_zero_row_cannot_be_normalised():
    with pytest.raises(theory.InputError, match="X has an all-zero row"):
        theory.normalize_rows(np.array([[1.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(np.linalg.norm(theory.normalize_rows(np.array([[3.0, 4.0]])), axis=1), 1.0, rtol=1e-15)


def test_spectral_norm_dense_and_lanczos_paths():
    """Above DENSE_NORM_MAX_M the norm comes from ARPACK (relative error ≤ 1e-12, documented)."""
    from theory.model import DENSE_NORM_MAX_M

    m = DENSE_NORM_MAX_M + 6
    d = np.linspace(0.1, 3.7, m)
    rng = np.random.default_rng(0)
    Qm, _ = np.linalg.qr(rng.standard_normal((m, m)))
    A = Qm * d  # singular values are d: ‖A‖₂ = 3.7
    assert theory.spectral_norm(A) == pytest.approx(3.7, rel=1e-12, abs=0)
    assert theory.spectral_norm(A[:5, :5]) == pytest.approx(np.linalg.norm(A[:5, :5], 2), rel=1e-14, abs=0)
    assert theory.spectral_norm(np.zeros((0, 0))) == 0.0


def test_default_iteration_budget():
    """Budget = 2·log(rtol(1 − q))/log q + 200 (twice the a-priori count plus slack), capped."""
    from theory.equilibrium import MAX_ITER_CAP, _max_iter

    for q in (0.1, 0.5, 0.9, 0.99):
        k = np.log(1e-13 * (1 - q)) / np.log(q)
        assert 2 * k + 199 <= _max_iter(q, 1e-13) <= 2 * k + 200
    assert _max_iter(1 - 1e-9, 1e-13) == MAX_ITER_CAP
    assert _max_iter(0.0, 1e-13) == 202  # q = 0: one step is exact; the floor is max(k, 1)


@pytest.mark.parametrize("field,bad,msg", [("A", np.ones(6), "A must be 2-dimensional"),
                                           ("W", np.ones(6), "W must be 2-dimensional"),
                                           ("u", np.ones((6, 1)), "u must be 1-dimensional")])
def test_parameter_dimensions(field, bad, msg):
    net = _net()
    kw = {"A": net.A, "W": net.W, "u": net.u, "gamma": net.gamma, field: bad}
    with pytest.raises(theory.ShapeError, match=msg):
        theory.Network(**kw)


def test_given_q_is_checked_against_its_limit():
    """A q passed in (to skip the O(m³) norm) is held to the same limits: q < 1, q ≤ γ₀(1 + 1e-12)."""
    net = _net()
    with pytest.raises(theory.NonContractiveError, match=r"γ‖A‖₂/√m = 1 ≥ 1") as info:
        theory.Network(A=net.A, W=net.W, u=net.u, gamma=net.gamma, q=1.0)
    assert info.value.q == 1.0 and info.value.limit == 1.0
    with pytest.raises(theory.NonContractiveError) as info:
        theory.Network(A=net.A, W=net.W, u=net.u, gamma=net.gamma, gamma0=0.5, q=0.6)
    assert info.value.q == 0.6 and info.value.limit == 0.5 * (1 + 1e-12)


# ---- full messages (anchored), so a reworded or emptied message is caught

def test_messages_are_anchored():
    net = _net()
    X, _ = _data()
    cases = [
        (lambda: theory.normalize_rows(np.array([[np.nan, 1.0]])), theory.NonFiniteError,
         r"^X holds 1 non-finite value\(s\) \(NaN or inf\) out of 2; "),
        (lambda: theory.normalize_rows(np.ones(3)), theory.ShapeError, r"^X must be 2-dimensional, got shape \(3,\)$"),
        (lambda: theory.normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]])), theory.InputError,
         r"^X has an all-zero row, which cannot be scaled to unit norm$"),
        (lambda: theory.lambda_min(np.array([[1.0, np.nan], [0.0, 1.0]])), theory.NonFiniteError, r"^H holds 1 non-finite"),
        (lambda: theory.lambda_min(np.ones(3)), theory.ShapeError, r"^H must be 2-dimensional"),
        (lambda: theory.input_features(net, np.ones(3)), theory.ShapeError, r"^X must be 2-dimensional"),
        (lambda: theory.input_features(net, np.array([[np.inf, 0.0, 0.0]])), theory.NonFiniteError, r"^X holds 1 "),
        (lambda: theory.input_features(net, np.zeros((0, 3))), theory.ShapeError,
         r"^X must hold at least one sample \(n ≥ 1\)$"),
        (lambda: theory.solve_equilibrium(net, X, Z0=np.full((6, 4), np.nan)), theory.NonFiniteError, r"^Z0 holds 24 "),
        (lambda: theory.solve_equilibrium(net, X, Z0=np.zeros(6)), theory.ShapeError, r"^Z0 must be 2-dimensional"),
        (lambda: theory.picard_path(net, X, 1, Z0=np.full((6, 4), np.nan)), theory.NonFiniteError, r"^Z0 holds 24 "),
        (lambda: theory.picard_path(net, X, 1, Z0=np.zeros(6)), theory.ShapeError, r"^Z0 must be 2-dimensional"),
        (lambda: theory.solve_equilibrium(net, X, maxiter=1), theory.ConvergenceError,
         r"^equilibrium \(Picard\) did not converge in 1 iterations"),
        (lambda: theory.Network(A=net.A, W=net.W, u=net.u, gamma=net.gamma, gamma0=1.2), theory.NonContractiveError,
         r"^non-contractive implicit layer \(declared γ₀ must lie in \(0, 1\)\): measured"),
        (lambda: theory.gamma_from_rule(np.zeros((3, 3)), 0.5, "gamma0/c"), theory.InputError,
         r"^A\(0\) = 0: c = ‖A‖₂/√m vanishes, γ₀/c is undefined$"),
        (lambda: theory.phi_fn("sigmoid", np.zeros(2)), theory.InputError,
         r"^unknown activation φ = 'sigmoid'; choose one of \('relu', 'tanh'\)$"),
    ]
    for fn, cls, pattern in cases:
        with pytest.raises(cls) as info:
            fn()
        assert re.search(pattern, str(info.value)), (pattern, str(info.value))


def test_as_finite_returns_float_arrays():
    from theory._validate import as_finite

    a = as_finite("a", [[1, 2], [3, 4]])
    assert a.dtype == np.float64
    net = _net()
    as_int = theory.Network(A=net.A.tolist(), W=net.W.tolist(), u=net.u.astype(int), gamma=net.gamma)
    for name in ("A", "W", "u"):  # stored validated, as float arrays, not as given
        assert isinstance(getattr(as_int, name), np.ndarray) and getattr(as_int, name).dtype == np.float64
    assert isinstance(as_int.q, float)


def test_input_features_check_unit_rows_by_default():
    net = _net()
    X, _ = _data()
    with pytest.raises(theory.NonUnitDataError):
        theory.input_features(net, 2 * X)
    B = theory.input_features(net, 2 * X, unit=False)
    np.testing.assert_allclose(B, np.maximum(net.W @ (2 * X).T, 0), rtol=1e-15)
    eq = theory.solve_equilibrium(net, 2 * X, unit=False)  # non-unit data on request
    assert eq.Z.shape == (6, 4)


def test_a_false_contraction_certificate_ends_in_a_convergence_error():
    """q passed in is trusted for speed; if it is false (here A is 10¹⁰ times larger than the
    certificate says), Picard diverges: the overflow must end in ConvergenceError, not garbage."""
    net = _net()
    X, _ = _data()
    liar = theory.Network(A=1e10 * net.A, W=net.W, u=net.u, gamma=net.gamma, q=0.5)
    with pytest.raises(theory.ConvergenceError, match="equilibrium") as info, np.errstate(over="ignore", invalid="ignore"):
        theory.solve_equilibrium(liar, X)
    assert len(info.value.history) < 50  # stopped at the overflow, not at the iteration budget
