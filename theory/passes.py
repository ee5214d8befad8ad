"""The two passes over A that every equilibrium and adjoint iteration makes, for a few columns.

    forward:  A·Z  (m×m by m×n)          adjoint:  Aᵀ·X  (m×m by m×n)

n is the number of samples (6 on the panel and the pilot, 22 with held-out inputs).  For so thin a
product OpenBLAS's dgemm packs A and runs at ≈ 3.7× the cost of reading A once (one GEMV); these
kernels read A once, four rows at a time with 4·n running sums, and run at ≈ 1.8× (m = 4096, n = 6:
7 ms against 15 ms for dgemm; ``nox -s bench -- --only=passes``).  They are compiled by Numba, with
fastmath limited to reassociation and contraction (FMA): NaN and ±inf propagate as in IEEE
arithmetic, so the solvers' stop on a non-finite iterate still sees them.

Rounding.  Each entry is a sum of m products in an order of the compiler's choosing (SIMD lanes);
any order obeys |computed − exact| ≤ γ_m·Σ_j |A_ij|·|z_j|, γ_m = mε/(1 − mε) (Higham, *Accuracy and
Stability of Numerical Algorithms*, 2nd ed., §3.1, eq. 3.5), the bound dgemm obeys too, so every
tolerance built on (m + 2)ε (checks/model/tol.py) holds unchanged.  The order is fixed by the code
and the CPU, so a run is deterministic; the last bits differ from dgemm's.

Inputs the kernels do not take (not 2-D float64, A not C-contiguous or not square with Z, more than
:data:`MAX_COLUMNS` columns) go to NumPy's ``@``, so every call is correct, and a path, whose shapes do
not change, always takes the same branch.
"""

from __future__ import annotations

import numba
import numpy as np

from .errors import ShapeError

#: Above this many columns dgemm is as fast (m = 4096: n = 22 takes 21 ms either way).
MAX_COLUMNS = 32
#: Reassociation and FMA contraction only: no 'nnan'/'ninf' (NaN/inf keep their IEEE meaning).
_FASTMATH = {"reassoc", "contract"}


@numba.njit(fastmath=_FASTMATH, cache=True, nogil=True)
def _forward(A: np.ndarray, ZT: np.ndarray, out: np.ndarray) -> None:
    """out = A·Z from Zᵀ (n×m, contiguous): four rows of A share each load of Zᵀ[c, j]."""
    m, k = A.shape
    n = ZT.shape[0]
    i = 0
    while i + 3 < m:
        for c in range(n):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for j in range(k):
                z = ZT[c, j]
                s0 += A[i, j] * z
                s1 += A[i + 1, j] * z
                s2 += A[i + 2, j] * z
                s3 += A[i + 3, j] * z
            out[i, c] = s0
            out[i + 1, c] = s1
            out[i + 2, c] = s2
            out[i + 3, c] = s3
        i += 4
    while i < m:
        for c in range(n):
            s = 0.0
            for j in range(k):
                s += A[i, j] * ZT[c, j]
            out[i, c] = s
        i += 1


@numba.njit(fastmath=_FASTMATH, cache=True, nogil=True)
def _adjoint(A: np.ndarray, X: np.ndarray, outT: np.ndarray) -> None:
    """outTᵀ = Aᵀ·X: Σ_i X[i, c]·A[i, :] accumulated into row c of outT (n×m), four rows of A a sweep."""
    m, k = A.shape
    n = X.shape[1]
    outT[:, :] = 0.0
    i = 0
    while i + 3 < m:
        for c in range(n):
            x0 = X[i, c]
            x1 = X[i + 1, c]
            x2 = X[i + 2, c]
            x3 = X[i + 3, c]
            for j in range(k):
                outT[c, j] += (A[i, j] * x0 + A[i + 1, j] * x1) + (A[i + 2, j] * x2 + A[i + 3, j] * x3)
        i += 4
    while i < m:
        for c in range(n):
            x0 = X[i, c]
            for j in range(k):
                outT[c, j] += A[i, j] * x0
        i += 1


