"""Calibrating a width law on the panel and confirming it on fresh initialisations.

A claim of the form "for a data set X with λ₀ > 0, with probability ≥ 1 − δ over the initialisation,
(a) ∧ (c) holds once m ≥ m*(X)" is decided on the panel (:mod:`checks.model.panel`) in two stages
(docs/claims.md, the theorem's section):

1. **Calibration**: trajectories for every (data set, ladder width, calibration init); on each, the
   deficit 1 − min_t λ_min(H(t))/λ₀, ρ = max_t ‖H(t) − H(0)‖₂/λ₀ and the deficit's first-order part;
   least squares of log deficit and log ρ on (1, log m, log λ∞, label variant), with a bootstrap
   over data sets; from the deficit fit and its residuals' 1 − δ quantile, each data set's predicted
   threshold m*(X) and the exponent κ of m* ∝ λ∞^{−κ}.
2. **Confirmation**: for every data set whose threshold lies inside the ladder, ρ ≤ ½ together with
   (a) ∧ (c) over fresh initialisations at the smallest ladder width at or above the upper end of
   its interval, read sequentially and curtailed (``rules.curtailed_confirmation``).

Which trajectories stage 2 needs depends on stage 1's results: :func:`tasks` returns the keys known
so far (stage 1, then each confirmation batch once the previous one is cached), and the prefetch
repeats until nothing new appears (``conftest.py``).
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass

import numpy as np

from ..engine import rules, tasks
from ..engine.stats import (
    CONF,
    cluster_bootstrap,
    cluster_robust_term,
    cp_lower_one_sided,
    cp_upper_one_sided,
    ols,
    percentile_interval,
    slope_ci,
)
from ..engine.verdict import Result
from . import panel, paths
from .predicates import a_holds_prefix

#: Deficits below this (a path whose λ_min hardly dips) enter the log-fit at this floor (counted).
DEFICIT_FLOOR = 1e-4
#: Bootstrap replicates and their seed.
REPLICATES, BOOTSTRAP_SEED = 2000, 2109


@dataclass(frozen=True)
class Plan:
    """A panel design: γ rule, integrator (method and step), ladder, data sets, initialisations, and
    the confirmation design (trials, batch, target 1 − δ)."""

    rule: str
    method: str
    step: float
    ladder: tuple[int, ...]
    data_sets: tuple[int, ...]
    inits: int
    confirm_n: int = 29
    batch: int = 10
    delta: float = 0.1

    @property
    def target(self) -> float:
        return 1 - self.delta


def key(plan: Plan, ds: int, m: int, init: int) -> paths.Key:
    return paths.key(plan.rule, m, ds, plan.method, plan.step, init=init, problem="panel")


def calibration_keys(plan: Plan) -> list[paths.Key]:
    return [key(plan, ds, m, j) for ds in plan.data_sets for m in plan.ladder for j in range(plan.inits)]


def limit_tasks(plan: Plan) -> list[panel.Limit]:
    return [panel.Limit("panel", ds, plan.rule) for ds in plan.data_sets]


def limits(plan: Plan) -> dict[int, dict]:
    todo = limit_tasks(plan)
    tasks.ensure(todo, label="panel limits λ∞")
    return {t.seed: tasks.result(t) for t in todo}


def measure(s: paths.Summary, a_factor: float = 0.5) -> dict:
    """The per-path quantities of the calibration (module docstring)."""
    lam = np.asarray(s.path["lam_min"], float)
    shift = np.asarray(s.path["bottom_shift"], float)
    rho = float(s.maxima["dH_op"] / s.lambda0)
    holds = bool(a_holds_prefix(s, a_factor)[-1]) and s.failure is None
    return {"deficit": float(1.0 - lam.min() / s.lambda0), "rho": rho,
            "first_order": float(np.max(-shift) / s.lambda0), "lambda0": s.lambda0, "holds": holds,
            # what a confirmation counts: the proof's route (ρ ≤ ½, which gives (a) by Weyl) and (a) ∧ (c) itself
            "confirms": holds and rho <= 0.5}


def _design(rows: list[dict]) -> np.ndarray:
    return np.array([[1.0, math.log(r["m"]), math.log(r["lambda_inf"]), r["variant"]] for r in rows])


def threshold(coef: np.ndarray, r_q: float, lam: float, variant: float) -> float:
    """The width where a fitted log-quantity (coefficients on 1, log m, log λ∞, variant) plus its
    residuals' 1 − δ quantile reaches log ½ (∞ where it does not fall with m)."""
    a, b, c, d = coef
    if not b < 0:
        return math.inf
    return float(math.exp(min((math.log(0.5) - r_q - a - c * math.log(lam) - d * variant) / b, 700.0)))


