"""The two passes over A that every equilibrium and adjoint iteration makes, for a few columns.

    forward:  A·Z  (m×m by m×n)          adjoint:  Aᵀ·X  (m×m by m×n)

n is the number of samples (6 on the panel and the pilot, 22 with held-out inputs).  For so thin a
product OpenBLAS's dgemm packs A and runs at ≈ 3.7–4.3× the cost of reading A once (one GEMV); these
kernels read A once, register-blocked four rows × three columns (each load of A serves three columns,
each load of Z four rows), and run at ≈ 1.7–2.4× a GEMV.  The speed of a pass depends on the host's
CPU: m = 4096, n = 6 took 7 ms (dgemm 15–21 ms) on the host of 2026-12-02, and 12.8 ms forward, 13.6 ms
adjoint (dgemm 29 ms, GEMV 7–8 ms) on the AMD EPYC host of 2026-12-03, where the earlier kernels
(four rows, one column a sweep: each row block of A re-read from cache n times) took 15.1 and 14.6 ms, and
at m = 2048 3.5 ms against 2.3 (forward) and 2.8 (adjoint) now (``nox -s bench -- --only=passes``).
Measured and not adopted: eight rows × three columns forward (24 running sums; the same per-entry sums, so
the same bits on the paths tried) took one process's m = 4096 pass from 9.6 to 9.2 ms in float64 and 4.9 to
3.8 ms in float32, but two concurrent paths (the sweep's two workers share the memory bus) ran no faster.
They are compiled by Numba, with fastmath limited to reassociation and contraction (FMA): NaN and ±inf
propagate as in IEEE arithmetic, so the solvers' stop on a non-finite iterate still sees them.

Rounding.  Each entry is a sum of m products in an order of the compiler's choosing (SIMD lanes);
any order obeys |computed − exact| ≤ γ_m·Σ_j |A_ij|·|z_j|, γ_m = mε/(1 − mε) (Higham, *Accuracy and
Stability of Numerical Algorithms*, 2nd ed., §3.1, eq. 3.5), the bound dgemm obeys too, so every
tolerance built on (m + 2)ε (checks/model/tol.py) holds unchanged.  The order is fixed by the code
and the CPU, so a run is deterministic; the last bits differ from dgemm's.

Float32 start.  A pass of n = 6 columns is bound by FMA throughput, not by reading A, so from
:data:`MIXED_MIN_M` rows on a solve first iterates in float32 (twice the lanes a vector) until its steps
reach ≈ 1e-5 relative, then the float64 loop finishes; that loop's a-posteriori bound certifies the result
whatever its start (see :func:`_single_phase`).

Inputs the kernels do not take (not 2-D float64, A not C-contiguous or not square with Z, more than
:data:`MAX_COLUMNS` columns) go to NumPy's ``@``, so every call is correct, and a path, whose shapes do
not change, always takes the same branch.
"""

from __future__ import annotations

import weakref

import numba
import numpy as np

from .errors import ShapeError

#: Above this many columns dgemm is as fast (m = 4096: n = 22 takes 21 ms either way).
MAX_COLUMNS = 32
#: Reassociation and FMA contraction only: no 'nnan'/'ninf' (NaN/inf keep their IEEE meaning).
_FASTMATH = {"reassoc", "contract"}


