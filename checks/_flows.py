"""Gradient-flow trajectories shared by the C6, C7, C9, C12 and C13 checks, and the width/seed plan.

A trajectory is identified by a :class:`Key`: (γ rule, m, seed, integrator, step knob, init).  Data
(X, y) depend on the seed only, so a width sweep trains networks of different widths on the same
data; the network is drawn from the generator seeded with (seed, m), or (seed, m, init) for the
further initialisations ``init`` ≥ 1 of one data set (Theorem 3.1's probability is over the
initialisation with the data fixed: checks/c06_theorem31.py, the hardest data set).

Integrator by width (:func:`integrator`): Heun (h = 0.25/λ_max(H(t)), the oracle) below
``EXP_MIN_M``, exponential Euler (h ≤ 0.25/λ₀, ``theory.flow._exp_euler``) from ``EXP_MIN_M`` on.
Below that width the flow *slides* along ReLU switching surfaces so often (C9) that exponential
Euler's big steps are only first order and its halving estimate understates its error (measured:
checks/c06_theorem31.py, accuracy check); from m = 1024 on its accuracy against Heun is
shown in CI on every recorded quantity the verdicts use.

Trajectories are pure functions of their key (a task of ``checks._tasks``); :func:`ensure`
computes the missing ones on a ``concurrent.futures`` executor (``checks._executor``) and stores
each in the content-addressed cache (``reports/.cache/flows``, keyed by the key and a hash of the
code), shared by xdist workers, local worker processes and Dask clusters alike.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import scipy.linalg
from hypothesis import settings

import theory
from theory import bounds, kernels
from theory.flow import SOLVE_RTOL, gradient_flow

from . import _tasks

#: THEORY.md pilot setting.
N, D, GAMMA0 = 6, 4, 0.5
#: Heun step safety h·λ_max(H) (see theory.flow); the accuracy checks halve it.
SAFETY = 0.25
#: Exponential Euler: step h ≤ EXP_TAU/λ₀ (and ‖ΔA‖ per step ≤ EXP_TAU·B₀, theory.flow.EXP_MOVE);
#: the accuracy check halves it.  Used from EXP_MIN_M on (module docstring).
EXP_TAU, EXP_MIN_M = 0.25, 1024
#: Theorem 3.1's δ: "with probability ≥ 1 − δ".
DELTA = 0.1

#: Widths and seeds per profile.  C6 decides at ``decision`` widths (pooled one-sided 95%
#: Clopper–Pearson bound ≥ 1 − δ needs ≥ 29 seeds even with no failure); the other widths give
#: the trend.  dev = ci, so a developer sees the verdicts CI records.
PLANS = {
    "ci": {"widths": (64, 128, 256, 1024), "seeds": (8, 8, 8, 30), "decision": (1024,)},
    "thorough": {"widths": (64, 128, 256, 1024, 2048, 4096), "seeds": (30, 30, 30, 30, 30, 30),
                 "decision": (1024, 2048, 4096)},
}
PLANS["dev"] = PLANS["ci"]

RULES = ("gamma0/2c", "gamma0/c")


def plan() -> dict:
    name = settings.get_current_profile_name()
    return PLANS.get(name, PLANS["dev"])


def integrator(m: int) -> tuple[str, float]:
    """(method, knob) used for a width in the sweeps (module docstring)."""
    return ("exp", EXP_TAU) if m >= EXP_MIN_M else ("heun", SAFETY)


@dataclass(frozen=True)
class Key:
    """One trajectory: γ rule, width, data/init seed, integrator and its step knob (a task of
    checks._tasks: cached in reports/.cache/flows)."""

    namespace = "flows"
    #: what a trajectory is computed from (with this module): a change elsewhere in theory/ keeps the cache
    theory_modules = ("__init__", "_validate", "bounds", "equilibrium", "errors", "flow", "gram", "model")

    rule: str
    m: int
    seed: int
    method: str
    knob: float
    init: int = 0  # 0: the network of (seed, m); k ≥ 1: a further draw for the same data

    @property
    def stem(self) -> str:
        base = f"{self.rule.replace('/', '_')}-{self.m}-{self.seed}-{self.method}-{self.knob}"
        return base + (f"-init{self.init}" if self.init else "")

    def label(self) -> str:
        init = f" init={self.init}" if self.init else ""
        return f"{self.rule} m={self.m} seed={self.seed}{init} ({self.method} {self.knob})"

    def cost(self) -> float:
        """Rough relative cost (m² per solve × solves: Heun ≈ 100/knob steps of 2 solves, exponential
        Euler ≈ 6.5/knob steps of 1, gradient descent ≈ 80/knob steps of 1), longest tasks first."""
        per = {"heun": 200.0, "exp": 6.5, "gd": 80.0}.get(self.method, 200.0)
        return self.m**2 * per / self.knob

    def compute(self) -> dict:
        return compute(self)


def key(rule: str, m: int, seed: int, method: str | None = None, knob: float | None = None, init: int = 0) -> Key:
    """The key of a trajectory; method and knob default to the sweep's integrator for m."""
    dm, dk = integrator(m)
    return Key(rule, int(m), int(seed), method or dm, float(dk if knob is None else knob), int(init))