#: Fits already computed in this process, by (plan, rows, external) in canonical JSON: the prefetch asks
#: for a plan's thresholds at every stage and for every control, and the checks ask again; the fit is a
#: deterministic function of its arguments (the bootstrap is seeded), so each is computed once.
_FITS: dict[tuple, dict] = {}


def fit(plan: Plan, rows: list[dict], external: dict[str, tuple[float, float]] | None = None) -> dict:
    """:func:`compute_fit`, computed once per process for equal arguments (a deep copy is returned, so a
    caller cannot alter another's)."""
    k = (plan, json.dumps(rows, sort_keys=True), json.dumps(external, sort_keys=True))
    if k not in _FITS:
        _FITS[k] = compute_fit(plan, rows, external)
    return copy.deepcopy(_FITS[k])


def compute_fit(plan: Plan, rows: list[dict], external: dict[str, tuple[float, float]] | None = None) -> dict:
    """The calibration: OLS of log ρ and of log deficit on (1, log m, log λ∞, variant) over ``rows``
    (one per path, with "ds", "m", "lambda_inf", "variant", "deficit", "rho"), a bootstrap over data
    sets, and from each fit the predicted thresholds of every panel data set and of ``external``
    ({name: (λ∞, variant)}): the width where the fitted quantity's 1 − δ quantile reaches ½ ("m*:" from
    ρ, the proof's Weyl route, ρ ≤ ½ ⇒ (a); "m*deficit:" from the deficit itself); κ of each
    (m* ∝ λ∞^{−κ}); ρ's width exponent; the curvature and interaction tests."""
    X = _design(rows)
    y_def = np.log(np.maximum([r["deficit"] for r in rows], DEFICIT_FLOOR))
    y_rho = np.log([r["rho"] for r in rows])
    clusters = np.array([r["ds"] for r in rows])
    q = plan.target
    lam_of = {r["ds"]: (r["lambda_inf"], r["variant"]) for r in rows}
    points = dict(lam_of, **(external or {}))

    def stat(idx: np.ndarray) -> dict:
        d, p = ols(y_def[idx], X[idx]), ols(y_rho[idx], X[idx])
        rq_d, rq_p = float(np.quantile(d["resid"], q)), float(np.quantile(p["resid"], q))
        out = {"b": d["coef"][1], "c": d["coef"][2], "d": d["coef"][3], "r_q": rq_d,
               "kappa_deficit": d["coef"][2] / d["coef"][1] if d["coef"][1] != 0 else math.nan,
               "beta_rho": -p["coef"][1], "c_rho": p["coef"][2], "d_rho": p["coef"][3], "r_q_rho": rq_p,
               "kappa": p["coef"][2] / p["coef"][1] if p["coef"][1] != 0 else math.nan,
               "resid_sd": float(np.std(d["resid"], ddof=X.shape[1])),
               "resid_sd_rho": float(np.std(p["resid"], ddof=X.shape[1]))}
        for name, (lam, var) in points.items():
            out[f"m*:{name}"] = threshold(p["coef"], rq_p, lam, var)
            out[f"m*deficit:{name}"] = threshold(d["coef"], rq_d, lam, var)
        return out

    point = stat(np.arange(len(rows)))
    reps = cluster_bootstrap(stat, clusters, replicates=REPLICATES, seed=BOOTSTRAP_SEED)
    interval = {k: percentile_interval([r[k] for r in reps], CONF) for k in point}
    extra = {"curvature": np.log([r["m"] for r in rows]) ** 2,
             "interaction": np.log([r["m"] for r in rows]) * np.log([r["lambda_inf"] for r in rows])}
    tests = {}
    for name, col in extra.items():  # a curvature needs three widths to be told from a slope
        tests[name] = {which: (cluster_robust_term(yv, np.column_stack([X, col]), clusters, X.shape[1])
                               if len(set(r["m"] for r in rows)) >= 3 else
                               {"coef": math.nan, "se": math.nan, "p": math.nan})
                       for which, yv in (("deficit", y_def), ("rho", y_rho))}
    # does the threshold follow the label complexity yᵀH∞⁻¹y rather than 1/λ∞? log ρ on (1, log m, log λ∞,
    # variant) against (1, log m, log yᵀH∞⁻¹y) and against both: residual spread (ddof = parameters)
    lm = np.log([r["m"] for r in rows])
    lb = np.log([r["label_complexity"] for r in rows]) if all("label_complexity" in r for r in rows) else None
    models = {"log λ∞ + variant": X}
    if lb is not None:
        models["log yᵀH∞⁻¹y"] = np.column_stack([np.ones(len(rows)), lm, lb])
        models["both"] = np.column_stack([X, lb])
    complexity = {}
    for name, Xm in models.items():
        o = ols(y_rho, Xm)
        complexity[name] = {"coef": [float(v) for v in o["coef"]],
                            "residual_sd": float(np.sqrt(o["resid"] @ o["resid"] / (len(rows) - Xm.shape[1])))}
    floored = int(np.sum(np.array([r["deficit"] for r in rows]) < DEFICIT_FLOOR))
    fo = np.array([r["first_order"] / r["deficit"] for r in rows if r["deficit"] > DEFICIT_FLOOR])
    return {"point": point, "interval": interval, "tests": tests, "floored": floored, "paths": len(rows),
            "data_sets": int(np.unique(clusters).size), "replicates": REPLICATES,
            "coef_deficit": [float(v) for v in ols(y_def, X)["coef"]],
            "coef_rho": [float(v) for v in ols(y_rho, X)["coef"]], "label_complexity_models": complexity,
            "first_order_over_deficit": {"median": float(np.median(fo)), "p10": float(np.quantile(fo, 0.1)),
                                         "p90": float(np.quantile(fo, 0.9))}}


