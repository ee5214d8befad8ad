"""C2 (Lemma 3.2, eqs. 10-11): implicit derivatives, three independent cross-checks.

1. central finite differences (kink-aware, Richardson) of f along a random direction;
2. an mpmath mirror at 50 digits (exact linear solve on the verified pattern);
3. forward-mode differentiation unrolled through k Picard steps, which must converge
   to the implicit dz with the one-step error recursion of a q-contraction.
Each has a negative control that plants a wrong derivative formula.
"""

from __future__ import annotations

import numpy as np

import theory
from theory import derivatives as dv
from theory import hp

from ..engine.margins import ratio_margin, rel_error
from ..engine.registry import Planted, property_check
from ..engine.verdict import Outcome
from ..model import tol as _tol
from ..model.examples import aux_rng, solved, specs, tiny_specs
from ..model.fd import fd_along

STRAT = specs(max_m=32)

# ------------------------------------------------------------ formula variants under test
# Each returns V' so that the claimed ∂f_i/∂A = scale · v'_i z_iᵀ.


def v_paper(s) -> tuple[np.ndarray, float]:
    """The paper's formula: v = D Qᵀ u, scale γ/m."""
    return s.adj.V, s.net.gamma / s.net.m


def v_drop_D(s) -> tuple[np.ndarray, float]:
    """Planted: D dropped in front of Qᵀu (v = Qᵀu)."""
    return s.adj.Wa, s.net.gamma / s.net.m


def v_Q_not_QT(s) -> tuple[np.ndarray, float]:
    """Planted: Q instead of Qᵀ (v = D Q u)."""
    Q = dv.Q_explicit(s.net, s.eq)
    return s.eq.D * np.einsum("ikl,l->ki", Q, s.net.u), s.net.gamma / s.net.m


def v_sqrt_scaling(s) -> tuple[np.ndarray, float]:
    """Planted: γ/√m instead of γ/m in front of v zᵀ."""
    return s.adj.V, s.net.gamma / np.sqrt(s.net.m)


VARIANTS = {"paper": v_paper, "drop_D": v_drop_D, "Q_not_QT": v_Q_not_QT, "sqrt_scaling": v_sqrt_scaling}


def _direction(spec, net) -> np.ndarray:
    # Natural units: s‖Δ‖₂ = 1, the scale of sA itself (‖sA‖₂ = q < 1).
    G = aux_rng(spec, 2).standard_normal((net.m, net.m))
    return G / (net.s * theory.spectral_norm(G))


# ------------------------------------------------------------ 1. finite differences
@property_check("C2", STRAT, statement="⟨∂f/∂A, Δ⟩ = (γ/m)vᵀΔz equals the Richardson central "
                "difference of f along Δ within its derived truncation + rounding error.",
                controls={"detects_dropped_D": Planted("Planted: v = Qᵀu (D dropped).", {"variant": "drop_D"}),
                          "detects_Q_not_QT": Planted("Planted: v = DQu (Q, not Qᵀ).", {"variant": "Q_not_QT"}),
                          "detects_sqrt_scaling": Planted("Planted: ∂f/∂A = (γ/√m)vzᵀ (wrong width scaling).",
                                                          {"variant": "sqrt_scaling"})})
def check_c2_fd_directional(spec, variant: str = "paper") -> Outcome:
    s = solved(spec)
    Delta = _direction(spec, s.net)
    fd = fd_along(s.net, s.X, Delta, s.eq.D, 1.0)
    if fd is None:
        return Outcome(np.nan, discarded="every step ±h·2^-k crossed a ReLU kink")
    V, scale = VARIANTS[variant](s)
    g = scale * np.einsum("ij,ij->j", V, Delta @ s.eq.Z)
    err = np.abs(g - fd.derivative)
    return Outcome(ratio_margin(fd.allowed, err), {"max_abs_err": float(err.max()), "rel_err": rel_error(g, fd.derivative),
                                          "h": fd.h, "halvings": fd.halvings, "q": s.net.q})



# ------------------------------------------------------------ 2. mpmath at 50 digits
HP_DPS = 50


@property_check("C2", tiny_specs, statement="z, Q, v = DQᵀu and ∂f/∂A in float64 agree with a 50-digit "
                "mpmath mirror within (m+2)ε/(1−γ₀) (+ solver target), ‖Q‖ conditioning.",
                controls={"detects_dropped_D": Planted("Planted: v = Qᵀu (D dropped).", {"variant": "drop_D"})})