def sweep_keys(rules=RULES) -> list[Key]:
    """Every trajectory of the profile's plan for the given γ rules."""
    p = plan()
    return [key(r, m, s) for r in rules for m, k in zip(p["widths"], p["seeds"]) for s in range(k)]


def problem(rule: str, m: int, seed: int, init: int = 0) -> tuple[theory.Network, np.ndarray, np.ndarray]:
    """Data of ``seed``; the network of (seed, m), or of (seed, m, init) for a further initialisation."""
    X, y = theory.make_data(N, D, np.random.default_rng([seed, 0]))
    rng = np.random.default_rng([seed, m] if init == 0 else [seed, m, init])
    net = theory.init_network(m, D, gamma0=GAMMA0, gamma_rule=rule, rng=rng)
    return net, X, y


@dataclass(frozen=True)
class Summary:
    """What the checks need from one trajectory (the path's recorded series, not the matrices)."""

    rule: str
    m: int
    seed: int
    method: str
    knob: float
    lambda0: float
    R: float  # Theorem 3.1 (b): (2/λ₀)·√n·γc_W/(1 − γ₀)²·‖f(0) − y‖
    G: float  # γ·c_W: the gradient bound is G/(1 − q)² per sample (C4)
    r0: float  # ‖f(0) − y‖
    path: dict  # recorded series: t, loss, lam_min, dA_fro, q_cert, dH_op, err_f, err_A
    maxima: dict  # max over the path of recorded quantities, C9/C12/C13 numbers
    margins: dict  # C12 margin
    series: dict  # downsampled t, loss, loss bound, λ_min/λ₀ for figures
    checkpoint_loss: list
    checkpoint_f: list
    steps: int
    failure: str | None


def _downsample(a: np.ndarray, k: int = 60) -> list[float]:
    idx = np.unique(np.linspace(0, len(a) - 1, min(k, len(a))).astype(int))
    return [float(v) for v in a[idx]]


@lru_cache(maxsize=1024)
def _load(k: Key) -> Summary:
    return Summary(**_tasks.result(k))


def trajectory(rule: str, m: int, seed: int, method: str | None = None, knob: float | None = None,
               init: int = 0) -> Summary:
    """Summary of one trajectory (from the cache when present; computed here otherwise)."""
    return _load(key(rule, m, seed, method, knob, init))


def ensure(keys, label: str = "trajectories") -> None:
    """Compute the missing trajectories of ``keys`` on the executor and store them (checks._tasks)."""
    _tasks.ensure(keys, label=label)


N_TEST = 16  # held-out unit vectors for C9 and C13
C9_M = 128  # the width of C9's Gaussian-init paths (Heun, step safety h and h/2)


#: A step "crosses a kink" when some pre-activation P (training or held-out) is, at either end of
#: the step, within KINK_REACH times its own change over the step of zero: Heun's predictor
#: extrapolates P linearly, so a crossing inside a stage needs |P| ≲ |ΔP|; the factor 2 covers the
#: predictor/corrector difference (O(h²) of ΔP = O(h)) with room to spare.
KINK_REACH = 2.0