def thresholds(plan: Plan, f: dict) -> list[dict]:
    """Every panel data set's predicted threshold with its interval."""
    out = []
    for ds in plan.data_sets:
        k, kd = f"m*:{ds}", f"m*deficit:{ds}"
        out.append({"ds": ds, "data_set": panel.DATA_SETS[ds].name, "m_star": f["point"][k],
                    "m_star_lo": f["interval"][k][0], "m_star_hi": f["interval"][k][1],
                    "m_star_from_deficit": f["point"][kd], "m_star_from_deficit_ci95": list(f["interval"][kd])})
    return out


def confirmations_planned(plan: Plan, f: dict, factor: float = 1.0) -> list[dict]:
    """The reachable confirmations: data sets whose threshold lies inside the ladder (point above its
    smallest width, upper end at most its top width), each at the smallest ladder width at or above
    ``factor`` × the upper end (factor 1: the design; 1/8: a control below the thresholds)."""
    out = []
    for t in thresholds(plan, f):
        if not (t["m_star"] > plan.ladder[0] and t["m_star_hi"] <= plan.ladder[-1]):
            continue
        width = next((w for w in plan.ladder if w >= factor * t["m_star_hi"]), plan.ladder[-1])
        out.append(dict(t, width=width))
    return out


def confirmation_status(plan: Plan, conf: dict, a_factor: float = 0.5) -> dict:
    """Read a confirmation's cached initialisations in order, curtailed; the keys of its next batch."""
    outcomes = []
    for j in range(plan.confirm_n):
        k = key(plan, conf["ds"], conf["width"], panel.CONFIRMATION_INIT + j)
        if not tasks.cached(k) and not tasks.cache_disabled():
            break
        outcomes.append(measure(paths.summary(k), a_factor)["confirms"])
    status = rules.curtailed_confirmation(outcomes, plan.confirm_n, plan.target)
    nxt = []
    if status["decision"] == rules.CONTINUE:
        start = status["used"]
        nxt = [key(plan, conf["ds"], conf["width"], panel.CONFIRMATION_INIT + j)
               for j in range(start, min(start + plan.batch, plan.confirm_n))]
    lo, hi = (cp_lower_one_sided(status["successes"], status["used"]),
              cp_upper_one_sided(status["successes"], status["used"])) if status["used"] else (0.0, 1.0)
    return dict(conf, **status, next=nxt, cp_lower=lo, cp_upper=hi, target=plan.target)


