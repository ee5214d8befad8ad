"""The implicit network of docs/claims.md ("The model") and the paper's initialisations.

Notation (used throughout :mod:`theory`):

* ``m`` width, ``d`` input dimension, ``n`` number of samples.
* ``A`` (m×m) implicit-layer weights, the only trained parameter; ``W`` (m×d)
  input layer; ``u`` (m,) output layer, entries ±1.
* ``gamma`` the scalar γ; ``s = γ/√m`` the factor in front of ``A``.
* ``q = γ‖A‖₂/√m``: the measured contraction constant of the equilibrium map
  z ↦ σ(sAz + φ(Wx)).  The paper's hypothesis is q ≤ γ₀ < 1; the checks use
  the sharpest admissible γ₀, namely q itself.
* ``X`` (n×d) unit rows, ``Z`` (m×n) equilibria, one column per sample.

σ is always ReLU with σ'(0) = 0; φ is ReLU (default) or tanh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from ._validate import as_finite
from .errors import InputError, NonContractiveError, ShapeError

Phi = Literal["relu", "tanh"]
PHIS: tuple[str, ...] = ("relu", "tanh")
SCHEMES: tuple[str, ...] = ("gaussian", "rademacher", "halfnormal", "halfnormal_1/m", "diag_halfnormal")
GAMMA_RULES: tuple[str, ...] = ("gamma0/c", "gamma0/2c", "fixed")

#: Above this width ‖A‖₂ comes from ARPACK (Lanczos on AᵀA, tol 1e-12) instead of a dense SVD:
#: O(m² · iterations) instead of O(m³).  The Ritz value converges from below; its relative
#: error is ≤ 1e-12, far inside every margin that uses q.
DENSE_NORM_MAX_M = 1024


def spectral_norm(A: np.ndarray) -> float:
    """‖A‖₂, dense SVD for small matrices, Lanczos (ARPACK) for large ones."""
    if A.size == 0:
        return 0.0
    if A.shape[0] <= DENSE_NORM_MAX_M or A.shape[1] <= DENSE_NORM_MAX_M:
        return float(scipy.linalg.svdvals(A, check_finite=False)[0])
    v0 = np.ones(min(A.shape)) / np.sqrt(min(A.shape))  # fixed start vector: determinism
    return float(scipy.sparse.linalg.svds(A, k=1, tol=1e-12, v0=v0, return_singular_vectors=False)[0])


def phi_fn(name: str, x: np.ndarray) -> np.ndarray:
    """The input activation φ (1-Lipschitz, φ(0) = 0)."""
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "tanh":
        return np.tanh(x)
    raise InputError(f"unknown activation φ = {name!r}; choose one of {PHIS}")


@dataclass(frozen=True)
class Network:
    """Parameters (A, W, u, γ, φ) of the implicit network, validated on construction.

    Construction measures ``q = γ‖A‖₂/√m`` and raises :class:`NonContractiveError`
    when q ≥ 1 (or q > ``gamma0`` when a γ₀ is declared), so a Network in hand is
    always well posed.  Pass ``q`` to skip the O(m³) norm when it is already known.
    """

    A: np.ndarray
    W: np.ndarray
    u: np.ndarray
    gamma: float
    phi: str = "relu"
    gamma0: float | None = None
    q: float = field(default=float("nan"))

    def __post_init__(self) -> None:
        A = as_finite("A", self.A, ndim=2)
        W = as_finite("W", self.W, ndim=2)
        u = as_finite("u", self.u, ndim=1)
        m = A.shape[0]
        if m < 1 or A.shape != (m, m):
            raise ShapeError(f"A must be a non-empty square m×m matrix, got shape {A.shape}")
        if W.shape[0] != m or W.shape[1] < 1:
            raise ShapeError(f"W must be m×d = {m}×d with d ≥ 1, got shape {W.shape}")
        if u.shape != (m,):
            raise ShapeError(f"u must have shape ({m},), got {u.shape}")
        if not (np.isfinite(self.gamma) and self.gamma > 0):
            raise InputError(f"γ must be a positive finite number, got {self.gamma!r}")
        if self.phi not in PHIS:
            raise InputError(f"unknown activation φ = {self.phi!r}; choose one of {PHIS}")
        if self.gamma0 is not None and not (0.0 < self.gamma0 < 1.0):
            raise NonContractiveError(float(self.gamma0), 1.0, context="declared γ₀ must lie in (0, 1)")
        q = self.q
        if not np.isfinite(q):
            q = self.gamma * spectral_norm(A) / np.sqrt(m)
        limit = 1.0 if self.gamma0 is None else self.gamma0 * (1 + 1e-12)  # 1e-12: rounding of γ₀/c
        if q >= limit:
            raise NonContractiveError(float(q), limit)
        for name, val in (("A", A), ("W", W), ("u", u), ("q", float(q))):
            object.__setattr__(self, name, val)

    @property
    def m(self) -> int:
        return self.A.shape[0]

    @property
    def d(self) -> int:
        return self.W.shape[1]

    @property
    def s(self) -> float:
        """s = γ/√m, the factor in front of A in the equilibrium equation."""
        return self.gamma / np.sqrt(self.m)

    @property
    def c_W(self) -> float:
        """c_W = ‖W‖₂/√m."""
        return spectral_norm(self.W) / np.sqrt(self.m)

    def with_A(self, A: np.ndarray, *, q: float | None = None) -> Network:
        """The same network with implicit weights A (q re-measured unless given).

        The declared γ₀ is dropped: a perturbed or trained A is only required to keep
        q < 1 (Theorem 3.1 (c) is a *claim* about training, checked, not assumed)."""
        return replace(self, A=A, gamma0=None, q=float("nan") if q is None else q)


def _draw(scheme: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    if scheme == "gaussian":
        return rng.standard_normal(shape)
    if scheme == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=shape)
    raise InputError(f"unknown sub-Gaussian scheme {scheme!r}")


def init_A(m: int, scheme: str, rng: np.random.Generator) -> np.ndarray:
    """A(0) by scheme: eq. (4) 'gaussian'/'rademacher' (mean 0, variance 1);
    Section 5.1 'halfnormal' (|N(0,1)|, the literal reading) and 'halfnormal_1/m'
    (|N(0,1/m)|, the well-posed reading); Section 5.2 'diag_halfnormal' (diag |N(0,1)|)."""
    if m < 1:
        raise InputError(f"width m must be ≥ 1, got {m}")
    if scheme in ("gaussian", "rademacher"):
        return _draw(scheme, rng, (m, m))
    if scheme == "halfnormal":
        return np.abs(rng.standard_normal((m, m)))
    if scheme == "halfnormal_1/m":
        return np.abs(rng.standard_normal((m, m))) / np.sqrt(m)
    if scheme == "diag_halfnormal":
        return np.diag(np.abs(rng.standard_normal(m)))
    raise InputError(f"unknown initialisation scheme {scheme!r}; choose one of {SCHEMES}")


def gamma_from_rule(A: np.ndarray, gamma0: float, rule: str, *, norm: float | None = None) -> float:
    """γ from γ₀: 'gamma0/c' gives γ‖A‖₂/√m = γ₀; 'gamma0/2c' gives γ₀/2 (c = ‖A(0)‖₂/√m);
    'fixed' returns γ₀ itself as γ (the Section 5 reading, γ a constant).  ``norm`` passes an
    already measured ‖A‖₂ (it costs a Lanczos run at large m)."""
    if not (0.0 < gamma0 < 1.0) and rule != "fixed":
        raise NonContractiveError(float(gamma0), 1.0, context="γ₀ must lie in (0, 1)")
    if rule == "fixed":
        return float(gamma0)
    c = (spectral_norm(A) if norm is None else norm) / np.sqrt(A.shape[0])
    if c == 0.0:
        raise InputError("A(0) = 0: c = ‖A‖₂/√m vanishes, γ₀/c is undefined")
    if rule == "gamma0/c":
        return float(gamma0 / c)
    if rule == "gamma0/2c":
        return float(gamma0 / (2 * c))
    raise InputError(f"unknown γ rule {rule!r}; choose one of {GAMMA_RULES}")


def init_network(
    m: int,
    d: int,
    *,
    scheme: str = "gaussian",
    gamma0: float = 0.5,
    gamma_rule: str = "gamma0/2c",
    phi: str = "relu",
    rng: np.random.Generator,
    norm_of: Callable[[np.ndarray], float] | None = None,
) -> Network:
    """Draw (A(0), W, u) as in eq. (4) / Section 5 and set γ by ``gamma_rule``.

    W follows the sub-Gaussian scheme of A for 'gaussian'/'rademacher' and is Gaussian
    otherwise (Section 5 takes Gaussian W); u is Rademacher.  Draw order is fixed
    (A, W, u) so a seed always gives the same network.  ``norm_of`` measures ‖A(0)‖₂
    (default :func:`spectral_norm`); a caller may pass a memo of it that returns the
    same number (checks.model.norms).
    """
    if d < 1:
        raise InputError(f"input dimension d must be ≥ 1, got {d}")
    A = init_A(m, scheme, rng)
    W = _draw(scheme if scheme in ("gaussian", "rademacher") else "gaussian", rng, (m, d))
    u = rng.choice(np.array([-1.0, 1.0]), size=m)
    norm = float((spectral_norm if norm_of is None else norm_of)(A))  # once: it sets γ and certifies q = γ‖A‖₂/√m
    gamma = gamma_from_rule(A, gamma0, gamma_rule, norm=norm)
    declared = None if gamma_rule == "fixed" else gamma0
    return Network(A=A, W=W, u=u, gamma=gamma, phi=phi, gamma0=declared, q=gamma * norm / np.sqrt(m))


def init_network_zero_output(
    m: int,
    d: int,
    *,
    scheme: str = "gaussian",
    gamma0: float = 0.5,
    gamma_rule: str = "gamma0/2c",
    phi: str = "relu",
    rng: np.random.Generator,
) -> Network:
    """A start with f(0) ≡ 0 at every input (the "closer to y" start of the initialisation
    comparison): draw (A₁, W₁, u₁) for width m/2 as in :func:`init_network`, then mirror them,
    A(0) = diag(A₁, A₁), W = [W₁; W₁], u = [u₁; −u₁].  Both halves see the same input and the
    same block, so z = [z₁; z₁] and uᵀz = 0 exactly.  γ follows ``gamma_rule`` for the mirrored A
    (its spectral norm equals ‖A₁‖₂).  Requires even m."""
    if m < 2 or m % 2:
        raise InputError(f"the mirrored (zero-output) start needs an even width m ≥ 2, got {m}")
    half = init_network(m // 2, d, scheme=scheme, gamma0=gamma0, gamma_rule=gamma_rule, phi=phi, rng=rng)
    A = np.zeros((m, m))
    A[: m // 2, : m // 2] = half.A
    A[m // 2:, m // 2:] = half.A
    W = np.vstack([half.W, half.W])
    u = np.concatenate([half.u, -half.u])
    gamma = gamma_from_rule(A, gamma0, gamma_rule)
    return Network(A=A, W=W, u=u, gamma=gamma, phi=phi, gamma0=None if gamma_rule == "fixed" else gamma0)


def normalize_rows(X: np.ndarray) -> np.ndarray:
    """Scale each row of X to unit Euclidean norm (rows must be non-zero)."""
    X = as_finite("X", X, ndim=2)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if (norms == 0).any():
        raise InputError("X has an all-zero row, which cannot be scaled to unit norm")
    return X / norms


def make_data(n: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n unit-norm Gaussian inputs (n×d) and labels uniform in [−1, 1]."""
    if n < 1:
        raise InputError(f"number of samples n must be ≥ 1, got {n}")
    X = normalize_rows(rng.standard_normal((n, d)))
    y = rng.uniform(-1.0, 1.0, size=n)
    return X, y
