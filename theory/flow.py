"""Gradient flow on A (eqs. 5-6) with error control, and the quantities of Theorem 3.1
recorded along the whole path.

    dA/dt = −Σ_i (f_i − y_i) ∂f_i/∂A = −(γ/m)·V·diag(f − y)·Zᵀ        (only A trained)

The state integrated is ΔA = A(t) − A(0) (so tolerances are relative to the *change*,
not to the O(1) entries of A(0)).  :func:`gradient_flow` takes one *integrator*, a small frozen
object that names its own step parameter:

* :class:`ExpEuler` ``(tau)``: exponential Euler in function space (exponential Rosenbrock–Euler
  with the Gauss–Newton Jacobian L = −JᵀJ, Hochbruck & Ostermann, Acta Numerica 2010, §2.3/§4),
  step h ≤ τ/λ₀.  The stiffness of the flow lives in the n-dimensional function space: with J
  frozen at A_k the residual r = f − y obeys dr/dt = −H_k r exactly, so one step of any length
  solves the stiff part exactly and only the drift of J limits h.  One equilibrium/adjoint solve
  per step, and an a-posteriori local error estimate for free (see :func:`_exp_euler`).
* :class:`Heun` ``(safety)``: Heun with the stability-based step h = safety/λ_max(H(t)) (the
  oracle; accuracy checked by halving).
* :class:`RK45` ``(rtol)``: SciPy's adaptive RK45 (oracle for small m).
* :class:`GradientDescent` ``(c, eta)``: full-batch gradient descent with η = eta or c/λ_max(H(0)).

All land exactly on ``checkpoints`` so runs with different steps are compared at identical
times.  Every right-hand side warm-starts the equilibrium and adjoint solves from the previous
ones.  An integrator receives one object, the :class:`Path` in progress (its solves, its record,
its checkpoint times), and every solved point of the path is a named :class:`Point`.

Memory is O(m² + nm) plus the integrator's stages: the trajectory of A is never kept.
Contraction along the path: q(t) = γ‖A(t)‖₂/√m ≤ γ(‖A(0)‖₂ + ‖ΔA‖_F)/√m is used as a
certificate while it is < 1; otherwise ‖A(t)‖₂ is measured (Lanczos for large m) and a
non-contractive A(t) raises :class:`NonContractiveError` with the time in the message.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import scipy.integrate

from . import passes
from ._validate import check_labels
from .equilibrium import SOLVE_RTOL, Adjoint, Equilibrium, output, solve_adjoint, solve_equilibrium
from .errors import InputError, IntegrationError, NonContractiveError
from .gram import gram, lambda0
from .model import Network, spectral_norm

#: Above this the cheap certificate γ(‖A(0)‖₂ + ‖ΔA‖_F)/√m is replaced by the measured
#: γ‖A(t)‖₂/√m: the a-posteriori factor q/(1−q) of a loose certificate near 1 would make the
#: equilibrium solves stall on a useless error bound.
Q_MEASURE = 0.9


@dataclass(frozen=True)
class Point:
    """One solved point of the path: the network at A(0) + ΔA and its solves.

    ``q_cert`` is an upper bound on γ‖A‖₂/√m (exact when the cheap bound was ≥ ``Q_MEASURE``),
    ``dA_fro`` = ‖ΔA‖_F, ``eq_extra`` the equilibria of the extra inputs (solved with the samples
    in one batched iteration), or None."""

    net: Network
    eq: Equilibrium
    adj: Adjoint
    q_cert: float
    dA_fro: float
    eq_extra: Equilibrium | None = None


@dataclass
class State:
    """Everything known at one recorded time t on the path (passed to step callbacks):
    the network, its solves, the outputs f, the recorded loss L = ½‖f − y‖², the Gram matrix H."""

    t: float
    net: Network  # with A(t)
    eq: Equilibrium
    adj: Adjoint
    f: np.ndarray
    H: np.ndarray
    q_cert: float  # an upper bound on γ‖A(t)‖₂/√m (exact when the cheap bound was ≥ Q_MEASURE)
    eq_extra: Equilibrium | None = None  # equilibria of ``X_extra`` at A(t) (solved with the samples)
    loss: float = math.nan  # the loss recorded at t


@dataclass
class FlowResult:
    """Per accepted step (and t = 0): the diagnostics of Theorem 3.1 and its proof."""

    lambda0: float
    T: float
    method: str = "heun"
    t: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lam_min: list[float] = field(default_factory=list)
    lam_max: list[float] = field(default_factory=list)
    dA_fro: list[float] = field(default_factory=list)
    q_cert: list[float] = field(default_factory=list)
    dH_op: list[float] = field(default_factory=list)
    bottom_shift: list[float] = field(default_factory=list)  # e₀ᵀ(H(t) − H(0))e₀, e₀ H(0)'s bottom eigenvector
    lin_dev: list[float] = field(default_factory=list)  # ‖f(t) − ĝ(t)‖, ĝ(t) = y + e^{−H(0)t}(f(0) − y): the nonlinearity
    dz_max: list[float] = field(default_factory=list)  # max_i ‖z_i(t) − z_i(0)‖
    dz_rel_max: list[float] = field(default_factory=list)  # max_i ‖Δz_i‖/‖z_i(0)‖
    dv_max: list[float] = field(default_factory=list)  # max_i ‖v_i(t) − v_i(0)‖
    flip_frac: list[float] = field(default_factory=list)  # fraction of D entries changed
    f: list[np.ndarray] = field(default_factory=list)
    checkpoint_loss: list[float] = field(default_factory=list)
    # ExpEuler only: accumulated a-posteriori error estimates (see _exp_euler); empty otherwise
    err_A: list[float] = field(default_factory=list)  # Σ_k ‖E_k‖_F, estimate of ‖A_num(t) − A(t)‖_F
    err_f: list[float] = field(default_factory=list)  # Σ_k ‖J_k E_k‖, estimate of ‖f_num(t) − f(t)‖
    # GradientDescent only: the step η and, per step k, the Gauss–Newton model's prediction ½‖(I − ηH_k)r_k‖²
    # of L_{k+1}
    eta: float | None = None
    model_loss: list[float] = field(default_factory=list)
    nfev: int = 0
    steps: int = 0
    failure: str | None = None  # set when the flow stopped early (e.g. lost contraction)
    final_A: np.ndarray | None = None  # A at the last recorded (accepted) time

    def arrays(self) -> dict[str, np.ndarray]:
        keys = ["t", "loss", "lam_min", "dA_fro", "q_cert", "dH_op", "dz_max", "dz_rel_max", "dv_max", "flip_frac"]
        return {k: np.asarray(getattr(self, k)) for k in keys}


def loss(f: np.ndarray, y: np.ndarray) -> float:
    """L = ½‖f − y‖²."""
    r = f - y
    return 0.5 * float(r @ r)


def _split(eq: Equilibrium, n: int) -> tuple[Equilibrium, Equilibrium]:
    """The first n columns of a joint solve (the samples) and the rest (extra inputs)."""
    part = lambda sl: Equilibrium(Z=eq.Z[:, sl], P=eq.P[:, sl], B=eq.B[:, sl], iterations=eq.iterations,  # noqa: E731
                                  error_bound=eq.error_bound[sl], history=eq.history)
    return part(slice(0, n)), part(slice(n, None))


# ------------------------------------------------------------------------------------ integrators
class _Integrator:
    """Base of the integrators: a frozen dataclass whose first field is its one step parameter
    (named by what it is: ``param``), validated positive and finite; ``method`` names it in path keys."""

    method: ClassVar[str]
    param: ClassVar[str]  # the name of the step parameter's field
    what: ClassVar[str]  # the step parameter in words, for error messages

    def __post_init__(self) -> None:
        value = getattr(self, self.param)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InputError(f"{self.what} must be a positive finite number, got {value!r}")

    @property
    def step(self) -> float:
        """The step parameter (τ, safety, rtol or c)."""
        return getattr(self, self.param)

    def run(self, path: Path) -> None:  # pragma: no cover - every integrator defines it
        raise NotImplementedError


@dataclass(frozen=True)
class Heun(_Integrator):
    """Heun's method (explicit trapezoidal, order 2) with the stability-based step
    h = ``safety``/λ_max(H(t)), well inside Heun's stability limit hλ ≤ 2 for safety ≤ 1.  The
    flow is stiff (rates λ₀ … λ_max) and only Lipschitz (ReLU patterns flip), which makes
    error-controlled explicit schemes crawl (at m = 64 RK45 at rtol 1e-6 needed 11 369 steps where
    Heun needs 569); Heun's error is controlled by halving ``safety``."""

    safety: float = 0.25
    method: ClassVar[str] = "heun"
    param: ClassVar[str] = "safety"
    what: ClassVar[str] = "Heun's step safety"

    def run(self, path: Path) -> None:
        _heun(path, self.safety)


