"""C3 (eq. 34): σ_min(I − (γ/√m)DA) ≥ 1 − γ₀, hence ‖Q‖₂ ≤ 1/(1−γ₀) and ‖v‖ ≤ √m/(1−γ₀)."""

from __future__ import annotations

import numpy as np

from ..engine.margins import margin_ge, margin_le
from ..engine.registry import Planted, property_check
from ..engine.verdict import Outcome
from ..model import tol as _tol
from ..model.examples import solved, specs

STRAT = specs(max_m=40)


@property_check("C3", STRAT, statement="σ_min(I − (γ/√m)D_iA) ≥ 1 − γ₀ for every sample's pattern, "
                "and ‖v_i‖ ≤ √m/(1−γ₀).",
                controls={"detects_half_gamma": Planted("Planted: σ_min ≥ 1 − γ₀/2 and ‖v‖ ≤ √m/(1−γ₀/2) (wrong "
                                                        "constant).", {"claimed_gap": 0.5})})
def check_c3_sigma_min(spec, claimed_gap: float = 1.0) -> Outcome:
    """claimed_gap = 1 for the paper's 1 − γ₀; 1/2 plants 1 − γ₀/2."""
    s = solved(spec)
    net = s.net
    M = np.eye(net.m)[None] - net.s * s.eq.D.T[:, :, None] * net.A[None]  # n stacked I − sD_iA
    smin = np.linalg.svd(M, compute_uv=False)[:, -1]
    bound = 1.0 - claimed_gap * net.q
    # LAPACK singular values: absolute error ≤ (m+2)ε‖M‖₂ ≤ (m+2)ε(1+q).
    slack = (net.m + 2) * _tol.EPS * (1 + net.q)
    m_sigma = min(margin_ge(float(x), bound, slack) for x in smin)
    vnorm = np.linalg.norm(s.adj.V, axis=0)
    vbound = np.sqrt(net.m) / (1.0 - claimed_gap * net.q)
    m_v = min(margin_le(float(x), vbound, _tol.rounding(net.m, net.q) * vbound) for x in vnorm)
    return Outcome(float(min(m_sigma, m_v)), {"min_sigma": float(smin.min()), "bound": bound,
                                              "max_norm_v": float(vnorm.max()), "v_bound": vbound,
                                              "q": net.q})

