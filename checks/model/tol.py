"""Every tolerance of the suite, each with its derivation.  No bare literals in asserts.

Notation: ε = float64 machine epsilon, q = γ‖A‖₂/√m < 1 (contraction constant),
m width, n samples.
"""

from __future__ import annotations

import numpy as np

from theory.equilibrium import SOLVE_RTOL as _SOLVE_RTOL

EPS = float(np.finfo(float).eps)

#: Relative accuracy of every equilibrium/adjoint solve: the suite's one solve tolerance, defined in
#: theory.equilibrium (1e-11).  Picard ends in a cycle of a few ulp (seen: up to ~100ulp of ‖z‖ at
#: m = 1, q = 0.975) and the a-posteriori factor q/(1−q) ≤ 39 for q ≤ 0.975 (largest γ₀ 0.95 plus a
#: perturbation), so 1e-11 ≈ 45000ε is reachable; the solver raises ConvergenceError if it is not.
SOLVE_RTOL = _SOLVE_RTOL


def solve_rel(norm_x: float, solve_scale: float) -> float:
    """Relative error of a solved vector x from the solver's guarantee ‖x − x*‖ ≤ SOLVE_RTOL·scale,
    scale = max(‖x‖, ‖input‖) (see theory.equilibrium._iterate; for v = D∘w the scale is that of w)."""
    return SOLVE_RTOL * max(solve_scale, norm_x) / max(norm_x, 1e-300)


def rounding(m: int, q: float) -> float:
    """Relative rounding error of a computed equilibrium quantity (z, v, Q, σ_min, ‖·‖).

    A length-m dot product has relative error ≤ mε (Higham, Thm 3.1; worst case, not
    the √m·ε typical case); the linear map behind z, v, Q has condition ‖Q‖₂ ≤ 1/(1−q)
    (eq. 34), which amplifies it once.  Plus the solver's own a-posteriori target.
    """
    return (m + 2) * EPS / (1.0 - q) + SOLVE_RTOL / (1.0 - q)


def eig_abs(n: int, norm: float) -> float:
    """Absolute error of an eigenvalue of a symmetric n×n matrix from LAPACK: ≤ n·ε·‖H‖₂
    (backward stable eigensolver + Weyl)."""
    return n * EPS * norm


#: Central-difference step in natural units.  Perturbations are scaled so that
#: s‖Δ‖₂ = 1 (the same scale as sA, whose norm is q < 1); the central-difference error
#: h²·|f'''|/6 + ε|f|/h is balanced near h = ε^(1/3) ≈ 6e-6.
H_FD = EPS ** (1.0 / 3.0)

#: Maximal number of step halvings when ±h crosses a ReLU kink; 2^-8·h is still far
#: above the rounding floor ε^(1/2), so smaller steps remain meaningful.
FD_MAX_HALVINGS = 8


def fd_allowed(d_h: np.ndarray, d_h2: np.ndarray, f_scale: float, h: float, solve_rel: float) -> np.ndarray:
    """Allowed error of the Richardson value (4·D(h/2) − D(h))/3 against the exact derivative.

    Truncation: D(h) − D(h/2) = (3/4)c·h² + O(h⁴) estimates the h² term the extrapolation
    removes; its magnitude bounds the O(h⁴) remainder for h ≪ 1 (conservative by ~1/h²).
    Rounding: each f value carries absolute error δ·‖z‖ (δ = ε + solver rtol; ‖z‖ bounds the
    summed terms |u|ᵀ|z|/√m of f = uᵀz/√m, which may cancel); the extrapolated
    stencil has coefficients summing in magnitude to (4/3)(2/h)·2/2 + (1/3)(1/h) = 3/h,
    so rounding ≤ 3·δ·‖z‖/h.  A factor 2 covers the remainder-estimate looseness.
    """
    return 2.0 * (np.abs(d_h - d_h2) + 3.0 * (EPS + solve_rel) * f_scale / h)


#: The issue's acceptance figure for finite differences: the relative error of FD against
#: the implicit derivative must also be ≤ 1e-6 on every accepted example.
FD_REL_CEILING = 1e-6


def unrolled_rate_slack(q: float) -> float:
    """Unrolled forward-mode error after k steps is ≤ C·k·q^(k−1) (product of the
    derivative of a q-contraction iterated k times, with the extra factor k from the
    Δz term); we fit log(err) ≈ a + k·log r and allow r ≤ q·(1 + 0.05): the 5% covers
    the polynomial factor k over the fitted window of ≥ 20 steps (k^(1/k) ≤ 1.05 for k ≥ 90
    is not needed because we compare ratios of errors 20 steps apart: (k+20)/k ≤ 2 ⇒
    2^(1/20) ≈ 1.035 ≤ 1.05)."""
    return q * 1.05


def mc_upper(mean: float, std: float, N: int, z: float = 3.29) -> float:
    """One-sided 99.95% CLT bound mean + z·σ/√N (z = 3.29 for a two-sided 99.9% band)."""
    return mean + z * std / np.sqrt(N)


def mc_lower(mean: float, std: float, N: int, z: float = 3.29) -> float:
    return mean - z * std / np.sqrt(N)
