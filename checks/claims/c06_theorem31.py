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

import json
import math

import numpy as np

from theory.bounds import movement_radius
from theory.flow import ExpEuler

from ..engine import profiles, rules, tasks
from ..engine.figures import loglog_figure
from ..engine.registry import Planted, experiment
from ..engine.stats import cp_interval, slope_ci
from ..engine.verdict import Counterexample, Result
from ..model import calibration, observers, panel, paths
from ..model.paths import Summary
from ..model.predicates import a_holds_prefix, ac_holds, ac_tally, arr, local_resolution


def _sweep_tasks(rules_=paths.RULES) -> list[paths.Key]:
    return paths.sweep_keys(rules_)


def _sweep(rules_=paths.RULES) -> list[Summary]:
    keys = paths.sweep_keys(rules_)
    paths.ensure(keys, label=f"C6 trajectories ({', '.join(rules_)})")
    return paths.summaries(keys)


def _label(s: Summary) -> str:
    return f"{s.rule} m={s.m} seed={s.seed}"


def _replay(s: Summary) -> str:
    key = {"rule": s.rule, "m": s.m, "seed": s.seed, "method": s.method, "step": s.step}
    return f"python -m checks.replay --path '{json.dumps(key)}'"


# ------------------------------------------------------------------- probabilistic part: (a) ∧ (c)
def _width_row(at_m: list[Summary], a_factor: float) -> tuple[dict, list[bool]]:
    """The (a) ∧ (c) tally of one width, with its two-sided CP interval and the path numbers shown."""
    row, holds = ac_tally(at_m, a_factor)
    ratios = [s.maxima["min_lambda_ratio"] for s in at_m]
    row.update({"cp95": list(cp_interval(row["holds"], row["n"])), "median_min_lambda_ratio": float(np.median(ratios)),
                "integrator": f"{at_m[0].method} {at_m[0].step}",
                "failing_seeds": [s.seed for s, h in zip(at_m, holds) if not h][:12]})
    return row, holds


def _first_failure(rule: str, by_m: dict, decision, a_factor: float) -> Counterexample | None:
    """The failing path of smallest (m, seed) at the decision widths."""
    for m in sorted(decision):
        for s, h in sorted(zip(*by_m[m]), key=lambda sh: sh[0].seed):
            if not h:
                return Counterexample(spec={"rule": rule, "m": s.m, "seed": s.seed, "n": paths.N, "d": paths.D,
                                            "gamma0": paths.GAMMA0},
                                      margin=s.maxima["min_lambda_ratio"] / a_factor,
                                      numbers={"min_lambda_ratio": s.maxima["min_lambda_ratio"], "failure": s.failure,
                                               "max_q": s.maxima["q_cert"]}, replay=_replay(s))
    return None


def _sweep_figures(rule: str, rows: list[dict], by_m: dict) -> dict:
    """Loss and λ_min/λ₀ along the first seed's path at every width; the frequency of (a) ∧ (c) against m."""
    ms = [r["m"] for r in rows]
    first = {m: by_m[m][0][0] for m in ms}
    curve = lambda key: [{"label": f"m={m}", "x": first[m].series["t"], "y": first[m].series[key], "style": "-"}  # noqa: E731
                         for m in ms]
    last = first[ms[-1]]
    target = 1 - paths.DELTA
    return {"loss": {"title": f"L(t)/L(0) vs e^(-λ₀t), γ rule {rule}", "xlabel": "λ₀·t", "ylabel": "loss ratio",
                     "logy": True, "series": curve("loss") + [{"label": "e^(-λ₀t)", "x": last.series["t"],
                                                               "y": last.series["bound"], "style": "k--"}]},
            "lambda": {"title": f"λ_min(H(t))/λ₀, γ rule {rule}", "xlabel": "λ₀·t", "ylabel": "λ_min/λ₀",
                       "series": curve("lam_ratio")},
            "frequency": {"title": f"P[(a) ∧ (c) on the whole path], γ rule {rule}", "xlabel": "width m",
                          "ylabel": "fraction of seeds", "logx": True, "series": [
                              {"label": "fraction holding", "x": ms, "y": [r["holds"] / r["n"] for r in rows],
                               "style": "o-"},
                              {"label": "95% CP lower", "x": ms, "y": [r["cp95"][0] for r in rows], "style": "k:"},
                              {"label": "95% CP upper", "x": ms, "y": [r["cp95"][1] for r in rows], "style": "k:"},
                              {"label": f"1 − δ = {target:g}", "x": [ms[0], ms[-1]], "y": [target] * 2,
                               "style": "r--"}]}}


