"""Bad input gets a clear, typed error (never a silent wrong number).

This is a test of our code, not of the paper: each case names the error class and a
fragment of the message that tells the user the quantity and the remedy.
"""

from __future__ import annotations

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
    assert info.value.q == pytest.approx(1.5, rel=1e-12)


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


@pytest.mark.parametrize("case", ["A_not_square", "W_rows", "u_len", "X_cols", "X_empty", "Z0", "Delta"])
def test_wrong_shapes(case):
    net = _net()
    X, _ = _data()
    with pytest.raises(theory.ShapeError):
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
    with pytest.raises(theory.InputError):
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
    with pytest.raises(theory.ConvergenceError, match="adjoint"):
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
    with pytest.raises(theory.InputError, match="scheme"):
        _net(scheme="uniform")
    with pytest.raises(theory.InputError, match="rule"):
        _net(gamma_rule="gamma0")
    with pytest.raises(theory.InputError, match="activation"):
        _net(phi="sigmoid")