@numba.njit(fastmath=_FASTMATH, cache=True, nogil=True)
def _forward(A: np.ndarray, ZT: np.ndarray, out: np.ndarray, zero=0.0) -> None:
    """out = A·Z from Zᵀ (n×m, contiguous), register-blocked: four rows of A × three columns of Z a sweep, so
    each load of A[i, j] serves three columns and each load of Zᵀ[c, j] four rows (12 running sums; the
    columns left over, n mod 3, go one at a time).  ``zero`` types the running sums: 0.0 for float64,
    np.float32(0.0) for the float32 phase (16 lanes a vector)."""
    m, k = A.shape
    n = ZT.shape[0]
    i = 0
    while i + 3 < m:
        c = 0
        while c + 2 < n:
            s00 = zero
            s01 = zero
            s02 = zero
            s10 = zero
            s11 = zero
            s12 = zero
            s20 = zero
            s21 = zero
            s22 = zero
            s30 = zero
            s31 = zero
            s32 = zero
            for j in range(k):
                z0 = ZT[c, j]
                z1 = ZT[c + 1, j]
                z2 = ZT[c + 2, j]
                a0 = A[i, j]
                a1 = A[i + 1, j]
                a2 = A[i + 2, j]
                a3 = A[i + 3, j]
                s00 += a0 * z0
                s01 += a0 * z1
                s02 += a0 * z2
                s10 += a1 * z0
                s11 += a1 * z1
                s12 += a1 * z2
                s20 += a2 * z0
                s21 += a2 * z1
                s22 += a2 * z2
                s30 += a3 * z0
                s31 += a3 * z1
                s32 += a3 * z2
            out[i, c] = s00
            out[i, c + 1] = s01
            out[i, c + 2] = s02
            out[i + 1, c] = s10
            out[i + 1, c + 1] = s11
            out[i + 1, c + 2] = s12
            out[i + 2, c] = s20
            out[i + 2, c + 1] = s21
            out[i + 2, c + 2] = s22
            out[i + 3, c] = s30
            out[i + 3, c + 1] = s31
            out[i + 3, c + 2] = s32
            c += 3
        while c < n:
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
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
            c += 1
        i += 4
    while i < m:
        for c in range(n):
            s = zero
            for j in range(k):
                s += A[i, j] * ZT[c, j]
            out[i, c] = s
        i += 1


@numba.njit(fastmath=_FASTMATH, cache=True, nogil=True)
def _adjoint(A: np.ndarray, X: np.ndarray, outT: np.ndarray) -> None:
    """outTᵀ = Aᵀ·X: Σ_i X[i, c]·A[i, :] accumulated into row c of outT (n×m), four rows of A × three
    columns a sweep (each load of A[i, j] serves three columns; n mod 3 columns one at a time)."""
    m, k = A.shape
    n = X.shape[1]
    outT[:, :] = 0.0
    i = 0
    while i + 3 < m:
        c = 0
        while c + 2 < n:
            x00 = X[i, c]
            x10 = X[i + 1, c]
            x20 = X[i + 2, c]
            x30 = X[i + 3, c]
            x01 = X[i, c + 1]
            x11 = X[i + 1, c + 1]
            x21 = X[i + 2, c + 1]
            x31 = X[i + 3, c + 1]
            x02 = X[i, c + 2]
            x12 = X[i + 1, c + 2]
            x22 = X[i + 2, c + 2]
            x32 = X[i + 3, c + 2]
            for j in range(k):
                a0 = A[i, j]
                a1 = A[i + 1, j]
                a2 = A[i + 2, j]
                a3 = A[i + 3, j]
                outT[c, j] += (a0 * x00 + a1 * x10) + (a2 * x20 + a3 * x30)
                outT[c + 1, j] += (a0 * x01 + a1 * x11) + (a2 * x21 + a3 * x31)
                outT[c + 2, j] += (a0 * x02 + a1 * x12) + (a2 * x22 + a3 * x32)
            c += 3
        while c < n:
            x0 = X[i, c]
            x1 = X[i + 1, c]
            x2 = X[i + 2, c]
            x3 = X[i + 3, c]
            for j in range(k):
                outT[c, j] += (A[i, j] * x0 + A[i + 1, j] * x1) + (A[i + 2, j] * x2 + A[i + 3, j] * x3)
            c += 1
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
# step and the bounds are bit-identical to the NumPy loop (unit-tested), only faster.  From MIXED_MIN_M on,
# a float32 phase first moves the start (below); the float64 loop that follows is this one.
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


