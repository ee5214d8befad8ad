"""Unit tests of our reference code (not claims of the paper), added where mutation testing
showed a behaviour no claim check pinned down: the mpmath mirror's outputs and its pattern
repair, and the resolvability threshold of λ₀.  Tolerances: the mirror agrees with a float64
solve to the float64 solve's own accuracy: its target SOLVE_RTOL (relative to max(‖x‖, ‖input‖))
amplified by ‖Q‖ ≤ 1/(1 − q) = 2 at q = 0.5, plus rounding (m + 2)·ε/(1 − q)."""

from __future__ import annotations

import numpy as np
import pytest

import theory
from theory import hp
from theory.equilibrium import SOLVE_RTOL  # noqa: E402

# the solve's target on the scale max(‖z‖, ‖φ(Wx)‖) (resp. max(‖w‖, ‖u‖) ≤ √m/(1−q) for v), times ‖Q‖ ≤ 2,
# and 2 for f = uᵀz/√m's possible cancellation; the rounding (m + 2)ε/(1 − q) ≈ 4e-15 is below it
RTOL_MIRROR = 4 * SOLVE_RTOL


def _small(m=6, d=3, n=3, seed=0):
    net = theory.init_network(m, d, gamma0=0.5, gamma_rule="gamma0/c", rng=np.random.default_rng(seed))
    X, _ = theory.make_data(n, d, np.random.default_rng(seed + 1))
    eq = theory.solve_equilibrium(net, X)
    adj = theory.solve_adjoint(net, eq)
    return net, X, eq, adj


@pytest.mark.parametrize("seed", range(4))
def test_hp_mirror_matches_float64_outputs(seed):
    net, X, eq, adj = _small(seed=seed)
    f = theory.output(net, eq.Z)
    for i in range(X.shape[0]):
        r = hp.solve_hp(net, X[i], eq.D[:, i]).as_float()
        scale = max(1.0, float(np.linalg.norm(eq.Z[:, i])))
        assert abs(r["f"] - f[i]) <= RTOL_MIRROR * scale, "f = uᵀz/√m differs"
        np.testing.assert_allclose(r["z"], eq.Z[:, i], rtol=0, atol=RTOL_MIRROR * scale)
        np.testing.assert_allclose(r["v"], adj.V[:, i], rtol=0, atol=RTOL_MIRROR * max(np.sqrt(net.m), np.abs(adj.V).max()))
        grad = (net.gamma / net.m) * np.outer(adj.V[:, i], eq.Z[:, i])
        np.testing.assert_allclose(r["grad"], grad, rtol=0, atol=2 * RTOL_MIRROR * np.sqrt(net.m) * max(1.0, np.abs(grad).max()))
        assert r["P"][eq.D[:, i]].min() > 0 and (r["P"][~eq.D[:, i]] <= 0).all()


def test_hp_mirror_repairs_a_wrong_starting_pattern():
    net, X, eq, _ = _small(seed=2)
    good = hp.solve_hp(net, X[0], eq.D[:, 0]).as_float()
    wrong = hp.solve_hp(net, X[0], ~eq.D[:, 0]).as_float()  # every sign wrong at the start
    # the repaired pattern is the same, so the same exact linear solve: bitwise-equal results
    np.testing.assert_array_equal(wrong["z"], good["z"])
    assert wrong["f"] == good["f"]


def test_hp_mirror_reports_precision_and_kink_distance():
    net, X, eq, _ = _small(seed=3)
    r = hp.solve_hp(net, X[0], eq.D[:, 0], dps=40)
    assert r.dps == 40
    assert r.min_abs_preact == pytest.approx(float(np.abs(eq.P[:, 0]).min()), rel=1e-12, abs=0)


def test_hp_mirror_refuses_large_widths():
    net = theory.init_network(hp.MAX_M + 1, 2, rng=np.random.default_rng(0))
    X, _ = theory.make_data(1, 2, np.random.default_rng(1))
    with pytest.raises(theory.InputError, match=f"m ≤ {hp.MAX_M}"):
        hp.solve_hp(net, X[0], np.ones(hp.MAX_M + 1, bool))
    ok = theory.init_network(hp.MAX_M, 2, rng=np.random.default_rng(0))  # the boundary is allowed
    eq = theory.solve_equilibrium(ok, X)
    hp.solve_hp(ok, X[0], eq.D[:, 0], dps=20)


@pytest.mark.parametrize("c", [1e-6, 1.0, 1e6])
def test_lambda0_threshold_scales_with_the_spectral_norm(c):
    """λ₀ is resolvable iff λ_min > n·ε·‖H‖₂, whatever the scale of H (not ‖H‖_F, not a constant)."""
    n = 10
    thr = n * np.finfo(float).eps * c
    for lam_min, resolvable in ((0.5 * thr, False), (2.0 * thr, True)):
        H = c * np.diag(np.r_[np.ones(n - 1), 0.0]) + lam_min * np.diag(np.r_[np.zeros(n - 1), 1.0])
        # ‖H‖₂ = c while ‖H‖_F = 3c: a Frobenius threshold would call 2·thr unresolvable
        if resolvable:
            assert theory.lambda0(H) == pytest.approx(lam_min, rel=1e-6, abs=0)
        else:
            with pytest.raises(theory.SingularGramError):
                theory.lambda0(H)
    assert theory.lambda_min(np.diag([3.0, 1.0, 2.0])) == 1.0


def test_hp_mirror_confirms_a_correct_pattern_in_one_pass():
    net, X, eq, _ = _small(seed=1)
    r = hp.solve_hp(net, X[0], eq.D[:, 0], max_passes=1)  # the float64 pattern is already consistent
    assert r.dps == 50  # the documented default precision
    with pytest.raises(theory.ConvergenceError, match="high-precision pattern search did not converge in 1 iterations") as info:
        hp.solve_hp(net, X[0], ~eq.D[:, 0], max_passes=1)
    e = info.value
    assert (e.what, e.iterations, e.history, e.target) == ("high-precision pattern search", 1, [], 1e-40)


def test_hp_mirror_rejects_an_inaccurate_linear_solve(monkeypatch):
    """Fault injection: a linear solve off by 1e-30 leaves a fixed-point residual ≈ 1e-30, far
    above the 10^−(dps−10) = 1e-40 the mirror certifies; it must refuse, not return."""
    net, X, eq, _ = _small(seed=1)
    exact = hp.mpmath.lu_solve

    def sloppy(M, rhs):
        z = exact(M, rhs)
        return z + hp.mpmath.matrix([hp.mpmath.mpf("1e-30")] * len(z))

    monkeypatch.setattr(hp.mpmath, "lu_solve", sloppy)
    with pytest.raises(theory.ConvergenceError, match="high-precision fixed point did not converge in 1 iterations") as info:
        hp.solve_hp(net, X[0], eq.D[:, 0])
    e = info.value
    assert e.what == "high-precision fixed point" and e.iterations == 1 and e.target == 1e-40
    assert len(e.history) == 1 and 1e-31 < e.history[0] < 1e-29
