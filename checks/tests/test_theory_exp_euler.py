"""Unit tests of the exponential-Euler integrator (theory/flow.py, method='exp') and its helpers:
our code, checked against independent oracles at tiny m so mutation testing can afford them.

Oracles: the φ-functions against their defining integrals/series, the first step against the
linearised flow built from the Lemma 3.2 gradient and an n×n matrix exponential (scipy.linalg.expm),
the a-posteriori error estimate against the m×m matrix formed explicitly, convergence to RK45 on a
path without pattern changes, and the joint solve of extra inputs against separate solves."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import theory
from theory import derivatives as dv
from theory import flow

from .test_theory_flow import _problem

# exp-Euler quantities are sums of a few rank-n products of solved vectors: the solve's target
# (SOLVE_RTOL, relative) times ‖Q‖ ≤ 1/(1 − q) ≤ 2 at q = ½, with room for n-term sums.
RTOL_STEP = 1e-9


def test_phi_functions_match_their_definitions():
    """h·φ₁(−hλ) = (1 − e^{−hλ})/λ (h at λ = 0) and φ₂(−z) = (e^{−z} − 1 + z)/z² (½ at z = 0), evaluated
    at 50 digits with mpmath, across the series/closed-form switch of φ₂ at z = 1e-3; float64 results
    must agree to a few ulp (the closed forms avoid cancellation: expm1)."""
    import mpmath

    mpmath.mp.dps = 50
    for lam in (0.0, 1e-9, 1e-4, 0.3, 2.0, 50.0):
        for h in (1e-3, 0.5, 3.0):
            L, H = mpmath.mpf(lam), mpmath.mpf(h)
            z = L * H
            want = H if lam == 0 else (1 - mpmath.exp(-z)) / L
            want2 = mpmath.mpf(1) / 2 if lam == 0 else (mpmath.exp(-z) - 1 + z) / z**2
            assert flow._phi1_h(np.array([lam]), h)[0] == pytest.approx(float(want), rel=1e-14, abs=0)
            assert flow._phi2(np.array([lam]), h)[0] == pytest.approx(float(want2), rel=1e-13, abs=0), (lam, h)
    for z in (0.999e-3, 1.001e-3):  # both sides of the series/closed-form switch
        Z = mpmath.mpf(z)
        assert flow._phi2(np.array([1.0]), z)[0] == pytest.approx(float((mpmath.exp(-Z) - 1 + Z) / Z**2), rel=1e-13, abs=0)


def test_h_for_move_is_the_largest_step_within_the_move():
    lam = np.array([0.01, 0.5, 3.0])
    rk = np.array([1.0, -2.0, 0.5])
    size = lambda h: float(np.sqrt(np.sum(lam * (flow._phi1_h(lam, h) * rk) ** 2)))  # noqa: E731
    h_max = 100.0
    assert flow._h_for_move(lam, rk, size(h_max) * 2, h_max) == h_max  # not binding
    move = 0.3 * size(h_max)
    h = flow._h_for_move(lam, rk, move, h_max)
    assert size(h) <= move * (1 + 1e-12) and size(h * (1 + 1e-9)) >= move * (1 - 1e-9)
    assert flow._h_for_move(lam, rk, 0.0, h_max) == pytest.approx(h_max * 1e-6)  # floor: the path still moves


def test_first_exp_step_is_the_linearised_flow():
    """One exponential-Euler step from A(0): ΔA = −J₀ᵀ H₀⁻¹(I − e^{−hH₀}) r₀ (the exact solution of the
    flow with J frozen at J₀), built here from the Lemma 3.2 gradient vjp_f and scipy's expm."""
    net, X, y = _problem(seed=1)
    eq = theory.solve_equilibrium(net, X)
    V = theory.solve_adjoint(net, eq).V
    H0 = theory.gram(net, eq, V)
    r0 = theory.output(net, eq.Z) - y
    lam0 = float(np.linalg.eigvalsh(H0)[0])
    h = 0.05 / lam0  # short enough that A(h) stays contractive at m = 6
    c = np.linalg.solve(H0, (np.eye(len(r0)) - scipy.linalg.expm(-h * H0)) @ r0)
    want = -dv.vjp_f(net, eq, V, c)
    flow.EXP_MOVE, old = 1e9, flow.EXP_MOVE  # the movement cap off: one step of exactly h
    try:
        res = flow.gradient_flow(net, X, y, flow.ExpEuler(tau=h * lam0 * 2), T=h, checkpoints=1)
    finally:
        flow.EXP_MOVE = old
    assert res.steps == 1 and res.method == "exp" and res.nfev == 1
    np.testing.assert_allclose(res.final_A - net.A, want, rtol=0, atol=RTOL_STEP * np.abs(want).max())


