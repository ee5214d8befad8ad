"""Unit tests of the Section 4/5 kernels, bound terms and the C19 limit (our code, not the paper).

Added where mutation testing showed behaviour that only the slow experiments (C14 digits, C19
sweeps, excluded from the mutation run) exercised, or none did.  Oracles are independent:
closed forms by hand, dense linear solves, explicit per-sample gradients, exhaustive
enumeration and Monte Carlo with its own standard error.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import theory
from theory import bounds, kernels
from theory import derivatives as dv
from theory import limit_gaussian as lg
from theory.equilibrium import SOLVE_RTOL

# Dense-solve comparisons: H₀ here has condition number < 1e3, so a solve is accurate to
# cond·n·ε ≈ 1e-12 relative; 1e-10 leaves a factor 100.
RTOL_SOLVE = 1e-10
# Monte Carlo: |mean − truth| ≤ Z·SE except with probability 2(1 − Φ(Z)); Z = 5 → 6e-7 per comparison.
Z_MC = 5.0
# Identities evaluated two ways in float64 on O(1) numbers (sums of ≤ m·n ≤ 100 products):
# rounding ≤ 100·ε ≈ 2e-14 relative, so 1e-13 (one order of room); single closed forms ≤ 4ε → 1e-15.
RTOL_IDENTITY = 1e-13
RTOL_CLOSED_FORM = 1e-15
# Comparisons that go through an equilibrium or adjoint solve (the suite's SOLVE_RTOL = 1e-11) and its
# conditioning ‖Q‖ ≤ 1/(1 − q) ≤ 2.5 at q = 0.6: SOLVE_RTOL·2.5·few → 10·SOLVE_RTOL.
RTOL_SOLVED = 10 * SOLVE_RTOL


def _h0(n=6, m=24, seed=0):
    net = theory.init_network(m, 3, gamma0=0.6, gamma_rule="gamma0/c", rng=np.random.default_rng(seed))
    X, y = theory.make_data(n, 3, np.random.default_rng(seed + 1))
    eq = theory.solve_equilibrium(net, X)
    V = theory.solve_adjoint(net, eq).V
    return net, X, y, eq, V, theory.gram(net, eq, V)


# ---------------------------------------------------------------- bound terms (Theorem 4.1)

@pytest.mark.parametrize("rho", [1.0, 0.25])
def test_dominating_term_is_the_closed_form(rho):
    net, X, y, eq, V, H0 = _h0()
    r = y - theory.output(net, eq.Z)
    n = len(y)
    direct = 2 * rho * np.sqrt(float(r @ np.linalg.solve(H0, r)) * np.trace(H0)) / n
    assert bounds.dominating_term(H0, r, rho) == pytest.approx(direct, rel=RTOL_SOLVE, abs=0)


def test_theorem41_terms():
    net, X, y, eq, V, H0 = _h0()
    r = y - theory.output(net, eq.Z)
    out = bounds.theorem41_bound(0.125, H0, r, delta=0.05, rho=0.5)
    n = len(y)
    conf = 3 * np.sqrt(np.log(2 / 0.05) / (2 * n))
    assert out["train_loss"] == 0.125
    assert out["complexity"] == pytest.approx(bounds.dominating_term(H0, r, 0.5), rel=RTOL_CLOSED_FORM, abs=0)
    assert out["confidence"] == pytest.approx(conf, rel=RTOL_CLOSED_FORM, abs=0)
    assert out["bound"] == pytest.approx(0.125 + out["complexity"] + conf, rel=RTOL_CLOSED_FORM, abs=0)


def test_sign_vectors_enumerate_the_cube_up_to_the_limit():
    S = bounds.sign_vectors(3)
    assert S.shape == (8, 3) and len({tuple(s) for s in S}) == 8 and set(np.unique(S)) == {-1.0, 1.0}
    assert bounds.sign_vectors(bounds.EXACT_MAX_N).shape == (2**bounds.EXACT_MAX_N, bounds.EXACT_MAX_N)
    with pytest.raises(theory.InputError, match=f"exact enumeration is for n ≤ {bounds.EXACT_MAX_N}; use rademacher_mc"):
        bounds.sign_vectors(bounds.EXACT_MAX_N + 1)


def test_rademacher_exact_by_hand():
    """n = 2, H₀ = [[2, 1], [1, 2]]: εᵀH₀ε = 6 for ε₁ = ε₂ and 2 otherwise."""
    H0 = np.array([[2.0, 1.0], [1.0, 2.0]])
    assert bounds.rademacher_exact(H0, 3.0) == pytest.approx(3.0 / 2 * (np.sqrt(6) + np.sqrt(2)) / 2, rel=RTOL_CLOSED_FORM, abs=0)


def test_rademacher_mc_agrees_with_enumeration_within_its_standard_error():
    net, X, y, eq, V, H0 = _h0(n=8)
    B = 1.7
    exact = bounds.rademacher_exact(H0, B)
    S = bounds.sign_vectors(8)
    vals = B / 8 * np.sqrt(np.einsum("ki,ij,kj->k", S, H0, S))
    draws = 20_000
    est, se = bounds.rademacher_mc(H0, B, draws, np.random.default_rng(0))
    true_se = vals.std() / np.sqrt(draws)
    # the sample SD's relative error is ≈ √((κ − 1)/(4N)) ≤ 0.02 for these bounded values (κ ≤ 30)
    assert se == pytest.approx(true_se, rel=0.05, abs=0)
    assert abs(est - exact) <= Z_MC * true_se


# ---------------------------------------------------------------- kernels

def test_arccos_kernels_scale_with_the_norms():
    X = theory.normalize_rows(np.random.default_rng(0).standard_normal((4, 3)))
    c = np.array([1.0, 2.0, 0.5, 3.0])
    np.testing.assert_allclose(kernels.arccos1(c[:, None] * X), np.outer(c, c) * kernels.arccos1(X), rtol=RTOL_IDENTITY)
    np.testing.assert_allclose(kernels.arccos0(c[:, None] * X), kernels.arccos0(X), rtol=RTOL_IDENTITY)
    np.testing.assert_allclose(np.diag(kernels.arccos1(X)), 0.5, rtol=RTOL_CLOSED_FORM)  # E[φ(wᵀx)²] = ‖x‖²/2


def test_arccos_kernels_of_antiparallel_inputs():
    """x·(−x)/‖x‖² rounds to −1 − 2⁻⁵² for this x: the cosine must be clipped, not fed to arccos."""
    x = np.array([-4.276, -0.402, -2.291])
    X = np.vstack([x, -x])
    np.testing.assert_array_equal(kernels.arccos0(X), [[0.5, 0.0], [0.0, 0.5]])
    assert np.isfinite(kernels.arccos1(X)).all()
    assert abs(kernels.arccos1(X)[0, 1]) <= RTOL_IDENTITY * np.dot(x, x)


def test_angles_validate_their_input():
    with pytest.raises(theory.ShapeError, match="X must be 2-dimensional"):
        kernels.arccos1(np.ones(3))
    with pytest.raises(theory.NonFiniteError, match="X holds 1 non-finite"):
        kernels.arccos0(np.array([[1.0, np.nan]]))


def _rot(x, th):
    """A unit vector at angle θ from the unit vector x (in the plane of x and e₃ ⟂ x)."""
    e = np.zeros_like(x)
    e[-1] = 1.0
    e -= (e @ x) * x
    e /= np.linalg.norm(e)
    return np.cos(th) * x + np.sin(th) * e


def test_near_parallel_pairs_lists_each_pair_once():
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([0.0, 1.0, 0.0])
    X = np.vstack([a, a, b, -b, _rot(b, 1e-3)])  # adjacent duplicate (0, 1), antiparallel (2, 3)
    pairs = kernels.near_parallel_pairs(X)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (2, 3)]
    # arccos near ±1 loses half the digits: θ is resolved to ≈ √(2ε) ≈ 2e-8, so 1e-7
    assert pairs[0][2] == pytest.approx(0.0, abs=1e-7) and pairs[1][2] == pytest.approx(np.pi, abs=1e-7)
    th = kernels._angles(X)[0]
    # the test is strict: a pair exactly at the tolerance is not listed
    assert (2, 4) not in [(i, j) for i, j, _ in kernels.near_parallel_pairs(X, float(th[2, 4]))]
    assert (3, 4) not in [(i, j) for i, j, _ in kernels.near_parallel_pairs(X, float(np.pi - th[3, 4]))]
    assert (2, 4) in [(i, j) for i, j, _ in kernels.near_parallel_pairs(X, 2e-3)]


def test_lambda_star_names_the_near_parallel_pairs():
    a = theory.normalize_rows(np.array([[1.0, 0.2, 0.1]]))[0]
    b = theory.normalize_rows(np.array([[0.1, 1.0, -0.3]]))[0]
    c = theory.normalize_rows(np.array([[-0.4, 0.3, 1.0]]))[0]
    # (0, 2) duplicate: singular; (1, 3) at 1e-5 < 1e-4 (listed); (4, 5) at 0.5 rad (not listed)
    X = np.vstack([a, b, a, _rot(b, 1e-5), c, _rot(c, 0.5)])
    with pytest.raises(theory.SingularGramError, match=re.escape("near-parallel inputs (i, j, θ): [(0, 2, ")) as info:
        kernels.lambda_star(X)
    assert re.search(r"\(1, 3, 9\.9999\d*e-06\)\]$", str(info.value)), str(info.value)
    assert kernels.lambda_star(np.vstack([a, b, c])) > 0.05


def test_lambda_star_threshold_is_relative_to_the_kernel_scale():
    """Duplicate inputs scaled by 10⁴: λ_min(K^∞) is rounding noise of size ε‖K‖₂ ≈ 2e-8, which
    an absolute threshold (or one divided by ‖K‖) would take for a positive eigenvalue."""
    a = theory.normalize_rows(np.array([[1.0, 0.2, 0.1]]))[0]
    b = theory.normalize_rows(np.array([[0.1, 1.0, -0.3]]))[0]
    for scale in (1e-4, 1.0, 1e4):
        X = scale * np.vstack([a, b, a])
        with pytest.raises(theory.SingularGramError):
            kernels.lambda_star(X)


def test_path_kernel_is_the_gram_matrix_and_the_gradient_inner_product():
    net, X, y, eq, V, H0 = _h0(n=4, m=10)
    K = kernels.path_kernel(net, eq, V, eq, V)
    np.testing.assert_allclose(K, H0, rtol=RTOL_IDENTITY, atol=0)
    Xt, _ = theory.make_data(3, 3, np.random.default_rng(9))
    eqt = theory.solve_equilibrium(net, Xt)
    Vt = theory.solve_adjoint(net, eqt).V
    Kt = kernels.path_kernel(net, eqt, Vt, eq, V)
    direct = np.array([[np.sum(dv.grad_f(net, eqt, Vt, i) * dv.grad_f(net, eq, V, j)) for j in range(4)]
                       for i in range(3)])
    np.testing.assert_allclose(Kt, direct, rtol=RTOL_SOLVED, atol=1e-15)  # atol: entries that cancel to ~0


def test_jvp_is_the_gradient_pairing_and_the_vjp_adjoint():
    net, X, y, eq, V, H0 = _h0(n=4, m=10)
    Delta = np.random.default_rng(3).standard_normal((10, 10))
    jv = dv.jvp_f(net, eq, V, Delta)
    direct = np.array([np.sum(dv.grad_f(net, eq, V, i) * Delta) for i in range(4)])
    np.testing.assert_allclose(jv, direct, rtol=RTOL_IDENTITY, atol=1e-15)  # same V, Z: only summation order differs
    c = np.array([0.3, -1.0, 2.0, 0.5])
    assert float(c @ jv) == pytest.approx(float(np.sum(dv.vjp_f(net, eq, V, c) * Delta)), rel=RTOL_SOLVED, abs=0)
    with pytest.raises(theory.ShapeError, match=r"direction Δ must be m×m = 10×10, got \(3, 3\)"):
        dv.jvp_f(net, eq, V, np.eye(3))
    with pytest.raises(theory.ShapeError, match=r"cotangent must have shape \(4,\), got \(3,\)"):
        dv.vjp_f(net, eq, V, np.ones(3))


# ---------------------------------------------------------------- C19 limit (Gaussian init)

def _mc_pair(S2, C2, gamma, N, seed):
    """E[σ(h)σ(h')], E[σ'(h)σ'(h')] with h = γg + φ(a) by plain Monte Carlo, with SEs."""
    rng = np.random.default_rng(seed)
    def root(C):  # a square root of a PSD 2×2 covariance (singular on the diagonal, i = j)
        lam, E = np.linalg.eigh(C)
        return E * np.sqrt(np.maximum(lam, 0.0))

    g = rng.standard_normal((N, 2)) @ root(S2).T
    a = rng.standard_normal((N, 2)) @ root(C2).T
    h = gamma * g + np.maximum(a, 0.0)
    s = np.maximum(h[:, 0], 0) * np.maximum(h[:, 1], 0)
    e = ((h[:, 0] > 0) & (h[:, 1] > 0)).astype(float)
    return s.mean(), s.std() / np.sqrt(N), e.mean(), e.std() / np.sqrt(N)


@pytest.mark.parametrize("S2,c12,gamma", [
    ([[0.40, 0.25], [0.25, 0.50]], 0.3, 0.45),
    ([[0.30, -0.10], [-0.10, 0.20]], -0.6, 0.9),
    ([[0.35, 0.0], [0.0, 0.35]], 0.0, 0.45),
    # correlated inputs (the ridge of the density along a = a'): the sign-quadrant rule this replaced
    # returned a Σ with its off-diagonal above its diagonal at input correlation 0.96 (a pilot data set)
    ([[0.50, 0.48], [0.48, 0.50]], 0.9617, 0.125),
    ([[0.50, 0.4995], [0.4995, 0.50]], 0.9995, 0.125),
])
def test_pair_expectations_match_monte_carlo(S2, c12, gamma):
    """The quadrature (closed form in g' | g, Gauss–Legendre on the kink-split domain in g, a, a')
    against 2·10⁶ plain draws; allowed: Z·SE plus the quadrature's own error estimate (32 vs 16 nodes)."""
    S2, C2 = np.array(S2), np.array([[1.0, c12], [c12, 1.0]])
    sig, edot = lg._pair_expectations(S2, C2, gamma, 32)
    sig2, edot2 = lg._pair_expectations(S2, C2, gamma, 16)
    ms, ses, me, see = _mc_pair(S2, C2, gamma, 2_000_000, 0)
    assert abs(sig - ms) <= Z_MC * ses + abs(sig - sig2), (sig, ms, ses)
    assert abs(edot - me) <= Z_MC * see + abs(edot - edot2), (edot, me, see)


