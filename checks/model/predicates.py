"""Predicates on recorded paths that several claims read.

* :func:`a_holds_prefix`, :func:`ac_holds`: "λ_min(H) ≥ factor·λ₀ has held on [0, t]" and "… on the
  whole path, with no loss of contraction";
* :func:`local_resolution`: how far below its sampled minimum λ_min/λ₀ may have gone between
  recorded times;
* :func:`crosses_kink`: whether a step of a path crosses a ReLU kink (so a per-step identity is
  only first order there);
* :func:`solver_floor`: the solver error a summed per-step residual carries.
"""

from __future__ import annotations

import numpy as np

from .paths import Summary
from .tol import SOLVE_RTOL


def arr(s: Summary, k: str) -> np.ndarray:
    """A recorded series of a path as an array."""
    return np.asarray(s.path[k], float)


def a_holds_prefix(s: Summary, factor: float = 0.5) -> np.ndarray:
    """λ_min(H(t_j)) ≥ factor·λ₀ at every recorded t_j ≤ t_k, per k (prefix-closed)."""
    return np.cumprod(arr(s, "lam_min") >= factor * s.lambda0).astype(bool)


def ac_holds(s: Summary, factor: float = 0.5) -> bool:
    """λ_min(H(t_j)) ≥ factor·λ₀ at every recorded t_j, and no loss of contraction."""
    return bool(a_holds_prefix(s, factor)[-1]) and s.failure is None


def local_resolution(s: Summary) -> float:
    """How far below its sampled minimum the path's λ_min/λ₀ may have gone between recorded times:
    sampled min − min_k [min(λ_k, λ_k+1) − |λ_k+1 − λ_k|] (a dip no deeper than the variation across
    the interval; on exponential-Euler paths this is checked against Heun by the accuracy evidence)."""
    lam = arr(s, "lam_min") / s.lambda0
    if lam.size < 2:
        return 0.0
    lower = np.minimum(lam[:-1], lam[1:]) - np.abs(np.diff(lam))
    return float(lam.min() - lower.min())


#: A step "crosses a kink" when some pre-activation P (training or held-out) is, at either end of
#: the step, within KINK_REACH times its own change over the step of zero: Heun's predictor
#: extrapolates P linearly, so a crossing inside a stage needs |P| ≲ |ΔP|; the factor 2 covers the
#: predictor/corrector difference (O(h²) of ΔP = O(h)) with room to spare.
KINK_REACH = 2.0


def crosses_kink(P0: np.ndarray, P1: np.ndarray) -> bool:
    """Whether the step from pre-activations P0 to P1 crosses (or comes within reach of) a kink."""
    dP = np.abs(P1 - P0)
    return bool(np.any((np.minimum(np.abs(P0), np.abs(P1)) <= KINK_REACH * dP) | ((P0 > 0) != (P1 > 0))))


def solver_floor(s: Summary) -> float:
    """Solver error of a residual summed over a path's steps: each step's residual holds two f_x and
    two K r evaluations, each from solves accurate to SOLVE_RTOL relative to their O(|f|) scale, so
    ≤ 4·steps·rtol·(|f| scale), with |f| ≤ change of the held-out outputs + 1 here."""
    return 4 * s.steps * SOLVE_RTOL * (1.0 + s.heldout_change)


def ac_tally(at_m: list[Summary], factor: float = 0.5) -> tuple[dict, list[bool]]:
    """The (a) ∧ (c) tally over the paths of one width (a row of a frequency rule), and the per-path
    outcome.  A path's (a) is *uncertain* when the threshold lies within its :func:`local_resolution`
    of its sampled minimum: between two recorded times λ_min may dip below both by up to their
    difference (it jumps at pattern flips).  Uncertain successes count against a VERIFIED, uncertain
    failures (with (c) intact) against a REFUTED (rules.frequency_for_large_m)."""
    a_ok = [bool(a_holds_prefix(s, factor)[-1]) for s in at_m]
    c_ok = [s.failure is None for s in at_m]
    holds = [a and c for a, c in zip(a_ok, c_ok)]
    ratios = [s.maxima["min_lambda_ratio"] for s in at_m]
    unsure = [abs(r - factor) <= local_resolution(s) for r, s in zip(ratios, at_m)]
    row = {"m": at_m[0].m, "n": len(at_m), "holds": int(sum(holds)), "a_holds": int(sum(a_ok)), "c_holds": int(sum(c_ok)),
           "uncertain_holds": int(sum(u and h for u, h in zip(unsure, holds))),
           "uncertain_fails": int(sum(u and not h and c for u, h, c in zip(unsure, holds, c_ok))),
           "min_lambda_ratio": min(ratios), "max_q": max(s.maxima["q_cert"] for s in at_m),
           "steps_median": float(np.median([s.steps for s in at_m]))}
    return row, holds