# ------------------------------------------------------------------ a float32 start for wide solves
# A pass makes n FMAs per entry of A and is bound by FMA throughput, not by reading A (m = 4096, n = 6: 7.3 ms
# forward and 8.1 ms adjoint, against 3.1 ms to stream A once); in float32 a vector holds twice the lanes and
# the same passes take 3.8 and 4.1 ms.  From MIXED_MIN_M on, a solve therefore first iterates the float32 map
# from the given start until a step moves the iterate by ≤ SINGLE_SWITCH of its size (float32 iterates settle
# at ≈ 1e-7 to 1e-6 relative: the rounding of m-term float32 sums), then hands that iterate to the float64 loop
# above.  Every guarantee is the float64 loop's: its a-posteriori bound factor·‖x_k − x_{k−1}‖ holds for
# x_k = T(x_{k−1}) from any x_{k−1}, so where the float64 phase starts changes its iteration count, never its
# certificate.  A non-finite float32 iterate (overflow) discards the float32 phase (the float64 loop starts
# from the caller's start and reports non-finite input as before).
#: Width from which solves start in float32 (below it A fits in cache and a pass costs little either way).
MIXED_MIN_M = 1024
#: Relative step size at which the float32 phase hands over: ≥ 10× above where float32 iterates settle.
SINGLE_SWITCH = 1e-5
#: At most this many float32 iterations (a start already at the switch level stops after one).
SINGLE_MAX_ITER = 40


@numba.njit(fastmath=_FASTMATH, cache=True, nogil=True)
def _single_phase(kind: int, A32: np.ndarray, C: np.ndarray, Dm: np.ndarray, X0: np.ndarray, s: float,
                  switch: float, max_iter: int, input_scale: np.ndarray):
    """Iterate the float32 map from X0 until a step's largest relative size (over columns, against
    max(‖x‖, input_scale)) is ≤ ``switch``, stops shrinking (≥ ½ of the previous step: the float32 floor), or
    ``max_iter`` is spent: returns the last iterate (float64), the iterations, the step sizes and whether every
    iterate stayed finite."""
    m, n = X0.shape
    f32 = np.float32
    s32 = f32(s)
    C32 = np.empty((m, n), dtype=f32)
    D32 = np.empty((m, n), dtype=f32)
    cur = np.empty((m, n), dtype=f32)
    for i in range(m):
        for c in range(n):
            C32[i, c] = f32(C[i, c])
            D32[i, c] = f32(Dm[i, c])
            cur[i, c] = f32(X0[i, c])
    new = np.empty((m, n), dtype=f32)
    T = np.empty((n, m), dtype=f32)
    W = np.empty((m, n), dtype=f32)
    dn = np.empty(n)
    xn = np.empty(n)
    sizes = np.empty(max_iter)
    prev = np.inf
    k = 0
    finite = True
    while k < max_iter:
        k += 1
        if kind == FORWARD:
            for i in range(m):
                for c in range(n):
                    T[c, i] = cur[i, c]
            _forward(A32, T, W, f32(0.0))
            for i in range(m):
                for c in range(n):
                    p = s32 * W[i, c] + C32[i, c]
                    new[i, c] = p if (p >= 0.0 or p != p) else f32(0.0)
        else:
            for i in range(m):
                for c in range(n):
                    W[i, c] = D32[i, c] * cur[i, c]
            _adjoint(A32, W, T)
            for i in range(m):
                for c in range(n):
                    new[i, c] = C32[i, c] + s32 * T[c, i]
        for c in range(n):
            dn[c] = 0.0
            xn[c] = 0.0
        for i in range(m):
            for c in range(n):
                d = np.float64(new[i, c]) - np.float64(cur[i, c])
                x = np.float64(new[i, c])
                dn[c] += d * d
                xn[c] += x * x
        size = 0.0
        for c in range(n):
            den = max(np.sqrt(xn[c]), input_scale[c])
            r = np.sqrt(dn[c]) / (den if den > 0 else 1.0)
            if not np.isfinite(r):
                finite = False
            elif r > size:
                size = r
        sizes[k - 1] = size
        cur, new = new, cur
        if not finite or size <= switch or size >= 0.5 * prev:
            break
        prev = size
    out = np.empty((m, n))
    for i in range(m):
        for c in range(n):
            out[i, c] = np.float64(cur[i, c])
    return out, k, sizes[:k], finite


_single_copy: list = [None, None]  # [weakref to the float64 A, its float32 copy]: a solve's two passes share it


def single(A: np.ndarray) -> np.ndarray:
    """A in float32, converted once per matrix object (the equilibrium and the adjoint solve on one network
    convert once).  A stale copy (A changed in place) could only slow the float64 phase, never change its
    certificate."""
    ref, copy = _single_copy
    if ref is not None and ref() is A and copy.shape == A.shape:
        return copy
    copy = A.astype(np.float32)
    _single_copy[0], _single_copy[1] = weakref.ref(A), copy
    return copy