def test_error_estimate_matches_the_explicit_correction():
    """err_A and err_f are ‖E_k‖_F and ‖J_k E_k‖ of the ETD2 correction E_k = hφ₂(hL_k)d_k, here formed
    explicitly as an m×m matrix from the recorded states (d_k = −J_{k+1}ᵀr_{k+1} + J_kᵀe^{−hH_k}r_k)."""
    net, X, y = _problem(seed=2)
    states = []
    res = flow.gradient_flow(net, X, y, flow.ExpEuler(tau=0.25), horizon=1.0, checkpoints=1, on_step=states.append)
    assert res.steps >= 2 and len(res.err_A) == len(res.t) == res.steps + 1 and res.err_A[0] == 0.0
    g = net.gamma / net.m
    Jt = lambda st, c: g * (st.adj.V * c) @ st.eq.Z.T  # noqa: E731
    Jv = lambda st, M: g * np.einsum("ij,ij->j", st.adj.V, M @ st.eq.Z)  # noqa: E731
    for k in range(2):
        a, b = states[k], states[k + 1]
        h = b.t - a.t
        ra, rb = a.f - y, b.f - y
        E_h = scipy.linalg.expm(-h * a.H)
        d = -Jt(b, rb) + Jt(a, E_h @ ra)
        # hφ₂(hL)d with L = −JᵀJ: on range(Jᵀ) through the eigenbasis of H, identity·½ on its complement
        lam, U = np.linalg.eigh(a.H)
        cd = np.linalg.solve(a.H, Jv(a, d))
        phi2 = U @ np.diag((np.expm1(-h * lam) + h * lam) / (h * lam) ** 2) @ U.T
        E = 0.5 * h * d + h * Jt(a, (phi2 - 0.5 * np.eye(len(lam))) @ cd)
        step_A = res.err_A[k + 1] - res.err_A[k]
        step_f = res.err_f[k + 1] - res.err_f[k]
        assert step_A == pytest.approx(np.linalg.norm(E), rel=1e-6, abs=0)
        assert step_f == pytest.approx(np.linalg.norm(Jv(a, E)), rel=1e-6, abs=0)


def test_exp_converges_to_the_rk45_oracle_without_pattern_changes():
    """On a path with no ReLU pattern change (checked), exponential Euler with 4, 8, 16 steps over T
    approaches RK45 (rtol 1e-10) with order ≥ 1 (each halving cuts the error by ≥ 1.6), and its
    accumulated estimate err_f bounds the true error of f(T) (no damping credited).  (err_A is an
    indicator only: on such paths it came within 3% of the true error in A, not above it.)"""
    net, X, y = _problem(seed=1)
    T = 30.0
    ref = flow.gradient_flow(net, X, y, flow.RK45(rtol=1e-10), T=T, checkpoints=1)
    taus = [T * ref.lambda0 / k for k in (4, 8, 16)]  # h ≤ τ/λ₀ = T/k (the movement cap may bind first)
    runs = [flow.gradient_flow(net, X, y, flow.ExpEuler(tau=tau), T=T, checkpoints=1) for tau in taus]
    assert max(ref.flip_frac) == 0.0 and all(max(r.flip_frac) == 0.0 for r in runs)
    steps = [r.steps for r in runs]
    assert steps[0] >= 4 and all(b >= 1.8 * a for a, b in zip(steps, steps[1:])), steps
    e = [np.linalg.norm(r.final_A - ref.final_A) for r in runs]
    assert e[0] / e[1] >= 1.6 and e[1] / e[2] >= 1.6, e
    for r in runs:
        assert np.linalg.norm(np.asarray(r.f[-1]) - np.asarray(ref.f[-1])) <= r.err_f[-1]
        assert r.t[-1] == pytest.approx(T, rel=1e-14, abs=0) and r.nfev == r.steps