def _probabilistic(rule: str, a_factor: float) -> Result:
    """(a) ∧ (c) per width over the sweep of one γ rule, decided by rules.frequency_for_large_m."""
    p = paths.plan()
    sums = _sweep((rule,))
    by_m, rows = {}, []
    for m in p["widths"]:
        at_m = [s for s in sums if s.m == m]
        row, holds = _width_row(at_m, a_factor)
        rows.append(row)
        by_m[m] = (at_m, holds)
    dec = rules.frequency_for_large_m(rows, p["decision"], 1 - paths.DELTA)
    ev = {"rule": rule, "a_threshold": f"{a_factor:g}·λ₀", "verdict_rule": dec.rule, "decision": dec.numbers,
          "per_width": rows, "figures": _sweep_figures(rule, rows, by_m)}
    if dec.verdict != rules.VERIFIED:
        ev["what_would_hold"] = (f"pooled over m ∈ {list(p['decision'])}: {dec.numbers['k']} of {dec.numbers['n']} paths "
                                 f"keep (a) ∧ (c); lower CP bound {dec.numbers['cp_lower']:.3f} vs 1 − δ = "
                                 f"{1 - paths.DELTA:g}")
    cex = _first_failure(rule, by_m, p["decision"], a_factor) if dec.verdict == rules.REFUTED else None
    return Result.of(dec, examples=len(sums), counterexample=cex, evidence=ev)


_A099 = {"detects_lambda_099": Planted("Planted: λ_min(H(t)) ≥ 0.99·λ₀ along the whole path (instead of λ₀/2), "
                                       "same sweep, same rule.", {"a_factor": 0.99})}


@experiment("C6", statement="Side finding (the pooled sweep, which no longer decides the claim): Theorem 3.1 (a) ∧ (c) "
            "along the whole path, γ = γ₀/(2c), γ₀ = 0.5, n = 6, d = 4, random data sets pooled: with probability ≥ 1 − δ "
            "(δ = 0.1) for m large enough: pooled CP bound at the decision widths and the failure trend over the sweep.",
            controls=_A099, tasks=lambda: _sweep_tasks(("gamma0/2c",)), finding=True)
def check_c6_theorem_pooled_gamma0_2c(a_factor: float = 0.5) -> Result:
    return _probabilistic("gamma0/2c", a_factor)


@experiment("C6", statement="Side finding: the same pooled sweep for γ = γ₀/c (the paper's rule; q(0) = γ₀, so (c) has "
            "only the room that ‖A(t)‖₂ ≤ 2c√m leaves).", controls=_A099, tasks=lambda: _sweep_tasks(("gamma0/c",)),
            finding=True)
def check_c6_theorem_pooled_gamma0_c(a_factor: float = 0.5) -> Result:
    return _probabilistic("gamma0/c", a_factor)


@experiment("C6", statement="Side finding: where (a) fails, λ₀ is small.  \"m large enough\" is polynomial in 1/λ₀, so "
            "at a fixed width the paths with the smallest λ₀ are the ones the theorem has not yet reached: the Spearman "
            "correlation of λ₀ with min_t λ_min(H(t))/λ₀ over the seeds at the largest decision width (γ = γ₀/(2c)) "
            "is positive (Fisher-z interval above 0).",
            controls={"detects_reversed": Planted("Planted: the minimum ratio falls as λ₀ grows (correlation with −λ₀), "
                                                  "same paths, same rule.", {"sign": -1.0})},
            tasks=lambda: _sweep_tasks(("gamma0/2c",)), finding=True)
def check_c6_failures_at_small_lambda0(sign: float = 1.0) -> Result:
    from scipy.stats import spearmanr

    p = paths.plan()
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
    return Result.of(dec, examples=rows[-1]["n"], evidence={"verdict_rule": dec.rule, "decision": dec.numbers, "per_width": rows,
                   "note": "λ₀ ranks count from 0 = the smallest λ₀ of the width's seeds"})


#: The data set the decision sweep finds hardest: the smallest λ₀ at every decision width of both profiles
#: and both γ rules (λ₀ ≈ 2.1–2.5e-4 for γ₀/(2c), half the next smallest).  Declared (its further
#: initialisations are tasks computed ahead of the checks) and confirmed against the sweep by the check.
HARD_SEED = 28
#: Further initialisations (init = 1 … k) of that data set per width, by profile.
HARD_INITS = {"default": ((1024, 10), (2048, 4))}


