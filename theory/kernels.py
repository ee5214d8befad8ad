"""Kernels of Sections 4-5: the path kernel K_t, arc-cosine kernels and infinite-width limits.

For unit inputs with angle θ_ij = arccos(x_iᵀx_j):
    K⁰_ij = E[1{wᵀx_i > 0}1{wᵀx_j > 0}] = (π − θ)/(2π)                 (degree 0)
    K^∞_ij = E[φ(wᵀx_i)φ(wᵀx_j)] = (sin θ + (π − θ)cos θ)/(2π)          (degree 1, φ = ReLU, eq. 28)
(general norms multiply K^∞ by ‖x_i‖‖x_j‖).
"""

from __future__ import annotations

import numpy as np

from ._validate import as_finite
from .equilibrium import Equilibrium
from .errors import SingularGramError
from .model import Network


def _angles(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = as_finite("X", X, ndim=2)
    nrm = np.linalg.norm(X, axis=1)
    cos = np.clip((X @ X.T) / np.outer(nrm, nrm), -1.0, 1.0)
    return np.arccos(cos), np.outer(nrm, nrm)


def arccos0(X: np.ndarray) -> np.ndarray:
    """K⁰ = (π − θ)/(2π)."""
    th, _ = _angles(X)
    return (np.pi - th) / (2 * np.pi)


def arccos1(X: np.ndarray) -> np.ndarray:
    """K^∞ = ‖x‖‖x'‖(sin θ + (π − θ)cos θ)/(2π)  (eq. 28)."""
    th, nn = _angles(X)
    return nn * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)


def near_parallel_pairs(X: np.ndarray, tol: float = 1e-6) -> list[tuple[int, int, float]]:
    """Pairs (i, j, θ_ij) with θ < tol or π − θ < tol: λ* = λ_min(K^∞) ≈ θ²/4 → 0 as θ → 0."""
    th, _ = _angles(X)
    n = th.shape[0]
    return [(i, j, float(th[i, j])) for i in range(n) for j in range(i + 1, n)
            if th[i, j] < tol or np.pi - th[i, j] < tol]


def lambda_star(X: np.ndarray) -> float:
    """λ* = λ_min(K^∞); raises SingularGramError (naming the pairs) for (near-)parallel inputs."""
    K = arccos1(X)
    lam = float(np.linalg.eigvalsh(K)[0])
    scale = K.shape[0] * np.finfo(float).eps * np.linalg.norm(K, 2)
    if lam <= scale:
        pairs = near_parallel_pairs(X, 1e-4)
        raise SingularGramError(lam, scale, f"near-parallel inputs (i, j, θ): {pairs}")
    return lam


def arora_ntk(X: np.ndarray) -> np.ndarray:
    """The two-layer ReLU NTK of Arora et al. (2019) on unit inputs, H^∞_ij = cos θ (π − θ)/(2π)
    = x_iᵀx_j·K⁰_ij (the gradient kernel of the hidden layer)."""
    th, nn = _angles(X)
    return nn * np.cos(th) * (np.pi - th) / (2 * np.pi)


def limit_51(X: np.ndarray, gamma: float) -> np.ndarray:
    """C17: H(0) → γ²[K^∞ + ((1 − β)⁻² − 1)μμᵀ] under A_ij ~ |N(0, 1/m)|, fixed γ;
    β = γ√(2/π) (‖E (γ/√m)A‖₂), μ_i = ‖x_i‖/√(2π) = E φ(wᵀx_i)."""
    beta = gamma * np.sqrt(2 / np.pi)
    mu = np.linalg.norm(X, axis=1) / np.sqrt(2 * np.pi)
    return gamma**2 * (arccos1(X) + ((1 - beta) ** -2 - 1) * np.outer(mu, mu))


def limit_52(X: np.ndarray, gamma: float) -> np.ndarray:
    """C18: H(0) → γ²·K⁰∘K^∞ under diagonal half-normal A(0)."""
    return gamma**2 * arccos0(X) * arccos1(X)


def path_kernel(net: Network, eq_x: Equilibrium, V_x: np.ndarray, eq_X: Equilibrium, V_X: np.ndarray) -> np.ndarray:
    """K_t(x, X) = (γ²/m²)(v(x)ᵀv(X))(z(x)ᵀz(X)) for any inputs x (rows) against X (columns)."""
    return (net.gamma / net.m) ** 2 * ((V_x.T @ V_X) * (eq_x.Z.T @ eq_X.Z))
