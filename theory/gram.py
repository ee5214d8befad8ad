"""The Gram matrix of eqs. (7)-(9): df/dt = −H(t)(f − y), H = J Jᵀ.

Structured form (Hadamard product, O(n²m)):  H = (γ²/m²)·(VᵀV) ∘ (ZᵀZ),
because J_i = vec((γ/m) v_i z_iᵀ) and ⟨a bᵀ, c dᵀ⟩ = (aᵀc)(bᵀd).
"""

from __future__ import annotations

import numpy as np

from ._validate import as_finite
from .equilibrium import Equilibrium, solve_adjoint, solve_equilibrium
from .errors import SingularGramError
from .model import Network


def gram(net: Network, eq: Equilibrium, V: np.ndarray) -> np.ndarray:
    """H = (γ²/m²)(VᵀV)∘(ZᵀZ), symmetrised to remove rounding asymmetry."""
    H = (net.gamma / net.m) ** 2 * ((V.T @ V) * (eq.Z.T @ eq.Z))
    return 0.5 * (H + H.T)


def gram_at(net: Network, X: np.ndarray) -> np.ndarray:
    """H of ``net`` on the rows of X at its own equilibrium (the solvers' default tolerance): e.g. H(0)."""
    eq = solve_equilibrium(net, X)
    return gram(net, eq, solve_adjoint(net, eq).V)


def gram_explicit(J: np.ndarray) -> np.ndarray:
    """H = J Jᵀ from an explicit n×m² Jacobian (oracle)."""
    return J @ J.T


def lambda_min(H: np.ndarray) -> float:
    """Smallest eigenvalue of a symmetric matrix."""
    import scipy.linalg

    H = as_finite("H", H, ndim=2)
    return float(scipy.linalg.eigvalsh(H, subset_by_index=[0, 0], check_finite=False)[0])


def lambda0(H: np.ndarray) -> float:
    """λ₀ = λ_min(H), raising :class:`SingularGramError` if it is not resolvably positive.

    Eigenvalues of a symmetric matrix are computed to absolute accuracy ≈ n·ε·‖H‖₂;
    a λ_min below that is indistinguishable from 0.
    """
    lam = lambda_min(H)
    scale = H.shape[0] * np.finfo(float).eps * np.linalg.norm(H, 2)
    if lam <= scale:
        raise SingularGramError(lam, scale)
    return lam
