"""C10 (eqs. 18-19): the linearised model g_t interpolates ĝ(t) on the data, and ĝ solves
dĝ/dt = −H₀(ĝ − y).  C11 (Lemma 4.2, eqs. 22, 36): α_tᵀH₀α_t ≤ B² = rᵀH₀⁻¹r for all t;
the exact Rademacher complexity (B/n)E_ε√(εᵀH₀ε) ≤ (B/n)√tr H₀; the eigen form of the
dominating term; AM-HM (Σλ)(Σ1/λ) ≥ n²."""

from __future__ import annotations

import numpy as np
import pytest

import theory
from theory import bounds

from . import _tol
from ._solved import solved
from .harness import Outcome, margin_ge, margin_le, property_check, verify
from .strategies import specs

STRAT = specs(max_m=40, max_n=8, min_m=4)
T_GRID = (0.0, 0.3, 1.0, 3.0, 10.0, 100.0)  # in units of 1/λ₀


def _setup(spec):
    s = solved(spec)
    H0 = theory.gram(s.net, s.eq, s.adj.V)
    try:
        eig = bounds.Eig(H0)
    except theory.SingularGramError:
        return None
    return s, H0, eig


def _cond_tol(eig, n) -> float:
    # Solving with H₀: relative error ≤ κ(H₀)·n·ε (backward-stable eigh), plus the solves' target.
    kappa = eig.lam[-1] / eig.lam[0]
    return kappa * n * _tol.EPS * 10 + _tol.SOLVE_RTOL * kappa


def _interp(spec, planted: bool) -> Outcome:
    st = _setup(spec)
    if st is None:
        return Outcome(np.nan, discarded="H(0) singular (parallel inputs or dead samples)")
    s, H0, eig = st
    f0, r = s.f, s.y - s.f
    K0 = theory.gram(s.net, s.eq, s.adj.V)  # K_0(X, X): the path kernel at t = 0 on the data
    if planted:  # planted: K_0 built from z only (v dropped): (γ²/m²)·m·ZᵀZ
        K0 = (s.net.gamma / s.net.m) ** 2 * s.net.m * (s.eq.Z.T @ s.eq.Z)
    worst, nums = np.inf, {}
    # Both sides are y + (terms of size ‖f0 − y‖): errors are absolute on the scale ‖y‖ + ‖f0 − y‖
    # (a relative test fails spuriously when ĝ(t) ≈ 0, e.g. f(0) = 0 at t = 0).
    tol = _cond_tol(eig, len(r))
    scale = np.linalg.norm(s.y) + np.linalg.norm(r)
    for tl in T_GRID:
        t = tl / eig.lam[0]
        e = float(np.linalg.norm(bounds.g_t(f0, K0, eig, r, t) - bounds.g_hat(eig, f0, s.y, t)) / scale)
        mg = tol / e if e > 0 else np.inf
        if mg < worst:
            worst, nums = mg, {"t_lambda0": tl, "rel_err": e, "allowed": tol}
    return Outcome(float(worst), nums)


@property_check("C10", STRAT, statement="(18)-(19): g_t(X) = f_0(X) + K_0(X,X)α_t equals ĝ(t) = y + e^{−H₀t}(f(0) − y) "
                "for t·λ₀ ∈ {0, 0.3, 1, 3, 10, 100}, within κ(H₀)·nε.")
def check_c10_interpolation(spec) -> Outcome:
    return _interp(spec, False)


@property_check("C10", STRAT, control_of="check_c10_interpolation",
                statement="Planted: K_0 without the v-factor ((γ²/m)ZᵀZ).")
def check_c10_interpolation_detects_dropped_v(spec) -> Outcome:
    return _interp(spec, True)