def calibration_rows(plan: Plan, a_factor: float = 0.5) -> list[dict]:
    lim = limits(plan)
    rows = []
    for k, s in zip(calibration_keys(plan), paths.summaries(calibration_keys(plan))):
        ds = panel.DATA_SETS[k.seed]
        rows.append({"ds": k.seed, "data_set": ds.name, "m": k.m, "init": k.init,
                     "lambda_inf": lim[k.seed]["lambda_inf"], "label_complexity": lim[k.seed]["label_complexity"],
                     "variant": 1.0 if ds.labels == "equal" else 0.0, **measure(s, a_factor)})
    return rows


def staged_tasks(plan: Plan, variants: tuple[tuple[float, float], ...]) -> list:
    """The tasks known so far for ``plan``: the limits and the calibration; once those are cached, the
    next batch of every confirmation of every (factor, a_factor) in ``variants``."""
    keys = list(limit_tasks(plan)) + calibration_keys(plan)
    if tasks.cache_disabled() or not all(tasks.cached(k) for k in keys):
        return keys
    f = fit(plan, calibration_rows(plan))
    for factor, a_factor in variants:
        for conf in confirmations_planned(plan, f, factor):
            keys += confirmation_status(plan, conf, a_factor)["next"]
    return keys


def run_confirmations(plan: Plan, f: dict, factor: float, a_factor: float) -> list[dict]:
    """Every reachable confirmation to its decision (computing batches on the executor as needed)."""
    out = []
    for conf in confirmations_planned(plan, f, factor):
        while True:
            st = confirmation_status(plan, conf, a_factor)
            if not st["next"]:
                break
            paths.ensure(st["next"], label="panel confirmations")
        out.append({k: v for k, v in st.items() if k != "next"})
    return out


def _collapse_figure(rule: str, rows: list[dict], confs: list[dict], kappa: float) -> dict:
    """P[(a) ∧ (c)] per (data set, width) against m·λ∞^κ: one curve if the law is right."""
    # usable: finite, positive (m·λ∞^κ must grow as λ∞ does), and λ∞^κ representable (exp(−700) is near
    # the smallest normal double); otherwise the proof's κ = 4 stands in, and the title says so
    worst = max((abs(math.log(r["lambda_inf"])) for r in rows), default=0.0)
    usable = math.isfinite(kappa) and kappa > 0 and kappa * worst < 700
    which = "fitted" if usable else "the proof's: no usable fit"
    kappa = kappa if usable else 4.0
    cells: dict = {}
    for r in rows:
        c = cells.setdefault((r["ds"], r["m"]), {"n": 0, "k": 0, "lam": r["lambda_inf"], "variant": r["variant"]})
        c["n"] += 1
        c["k"] += r["holds"]
    series = []
    for variant, label in ((0.0, "opposite labels"), (1.0, "equal labels")):
        pts = sorted((m * c["lam"] ** kappa, c["k"] / c["n"]) for (ds, m), c in cells.items() if c["variant"] == variant)
        series.append({"label": f"calibration, {label}", "x": [x for x, _ in pts], "y": [y for _, y in pts], "style": "o"})
    cp = [(c["width"] * c["lambda_inf"] ** kappa, c["successes"] / max(c["used"], 1)) for c in confs if "lambda_inf" in c]
    if cp:
        series.append({"label": "confirmations (fresh inits)", "x": [x for x, _ in cp], "y": [y for _, y in cp],
                       "style": "ks"})
    return {"title": f"P[(a) ∧ (c)] against m·λ∞^κ (κ = {kappa:.2f}, {which}), γ rule {rule}", "xlabel": "m·λ∞^κ",
            "ylabel": "fraction holding", "logx": True, "series": series}


def _calibration_figure(rule: str, rows: list[dict], f: dict) -> dict:
    """log deficit against log m per data set, with the fitted law."""
    a, b, c, d = f["coef_deficit"]
    series = []
    for ds in sorted({r["ds"] for r in rows}):
        sel = [r for r in rows if r["ds"] == ds]
        ms = sorted({r["m"] for r in sel})
        series.append({"label": sel[0]["data_set"], "x": [r["m"] for r in sel],
                       "y": [max(r["deficit"], DEFICIT_FLOOR) for r in sel], "style": "o"})
        lam, var = sel[0]["lambda_inf"], sel[0]["variant"]
        series.append({"label": "", "x": ms, "y": [float(np.exp(a + b * np.log(m) + c * np.log(lam) + d * var)) for m in ms],
                       "style": "k-"})
    series.append({"label": "(a) needs ≤ ½", "x": [rows[0]["m"], max(r["m"] for r in rows)], "y": [0.5, 0.5],
                   "style": "r--"})
    return {"title": f"deficit 1 − min λ_min/λ₀ against m, panel, γ rule {rule} (lines: the fit)", "xlabel": "width m",
            "ylabel": "deficit", "logx": True, "logy": True, "series": series}


