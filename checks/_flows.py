"""Gradient-flow trajectories shared by the C6 and C7 checks, and the width/seed plan.

A trajectory is identified by (γ rule, m, seed, step safety).  Data (X, y) depend on the
seed only, so a width sweep trains networks of different widths on the same data; the
network is drawn from the generator seeded with (seed, m).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from hypothesis import settings

import theory
from theory import bounds
from theory.flow import gradient_flow

#: THEORY.md pilot setting.
N, D, GAMMA0 = 6, 4, 0.5
#: Heun step safety h·λ_max(H) (see theory.flow); the accuracy check halves it.
SAFETY = 0.25
#: The decision width: every profile decides C6 at the same width with DECISION_SEEDS seeds,
#: so the verdict does not depend on the profile; 'thorough' adds widths as evidence.
#: 29 seeds all passing give a one-sided 95% Clopper-Pearson lower bound 0.902 ≥ 1 − δ, δ = 0.1.
DECISION_M, DECISION_SEEDS, DELTA = 256, 30, 0.1

PLANS = {
    "dev": {"widths": (64, 128, 256), "seeds": (10, 10, DECISION_SEEDS)},  # = ci: same verdicts
    "ci": {"widths": (64, 128, 256), "seeds": (10, 10, DECISION_SEEDS)},
    "thorough": {"widths": (64, 128, 256, 512, 1024, 2048, 4096), "seeds": (50, 50, 50, 30, 10, 2, 1)},
}


def plan() -> dict:
    name = settings.get_current_profile_name()
    return PLANS.get(name, PLANS["dev"])


def problem(rule: str, m: int, seed: int) -> tuple[theory.Network, np.ndarray, np.ndarray]:
    X, y = theory.make_data(N, D, np.random.default_rng([seed, 0]))
    net = theory.init_network(m, D, gamma0=GAMMA0, gamma_rule=rule, rng=np.random.default_rng([seed, m]))
    return net, X, y


@dataclass(frozen=True)
class Summary:
    """What the C6/C7 checks need from one trajectory (small: the path itself is dropped)."""

    rule: str
    m: int
    seed: int
    lambda0: float
    R: float
    margins: dict  # conclusion -> margin (≥ 1 holds)
    maxima: dict  # max over the path of recorded quantities
    series: dict  # downsampled t, loss, loss bound, λ_min/λ₀ for figures
    checkpoint_loss: list
    steps: int
    failure: str | None


def _downsample(a: np.ndarray, k: int = 60) -> list[float]:
    idx = np.unique(np.linspace(0, len(a) - 1, min(k, len(a))).astype(int))
    return [float(v) for v in a[idx]]


def _code_hash() -> str:
    """Hash of the code a trajectory depends on: a cached summary is reused only if unchanged."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for p in sorted((root / "theory").glob("*.py")) + [Path(__file__)]:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


CACHE = Path(__file__).resolve().parent.parent / "reports" / ".cache" / "flows"


@lru_cache(maxsize=512)
def trajectory(rule: str, m: int, seed: int, safety: float = SAFETY) -> Summary:
    """Summary of one trajectory; computed once per code version and shared between xdist
    workers through a small JSON file (written atomically; identical content either way)."""
    if os.environ.get("IMPLICIT_NO_FLOW_CACHE") == "1":  # mutation runs: the source hash cannot tell mutants apart
        return Summary(**json.loads(json.dumps(asdict(_compute(rule, m, seed, safety)))))
    key = f"{rule.replace('/', '_')}-{m}-{seed}-{safety}-{_code_hash()}"
    path = CACHE / f"{key}.json"
    if path.exists():
        return Summary(**json.loads(path.read_text()))
    summ = _compute(rule, m, seed, safety)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(summ)))
    os.replace(tmp, path)
    return Summary(**json.loads(path.read_text()))  # the same round trip as a cache hit


N_TEST = 16  # held-out unit vectors for C9 and C13


#: A step "crosses a kink" when some pre-activation P (training or held-out) is, at either end of
#: the step, within KINK_REACH times its own change over the step of zero: Heun's predictor
#: extrapolates P linearly, so a crossing inside a stage needs |P| ≲ |ΔP|; the factor 2 covers the
#: predictor/corrector difference (O(h²) of ΔP = O(h)) with room to spare.
KINK_REACH = 2.0