@pytest.mark.parametrize("c12", [0.9, 0.99, 0.999, 0.9999])
def test_pair_expectations_keep_cauchy_schwarz_for_correlated_inputs(c12):
    """Σ(x, x') = E[σ(h)σ(h')] ≤ √(Σ(x, x)Σ(x', x')) and Ė likewise, for inputs at correlation c12 and
    the kernel of those inputs as the covariance of (g, g'): the fixed-point iteration of Σ* must stay
    positive semi-definite (it did not, before the rule resolved the ridge)."""
    C2 = np.array([[1.0, c12], [c12, 1.0]])
    S2 = lg._kinf(C2)
    sig, edot = lg._pair_expectations(S2, C2, 0.125, 32)
    dsig, dedot = lg._pair_expectations(S2[:1, :1].repeat(2, 0).repeat(2, 1), np.ones((2, 2)), 0.125, 32)
    assert sig <= dsig * (1 + RTOL_IDENTITY) and edot <= dedot * (1 + RTOL_IDENTITY), (sig, dsig, edot, dedot)


def test_pair_expectations_on_the_diagonal():
    """i = j: g' = g and a' = a, so the conditional variance is 0 (the deterministic branch)."""
    S2 = np.array([[0.4, 0.4], [0.4, 0.4]])
    C2 = np.ones((2, 2))
    sig, edot = lg._pair_expectations(S2, C2, 0.45, 32)
    ms, ses, me, see = _mc_pair(S2, C2, 0.45, 2_000_000, 1)
    sig2, edot2 = lg._pair_expectations(S2, C2, 0.45, 16)
    assert abs(sig - ms) <= Z_MC * ses + abs(sig - sig2)
    assert abs(edot - me) <= Z_MC * see + abs(edot - edot2)