@dataclass(frozen=True)
class RK45(_Integrator):
    """SciPy's adaptive RK45 with relative tolerance ``rtol`` and atol = rtol·‖dA/dt(0)‖_F/(λ₀·m)
    (the typical entry of ΔA): the oracle for small m."""

    rtol: float = 1e-6
    method: ClassVar[str] = "rk45"
    param: ClassVar[str] = "rtol"
    what: ClassVar[str] = "RK45's relative tolerance"

    def run(self, path: Path) -> None:
        _rk45(path, self.rtol)


@dataclass(frozen=True)
class ExpEuler(_Integrator):
    """Exponential Euler (:func:`_exp_euler`) with step h ≤ ``tau``/λ₀: τ is the step in units of
    the slowest time scale 1/λ₀ (the stiff part is solved exactly, so h is not limited by λ_max).
    Its accuracy is shown by halving τ and against Heun, and estimated per path by the accumulated
    local error estimates ``err_A`` and ``err_f``."""

    tau: float = 0.25
    method: ClassVar[str] = "exp"
    param: ClassVar[str] = "tau"
    what: ClassVar[str] = "exponential Euler's step τ"

    def run(self, path: Path) -> None:
        _exp_euler(path, self.tau / path.lambda0, self.coefficients)

    @staticmethod
    def coefficients(lam: np.ndarray, U: np.ndarray, rk: np.ndarray, h: float) -> np.ndarray:
        """The step's sample coefficients c = H_k⁺(I − e^{−hH_k})r_k = U·hφ₁(−hΛ)·Uᵀr_k (``rk`` = Uᵀr_k,
        H_k = U diag(λ) Uᵀ): the step is A_{k+1} = A_k − (γ/m)·V diag(c) Zᵀ."""
        return U @ (_phi1_h(lam, h) * rk)


