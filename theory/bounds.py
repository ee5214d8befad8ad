"""Section 4: the linearised (kernel) coupling, the RKHS norm B and the Rademacher term.

With H₀ = H(0) = Σ λ_k e_k e_kᵀ, r = y − f(0):
    ĝ(t) = y + e^{−H₀t}(f(0) − y)                                      (18)
    g_t(x) = f_0(x) + K_0(x, X)·α_t,   α_t = H₀⁻¹(I − e^{−H₀t}) r         (19)
    B² = rᵀH₀⁻¹r ≥ α_tᵀH₀α_t                                           (36)
    R̂_S(G_B) = (B/n)·E_ε√(εᵀH₀ε) ≤ (B/n)√tr H₀                          (22)
    Theorem 4.1 dominating term: 2ρ√(rᵀH₀⁻¹r · tr H₀)/n
"""

from __future__ import annotations

import itertools

import numpy as np

from .errors import InputError
from .gram import lambda0

#: Exact enumeration of the 2ⁿ sign vectors up to this n (2¹⁶ × 16 doubles ≈ 8 MB).
EXACT_MAX_N = 16


class Eig:
    """Eigendecomposition of a positive-definite H₀ (checked: λ_min > n·ε·‖H₀‖)."""

    def __init__(self, H0: np.ndarray) -> None:
        lambda0(H0)  # raises SingularGramError if not resolvably positive definite
        self.lam, self.E = np.linalg.eigh(H0)

    def expm_neg(self, t: float) -> np.ndarray:
        """e^{−H₀t}."""
        return (self.E * np.exp(-self.lam * t)) @ self.E.T

    def alpha(self, r: np.ndarray, t: float) -> np.ndarray:
        """α_t = H₀⁻¹(I − e^{−H₀t}) r, with (1 − e^{−λt})/λ evaluated stably (expm1)."""
        w = -np.expm1(-self.lam * t) / self.lam
        return self.E @ (w * (self.E.T @ r))

    def B2(self, r: np.ndarray) -> float:
        """B² = rᵀH₀⁻¹r."""
        c = self.E.T @ r
        return float(np.sum(c**2 / self.lam))


def g_hat(eig: Eig, f0: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    """ĝ(t) = y + e^{−H₀t}(f(0) − y)."""
    return y + eig.expm_neg(t) @ (f0 - y)


def g_t(f0_x: np.ndarray, K0_xX: np.ndarray, eig: Eig, r: np.ndarray, t: float) -> np.ndarray:
    """g_t(x) = f_0(x) + K_0(x, X) α_t for any inputs x (rows of K0_xX)."""
    return f0_x + K0_xX @ eig.alpha(r, t)


def sign_vectors(n: int) -> np.ndarray:
    """All 2ⁿ vectors in {−1, +1}ⁿ (rows)."""
    if n > EXACT_MAX_N:
        raise InputError(f"exact enumeration is for n ≤ {EXACT_MAX_N}; use rademacher_mc")
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n)))


def rademacher_exact(H0: np.ndarray, B: float) -> float:
    """R̂_S(G_B) = (B/n)·E_ε√(εᵀH₀ε), the expectation by exact enumeration (vectorised)."""
    n = H0.shape[0]
    S = sign_vectors(n)
    quad = np.einsum("ki,ij,kj->k", S, H0, S)
    return float(B / n * np.mean(np.sqrt(np.maximum(quad, 0.0))))


def rademacher_mc(H0: np.ndarray, B: float, draws: int, rng: np.random.Generator) -> tuple[float, float]:
    """Monte Carlo estimate of R̂_S(G_B) and its standard error."""
    n = H0.shape[0]
    S = rng.choice(np.array([-1.0, 1.0]), size=(draws, n))
    vals = np.sqrt(np.maximum(np.einsum("ki,ij,kj->k", S, H0, S), 0.0)) * B / n
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(draws))


def dominating_term(H0: np.ndarray, r: np.ndarray, rho: float = 1.0) -> float:
    """2ρ√(rᵀH₀⁻¹r · tr H₀)/n."""
    eig = Eig(H0)
    return 2 * rho * np.sqrt(eig.B2(r) * float(np.trace(H0))) / H0.shape[0]


def arora_complexity(H_inf: np.ndarray, y: np.ndarray) -> float:
    """Arora et al. (2019)'s data-dependent complexity √(2yᵀ(H^∞)⁻¹y/n) (their Theorem 5.1)."""
    return float(np.sqrt(2 * Eig(H_inf).B2(y) / H_inf.shape[0]))


def theorem41_bound(train_loss: float, H0: np.ndarray, r: np.ndarray, delta: float, rho: float = 1.0) -> dict:
    """Terms of (20) (without the coupling term, which → 0 with m)."""
    n = H0.shape[0]
    dom = dominating_term(H0, r, rho)
    conf = 3 * np.sqrt(np.log(2 / delta) / (2 * n))
    return {"train_loss": train_loss, "complexity": dom, "confidence": conf, "bound": train_loss + dom + conf}


def movement_radius(lam0: float, n: int, G: float, r0: float, q_bar):
    """Theorem 3.1 (b): R(q̄) = (2/λ₀)·√n·G/(1 − q̄)²·‖f(0) − y‖ with G = γc_W, the distance the flow
    may travel from A(0) while (a) holds (the gradient bound ‖Jᵀr‖ ≤ √n·G/(1 − q)²·‖r‖ integrated
    against ‖r(s)‖ ≤ e^{−λ₀s/2}‖r(0)‖); the paper's R is R(γ₀).  ``q_bar`` may be an array."""
    return 2.0 / lam0 * np.sqrt(n) * G / (1.0 - q_bar) ** 2 * r0
