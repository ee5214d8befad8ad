"""Lemma 3.2: implicit derivatives of z and f with respect to A (eqs. 10-11).

For a direction Δ (m×m):  dz_i = s·Q_i D_i Δ z_i,   s = γ/√m
                          df_i = (γ/m)·v_iᵀ Δ z_i   (so ∂f_i/∂A = (γ/m) v_i z_iᵀ)
Batched, dZ solves the contraction dZ = D ∘ (s·A·dZ + s·Δ·Z).

The explicit Jacobian ∂z_i/∂vec(A) = s·Q_i D_i (z_iᵀ ⊗ I_m) (column-major vec)
forms Q_i and is an oracle for tiny m only.
"""

from __future__ import annotations

import numpy as np

from .equilibrium import DEFAULT_RTOL, Equilibrium, _iterate, input_features
from .errors import InputError, ShapeError
from .model import Network


def _check_direction(net: Network, Delta: np.ndarray) -> np.ndarray:
    Delta = np.asarray(Delta, dtype=float)
    if Delta.shape != (net.m, net.m):
        raise ShapeError(f"direction Δ must be m×m = {net.m}×{net.m}, got {Delta.shape}")
    return Delta


def jvp_f(net: Network, eq: Equilibrium, V: np.ndarray, Delta: np.ndarray) -> np.ndarray:
    """df_i = ⟨∂f_i/∂A, Δ⟩ = (γ/m)·v_iᵀ Δ z_i for all samples (n,)."""
    Delta = _check_direction(net, Delta)
    return (net.gamma / net.m) * np.einsum("ij,ij->j", V, Delta @ eq.Z)


def vjp_f(net: Network, eq: Equilibrium, V: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Σ_i c_i ∂f_i/∂A = (γ/m)·V diag(c) Zᵀ (m×m): one BLAS product."""
    c = np.asarray(c, dtype=float)
    if c.shape != (eq.n,):
        raise ShapeError(f"cotangent must have shape ({eq.n},), got {c.shape}")
    return (net.gamma / net.m) * (V * c) @ eq.Z.T


def grad_f(net: Network, eq: Equilibrium, V: np.ndarray, i: int) -> np.ndarray:
    """∂f_i/∂A = (γ/m) v_i z_iᵀ (m×m) for one sample."""
    return (net.gamma / net.m) * np.outer(V[:, i], eq.Z[:, i])


def dz_directional(
    net: Network, eq: Equilibrium, Delta: np.ndarray, *, rtol: float = DEFAULT_RTOL,
    maxiter: int | None = None,
) -> np.ndarray:
    """dZ = s·Q D Δ Z for all samples, via the contraction dZ = D∘(s·A·dZ + s·Δ·Z)."""
    Delta = _check_direction(net, Delta)
    Dm = eq.D.astype(float)
    s = net.s
    rhs = Dm * (s * (Delta @ eq.Z))

    def step(dZ: np.ndarray) -> np.ndarray:
        return Dm * (s * (net.A @ dZ)) + rhs

    dZ, *_ = _iterate(step, rhs, net.q, rtol, maxiter, "directional derivative dz",
                      np.linalg.norm(rhs, axis=0))
    return dZ


def Q_explicit(net: Network, eq: Equilibrium) -> np.ndarray:
    """Q_i = (I − s D_i A)⁻¹ stacked as (n, m, m).  Oracle for small m only."""
    m = net.m
    if m > 256:
        raise InputError(f"Q_explicit forms n dense m×m inverses; m = {m} > 256 is not an oracle size")
    M = np.eye(m)[None] - net.s * eq.D.T[:, :, None] * net.A[None]
    return np.linalg.inv(M)


def dz_dvecA_explicit(net: Network, eq: Equilibrium) -> np.ndarray:
    """∂z_i/∂vec(A) = s·Q_i D_i (z_iᵀ ⊗ I_m), stacked (n, m, m²); column-major vec.  Tiny m."""
    m = net.m
    Q = Q_explicit(net, eq)
    QD = Q * eq.D.T[:, None, :]  # Q_i D_i: scale columns
    # (z^T ⊗ I)[k, j*m + k'] = z_j δ_{kk'}: block j is z_j·I, so the product's block j is z_j·QD.
    return net.s * np.concatenate([QD * eq.Z[j, :, None, None] for j in range(m)], axis=2)


def jacobian_f_explicit(net: Network, eq: Equilibrium) -> np.ndarray:
    """J (n × m²), row i = vec(∂f_i/∂A)ᵀ from the explicit ∂z/∂vec(A) (oracle, tiny m)."""
    dz = dz_dvecA_explicit(net, eq)
    return np.einsum("k,ikp->ip", net.u, dz) / np.sqrt(net.m)


def unrolled_forward(net: Network, X: np.ndarray, Delta: np.ndarray, k: int) -> list[np.ndarray]:
    """Forward-mode derivative through k Picard steps from Z_0 = 0.

    Z_{j+1} = σ(s A Z_j + B),  dZ_{j+1} = D_j ∘ (s Δ Z_j + s A dZ_j),  D_j = σ'(s A Z_j + B).
    Returns [dZ_1, …, dZ_k]; for a contraction dZ_k → the implicit dZ geometrically.
    """
    Delta = _check_direction(net, Delta)
    B = input_features(net, X)
    s, A = net.s, net.A
    Z = np.zeros_like(B)
    dZ = np.zeros_like(B)
    out = []
    for _ in range(k):
        P = s * (A @ Z) + B
        dZ = (P > 0) * (s * (Delta @ Z) + s * (A @ dZ))
        Z = np.maximum(P, 0.0)
        out.append(dZ)
    return out