def check_c2_mpmath(spec, variant: str = "paper") -> Outcome:
    s = solved(spec)
    net = s.net
    V, scale = VARIANTS[variant](s)
    tol = _tol.rounding(net.m, net.q)
    kappa = (1 + net.q) / (1 - net.q)  # condition number of I − sDA: ‖M‖ ≤ 1+q, ‖M⁻¹‖ ≤ 1/(1−q)
    Q = dv.Q_explicit(net, s.eq)
    worst, numbers = np.inf, {}
    for i in range(s.eq.n):
        r = hp.solve_hp(net, s.X[i], s.eq.D[:, i], dps=HP_DPS).as_float()
        if not np.array_equal(r["P"] > 0, s.eq.D[:, i]):
            return Outcome(np.nan, discarded="float64 and 50-digit patterns differ (pre-activation at a kink)")
        grad = scale * np.outer(V[:, i], s.eq.Z[:, i])
        # The solvers guarantee an error ≤ SOLVE_RTOL·max(‖z‖, ‖φ(Wx)‖) (resp. max(‖w‖, ‖u‖) for the
        # adjoint, of which v = D∘w keeps only some entries): relative to ‖z‖ and ‖v‖ that is
        # SOLVE_RTOL times the ratio of the solve's scale to the compared vector's norm.
        zn, vn = np.linalg.norm(r["z"]), np.linalg.norm(r["v"])
        tz = tol + _tol.solve_rel(zn, np.linalg.norm(s.eq.B[:, i]))
        tv = tol + _tol.solve_rel(vn, max(np.linalg.norm(s.adj.Wa[:, i]), np.sqrt(net.m)))
        errs = {"z": (rel_error(s.eq.Z[:, i], r["z"]), tz),
                "v": (rel_error(V[:, i], r["v"]), tv),
                "grad": (rel_error(grad, r["grad"]), tz + tv + _tol.EPS),  # product of two factors
                "Q": (rel_error(Q[i], r["Q"]), (net.m + 2) * _tol.EPS * kappa)}
        for k, (e, t) in errs.items():
            mg = t / e if e > 0 else np.inf
            if mg < worst:
                worst, numbers = mg, {"quantity": k, "rel_err": e, "allowed": t, "sample": i, "q": net.q}
    return Outcome(float(worst), numbers)


# ------------------------------------------------------------ 3. unrolled forward mode
@property_check("C2", specs(max_m=24, max_n=4), statement="Forward mode unrolled through k Picard steps "
                "converges to the implicit dz: e_{k+1} ≤ γ₀e_k + (γ/√m)‖Δ‖₂‖z_k − z*‖ and e_K ≤ rounding floor.",
                controls={"detects_dropped_D": Planted("Planted: the implicit dz without D, (I − sDA)⁻¹sΔz.",
                                                       {"drop_D_in_limit": True})})
def check_c2_unrolled(spec, drop_D_in_limit: bool = False) -> Outcome:
    s = solved(spec)
    net = s.net
    Delta = _direction(spec, net)
    dZ_star = dv.dz_directional(net, s.eq, Delta, rtol=_tol.SOLVE_RTOL)
    if drop_D_in_limit:  # planted: dz = s·Q Δ z, D dropped (solve (I − sDA)dz = sΔz)
        rhs = net.s * (Delta @ s.eq.Z)
        Q = dv.Q_explicit(net, s.eq)
        dZ_star = np.einsum("ikl,li->ki", Q, rhs)
    k = min(int(np.ceil(np.log(_tol.SOLVE_RTOL * (1 - net.q)) / np.log(max(net.q, 1e-3)))) + 60, 3000)
    path = theory.picard_path(net, s.X, k)
    dZs = dv.unrolled_forward(net, s.X, Delta, k)
    e = np.array([np.linalg.norm(dZ - dZ_star) for dZ in dZs])  # e_j = ‖dZ_{j} − dZ*‖_F, j = 1..k
    zerr = np.array([np.linalg.norm(Z - s.eq.Z) for Z in path])  # ‖Z_j − Z*‖_F, j = 0..k
    # Floor: the reference dZ*, Z* carry relative error ≤ rounding(m, q).
    r = _tol.rounding(net.m, net.q)
    floor = 10 * r * (np.linalg.norm(dZ_star) + np.linalg.norm(net.s * Delta @ s.eq.Z) + 1e-300)
    s_delta = net.s * theory.spectral_norm(Delta)
    margins = []
    for j in range(1, k):  # e_{j+1} ≤ q·e_j + s‖Δ‖₂‖Z_j − Z*‖_F once the pattern has settled
        P_j = net.s * (net.A @ path[j]) + s.eq.B
        if np.array_equal(P_j > 0, s.eq.D) and e[j] > floor:
            margins.append((net.q * e[j - 1] + s_delta * zerr[j] + floor) / e[j])
    final = floor / e[-1] if e[-1] > 0 else np.inf
    worst = min([final, *margins])
    return Outcome(float(worst), {"final_err": float(e[-1]), "floor": float(floor), "steps": k,
                                  "recursion_steps": len(margins), "q": net.q})
