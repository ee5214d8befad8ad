"""Kink-aware central finite differences of f along a direction in A-space.

σ is ReLU with σ'(0) = 0: f is smooth in A only while the activation pattern D is
constant.  A difference whose stencil crosses a pattern change is not evidence, so
the step is halved until every stencil point keeps the base pattern, or the example
is discarded and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import theory

from . import tol


@dataclass(frozen=True)
class FDResult:
    derivative: np.ndarray  # Richardson value (4·D(h/2) − D(h))/3, one entry per sample
    allowed: np.ndarray  # derived error allowance per sample (checks.model.tol.fd_allowed)
    h: float
    halvings: int


def fd_along(net: theory.Network, X: np.ndarray, Delta: np.ndarray, base_pattern: np.ndarray,
             unit_step: float) -> FDResult | None:
    """Directional derivative of f(X) along Δ at A, or None if every step crossed a kink.

    ``unit_step`` converts the dimensionless step h (checks.model.tol.H_FD) into A-units:
    A ± h·unit_step·Δ.  The perturbed networks reuse the certificate q + h·unit_step·s‖Δ‖₂
    (triangle inequality), an upper bound on their contraction constant.
    """
    s = net.s
    d_norm = theory.spectral_norm(Delta)
    h = tol.H_FD
    for halving in range(tol.FD_MAX_HALVINGS + 1):
        vals, scales = {}, {}
        ok = True
        for k in (1.0, -1.0, 0.5, -0.5):
            step = k * h * unit_step
            q_bound = net.q + abs(step) * s * d_norm
            if q_bound >= 1.0:
                return None
            pert = net.with_A(net.A + step * Delta, q=q_bound)
            eq = theory.solve_equilibrium(pert, X, rtol=tol.SOLVE_RTOL)
            if not np.array_equal(eq.D, base_pattern):
                ok = False
                break
            vals[k] = theory.output(pert, eq.Z)
            # f = uᵀz/√m is a sum of m terms: its rounding (and the solver's error, relative to ‖z‖)
            # scale with ‖z‖ ≥ |u|ᵀ|z|/√m, not with |f|, which can cancel to ~0 (u_1 z_1 ≈ −u_2 z_2).
            scales[k] = np.linalg.norm(eq.Z, axis=0)
        if ok:
            hh = h * unit_step
            d_h = (vals[1.0] - vals[-1.0]) / (2 * hh)
            d_h2 = (vals[0.5] - vals[-0.5]) / hh
            f_scale = np.max([scales[k] for k in scales], axis=0)
            allowed = tol.fd_allowed(d_h, d_h2, f_scale, hh, tol.SOLVE_RTOL)
            return FDResult((4 * d_h2 - d_h) / 3, allowed, hh, halving)
        h /= 2
    return None
