"""Unit tests of the reference model's initialisations and solvers (our code, not the paper).

Added where mutation testing (``nox -s mutants``) showed a behaviour that no claim check pinned
down: the γ rules' exact contraction constants, the Rademacher draws, the mirrored zero-output
start, warm starts and the solver results' bookkeeping.  Tolerances: q = γ‖A‖₂/√m is recomputed
from the same SVD, so it agrees with γ₀ (or γ₀/2) to a few ulp; 1e-12 relative leaves room for
the division and the √m.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import theory
from theory import derivatives as dv
from theory import model
from theory.equilibrium import DEFAULT_RTOL

RTOL_Q = 1e-12  # q recomputed from the same singular value: a few ulp


def _X(n=4, d=3, seed=1):
    return theory.make_data(n, d, np.random.default_rng(seed))[0]


@pytest.mark.parametrize("rule,factor", [("gamma0/c", 1.0), ("gamma0/2c", 0.5)])
@pytest.mark.parametrize("scheme", ["gaussian", "rademacher", "halfnormal_1/m"])
def test_gamma_rules_set_the_contraction_constant(rule, factor, scheme):
    """'gamma0/c' gives γ‖A‖₂/√m = γ₀ exactly, 'gamma0/2c' gives γ₀/2 (c = ‖A(0)‖₂/√m)."""
    net = theory.init_network(7, 3, scheme=scheme, gamma0=0.6, gamma_rule=rule, rng=np.random.default_rng(3))
    assert net.q == pytest.approx(0.6 * factor, rel=RTOL_Q, abs=0)
    assert net.gamma0 == 0.6  # the declared γ₀ is kept (and enforced) for the γ₀ rules
    assert net.gamma == pytest.approx(0.6 * factor * np.sqrt(7) / theory.spectral_norm(net.A), rel=RTOL_Q, abs=0)


def test_fixed_gamma_is_gamma0_itself_and_undeclared():
    """'fixed' is the Section 5 reading: γ is the constant given, any positive value (no γ₀ < 1)."""
    A = model.init_A(5, "halfnormal_1/m", np.random.default_rng(0))
    assert model.gamma_from_rule(A, 1.5, "fixed") == 1.5
    net = theory.init_network(5, 2, scheme="halfnormal_1/m", gamma0=0.3, gamma_rule="fixed",
                              rng=np.random.default_rng(0))
    assert net.gamma == 0.3 and net.gamma0 is None


@pytest.mark.parametrize("gamma0", [1.0, 1.5, 0.0, -0.1])
def test_gamma_rule_rejects_gamma0_outside_the_unit_interval(gamma0):
    A = np.eye(3)
    with pytest.raises(theory.NonContractiveError, match=re.escape("(γ₀ must lie in (0, 1))")) as info:
        model.gamma_from_rule(A, gamma0, "gamma0/c")
    assert info.value.q == gamma0 and info.value.limit == 1.0


def test_gamma_rule_rejects_a_zero_A():
    with pytest.raises(theory.InputError, match=re.escape("A(0) = 0: c = ‖A‖₂/√m vanishes, γ₀/c is undefined")):
        model.gamma_from_rule(np.zeros((3, 3)), 0.5, "gamma0/2c")


def test_rademacher_draws_are_signs_of_both_kinds():
    rng = np.random.default_rng(0)
    S = model._draw("rademacher", rng, (40, 40))
    assert set(np.unique(S)) == {-1.0, 1.0}
    # 1600 fair signs: |mean| ≤ 4.5/√1600 = 0.11 except with probability < 1e-5
    assert abs(S.mean()) < 0.11
    with pytest.raises(theory.InputError, match="unknown sub-Gaussian scheme 'uniform'"):
        model._draw("uniform", rng, (2, 2))


@pytest.mark.parametrize("scheme", ["gaussian", "rademacher", "halfnormal", "halfnormal_1/m", "diag_halfnormal"])
def test_input_layer_follows_the_scheme(scheme):
    """W is ±1 for the Rademacher scheme and Gaussian (not ±1) for every other scheme."""
    net = theory.init_network(6, 4, scheme=scheme, gamma0=0.5, rng=np.random.default_rng(1))
    signs = set(np.unique(net.W)) <= {-1.0, 1.0}
    assert signs == (scheme == "rademacher")
    assert set(np.unique(net.u)) == {-1.0, 1.0}


def test_input_dimension_below_one_is_refused():
    with pytest.raises(theory.InputError, match="input dimension d must be ≥ 1, got 0"):
        theory.init_network(4, 0, rng=np.random.default_rng(0))


@pytest.mark.parametrize("scheme", ["gaussian", "rademacher"])
@pytest.mark.parametrize("phi", ["relu", "tanh"])
@pytest.mark.parametrize("rule,factor", [("gamma0/c", 1.0), ("gamma0/2c", 0.5)])
def test_zero_output_start_is_a_mirror(scheme, phi, rule, factor):
    """A(0) = diag(A₁, A₁), W = [W₁; W₁], u = [u₁; −u₁]: z = [z₁; z₁] and f(0) ≡ 0 at every input;
    ‖A(0)‖₂ = ‖A₁‖₂, so the γ rule gives the same q as for the half."""
    m, d = 8, 3
    net = theory.init_network_zero_output(m, d, scheme=scheme, gamma0=0.6, gamma_rule=rule, phi=phi,
                                          rng=np.random.default_rng(5))
    h = m // 2
    A1 = net.A[:h, :h]
    np.testing.assert_array_equal(net.A[h:, h:], A1)
    assert not net.A[:h, h:].any() and not net.A[h:, :h].any()
    np.testing.assert_array_equal(net.W[h:], net.W[:h])
    np.testing.assert_array_equal(net.u[h:], -net.u[:h])
    assert (set(np.unique(A1)) <= {-1.0, 1.0}) == (scheme == "rademacher")
    assert net.phi == phi and net.gamma0 == 0.6
    assert net.q == pytest.approx(0.6 * factor, rel=RTOL_Q, abs=0)
    eq = theory.solve_equilibrium(net, _X(d=d))
    np.testing.assert_array_equal(eq.Z[h:], eq.Z[:h])  # same block, same input, same iterates
    assert np.abs(theory.output(net, eq.Z)).max() <= 4 * np.finfo(float).eps * np.abs(eq.Z).sum()
    assert np.abs(eq.Z).max() > 0  # not trivially zero


def test_zero_output_start_with_fixed_gamma_and_odd_widths():
    net = theory.init_network_zero_output(4, 2, scheme="gaussian", gamma0=0.2, gamma_rule="fixed",
                                          rng=np.random.default_rng(0))
    assert net.gamma == 0.2 and net.gamma0 is None
    theory.init_network_zero_output(2, 2, rng=np.random.default_rng(0))  # the smallest even width
    for m in (0, 3):
        with pytest.raises(theory.InputError, match=f"even width m ≥ 2, got {m}"):
            theory.init_network_zero_output(m, 2, rng=np.random.default_rng(0))


def test_with_A_drops_the_declared_gamma0_and_remeasures_q():
    net = theory.init_network(5, 2, gamma0=0.5, gamma_rule="gamma0/c", rng=np.random.default_rng(2))
    net2 = net.with_A(0.5 * net.A)
    assert net2.gamma0 is None and net2.q == pytest.approx(0.25, rel=RTOL_Q, abs=0)
    assert net.with_A(net.A, q=0.123).q == 0.123


def test_picard_path_starts_where_told_and_follows_the_map():
    net = theory.init_network(6, 3, gamma0=0.5, rng=np.random.default_rng(0))
    X = _X()
    path = theory.picard_path(net, X, 3)
    B = theory.input_features(net, X)
    assert not path[0].any()
    np.testing.assert_array_equal(path[1], np.maximum(B, 0.0))  # one step from z = 0 is σ(φ(Wx))
    Z0 = np.full(B.shape, 0.7)
    warm = theory.picard_path(net, X, 1, Z0=Z0)
    np.testing.assert_array_equal(warm[0], Z0)
    np.testing.assert_array_equal(warm[1], np.maximum(net.s * (net.A @ Z0) + B, 0.0))
    with pytest.raises(theory.ShapeError, match="start Z0 must be m×n"):
        theory.picard_path(net, X, 1, Z0=Z0[:, :1])


def test_solver_results_carry_their_certificates():
    """Iterations and a-posteriori bounds are returned (per sample), and a warm start at the
    solution is confirmed in one step."""
    net = theory.init_network(6, 3, gamma0=0.6, gamma_rule="gamma0/c", rng=np.random.default_rng(4))
    X = _X()
    eq = theory.solve_equilibrium(net, X)
    adj = theory.solve_adjoint(net, eq)
    # the stopping rule: bound_i ≤ rtol·max(‖x_i‖, ‖input_i‖), input φ(Wx_i) resp. u
    for res, sol, inp in ((eq, eq.Z, np.linalg.norm(eq.B, axis=0)), (adj, adj.Wa, np.linalg.norm(net.u))):
        assert isinstance(res.iterations, int) and res.iterations > 1
        assert res.error_bound.shape == (X.shape[0],)
        assert (res.error_bound <= DEFAULT_RTOL * np.maximum(np.linalg.norm(sol, axis=0), inp)).all()
    again = theory.solve_adjoint(net, eq, W0=adj.Wa)
    assert again.iterations <= 2 < adj.iterations
    # both within the target of the same fixed point: |Δ| ≤ 2·DEFAULT_RTOL·max(‖w‖, ‖u‖)
    np.testing.assert_allclose(again.V, adj.V, rtol=0, atol=2 * DEFAULT_RTOL * max(np.linalg.norm(adj.Wa), np.sqrt(6)))


def test_forward_passes_solver_options_through():
    net = theory.init_network(6, 3, gamma0=0.9, gamma_rule="gamma0/c", rng=np.random.default_rng(4))
    with pytest.raises(theory.ConvergenceError, match="did not converge in 1 iterations"):
        theory.forward(net, _X(), maxiter=1)


def test_directional_derivative_budget_and_message():
    net = theory.init_network(6, 3, gamma0=0.9, gamma_rule="gamma0/c", rng=np.random.default_rng(4))
    eq = theory.solve_equilibrium(net, _X())
    with pytest.raises(theory.ConvergenceError, match=re.escape("directional derivative dz did not converge")):
        dv.dz_directional(net, eq, np.ones((6, 6)), maxiter=1)


def test_make_data_labels_are_uniform_on_the_interval():
    X, y = theory.make_data(4000, 3, np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-15)
    assert np.abs(y).max() <= 1.0
    # U(−1, 1): mean 0 and variance 1/3; with n = 4000 the standard errors are 0.009 and 0.0047,
    # so 5 SE: |mean| ≤ 0.046, |var − 1/3| ≤ 0.024; both tails reached
    assert abs(y.mean()) < 0.046 and abs(y.var() - 1 / 3) < 0.024
    assert y.min() < -0.99 and y.max() > 0.99


def test_zero_output_start_with_a_fixed_gamma_above_one():
    """'fixed' takes γ as given, even γ ≥ 1 (Section 5 scales A instead); the mirror keeps it."""
    net = theory.init_network_zero_output(8, 3, scheme="halfnormal_1/m", gamma0=1.2, gamma_rule="fixed",
                                          rng=np.random.default_rng(0))
    assert net.gamma == 1.2 and net.gamma0 is None and net.q < 1


def test_spectral_norm_is_bitwise_reproducible():
    """Determinism (standard 8): the Lanczos path starts from a fixed vector, so repeated calls
    agree to the last bit (a random start differs in the last digits from call to call)."""
    from theory.model import DENSE_NORM_MAX_M

    A = np.random.default_rng(0).standard_normal((DENSE_NORM_MAX_M + 6, DENSE_NORM_MAX_M + 6))
    vals = {theory.spectral_norm(A) for _ in range(4)}
    assert len(vals) == 1
    assert vals.pop() == pytest.approx(np.linalg.norm(A, 2), rel=1e-12, abs=0)


def test_iteration_history_and_stopping_rule_at_small_scales():
    """With ‖φ(Wx)‖ ≪ 1 the stopping rule must stay relative: bound_i ≤ rtol·max(‖z_i‖, ‖φ(Wx_i)‖)
    (not rtol/scale, not an absolute 1), and history[k] is the max relative bound of step k."""
    base = theory.init_network(6, 3, gamma0=0.6, gamma_rule="gamma0/c", rng=np.random.default_rng(4))
    net = theory.Network(A=base.A, W=1e-6 * base.W, u=base.u, gamma=base.gamma)
    X = _X()
    eq = theory.solve_equilibrium(net, X)
    scale = np.maximum(np.linalg.norm(eq.Z, axis=0), np.linalg.norm(eq.B, axis=0))
    assert scale.max() < 1e-4
    assert (eq.error_bound <= DEFAULT_RTOL * scale).all()
    assert isinstance(eq.history, tuple) and len(eq.history) == eq.iterations
    # abs=0: these are ~1e-14, below pytest.approx's default absolute tolerance of 1e-12
    assert eq.history[-1] == pytest.approx(float((eq.error_bound / scale).max()), rel=1e-12, abs=0)
    assert eq.history[-1] <= DEFAULT_RTOL < eq.history[0]


def test_a_sample_with_zero_input_solves_exactly_with_a_finite_history():
    """φ(Wx) ≤ 0 on every unit (W's first column made ≤ 0, x = e₁): z* = 0 is reached at once;
    its stopping scale is 0, and the reported relative bounds must stay finite (0, not 0/0)."""
    net = theory.init_network(6, 3, gamma0=0.6, gamma_rule="gamma0/c", rng=np.random.default_rng(4))
    W = net.W.copy()
    W[:, 0] = -np.abs(W[:, 0])
    net = theory.Network(A=net.A, W=W, u=net.u, gamma=net.gamma)
    X = np.vstack([[1.0, 0.0, 0.0], _X()[1:]])
    eq = theory.solve_equilibrium(net, X)
    assert not eq.Z[:, 0].any() and eq.error_bound[0] == 0.0
    assert np.isfinite(eq.history).all()


def test_init_network_measures_the_spectral_norm_once(monkeypatch):
    """‖A(0)‖₂ is measured once and handed on: it sets γ (γ rule) and certifies q in the Network.
    At m = 8192 one measurement is a 16 s Lanczos run, so a second one is a real cost."""
    calls = []
    real = model.spectral_norm

    def counting(A):
        calls.append(A.shape)
        return real(A)

    monkeypatch.setattr(model, "spectral_norm", counting)
    for rule in ("gamma0/2c", "gamma0/c"):
        calls.clear()
        net = theory.init_network(8, 3, gamma_rule=rule, rng=np.random.default_rng(0))
        assert calls == [(8, 8)]
        assert net.q == pytest.approx(net.gamma * real(net.A) / np.sqrt(8), rel=RTOL_Q, abs=0)


def test_lambda0_refuses_the_threshold_itself():
    """λ_min ≤ n·ε·‖H‖₂ is indistinguishable from 0: exactly at the threshold (a diagonal H, whose
    eigenvalues and norm are exact) it is refused, one ulp-scale step above it is returned."""
    eps = np.finfo(float).eps
    with pytest.raises(theory.SingularGramError):
        theory.lambda0(np.diag([1.0, 2 * eps]))
    assert theory.lambda0(np.diag([1.0, 3 * eps])) == 3 * eps


def test_spectral_norm_route_switches_at_the_documented_width(monkeypatch):
    """‖A‖₂ by dense SVD whenever a side is ≤ DENSE_NORM_MAX_M (cost O(m·k²), k the short side, and
    exact to rounding), by Lanczos only when both sides exceed it; both routes give the same value
    (Lanczos to its tol = 1e-12).  Shapes straddle the switch on each side."""
    import scipy.sparse.linalg

    calls = []
    real = scipy.sparse.linalg.svds

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.sparse.linalg, "svds", spy)
    M = model.DENSE_NORM_MAX_M
    rng = np.random.default_rng(3)
    for shape, lanczos in (((M, M + 1), False), ((M + 1, M), False), ((M + 1, 3), False), ((3, M + 1), False),
                           ((M + 1, M + 1), True)):
        A = rng.standard_normal(shape)
        calls.clear()
        got = theory.spectral_norm(A)
        assert calls == ([shape] if lanczos else []), shape
        # Lanczos: tol 1e-12 on the Ritz value; the dense reference: ≈ m·ε ≈ 2.3e-13 relative
        assert got == pytest.approx(float(np.linalg.svd(A, compute_uv=False)[0]), rel=1.25e-12, abs=0)