@dataclass(frozen=True)
class GradientDescent(_Integrator):
    """Full-batch gradient descent A_{k+1} = A_k − η∇L(A_k) (forward Euler with a fixed step),
    η = ``eta`` or ``c``/λ_max(H(0)); t = kη, so the horizon compares it with the flow."""

    c: float = 1.0
    eta: float | None = None
    method: ClassVar[str] = "gd"
    param: ClassVar[str] = "c"
    what: ClassVar[str] = "the gradient-descent factor c"

    def run(self, path: Path) -> None:
        _gd(path, self.eta, self.c)


Integrator = Heun | RK45 | ExpEuler | GradientDescent
#: Integrators by the name a path key uses for them, each built from its one step parameter.
INTEGRATORS: dict[str, type[_Integrator]] = {cls.method: cls for cls in (Heun, RK45, ExpEuler, GradientDescent)}


def integrator(method: str, step: float) -> Integrator:
    """The integrator called ``method`` with its step parameter ``step`` (τ, safety, rtol or c)."""
    if method not in INTEGRATORS:
        raise InputError(f"unknown integration method {method!r}: 'heun', 'rk45', 'exp' or 'gd'")
    cls = INTEGRATORS[method]
    return cls(**{cls.param: step})


# ------------------------------------------------------------------------------------ the path
class Path:
    """The flow in progress, handed to an integrator: solves at A(0) + ΔA, the force −∇_A L, the
    record of a state, and the checkpoint times ``bounds`` (0 = bounds[0] < … < bounds[-1] = T)."""

    def __init__(self, net0: Network, X: np.ndarray, y: np.ndarray, X_extra: np.ndarray | None,
                 on_step: Callable[[State], None] | None, max_steps: int) -> None:
        self.y = check_labels(y, X.shape[0])
        self.X, self.X_extra, self.n, self.m = X, X_extra, X.shape[0], net0.m
        self.XX = X if X_extra is None else np.vstack([X, X_extra])
        self.net0, self.A0 = net0, net0.A
        self.on_step, self.max_steps = on_step, max_steps
        # q(0): the network's own certificate (measured at construction unless the caller gave one);
        # then γ‖A0 + ΔA‖₂/√m ≤ q(0) + γ‖ΔA‖_F/√m by the triangle inequality.
        self.q_start = float(net0.q)
        self.scale = net0.gamma / np.sqrt(self.m)
        self.warm: dict[str, np.ndarray] = {}  # warm starts: the most recent solve's Z, Zx, Wₐ

    def network_at(self, dA: np.ndarray, t: float, A: np.ndarray | None = None) -> tuple[Network, float, float]:
        """The network at A(0) + ΔA; ``A`` passes that sum when the caller has formed it (gradient descent)."""
        dA_fro = float(np.linalg.norm(dA))
        A = passes.shifted(self.A0, dA) if A is None else A  # A0 + ΔA (and, wide, its float32 copy)
        q_ub = self.q_start + self.scale * dA_fro
        if q_ub >= Q_MEASURE:
            q_ub = self.scale * spectral_norm(A)
            if q_ub >= 1.0:
                raise NonContractiveError(q_ub, 1.0, context=f"gradient flow at t = {t:.6g}")
        return self.net0.with_A(A, q=q_ub), q_ub, dA_fro

    def solve(self, dA: np.ndarray, t: float, extra: bool = True, A: np.ndarray | None = None) -> Point:
        """Equilibria and adjoints at A(0) + ΔA (with the extra inputs' equilibria if ``extra``); ``A``: that
        sum, if formed already."""
        net, q_ub, dA_fro = self.network_at(dA, t, A)
        joint = extra and self.X_extra is not None
        Z0 = self.warm.get("Z")
        if joint and Z0 is not None:
            Z0 = np.hstack([Z0, self.warm["Zx"]]) if "Zx" in self.warm else None
        eq = solve_equilibrium(net, self.XX if joint else self.X, Z0=Z0, rtol=SOLVE_RTOL)
        eqx = None
        if joint:
            eq, eqx = _split(eq, self.n)
            self.warm["Zx"] = eqx.Z
        adj = solve_adjoint(net, eq, W0=self.warm.get("Wa"), rtol=SOLVE_RTOL)
        # C-ordered copies: a column slice of a joint solve would send the next solve to the NumPy loop
        self.warm["Z"], self.warm["Wa"] = np.ascontiguousarray(eq.Z), np.ascontiguousarray(adj.Wa)
        return Point(net, eq, adj, q_ub, dA_fro, eqx)

    def outer(self, p: Point) -> np.ndarray:
        """V diag(f − y) Zᵀ at a solved point: the force without its factor −γ/m."""
        r = output(p.net, p.eq.Z) - self.y
        return (p.adj.V * r) @ p.eq.Z.T

    def force(self, p: Point) -> np.ndarray:
        """−∇_A L = −(γ/m)·V diag(f − y) Zᵀ at a solved point."""
        F = self.outer(p)
        F *= -(p.net.gamma / self.m)  # in place: the same products as −(γ/m)·(…), one m×m array fewer
        return F

    def start(self, T: float | None, horizon: float, checkpoints: int, method: str) -> None:
        """Solve and record t = 0; fix λ₀, T (default horizon/λ₀) and the checkpoint times."""
        p = self.solve(np.zeros((self.m, self.m)), 0.0)
        self.p0 = p
        self.H0 = gram(p.net, p.eq, p.adj.V)
        self.lambda0 = lambda0(self.H0)
        # λ_min(H(t)) = λ₀ + e₀ᵀ(H(t) − H(0))e₀ + O(‖H(t) − H(0)‖²/gap): the first-order part of its change;
        # ĝ(t) = y + E e^{−Λt}Eᵀ(f(0) − y): the linearised (kernel) flow from the same start
        self.lam_H0, self.E_H0 = np.linalg.eigh(self.H0)
        self.e0 = self.E_H0[:, 0]
        self.c0 = self.E_H0.T @ (output(p.net, p.eq.Z) - self.y)
        T = horizon / self.lambda0 if T is None else float(T)
        self.res = FlowResult(lambda0=self.lambda0, T=T, method=method)
        self.Z0n = np.linalg.norm(p.eq.Z, axis=0)
        self.record(0.0, p)
        self.res.checkpoint_loss.append(self.res.loss[0])
        self.bounds = np.linspace(0.0, T, checkpoints + 1)

    def record(self, t: float, p: Point) -> np.ndarray:
        """Append the diagnostics of the state at t to the result, call ``on_step``; returns H(t)."""
        res, p0 = self.res, self.p0
        f = output(p.net, p.eq.Z)
        H = gram(p.net, p.eq, p.adj.V)
        res.t.append(t)
        res.loss.append(loss(f, self.y))
        ev = np.linalg.eigvalsh(H)  # n×n: LAPACK's full solver is cheapest
        res.lam_min.append(float(ev[0]))
        res.lam_max.append(float(ev[-1]))
        res.dA_fro.append(p.dA_fro)
        res.q_cert.append(p.q_cert)
        res.dH_op.append(float(np.abs(np.linalg.eigvalsh(H - self.H0)).max()))  # ‖·‖₂ of a symmetric matrix
        res.bottom_shift.append(float(self.e0 @ (H - self.H0) @ self.e0))
        g_hat = self.y + self.E_H0 @ (np.exp(-np.maximum(self.lam_H0, 0.0) * t) * self.c0)
        res.lin_dev.append(float(np.linalg.norm(f - g_hat)))
        dz = np.linalg.norm(p.eq.Z - p0.eq.Z, axis=0)
        res.dz_max.append(float(dz.max()))
        res.dz_rel_max.append(float((dz / np.where(self.Z0n > 0, self.Z0n, 1.0)).max()))
        res.dv_max.append(float(np.linalg.norm(p.adj.V - p0.adj.V, axis=0).max()))
        res.flip_frac.append(float(np.mean(p.eq.D != p0.eq.D)))
        res.f.append(f)
        res.final_A = p.net.A  # A at the last accepted state (also after an early stop)
        if self.on_step is not None:
            self.on_step(State(t, p.net, p.eq, p.adj, f, H, p.q_cert, p.eq_extra, res.loss[-1]))
        return H