class _Section4:
    """on_step recorder for Section 4 along a trajectory (C9, C12, C13), O(m² + nm + n_test·m) memory.

    The held-out equilibria come with the state (``gradient_flow(X_extra=Xt)``: one Picard
    iteration for samples and held-out points).  With ``path_kernel`` (Heun paths), the held-out
    adjoint is solved at every step for the C9 bookkeeping, per accepted step k (t_k → t_{k+1}):
      δ_k = f_x(t_{k+1}) − f_x(t_k) + ½h(K_{t_k}(x,X)r_k + K_{t_{k+1}}(x,X)r_{k+1})   (path-kernel residual)
      ε_k = f_x(t_{k+1}) − f_x(t_k) − ½(∇f_x(A_k) + ∇f_x(A_{k+1}))·ΔA_k                (line integral, exact up to O(h³))
    summed separately over smooth steps and steps that cross a ReLU kink (see KINK_REACH).
    Without it (exponential-Euler paths, whose long steps make a per-step trapezoid meaningless)
    only t = 0 needs the held-out adjoint (K_0 for g_t).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, path_kernel: bool = True) -> None:
        self.X, self.y, self.Xt, self.path_kernel = X, y, Xt, path_kernel
        self.cache: dict = {}
        self.prev = None
        self.integral = np.zeros(len(Xt))
        # per part ("smooth"/"kink"): Σ Δf_x, Σ trapezoid of K r, Σ line-integral residual ε_k
        self.df = {"smooth": np.zeros(len(Xt)), "kink": np.zeros(len(Xt))}
        self.trap = {"smooth": np.zeros(len(Xt)), "kink": np.zeros(len(Xt))}
        self.line = {"smooth": np.zeros(len(Xt)), "kink": np.zeros(len(Xt))}
        self.kink_steps, self.kink_time, self.steps = 0, 0.0, 0
        self.coupling_max = 0.0  # C13: max_t max_x |f_t(x) − g_t(x)|
        self.c12 = []  # (t, ‖f(t) − ĝ(t)‖)
        self.c10_dev = self.c10_dev_planted = 0.0  # max_t ‖ĝ(t) − g_t(X)‖/(‖y‖ + ‖r₀‖), true and planted
        self.energy_prev, self.prev_kink = None, False
        self.energy = {k: 0.0 for k in ("smooth", "kink", "smooth_planted", "kink_planted")}

    def __call__(self, st) -> None:
        net = st.net
        eqt = st.eq_extra
        if eqt is None:  # pragma: no cover - a recorder needs the held-out equilibria with the state
            raise ValueError("_Section4 needs gradient_flow(..., X_extra=Xt)")
        f_x = theory.output(net, eqt.Z)
        first = self.prev is None
        if first or self.path_kernel:
            adt = theory.solve_adjoint(net, eqt, W0=self.cache.get("W"), rtol=SOLVE_RTOL)
            self.cache["W"] = adt.Wa
            K_xX = (net.gamma / net.m) ** 2 * ((adt.V.T @ st.adj.V) * (eqt.Z.T @ st.eq.Z))
        if first:  # t = 0: the linearised model is built from the initial quantities
            self.H0, self.f0, self.f0_x, self.K0_xX = st.H, st.f.copy(), f_x.copy(), K_xX
            self.eig = bounds.Eig(st.H)
            self.r0 = self.y - st.f
            # K_0(X, X) by the path-kernel route (kernels.path_kernel), not the Gram call behind H(0)
            self.K0_XX = kernels.path_kernel(net, st.eq, st.adj.V, st.eq, st.adj.V)
        elif self.path_kernel:
            r = st.f - self.y
            Kr = K_xX @ r
            P = np.concatenate([st.eq.P, eqt.P], axis=1)
            t0, Kr0, fx0, A0, Vx0, Zx0, P0 = self.prev
            h = st.t - t0
            trap = 0.5 * h * (Kr0 + Kr)
            self.integral += trap  # trapezoid on the recorded steps
            dA = net.A - A0
            # ∇f_x(A)·ΔA = (γ/m)·v_xᵀ ΔA z_x, for all held-out x at once
            line = 0.5 * (net.gamma / net.m) * (np.sum(Vx0 * (dA @ Zx0), axis=0) + np.sum(adt.V * (dA @ eqt.Z), axis=0))
            dP = np.abs(P - P0)
            kink = bool(np.any((np.minimum(np.abs(P0), np.abs(P)) <= KINK_REACH * dP) | ((P0 > 0) != (P > 0))))
            part = "kink" if kink else "smooth"
            self.prev_kink = kink
            self.df[part] += f_x - fx0
            self.trap[part] += trap
            self.line[part] += (f_x - fx0) - line
            self.steps += 1
            if kink:
                self.kink_steps += 1
                self.kink_time += h
        if self.path_kernel:
            r = st.f - self.y
            P = np.concatenate([st.eq.P, eqt.P], axis=1)
            self.prev = (st.t, K_xX @ r, f_x, net.A.copy(), adt.V, eqt.Z, P)
        else:
            self.prev = (st.t,)
        g_x = bounds.g_t(self.f0_x, self.K0_xX, self.eig, self.r0, st.t)
        self.coupling_max = max(self.coupling_max, float(np.abs(f_x - g_x).max()))
        g_hat = bounds.g_hat(self.eig, self.f0, self.y, st.t)
        self.c12.append((st.t, float(np.linalg.norm(st.f - g_hat))))
        # identities at the recorder: ĝ(t) = g_t(X) (C10: ĝ by e^{−H₀t}, g_t by α_t and K_0 from the path
        # kernel); planted: ĝ from the current H(t) instead of H(0)
        scale = float(np.linalg.norm(self.y) + np.linalg.norm(self.r0))
        g_X = bounds.g_t(self.f0, self.K0_XX, self.eig, self.r0, st.t)
        self.c10_dev = max(self.c10_dev, float(np.linalg.norm(g_hat - g_X)) / scale)
        g_hat_Ht = self.y + scipy.linalg.expm(-st.H * st.t) @ (self.f0 - self.y)
        self.c10_dev_planted = max(self.c10_dev_planted, float(np.linalg.norm(g_hat_Ht - g_X)) / scale)
        # the energy identity dL/dt = −rᵀH r (C5, with L = ½‖r‖²), trapezoid over each recorded step
        r = st.f - self.y
        e_rate = float(r @ st.H @ r)
        if self.energy_prev is not None:
            t0, L0, rate0, part = self.energy_prev
            h = st.t - t0
            L1 = 0.5 * float(r @ r)
            part = "kink" if (self.path_kernel and self.prev_kink) else part
            for tag, c in (("", 1.0), ("_planted", 2.0)):  # planted: L = ‖r‖², i.e. dL/dt = −2rᵀHr for ½‖r‖²
                self.energy[part + tag] += (L1 - L0) + c * 0.5 * h * (rate0 + e_rate)
        self.energy_prev = (st.t, 0.5 * float(r @ r), e_rate, "smooth")
        self.f_x = f_x

    def c9_numbers(self) -> dict:
        """The C9 residuals (max over held-out x) for the whole path and its smooth/kink parts, for
        the identity as stated (factor 1) and for the planted f_T − f_0 = −½∫K_t r dt."""
        if not self.path_kernel:
            return {}
        mx = lambda v: float(np.abs(v).max())  # noqa: E731
        out = {"c9_change": mx(self.f_x - self.f0_x), "c9_kink_steps": self.kink_steps,
               "c9_kink_time": self.kink_time, "c9_steps": self.steps}
        for tag, c in (("", 1.0), ("_half", 0.5)):
            out[f"c9_residual{tag}"] = mx(self.f_x - self.f0_x + c * self.integral)
            for part in ("smooth", "kink"):
                out[f"c9_{part}_residual{tag}"] = mx(self.df[part] + c * self.trap[part])
        for part in ("smooth", "kink"):
            out[f"c9_{part}_line"] = mx(self.line[part])
        out["c9_line"] = mx(self.line["smooth"] + self.line["kink"])
        for k, v in self.energy.items():  # |Σ energy-identity residuals| per part (C5 at the recorder)
            out[f"energy_{k}"] = abs(v)
        return out


def theorem31_R(lam0: float, G: float, r0: float, q_bar: float = GAMMA0) -> float:
    """Theorem 3.1 (b): R(q̄) = (2/λ₀)·√n·G/(1 − q̄)²·‖f(0) − y‖ with G = γc_W (docs/claims.md, C6);
    the paper's R is R(γ₀)."""
    return 2.0 / lam0 * np.sqrt(N) * G / (1.0 - q_bar) ** 2 * r0