class _Section4:
    """on_step recorder for Section 4 along a trajectory (C9, C12, C13), O(m² + nm + n_test·m) memory.

    C9 bookkeeping, per accepted step k (t_k → t_{k+1}), on held-out x:
      δ_k = f_x(t_{k+1}) − f_x(t_k) + ½h(K_{t_k}(x,X)r_k + K_{t_{k+1}}(x,X)r_{k+1})   (path-kernel residual)
      ε_k = f_x(t_{k+1}) − f_x(t_k) − ½(∇f_x(A_k) + ∇f_x(A_{k+1}))·ΔA_k                (line integral, exact up to O(h³))
    summed separately over smooth steps and steps that cross a ReLU kink (see KINK_REACH).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, Xt: np.ndarray) -> None:
        self.X, self.y, self.Xt = X, y, Xt
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

    def __call__(self, st) -> None:
        net = st.net
        eqt = theory.solve_equilibrium(net, self.Xt, Z0=self.cache.get("Z"), rtol=1e-11)
        adt = theory.solve_adjoint(net, eqt, W0=self.cache.get("W"), rtol=1e-11)
        self.cache["Z"], self.cache["W"] = eqt.Z, adt.Wa
        f_x = theory.output(net, eqt.Z)
        r = st.f - self.y
        K_xX = (net.gamma / net.m) ** 2 * ((adt.V.T @ st.adj.V) * (eqt.Z.T @ st.eq.Z))
        Kr = K_xX @ r
        P = np.concatenate([st.eq.P, eqt.P], axis=1)
        if self.prev is None:  # t = 0: the linearised model is built from the initial quantities
            self.H0, self.f0, self.f0_x, self.K0_xX = st.H, st.f.copy(), f_x.copy(), K_xX
            self.eig = bounds.Eig(st.H)
            self.r0 = self.y - st.f
        else:
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
            self.df[part] += f_x - fx0
            self.trap[part] += trap
            self.line[part] += (f_x - fx0) - line
            self.steps += 1
            if kink:
                self.kink_steps += 1
                self.kink_time += h
        self.prev = (st.t, Kr, f_x, net.A.copy(), adt.V, eqt.Z, P)
        g_x = bounds.g_t(self.f0_x, self.K0_xX, self.eig, self.r0, st.t)
        self.coupling_max = max(self.coupling_max, float(np.abs(f_x - g_x).max()))
        self.c12.append((st.t, float(np.linalg.norm(st.f - bounds.g_hat(self.eig, self.f0, self.y, st.t)))))
        self.f_x = f_x

    def c9_numbers(self) -> dict:
        """The C9 residuals (max over held-out x) for the whole path and its smooth/kink parts, for
        the identity as stated (factor 1) and for the planted f_T − f_0 = −½∫K_t r dt."""
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
        return out


def _compute(rule: str, m: int, seed: int, safety: float) -> Summary:
    net, X, y = problem(rule, m, seed)
    Xt = theory.normalize_rows(np.random.default_rng([seed, 99]).standard_normal((N_TEST, D)))
    rec = _Section4(X, y, Xt)
    res = gradient_flow(net, X, y, rtol=safety, on_step=rec)
    a = res.arrays()
    lam0, L0 = res.lambda0, a["loss"][0]
    r0 = float(np.sqrt(2 * L0))
    # Theorem 3.1 (b): R = (2/λ₀)·√n·γ·c_W/(1−γ₀)²·‖f(0) − y‖ (THEORY.md, derived).
    R = 2.0 / lam0 * np.sqrt(N) * net.gamma * net.c_W / (1 - GAMMA0) ** 2 * r0
    bound = np.exp(-lam0 * a["t"]) * L0
    margins = {
        "a_lambda_min": float(a["lam_min"].min() / (lam0 / 2)),
        "b_dA_fro": float(R / max(a["dA_fro"].max(), 1e-300)),
        # (c) q_cert ≥ γ‖A(t)‖₂/√m at every step; a failure means q(t) ≥ 1 was measured.
        "c_contraction": 0.0 if res.failure else float(1.0 / a["q_cert"].max()),
        "d_loss": float(np.min(np.where(a["loss"] > 0, bound / np.maximum(a["loss"], 1e-300), np.inf))),
    }
    maxima = {k: float(a[k].max()) for k in ("dA_fro", "q_cert", "dH_op", "dz_max", "dz_rel_max", "dv_max", "flip_frac")}
    maxima["min_lambda_ratio"] = float(a["lam_min"].min() / lam0)
    # C9: path-kernel residual f_T(x) − f_0(x) + ∫K_t(x, X)(f_t − y)dt on held-out x.
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
    maxima["final_loss_ratio"] = float(a["loss"][-1] / L0)
    series = {"t": _downsample(a["t"] * lam0), "loss": _downsample(a["loss"] / L0),
              "bound": _downsample(bound / L0), "lam_ratio": _downsample(a["lam_min"] / lam0)}
    return Summary(rule, m, seed, lam0, float(R), margins, maxima, series,
                   [float(v) for v in res.checkpoint_loss], res.steps, res.failure)