def gradient_flow(
    net0: Network,
    X: np.ndarray,
    y: np.ndarray,
    integrator: Integrator | None = None,
    *,
    T: float | None = None,
    horizon: float = 6.0,
    checkpoints: int = 12,
    on_step: Callable[[State], None] | None = None,
    max_steps: int = 200_000,
    X_extra: np.ndarray | None = None,
) -> FlowResult:
    """Integrate the gradient flow from A(0) = net0.A to T (default ``horizon``/λ₀) with
    ``integrator`` (default ``Heun()``; see the module docstring for the four integrators).

    ``X_extra`` (unit rows, e.g. held-out inputs): their equilibria are solved at every recorded
    state in the same batched Picard iteration as the samples (one pass over A for both) and
    handed to ``on_step`` as ``State.eq_extra``.  ``on_step`` sees the State at t = 0 and after
    every accepted step.  A path that loses contraction stops with ``FlowResult.failure`` set.
    """
    integrator = Heun() if integrator is None else integrator
    if not isinstance(integrator, _Integrator):
        raise InputError(f"integrator must be Heun, RK45, ExpEuler or GradientDescent, got {integrator!r}")
    path = Path(net0, X, y, X_extra, on_step, max_steps)
    path.start(T, horizon, checkpoints, integrator.method)
    try:
        integrator.run(path)
    except NonContractiveError as e:
        path.res.failure = str(e)
    return path.res


