"""C9 (eqs. 16-17), C12 (Lemma 4.3, eq. 23), C13 (Lemma 4.4, eq. 24) along integrated
gradient-flow trajectories (the same ones as C6: γ = γ₀/(2c), γ₀ = 0.5, n = 6, d = 4),
on 16 held-out unit vectors per data seed."""

from __future__ import annotations

import numpy as np
import pytest

from . import _flows, _sweeps
from .harness import INCONCLUSIVE, REFUTED, VERIFIED, Result, experiment, verify

RULE = "gamma0/2c"
C9_M, C9_SEEDS = 128, 4


def _c9(planted_factor: float) -> Result:
    """f_T(x) − f_0(x) = −∫₀ᵀK_t(x, X)(f_t − y)dt holds exactly for the flow; on the Heun path with
    trapezoid quadrature the residual is O(h²).  Halving h must shrink it like h² (Richardson): the
    extrapolated residual (4ρ(h/2) − ρ(h))/3 must be within |ρ(h) − ρ(h/2)| (the discretisation scale)."""
    rows, worst, cex = [], np.inf, None
    for seed in range(C9_SEEDS):
        a = _flows.trajectory(RULE, C9_M, seed, _flows.SAFETY)
        b = _flows.trajectory(RULE, C9_M, seed, _flows.SAFETY / 2)
        # residual of the planted identity f_T − f_0 = −c·∫K r: ρ_c = ρ_1 + (c − 1)·∫K r, with ∫K r ≈ −(change)
        ra = a.maxima["c9_residual"] + (planted_factor - 1) * a.maxima["c9_change"]
        rb = b.maxima["c9_residual"] + (planted_factor - 1) * b.maxima["c9_change"]
        ext = abs(4 * rb - ra) / 3
        allowed = abs(ra - rb) + 1e-9 * b.maxima["c9_change"]  # + solver accuracy (1e-11) × steps
        mg = allowed / ext if ext > 0 else np.inf
        rows.append({"seed": seed, "residual_h": ra, "residual_h2": rb, "extrapolated": ext,
                     "change": b.maxima["c9_change"], "ratio": ra / rb if rb > 0 else None})
        if mg < worst:
            worst = mg
            if mg < 1:
                cex = {"spec": {"rule": RULE, "m": C9_M, "seed": seed}, "margin": mg, "numbers": rows[-1], "replay": ""}
    # Verdict: VERIFIED if every residual is explained by O(h²) discretisation (Richardson);
    # otherwise the size of the unexplained residual decides: the planted factor ½ leaves a residual
    # of ½|f_T − f_0|, so a residual ≥ ¼|f_T − f_0| is REFUTED, a smaller one INCONCLUSIVE.
    rel = max(r["residual_h2"] / r["change"] for r in rows if r["change"] > 0)
    if worst >= 1:
        verdict = VERIFIED
    elif abs(rel) >= 0.25:
        verdict = REFUTED
    else:
        verdict = INCONCLUSIVE
    ev = {"m": C9_M, "rows": rows, "max_rel_residual": rel}
    if verdict == INCONCLUSIVE:
        ev["what_would_hold"] = (
            "the residual does not shrink under step halving (it does in the first ~50 steps, like h²): "
            "the ReLU gradient field ∂f/∂A = (γ/m)vzᵀ jumps when a pattern flips (see C7 (13)), and where "
            "the flow runs along a switching surface K_t is set-valued (Filippov); the identity needs K_t "
            "replaced by the convex combination actually followed. Cause not yet isolated: also measured "
            "for the flip-free Section 5.1 initialisation, where a floor remains (open item).")
    return Result("", "", verdict, len(rows), worst, cex if verdict == REFUTED else None, ev)


@experiment("C9", statement="Path-kernel form f_T(x) = f_0(x) − ∫₀ᵀK_t(x,X)(f_t − y)dt on held-out x: the "
            "residual is pure O(h²) discretisation error (Richardson under step halving).")
