"""C6 (Theorem 3.1): global linear convergence of the gradient flow, on integrated paths.

(a) λ_min(H(t)) ≥ λ₀/2   (b) ‖A(t) − A(0)‖_F ≤ R   (c) γ‖A(t)‖₂/√m < 1   (d) L(t) ≤ e^{−λ₀t}L(0)

Two parts (docs/claims.md, C6):

* **Deterministic, on every path of the sweep** (both γ rules, every width): wherever (a) has held
  on [0, t], (d) holds on [0, t] (dL/ds = −rᵀH(s)r ≤ −2λ_min(H(s))L ≤ −λ₀L), and ‖A(s) − A(0)‖_F ≤
  R(q̄_s) (the gradient bound ‖Jᵀr‖ ≤ √n·γc_W/(1 − q)²·‖r‖ integrated against ‖r(s)‖ ≤
  e^{−λ₀s/2}‖r(0)‖; R(γ₀) is the paper's R).  A violation beyond the path's numerical error
  refutes the implication (rules.implication_along_paths).
* **Probabilistic, per γ rule**: (a) ∧ (c) along the whole path "with probability ≥ 1 − δ for m
  large enough": pooled over the profile's decision widths with a one-sided Clopper–Pearson bound,
  and the trend of the failure frequency in m over the sweep (rules.frequency_for_large_m).

Controls go through the same functions on the same sweep: rate 3λ₀ in (d), R/1000 in (b) (R is
≥ 100× the distance travelled, so R/10 still holds: see the evidence), threshold 0.99λ₀ in (a).
"""

from __future__ import annotations

import numpy as np

from . import _flows, rules
from ._stats import cp_interval, slope_ci
from ._sweeps import loglog_figure
from .harness import Planted, Result, experiment

CONCLUSION_A = "a_lambda_min"


def _sweep_tasks(rules_=_flows.RULES) -> list[_flows.Key]:
    return _flows.sweep_keys(rules_)


def _sweep(rules_=_flows.RULES) -> list[_flows.Summary]:
    keys = _flows.sweep_keys(rules_)
    _flows.ensure(keys, label=f"C6 trajectories ({', '.join(rules_)})")
    return [_flows.trajectory(k.rule, k.m, k.seed, k.method, k.knob) for k in keys]


def _arr(s: _flows.Summary, k: str) -> np.ndarray:
    return np.asarray(s.path[k], float)


def a_holds_prefix(s: _flows.Summary, factor: float = 0.5) -> np.ndarray:
    """(a) held on [0, t_k]: λ_min(H(t_j)) ≥ factor·λ₀ at every recorded t_j ≤ t_k."""
    return np.cumprod(_arr(s, "lam_min") >= factor * s.lambda0).astype(bool)


def ac_holds(s: _flows.Summary, factor: float = 0.5) -> bool:
    """(a) ∧ (c) on the whole recorded path: λ_min(H(t_j)) ≥ factor·λ₀ at every t_j, no loss of contraction."""
    return bool(a_holds_prefix(s, factor)[-1]) and s.failure is None


def _label(s: _flows.Summary) -> str:
    return f"{s.rule} m={s.m} seed={s.seed}"


def _replay(s: _flows.Summary) -> str:
    import json

    key = {"rule": s.rule, "m": s.m, "seed": s.seed, "method": s.method, "step": s.knob}
    return f"python -m checks.replay --path '{json.dumps(key)}'"