def _takes(A: np.ndarray, Z: np.ndarray) -> bool:
    return (A.ndim == 2 and Z.ndim == 2 and A.dtype == np.float64 and Z.dtype == np.float64
            and A.flags.c_contiguous and A.shape[0] == A.shape[1] == Z.shape[0] and 0 < Z.shape[1] <= MAX_COLUMNS)


def matmul(A: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """A·Z (m×n) for a square C-ordered A and a thin Z; NumPy's ``@`` for anything else."""
    if not _takes(A, Z):
        return A @ Z
    out = np.empty((A.shape[0], Z.shape[1]))
    _forward(A, np.ascontiguousarray(Z.T), out)
    return out


def rmatmul(A: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Aᵀ·X (m×n) for a square C-ordered A and a thin X, without forming Aᵀ; NumPy's ``@`` otherwise."""
    if not _takes(A, X):
        return A.T @ X
    outT = np.empty((X.shape[1], A.shape[1]))
    _adjoint(A, np.ascontiguousarray(X), outT)
    return np.ascontiguousarray(outT.T)


# ------------------------------------------------------------------ whole Picard loops (small widths)
# At small m an iteration's NumPy calls cost ≈ 10× its pass (m = 64: 41 µs, 3.4 µs of it in the pass), so
# the solvers run the whole loop of theory.equilibrium._iterate here.  Every operation is the one NumPy
# performs, in its order and with its rounding (no fastmath outside the passes): s·(A·Z) + B then the
# NaN-propagating max(·, 0); U + s·(Aᵀ(D∘W)); column norms √(Σ_i x_i²) summed over rows in order, as
# NumPy's einsum("ij,ij->j") does for C-ordered arrays with ≥ 2 columns.  So the iterates, the stopping
# step and the bounds are bit-identical to the NumPy loop (unit-tested), only faster.
FORWARD, ADJOINT = 0, 1


@numba.njit(cache=True, nogil=True)
def _col_norms_into(X: np.ndarray, out: np.ndarray) -> None:
    m, n = X.shape
    for c in range(n):
        out[c] = 0.0
    for i in range(m):
        for c in range(n):
            out[c] += X[i, c] * X[i, c]
    for c in range(n):
        out[c] = np.sqrt(out[c])


@numba.njit(cache=True, nogil=True)
def _picard(kind: int, A: np.ndarray, C: np.ndarray, Dm: np.ndarray, X0: np.ndarray, s: float, factor: float,
            rtol: float, maxiter: int, input_scale: np.ndarray):
    """X_{k+1} = max(s·A·X_k + C, 0) (FORWARD) or C + s·Aᵀ(Dm∘X_k) (ADJOINT) until every column's
    a-posteriori bound factor·‖X_{k+1} − X_k‖ ≤ rtol·max(‖X_{k+1}‖, input_scale): returns the last iterate,
    the iterations, the bounds, the history of max relative bounds and whether the bound was met (False:
    a non-finite iterate, or ``maxiter`` spent)."""
    m, n = X0.shape
    cur = X0
    bufs = (np.empty((m, n)), np.empty((m, n)))
    T = np.empty((n, m))  # Zᵀ for the forward pass, Aᵀ·X transposed for the adjoint
    W = np.empty((m, n))  # A·Z, or Dm∘X
    dn = np.empty(n)
    xn = np.empty(n)
    bound = np.empty(n)
    scale = np.empty(n)
    history = np.empty(maxiter)
    for k in range(1, maxiter + 1):
        new = bufs[(k - 1) % 2]
        if kind == FORWARD:
            for i in range(m):
                for c in range(n):
                    T[c, i] = cur[i, c]
            _forward(A, T, W)
            for i in range(m):
                for c in range(n):
                    p = s * W[i, c] + C[i, c]
                    new[i, c] = p if (p >= 0.0 or p != p) else 0.0
        else:
            for i in range(m):
                for c in range(n):
                    W[i, c] = Dm[i, c] * cur[i, c]
            _adjoint(A, W, T)
            for i in range(m):
                for c in range(n):
                    new[i, c] = C[i, c] + s * T[c, i]
        for i in range(m):
            for c in range(n):
                W[i, c] = new[i, c] - cur[i, c]
        _col_norms_into(W, dn)
        _col_norms_into(new, xn)
        h = 0.0
        nan = False
        finite = True
        done = True
        for c in range(n):
            bound[c] = factor * dn[c]
            a, b = xn[c], input_scale[c]
            scale[c] = a if (a >= b or a != a) else b
            rel = bound[c] / (scale[c] if scale[c] > 0 else 1.0)
            if rel != rel:
                nan = True
            elif rel > h:
                h = rel
            if not (np.isfinite(bound[c]) and np.isfinite(scale[c])):
                finite = False
            if not bound[c] <= rtol * scale[c]:
                done = False
        history[k - 1] = np.nan if nan else h
        cur = new
        if not finite or done:
            return cur, k, bound, history[:k], finite and done
    return cur, maxiter, bound, history[:maxiter], False


def picard_takes(A: np.ndarray, X0: np.ndarray, *others: np.ndarray) -> bool:
    """Whether :func:`picard` runs this solve (what the passes take, C-ordered iterates with ≥ 2 columns, where
    NumPy's column norms sum rows in order); otherwise the solver's NumPy loop does, with the same result."""
    return (_takes(A, X0) and X0.shape[1] >= 2 and X0.flags.c_contiguous
            and all(o.shape == X0.shape and o.dtype == np.float64 for o in others))


def picard(A: np.ndarray, C: np.ndarray, Dm: np.ndarray | None, X0: np.ndarray, s: float, factor: float,
           rtol: float, maxiter: int, input_scale: np.ndarray):
    """The compiled loop (see :func:`_picard`): the forward map when ``Dm`` is None, else the adjoint's."""
    kind, D = (FORWARD, C) if Dm is None else (ADJOINT, Dm)
    X, k, bound, history, converged = _picard(kind, A, C, D, X0, float(s), float(factor), float(rtol), int(maxiter),
                                              np.ascontiguousarray(input_scale, dtype=np.float64))
    return X, int(k), bound, [float(h) for h in history], bool(converged)


# ------------------------------------------------------------------ the gradient-descent update
@numba.njit(cache=True, nogil=True)
def _descend(G: np.ndarray, c: float, eta: float, a: np.ndarray, A0: np.ndarray, A: np.ndarray) -> None:
    m, k = a.shape
    for i in range(m):
        for j in range(k):
            f = G[i, j] * c
            f = f * eta
            x = a[i, j] + f
            a[i, j] = x
            A[i, j] = A0[i, j] + x


def descend(G: np.ndarray, c: float, eta: float, a: np.ndarray, A0: np.ndarray) -> np.ndarray:
    """One gradient-descent update in one sweep: a ← a + η·(c·G) in place, and A = A0 + a returned.

    Entry by entry the IEEE operations, in their order, of ``F = c*G; F *= η; a += F; A = A0 + a`` (no
    fastmath, so no FMA contraction): bit-identical to those four NumPy statements, which read or write an
    m×m array ten times (six reads, four writes) where this reads three and writes two (m = 4096: 134 MB each)."""
    for name, x in (("G", G), ("a", a), ("A0", A0)):
        if x.shape != a.shape or x.dtype != np.float64:
            raise ShapeError(f"descend: {name} must be float64 of shape {a.shape}, got {x.dtype} {x.shape}")
    A = np.empty_like(a)
    _descend(G, float(c), float(eta), a, A0, A)
    return A