def test_kinf_is_the_degree_one_arccos_kernel():
    X = theory.normalize_rows(np.random.default_rng(2).standard_normal((4, 3)))
    np.testing.assert_allclose(lg._kinf(X @ X.T), kernels.arccos1(X), rtol=RTOL_SOLVED, atol=1e-15)  # arccos of XXᵀ vs of the normalised Gram


@pytest.mark.parametrize("backward", [True, False])
def test_limit_H_is_a_fixed_point_with_the_backward_factor(backward):
    X, _ = theory.make_data(3, 4, np.random.default_rng(19))
    gamma, k = 0.45, 16
    L = lg.limit_H(X, gamma, nodes=k, backward=backward)
    S, E = L["Sigma"], L["Edot"]
    C = X @ X.T
    Snew = np.empty_like(S)
    Enew = np.empty_like(E)
    for i in range(3):
        for j in range(3):
            idx = np.ix_([i, j], [i, j])
            Snew[i, j], Enew[i, j] = lg._pair_expectations(S[idx], C[idx], gamma, k)
    # Σ* is a fixed point to the iteration's tolerance (1e-11; the map contracts, so one more
    # application moves it by less than the last step did)
    np.testing.assert_allclose(Snew, S, rtol=0, atol=1e-10)
    np.testing.assert_allclose(Enew, E, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(S, S.T)
    expect = gamma**2 * S * E / (1 - gamma**2 * E) if backward else gamma**2 * S * E
    np.testing.assert_allclose(L["H"], expect, rtol=RTOL_IDENTITY)
    assert L["nodes"] == k and L["iterations"] > 3
    half = lg.limit_H(X, gamma, nodes=k // 2, backward=backward)
    # the two runs stop their fixed points at tol = 1e-11 apart: 1e-12 relative of an error ~1e-3
    assert L["quadrature_error"] == pytest.approx(float(np.abs(L["H"] - half["H"]).max()), rel=RTOL_SOLVED, abs=0)
    # Σ* grows from its start K^∞ (the γ = 0 covariance): the feedback adds variance
    assert (np.diag(S) > np.diag(lg._kinf(C))).all()


def test_limit_H_small_gamma_closed_forms():
    """γ → 0: h = γg + φ(wᵀx) with g ~ GP(0, Σ*), so Σ* → K^∞ and, because the sign of h is
    decided by g where wᵀx ≤ 0, Ė → 1 − 2·¼ + P(a ≤ 0, a' ≤ 0)·P(g ≤ 0, g' ≤ 0)
    = ½ + K⁰(θ_x)·(π − θ_g)/(2π), θ_g the angle of K^∞.  Allowed: the quadrature error, which
    bounded by |k-rule − (k/2)-rule| (geometric convergence on the kink-split domain; factor 2 to
    spare), plus the departure from γ = 0: ≤ 2γ for Σ* (σ is 1-Lipschitz,
    E|g|, E|φ(a)| ≤ 1) and ≤ 2γ for Ė (h changes sign only where |φ(a)| ≤ γ|g|); allowed 10γ."""
    X, _ = theory.make_data(3, 4, np.random.default_rng(19))
    gamma, k = 1e-4, 32
    L, half = lg.limit_H(X, gamma, nodes=k), lg.limit_H(X, gamma, nodes=k // 2)
    K1, K0 = kernels.arccos1(X), kernels.arccos0(X)
    th_g = np.arccos(np.clip(K1 / np.sqrt(np.outer(np.diag(K1), np.diag(K1))), -1, 1))
    cases = (("Sigma", K1), ("Edot", 0.5 + K0 * (np.pi - th_g) / (2 * np.pi)))
    for key, closed in cases:
        allowed = 2 * np.abs(L[key] - half[key]) + 10 * gamma
        assert (np.abs(L[key] - closed) <= allowed).all(), (key, np.abs(L[key] - closed).max())


def test_limit_H_refuses_bad_input_and_reports_non_convergence():
    X, _ = theory.make_data(3, 4, np.random.default_rng(19))
    with pytest.raises(theory.ConvergenceError, match=re.escape("Σ* fixed point did not converge in 1 iterations")):
        lg.limit_H(X, 0.45, nodes=8, maxiter=1)
    with pytest.raises(theory.NonUnitDataError):
        lg.limit_H(2 * X, 0.45, nodes=8)


#: Monte Carlo draws for the check of H^∞ on C19's own data: SE ≈ 0.5/√N per entry ≈ 2.5e-4.
C19_MC_DRAWS = 4_000_000


def test_c19_limit_matches_monte_carlo_on_its_own_data():
    """C19's limit on C19's data (n = 5, γ = 0.45): one application of the Σ and Ė maps by plain Monte
    Carlo (h = γg + φ(a), g ~ N(0, Σ*) for the quadrature's Σ*) must reproduce Σ* (a fixed point) and Ė
    within Z·SE + the reported quadrature error, for every pair; H^∞ built from them then agrees in
    operator norm.  (The Gauss–Hermite rule this replaced was 0.78% off in operator norm while reporting
    3e-4 as its error.)"""
    from ..claims.c19_gaussian_limit import GAMMA, D, N

    X, _ = theory.make_data(N, D, np.random.default_rng(19))
    L = lg.limit_H(X, GAMMA)
    S, E, err = L["Sigma"], L["Edot"], L["quadrature_error"]
    C = X @ X.T
    S_mc, E_mc, se_S, se_E = (np.empty_like(S) for _ in range(4))
    for i in range(N):
        for j in range(i, N):
            idx = np.ix_([i, j], [i, j])
            ms, ses, me, see = _mc_pair(S[idx], C[idx], GAMMA, C19_MC_DRAWS, 100 * i + j)
            assert abs(ms - S[i, j]) <= Z_MC * ses + err, (i, j, ms, S[i, j], ses)
            assert abs(me - E[i, j]) <= Z_MC * see + err, (i, j, me, E[i, j], see)
            S_mc[i, j] = S_mc[j, i] = ms
            E_mc[i, j] = E_mc[j, i] = me
            se_S[i, j] = se_S[j, i] = ses
            se_E[i, j] = se_E[j, i] = see
    # H = γ²SE/(1 − γ²E): ∂H/∂S = H/S, ∂H/∂E = H/(E(1 − γ²E)); first-order propagation of the SEs
    H = L["H"]
    H_mc = GAMMA**2 * S_mc * E_mc / (1 - GAMMA**2 * E_mc)
    se_H = H * (se_S / S + se_E / (E * (1 - GAMMA**2 * E)))
    assert (np.abs(H_mc - H) <= Z_MC * se_H + err).all(), np.abs(H_mc - H).max()


def test_default_rho_is_one():
    net, X, y, eq, V, H0 = _h0()
    r = y - theory.output(net, eq.Z)
    assert bounds.dominating_term(H0, r) == bounds.dominating_term(H0, r, 1.0)
    assert bounds.theorem41_bound(0.0, H0, r, 0.1) == bounds.theorem41_bound(0.0, H0, r, 0.1, rho=1.0)


def test_kinf_clips_rounded_cosines():
    x = np.array([-4.276, -0.402, -2.291])  # x·(−x)/‖x‖² rounds to −1 − 2⁻⁵²
    X = np.vstack([x, -x]) / np.linalg.norm(x)
    C = X @ X.T
    K = lg._kinf(C)
    assert np.isfinite(K).all() and abs(K[0, 1]) < RTOL_CLOSED_FORM  # sin π + 0·cos π = 1.2e-16


def test_limit_H_defaults_and_iteration_count():
    """Defaults: 32 nodes and the backward factor on; ``iterations`` counts applications of the
    Σ map: the same solve with maxiter = iterations converges and with one fewer does not."""
    X, _ = theory.make_data(2, 4, np.random.default_rng(19))
    L = lg.limit_H(X, 0.45, tol=1e-6)
    assert L["nodes"] == 32
    S, E = L["Sigma"], L["Edot"]
    np.testing.assert_allclose(L["H"], 0.45**2 * S * E / (1 - 0.45**2 * E), rtol=RTOL_IDENTITY)
    k = 8
    its = lg.limit_H(X, 0.45, nodes=k, tol=1e-6)["iterations"]
    lg.limit_H(X, 0.45, nodes=k, tol=1e-6, maxiter=its)
    with pytest.raises(theory.ConvergenceError):
        lg.limit_H(X, 0.45, nodes=k, tol=1e-6, maxiter=its - 1)
    with pytest.raises(theory.NonFiniteError, match=r"^X holds 1 "):
        lg.limit_H(np.array([[np.nan, 1.0]]), 0.45)
    with pytest.raises(theory.ShapeError, match=r"^X must be 2-dimensional"):
        lg.limit_H(np.ones(3), 0.45)
    with pytest.raises(theory.NonFiniteError, match=r"^X holds 1 "):
        kernels.arccos1(np.array([[np.nan, 1.0]]))


def test_explicit_jacobian_oracle_with_inactive_units():
    """∂z/∂vec(A)·vec(Δ) from the explicit oracle equals the contraction-solved dz, on a network
    where some units are inactive (D has zeros: the oracle must mask, not divide)."""
    net, X, y, eq, V, H0 = _h0(n=3, m=8)
    assert not eq.D.all() and eq.D.any()
    Delta = np.random.default_rng(5).standard_normal((8, 8))
    J = dv.dz_dvecA_explicit(net, eq)
    via_J = J @ Delta.ravel(order="F")  # column-major vec
    # explicit inverses vs the contraction solve: (m + 2)ε·κ + the solve's SOLVE_RTOL, κ ≤ (1+q)/(1−q) = 4
    np.testing.assert_allclose(via_J.T, dv.dz_directional(net, eq, Delta), rtol=0, atol=RTOL_SOLVED)
    Jf = dv.jacobian_f_explicit(net, eq)
    np.testing.assert_allclose(Jf @ Delta.ravel(order="F"), dv.jvp_f(net, eq, V, Delta), rtol=0, atol=RTOL_SOLVED)


def test_explicit_oracles_refuse_large_widths():
    X, _ = theory.make_data(1, 2, np.random.default_rng(0))
    ok = theory.init_network(256, 2, rng=np.random.default_rng(0))
    assert dv.Q_explicit(ok, theory.solve_equilibrium(ok, X)).shape == (1, 256, 256)
    big = theory.init_network(257, 2, rng=np.random.default_rng(0))
    with pytest.raises(theory.InputError,
                       match=r"^Q_explicit forms n dense m×m inverses; m = 257 > 256 is not an oracle size$"):
        dv.Q_explicit(big, theory.solve_equilibrium(big, X))


def test_arora_ntk_and_complexity_closed_forms():
    """H^∞_ij = x_iᵀx_j (π − θ_ij)/(2π) (Arora et al. 2019) on unit rows: ½ on the diagonal, 0 for
    orthogonal pairs, x_iᵀx_j/2 − θ x_iᵀx_j/(2π) otherwise; the complexity √(2yᵀ(H^∞)⁻¹y/n) against a
    dense solve (H^∞ here is well conditioned: RTOL_SOLVE)."""
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [np.cos(0.7), np.sin(0.7), 0.0], [0.0, 0.6, 0.8]])
    H = kernels.arora_ntk(X)
    want = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            c = float(np.clip(X[i] @ X[j], -1, 1))
            want[i, j] = c * (np.pi - np.arccos(c)) / (2 * np.pi)
    np.testing.assert_allclose(H, want, rtol=RTOL_CLOSED_FORM, atol=1e-16)
    assert H[0, 0] == pytest.approx(0.5, rel=RTOL_CLOSED_FORM, abs=0) and abs(H[0, 1]) < 1e-16
    y = np.array([1.0, -1.0, 0.5, 0.25])
    assert bounds.arora_complexity(H, y) == pytest.approx(np.sqrt(2 * y @ np.linalg.solve(H, y) / 4), rel=RTOL_SOLVE, abs=0)
    H3 = H[:3, :3]  # a different n: the 1/n is the sample count
    assert bounds.arora_complexity(H3, y[:3]) == pytest.approx(np.sqrt(2 * y[:3] @ np.linalg.solve(H3, y[:3]) / 3),
                                                               rel=RTOL_SOLVE, abs=0)


@pytest.mark.parametrize("S2,c12", [
    ([[0.4, 0.1], [0.1, 0.3]], 1.0 - 1e-13),  # (a, a') nearly parallel, g' well separated from g
    ([[0.4, 0.4], [0.4, 0.4]], 0.5),  # g' = g although the inputs are separated
])
def test_pair_expectations_refuse_near_parallel_pairs(S2, c12):
    """Off the diagonal, either degeneracy (corr of (a, a') within 1e-12 of ±1, or a conditional variance
    of g' below (1e-6)²·s22) makes the 2-D rule meaningless: a typed error naming the pair's numbers,
    never the diagonal's formula or a quadrature over a degenerate density."""
    with pytest.raises(theory.InputError, match=r"near-parallel pair \(corr of \(a, a'\) = .*conditional variance "
                                                r"of g' = .*\): the limit's quadrature needs separated inputs"):
        lg._pair_expectations(np.array(S2), np.array([[1.0, c12], [c12, 1.0]]), 0.45, 16)