# ------------------------------------------------------------------- probabilistic part: (a) ∧ (c)
def _probabilistic(rule: str, a_factor: float) -> Result:
    p = _flows.plan()
    sums = _sweep((rule,))
    rows, cex = [], None
    figures = {"loss": {"title": f"L(t)/L(0) vs e^(-λ₀t), γ rule {rule}", "xlabel": "λ₀·t", "ylabel": "loss ratio",
                        "logy": True, "series": []},
               "lambda": {"title": f"λ_min(H(t))/λ₀, γ rule {rule}", "xlabel": "λ₀·t", "ylabel": "λ_min/λ₀",
                          "series": []},
               "frequency": {"title": f"P[(a) ∧ (c) on the whole path], γ rule {rule}", "xlabel": "width m",
                             "ylabel": "fraction of seeds", "logx": True, "series": []}}
    freq_x, freq_y, freq_lo, freq_hi = [], [], [], []
    for m in p["widths"]:
        at_m = [s for s in sums if s.m == m]
        a_ok = [bool(a_holds_prefix(s, a_factor)[-1]) for s in at_m]
        c_ok = [s.failure is None for s in at_m]
        holds = [a and c for a, c in zip(a_ok, c_ok)]
        ratios = [s.maxima["min_lambda_ratio"] for s in at_m]
        # (a)'s outcome is uncertain when the threshold lies within the path's resolution of its sampled
        # minimum: between two recorded times λ_min may dip below both by up to their difference (it jumps
        # at pattern flips), so the unseen minimum is ≥ min_k [min(λ_k, λ_k+1) − |λ_k+1 − λ_k|]
        unsure = [abs(r - a_factor) <= local_resolution(s) for r, s in zip(ratios, at_m)]
        k, n = int(sum(holds)), len(at_m)
        lo, hi = cp_interval(k, n)
        rows.append({"m": m, "n": n, "holds": k, "a_holds": int(sum(a_ok)), "c_holds": int(sum(c_ok)),
                     "uncertain_holds": int(sum(u and h for u, h in zip(unsure, holds))),
                     "uncertain_fails": int(sum(u and not h and c for u, h, c in zip(unsure, holds, c_ok))),
                     "cp95": [lo, hi], "min_lambda_ratio": min(ratios), "median_min_lambda_ratio": float(np.median(ratios)),
                     "max_q": max(s.maxima["q_cert"] for s in at_m), "integrator": f"{at_m[0].method} {at_m[0].knob}",
                     "steps_median": float(np.median([s.steps for s in at_m])),
                     "failing_seeds": [s.seed for s, h in zip(at_m, holds) if not h][:12]})
        freq_x.append(m)
        freq_y.append(k / n)
        freq_lo.append(lo)
        freq_hi.append(hi)
        if m in p["decision"]:
            for s, h in zip(at_m, holds):
                if not h and (cex is None or (s.m, s.seed) < (cex["spec"]["m"], cex["spec"]["seed"])):
                    cex = {"spec": {"rule": rule, "m": s.m, "seed": s.seed, "n": _flows.N, "d": _flows.D,
                                    "gamma0": _flows.GAMMA0},
                           "margin": s.maxima["min_lambda_ratio"] / a_factor,
                           "numbers": {"min_lambda_ratio": s.maxima["min_lambda_ratio"], "failure": s.failure,
                                       "max_q": s.maxima["q_cert"]}, "replay": _replay(s)}
        first = at_m[0]
        figures["loss"]["series"].append({"label": f"m={m}", "x": first.series["t"], "y": first.series["loss"], "style": "-"})
        figures["lambda"]["series"].append({"label": f"m={m}", "x": first.series["t"], "y": first.series["lam_ratio"],
                                            "style": "-"})
    figures["loss"]["series"].append({"label": "e^(-λ₀t)", "x": first.series["t"], "y": first.series["bound"], "style": "k--"})
    figures["frequency"]["series"] = [
        {"label": "fraction holding", "x": freq_x, "y": freq_y, "style": "o-"},
        {"label": "95% CP lower", "x": freq_x, "y": freq_lo, "style": "k:"},
        {"label": "95% CP upper", "x": freq_x, "y": freq_hi, "style": "k:"},
        {"label": f"1 − δ = {1 - _flows.DELTA:g}", "x": [freq_x[0], freq_x[-1]], "y": [1 - _flows.DELTA] * 2, "style": "r--"}]
    dec = rules.frequency_for_large_m(rows, p["decision"], 1 - _flows.DELTA)
    ev = {"rule": rule, "a_threshold": f"{a_factor:g}·λ₀", "verdict_rule": dec.rule, "decision": dec.numbers,
          "per_width": rows, "figures": figures}
    if dec.verdict != rules.VERIFIED:
        ev["what_would_hold"] = (f"pooled over m ∈ {list(p['decision'])}: {dec.numbers['k']} of {dec.numbers['n']} paths "
                                 f"keep (a) ∧ (c); lower CP bound {dec.numbers['cp_lower']:.3f} vs 1 − δ = "
                                 f"{1 - _flows.DELTA:g}")
    return Result("", "", dec.verdict, len(sums), dec.margin, cex if dec.verdict == rules.REFUTED else None, ev)