def _rk45(path: Path, rtol: float) -> None:
    """SciPy's RK45 between consecutive checkpoints; every accepted step is solved and recorded."""
    m, res = path.m, path.res
    g0 = path.force(path.p0)
    atol = rtol * max(float(np.linalg.norm(g0)) / (path.lambda0 * m), 1e-300)

    def rhs(t: float, a: np.ndarray) -> np.ndarray:
        return path.force(path.solve(a.reshape(m, m), t, extra=False)).ravel()

    a = np.zeros(m * m)
    for t_lo, t_hi in zip(path.bounds[:-1], path.bounds[1:]):
        solver = scipy.integrate.RK45(rhs, t_lo, a, t_hi, rtol=rtol, atol=atol)
        while solver.status == "running":
            msg = solver.step()
            if solver.status == "failed":
                raise IntegrationError(f"RK45 failed at t = {solver.t:.6g}: {msg}")
            if res.steps >= path.max_steps:
                raise IntegrationError(f"more than {path.max_steps} RK45 steps before T = {res.T:.6g} (stiff)")
            a = solver.y
            p = path.solve(a.reshape(m, m), solver.t)
            res.steps += 1  # counted once its state is solved and recorded
            path.record(float(solver.t), p)
        res.nfev += solver.nfev
        res.checkpoint_loss.append(res.loss[-1])


