"""C4 (eq. 35): ‖∂f/∂A‖_F = (γ/m)‖v‖‖z‖ ≤ γc_W/(1−γ₀)², a bound independent of m."""

from __future__ import annotations

import numpy as np
import pytest

from theory import derivatives as dv

from . import _tol
from ._solved import solved
from .harness import Outcome, margin_le, property_check, verify
from .strategies import specs

STRAT = specs(max_m=64)


def _grad_bound(spec, constant: float, scale_power: float) -> Outcome:
    """constant multiplies the paper's bound; scale_power = 1 uses γ/m (paper), 0.5 plants γ/√m."""
    s = solved(spec)
    net = s.net
    bound = constant * net.gamma * net.c_W / (1.0 - net.q) ** 2
    worst, numbers = np.inf, {}
    for i in range(s.eq.n):
        G = dv.grad_f(net, s.eq, s.adj.V, i) * net.m ** (1.0 - scale_power)
        g = float(np.linalg.norm(G))
        # ‖(γ/m)vzᵀ‖_F = (γ/m)‖v‖‖z‖ (rank one): exact up to rounding of two norms.
        product = (net.gamma / net.m ** scale_power) * np.linalg.norm(s.adj.V[:, i]) * np.linalg.norm(s.eq.Z[:, i])
        r = _tol.rounding(net.m, net.q)
        ident = (r * product) / abs(g - product) if g != product else np.inf
        mg = min(ident, margin_le(g, bound, 2 * r * bound))
        if mg < worst:
            worst, numbers = mg, {"grad_fro": g, "product": float(product), "bound": bound, "sample": i,
                                  "q": net.q, "c_W": net.c_W, "m": net.m}
    return Outcome(float(worst), numbers)


@property_check("C4", STRAT, statement="‖∂f_i/∂A‖_F = (γ/m)‖v_i‖‖z_i‖ ≤ γc_W/(1−γ₀)² for every sample.")
def check_c4_gradient_bound(spec) -> Outcome:
    return _grad_bound(spec, 1.0, 1.0)


@property_check("C4", STRAT, control_of="check_c4_gradient_bound",
                statement="Planted: ‖∂f/∂A‖_F ≤ γc_W/(4(1−γ₀)²) (wrong constant).")
def check_c4_gradient_bound_detects_quarter_constant(spec) -> Outcome:
    return _grad_bound(spec, 0.25, 1.0)


@property_check("C4", STRAT, control_of="check_c4_gradient_bound",
                statement="Planted: ∂f/∂A = (γ/√m)vzᵀ, whose norm grows like √m past the m-free bound.")
def check_c4_gradient_bound_detects_sqrt_scaling(spec) -> Outcome:
    return _grad_bound(spec, 1.0, 0.5)


NAMES = ["check_c4_gradient_bound", "check_c4_gradient_bound_detects_quarter_constant",
         "check_c4_gradient_bound_detects_sqrt_scaling"]


@pytest.mark.parametrize("name", NAMES)
def test_c04(name):
    verify(name)