#: The γ rule whose paths carry the Section 4 recorder (C7, C9, C12 and C13 read γ₀/(2c) paths only).
SECTION4_RULE = "gamma0/2c"


def compute(k: Key) -> dict:
    """One trajectory, summarised (JSON-ready)."""
    net, X, y = problem(k.rule, k.m, k.seed, k.init)
    rec = None
    if k.rule == SECTION4_RULE and k.init == 0:  # Section 4 reads the sweep's paths only
        Xt = theory.normalize_rows(np.random.default_rng([k.seed, 99]).standard_normal((N_TEST, D)))
        # C9's path-kernel bookkeeping (a held-out adjoint solve and K_t at every step) only on C9's paths
        rec = _Section4(X, y, Xt, path_kernel=(k.method == "heun" and k.m == C9_M))
    res = gradient_flow(net, X, y, rtol=k.knob, method=k.method, on_step=rec, X_extra=None if rec is None else Xt)
    a = res.arrays()
    lam0, L0 = res.lambda0, a["loss"][0]
    r0 = float(np.sqrt(2 * L0))
    G = float(net.gamma * net.c_W)
    R = theorem31_R(lam0, G, r0)
    bound = np.exp(-lam0 * a["t"]) * L0
    zeros = [0.0] * len(a["t"])
    maxima: dict = {}
    path = {"t": a["t"], "loss": a["loss"], "lam_min": a["lam_min"], "dA_fro": a["dA_fro"], "q_cert": a["q_cert"],
            "dH_op": a["dH_op"], "err_f": res.err_f or zeros, "err_A": res.err_A or zeros, "lam_max": res.lam_max,
            "flip_frac": a["flip_frac"]}
    if k.method == "gd":  # the step and the Gauss–Newton model's prediction of each next loss (GD1)
        path["model_loss"] = res.model_loss
        maxima["eta"] = float(res.eta)
    maxima.update({kk: float(a[kk].max()) for kk in ("dA_fro", "q_cert", "dH_op", "dz_max", "dz_rel_max", "dv_max", "flip_frac")})
    maxima["min_lambda_ratio"] = float(a["lam_min"].min() / lam0)
    margins = {}
    if rec is not None:
        # C9: path-kernel residual f_T(x) − f_0(x) + ∫K_t(x, X)(f_t − y)dt on held-out x (C9's paths).
        maxima.update(rec.c9_numbers())
        # C13: sup over held-out x and recorded t of |f_t(x) − g_t(x)|.
        maxima["c13_coupling"] = rec.coupling_max
        # C12 (23): ‖f(t) − ĝ(t)‖ ≤ (2/λ₀)·sup_s‖H(s) − H(0)‖₂·‖f(0) − y‖·(e^{−λ₀t/2} − e^{−λ₀t}), checked on
        # the part of the path where the lemma's hypothesis (a) λ_min(H(s)) ≥ λ₀/2 holds.
        ok_a = np.cumprod(a["lam_min"] >= lam0 / 2).astype(bool)
        supH = float(a["dH_op"].max())
        tt = np.array([t for t, _ in rec.c12])
        dev = np.array([d for _, d in rec.c12])
        b23 = 2 / lam0 * supH * r0 * (np.exp(-lam0 * tt / 2) - np.exp(-lam0 * tt))
        sel = ok_a & (tt > 0) & (dev > 0)
        margins["c12_coupling"] = float(np.min(b23[sel] / dev[sel])) if sel.any() else float("inf")
        maxima["c12_max_dev"] = float(dev.max())
        maxima["c10_recorded_dev"], maxima["c10_recorded_dev_planted"] = rec.c10_dev, rec.c10_dev_planted
        maxima["c10_kappa"] = float(rec.eig.lam[-1] / rec.eig.lam[0])
    maxima["final_loss_ratio"] = float(a["loss"][-1] / L0)
    series = {"t": _downsample(a["t"] * lam0), "loss": _downsample(a["loss"] / L0),
              "bound": _downsample(bound / L0), "lam_ratio": _downsample(a["lam_min"] / lam0)}
    ck = [int(np.argmin(np.abs(a["t"] - tc))) for tc in np.linspace(0.0, res.T, len(res.checkpoint_loss))]
    out = Summary(k.rule, k.m, k.seed, k.method, k.knob, lam0, float(R), G, r0,
                  {kk: [float(v) for v in vv] for kk, vv in path.items()}, maxima, margins, series,
                  [float(v) for v in res.checkpoint_loss], [[float(v) for v in res.f[i]] for i in ck],
                  res.steps, res.failure)
    return json.loads(json.dumps(asdict(out)))
