"""The panel: data sets with controlled λ∞, the width ladder, and the data-only limits of each.

Declared in docs/claims.md (the theorem's section, "The panel") before any panel outcome was computed.

* **Geometry.**  n = 6 unit vectors in d = 4: a well-spread base configuration ``BASE`` (the fixed
  point of a Thomson repulsion from a fixed start; smallest angle 89.7°), and the same configuration
  with its second point moved to angle θ from the first, in the plane of the two
  (``THETAS``; "base" keeps the base angle, 1.565 rad).  λ∞ = λ_min(H^∞) falls linearly in θ
  for small θ (docs/claims.md: the ReLU kink of Ė); θ from 0.15 to the base angle spans λ∞ over
  12× (2.3·10⁻⁴ … 2.8·10⁻³ under γ₀/(2c)).
* **Labels.**  ±0.6: points 3…6 carry (−, +, −, +)·0.6; the moved pair carries (+0.6, −0.6)
  (``"opposite"``: the labels differ along the direction the pair spans, so yᵀH∞⁻¹y ∝ 1/λ∞) or
  (+0.6, +0.6) (``"equal"``: y has no component along it, and yᵀH∞⁻¹y stays bounded).
* **Networks.**  Gaussian initialisation (4), γ by the key's rule; the network of (data set, m,
  init) from the generator seeded with (PANEL_STREAM, data set index, m, init).  Calibration
  initialisations are 0 … CALIBRATION_INITS − 1; confirmations draw fresh ones from
  CONFIRMATION_INIT on.
* **λ∞** of a data set under a γ rule: the closed form of theory.limit_gaussian with γ = γ₀/(2c∞) or γ₀/c∞, c∞ = 2 (the
  limit of ‖A(0)‖₂/√m for a Gaussian A(0), Bai–Yin), by the quadrature of theory.limit_gaussian
  (a task: :class:`Limit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import theory
from theory.limit_gaussian import limit_H

from ..engine.tasks import Task
from . import norms

#: The well-spread base configuration (rows; unit vectors to 1e-6, renormalised on use).
BASE = np.array([
    [0.564801, -0.302890, 0.671632, -0.371710],
    [-0.263339, 0.687397, 0.648015, 0.195487],
    [0.245971, -0.710688, -0.628625, -0.198119],
    [-0.787197, 0.032081, -0.166360, -0.592972],
    [-0.254691, -0.369320, 0.027428, 0.893299],
    [0.495722, 0.665120, -0.553505, 0.074207],
])
#: Angles of the moved pair (radians), easy to hard after "base".
THETAS = ("base", 1.1, 0.8, 0.6, 0.45, 0.3, 0.15)
LABELS = ("opposite", "equal")
LABEL_SIZE = 0.6
#: The width ladder (every panel data set, both γ rules, calibration initialisations).
LADDER = (256, 512, 1024, 2048)
CALIBRATION_INITS = 3
CONFIRMATION_INIT = 1000
PANEL_STREAM = 2109
#: c∞ = lim ‖A(0)‖₂/√m for Gaussian A(0): the γ of each rule in the infinite-width limit is γ₀/(2c∞), γ₀/c∞.
C_INF = 2.0
LIMIT_NODES = 32
#: The small-angle exponent check resolves λ∞ down to 3·10⁻⁵: the 32-vs-64-node difference bounds it to 10⁻⁷.
SMALL_THETA_NODES = 64


@dataclass(frozen=True)
class DataSet:
    theta: str | float
    labels: str

    @property
    def name(self) -> str:
        t = "base" if self.theta == "base" else f"θ={self.theta:g}"
        return f"{t}, {self.labels} labels"


DATA_SETS = tuple(DataSet(t, lab) for t in THETAS for lab in LABELS)
#: A plan's ``data_sets`` when it takes the whole panel (indices into DATA_SETS).
WHOLE_PANEL = tuple(range(len(DATA_SETS)))


def _moved(theta, labels: str) -> tuple[np.ndarray, np.ndarray]:
    X = theory.normalize_rows(BASE)
    if theta != "base":
        x1, x2 = X[0], X[1]
        u = x2 - (x2 @ x1) * x1
        u /= np.linalg.norm(u)
        X[1] = np.cos(theta) * x1 + np.sin(theta) * u
        X = theory.normalize_rows(X)
    y = LABEL_SIZE * np.array([1.0, -1.0 if labels == "opposite" else 1.0, -1.0, 1.0, -1.0, 1.0])
    return X, y


def data(index: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of panel data set ``index`` (module docstring)."""
    ds = DATA_SETS[index]
    return _moved(ds.theta, ds.labels)


#: Angles for the check that λ∞ is linear in θ (the base configuration with its pair at each).
SMALL_THETAS = (0.1, 0.05, 0.025, 0.0125)


def small_theta_data(index: int) -> tuple[np.ndarray, np.ndarray]:
    """The base configuration with its pair at angle SMALL_THETAS[index] (opposite labels)."""
    return _moved(SMALL_THETAS[index], "opposite")


def network(rule: str, m: int, index: int, init: int) -> theory.Network:
    return theory.init_network(m, BASE.shape[1], gamma0=0.5, gamma_rule=rule,
                               rng=np.random.default_rng([PANEL_STREAM, index, m, init]), norm_of=norms.spectral_norm)


def gamma_inf(rule: str, gamma0: float = 0.5) -> float:
    """The rule's γ in the infinite-width limit (c → c∞)."""
    return {"gamma0/2c": gamma0 / (2 * C_INF), "gamma0/c": gamma0 / C_INF}[rule]


@dataclass(frozen=True)
class Limit(Task):
    """λ∞ = λ_min(H^∞), the label complexity yᵀH∞⁻¹y and H^∞'s spectrum for one data set (``problem``
    "panel", "pilot" or "theta" (SMALL_THETAS), ``seed`` its index or seed) under one γ rule (a task,
    cached in reports/.cache/limits)."""

    namespace = "limits"
    theory_modules = ("__init__", "_validate", "errors", "limit_gaussian", "model")
    problem: str
    seed: int
    rule: str

    def weight(self) -> float:
        return 1.0

    def compute(self) -> dict:
        from . import paths

        X, y = small_theta_data(self.seed) if self.problem == "theta" else paths.PROBLEMS[self.problem].data(self.seed)
        L = limit_H(X, gamma_inf(self.rule), nodes=SMALL_THETA_NODES if self.problem == "theta" else LIMIT_NODES)
        lam, E = np.linalg.eigh(L["H"])
        c = E.T @ y
        return {"lambda_inf": float(lam[0]), "spectrum": [float(v) for v in lam],
                "label_complexity": float(np.sum(c**2 / lam)), "y_norm2": float(y @ y),
                "quadrature_error": float(L["quadrature_error"]), "lambda_error": float(L["quadrature_error_op"]),
                "gamma": gamma_inf(self.rule)}
