"""C19: the infinite-width limit of H(0) under the standard Gaussian initialisation (4).

With A_ij ~ N(0, 1) and fixed γ, the pre-activation is h(x) = γ·g(x) + φ(wᵀx), where
w ~ N(0, I_d) and g is a centred Gaussian process independent of w with covariance Σ*:

    Σ*(x, x') = E[σ(h(x))σ(h(x'))]            (fixed point, iterated from E[φ(wᵀx)φ(wᵀx')])
    Ė(x, x')  = E[σ'(h(x))σ'(h(x'))]
    H^∞ = γ²·Σ*∘Ė/(1 − γ²Ė)                    (the backward pass contributes 1/(1 − γ²Ė))

Each entry is a 4-dimensional Gaussian expectation over (g, g', a, a'), a = wᵀx.  Conditioning on
(g, a, a'), the expectation over g' is one-dimensional and closed-form:
E[σ(μ + sξ)] = μΦ(μ/s) + sφ(μ/s),  P(μ + sξ > 0) = Φ(μ/s); the remaining three dimensions are
integrated by tensor Gauss–Hermite quadrature (``nodes`` per dimension).  The integrand has
ReLU kinks, so convergence is algebraic, not spectral: :func:`limit_H` returns the difference
between ``nodes`` and ``nodes // 2`` as its error estimate.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ._validate import as_finite, check_unit_rows
from .errors import ConvergenceError


def _gh(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite nodes/weights for E over N(0, 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(k)
    return x, w / w.sum()


def _pair_expectations(S2: np.ndarray, C2: np.ndarray, gamma: float, k: int) -> tuple[float, float]:
    """E[σ(h)σ(h')] and E[σ'(h)σ'(h')] for one pair; S2 = cov of (g, g'), C2 = cov of (a, a')."""
    x, w = _gh(k)
    # (a, a') = L_C (ξ1, ξ2); g = √S11·ξ3; g' | g = ρ_g·√(S22/S11)·g + √(S22(1−ρ_g²))·ξ4 (closed form).
    c12 = C2[0, 1]
    a1 = x[:, None] * np.ones((1, k))
    a2 = c12 * x[:, None] + np.sqrt(max(1 - c12**2, 0.0)) * x[None, :]
    wa = w[:, None] * w[None, :]
    s11, s22, s12 = S2[0, 0], S2[1, 1], S2[0, 1]
    g = np.sqrt(s11) * x
    beta = s12 / s11 if s11 > 0 else 0.0
    cond_sd = gamma * np.sqrt(max(s22 - beta * s12, 0.0))
    h1 = gamma * g[None, None, :] + np.maximum(a1, 0)[:, :, None]
    mu2 = gamma * beta * g[None, None, :] + np.maximum(a2, 0)[:, :, None]
    W = wa[:, :, None] * w[None, None, :]
    if cond_sd > 1e-14:
        t = mu2 / cond_sd
        e_relu2 = mu2 * ndtr(t) + cond_sd * np.exp(-0.5 * t**2) / np.sqrt(2 * np.pi)
        p2 = ndtr(t)
    else:  # g' is a deterministic function of g (diagonal entries)
        e_relu2 = np.maximum(mu2, 0)
        p2 = (mu2 > 0).astype(float)
    sig = float(np.sum(W * np.maximum(h1, 0) * e_relu2))
    edot = float(np.sum(W * (h1 > 0) * p2))
    return sig, edot


def limit_H(X: np.ndarray, gamma: float, *, nodes: int = 48, tol: float = 1e-11, maxiter: int = 500,
            backward: bool = True) -> dict:
    """H^∞ (n×n) with Σ*, Ė, iterations and the quadrature error estimate (nodes vs nodes//2)."""
    X = as_finite("X", X, ndim=2)
    check_unit_rows(X)
    out = {}
    for k in (nodes // 2, nodes):
        C = X @ X.T
        n = len(X)
        S = _kinf(C)
        iterations = 0
        for _ in range(maxiter):
            iterations += 1
            Snew = np.empty_like(S)
            E = np.empty_like(S)
            for i in range(n):
                for j in range(i, n):
                    S2 = S[np.ix_([i, j], [i, j])]
                    C2 = C[np.ix_([i, j], [i, j])]
                    Snew[i, j], E[i, j] = _pair_expectations(S2, C2, gamma, k)
                    Snew[j, i], E[j, i] = Snew[i, j], E[i, j]
            delta = float(np.abs(Snew - S).max())
            S = Snew
            if delta <= tol:
                break
        else:
            raise ConvergenceError("Σ* fixed point", maxiter, [delta], tol)
        H = gamma**2 * S * E / (1 - gamma**2 * E) if backward else gamma**2 * S * E
        out[k] = (H, S, E, iterations)
    H, S, E, its = out[nodes]
    err = float(np.abs(out[nodes][0] - out[nodes // 2][0]).max())
    return {"H": H, "Sigma": S, "Edot": E, "iterations": its, "quadrature_error": err, "nodes": nodes}


def _kinf(C: np.ndarray) -> np.ndarray:
    th = np.arccos(np.clip(C, -1, 1))
    return (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
