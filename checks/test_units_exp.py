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

from .test_units_flow import _problem

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
            assert flow._phi1_h(np.array([lam]), h)[0] == pytest.approx(float(want), rel=1e-14)
            assert flow._phi2(np.array([lam]), h)[0] == pytest.approx(float(want2), rel=1e-13), (lam, h)
    for z in (0.999e-3, 1.001e-3):  # both sides of the series/closed-form switch
        Z = mpmath.mpf(z)
        assert flow._phi2(np.array([1.0]), z)[0] == pytest.approx(float((mpmath.exp(-Z) - 1 + Z) / Z**2), rel=1e-13)


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


def test_add_outer_is_an_in_place_rank_update():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    L, R = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    want = a + 0.7 * L @ R.T
    before = a.ctypes.data
    flow._add_outer(a, 0.7, L, R)
    assert a.ctypes.data == before
    np.testing.assert_allclose(a, want, rtol=1e-14, atol=1e-14)


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
        res = flow.gradient_flow(net, X, y, T=h, checkpoints=1, method="exp", rtol=h * lam0 * 2)
    finally:
        flow.EXP_MOVE = old
    assert res.steps == 1 and res.method == "exp" and res.nfev == 1
    np.testing.assert_allclose(res.final_A - net.A, want, rtol=0, atol=RTOL_STEP * np.abs(want).max())


def test_error_estimate_matches_the_explicit_correction():
    """err_A and err_f are ‖E_k‖_F and ‖J_k E_k‖ of the ETD2 correction E_k = hφ₂(hL_k)d_k, here formed
    explicitly as an m×m matrix from the recorded states (d_k = −J_{k+1}ᵀr_{k+1} + J_kᵀe^{−hH_k}r_k)."""
    net, X, y = _problem(seed=2)
    states = []
    res = flow.gradient_flow(net, X, y, horizon=1.0, checkpoints=1, method="exp", rtol=0.25, on_step=states.append)
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
        assert step_A == pytest.approx(np.linalg.norm(E), rel=1e-6)
        assert step_f == pytest.approx(np.linalg.norm(Jv(a, E)), rel=1e-6)


def test_exp_converges_to_the_rk45_oracle_without_pattern_changes():
    """On a path with no ReLU pattern change (checked), exponential Euler with 4, 8, 16 steps over T
    approaches RK45 (rtol 1e-10) with order ≥ 1 (each halving cuts the error by ≥ 1.6), and its
    accumulated estimate err_f bounds the true error of f(T) (no damping credited).  (err_A is an
    indicator only: on such paths it came within 3% of the true error in A, not above it.)"""
    net, X, y = _problem(seed=1)
    T = 30.0
    ref = flow.gradient_flow(net, X, y, T=T, checkpoints=1, method="rk45", rtol=1e-10)
    taus = [T * ref.lambda0 / k for k in (4, 8, 16)]  # h ≤ τ/λ₀ = T/k (the movement cap may bind first)
    runs = [flow.gradient_flow(net, X, y, T=T, checkpoints=1, method="exp", rtol=tau) for tau in taus]
    assert max(ref.flip_frac) == 0.0 and all(max(r.flip_frac) == 0.0 for r in runs)
    steps = [r.steps for r in runs]
    assert steps[0] >= 4 and all(b >= 1.8 * a for a, b in zip(steps, steps[1:])), steps
    e = [np.linalg.norm(r.final_A - ref.final_A) for r in runs]
    assert e[0] / e[1] >= 1.6 and e[1] / e[2] >= 1.6, e
    for r in runs:
        assert np.linalg.norm(np.asarray(r.f[-1]) - np.asarray(ref.f[-1])) <= r.err_f[-1]
        assert r.t[-1] == pytest.approx(T, rel=1e-14) and r.nfev == r.steps


def test_extra_inputs_are_solved_with_the_samples():
    net, X, y = _problem(seed=3)
    Xt = theory.normalize_rows(np.random.default_rng(7).standard_normal((4, X.shape[1])))
    states = []
    flow.gradient_flow(net, X, y, T=5.0, checkpoints=1, method="exp", X_extra=Xt, on_step=states.append)
    for st in (states[0], states[-1]):
        alone = theory.solve_equilibrium(st.net, Xt)
        np.testing.assert_allclose(st.eq_extra.Z, alone.Z, rtol=0, atol=RTOL_STEP * np.abs(alone.Z).max())
        assert st.eq_extra.Z.shape == (net.m, 4) and st.eq.Z.shape == (net.m, X.shape[0])
    assert flow.gradient_flow(net, X, y, T=1.0, checkpoints=1, on_step=lambda s: None).failure is None


def test_exp_step_budget_and_contraction_loss():
    net, X, y = _problem(seed=1)
    need = flow.gradient_flow(net, X, y, T=30.0, checkpoints=2, method="exp", rtol=0.1).steps
    flow.gradient_flow(net, X, y, T=30.0, checkpoints=2, method="exp", rtol=0.1, max_steps=need)
    with pytest.raises(theory.IntegrationError, match=r"more than \d+ exponential-Euler steps before T = 30"):
        flow.gradient_flow(net, X, y, T=30.0, checkpoints=2, method="exp", rtol=0.1, max_steps=need - 1)