def test_extra_inputs_are_solved_with_the_samples():
    net, X, y = _problem(seed=3)
    Xt = theory.normalize_rows(np.random.default_rng(7).standard_normal((4, X.shape[1])))
    states = []
    flow.gradient_flow(net, X, y, flow.ExpEuler(), T=5.0, checkpoints=1, X_extra=Xt, on_step=states.append)
    for st in (states[0], states[-1]):
        alone = theory.solve_equilibrium(st.net, Xt)
        np.testing.assert_allclose(st.eq_extra.Z, alone.Z, rtol=0, atol=RTOL_STEP * np.abs(alone.Z).max())
        assert st.eq_extra.Z.shape == (net.m, 4) and st.eq.Z.shape == (net.m, X.shape[0])
    assert flow.gradient_flow(net, X, y, flow.Heun(), T=1.0, checkpoints=1, on_step=lambda s: None).failure is None


def test_exp_step_budget_and_contraction_loss():
    net, X, y = _problem(seed=1)
    need = flow.gradient_flow(net, X, y, flow.ExpEuler(tau=0.1), T=30.0, checkpoints=2).steps
    flow.gradient_flow(net, X, y, flow.ExpEuler(tau=0.1), T=30.0, checkpoints=2, max_steps=need)
    with pytest.raises(theory.IntegrationError, match=r"more than \d+ exponential-Euler steps before T = 30"):
        flow.gradient_flow(net, X, y, flow.ExpEuler(tau=0.1), T=30.0, checkpoints=2, max_steps=need - 1)


def test_phi_functions_keep_their_first_order_terms_near_zero():
    """Below the switches (z ≤ 1e-12 for hφ₁, z < 1e-3 for φ₂) the series must keep the terms that
    matter at double precision: h(1 − z/2) (the z² term is 1e-26 relative at z = 1e-13) and φ₂'s
    series to z³ (the truncation z⁴/720 ≈ 1.4e-15 at z = 1e-3).  Tolerances are the rounding of
    a few operations (≈ 4ε) plus that truncation."""
    import mpmath

    mpmath.mp.dps = 50
    lam, h = 1e-10, 1e-3  # z = 1e-13: the series branch of hφ₁
    Z = mpmath.mpf(lam) * mpmath.mpf(h)
    assert flow._phi1_h(np.array([lam]), h)[0] == pytest.approx(float(-mpmath.expm1(-Z) / mpmath.mpf(lam)), rel=1e-15, abs=0)
    for z in (0.999e-3, 5e-4):
        Z = mpmath.mpf(z)
        assert flow._phi2(np.array([1.0]), z)[0] == pytest.approx(float((mpmath.exp(-Z) - 1 + Z) / Z**2), rel=1e-14, abs=0)


def test_exp_checkpoints_are_the_losses_at_the_bounds():
    net, X, y = _problem(seed=2)
    res = flow.gradient_flow(net, X, y, flow.ExpEuler(tau=0.5), T=4.0, checkpoints=4)
    t = np.asarray(res.t)
    want = [res.loss[int(np.argmin(np.abs(t - b)))] for b in np.linspace(0.0, 4.0, 5)]
    assert res.checkpoint_loss == want
    assert all(np.min(np.abs(t - b)) < 1e-12 for b in np.linspace(0.0, 4.0, 5))  # steps land on the bounds


def test_exp_steps_respect_the_movement_cap():
    """Every step moves A by at most EXP_MOVE·τ·B₀ in Frobenius norm (τ = h_max·λ₀, B₀ = √(r₀ᵀH₀⁻¹r₀) the
    linearised flow's whole distance), and on this path the cap binds (the first steps are at it)."""
    net, X, y = _problem(seed=3)
    states = []
    tau = 0.25
    res = flow.gradient_flow(net, X, y, flow.ExpEuler(tau=tau), horizon=3.0, checkpoints=1, on_step=states.append)
    r0 = states[0].f - y
    B0 = float(np.sqrt(r0 @ np.linalg.solve(states[0].H, r0)))
    cap = flow.EXP_MOVE * tau * B0
    moves = [float(np.linalg.norm(b.net.A - a.net.A)) for a, b in zip(states[:-1], states[1:])]
    assert res.steps == len(moves) >= 2
    assert max(moves) <= cap * (1 + 1e-9), (max(moves), cap)
    assert moves[0] >= cap * (1 - 1e-6), (moves[0], cap)  # the cap is what limited the first step


