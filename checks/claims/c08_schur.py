"""C8 (eq. 25): Schur product lower bound λ_min(H) ≥ (γ²/m²)·min_i‖v_i‖²·λ_min(ZᵀZ) (and V ↔ Z)."""

from __future__ import annotations

import numpy as np

import theory

from ..engine.margins import margin_ge
from ..engine.registry import Planted, property_check
from ..engine.verdict import Outcome
from ..model import tol as _tol
from ..model.examples import solved, specs

STRAT = specs(max_m=48)


@property_check("C8", STRAT, statement="λ_min(H) ≥ (γ²/m²)min_i‖v_i‖²λ_min(ZᵀZ) and "
                "≥ (γ²/m²)min_i‖z_i‖²λ_min(VᵀV) (Schur product theorem).",
                controls={"detects_doubled_constant": Planted("Planted: the bound times 2.", {"constant": 2.0}),
                          "detects_max_not_min": Planted("Planted: max_i instead of min_i.", {"pick": "max"})})
def check_c8_schur(spec, constant: float = 1.0, pick: str = "min") -> Outcome:
    pick = {"min": np.min, "max": np.max}[pick]
    s = solved(spec)
    H = theory.gram(s.net, s.eq, s.adj.V)
    V, Z = s.adj.V, s.eq.Z
    c = (s.net.gamma / s.net.m) ** 2
    lam = float(np.linalg.eigvalsh(H)[0])
    lamZ, lamV = np.linalg.eigvalsh(Z.T @ Z)[0], np.linalg.eigvalsh(V.T @ V)[0]
    b1 = constant * c * pick(np.sum(V**2, axis=0)) * lamZ
    b2 = constant * c * pick(np.sum(Z**2, axis=0)) * lamV
    # Eigenvalue errors: n·ε·‖H‖ for λ_min(H) and, propagated through the bound, the same for
    # the factors' λ_min (scaled by c·max‖·‖²), plus the solves' relative accuracy.
    nrm = float(np.linalg.norm(H, 2))
    slack = 3 * _tol.eig_abs(H.shape[0], nrm) + 2 * _tol.rounding(s.net.m, s.net.q) * max(b1, b2, 0.0)
    mg = min(margin_ge(lam, b1, slack), margin_ge(lam, b2, slack))
    return Outcome(float(mg), {"lambda_min_H": lam, "bound_v": float(b1), "bound_z": float(b2), "q": s.net.q})