def _ode(spec, sign: float) -> Outcome:
    st = _setup(spec)
    if st is None:
        return Outcome(np.nan, discarded="H(0) singular")
    s, H0, eig = st
    worst = np.inf
    for tl in T_GRID[1:4]:
        t = tl / eig.lam[0]
        h = _tol.H_FD / eig.lam[-1]  # natural time unit 1/λ_max
        d = (bounds.g_hat(eig, s.f, s.y, t + h) - bounds.g_hat(eig, s.f, s.y, t - h)) / (2 * h)
        rhs = sign * -H0 @ (bounds.g_hat(eig, s.f, s.y, t) - s.y)
        # central difference in t: truncation h²/6·‖H₀³‖‖ĝ − y‖; rounding: ĝ = y + E e^{−Λt}Eᵀ(f0 − y)
        # carries absolute error ≤ n·ε(‖y‖ + ‖f0 − y‖) (a few flops per entry), divided by h.
        g = bounds.g_hat(eig, s.f, s.y, t)
        scale = np.linalg.norm(s.y) + np.linalg.norm(s.f - s.y)
        allowed = (h**2 / 6 * eig.lam[-1] ** 3 * np.linalg.norm(g - s.y) + 4 * len(g) * _tol.EPS * scale / h
                   + _cond_tol(eig, len(g)) * np.linalg.norm(rhs))
        err = np.linalg.norm(d - rhs)
        worst = min(worst, allowed / err if err > 0 else np.inf)
    return Outcome(float(worst), {"q": s.net.q})


@property_check("C10", STRAT, statement="ĝ solves dĝ/dt = −H₀(ĝ − y) (central difference in t).")
def check_c10_ode(spec) -> Outcome:
    return _ode(spec, 1.0)


@property_check("C10", STRAT, control_of="check_c10_ode", statement="Planted: dĝ/dt = +H₀(ĝ − y).")
def check_c10_ode_detects_sign(spec) -> Outcome:
    return _ode(spec, -1.0)


def _rkhs(spec, factor: float) -> Outcome:
    st = _setup(spec)
    if st is None:
        return Outcome(np.nan, discarded="H(0) singular")
    s, H0, eig = st
    r = s.y - s.f
    B2 = eig.B2(r)
    n = len(r)
    slack = _cond_tol(eig, n) * B2
    mg = []
    for tl in T_GRID + (1e6,):
        a = eig.alpha(r, tl / eig.lam[0])
        mg.append(margin_le(float(a @ H0 @ a), factor * B2, slack))
    B = np.sqrt(B2)
    rad = bounds.rademacher_exact(H0, B)
    rad_bound = factor * B / n * np.sqrt(np.trace(H0))
    mg.append(margin_le(rad, rad_bound, 4 * n * _tol.EPS * rad_bound))
    # eigen form: √(Σλ·Σc²/λ) = √(B²·trH₀) and AM-HM (Σλ)(Σ1/λ) ≥ n².
    c = eig.E.T @ r
    eig_form = np.sqrt(np.sum(eig.lam) * np.sum(c**2 / eig.lam))
    direct = np.sqrt(B2 * np.trace(H0))
    e = abs(eig_form - direct) / direct if direct > 0 else 0.0
    mg.append(_cond_tol(eig, n) / e if e > 0 else np.inf)
    mg.append(margin_ge(float(np.sum(eig.lam) * np.sum(1 / eig.lam)), n**2, 4 * n * _tol.EPS * n**2 * (eig.lam[-1] / eig.lam[0])))
    return Outcome(float(min(mg)), {"B2": B2, "rademacher_exact": rad, "rademacher_bound": rad_bound, "n": n})


@property_check("C11", specs(max_m=40, max_n=12, min_m=4), statement="(36) α_tᵀH₀α_t ≤ rᵀH₀⁻¹r for all t; (22) exact "
                "(2ⁿ-enumerated) Rademacher ≤ (B/n)√tr H₀; eigen form = √(B²trH₀); AM-HM.")
def check_c11_rkhs_and_rademacher(spec) -> Outcome:
    return _rkhs(spec, 1.0)


@property_check("C11", specs(max_m=40, max_n=12, min_m=4), control_of="check_c11_rkhs_and_rademacher",
                statement="Planted: the bounds of (36) and (22) halved.")
def check_c11_rkhs_and_rademacher_detects_half(spec) -> Outcome:
    return _rkhs(spec, 0.5)


NAMES = ["check_c10_interpolation", "check_c10_interpolation_detects_dropped_v", "check_c10_ode",
         "check_c10_ode_detects_sign", "check_c11_rkhs_and_rademacher", "check_c11_rkhs_and_rademacher_detects_half"]


@pytest.mark.parametrize("name", NAMES)
def test_c10_c11(name):
    verify(name)
