"""C4 (eq. 35): ‖∂f/∂A‖_F = (γ/m)‖v‖‖z‖ ≤ γc_W/(1−γ₀)², a bound independent of m."""

from __future__ import annotations

import numpy as np

from theory import derivatives as dv

from ..engine.margins import margin_le
from ..engine.registry import Planted, property_check
from ..engine.verdict import Outcome
from ..model import tol as _tol
from ..model.examples import solved, specs

STRAT = specs(max_m=48)  # the explicit Jacobian holds n·m⁴ doubles


@property_check("C4", STRAT, statement="‖∂f_i/∂A‖_F ≤ γc_W/(1−γ₀)² for every sample, with ∂f_i/∂A the row of the "
                "explicit Jacobian (explicit inverses Q, no adjoint solve); and it equals (γ/m)‖v_i‖‖z_i‖ with v_i from "
                "the adjoint contraction.",
                controls={"detects_quarter_constant": Planted("Planted: ‖∂f/∂A‖_F ≤ γc_W/(4(1−γ₀)²) (wrong constant).",
                                                              {"constant": 0.25}),
                          "detects_sqrt_scaling": Planted("Planted: ∂f/∂A = (γ/√m)vzᵀ, whose norm grows like √m past "
                                                          "the m-free bound.", {"scale_power": 0.5})})
def check_c4_gradient_bound(spec, constant: float = 1.0, scale_power: float = 1.0) -> Outcome:
    """constant multiplies the paper's bound; scale_power = 1 uses γ/m (paper), 0.5 plants γ/√m."""
    s = solved(spec)
    net = s.net
    bound = constant * net.gamma * net.c_W / (1.0 - net.q) ** 2
    J = dv.jacobian_f_explicit(net, s.eq) * net.m ** (1.0 - scale_power)  # oracle: explicit Q = (I − sDA)⁻¹
    r = _tol.rounding(net.m, net.q)
    # ‖Q‖ ≤ 1/(1−q) amplifies rounding once in the explicit inverse: relative error ≤ (m+2)ε/(1−q) + r
    tol_explicit = (net.m + 2) * _tol.EPS / (1.0 - net.q) + r
    worst, numbers = np.inf, {}
    for i in range(s.eq.n):
        g = float(np.linalg.norm(J[i]))
        # independent route: (γ/m^p)‖v_i‖‖z_i‖ with v_i from the adjoint contraction
        product = (net.gamma / net.m ** scale_power) * np.linalg.norm(s.adj.V[:, i]) * np.linalg.norm(s.eq.Z[:, i])
        ident = ((tol_explicit + 2 * r) * product) / abs(g - product) if g != product else np.inf
        mg = min(ident, margin_le(g, bound, 2 * tol_explicit * bound))
        if mg < worst:
            worst, numbers = mg, {"grad_fro_explicit": g, "product_adjoint": float(product), "bound": bound,
                                  "sample": i, "q": net.q, "c_W": net.c_W, "m": net.m}
    return Outcome(float(worst), numbers)