_A099 = {"detects_lambda_099": Planted("Planted: λ_min(H(t)) ≥ 0.99·λ₀ along the whole path (instead of λ₀/2), "
                                       "same sweep, same rule.", {"a_factor": 0.99})}


@experiment("C6", statement="Theorem 3.1 (a) ∧ (c) along the whole path, γ = γ₀/(2c), γ₀ = 0.5, n = 6, d = 4: "
            "with probability ≥ 1 − δ (δ = 0.1) for m large enough: pooled CP bound at the decision widths and the "
            "failure trend over the sweep.", controls=_A099, tasks=lambda: _sweep_tasks(("gamma0/2c",)))
def check_c6_theorem_gamma0_2c(budget: int, a_factor: float = 0.5) -> Result:
    return _probabilistic("gamma0/2c", a_factor)


@experiment("C6", statement="The same for γ = γ₀/c (the paper's rule; q(0) = γ₀, so (c) has only the room "
            "that ‖A(t)‖₂ ≤ 2c√m leaves).", controls=_A099, tasks=lambda: _sweep_tasks(("gamma0/c",)))
def check_c6_theorem_gamma0_c(budget: int, a_factor: float = 0.5) -> Result:
    return _probabilistic("gamma0/c", a_factor)


@experiment("C6", statement="Side finding: where (a) fails, λ₀ is small.  \"m large enough\" is polynomial in 1/λ₀, so "
            "at a fixed width the paths with the smallest λ₀ are the ones the theorem has not yet reached: the Spearman "
            "correlation of λ₀ with min_t λ_min(H(t))/λ₀ over the seeds at the largest decision width (γ = γ₀/(2c)) "
            "is positive (Fisher-z interval above 0).",
            controls={"detects_reversed": Planted("Planted: the minimum ratio falls as λ₀ grows (correlation with −λ₀), "
                                                  "same paths, same rule.", {"sign": -1.0})},
            tasks=lambda: _sweep_tasks(("gamma0/2c",)), finding=True)
def check_c6_failures_at_small_lambda0(budget: int, sign: float = 1.0) -> Result:
    from scipy.stats import spearmanr

    p = _flows.plan()
    sums = _sweep(("gamma0/2c",))
    rows = []
    for m in p["decision"]:
        at_m = sorted((s for s in sums if s.m == m), key=lambda s: s.lambda0)
        lam0 = np.array([s.lambda0 for s in at_m])
        ratio = np.array([s.maxima["min_lambda_ratio"] for s in at_m])
        rho = float(spearmanr(sign * lam0, ratio).statistic)
        fails = [i for i, s in enumerate(at_m) if not (ratio[i] >= 0.5 and s.failure is None)]
        rows.append({"m": m, "n": len(at_m), "spearman": rho, "failing_seeds": [at_m[i].seed for i in fails],
                     "their_lambda0_ranks": fails, "lambda0_range": [float(lam0[0]), float(lam0[-1])]})
    dec = rules.correlation(rows[-1]["spearman"], rows[-1]["n"], 0.0)
    return Result("", "", dec.verdict, rows[-1]["n"], dec.margin, None,
                  {"verdict_rule": dec.rule, "decision": dec.numbers, "per_width": rows,
                   "note": "λ₀ ranks count from 0 = the smallest λ₀ of the width's seeds"})


#: The data set the decision sweep finds hardest: the smallest λ₀ at every decision width of both profiles
#: and both γ rules (λ₀ ≈ 2.1–2.5e-4 for γ₀/(2c), half the next smallest).  Declared (its further
#: initialisations are tasks computed ahead of the checks) and confirmed against the sweep by the check.
HARD_SEED = 28
#: Further initialisations (init = 1 … k) of that data set per width, by profile.
HARD_INITS = {"thorough": ((1024, 10), (2048, 10), (4096, 6)), "default": ((1024, 10), (2048, 4))}


def _hard_plan() -> tuple:
    from hypothesis import settings

    return HARD_INITS.get(settings.get_current_profile_name(), HARD_INITS["default"])


def _hard_tasks() -> list[_flows.Key]:
    return [_flows.key(rule, m, HARD_SEED, init=j) for rule in _flows.RULES for m, k in _hard_plan()
            for j in range(1, k + 1)]