def check_c9_path_kernel(budget: int) -> Result:
    return _c9(1.0)


@experiment("C9", control_of="check_c9_path_kernel", statement="Planted: f_T − f_0 = −½∫K_t r dt.")
def check_c9_path_kernel_detects_half(budget: int) -> Result:
    return _c9(0.5)


FF_M, FF_T, FF_SAFETIES = 64, 200.0, (0.5, 0.25, 0.125, 0.0625)
#: Order separator: a residual that is pure discretisation error vanishes like h^p with p ≥ 1
#: (trapezoid on an order-2 path; first order where the step size varies); a wrong identity leaves a
#: constant (p ≈ 0).  p ≥ 1/2 on both halvings separates the two.
FF_MIN_ORDER = 0.5


def _c9_flip_free(planted_factor: float) -> Result:
    """The identity on a flip-free path: Section 5.1 init (A ≥ 0, D = I, no pattern can flip while
    A stays near A(0)), window [0, 200] before λ_max(H(t)) grows; residual under three step sizes."""
    import theory
    from theory.flow import gradient_flow

    X, y = theory.make_data(_flows.N, _flows.D, np.random.default_rng(5))
    Xt = theory.normalize_rows(np.random.default_rng(6).standard_normal((_flows.N_TEST, _flows.D)))
    net = theory.init_network(FF_M, _flows.D, scheme="halfnormal_1/m", gamma0=0.5, gamma_rule="fixed",
                              rng=np.random.default_rng(3))
    rho, flips = [], []
    for sf in FF_SAFETIES:
        rec = _flows._Section4(X, y, Xt)
        res = gradient_flow(net, X, y, T=FF_T, rtol=sf, on_step=rec, checkpoints=1)
        rho.append(float(np.abs(rec.f_x - rec.f0_x + planted_factor * rec.integral).max()))
        flips.append(float(res.arrays()["flip_frac"].max()))
        change = float(np.abs(rec.f_x - rec.f0_x).max())
    orders = [float(np.log2(rho[i] / rho[i + 1])) if rho[i + 1] > 0 else np.inf for i in range(len(rho) - 1)]
    worst = min(orders) / FF_MIN_ORDER
    # As in check_c9_path_kernel: a residual that stops shrinking but stays below ¼ of the change
    # cannot be the planted ½-defect and is more likely an error source of ours than a false
    # identity, so it is INCONCLUSIVE; ≥ ¼ of the change is REFUTED.
    if worst >= 1 and max(flips) == 0:
        verdict = VERIFIED
    elif rho[-1] >= 0.25 * change:
        verdict = REFUTED
    else:
        verdict = INCONCLUSIVE
    ev = {"m": FF_M, "T": FF_T, "safeties": list(FF_SAFETIES), "residuals": rho, "observed_orders": orders,
          "max_flip_fraction": max(flips), "change": change}
    if verdict == INCONCLUSIVE:
        ev["what_would_hold"] = ("the residual shrinks (order 1.4, then 0.65, 0.22) towards a floor of ≈ 1% of the change "
                                 "although no pattern flips: an h-independent error source in the bookkeeping "
                                 "(open item), not evidence against the identity")
    cex = None if verdict != REFUTED else {"spec": {"m": FF_M, "T": FF_T, "scheme": "halfnormal_1/m"},
                                            "margin": worst, "numbers": ev, "replay": ""}
    return Result("", "", verdict, len(rho), worst, cex, ev)


@experiment("C9", statement="On a flip-free path (Section 5.1 init, t ≤ 200) the path-kernel residual on held-out x "
            "vanishes as the step shrinks (observed order ≥ ½ on every halving, four step sizes).")
def check_c9_path_kernel_flip_free(budget: int) -> Result:
    return _c9_flip_free(1.0)


@experiment("C9", control_of="check_c9_path_kernel_flip_free", statement="Planted: f_T − f_0 = −½∫K_t r dt on the same path.")
def check_c9_path_kernel_flip_free_detects_half(budget: int) -> Result:
    return _c9_flip_free(0.5)


