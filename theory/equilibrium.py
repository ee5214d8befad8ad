"""Batched equilibrium (eq. 2) and adjoint solves, with contraction certificates.

Forward:  Z = σ(P),  P = s·A·Z + B,  B = φ(W Xᵀ)   (m×n, one column per sample)
Adjoint:  Wₐ = u·1ᵀ + s·Aᵀ(D ∘ Wₐ),  V = D ∘ Wₐ    so v_i = D_i Q_iᵀ u,
          Q_i = (I − s D_i A)⁻¹,  D_i = diag(σ'(P_i)) with σ'(0) = 0.

Both maps are q-contractions (q = γ‖A‖₂/√m < 1) column by column, so for any
iterate the a-posteriori bound  ‖z_k − z*‖ ≤ q/(1−q)·‖z_k − z_{k−1}‖  holds and is
what the solvers stop on and return.  Each iteration is one pass over A for all n columns
(theory.passes: A·Z and Aᵀ·X in one read of A each).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import passes
from ._validate import as_finite, check_unit_rows
from .errors import ConvergenceError, ShapeError
from .model import Network, phi_fn
from .passes import matmul, rmatmul

#: The one relative accuracy target of every equilibrium, adjoint and directional solve in the suite
#: (the gradient flow, the Section 4 recorder and the checks use it; nothing else is configured).
#: Picard stalls at a few ulp of ‖z‖ (each step rounds every entry): q/(1−q)·few·ε ≤ 1e-11 holds
#: for q up to ≈ 0.999, and 1e-11 is far below every integration error (≥ 1e-6 relative over a path)
#: and every check's tolerance it enters (rounding (m+2)ε/(1−q) + SOLVE_RTOL/(1−q), checks/model/tol.py).
SOLVE_RTOL = 1e-11
DEFAULT_RTOL = SOLVE_RTOL
#: No default iteration budget exceeds this (q ≈ 0.9995 at rtol 1e-13); beyond it the
#: honest answer is a ConvergenceError, not hours of iteration.
MAX_ITER_CAP = 50_000


@dataclass(frozen=True)
class Equilibrium:
    """Solution of eq. (2) for all samples.

    Z: equilibria (m×n); P: pre-activations (m×n); B = φ(WXᵀ) (m×n);
    iterations: Picard steps taken; error_bound: per-sample a-posteriori bound
    q/(1−q)·‖z_k − z_{k−1}‖; history: max relative bound per iteration.
    """

    Z: np.ndarray
    P: np.ndarray
    B: np.ndarray
    iterations: int
    error_bound: np.ndarray
    history: tuple[float, ...]

    @property
    def D(self) -> np.ndarray:
        """The 0/1 activation pattern σ'(P) as a boolean m×n mask (σ'(0) = 0)."""
        return self.P > 0

    @property
    def n(self) -> int:
        return self.Z.shape[1]


def input_features(net: Network, X: np.ndarray, *, unit: bool = True) -> np.ndarray:
    """B = φ(W Xᵀ), m×n.  Checks shapes, finiteness and (if ``unit``) ‖x_i‖ = 1."""
    X = as_finite("X", X, ndim=2)
    if X.shape[1] != net.d:
        raise ShapeError(f"X has {X.shape[1]} columns but W expects d = {net.d}")
    if X.shape[0] < 1:
        raise ShapeError("X must hold at least one sample (n ≥ 1)")
    if unit:
        check_unit_rows(X)
    return phi_fn(net.phi, net.W @ X.T)


def _col_norms(X: np.ndarray) -> np.ndarray:
    """Euclidean norm of every column (one einsum: the solvers call this twice per iteration)."""
    return np.sqrt(np.einsum("ij,ij->j", X, X))


def _max_iter(q: float, rtol: float) -> int:
    # q^k/(1−q) ≤ rtol after k = log(rtol(1−q))/log q steps from a unit-size start;
    # doubled plus slack for starts far from z* and for rounding plateaus.
    k = np.log(rtol * (1 - q)) / np.log(max(q, 1e-300))
    return min(int(2 * max(k, 1.0)) + 200, MAX_ITER_CAP)


def _iterate(step, X0: np.ndarray, q: float, rtol: float, maxiter: int | None, what: str,
             input_scale: np.ndarray, compiled: tuple | None = None):
    """Run X_{k+1} = step(X_k) until the per-column a-posteriori bound ≤ rtol·max(‖x‖, ‖input‖).

    ``input_scale`` (per column: ‖φ(Wx)‖, ‖u‖, ...) keeps the test meaningful when the
    solution itself is 0 (e.g. every pre-activation negative), where a purely relative
    criterion could never be met.  If the input is 0 too (then z* = 0), the start's norm
    times ε sets the scale: the initial error must shrink by rtol·ε.

    ``compiled`` = (A, C, Dm, s) names ``step`` as one of theory.passes' maps (the forward map when Dm is
    None, else the adjoint's); the loop then runs compiled (theory.passes.picard, bit-identical) whenever
    that takes the arrays; from passes.MIXED_MIN_M on it first iterates in float32 (theory.passes: the
    certificate is the float64 loop's, only the iteration it starts from differs).
    """
    input_scale = np.maximum(input_scale, np.finfo(float).eps * _col_norms(X0))
    maxiter = _max_iter(q, rtol) if maxiter is None else maxiter
    factor = q / (1.0 - q)
    if compiled is not None:
        A, C, Dm, s = compiled
        if passes.picard_takes(A, X0, *(a for a in (C, Dm) if a is not None)):
            X, k, bound, history, converged = passes.picard(A, C, Dm, X0, s, factor, rtol, maxiter, input_scale)
            if not converged:
                raise ConvergenceError(what, len(history), history, rtol)
            return X, k, bound, tuple(history)
    Xk = X0
    history: list[float] = []
    for k in range(1, maxiter + 1):
        Xn = step(Xk)
        dX = Xn - Xk
        bound = factor * _col_norms(dX)
        scale = np.maximum(_col_norms(Xn), input_scale)
        rel = bound / np.where(scale > 0, scale, 1.0)
        history.append(float(rel.max(initial=0.0)))
        Xk = Xn
        # An overflowing iterate (possible only if the q passed in was false) makes ‖x‖ = inf,
        # and inf ≤ rtol·inf would accept it: stop on any non-finite number first (both are
        # ≥ 0, so their largest entries' sum is finite iff every entry is; NaN propagates).
        if not math.isfinite(float(bound.max(initial=0.0)) + float(scale.max(initial=0.0))):
            break
        if np.all(bound <= rtol * scale):
            return Xk, k, bound, tuple(history)
    raise ConvergenceError(what, len(history), history, rtol)


def solve_equilibrium(
    net: Network,
    X: np.ndarray,
    *,
    Z0: np.ndarray | None = None,
    rtol: float = DEFAULT_RTOL,
    maxiter: int | None = None,
    unit: bool = True,
) -> Equilibrium:
    """Solve z = σ(s·A·z + φ(Wx)) for every row x of X by batched Picard iteration.

    ``Z0`` warm-starts (m×n); any start converges (contraction).  Raises
    :class:`ConvergenceError` if the a-posteriori bound has not reached
    ``rtol·‖z‖`` after ``maxiter`` steps.
    """
    B = input_features(net, X, unit=unit)
    s, A = net.s, net.A
    if Z0 is None:
        Z0 = np.maximum(B, 0.0)  # σ(φ(Wx)): the first Picard step from z = 0
    else:
        Z0 = as_finite("Z0", Z0, ndim=2)
        if Z0.shape != B.shape:
            raise ShapeError(f"warm start Z0 must be m×n = {B.shape}, got {Z0.shape}")

    def step(Z: np.ndarray) -> np.ndarray:
        return np.maximum(s * matmul(A, Z) + B, 0.0)

    Z, k, bound, history = _iterate(step, Z0, net.q, rtol, maxiter, "equilibrium (Picard)",
                                    np.linalg.norm(B, axis=0), compiled=(A, B, None, s))
    P = s * matmul(A, Z) + B
    return Equilibrium(Z=Z, P=P, B=B, iterations=k, error_bound=bound, history=history)


def picard_path(net: Network, X: np.ndarray, k: int, *, Z0: np.ndarray | None = None) -> list[np.ndarray]:
    """The first k+1 Picard iterates Z_0, …, Z_k (for ratio checks; no stopping rule)."""
    B = input_features(net, X)
    Z = np.zeros_like(B) if Z0 is None else as_finite("Z0", Z0, ndim=2)
    if Z.shape != B.shape:
        raise ShapeError(f"start Z0 must be m×n = {B.shape}, got {Z.shape}")
    out = [Z]
    for _ in range(k):
        Z = np.maximum(net.s * matmul(net.A, Z) + B, 0.0)
        out.append(Z)
    return out


@dataclass(frozen=True)
class Adjoint:
    """V = D ∘ Wₐ with v_i = D_i Q_iᵀ u (m×n), plus its a-posteriori bound per sample."""

    V: np.ndarray
    Wa: np.ndarray
    iterations: int
    error_bound: np.ndarray


def solve_adjoint(
    net: Network,
    eq: Equilibrium,
    *,
    W0: np.ndarray | None = None,
    rtol: float = DEFAULT_RTOL,
    maxiter: int | None = None,
) -> Adjoint:
    """v_i = D_i Q_iᵀ u for all samples via the contraction w = u + s·Aᵀ(D w).

    No m×m inverse is formed; each step is one Aᵀ·(m×n) product (one pass over A).
    """
    Dm = eq.D.astype(float)
    s, A = net.s, net.A
    U = np.repeat(net.u[:, None], eq.n, axis=1)
    W0 = U if W0 is None else W0

    def step(Wa: np.ndarray) -> np.ndarray:
        return U + s * rmatmul(A, Dm * Wa)

    Wa, k, bound, _ = _iterate(step, W0, net.q, rtol, maxiter, "adjoint v = D Qᵀ u",
                               np.full(eq.n, np.linalg.norm(net.u)), compiled=(A, U, Dm, s))
    return Adjoint(V=Dm * Wa, Wa=Wa, iterations=k, error_bound=bound)


def output(net: Network, Z: np.ndarray) -> np.ndarray:
    """f(x_i) = uᵀz_i/√m for every column of Z (eq. 1)."""
    return (net.u @ Z) / np.sqrt(net.m)


def forward(net: Network, X: np.ndarray, **kw) -> np.ndarray:
    """Network outputs f(X) (n,)."""
    return output(net, solve_equilibrium(net, X, **kw).Z)