@experiment("C6", statement="Side finding: the hardest data set of the sweep (smallest λ₀) under many "
            "initialisations.  Theorem 3.1's probability is over the initialisation with the data fixed, and its "
            "\"m large enough\" depends on the data through λ₀.  For that data set (a) ∧ (c) is counted per width over "
            "further initialisations, and the deficit 1 − min_t λ_min(H(t))/λ₀ ((a) needs it ≤ ½) must shrink with m: "
            "95% log-log slope interval below 0 (fixed effects per γ rule).  Reported beside it: the slope of "
            "max_t ‖H(t) − H(0)‖₂/λ₀ (the proof's route: Weyl gives (a) once it is < ½) and the widths where both "
            "fits reach ½.",
            controls={"detects_rate_m_minus_2": Planted("Planted: the deficit shrinks at least like m^-2, same paths, "
                                                        "same rule.", {"claimed": -2.0})},
            tasks=lambda: _sweep_tasks() + _hard_tasks(), finding=True)
def check_c6_hardest_data_set(budget: int, claimed: float = 0.0) -> Result:
    p = _flows.plan()
    sums = _sweep()
    for rule in _flows.RULES:
        for m in p["decision"]:
            smallest = min((s for s in sums if s.rule == rule and s.m == m), key=lambda s: s.lambda0)
            if smallest.seed != HARD_SEED:
                raise AssertionError(f"HARD_SEED = {HARD_SEED} is stale: the smallest λ₀ at {rule}, m = {m} is seed "
                                     f"{smallest.seed} ({smallest.lambda0:.3g}); update the declaration")
    _flows.ensure(_hard_tasks(), label="C6 hardest data set, further initialisations")
    rows, xs, gs, deficit, dev = [], [], [], [], []
    for rule in _flows.RULES:
        for m, k in _hard_plan():
            paths = [_flows.trajectory(rule, m, HARD_SEED)] + [_flows.trajectory(rule, m, HARD_SEED, init=j)
                                                               for j in range(1, k + 1)]
            holds = [ac_holds(s) for s in paths]
            d = [1.0 - s.maxima["min_lambda_ratio"] for s in paths]
            h = [s.maxima["dH_op"] / s.lambda0 for s in paths]
            lo, hi = cp_interval(sum(holds), len(paths))
            rows.append({"rule": rule, "m": m, "inits": len(paths), "holds": int(sum(holds)), "cp95": [lo, hi],
                         "deficit_median": float(np.median(d)), "dH_over_lambda0_median": float(np.median(h)),
                         "lambda0_median": float(np.median([s.lambda0 for s in paths]))})
            xs += [m] * len(paths)
            gs += [rule] * len(paths)
            deficit += d
            dev += h
    fit = slope_ci(xs, deficit, groups=gs)
    fit_dev = slope_ci(xs, dev, groups=gs)
    dec = rules.slope_below(fit, claimed)

    def reach(key: str, f: dict) -> dict:
        """Width where a power law through the largest width's median, at the fitted slope and at the
        ends of its interval, reaches ½ (inf where the slope is not negative)."""
        out = {}
        for rule in _flows.RULES:
            last = [r for r in rows if r["rule"] == rule][-1]
            out[rule] = {b: (float(last["m"] * (last[key] / 0.5) ** (-1.0 / f[b])) if f[b] < 0 else float("inf"))
                         for b in ("slope", "lo", "hi")}
        return out

    ev = {"verdict_rule": dec.rule, "decision": dec.numbers, "data_seed": HARD_SEED, "per_width": rows,
          "deficit_slope": fit, "dH_over_lambda0_slope": fit_dev,
          "width_where_deficit_reaches_half": reach("deficit_median", fit),
          "width_where_dH_over_lambda0_reaches_half": reach("dH_over_lambda0_median", fit_dev),
          "note": "init 0 is the sweep's own path; inits 1… draw (A, W, u) from the generator seeded with "
                  "(seed, m, init); a width's (a) ∧ (c) count has a two-sided 95% CP interval",
          "figures": {"deficit": loglog_figure(f"1 − min_t λ_min(H(t))/λ₀, data seed {HARD_SEED}, many initialisations",
                                               xs, deficit, "deficit", fit),
                      "dH": loglog_figure(f"max_t ‖H(t) − H(0)‖₂/λ₀, data seed {HARD_SEED}, many initialisations",
                                          xs, dev, "‖ΔH‖₂/λ₀", fit_dev)}}
    return Result("", "", dec.verdict, len(xs), dec.margin, None, ev)