def picard_takes(A: np.ndarray, X0: np.ndarray, *others: np.ndarray) -> bool:
    """Whether :func:`picard` runs this solve (what the passes take, C-ordered iterates with ≥ 2 columns, where
    NumPy's column norms sum rows in order); otherwise the solver's NumPy loop does, with the same result."""
    return (_takes(A, X0) and X0.shape[1] >= 2 and X0.flags.c_contiguous
            and all(o.shape == X0.shape and o.dtype == np.float64 for o in others))


def picard(A: np.ndarray, C: np.ndarray, Dm: np.ndarray | None, X0: np.ndarray, s: float, factor: float,
           rtol: float, maxiter: int, input_scale: np.ndarray):
    """The compiled loop (see :func:`_picard`): the forward map when ``Dm`` is None, else the adjoint's.  From
    :data:`MIXED_MIN_M` rows on, :func:`_single_phase` first moves the start in float32; the iterations and the
    history count both phases (the float32 entries are factor × step size, not certificates)."""
    kind, D = (FORWARD, C) if Dm is None else (ADJOINT, Dm)
    input_scale = np.ascontiguousarray(input_scale, dtype=np.float64)
    k32, head = 0, []
    if A.shape[0] >= MIXED_MIN_M and maxiter >= 2:
        X32, k32, sizes, finite = _single_phase(kind, single(A), C, D, X0, float(s), SINGLE_SWITCH,
                                                min(SINGLE_MAX_ITER, maxiter // 2), input_scale)
        if finite:
            X0, head = X32, [float(factor * h) for h in sizes]
        else:
            k32 = 0
    X, k, bound, history, converged = _picard(kind, A, C, D, X0, float(s), float(factor), float(rtol),
                                              int(maxiter - k32), input_scale)
    return X, int(k32 + k), bound, head + [float(h) for h in history], bool(converged)


@numba.njit(cache=True, nogil=True)
def _shifted_single(A0: np.ndarray, dA: np.ndarray, A: np.ndarray, A32: np.ndarray) -> None:
    m, k = A0.shape
    for i in range(m):
        for j in range(k):
            y = A0[i, j] + dA[i, j]
            A[i, j] = y
            A32[i, j] = np.float32(y)


def shifted(A0: np.ndarray, dA: np.ndarray) -> np.ndarray:
    """A = A0 + ΔA, bit for bit NumPy's ``A0 + dA`` (one IEEE addition an entry, no fastmath).  From
    :data:`MIXED_MIN_M` on, the same sweep writes A's float32 copy for the solves' float32 phase (:func:`single`),
    which would otherwise read A again to convert it (m = 4096: 21 ms a step of the flow's 26)."""
    if A0.shape != dA.shape or A0.ndim != 2 or A0.dtype != np.float64 or dA.dtype != np.float64:
        raise ShapeError(f"shifted: A0 and ΔA must be float64 matrices of one shape, got {A0.dtype} {A0.shape} "
                         f"and {dA.dtype} {dA.shape}")
    if A0.shape[0] < MIXED_MIN_M:
        return A0 + dA
    A = np.empty(A0.shape)
    A32 = np.empty(A0.shape, dtype=np.float32)
    _shifted_single(A0, dA, A, A32)
    _single_copy[0], _single_copy[1] = weakref.ref(A), A32
    return A


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


@numba.njit(cache=True, nogil=True)
def _descend_single(G: np.ndarray, c: float, eta: float, a: np.ndarray, A0: np.ndarray, A: np.ndarray,
                    A32: np.ndarray) -> None:
    m, k = a.shape
    for i in range(m):
        for j in range(k):
            f = G[i, j] * c
            f = f * eta
            x = a[i, j] + f
            a[i, j] = x
            y = A0[i, j] + x
            A[i, j] = y
            A32[i, j] = np.float32(y)


def descend(G: np.ndarray, c: float, eta: float, a: np.ndarray, A0: np.ndarray) -> np.ndarray:
    """One gradient-descent update in one sweep: a ← a + η·(c·G) in place, and A = A0 + a returned.

    Entry by entry the IEEE operations, in their order, of ``F = c*G; F *= η; a += F; A = A0 + a`` (no
    fastmath, so no FMA contraction): bit-identical to those four NumPy statements, which read or write an
    m×m array ten times (six reads, four writes) where this reads three and writes two (m = 4096: 134 MB each).
    From :data:`MIXED_MIN_M` on, the same sweep writes A's float32 copy for the solves' float32 phase
    (:func:`single`), which would otherwise read A again to convert it."""
    for name, x in (("G", G), ("a", a), ("A0", A0)):
        if x.shape != a.shape or x.dtype != np.float64:
            raise ShapeError(f"descend: {name} must be float64 of shape {a.shape}, got {x.dtype} {x.shape}")
    A = np.empty_like(a)
    if a.ndim == 2 and a.shape[0] >= MIXED_MIN_M:
        A32 = np.empty(a.shape, dtype=np.float32)
        _descend_single(G, float(c), float(eta), a, A0, A, A32)
        _single_copy[0], _single_copy[1] = weakref.ref(A), A32
    else:
        _descend(G, float(c), float(eta), a, A0, A)
    return A


@numba.njit(fastmath=_FASTMATH, cache=True, nogil=True)
def _descend_outer(L: np.ndarray, RT: np.ndarray, c: float, eta: float, a: np.ndarray, A0: np.ndarray,
                   A: np.ndarray, A32: np.ndarray, single: bool) -> None:
    m, k = a.shape
    n = L.shape[1]
    ce = c * eta
    g = np.empty(k)
    for i in range(m):
        for j in range(k):
            g[j] = 0.0
        t = 0
        while t + 2 < n:
            w0 = L[i, t] * ce
            w1 = L[i, t + 1] * ce
            w2 = L[i, t + 2] * ce
            for j in range(k):
                g[j] += (w0 * RT[t, j] + w1 * RT[t + 1, j]) + w2 * RT[t + 2, j]
            t += 3
        while t < n:
            w0 = L[i, t] * ce
            for j in range(k):
                g[j] += w0 * RT[t, j]
            t += 1
        for j in range(k):
            x = a[i, j] + g[j]
            a[i, j] = x
            y = A0[i, j] + x
            A[i, j] = y
            if single:
                A32[i, j] = np.float32(y)


def descend_outer(L: np.ndarray, R: np.ndarray, c: float, eta: float, a: np.ndarray, A0: np.ndarray) -> np.ndarray:
    """:func:`descend` with G = L·Rᵀ (m×n by n×m, the rank-n gradient) never formed: a ← a + (c·η)·L·Rᵀ in
    place and A = A0 + a returned, in one sweep that reads A0 and a and writes a and A (and, from
    :data:`MIXED_MIN_M` on, A's float32 copy).  Each entry of (cη)·L·Rᵀ is an n-term sum of products in an order
    of the compiler's choosing (reassociation and FMA contraction), within the n-term bound γ_n·Σ|w_t||R_jt| of
    any order; the last bits differ from ``descend(L @ R.T, c, η, …)``, which forms G (m×m) first."""
    m = a.shape[0]
    if a.shape != A0.shape or a.ndim != 2 or a.dtype != np.float64 or A0.dtype != np.float64:
        raise ShapeError(f"descend_outer: a and A0 must be float64 m×m of one shape, got {a.shape} and {A0.shape}")
    if L.ndim != 2 or L.shape[0] != m or R.shape != (a.shape[1], L.shape[1]):
        raise ShapeError(f"descend_outer: L must be {m}×n and R {a.shape[1]}×n, got {L.shape} and {R.shape}")
    L = np.ascontiguousarray(L, dtype=np.float64)
    RT = np.ascontiguousarray(np.asarray(R, dtype=np.float64).T)
    A = np.empty_like(a)
    single_ = m >= MIXED_MIN_M
    A32 = np.empty(a.shape if single_ else (1, 1), dtype=np.float32)
    _descend_outer(L, RT, float(c), float(eta), a, A0, A, A32, single_)
    if single_:
        _single_copy[0], _single_copy[1] = weakref.ref(A), A32
    return A