def _top_half(plan: Plan) -> tuple[int, ...]:
    return plan.ladder[len(plan.ladder) // 2:]


def decide(plan: Plan, implications: dict, a_factor: float, confirm_factor: float,
                   external=None) -> Result:
    """The panel rule (rules.panel_theorem) for one plan: calibration, thresholds, confirmations (judged
    at ``a_factor``·λ₀, at ``confirm_factor`` × the thresholds' upper ends), the ``implications``
    ({name: paths → cases for rules.implication_along_paths}) on every calibration path, and the
    evidence the report shows (fit, threshold table, confirmations, figures; ``external(fit)`` adds
    rows for data sets outside the panel)."""
    rows = calibration_rows(plan, a_factor)
    f = fit(plan, calibration_rows(plan, 0.5))
    lim = {r["ds"]: r["lambda_inf"] for r in rows}
    confs = [dict(c, lambda_inf=lim[c["ds"]]) for c in run_confirmations(plan, f, confirm_factor, a_factor)]
    sums = paths.summaries(calibration_keys(plan))
    imp = {name: rules.implication_along_paths(cases(sums)) for name, cases in implications.items()}
    imp_ok = all(d.verdict != rules.REFUTED for d in imp.values())
    top = _top_half(plan)
    by_m = {m: [r for r in rows if r["m"] == m] for m in plan.ladder}
    trend = rules.cochran_armitage([sum(not r["holds"] for r in by_m[m]) for m in top], [len(by_m[m]) for m in top],
                                   [math.log2(m) for m in top])
    sel = [r for r in rows if r["m"] in top]
    rho_top = slope_ci([r["m"] for r in sel], [r["rho"] for r in sel], groups=[r["ds"] for r in sel])
    beta = {"slope": f["point"]["beta_rho"], "lo": f["interval"]["beta_rho"][0], "hi": f["interval"]["beta_rho"][1]}
    dec = rules.panel_theorem(implications_ok=imp_ok, implication_margin=min(d.margin for d in imp.values()),
                              rho_exponent=beta, failure_trend=trend, rho_top_slope=rho_top, confirmations=confs,
                              ladder_min=plan.ladder[0], ladder_max=plan.ladder[-1])
    P, I = f["point"], f["interval"]
    kappa = P["kappa"]
    table = [dict(t, calibration_holds=f"{sum(r['holds'] for r in rows if r['ds'] == t['ds'])}/"
                                       f"{sum(1 for r in rows if r['ds'] == t['ds'])}",
                  lambda_inf=lim[t["ds"]])
             for t in thresholds(plan, f)]
    ev = {"verdict_rule": dec.rule, "decision": dec.numbers, "plan": {"rule": plan.rule, "method": plan.method,
          "step": plan.step, "ladder": list(plan.ladder), "data_sets": len(plan.data_sets), "inits": plan.inits,
          "a_threshold": f"{a_factor:g}·λ₀", "confirmation_width_factor": confirm_factor},
          "fit": {"deficit": {"coef [1, log m, log λ∞, equal labels]": f["coef_deficit"], "residual_q": P["r_q"],
                              "residual_sd": P["resid_sd"], "floored": f["floored"],
                              "width_exponent": {"point": -P["b"], "ci95": [-I["b"][1], -I["b"][0]]},
                              "first_order_over_deficit": f["first_order_over_deficit"]},
                  "rho": {"coef [1, log m, log λ∞, equal labels]": f["coef_rho"], "residual_q": P["r_q_rho"],
                          "residual_sd": P["resid_sd_rho"]},
                  "kappa": {"point": kappa, "ci95": list(I["kappa"]), "proof": 4.0,
                            "from": "ρ's fit: the width where P(ρ ≤ ½) ≥ 1 − δ (Weyl: ρ ≤ ½ ⇒ (a))"},
                  "kappa_deficit": {"point": P["kappa_deficit"], "ci95": list(I["kappa_deficit"]), "proof": 4.0},
                  "rho_width_exponent": {"point": P["beta_rho"], "ci95": list(I["beta_rho"]), "proof": 0.5},
                  "label_variant_effect": {"on log ρ": {"point": P["d_rho"], "ci95": list(I["d_rho"])},
                                           "on log deficit": {"point": P["d"], "ci95": list(I["d"])}},
                  "curvature_and_interaction": f["tests"], "label_complexity_models": f["label_complexity_models"],
                  "paths": f["paths"], "data_sets": f["data_sets"],
                  "bootstrap_replicates": f["replicates"]},
          "thresholds": table, "confirmations": confs,
          "implications": {w: {"verdict": d.verdict, "margin": d.margin, **d.numbers} for w, d in imp.items()},
          "failure_trend_top_widths": {"widths": list(top), **trend}, "rho_slope_top_widths": rho_top,
          "figures": {"calibration": _calibration_figure(plan.rule, rows, f),
                      "collapse": _collapse_figure(plan.rule, rows, confs, kappa)}}
    if external is not None:
        ev["external_validation"] = external(f)
    ev["tables"] = _tables(f, table, confs, ev.get("external_validation"))
    return Result.of(dec, examples=len(rows) + sum(c["used"] for c in confs), evidence=ev)


def _tables(f: dict, thresholds_: list[dict], confs: list[dict], external: list[dict] | None) -> dict:
    """The report's tables: the width law, the thresholds, the confirmations, the external validation."""
    P, I, T = f["point"], f["interval"], f["tests"]
    law = [{"quantity": "κ, m* ∝ λ∞^−κ (ρ's fit)", "point": P["kappa"], "95% interval": list(I["kappa"]), "proof": 4.0},
           {"quantity": "ρ's width exponent β, ρ ∝ m^−β", "point": P["beta_rho"], "95% interval": list(I["beta_rho"]),
            "proof": 0.5},
           {"quantity": "ρ's λ∞ exponent", "point": -P["c_rho"], "95% interval": [-I["c_rho"][1], -I["c_rho"][0]],
            "proof": 2.0},
           {"quantity": "equal vs opposite labels, on log ρ", "point": P["d_rho"], "95% interval": list(I["d_rho"]),
            "proof": None},
           {"quantity": "deficit's width exponent", "point": -P["b"], "95% interval": [-I["b"][1], -I["b"][0]],
            "proof": 0.5},
           {"quantity": "curvature (log m)² in log ρ: p", "point": T["curvature"]["rho"]["p"], "95% interval": None,
            "proof": None},
           {"quantity": "interaction log m·log λ∞ in log ρ: p", "point": T["interaction"]["rho"]["p"],
            "95% interval": None, "proof": None}]
    for name, mod in f["label_complexity_models"].items():
        law.append({"quantity": f"residual sd of log ρ on log m + {name}", "point": mod["residual_sd"],
                    "95% interval": None, "proof": None})
    by_ds = {c["ds"]: c for c in confs}
    thr = [{"data set": t["data_set"], "λ∞": t["lambda_inf"], "m* (ρ ≤ ½ w.p. ≥ 1 − δ)": t["m_star"],
            "95% interval": [t["m_star_lo"], t["m_star_hi"]], "(a) ∧ (c) in calibration": t["calibration_holds"],
            "confirmation": (f"{by_ds[t['ds']]['decision']} at m = {by_ds[t['ds']]['width']} "
                             f"({by_ds[t['ds']]['successes']}/{by_ds[t['ds']]['used']})") if t["ds"] in by_ds else "—"}
           for t in thresholds_]
    conf = [{"data set": c["data_set"], "m*": c["m_star"], "upper end": c["m_star_hi"], "width": c["width"],
             "holds": f"{c['successes']}/{c['used']} of {c['planned']}", "CP lower": c["cp_lower"],
             "CP upper": c["cp_upper"], "decision": c["decision"]} for c in confs]
    ext = [{"seed": e["seed"], "λ∞": e["lambda_inf"], "predicted m*": e["m_star"],
            "observed (a) ∧ (c) by width": ", ".join(f"{m}: {'✓' if ok else '✗'}" for m, ok in e["observed"].items()),
            "fails at m ≥ m*": e["fails_beyond_m_star"]} for e in (external or [])]
    return {"the width law": law, "predicted thresholds": thr, "confirmations on fresh initialisations": conf,
            "external validation: the sweep's random data sets": ext}
