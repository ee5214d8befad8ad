"""High-precision mirror (mpmath) of the equilibrium, Q, v and ∂f/∂A, for tiny m.

The float64 inputs (A, W, u, γ, x) are taken as exact binary numbers.  Because σ is
piecewise linear, the equilibrium with a given activation pattern D solves the
linear system (I − s D A) z = D b exactly; the pattern is taken from a float64
solve, then *verified* at high precision (every pre-activation's sign must agree
and the fixed-point residual must be ≤ 10^(−dps+10)).  If the pattern is not
self-consistent, Picard iteration at high precision refines it.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from .errors import ConvergenceError, InputError
from .model import Network

MAX_M = 32  # an O(m³) dense mpmath solve per sample: tiny widths only


@dataclass(frozen=True)
class HPResult:
    """High-precision results for one sample, as mpmath matrices, plus float64 copies."""

    z: mpmath.matrix
    P: mpmath.matrix
    Q: mpmath.matrix
    v: mpmath.matrix
    grad: mpmath.matrix  # ∂f/∂A = (γ/m) v zᵀ
    f: mpmath.mpf
    dps: int
    min_abs_preact: float  # distance of the pattern from a kink

    def as_float(self) -> dict[str, np.ndarray]:
        def conv(M: mpmath.matrix) -> np.ndarray:
            return np.array(M.tolist(), dtype=float)

        return {"z": conv(self.z)[:, 0], "P": conv(self.P)[:, 0], "v": conv(self.v)[:, 0],
                "Q": conv(self.Q), "grad": conv(self.grad), "f": float(self.f)}


def _phi(name: str, x):
    return mpmath.tanh(x) if name == "tanh" else (x if x > 0 else mpmath.mpf(0))


def solve_hp(net: Network, x: np.ndarray, pattern: np.ndarray, *, dps: int = 50,
             max_passes: int | None = None) -> HPResult:
    """Equilibrium, Q, v, ∂f/∂A and f for one input x at ``dps`` decimal digits.

    ``pattern`` is a starting guess for D (e.g. from the float64 solve); a correct guess is
    confirmed in one pass.  ``max_passes`` (default 4m + 8) bounds the pattern repair.
    """
    m = net.m
    passes = 4 * m + 8 if max_passes is None else max_passes
    if m > MAX_M:
        raise InputError(f"the mpmath mirror is for tiny widths (m ≤ {MAX_M}); got m = {m}")
    with mpmath.workdps(dps):
        A = mpmath.matrix(net.A.tolist())
        W = mpmath.matrix(net.W.tolist())
        u = mpmath.matrix(net.u.tolist())
        xv = mpmath.matrix(np.asarray(x, dtype=float).tolist())
        gamma = mpmath.mpf(float(net.gamma))
        s = gamma / mpmath.sqrt(m)
        Wx = W * xv
        b = mpmath.matrix([_phi(net.phi, Wx[i]) for i in range(m)])
        D = [bool(p) for p in pattern]
        thresh = mpmath.mpf(10) ** (-(dps - 10))
        for _ in range(passes):  # each pass fixes ≥ 1 inconsistent sign or stops
            M = mpmath.eye(m)
            for i in range(m):
                if D[i]:
                    for j in range(m):
                        M[i, j] -= s * A[i, j]
            rhs = mpmath.matrix([b[i] if D[i] else 0 for i in range(m)])
            z = mpmath.lu_solve(M, rhs)
            P = s * (A * z) + b
            newD = [P[i] > 0 for i in range(m)]
            if newD == D:
                break
            D = newD
        else:
            raise ConvergenceError("high-precision pattern search", passes, [], float(thresh))
        resid = max((abs(z[i] - (P[i] if P[i] > 0 else 0)) for i in range(m)), default=mpmath.mpf(0))
        if resid > thresh * (1 + mpmath.norm(z)):
            raise ConvergenceError("high-precision fixed point", 1, [float(resid)], float(thresh))
        Mq = mpmath.eye(m)
        for i in range(m):
            if D[i]:
                for j in range(m):
                    Mq[i, j] -= s * A[i, j]
        Q = mpmath.inverse(Mq)
        QTu = Q.T * u
        v = mpmath.matrix([QTu[i] if D[i] else 0 for i in range(m)])
        grad = (gamma / m) * (v * z.T)
        f = (u.T * z)[0] / mpmath.sqrt(m)
        min_abs = float(min(abs(P[i]) for i in range(m)))
        return HPResult(z=z, P=P, Q=Q, v=v, grad=grad, f=f, dps=dps, min_abs_preact=min_abs)