# ------------------------------------------------------------------- deterministic part: (a) ⇒ (d), (a) ⇒ (b)
def _implication(which: str, rate: float = 1.0, R_factor: float = 1.0) -> Result:
    sums = _sweep()
    paths = []
    for s in sums:
        t, L = _arr(s, "t"), _arr(s, "loss")
        hyp = a_holds_prefix(s)
        if which == "d":
            # ‖r(t)‖ = √(2L(t)) vs ‖r(0)‖e^{−rate·λ₀t/2}; slack: the path's error estimate of f (exp paths)
            lhs, rhs, slack = np.sqrt(2 * L), np.sqrt(2 * L[0]) * np.exp(-rate * s.lambda0 * t / 2), _arr(s, "err_f")
        else:
            qbar = np.maximum.accumulate(_arr(s, "q_cert"))
            lhs = _arr(s, "dA_fro")
            rhs = R_factor * _flows.theorem31_R(s.lambda0, s.G, s.r0, qbar)
            slack = np.zeros_like(lhs)  # err_A is an indicator, not a bound (test_units_exp); R has ≥ 50× room
        paths.append({"label": _label(s), "hyp": hyp, "lhs": lhs, "rhs": rhs, "slack": slack})
    dec = rules.implication_along_paths(paths)
    # where the conclusion failed at all (with or without the hypothesis): did (a) hold up to then?
    table = []
    for s, pth in zip(sums, paths):
        bad = pth["lhs"] > pth["rhs"] + pth["slack"]
        if bad[1:].any():
            i = 1 + int(np.argmax(bad[1:]))
            t_a = next((s.path["t"][j] for j, ok in enumerate(pth["hyp"]) if not ok), None)
            table.append({"path": _label(s), "t_first_violation·λ₀": s.path["t"][i] * s.lambda0,
                          "(a) held up to it": bool(pth["hyp"][i]),
                          "t_first_(a)_failure·λ₀": None if t_a is None else t_a * s.lambda0,
                          "ratio lhs/rhs": float(pth["lhs"][i] / pth["rhs"][i])})
    ratio = [float(np.max(p["lhs"][1:] / p["rhs"][1:])) for p in paths]
    ev = {"verdict_rule": dec.rule, "decision": dec.numbers, "violations_anywhere": table[:20],
          "violations_anywhere_count": len(table),
          "largest_lhs_over_rhs": max(ratio), "median_lhs_over_rhs": float(np.median(ratio))}
    cex = None
    if dec.verdict == rules.REFUTED:
        s = sums[dec.worst]
        cex = {"spec": {"rule": s.rule, "m": s.m, "seed": s.seed, "method": s.method, "step": s.knob},
               "margin": dec.margin, "numbers": {"lambda0": s.lambda0, "R": s.R, "failure": s.failure,
                                                 "min_lambda_ratio": s.maxima["min_lambda_ratio"]},
               "replay": _replay(s)}
    return Result("", "", dec.verdict, len(sums), dec.margin, cex, ev)


@experiment("C6", statement="(a) ⇒ (d) on every path of the sweep (both γ rules, every width): wherever λ_min(H(s)) ≥ λ₀/2 "
            "has held on [0, t], L(s) ≤ e^{−λ₀s}L(0) for s ≤ t, beyond the path's numerical error.",
            controls={"detects_rate_3": Planted("Planted: L(s) ≤ e^{−3λ₀s}L(0) wherever (a) has held (the slowest mode "
                                                "decays like e^{−2λ_min s}), same paths, same rule.", {"rate": 3.0})},
            tasks=_sweep_tasks)
def check_c6_loss_rate(budget: int, rate: float = 1.0) -> Result:
    return _implication("d", rate=rate)


@experiment("C6", statement="(a) ⇒ (b) on every path: wherever (a) has held on [0, t], ‖A(s) − A(0)‖_F ≤ "
            "R(q̄_s) = (2/λ₀)√n·γc_W/(1 − q̄_s)²·‖f(0) − y‖ for s ≤ t (q̄_s = max q up to s; R(γ₀) is the paper's R).",
            controls={"detects_R_over_1000": Planted("Planted: the distance travelled is ≤ R/1000, same paths, same rule.",
                                                     {"R_factor": 1e-3})},
            tasks=_sweep_tasks)