@pytest.mark.parametrize("method", ["exp", "heun", "gd"])
def test_extra_inputs_are_warm_started_and_split_by_sample_count(method):
    """n = 3 samples in d = 4 dimensions (n ≠ d) and 2 extra inputs: every recorded state carries the
    samples' equilibrium (m × n, with its own B, bound, iteration count and history) and the extra
    inputs' (equal to a separate solve), the joint solves after the first are warm-started (fewer
    Picard steps than a cold solve), and the samples' path is the one computed without extra inputs."""
    net = theory.init_network(6, 4, gamma0=0.5, gamma_rule="gamma0/2c", rng=np.random.default_rng(4))
    X, y = theory.make_data(3, 4, np.random.default_rng(5))
    Xt = theory.normalize_rows(np.random.default_rng(6).standard_normal((2, 4)))
    states = []
    integ = {"exp": flow.ExpEuler(), "heun": flow.Heun(), "gd": flow.GradientDescent(eta=0.05)}[method]
    res = flow.gradient_flow(net, X, y, integ, T=1.0, checkpoints=1, X_extra=Xt, on_step=states.append)
    plain = flow.gradient_flow(net, X, y, integ, T=1.0, checkpoints=1)
    np.testing.assert_allclose(np.asarray(res.f), np.asarray(plain.f), rtol=0, atol=RTOL_STEP)
    for st in states:
        assert st.eq.Z.shape == st.eq.P.shape == st.eq.B.shape == (6, 3) and st.eq.error_bound.shape == (3,)
        assert st.eq_extra.Z.shape == st.eq_extra.B.shape == (6, 2) and st.eq_extra.error_bound.shape == (2,)
        assert isinstance(st.eq.iterations, int) and st.eq.history and st.eq_extra.history == st.eq.history
        alone = theory.solve_equilibrium(st.net, Xt)
        np.testing.assert_allclose(st.eq_extra.Z, alone.Z, rtol=0, atol=RTOL_STEP * np.abs(alone.Z).max())
        np.testing.assert_allclose(st.eq.B, theory.input_features(st.net, X), rtol=1e-15)
    cold = theory.solve_equilibrium(states[-1].net, np.vstack([X, Xt])).iterations
    assert max(st.eq.iterations for st in states[1:]) < cold
    none = []
    flow.gradient_flow(net, X, y, integ, T=0.5, checkpoints=1, on_step=none.append)
    assert all(st.eq_extra is None for st in none)


def test_pseudo_inverse_drops_only_directions_at_rounding_level():
    """The error estimate's c_d = H_k⁺J_k d_k (``_pinv_apply``): an eigenvalue at or below λ_max·ε·n
    (n = 3 here: 6.7e-16·λ_max, the absolute accuracy of eigh) is a null direction and gets 0, whatever
    the other eigenvalues are; anything above is inverted.  Oracles: the spectral formula by hand on
    a random orthogonal U; tolerance a few ulp of the 3-term sums (entries O(1/λ) ≤ 1e3)."""
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    b = rng.standard_normal(3)
    c = U.T @ b
    eps = np.finfo(float).eps
    for small in (2e-16, 3 * eps):  # between λ_max·ε/n and λ_max·ε·n; exactly at the threshold
        lam = np.array([small, 1e-3, 1.0])
        want = U @ np.array([0.0, c[1] / 1e-3, c[2]])
        np.testing.assert_allclose(flow._pinv_apply(lam, U, b), want, rtol=0, atol=1e-12)
    lam = np.array([1e-12, 1e-3, 1.0])  # far above the threshold: a true inverse
    np.testing.assert_allclose(flow._pinv_apply(lam, U, b), U @ (c / lam), rtol=1e-13, atol=0)


def test_default_horizon_and_checkpoints_shape_the_path():
    """Without ``T`` the path runs to horizon/λ₀ = 6/λ₀ in 12 checkpoint intervals (13 checkpoint
    losses, the steps landing on every bound): the defaults the C6 horizon argument relies on."""
    net, X, y = _problem(m=32, seed=2)  # m = 6 loses contraction before 6/λ₀ (a typed stop, not this test)
    res = flow.gradient_flow(net, X, y, flow.ExpEuler(tau=1.0))
    assert res.failure is None
    assert res.T == pytest.approx(6.0 / res.lambda0, rel=1e-15, abs=0)
    assert res.t[-1] == pytest.approx(res.T, rel=1e-14, abs=0) and len(res.checkpoint_loss) == 13
    t = np.asarray(res.t)
    assert all(np.min(np.abs(t - b)) <= 1e-14 * res.T for b in np.linspace(0.0, res.T, 13))