def _heun(path: Path, safety: float) -> None:
    """Heun's method with h = safety/λ_max(H(t)), clipped to land on the checkpoints; ``safety``
    plays the role of the tolerance: halving it must change no verdict."""
    p = path.p0
    H = path.H0
    a = np.zeros((path.m, path.m))
    F = path.force(p)
    t = 0.0
    for t_hi in path.bounds[1:]:
        while t < t_hi * (1 - 1e-14):
            if path.res.steps >= path.max_steps:
                raise IntegrationError(f"more than {path.max_steps} Heun steps before T = {path.bounds[-1]:.6g}")
            h = min(safety / max(float(np.linalg.eigvalsh(H)[-1]), 1e-300), t_hi - t)
            F2 = path.force(path.solve(a + h * F, t + h, extra=False))
            a = a + 0.5 * h * (F + F2)
            t += h
            p = path.solve(a, t)
            path.res.steps += 1  # counted once its state is solved and recorded
            path.res.nfev += 2
            H = path.record(t, p)
            F = path.force(p)
        path.res.checkpoint_loss.append(path.res.loss[-1])


def _phi1_h(lam: np.ndarray, h: float) -> np.ndarray:
    """h·φ₁(−hλ) = (1 − e^{−hλ})/λ for λ ≥ 0 (the limit h at λ = 0), without cancellation."""
    z = h * lam
    safe = np.where(lam > 0, lam, 1.0)
    return np.where(z > 1e-12, -np.expm1(-z) / safe, h * (1.0 - 0.5 * z))


def _phi2(lam: np.ndarray, h: float) -> np.ndarray:
    """φ₂(−hλ) = (e^{−z} − 1 + z)/z², z = hλ ≥ 0; Taylor series below z = 1e-3 (relative
    truncation z⁴/720 < 1e-15, where the closed form would cancel to ≈ ε/z² relative)."""
    z = np.asarray(h * lam, float)
    zs = np.where(z < 1e-3, z, 0.0)
    series = 0.5 - zs / 6 + zs**2 / 24 - zs**3 / 120
    zb = np.where(z < 1e-3, 1.0, z)
    closed = (np.expm1(-zb) + zb) / zb**2
    return np.where(z < 1e-3, series, closed)


#: Exponential Euler: a step moves A by at most EXP_MOVE·(h_max·λ₀)·B₀ in Frobenius norm, where
#: B₀ = √(r₀ᵀH₀⁻¹r₀) is the whole distance the linearised flow travels from A(0).
EXP_MOVE = 1.0