def check_c6_movement(budget: int, R_factor: float = 1.0) -> Result:
    return _implication("b", R_factor=R_factor)


# ------------------------------------------------------------------- integration accuracy (exp vs Heun)
#: Paths on which exponential Euler is compared with Heun: width m, seed (both γ rules); the sliding
#: measurement at SLIDING_M runs in the thorough profile.
ACCURACY = {"thorough": ((1024, 0), (2048, 0)), "default": ((1024, 0),)}
SLIDING = {"thorough": True, "default": False}
#: The Heun reference at step safeties h and h/2 (h·λ_max ≤ 1, well inside Heun's stability limit 2).
HEUN_REF = (1.0, 0.5)
#: Where the flow slides most (C9): exp at this width is measured, not used (module _flows).
SLIDING_M = 256


def _at_checkpoints(s: _flows.Summary, k: str) -> np.ndarray:
    t = _arr(s, "t")
    idx = [int(np.argmin(np.abs(t - tc))) for tc in np.linspace(0.0, t[-1], len(s.checkpoint_loss))]
    return _arr(s, k)[idx]


def _quantities(s: _flows.Summary) -> dict[str, np.ndarray]:
    """Everything the C6/C7/C12/C13 verdicts read from a path, as arrays (vectors compared in norm)."""
    out = {"f(t_j)": np.asarray(s.checkpoint_f, float), "λ_min(H(t_j))/λ₀": _at_checkpoints(s, "lam_min") / s.lambda0,
           "‖A(t_j) − A(0)‖_F": _at_checkpoints(s, "dA_fro"), "q(t_j)": _at_checkpoints(s, "q_cert"),
           "min_t λ_min/λ₀": np.array([s.maxima["min_lambda_ratio"]]), "max_t ‖ΔA‖_F": np.array([s.maxima["dA_fro"]]),
           "max_t q": np.array([s.maxima["q_cert"]]), "max_t ‖H(t) − H(0)‖₂": np.array([s.maxima["dH_op"]])}
    if "c13_coupling" in s.maxima:  # the γ₀/(2c) paths carry the Section 4 recorder
        out["C13 sup|f_t − g_t|"] = np.array([s.maxima["c13_coupling"]])
        out["C12 max‖f − ĝ‖"] = np.array([s.maxima["c12_max_dev"]])
    return out


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per checkpoint (rows of a vector quantity) or per entry: |a − b| (Euclidean norm over samples)."""
    d = np.abs(a - b)
    return np.linalg.norm(d, axis=1) if d.ndim == 2 else d


#: Richardson factors for an error ∝ h^p with the slowest order the suite accepts as discretisation
#: (rules.MIN_ORDER = ½: pattern flips make both methods first order or worse, and the pre-asymptotic
#: halvings seen at these widths are slower than first order): the coarse run's error is
#: |x_h − x_{h/2}|·2^p/(2^p − 1), the fine run's |x_h − x_{h/2}|/(2^p − 1).
_P = rules.MIN_ORDER
COARSE, FINE = 2**_P / (2**_P - 1), 1 / (2**_P - 1)


def local_resolution(s: _flows.Summary) -> float:
    """How far below its sampled minimum the path's λ_min/λ₀ may have gone between recorded times:
    sampled min − min_k [min(λ_k, λ_k+1) − |λ_k+1 − λ_k|] (a dip no deeper than the variation across
    the interval; on exponential-Euler paths this is checked against Heun by the accuracy check)."""
    lam = _arr(s, "lam_min") / s.lambda0
    if lam.size < 2:
        return 0.0
    lower = np.minimum(lam[:-1], lam[1:]) - np.abs(np.diff(lam))
    return float(lam.min() - lower.min())


def _adjacent_change(s: _flows.Summary, k: str, scale: float) -> np.ndarray:
    """At each checkpoint, the larger change of a recorded quantity to its neighbouring recorded times."""
    a = _arr(s, k) / scale
    t = _arr(s, "t")
    idx = [int(np.argmin(np.abs(t - tc))) for tc in np.linspace(0.0, t[-1], len(s.checkpoint_loss))]
    d = np.abs(np.diff(a))
    return np.array([max(d[i - 1] if i > 0 else 0.0, d[i] if i < d.size else 0.0) for i in idx])


def sampling_resolution(s: _flows.Summary, k: str, scale: float) -> float:
    """Largest change of a recorded quantity between consecutive recorded times (in units of
    ``scale``): λ_min(H(t)) and ‖H(t) − H(0)‖₂ jump at every pattern flip, so a path extremum taken
    over the recorded times is known only to this resolution."""
    return float(np.max(np.abs(np.diff(_arr(s, k))))) / scale if len(s.path[k]) > 1 else 0.0


def _compare(rule: str, m: int, seed: int, scale: float = 1.0) -> list[dict]:
    """Rows: per quantity and checkpoint, |exp − Heun| against the sum of both error estimates.

    Exponential Euler at τ (the sweep's) and τ/2: E_exp = COARSE·|x_τ − x_{τ/2}|; λ_min and ΔH
    quantities add the exp path's resolution (λ_min jumps at every pattern flip, and the extremum
    between samples is unseen).  Heun at h and h/2: E_heun = FINE·|x_h − x_{h/2}|.
    ``scale`` plants estimates too small (control)."""
    e1 = _flows.trajectory(rule, m, seed, "exp", _flows.EXP_TAU)
    e2 = _flows.trajectory(rule, m, seed, "exp", _flows.EXP_TAU / 2)
    h1 = _flows.trajectory(rule, m, seed, "heun", HEUN_REF[0])
    h2 = _flows.trajectory(rule, m, seed, "heun", HEUN_REF[1])
    Q = [_quantities(s) for s in (e1, e2, h1, h2)]
    # resolution terms (λ_min and ‖ΔH‖ jump at pattern flips): at a checkpoint, the changes to its recorded
    # neighbours; for a path extremum, the unseen dip/peak between recorded times (local_resolution)
    samp = {"λ_min(H(t_j))/λ₀": _adjacent_change(e1, "lam_min", e1.lambda0),
            "min_t λ_min/λ₀": np.array([local_resolution(e1)]),
            "max_t ‖H(t) − H(0)‖₂": np.array([sampling_resolution(e1, "dH_op", 1.0)])}
    rows = []
    for name in Q[0]:
        diff = _dist(Q[0][name], Q[3][name])
        est = COARSE * _dist(Q[0][name], Q[1][name]) + FINE * _dist(Q[2][name], Q[3][name])
        est = est + samp.get(name, 0.0)
        est = scale * est
        for j, (d, e) in enumerate(zip(np.atleast_1d(diff), np.atleast_1d(est))):
            if d == 0 and e == 0:
                continue
            rows.append({"path": f"{rule} m={m} seed={seed}", "quantity": name, "j": j, "exp_vs_heun": float(d),
                         "estimate": float(e), "margin": float(e / d) if d > 0 else float("inf")})
    # the per-path error bar of f used as slack by check_c6_loss_rate (the accumulated local estimates
    # err_f) must cover the distance to Heun up to Heun's own error
    d_f = _dist(Q[0]["f(t_j)"], Q[3]["f(t_j)"])
    bar = scale * (_at_checkpoints(e1, "err_f") + FINE * _dist(Q[2]["f(t_j)"], Q[3]["f(t_j)"]))
    for j, (d, e) in enumerate(zip(d_f, bar)):
        if d > 0:
            rows.append({"path": f"{rule} m={m} seed={seed}", "quantity": "f(t_j) within err_f (C6 slack)", "j": j,
                         "exp_vs_heun": float(d), "estimate": float(e), "margin": float(e / d)})
    # the per-path C6 conclusions must agree (a verdict flip is a margin 0 whatever the estimates)
    for name, f in (("(a) on the whole path", lambda s: bool(a_holds_prefix(s)[-1])),
                    ("(c) no loss of contraction", lambda s: s.failure is None)):
        same = f(e1) == f(h2)
        rows.append({"path": f"{rule} m={m} seed={seed}", "quantity": name, "j": 0, "exp_vs_heun": 0.0 if same else 1.0,
                     "estimate": 0.0, "margin": float("inf") if same else 0.0})
    return rows


def _accuracy_paths() -> tuple:
    from hypothesis import settings

    return ACCURACY.get(settings.get_current_profile_name(), ACCURACY["default"])


def _sliding() -> bool:
    from hypothesis import settings

    return SLIDING.get(settings.get_current_profile_name(), SLIDING["default"])


def _accuracy_tasks() -> list[_flows.Key]:
    keys = []
    for m, seed in list(_accuracy_paths()) + ([(SLIDING_M, 0)] if _sliding() else []):
        for rule in _flows.RULES:
            keys += [_flows.key(rule, m, seed, "exp", _flows.EXP_TAU), _flows.key(rule, m, seed, "exp", _flows.EXP_TAU / 2),
                     _flows.key(rule, m, seed, "heun", HEUN_REF[0]), _flows.key(rule, m, seed, "heun", HEUN_REF[1])]
    return keys


def _accuracy(scale: float = 1.0) -> Result:
    paths = _accuracy_paths()
    _flows.ensure(_accuracy_tasks(), label="C6 integrator accuracy (exp vs Heun)")
    rows = [r for m, seed in paths for rule in _flows.RULES for r in _compare(rule, m, seed, scale)]
    dec = rules.bound_on_every_example([r["margin"] for r in rows])
    worst = rows[dec.worst] if dec.worst is not None else None
    cost = []
    for m, seed in paths:
        for rule in _flows.RULES:
            e1 = _flows.trajectory(rule, m, seed, "exp", _flows.EXP_TAU)
            h = _flows.trajectory(rule, m, seed, "heun", HEUN_REF[1])
            cost.append({"path": f"{rule} m={m} seed={seed}", "exp_steps": e1.steps, "heun_steps": h.steps,
                         "solves_exp": e1.steps + 1, "solves_heun": 2 * h.steps + 1,
                         "step_ratio": h.steps / e1.steps})
    # where the flow slides most: measured, not used (integrator() keeps Heun below EXP_MIN_M)
    sliding = [r for rule in _flows.RULES for r in _compare(rule, SLIDING_M, 0, scale)] if _sliding() else []
    sl_bad = [r for r in sliding if r["margin"] < 1]
    ev = {"verdict_rule": dec.rule + f" (each quantity: |exp − Heun| ≤ E_exp + E_heun, E_exp = {COARSE:.3g}·|x_τ − x_τ/2| "
          f"(+ sampling resolution for λ_min and ΔH), E_heun = {FINE:.3g}·|x_h − x_h/2|: Richardson with order p = {_P:g})",
          "decision": dec.numbers, "worst": worst, "cost": cost, "exp_tau": [_flows.EXP_TAU, _flows.EXP_TAU / 2],
          "heun_safety": list(HEUN_REF),
          "rows": sorted(rows, key=lambda r: r["margin"])[:25],
          "sliding_m256": {"note": f"m = {SLIDING_M} (below EXP_MIN_M = {_flows.EXP_MIN_M}, where Heun is used): the flow "
                                   "slides along ReLU switching surfaces on long stretches; exponential Euler is first "
                                   "order there and its halving estimate can understate",
                           "quantities_compared": len(sliding), "estimate_understates": len(sl_bad),
                           "worst": sorted(sliding, key=lambda r: r["margin"])[:8]}}
    cex = None
    if dec.verdict == rules.REFUTED:
        cex = {"spec": {"row": worst}, "margin": dec.margin, "numbers": worst, "replay": ""}
    return Result("", "", dec.verdict, len(rows), dec.margin, cex, ev)


@experiment("C6", statement="Integrator accuracy (our code): exponential Euler at τ = 0.25 reproduces Heun's f(t_j), "
            "λ_min(H(t_j)), ‖A(t_j) − A(0)‖_F, q(t_j), their path extrema and the C12/C13 path quantities within the sum "
            "of both error estimates (Richardson), on m ∈ {1024 (ci), 2048 (thorough)}, both γ rules, and gives the same "
            "per-path (a) and (c).",
            controls={"detects_understated_estimate": Planted("Planted: the same comparison with error estimates 10× "
                                                              "smaller.", {"scale": 0.1})},
            tasks=_accuracy_tasks)
def check_c6_integration_accuracy(budget: int, scale: float = 1.0) -> Result:
    return _accuracy(scale)