def _c12(factor: float) -> Result:
    p = _flows.plan()
    worst, cex, n = np.inf, None, 0
    for m, k in zip(p["widths"], p["seeds"]):
        for seed in range(k):
            t = _flows.trajectory(RULE, m, seed)
            mg = t.margins["c12_coupling"] * factor
            n += 1
            if mg < worst:
                worst = mg
            if mg < 1 and (cex is None or (m, seed) < (cex["spec"]["m"], cex["spec"]["seed"])):
                cex = {"spec": {"rule": RULE, "m": m, "seed": seed}, "margin": mg,
                       "numbers": {"max_dev": t.maxima["c12_max_dev"], "dH_sup": t.maxima["dH_op"]}, "replay": ""}
    return Result("", "", VERIFIED if cex is None else REFUTED, n, worst, cex,
                  {"note": "checked on [0, t) while λ_min(H(s)) ≥ λ₀/2 (the lemma's hypothesis)"})


@experiment("C12", statement="(23): ‖f(t) − ĝ(t)‖ ≤ (2/λ₀)sup_s‖H(s)−H(0)‖₂‖f(0)−y‖(e^{−λ₀t/2} − e^{−λ₀t}) at every "
            "recorded step of every trajectory (while λ_min(H) ≥ λ₀/2).")
def check_c12_coupling_bound(budget: int) -> Result:
    return _c12(1.0)


@experiment("C12", control_of="check_c12_coupling_bound", statement="Planted: the bound of (23) divided by 10.")
def check_c12_coupling_bound_detects_tenth(budget: int) -> Result:
    return _c12(0.1)


def _c13(claimed: float) -> Result:
    p = _flows.plan()
    xs, ys, gs = [], [], []
    for m, k in zip(p["widths"], p["seeds"]):
        for seed in range(k):
            t = _flows.trajectory(RULE, m, seed)
            xs.append(m)
            gs.append(seed)
            ys.append(t.maxima["c13_coupling"])
    from ._stats import slope_ci

    fit = slope_ci(xs, ys, groups=gs)
    if claimed == 0.0:  # the paper's claim: → 0 (interval below 0, reaching the −1/2 rate)
        verdict, fit, margin = _sweeps.convergence_verdict(xs, ys, gs)
    else:  # planted: decays like m^{claimed} or faster; refuted when the whole interval is above it
        verdict = REFUTED if fit["lo"] > claimed else VERIFIED
        margin = (claimed - fit["lo"]) + 1.0
    return Result("", "", verdict, len(xs), margin, None,
                  {"slope": fit, "pilot_slope": -0.49,
                   "figures": {"coupling": _sweeps.loglog_figure("sup_t,x |f_t(x) − g_t(x)| (held-out x)", xs, ys,
                                                                 "coupling", fit)}})


@experiment("C13", statement="(24): sup_t max_{held-out x}|f_t(x) − g_t(x)| → 0 as m grows (fixed-effects slope "
            "interval below 0 and reaching −1/2; pilot −0.49).")
def check_c13_uniform_coupling(budget: int) -> Result:
    return _c13(0.0)


@experiment("C13", control_of="check_c13_uniform_coupling", statement="Planted: the coupling decays like m⁻¹.")
def check_c13_uniform_coupling_detects_m_inverse(budget: int) -> Result:
    return _c13(-1.0)


NAMES = ["check_c9_path_kernel", "check_c9_path_kernel_detects_half", "check_c9_path_kernel_flip_free",
         "check_c9_path_kernel_flip_free_detects_half", "check_c12_coupling_bound",
         "check_c12_coupling_bound_detects_tenth", "check_c13_uniform_coupling",
         "check_c13_uniform_coupling_detects_m_inverse"]


@pytest.mark.parametrize("name", NAMES)
def test_c09_c12_c13(name):
    verify(name)
