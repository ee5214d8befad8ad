"""C1 (eq. 2, (14)): contraction, uniqueness, Picard ratio, norm bound, initial moment."""

from __future__ import annotations

import numpy as np

import theory

from ..engine import profiles
from ..engine.margins import margin_le, ratio_margin
from ..engine.registry import Planted, experiment, property_check
from ..engine.verdict import INCONCLUSIVE, REFUTED, VERIFIED, Counterexample, Outcome, Result
from ..model import tol as _tol
from ..model.examples import aux_rng, build, solved, specs

STRAT = specs()


# ---------------------------------------------------------------- uniqueness from any start
@property_check("C1", STRAT, statement="The equilibrium is unique: Picard from z=0 and from a far "
                "random start reach the same z within the a-posteriori bounds.",
                controls={"detects_forged_certificate": Planted(
                    "Planted: the same A with a contraction certificate ten times too small (q/10): the two "
                    "starts must then agree within that certificate's a-posteriori bounds.", {"q_factor": 0.1})})
def check_c1_unique_fixed_point(spec, q_factor: float = 1.0) -> Outcome:
    net, X, _ = build(spec)
    if q_factor != 1.0:  # planted: Network trusts a given certificate, so the solver stops on its bound
        net = net.with_A(net.A, q=net.q * q_factor)
    rng = aux_rng(spec, 1)
    a = theory.solve_equilibrium(net, X, rtol=_tol.SOLVE_RTOL)
    far = 10.0 * (1.0 + np.abs(a.B).max()) * np.abs(rng.standard_normal(a.Z.shape))
    b = theory.solve_equilibrium(net, X, Z0=far, rtol=_tol.SOLVE_RTOL)
    gap = np.linalg.norm(a.Z - b.Z, axis=0)
    scale = np.maximum(np.linalg.norm(a.Z, axis=0), np.linalg.norm(a.B, axis=0))
    # Both iterates are within their a-posteriori bounds of z*; the bounds themselves and the
    # map carry relative rounding ≤ rounding(m, q) (the bound can be attained: m = 1).
    r = _tol.rounding(net.m, net.q)
    allowed = (a.error_bound + b.error_bound) * (1 + r) + r * scale
    return Outcome(ratio_margin(allowed, gap), {"max_gap": float(gap.max()), "q": net.q,
                                          "iterations": (a.iterations, b.iterations)})


# ---------------------------------------------------------------- Picard ratio ≤ γ₀
@property_check("C1", STRAT, statement="Every Picard step contracts: ‖z_{k+1}−z_k‖ ≤ γ₀‖z_k−z_{k−1}‖ "
                "(γ₀ = measured γ‖A‖₂/√m); examples whose every step is at the rounding floor are discarded.",
                controls={"detects_quarter_gamma": Planted("Planted: Picard ratio ≤ γ₀/4 (a wrong constant).",
                                                           {"claimed_factor": 0.25})})
def check_c1_picard_ratio(spec, claimed_factor: float = 1.0) -> Outcome:
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
    if not usable.any():  # nothing measurable (e.g. z reached in one step): not evidence either way
        return Outcome(np.nan, {"q": net.q, "usable_steps": 0}, discarded="no Picard step above the rounding floor")
    ratios = num[usable] / den[usable]
    allowed = claimed_factor * net.q * (1 + 2e-6)
    worst = float(ratios.max())
    return Outcome(allowed / worst, {"max_ratio": worst, "q": net.q, "usable_steps": int(usable.sum())})


# ---------------------------------------------------------------- ‖z‖ bound (14)
@property_check("C1", STRAT, statement="(14): ‖z‖ ≤ ‖φ(Wx)‖/(1−γ₀) ≤ c_W√m/(1−γ₀) for every sample.",
                controls={"detects_dropped_factor": Planted("Planted: ‖z‖ ≤ ‖φ(Wx)‖ (the factor 1/(1−γ₀) dropped).",
                                                            {"drop_factor": True})})
def check_c1_norm_bound(spec, drop_factor: bool = False) -> Outcome:
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


# ---------------------------------------------------------------- E f(x)² ≤ 1/(1−γ₀)²
MOMENT_M, MOMENT_D, MOMENT_GAMMA0 = 64, 4, 0.5
MOMENT_MIN_SEEDS = 400  # CLT band half-width 3.29·σ/√400 ≈ 0.16σ: resolves E f² ≈ 0.5 from 1/4 and 4


@experiment("C1", statement="At initialisation (4) E f(x)² ≤ 1/(1−γ₀)² (Monte Carlo over seeds, "
            "99.9% CLT band entirely below the bound).",
            controls={"detects_small_bound": Planted("Planted: E f(x)² ≤ 1/4.", {"claimed": 0.25, "label": "1/4"})})
def check_c1_init_moment(claimed: float = 1.0 / (1.0 - MOMENT_GAMMA0) ** 2,
                         label: str = "1/(1-γ₀)²") -> Result:
    N = max(MOMENT_MIN_SEEDS, profiles.examples())
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
    cex = None if verdict != REFUTED else Counterexample(spec={"m": MOMENT_M, "gamma0": MOMENT_GAMMA0, "seeds": N},
                                                         margin=claimed / lo, numbers=ev)
    return Result(verdict=verdict, examples=N, worst_margin=claimed / hi if hi > 0 else np.inf, counterexample=cex,
                  evidence=ev)
