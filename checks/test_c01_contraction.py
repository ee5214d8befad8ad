"""C1 (eq. 2, (14)): contraction, uniqueness, Picard ratio, norm bound, initial moment."""

from __future__ import annotations

import numpy as np
import pytest

import theory

from . import _tol
from ._solved import aux_rng, solved
from .harness import (
    INCONCLUSIVE,
    REFUTED,
    VERIFIED,
    Outcome,
    Result,
    experiment,
    margin_le,
    property_check,
    ratio_margin,
    verify,
)
from .strategies import build, specs

STRAT = specs()


# ---------------------------------------------------------------- uniqueness from any start
def _unique(spec, A_scale: float) -> Outcome:
    net, X, _ = build(spec)
    if A_scale != 1.0:  # planted defect: a non-contractive A, certificate forged to pass construction
        net = net.with_A(net.A * A_scale, q=min(net.q, 0.5))
    rng = aux_rng(spec, 1)
    try:
        a = theory.solve_equilibrium(net, X, rtol=_tol.SOLVE_RTOL)
        far = 10.0 * (1.0 + np.abs(a.B).max()) * np.abs(rng.standard_normal(a.Z.shape))
        b = theory.solve_equilibrium(net, X, Z0=far, rtol=_tol.SOLVE_RTOL)
    except theory.ConvergenceError as e:
        return Outcome(0.0, {"error": str(e).splitlines()[0]})
    gap = np.linalg.norm(a.Z - b.Z, axis=0)
    scale = np.maximum(np.linalg.norm(a.Z, axis=0), np.linalg.norm(a.B, axis=0))
    # Both iterates are within their a-posteriori bounds of z*; the bounds themselves and the
    # map carry relative rounding ≤ rounding(m, q) (the bound can be attained: m = 1).
    r = _tol.rounding(net.m, net.q)
    allowed = (a.error_bound + b.error_bound) * (1 + r) + r * scale
    return Outcome(ratio_margin(allowed, gap), {"max_gap": float(gap.max()), "q": net.q,
                                          "iterations": (a.iterations, b.iterations)})


@property_check("C1", STRAT, statement="The equilibrium is unique: Picard from z=0 and from a far "
                "random start reach the same z within the a-posteriori bounds.")
def check_c1_unique_fixed_point(spec) -> Outcome:
    return _unique(spec, 1.0)


@property_check("C1", STRAT, control_of="check_c1_unique_fixed_point",
                statement="Planted: uniqueness/attraction also holds with γ‖A‖₂/√m scaled to 3/γ₀·q (> 1).")
def check_c1_unique_fixed_point_detects_noncontractive(spec) -> Outcome:
    net, _, _ = build(spec)
    return _unique(spec, 3.0 / net.q)


# ---------------------------------------------------------------- Picard ratio ≤ γ₀
def _ratio(spec, claimed_factor: float) -> Outcome:
    s = solved(spec)
    net = s.net
    zs = np.linalg.norm(s.eq.Z, axis=0)
    # Differences below this floor are dominated by rounding: the computed diff has relative
    # error ≤ rounding(m, q)·‖z‖/floor = 1e-6, so ratios above the floor carry ≤ 2e-6 error.
    floor = 1e6 * _tol.rounding(net.m, net.q) * zs
    k = min(s.eq.iterations + 2, 2000)
    path = theory.picard_path(net, s.X, k)
    diffs = np.array([np.linalg.norm(path[j + 1] - path[j], axis=0) for j in range(k)])  # k×n
    num, den = diffs[1:], diffs[:-1]
    usable = (den > floor) & (num > floor)
    if not usable.any():
        return Outcome(np.inf, {"q": net.q, "usable_steps": 0})
    ratios = num[usable] / den[usable]
    allowed = claimed_factor * net.q * (1 + 2e-6)
    worst = float(ratios.max())
    return Outcome(allowed / worst, {"max_ratio": worst, "q": net.q, "usable_steps": int(usable.sum())})


@property_check("C1", STRAT, statement="Every Picard step contracts: ‖z_{k+1}−z_k‖ ≤ γ₀‖z_k−z_{k−1}‖ "
                "(γ₀ = measured γ‖A‖₂/√m).")
def check_c1_picard_ratio(spec) -> Outcome:
    return _ratio(spec, 1.0)


@property_check("C1", STRAT, control_of="check_c1_picard_ratio",
                statement="Planted: Picard ratio ≤ γ₀/4 (a wrong constant).")
def check_c1_picard_ratio_detects_quarter_gamma(spec) -> Outcome:
    return _ratio(spec, 0.25)