def _h_for_move(lam: np.ndarray, rk: np.ndarray, move: float, h_max: float) -> float:
    """Largest h ≤ h_max whose exponential-Euler step has ‖ΔA‖_F = ‖J_kᵀ hφ₁(−hH)r‖ ≤ move
    (‖·‖² = Σ_j λ_j (hφ₁(−hλ_j) r_j)², increasing in h): bisection in log h."""
    def size(h: float) -> float:
        return float(np.sqrt(np.sum(lam * (_phi1_h(lam, h) * rk) ** 2)))

    if size(h_max) <= move:
        return h_max
    lo, hi = 0.0, h_max
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if size(mid) <= move:
            lo = mid
        else:
            hi = mid
    return max(lo, h_max * 1e-6)


def _pinv_apply(lam: np.ndarray, U: np.ndarray, b: np.ndarray) -> np.ndarray:
    """H⁺b for H = U diag(λ) Uᵀ (λ ascending, from eigh).  Eigenvalues at or below λ_max·ε·n, the
    absolute accuracy of a symmetric eigensolver, are indistinguishable from 0: their directions
    get 0 (the pseudo-inverse), not 1/rounding noise."""
    pos = lam > lam[-1] * np.finfo(float).eps * len(lam)
    return U @ np.where(pos, (U.T @ b) / np.where(pos, lam, 1.0), 0.0)


def _exp_euler(path: Path, h_max: float, coefficients: Callable = ExpEuler.coefficients) -> None:
    """Exponential Euler in function space, one solve per step.

    With J_k = J(A_k) (rows (γ/m)·v_i z_iᵀ) and H_k = J_k J_kᵀ, the Gauss–Newton linearisation of
    dA/dt = −Jᵀr at A_k is dA/dt = −J_kᵀ r, dr/dt = −H_k r, whose exact solution over a step h is

        A_{k+1} = A_k − J_kᵀ·h φ₁(−hH_k) r_k,   h φ₁(−hH) = H⁻¹(I − e^{−hH})      (one rank-n update)

    (exponential Rosenbrock–Euler; H_k = UΛUᵀ by one n×n eigendecomposition).  Local error
    estimate, available after the next solve at no extra solve: the exponential second-order
    correction (ETD2RK, Cox & Matthews 2002; Hochbruck & Ostermann 2010, eq. 2.39)

        E_k = h φ₂(hL_k) d_k,   d_k = −J_{k+1}ᵀ r_{k+1} + J_kᵀ e^{−hH_k} r_k,   L_k = −J_kᵀJ_k,

    the difference between the order-2 and order-1 solutions.  With c_d = H_k⁻¹J_k d_k,
    h φ₂(hL)d = (h/2)d + J_kᵀ·h(φ₂(−hH_k) − ½)c_d, so E_k = −J_{k+1}ᵀα + J_kᵀβ and its norms need
    only n×n cross-Gram matrices C = (γ/m)²(V_aᵀV_b)∘(Z_aᵀZ_b):
        ‖E_k‖²_F = αᵀH_{k+1}α − 2αᵀC_{k+1,k}β + βᵀH_kβ,   J_k E_k = −C_{k,k+1}α + H_kβ.
    ``err_A`` accumulates ‖E_k‖_F and ``err_f`` accumulates ‖J_k E_k‖ (no damping credited: the
    flow contracts errors in f, so both are upper estimates of the global error off kinks).
    Across ReLU pattern changes J jumps and the method, like every one-step method without event
    location, is first order; E_k then carries the jump (see the C6 accuracy evidence).
    """
    res, y, m, H = path.res, path.y, path.m, path.H0
    g = path.net0.gamma / m
    a = np.zeros((m, m))
    V, Z, r = path.p0.adj.V, path.p0.eq.Z, res.f[0] - y
    t, eA, ef = 0.0, 0.0, 0.0
    move_max = None
    lam0_ = res.lambda0
    res.err_A.append(0.0)
    res.err_f.append(0.0)
    for t_hi in path.bounds[1:]:
        while t < t_hi * (1 - 1e-14):
            if res.steps >= path.max_steps:
                raise IntegrationError(f"more than {path.max_steps} exponential-Euler steps before T = "
                                       f"{path.bounds[-1]:.6g}")
            lam, U = np.linalg.eigh(H)
            lam = np.maximum(lam, 0.0)  # H is PSD; rounding below 0 would make e^{−hλ} grow
            rk = U.T @ r
            if move_max is None:
                move_max = EXP_MOVE * h_max * lam0_ * float(np.sqrt(np.sum(rk**2 / np.where(lam > 0, lam, np.inf))))
            h = min(h_max, t_hi - t, _h_for_move(lam, rk, move_max, h_max))
            c1 = coefficients(lam, U, rk, h)
            # a ← a − (γ/m)·V diag(c₁) Zᵀ and A = A(0) + a in one sweep over the m×m arrays (no m×m temporary)
            A = passes.descend_outer(V * c1, Z, -g, 1.0, a, path.A0)
            t += h
            p = path.solve(a, t, A=A)
            res.steps += 1  # counted once its state is solved and recorded
            res.nfev += 1
            V1, Z1 = p.adj.V, p.eq.Z
            H1 = path.record(t, p)
            r1 = res.f[-1] - y
            # a-posteriori local error estimate (docstring): α, β in the function space
            rhat = U @ (np.exp(-h * lam) * rk)
            C10 = g * g * ((V1.T @ V) * (Z1.T @ Z))  # C_{k+1,k}
            Jd = -C10.T @ r1 + H @ rhat  # J_k d_k
            cd = _pinv_apply(lam, U, Jd)
            w = h * (U @ ((_phi2(lam, h) - 0.5) * (U.T @ cd)))
            alpha = 0.5 * h * r1
            beta = 0.5 * h * rhat + w
            e2 = alpha @ H1 @ alpha - 2.0 * alpha @ C10 @ beta + beta @ H @ beta
            eA += float(np.sqrt(max(e2, 0.0)))
            ef += float(np.linalg.norm(-C10.T @ alpha + H @ beta))
            res.err_A.append(eA)
            res.err_f.append(ef)
            V, Z, r, H = V1, Z1, r1, H1
        res.checkpoint_loss.append(res.loss[-1])


