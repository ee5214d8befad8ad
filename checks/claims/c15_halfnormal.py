"""C15 (Section 5.1, eqs. 26-27): entrywise half-normal A(0), φ = ReLU.

With A ≥ 0 every pre-activation is ≥ 0 and (a.s.) > 0, so D = I and the model is linear:
z = (I − (γ/√m)A)⁻¹φ(Wx) (Neumann series), v_i = Qᵀu for all i,
H(0) = (γ²/m²)‖Qᵀu‖²·ΦᵀQᵀQΦ, and (27) λ_min(H(0)) ≥ γ²/(1+γ₀)⁴·λ_min(ΦᵀΦ/m).
[suspect] The literal unit-variance entries have mean √(2/π) ≠ 0: ‖A‖₂ ≈ √(2/π)·m, so at a
fixed γ the spectral radius of (γ/√m)A grows like √m and the equilibrium diverges.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import theory

from ..engine import rules
from ..engine.margins import margin_ge, ratio_margin, rel_error
from ..engine.registry import Planted, experiment, property_check
from ..engine.stats import slope_ci
from ..engine.verdict import Counterexample, Outcome, Result
from ..model import tol as _tol
from ..model.examples import Spec, solved

STRAT = st.builds(Spec, m=st.integers(1, 48), n=st.integers(1, 6), d=st.integers(2, 5),
                  gamma0=st.floats(0.05, 0.9), gamma_rule=st.just("gamma0/c"),
                  scheme=st.just("halfnormal_1/m"), phi=st.just("relu"), seed=st.integers(0, 2**32 - 1))


def _setup(spec):
    s = solved(spec)
    net = s.net
    Qinv = np.eye(net.m) - net.s * net.A
    Q = np.linalg.inv(Qinv)
    return s, net, Q


@property_check("C15", STRAT, statement="Under A_ij ~ |N(0,1/m)|, φ = ReLU: D = I (samples with φ(Wx) ≠ 0); z = (I − sA)⁻¹φ(Wx); Neumann "
                "partial sums within q^{K+1}/(1−q)‖φ(Wx)‖; v_i = Qᵀu; H(0) = (γ²/m²)‖Qᵀu‖²ΦᵀQᵀQΦ.",
                controls={"detects_signed_A": Planted("Planted: the same closed forms (D = I) under signed Gaussian "
                                                      "A(0) (the same drawn sizes and seeds).", {"scheme": "gaussian"})})
def check_c15_closed_forms(spec, scheme: str = "halfnormal_1/m") -> Outcome:
    from dataclasses import replace

    spec = replace(spec, scheme=scheme)
    s, net, Q = _setup(spec)
    # A sample with φ(Wx) = 0 has z = 0 and P = 0, hence D = 0 (σ'(0) = 0): the claim D = I is
    # about the other samples (those with some active input feature).
    live = np.any(s.eq.B > 0, axis=0)
    if not live.any():
        return Outcome(np.nan, discarded="φ(Wx) = 0 for every sample")
    B = s.eq.B
    tol = _tol.rounding(net.m, net.q) * (1 + net.q) / (1 - net.q)  # explicit inverse: κ ≤ (1+q)/(1−q)
    mg = {}
    mg["D_is_I"] = 1.0 if s.eq.D[:, live].all() else 0.0
    tz = tol + _tol.solve_rel(np.linalg.norm(s.eq.Z), np.linalg.norm(B))
    mg["z_closed"] = tz / max(rel_error(s.eq.Z, Q @ B), 1e-300)
    v_closed = np.repeat((Q.T @ net.u)[:, None], s.eq.n, axis=1)
    tv = tol + _tol.solve_rel(np.linalg.norm(s.adj.V[:, live]), np.linalg.norm(s.adj.Wa[:, live]))
    mg["v_closed"] = tv / max(rel_error(s.adj.V[:, live], v_closed[:, live]), 1e-300)
    H = theory.gram(net, s.eq, s.adj.V)
    H_closed = (net.gamma / net.m) ** 2 * np.sum((Q.T @ net.u) ** 2) * (B.T @ Q.T @ Q @ B)
    mg["H_closed"] = 4 * (tz + tv) / max(rel_error(H, H_closed), 1e-300)
    # Neumann partial sums: ‖Σ_{k≤K}(sA)^k b − z‖ ≤ q^{K+1}/(1−q)·‖b‖ for every K.
    S, term, worst = np.zeros_like(B), B.copy(), np.inf
    bn = np.linalg.norm(B, axis=0)
    for K in range(60):
        S += term
        err = np.linalg.norm(S - s.eq.Z, axis=0)
        allowed = net.q ** (K + 1) / (1 - net.q) * bn + tz * np.maximum(np.linalg.norm(s.eq.Z, axis=0), bn)
        worst = min(worst, ratio_margin(allowed, err))
        term = net.s * (net.A @ term)
    mg["neumann"] = worst
    key = min(mg, key=mg.get)
    return Outcome(float(min(mg.values())), {"worst_part": key, **{k: float(v) for k, v in mg.items()}, "q": net.q})


@property_check("C15", STRAT, statement="(27): λ_min(H(0)) ≥ γ²/(1+γ₀)⁴·λ_min(ΦᵀΦ/m).",
                controls={"detects_wrong_constant": Planted("Planted: λ_min(H(0)) ≥ 2γ²·λ_min(ΦᵀΦ/m) (wrong constant, "
                                                            "(1+γ₀)⁻⁴ dropped).", {"constant": 2.0, "power": 0})})
def check_c15_eq27(spec, constant: float = 1.0, power: int = 4) -> Outcome:
    s, net, _ = _setup(spec)
    H = theory.gram(net, s.eq, s.adj.V)
    lam = float(np.linalg.eigvalsh(H)[0])
    Phi = s.eq.B
    lamP = float(np.linalg.eigvalsh(Phi.T @ Phi / net.m)[0])
    bound = constant * net.gamma**2 / (1 + net.q) ** power * lamP
    slack = 3 * _tol.eig_abs(H.shape[0], float(np.linalg.norm(H, 2)))
    return Outcome(margin_ge(lam, bound, slack), {"lambda_min_H": lam, "bound": bound, "lambda_min_PhiPhi_m": lamP,
                                                  "q": net.q})


# ------------------------------------------------------------------ the scale defect
SCALE_WIDTHS = (25, 50, 100, 200, 300, 400, 800)
SCALE_GAMMA = 0.5
SCALE_SEEDS = 3


def _scale(scheme: str) -> Result:
    rows, xs, rad, gs = [], [], [], []
    for m in SCALE_WIDTHS:
        for seed in range(SCALE_SEEDS):
            rng = np.random.default_rng([seed, m, 51])
            A = theory.init_A(m, scheme, rng)
            W = rng.standard_normal((m, 4))
            X, _ = theory.make_data(3, 4, rng)
            sA = SCALE_GAMMA / np.sqrt(m) * A
            rho = float(np.abs(np.linalg.eigvals(sA)).max())
            q = float(theory.spectral_norm(sA))
            B = np.maximum(W @ X.T, 0)
            Z = np.maximum(B, 0)
            for _ in range(60):  # the literal Picard map, no certificate
                Z = np.maximum(sA @ Z + B, 0)
            resid = float(np.linalg.norm(np.maximum(sA @ Z + B, 0) - Z) / max(np.linalg.norm(B), 1e-300))
            rows.append({"m": m, "seed": seed, "spectral_radius": rho, "q": q, "picard_residual_60": resid})
            xs.append(m)
            rad.append(rho)
            gs.append(seed)
    fit = slope_ci(xs, rad, groups=gs)
    worst_q = max(r["q"] for r in rows)
    bad = [r for r in rows if r["q"] >= 1]
    dec = rules.bound_on_every_example([1 / r["q"] for r in rows])  # well posed iff q = γ‖A‖₂/√m < 1
    verdict = dec.verdict
    cex = None
    if bad:
        first = min(bad, key=lambda r: (r["m"], r["seed"]))
        cex = Counterexample(spec={"scheme": scheme, "gamma": SCALE_GAMMA, "m": first["m"], "seed": first["seed"]}, margin=1 / first["q"], numbers=first)
    ev = {"verdict_rule": dec.rule, "scheme": scheme, "gamma": SCALE_GAMMA, "rows": rows, "radius_slope": fit, "max_q": worst_q,
          "figures": {"radius": {"title": f"spectral radius of (γ/√m)A, {scheme}, γ = {SCALE_GAMMA}", "xlabel": "m",
                                 "ylabel": "ρ((γ/√m)A)", "logx": True, "logy": True,
                                 "series": [{"label": scheme, "x": xs, "y": rad, "style": "o"},
                                            {"label": "contraction limit 1", "x": [min(xs), max(xs)], "y": [1, 1],
                                             "style": "k--"}]}}}
    if bad:
        ev["what_would_hold"] = ("A_ij ~ |N(0, 1/m)| (the 1/m-variance reading: ρ → γ√(2/π) < 1), or γ = O(1/√m)")
    return Result(verdict=verdict, examples=len(rows), worst_margin=dec.margin, counterexample=cex, evidence=ev)


@experiment("C15", statement="[suspect] Literal Section 5.1: A_ij ~ |N(0,1)| at fixed γ = 0.5 keeps "
            "γ‖A‖₂/√m < 1 (well-posed) at every width.")
def check_c15_literal_scale() -> Result:
    return _scale("halfnormal")


@experiment("C15", statement="Corrected Section 5.1: A_ij ~ |N(0,1/m)| at fixed γ = 0.5 keeps γ‖A‖₂/√m < 1 at "
            "every width (ρ → γ√(2/π)).")
def check_c15_scaled_1_over_m() -> Result:
    return _scale("halfnormal_1/m")