def _hard_tasks() -> list[paths.Key]:
    return [paths.key(rule, m, HARD_SEED, init=j) for rule in paths.RULES for m, k in profiles.pick(HARD_INITS)
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
def check_c6_hardest_data_set(claimed: float = 0.0) -> Result:
    p = paths.plan()
    sums = _sweep()
    for rule in paths.RULES:
        for m in p["decision"]:
            smallest = min((s for s in sums if s.rule == rule and s.m == m), key=lambda s: s.lambda0)
            if smallest.seed != HARD_SEED:
                raise AssertionError(f"HARD_SEED = {HARD_SEED} is stale: the smallest λ₀ at {rule}, m = {m} is seed "
                                     f"{smallest.seed} ({smallest.lambda0:.3g}); update the declaration")
    paths.ensure(_hard_tasks(), label="C6 hardest data set, further initialisations")
    rows, xs, gs, deficit, dev = [], [], [], [], []
    for rule in paths.RULES:
        for m, k in profiles.pick(HARD_INITS):
            inits = paths.summaries([paths.key(rule, m, HARD_SEED, init=j) for j in range(k + 1)])
            holds = [ac_holds(s) for s in inits]
            d = [1.0 - s.maxima["min_lambda_ratio"] for s in inits]
            h = [s.maxima["dH_op"] / s.lambda0 for s in inits]
            lo, hi = cp_interval(sum(holds), len(inits))
            rows.append({"rule": rule, "m": m, "inits": len(inits), "holds": int(sum(holds)), "cp95": [lo, hi],
                         "deficit_median": float(np.median(d)), "dH_over_lambda0_median": float(np.median(h)),
                         "lambda0_median": float(np.median([s.lambda0 for s in inits]))})
            xs += [m] * len(inits)
            gs += [rule] * len(inits)
            deficit += d
            dev += h
    fit = slope_ci(xs, deficit, groups=gs)
    fit_dev = slope_ci(xs, dev, groups=gs)
    dec = rules.slope_below(fit, claimed)

    def reach(key: str, f: dict) -> dict:
        """Width where a power law through the largest width's median, at the fitted slope and at the
        ends of its interval, reaches ½ (inf where the slope is not negative)."""
        out = {}
        for rule in paths.RULES:
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
    return Result.of(dec, examples=len(xs), evidence=ev)


# ------------------------------------------------------------------- deterministic part: (a) ⇒ (d), (a) ⇒ (b)
def _implication_cases(sums: list[Summary], which: str, rate: float = 1.0, R_factor: float = 1.0) -> list[dict]:
    """(a) ⇒ (d) (``which`` "d") or (a) ⇒ (b) ("b") along each path, for rules.implication_along_paths."""
    cases = []
    for s in sums:
        t, L = arr(s, "t"), arr(s, "loss")
        hyp = a_holds_prefix(s)
        if which == "d":
            # ‖r(t)‖ = √(2L(t)) vs ‖r(0)‖e^{−rate·λ₀t/2}; slack: the path's error estimate of f (exp paths)
            lhs, rhs, slack = np.sqrt(2 * L), np.sqrt(2 * L[0]) * np.exp(-rate * s.lambda0 * t / 2), arr(s, "err_f")
        else:
            qbar = np.maximum.accumulate(arr(s, "q_cert"))
            lhs = arr(s, "dA_fro")
            rhs = R_factor * movement_radius(s.lambda0, s.n, s.G, s.r0, qbar)
            slack = np.zeros_like(lhs)  # err_A is an indicator, not a bound (test_theory_exp_euler); R has ≥ 50× room
        cases.append({"label": _label(s), "hyp": hyp, "lhs": lhs, "rhs": rhs, "slack": slack})
    return cases


def _implication(which: str, rate: float = 1.0, R_factor: float = 1.0) -> Result:
    sums = _sweep()
    cases = _implication_cases(sums, which, rate, R_factor)
    dec = rules.implication_along_paths(cases)
    # where the conclusion failed at all (with or without the hypothesis): did (a) hold up to then?
    table = []
    for s, pth in zip(sums, cases):
        bad = pth["lhs"] > pth["rhs"] + pth["slack"]
        if bad[1:].any():
            i = 1 + int(np.argmax(bad[1:]))
            t_a = next((s.path["t"][j] for j, ok in enumerate(pth["hyp"]) if not ok), None)
            table.append({"path": _label(s), "t_first_violation·λ₀": s.path["t"][i] * s.lambda0,
                          "(a) held up to it": bool(pth["hyp"][i]),
                          "t_first_(a)_failure·λ₀": None if t_a is None else t_a * s.lambda0,
                          "ratio lhs/rhs": float(pth["lhs"][i] / pth["rhs"][i])})
    ratio = [float(np.max(p["lhs"][1:] / p["rhs"][1:])) for p in cases]
    ev = {"verdict_rule": dec.rule, "decision": dec.numbers, "violations_anywhere": table[:20],
          "violations_anywhere_count": len(table),
          "largest_lhs_over_rhs": max(ratio), "median_lhs_over_rhs": float(np.median(ratio))}
    cex = None
    if dec.verdict == rules.REFUTED:
        s = sums[dec.worst]
        cex = Counterexample(spec={"rule": s.rule, "m": s.m, "seed": s.seed, "method": s.method, "step": s.step},
                             margin=dec.margin, numbers={"lambda0": s.lambda0, "R": s.R, "failure": s.failure,
                                                         "min_lambda_ratio": s.maxima["min_lambda_ratio"]},
                             replay=_replay(s))
    return Result.of(dec, examples=len(sums), counterexample=cex, evidence=ev)


@experiment("C6", statement="(a) ⇒ (d) on every path of the sweep (both γ rules, every width): wherever λ_min(H(s)) ≥ λ₀/2 "
            "has held on [0, t], L(s) ≤ e^{−λ₀s}L(0) for s ≤ t, beyond the path's numerical error.",
            controls={"detects_rate_3": Planted("Planted: L(s) ≤ e^{−3λ₀s}L(0) wherever (a) has held (the slowest mode "
                                                "decays like e^{−2λ_min s}), same paths, same rule.", {"rate": 3.0})},
            tasks=_sweep_tasks)
def check_c6_loss_rate(rate: float = 1.0) -> Result:
    return _implication("d", rate=rate)


@experiment("C6", statement="(a) ⇒ (b) on every path: wherever (a) has held on [0, t], ‖A(s) − A(0)‖_F ≤ "
            "R(q̄_s) = (2/λ₀)√n·γc_W/(1 − q̄_s)²·‖f(0) − y‖ for s ≤ t (q̄_s = max q up to s; R(γ₀) is the paper's R).",
            controls={"detects_R_over_1000": Planted("Planted: the distance travelled is ≤ R/1000, same paths, same rule.",
                                                     {"R_factor": 1e-3})},
            tasks=_sweep_tasks)
def check_c6_movement(R_factor: float = 1.0) -> Result:
    return _implication("b", R_factor=R_factor)


# ------------------------------------------------------------------- integration accuracy (exp vs Heun)
#: Paths on which exponential Euler is compared with Heun: width m, seed (both γ rules); the sliding
#: measurement at SLIDING_M runs in the thorough profile.
#: (problem, width, seed): the pilot at the sweep's exponential-Euler widths, and one panel data set
#: (θ = 0.6, opposite labels) at the panel ladder's small widths (256, 512), where the flow slides more.
PANEL_ACCURACY_DS = 6
ACCURACY = {"thorough": (("pilot", 1024, 0), ("panel", 256, PANEL_ACCURACY_DS), ("panel", 512, PANEL_ACCURACY_DS),
                         ("panel", 1024, PANEL_ACCURACY_DS)),
            "default": (("pilot", 1024, 0), ("panel", 256, PANEL_ACCURACY_DS))}
SLIDING = {"thorough": True, "default": False}
#: The Heun reference at step safeties h and h/2 (h·λ_max ≤ 1, well inside Heun's stability limit 2).
HEUN_REF = (1.0, 0.5)
#: Where the flow slides most (C9): exp at this width is measured, not used (paths.integrator_for).
SLIDING_M = 256


def _checkpoint_index(s: Summary) -> list[int]:
    t = arr(s, "t")
    return [int(np.argmin(np.abs(t - tc))) for tc in np.linspace(0.0, t[-1], len(s.checkpoint_loss))]


def _at_checkpoints(s: Summary, k: str) -> np.ndarray:
    return arr(s, k)[_checkpoint_index(s)]


def _quantities(s: Summary) -> dict[str, np.ndarray]:
    """Everything the verdicts read from a path, as arrays (vectors compared in norm): the generic
    series and extrema, and the integrator-sensitive scalars of the observers the path carries."""
    out = {"f(t_j)": np.asarray(s.checkpoint_f, float), "λ_min(H(t_j))/λ₀": _at_checkpoints(s, "lam_min") / s.lambda0,
           "‖A(t_j) − A(0)‖_F": _at_checkpoints(s, "dA_fro"), "q(t_j)": _at_checkpoints(s, "q_cert"),
           "min_t λ_min/λ₀": np.array([s.maxima["min_lambda_ratio"]]), "max_t ‖ΔA‖_F": np.array([s.maxima["dA_fro"]]),
           "max_t q": np.array([s.maxima["q_cert"]]), "max_t ‖H(t) − H(0)‖₂": np.array([s.maxima["dH_op"]])}
    for name in sorted(s.observed):
        for label, v in observers.get(name).integrator_sensitive(s.observed[name]).items():
            out[label] = np.array([v])
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


def exp_estimate(x_tau: np.ndarray, x_half: np.ndarray, x_quarter: np.ndarray) -> np.ndarray:
    """The error bar of exponential Euler at τ from its three levels, assuming the asymptotic regime
    (error ∝ h^p) only from τ/2 on: x_τ − x* = d₀ + d₁ + (x_{τ/4} − x*) with d₀ = x_τ − x_{τ/2},
    d₁ = x_{τ/2} − x_{τ/4} and |x_{τ/4} − x*| ≤ FINE·|d₁|, so |x_τ − x*| ≤ |d₀| + COARSE·|d₁|.  In the
    asymptotic regime (|d₁| = 2^{−p}|d₀|) this is COARSE·|d₀|, the one-halving estimate; where the
    halvings are pre-asymptotic at τ (measured on a panel path at m = 512: |d₀| = 0.0002 while
    |d₁| = 0.036 in λ_min(H(t₄))/λ₀, exp − Heun 0.020) it does not rest on the first halving."""
    return _dist(x_tau, x_half) + COARSE * _dist(x_half, x_quarter)


def _adjacent_change(s: Summary, k: str, scale: float) -> np.ndarray:
    """At each checkpoint, the larger change of a recorded quantity to its neighbouring recorded times."""
    a = arr(s, k) / scale
    d = np.abs(np.diff(a))
    return np.array([max(d[i - 1] if i > 0 else 0.0, d[i] if i < d.size else 0.0) for i in _checkpoint_index(s)])


def sampling_resolution(s: Summary, k: str, scale: float) -> float:
    """Largest change of a recorded quantity between consecutive recorded times (in units of
    ``scale``): λ_min(H(t)) and ‖H(t) − H(0)‖₂ jump at every pattern flip, so a path extremum taken
    over the recorded times is known only to this resolution."""
    return float(np.max(np.abs(np.diff(arr(s, k))))) / scale if len(s.path[k]) > 1 else 0.0


#: Planted integrator variants: a wrong step run through the accuracy check's own comparison.
@paths.variant
class _LeftEndpointStep(ExpEuler):
    """Planted: the step's coefficients h·e^{−hH_k}r_k (the left-endpoint exponential rule) instead of
    H_k⁻¹(I − e^{−hH_k})r_k: a consistent first-order scheme, but not exact on the linearised flow, so its
    error at τ = 0.25 is that of the stiff modes, not of the nonlinearity."""

    variant_name = "left_endpoint"

    @staticmethod
    def coefficients(lam, U, rk, h):
        return U @ (h * np.exp(-h * lam) * rk)


@paths.variant
class _ShortStep(ExpEuler):
    """Planted: every step's update 3% short, i.e. a scheme that converges, as τ → 0, to the flow slowed
    down by 3%, not to the flow."""

    variant_name = "short_step"

    @staticmethod
    def coefficients(lam, U, rk, h):
        return 0.97 * ExpEuler.coefficients(lam, U, rk, h)


#: Exponential Euler at τ, τ/2, τ/4 (the sweep's step and two halvings).
EXP_LEVELS = (paths.EXP_TAU, paths.EXP_TAU / 2, paths.EXP_TAU / 4)


def _five(rule: str, m: int, seed: int, step: str = "", problem: str = "pilot") -> list[Summary]:
    """Exponential Euler at the three levels (with a planted step variant if ``step``), Heun at the two
    reference safeties, on one (rule, m, seed)."""
    return paths.summaries([paths.key(rule, m, seed, "exp", tau, variant=step, problem=problem) for tau in EXP_LEVELS] +
                           [paths.key(rule, m, seed, "heun", sf, problem=problem) for sf in HEUN_REF])


def _compare(rule: str, m: int, seed: int, scale: float = 1.0, step: str = "", problem: str = "pilot") -> list[dict]:
    """Rows: per quantity and checkpoint, two tests of exponential Euler against the Heun oracle.

    * *Estimates cover the error*: |x_τ − x_Heun| ≤ E_exp + E_heun, with E_exp = :func:`exp_estimate`
      (λ_min and ΔH quantities add the path's resolution: λ_min jumps at every pattern flip, and the
      extremum between samples is unseen) and E_heun = FINE·|x_h − x_{h/2}|.
    * *Adequacy* (per path): the error of f at τ is below the largest deviation of f from the
      linearised flow, max_t ‖f(t) − ĝ(t)‖ on the τ/4 path: exponential Euler is exact on the
      linearised flow, so its error is a fraction of the nonlinearity it approximates; a step whose
      error is of the size of the whole nonlinearity does not resolve what the claims measure.
    ``scale`` plants estimates too small, ``step`` a planted step (controls)."""
    e1, e2, e3, h1, h2 = _five(rule, m, seed, step, problem)
    Q = [_quantities(s) for s in (e1, e2, e3, h1, h2)]
    # resolution terms (λ_min and ‖ΔH‖ jump at pattern flips): at a checkpoint, the changes to its recorded
    # neighbours; for a path extremum, the unseen dip/peak between recorded times (local_resolution)
    def resolution(s: Summary) -> dict[str, np.ndarray]:
        return {"λ_min(H(t_j))/λ₀": _adjacent_change(s, "lam_min", s.lambda0),
                "min_t λ_min/λ₀": np.array([local_resolution(s)]),
                "max_t ‖H(t) − H(0)‖₂": np.array([sampling_resolution(s, "dH_op", 1.0)])}
    samp = resolution(e1)
    rows = []
    where = f"{problem} {rule} m={m} seed={seed}" + (f" ({step} step)" if step else "")

    def add(name: str, diff, est) -> None:
        for j, (d, e) in enumerate(zip(np.atleast_1d(diff), np.atleast_1d(est))):
            if d == 0 and e == 0:
                continue
            rows.append({"path": where, "quantity": name, "j": j, "exp_vs_heun": float(d),
                         "estimate": float(e), "margin": float(e / d) if d > 0 else float("inf")})

    for name in Q[0]:
        heun_err = FINE * _dist(Q[3][name], Q[4][name])
        est = exp_estimate(Q[0][name], Q[1][name], Q[2][name]) + heun_err + samp.get(name, 0.0)
        add(name, _dist(Q[0][name], Q[4][name]), scale * est)
    # the per-path error bar of f used as slack by check_c6_loss_rate (the accumulated local estimates
    # err_f) must cover the distance to Heun up to Heun's own error
    d_f = _dist(Q[0]["f(t_j)"], Q[4]["f(t_j)"])
    bar = scale * (_at_checkpoints(e1, "err_f") + FINE * _dist(Q[3]["f(t_j)"], Q[4]["f(t_j)"]))
    for j, (d, e) in enumerate(zip(d_f, bar)):
        if d > 0:
            rows.append({"path": where, "quantity": "f(t_j) within err_f (C6 slack)", "j": j,
                         "exp_vs_heun": float(d), "estimate": float(e), "margin": float(e / d)})
    # adequacy: the largest error of f at τ against the largest nonlinearity (up to Heun's own error)
    nonlinear = float(np.max(arr(e3, "lin_dev"))) + float(np.max(FINE * _dist(Q[3]["f(t_j)"], Q[4]["f(t_j)"])))
    add("max_j f error at τ ≤ max_t ‖f − ĝ‖", np.array([float(np.max(d_f))]), np.array([scale * nonlinear]))
    # the per-path C6 conclusions must agree (a verdict flip is a margin 0 whatever the estimates)
    for name, f in (("(a) on the whole path", lambda s: bool(a_holds_prefix(s)[-1])),
                    ("(c) no loss of contraction", lambda s: s.failure is None)):
        same = f(e1) == f(h2)
        rows.append({"path": where, "quantity": name, "j": 0, "exp_vs_heun": 0.0 if same else 1.0,
                     "estimate": 0.0, "margin": float("inf") if same else 0.0})
    return rows


def _accuracy_tasks() -> list[paths.Key]:
    keys = []
    at = list(profiles.pick(ACCURACY)) + ([("pilot", SLIDING_M, 0)] if profiles.pick(SLIDING) else [])
    for problem, m, seed in at:
        for rule in paths.RULES:
            for step in ("",) + tuple(paths.VARIANTS) if m != SLIDING_M or problem != "pilot" else ("",):
                keys += [paths.key(rule, m, seed, "exp", tau, variant=step, problem=problem) for tau in EXP_LEVELS]
            keys += [paths.key(rule, m, seed, "heun", sf, problem=problem) for sf in HEUN_REF]
    return keys


def _accuracy(scale: float = 1.0, step: str = "") -> Result:
    at = profiles.pick(ACCURACY)
    paths.ensure(_accuracy_tasks(), label="C6 integrator accuracy (exp vs Heun)")
    rows = [r for problem, m, seed in at for rule in paths.RULES for r in _compare(rule, m, seed, scale, step, problem)]
    dec = rules.bound_on_every_example([r["margin"] for r in rows])
    worst = rows[dec.worst] if dec.worst is not None else None
    cost = []
    for problem, m, seed in at:
        for rule in paths.RULES:
            e1, _, _, _, h = _five(rule, m, seed, "", problem)
            cost.append({"path": f"{problem} {rule} m={m} seed={seed}", "exp_steps": e1.steps, "heun_steps": h.steps,
                         "solves_exp": e1.steps + 1, "solves_heun": 2 * h.steps + 1,
                         "step_ratio": h.steps / e1.steps})
    # where the flow slides most: measured, not used (paths.integrator_for keeps Heun below EXP_MIN_M)
    sliding = [r for rule in paths.RULES for r in _compare(rule, SLIDING_M, 0, scale)] if profiles.pick(SLIDING) else []
    sl_bad = [r for r in sliding if r["margin"] < 1]
    failing = sorted({r["quantity"].split(":")[0] for r in rows if r["margin"] < 1})
    ev = {"verdict_rule": dec.rule + f" (each quantity: |exp − Heun| ≤ E_exp + E_heun, E_exp = |x_τ − x_τ/2| + {COARSE:.3g}·|x_τ/2 − x_τ/4| "
          f"(+ sampling resolution for λ_min and ΔH), E_heun = {FINE:.3g}·|x_h − x_h/2|: Richardson with order p = {_P:g}; "
          "the largest error of f at τ is below the largest deviation of f from the linearised flow, measured on the τ/4 "
          "path)",
          "decision": dec.numbers, "worst": worst, "cost": cost, "exp_tau": list(EXP_LEVELS),
          "heun_safety": list(HEUN_REF), "failing_tests": failing, "step": step or "exponential Euler",
          "rows": sorted(rows, key=lambda r: r["margin"])[:25],
          "sliding_m256": {"note": f"m = {SLIDING_M} (below EXP_MIN_M = {paths.EXP_MIN_M}, where Heun is used): the flow "
                                   "slides along ReLU switching surfaces on long stretches; exponential Euler is first "
                                   "order there and its halving estimate can understate",
                           "quantities_compared": len(sliding), "estimate_understates": len(sl_bad),
                           "worst": sorted(sliding, key=lambda r: r["margin"])[:8]}}
    cex = None
    if dec.verdict == rules.REFUTED:
        cex = Counterexample(spec={"row": worst}, margin=dec.margin, numbers=worst)
    return Result.of(dec, examples=len(rows), counterexample=cex, evidence=ev)


@experiment("C6", statement="Integrator accuracy (our code): exponential Euler at τ = 0.25 reproduces Heun's f(t_j), "
            "λ_min(H(t_j)), ‖A(t_j) − A(0)‖_F, q(t_j), their path extrema and the C12/C13 path quantities within the sum "
            "of both error estimates (Richardson), has an error of f below the largest deviation of f from the linearised "
            "flow, on the pilot at m = 1024 and on a panel data set at m = 256 (and 512, 1024, thorough), "
            "both γ rules, and gives the same per-path (a) and (c).",
            controls={"detects_understated_estimate": Planted("Planted: the same comparison with error estimates 10× "
                                                              "smaller.", {"scale": 0.1}),
                      "detects_left_endpoint_step": Planted("Planted: a wrong step, the left-endpoint exponential rule "
                                                            "h·e^{−hH}r instead of H⁻¹(I − e^{−hH})r, through the same "
                                                            "comparison.", {"step": "left_endpoint"}),
                      "detects_short_step": Planted("Planted: a wrong step, every update 3% short (a scheme that "
                                                    "converges to another flow), through the same comparison.",
                                                    {"step": "short_step"})},
            tasks=_accuracy_tasks)
def check_c6_integration_accuracy(scale: float = 1.0, step: str = "") -> Result:
    return _accuracy(scale, step)


# ------------------------------------------------------------------- the decision: data fixed, per data set
#: The panel design per profile (docs/claims.md, "Decided as quantified"): ladder, data sets, calibration inits.
#: ``thorough`` has the rung 4096, where the thresholds whose intervals end between 2048 and 4096 can be
#: confirmed: the design of the decide amendment (docs/claims.md), adopted by thorough once the pass kernels
#: (theory.passes) brought a 4096 path from ≈ 17 s to ≈ 11 s (second amendment); ``decide`` inherits it.
PANEL = {"thorough": {"ladder": panel.LADDER + (4096,), "data_sets": panel.WHOLE_PANEL, "inits": 2},
         "default": {"ladder": panel.LADDER[:-1], "data_sets": panel.WHOLE_PANEL, "inits": 2}}
#: The pilot data sets whose predicted thresholds are validated against the sweep (thorough only, and
#: γ₀/(2c) only, the rule of the hardest data set: each costs a λ∞ quadrature).
EXTERNAL = {"thorough": 30, "default": 0}
EXTERNAL_RULES = ("gamma0/2c",)
#: The confirmation designs the prefetch computes ahead: (width factor, (a) threshold) of the check and its
#: two controls.
CONFIRMATION_VARIANTS = ((1.0, 0.5), (1 / 8, 0.5), (1.0, 0.99))


def _panel_plan(rule: str) -> calibration.Plan:
    p = profiles.pick(PANEL)
    return calibration.Plan(rule, "exp", paths.EXP_TAU, p["ladder"], p["data_sets"], p["inits"], delta=paths.DELTA)


def _external_tasks(rule: str) -> list:
    n = profiles.pick(EXTERNAL) if rule in EXTERNAL_RULES else 0
    return [panel.Limit("pilot", seed, rule) for seed in range(n)]


def _panel_tasks(rule: str) -> list:
    return (calibration.staged_tasks(_panel_plan(rule), CONFIRMATION_VARIANTS) + _external_tasks(rule)
            + (paths.sweep_keys((rule,)) if _external_tasks(rule) else []))


def _external(rule: str, f: dict) -> list[dict]:
    """The pilot sweep's random data sets: predicted threshold from their own λ∞ (the larger of the two
    label variants) against the observed (a) ∧ (c) at every sweep width."""
    todo = _external_tasks(rule)
    if not todo:
        return []
    tasks.ensure(todo, label="pilot limits λ∞")
    by = {(s.m, s.seed): s for s in paths.summaries(paths.sweep_keys((rule,)))}
    out = []
    for t in todo:
        lim = tasks.result(t)
        m_star = max(calibration.threshold(np.asarray(f["coef_rho"]), f["point"]["r_q_rho"], lim["lambda_inf"], v)
                     for v in (0.0, 1.0))
        observed = {str(m): ac_holds(s) for (m, seed), s in sorted(by.items()) if seed == t.seed}
        beyond = [m for m, ok in observed.items() if int(m) >= m_star]
        out.append({"seed": t.seed, "lambda_inf": lim["lambda_inf"], "m_star": m_star, "observed": observed,
                    "fails_beyond_m_star": [m for m in beyond if not observed[m]],
                    "passes_below_m_star": [m for m, ok in observed.items() if int(m) < m_star and ok]})
    return out


#: The deterministic implications of the flow, checked on every panel path.
FLOW_IMPLICATIONS = {"(a) ⇒ (d)": lambda sums: _implication_cases(sums, "d"),
                     "(a) ⇒ (b)": lambda sums: _implication_cases(sums, "b")}

_PANEL_CONTROLS = {
    "detects_lambda_099": Planted("Planted: (a) judged at 0.99·λ₀ (false at every width), same panel, same "
                                  "calibration and confirmations, same rule.", {"a_factor": 0.99}),
    "detects_below_threshold": Planted("Planted: the confirmations at the smallest ladder width ≥ m*/8 (below the "
                                       "predicted thresholds), same rule.", {"confirm_factor": 1 / 8})}


@experiment("C6", statement="Theorem 3.1 as quantified, γ = γ₀/(2c): for each data set of a panel with controlled λ∞ "
            "(n = 6, d = 4), (a) ∧ (c) holds with probability ≥ 1 − δ (δ = 0.1) over the initialisation once m ≥ m*(X): "
            "a width law calibrated on a ladder (bootstrap over data sets) predicts each m*, and fresh initialisations "
            "confirm it where it is affordable; the deterministic implications hold on every panel path.",
            controls=_PANEL_CONTROLS, tasks=lambda: _panel_tasks("gamma0/2c"))
def check_c6_theorem_gamma0_2c(a_factor: float = 0.5, confirm_factor: float = 1.0) -> Result:
    return calibration.decide(_panel_plan("gamma0/2c"), FLOW_IMPLICATIONS, a_factor, confirm_factor,
                          external=lambda f: _external("gamma0/2c", f))


@experiment("C6", statement="The same for γ = γ₀/c (the paper's rule).", controls=_PANEL_CONTROLS,
            tasks=lambda: _panel_tasks("gamma0/c"))
def check_c6_theorem_gamma0_c(a_factor: float = 0.5, confirm_factor: float = 1.0) -> Result:
    return calibration.decide(_panel_plan("gamma0/c"), FLOW_IMPLICATIONS, a_factor, confirm_factor,
                          external=lambda f: _external("gamma0/c", f))


# ------------------------------------------------------------------- λ∞ is linear in θ
def _exponent_tasks() -> list:
    return [panel.Limit("theta", i, "gamma0/2c") for i in range(len(panel.SMALL_THETAS))]


@experiment("C6", statement="Side finding: λ∞ of the panel is linear in the pair's angle θ (the ReLU kink of Ė): the "
            "local exponents d log λ∞/d log θ on θ = 0.1/2^k, Richardson-extrapolated to θ = 0, lie within the size of "
            "the first-order term of 1.",
            controls={"detects_quadratic": Planted("Planted: λ∞ ∝ θ² (the degree-1 arc-cosine kernel's exponent), "
                                                   "same angles, same rule.", {"claimed": 2.0})},
            tasks=_exponent_tasks, finding=True)
def check_c6_panel_lambda_linear_in_theta(claimed: float = 1.0) -> Result:
    todo = _exponent_tasks()
    tasks.ensure(todo, label="λ∞ on small angles")
    lam = [tasks.result(t)["lambda_inf"] for t in todo]
    th = panel.SMALL_THETAS
    s = [math.log(lam[i] / lam[i + 1]) / math.log(th[i] / th[i + 1]) for i in range(len(th) - 1)]  # s[-1]: smallest θ
    s1, s2 = s[-1], s[-2]
    s0 = 2 * s1 - s2
    # λ∞'s relative error ≤ ‖H∞(64 nodes) − H∞(32 nodes)‖₂/λ∞ (Weyl; an upper estimate for the finer rule); a
    # local exponent carries the errors of its two λ∞ over ln 2, and s₀ = 2s₁ − s₂ twice s₁'s plus s₂'s
    rel = [tasks.result(t)["lambda_error"] / v for t, v in zip(todo, lam)]
    ds = [(rel[i] + rel[i + 1]) / math.log(2) for i in range(len(rel) - 1)]
    allowed = abs(s1 - s2) + 2 * ds[-1] + ds[-2]
    dec = rules.bound_on_every_example([allowed / abs(s0 - claimed) if s0 != claimed else math.inf])
    return Result.of(dec, examples=len(lam), evidence={
        "verdict_rule": dec.rule, "thetas": list(th), "lambda_inf": lam, "local_exponents_large_to_small_theta": s,
        "extrapolated_exponent": s0, "claimed": claimed, "allowed": allowed, "derivation": 1.0})