def _gd(path: Path, eta: float | None, c: float) -> None:
    """Gradient descent A_{k+1} = A_k − η∇L(A_k) with t_k = kη, one solve per step; every iterate is
    recorded (the same diagnostics as the flow) and, per step, the Gauss–Newton model's prediction
    ½‖(I − ηH_k)r_k‖² of L_{k+1}, exact if J did not change over the step (measured by the suite).
    Stops at T (the first k with kη ≥ T) or when A_k loses contraction (recorded as the flow does)."""
    res, H, bounds = path.res, path.H0, path.bounds
    if eta is None:
        eta = c / float(np.linalg.eigvalsh(H)[-1])
    if not (np.isfinite(eta) and eta > 0):
        raise InputError(f"the gradient-descent step η must be a positive number, got {eta!r}")
    res.eta = float(eta)
    T = bounds[-1]
    a = np.zeros((path.m, path.m))
    p = path.p0
    r = res.f[0] - path.y
    k = 0
    next_ck = 1
    while k * eta < T * (1 - 1e-14):
        if res.steps >= path.max_steps:
            raise IntegrationError(f"more than {path.max_steps} gradient-descent steps before T = {T:.6g}")
        res.model_loss.append(0.5 * float(np.sum(((np.eye(len(r)) - eta * H) @ r) ** 2)))
        # a ← a + η·F(A_k) with F = −(γ/m)·V diag(r) Zᵀ, and A_{k+1} = A(0) + a, in one sweep without forming
        # the m×m gradient (passes.descend_outer)
        A = passes.descend_outer(p.adj.V * (output(p.net, p.eq.Z) - path.y), p.eq.Z, -(p.net.gamma / path.m), eta,
                                 a, path.A0)
        k += 1
        p = path.solve(a, k * eta, A=A)
        res.steps += 1  # counted once its state is solved and recorded
        res.nfev += 1
        H = path.record(k * eta, p)
        r = res.f[-1] - path.y
        while next_ck < len(bounds) and k * eta >= bounds[next_ck] * (1 - 1e-14):
            res.checkpoint_loss.append(res.loss[-1])
            next_ck += 1