# ---------------------------------------------------------------- ‖z‖ bound (14)
def _norm_bound(spec, drop_factor: bool) -> Outcome:
    s = solved(spec)
    net = s.net
    z = np.linalg.norm(s.eq.Z, axis=0)
    b = np.linalg.norm(s.eq.B, axis=0)
    amp = 1.0 if drop_factor else 1.0 / (1.0 - net.q)
    slack = _tol.rounding(net.m, net.q) * z
    m1 = np.min([margin_le(zi, amp * bi, sl) for zi, bi, sl in zip(z, b, slack)])
    cw_bound = amp * net.c_W * np.sqrt(net.m)
    m2 = np.min([margin_le(zi, cw_bound, sl) for zi, sl in zip(z, slack)])
    return Outcome(float(min(m1, m2)), {"max_norm_z": float(z.max()), "phi_bound": float((amp * b).max()),
                                        "cW_bound": float(cw_bound), "q": net.q})


@property_check("C1", STRAT, statement="(14): ‖z‖ ≤ ‖φ(Wx)‖/(1−γ₀) ≤ c_W√m/(1−γ₀) for every sample.")
def check_c1_norm_bound(spec) -> Outcome:
    return _norm_bound(spec, False)


@property_check("C1", STRAT, control_of="check_c1_norm_bound",
                statement="Planted: ‖z‖ ≤ ‖φ(Wx)‖ (the factor 1/(1−γ₀) dropped).")
def check_c1_norm_bound_detects_dropped_factor(spec) -> Outcome:
    return _norm_bound(spec, True)


# ---------------------------------------------------------------- E f(x)² ≤ 1/(1−γ₀)²
MOMENT_M, MOMENT_D, MOMENT_GAMMA0 = 64, 4, 0.5
MOMENT_MIN_SEEDS = 400  # CLT band half-width 3.29·σ/√400 ≈ 0.16σ: resolves E f² ≈ 0.5 from 1/4 and 4


def _moment(budget: int, claimed: float, label: str) -> Result:
    N = max(MOMENT_MIN_SEEDS, budget)
    x = np.ones((1, MOMENT_D)) / np.sqrt(MOMENT_D)
    f2 = np.empty(N)
    for i in range(N):
        net = theory.init_network(MOMENT_M, MOMENT_D, gamma0=MOMENT_GAMMA0, gamma_rule="gamma0/c",
                                  rng=np.random.default_rng([i, 7]))
        f2[i] = theory.forward(net, x, rtol=_tol.SOLVE_RTOL)[0] ** 2
    mean, std = float(f2.mean()), float(f2.std(ddof=1))
    lo, hi = _tol.mc_lower(mean, std, N), _tol.mc_upper(mean, std, N)
    verdict = VERIFIED if hi <= claimed else REFUTED if lo > claimed else INCONCLUSIVE
    ev = {"seeds": N, "m": MOMENT_M, "gamma0": MOMENT_GAMMA0, "mean_f2": mean, "ci_99.9": [lo, hi],
          "claimed_bound": claimed, "bound_label": label}
    cex = None if verdict != REFUTED else {"spec": {"m": MOMENT_M, "gamma0": MOMENT_GAMMA0, "seeds": N},
                                           "margin": claimed / lo, "numbers": ev, "replay": ""}
    return Result("", "", verdict, N, claimed / hi if hi > 0 else np.inf, cex, ev)


@experiment("C1", statement="At initialisation (4) E f(x)² ≤ 1/(1−γ₀)² (Monte Carlo over seeds, "
            "99.9% CLT band entirely below the bound).")
def check_c1_init_moment(budget: int) -> Result:
    return _moment(budget, 1.0 / (1.0 - MOMENT_GAMMA0) ** 2, "1/(1-γ₀)²")


@experiment("C1", control_of="check_c1_init_moment", statement="Planted: E f(x)² ≤ 1/4.")
def check_c1_init_moment_detects_small_bound(budget: int) -> Result:
    return _moment(budget, 0.25, "1/4")


NAMES = ["check_c1_unique_fixed_point", "check_c1_unique_fixed_point_detects_noncontractive",
         "check_c1_picard_ratio", "check_c1_picard_ratio_detects_quarter_gamma",
         "check_c1_norm_bound", "check_c1_norm_bound_detects_dropped_factor",
         "check_c1_init_moment", "check_c1_init_moment_detects_small_bound"]


@pytest.mark.parametrize("name", NAMES)
def test_c01(name):
    verify(name)
