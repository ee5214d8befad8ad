"""Verdict rules: the only places where evidence becomes VERIFIED / REFUTED / INCONCLUSIVE / VACUOUS.

Every rule returns a :class:`Decision`.  **Margin means one thing everywhere: the statement holds
on the evidence iff margin ≥ 1** (a slack ratio allowed/observed for bounds, a confidence bound
over its target for frequencies, a slope gap + 1 for rates).  Each rule can reach every outcome it
names; ``checks/test_rules.py`` drives each one to each outcome on synthetic evidence.

* :func:`bound_on_every_example`  – a deterministic bound, checked on every example / path point.
* :func:`frequency`               – "with probability ≥ 1 − δ": one-sided Clopper–Pearson bounds.
* :func:`frequency_bound`         – a bound that holds with probability ≥ 1 − δ per run (or VACUOUS).
* :func:`correlation`             – "x tracks y": a rank correlation with its interval.
* :func:`frequency_for_large_m`   – "w.p. ≥ 1 − δ for m large enough": decision widths + trend.
* :func:`slope_below`             – "→ 0" / "at rate m^p": a fitted log-log slope with its interval.
* :func:`implication_along_paths` – "wherever H held on [0, t], C holds on [0, t]".
* :func:`converges_under_refinement` – "the residual vanishes as the step shrinks" (Richardson).

VACUOUS: the statement cannot be violated on the examples drawn (e.g. the bound exceeds the
quantity's whole range, or the hypothesis of an implication never held): no evidence either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import stats

from .margins import no_nan as _finite
from .stats import CONF, cp_lower_one_sided, cp_upper_one_sided, slope_ci
from .verdict import INCONCLUSIVE, OUTCOMES, REFUTED, VACUOUS, VERIFIED, Decision

__all__ = ["Decision", "VERIFIED", "REFUTED", "INCONCLUSIVE", "VACUOUS", "OUTCOMES", "bound_on_every_example",
           "frequency", "cochran_armitage", "frequency_for_large_m", "frequency_bound", "correlation", "slope_below",
           "implication_along_paths", "refinement_margin", "converges_under_refinement", "MIN_ORDER",
           "converges_at_predicted_rate", "PREDICTED_RATE", "MIN_TRACKING_RHO", "curtailed_confirmation",
           "panel_theorem", "PASS", "FAIL", "UNDECIDED", "CONTINUE"]


# --------------------------------------------------------------------------- bounds
def bound_on_every_example(margins: Sequence[float], *, range_margins: Sequence[float] | None = None) -> Decision:
    """A bound that must hold on every example: margin_i = allowed_i/observed_i.

    VERIFIED if every margin ≥ 1; REFUTED otherwise (the worst example decides).  VACUOUS if the
    bound could not have failed: ``range_margins`` gives, per example, allowed_i over the largest
    value the quantity can take at all (e.g. a ramp loss ≤ 1); if every one is ≥ 1 the bound
    exceeds the quantity's range everywhere and its holding says nothing."""
    m = np.asarray(margins, float)
    _finite("bound_on_every_example", m)
    if m.size == 0:
        return Decision(INCONCLUSIVE, math.nan, "no example: nothing checked", {"examples": 0})
    worst = int(np.argmin(m))
    nums = {"examples": int(m.size), "worst_margin": float(m[worst]), "violations": int(np.sum(m < 1))}
    rule = "bound on every example: VERIFIED iff allowed/observed ≥ 1 everywhere"
    if m[worst] < 1:
        return Decision(REFUTED, float(m[worst]), rule, nums, worst)
    if range_margins is not None:
        rm = np.asarray(range_margins, float)
        _finite("bound_on_every_example(range)", rm)
        nums["range_margin_min"] = float(rm.min())
        if np.all(rm >= 1):
            return Decision(VACUOUS, float(m[worst]), rule + "; VACUOUS when the bound exceeds the quantity's whole "
                            "range on every example", nums, worst)
    return Decision(VERIFIED, float(m[worst]), rule, nums, worst)


# --------------------------------------------------------------------------- frequencies
def frequency(k: int, n: int, target: float, conf: float = CONF) -> Decision:
    """"P(holds) ≥ target" from k successes in n independent trials: VERIFIED if the one-sided
    lower Clopper–Pearson bound ≥ target, REFUTED if the one-sided upper bound < target,
    INCONCLUSIVE otherwise.  Margin: lower bound / target."""
    if n <= 0:
        return Decision(INCONCLUSIVE, math.nan, "no trial", {"k": k, "n": n})
    lo, hi = cp_lower_one_sided(k, n, conf), cp_upper_one_sided(k, n, conf)
    nums = {"k": int(k), "n": int(n), "cp_lower": lo, "cp_upper": hi, "target": target, "conf": conf}
    rule = f"one-sided {conf:.0%} Clopper–Pearson: VERIFIED if lower ≥ {target:g}, REFUTED if upper < {target:g}"
    verdict = VERIFIED if lo >= target else REFUTED if hi < target else INCONCLUSIVE
    return Decision(verdict, lo / target, rule, nums)


def cochran_armitage(fails: Sequence[int], totals: Sequence[int], scores: Sequence[float]) -> dict:
    """Cochran–Armitage test for a linear trend of a proportion across ordered groups: the
    z statistic and one-sided p-values for a rising and a falling trend (z = 0 when every group
    has the same all-or-nothing outcome: no variance, no trend)."""
    x, n, s = (np.asarray(v, float) for v in (fails, totals, scores))
    N, X = n.sum(), x.sum()
    p = X / N
    sbar = float(n @ s / N)
    T = float(x @ (s - sbar))
    var = p * (1 - p) * float(n @ (s - sbar) ** 2)
    z = T / math.sqrt(var) if var > 0 else 0.0
    return {"z": z, "p_rising": float(stats.norm.sf(z)), "p_falling": float(stats.norm.cdf(z))}


def frequency_for_large_m(rows: Sequence[dict], decision: Sequence[int], target: float,
                          conf: float = CONF) -> Decision:
    """"With probability ≥ target for m large enough" over a width sweep.

    ``rows``: [{"m", "holds", "n"}] per width, optionally with "uncertain_holds" / "uncertain_fails":
    paths whose outcome lies within their numerical error of the threshold.  These count against
    the claim when verifying and for it when refuting.  Pooled over the ``decision`` widths (fixed
    in advance per profile) the success count has one-sided Clopper–Pearson bounds [lo, hi]; the
    failure frequency's trend over the whole sweep is a one-sided Cochran–Armitage test in log₂ m
    at level 1 − conf.
      VERIFIED      lo ≥ target (uncertain successes counted as failures).
      REFUTED       not verified, and either the failure frequency rises significantly with m
                    (widening makes it worse: contradicts "m large enough"), or hi < target at
                    the decision widths (uncertain failures counted as successes) while the
                    failures do not fall significantly with m (false at the widths the theorem is
                    about, with no sign of recovery).
      INCONCLUSIVE  otherwise (e.g. failures fall with m but the decision widths are not yet
                    clean enough): the numbers say how far.
    Margin: lo / target."""
    by_m = {int(r["m"]): r for r in rows}
    missing = [m for m in decision if m not in by_m]
    if missing:
        raise ValueError(f"decision widths {missing} are not in the sweep")
    N = sum(int(by_m[m]["n"]) for m in decision)
    K = sum(int(by_m[m]["holds"]) for m in decision)
    K_lo = K - sum(int(by_m[m].get("uncertain_holds", 0)) for m in decision)
    K_hi = K + sum(int(by_m[m].get("uncertain_fails", 0)) for m in decision)
    lo, hi = cp_lower_one_sided(K_lo, N, conf), cp_upper_one_sided(K_hi, N, conf)
    alpha = 1 - conf
    ordered = sorted(rows, key=lambda r: r["m"])
    trend = cochran_armitage([r["n"] - r["holds"] for r in ordered], [r["n"] for r in ordered],
                             [math.log2(r["m"]) for r in ordered])
    rising, falling = trend["p_rising"] < alpha, trend["p_falling"] < alpha
    nums = {"k": K, "n": N, "k_counting_uncertain_as_failures": K_lo, "k_counting_uncertain_as_successes": K_hi,
            "cp_lower": lo, "cp_upper": hi, "target": target, "conf": conf, "decision_widths": list(decision),
            "trend": trend, "failure_rising": rising, "failure_falling": falling}
    rule = (f"pooled over m ∈ {list(decision)}: VERIFIED if the one-sided {conf:.0%} CP lower bound ≥ {target:g}; "
            f"REFUTED if the failure frequency rises with m (Cochran–Armitage, one-sided {alpha:g}) or the upper bound "
            f"is < {target:g} with no significant fall of failures with m; INCONCLUSIVE otherwise (paths within "
            "numerical error of the threshold count against the verdict being drawn)")
    if lo >= target:
        verdict = VERIFIED
    elif rising or (hi < target and not falling):
        verdict = REFUTED
    else:
        verdict = INCONCLUSIVE
    return Decision(verdict, lo / target, rule, nums)


def frequency_bound(margins: Sequence[float], target: float, *, range_margins: Sequence[float] | None = None,
                    conf: float = CONF) -> Decision:
    """"With probability ≥ target the bound holds" over independent runs (margin_i ≥ 1 ⇔ run i holds):
    VACUOUS if the bound exceeds the quantity's whole range in every run (``range_margins`` ≥ 1:
    it could not have failed), otherwise :func:`frequency` on the number of runs that hold."""
    m = np.asarray(margins, float)
    _finite("frequency_bound", m)
    k, n = int(np.sum(m >= 1)), int(m.size)
    dec = frequency(k, n, target, conf)
    nums = {**dec.numbers, "violations": n - k, "worst_margin": float(m.min()) if n else math.nan}
    worst = int(np.argmin(m)) if n else None
    if range_margins is not None and n:
        rm = np.asarray(range_margins, float)
        _finite("frequency_bound(range)", rm)
        nums["range_margin_min"] = float(rm.min())
        if np.all(rm >= 1):
            return Decision(VACUOUS, dec.margin, dec.rule + "; VACUOUS when the bound exceeds the quantity's whole "
                            "range in every run", nums, worst)
    return Decision(dec.verdict, dec.margin, dec.rule, nums, worst)


#: "x tracks y" needs at least a moderate rank correlation (Cohen's 0.3): :func:`correlation` refutes
#: such a claim when the whole interval lies below it.
MIN_TRACKING_RHO = 0.3


def correlation(rho: float, n: int, min_rho: float, conf: float = CONF) -> Decision:
    """"x tracks y" as a Spearman correlation with a Fisher-z interval (se ≈ 1.06/√(n − 3),
    Fieller et al. 1957): VERIFIED if the lower bound is > 0 (a significant positive association),
    REFUTED if the upper bound is < ``min_rho`` (any association is weaker than the claim needs),
    INCONCLUSIVE otherwise.  Margin: 1 + lower bound."""
    _finite("correlation", rho)
    if n <= 3:
        return Decision(INCONCLUSIVE, math.nan, "too few points for an interval", {"n": n})
    z, se = np.arctanh(np.clip(rho, -0.999999, 0.999999)), 1.06 / math.sqrt(n - 3)
    q = stats.norm.ppf(0.5 + conf / 2)
    lo, hi = float(np.tanh(z - q * se)), float(np.tanh(z + q * se))
    verdict = VERIFIED if lo > 0 else REFUTED if hi < min_rho else INCONCLUSIVE
    return Decision(verdict, 1.0 + lo, f"Spearman ρ with a {conf:.0%} Fisher-z interval: VERIFIED if it lies above 0, "
                    f"REFUTED if it lies below {min_rho:g}", {"rho": float(rho), "n": n, "lo": lo, "hi": hi,
                                                               "min_rho": min_rho})


# --------------------------------------------------------------------------- slopes
def slope_below(fit: dict, claimed: float) -> Decision:
    """"y(m) → 0 at least as fast as m^claimed" from a 95% log-log slope interval [lo, hi]:
      claimed = 0 ("→ 0"):      VERIFIED if hi < 0,  REFUTED if lo > 0,  else INCONCLUSIVE;
      claimed < 0 (a rate):     VERIFIED if the interval reaches the rate (lo ≤ claimed) and
                                lies below 0 (hi < 0), REFUTED if lo > claimed (decays slower
                                than claimed: every slope the data allow is above it),
                                else INCONCLUSIVE.
    Margin: (claimed − lo) + 1 for a rate, (−hi) + 1 for "→ 0" (≥ 1 ⇔ holds)."""
    lo, hi = float(fit["lo"]), float(fit["hi"])
    _finite("slope_below", lo, hi)
    nums = {"slope": float(fit["slope"]), "lo": lo, "hi": hi, "claimed": claimed}
    if claimed == 0.0:
        verdict = VERIFIED if hi < 0 else REFUTED if lo > 0 else INCONCLUSIVE
        return Decision(verdict, 1.0 - hi, "→ 0: VERIFIED if the 95% slope interval lies below 0, REFUTED if "
                        "above, INCONCLUSIVE if it straddles 0", nums)
    verdict = REFUTED if lo > claimed else VERIFIED if hi < 0 else INCONCLUSIVE
    return Decision(verdict, (claimed - lo) + 1.0, f"rate m^{claimed:g}: REFUTED if the whole 95% interval is above "
                    f"{claimed:g}, VERIFIED if it reaches {claimed:g} and lies below 0", nums)


# --------------------------------------------------------------------------- implications
def implication_along_paths(paths: Sequence[dict]) -> Decision:
    """"Wherever the hypothesis has held on [0, t], the conclusion holds at every s ≤ t".

    ``paths``: [{"label", "hyp" (bool per recorded time: the hypothesis held on the prefix [0, t_k];
    prefix-closed), "lhs", "rhs", "slack" (per time: the conclusion is lhs ≤ rhs; slack is the
    numerical error bound of lhs − rhs, so a violation must exceed it)}].
      REFUTED      some path has lhs > rhs + slack at a time where the hypothesis held.
      VACUOUS      the hypothesis held beyond t = 0 on no path: nothing was tested.
      VERIFIED     otherwise.
    Margin: min over tested times of (rhs + slack)/lhs (+∞ where lhs ≤ 0)."""
    worst, worst_i, tested, steps_tested = math.inf, None, 0, 0
    per_path = []
    for i, p in enumerate(paths):
        hyp = np.asarray(p["hyp"], bool)
        lhs, rhs, slack = (np.asarray(p[k], float) for k in ("lhs", "rhs", "slack"))
        _finite("implication_along_paths", lhs[hyp], rhs[hyp], slack[hyp])
        if hyp.size and np.any(np.diff(hyp.astype(int)) > 0):
            raise ValueError(f"{p['label']}: hypothesis mask must be prefix-closed (held on [0, t])")
        sel = hyp.copy()
        sel[0] = False  # t = 0: both sides agree by construction (L(0) = L(0), ΔA = 0)
        mg = np.where(lhs[sel] > 0, (rhs[sel] + slack[sel]) / np.where(lhs[sel] > 0, lhs[sel], 1.0), np.inf)
        path_margin = float(mg.min()) if mg.size else math.inf
        per_path.append(path_margin)
        if sel.any():
            tested += 1
            steps_tested += int(sel.sum())
        if path_margin < worst:
            worst, worst_i = path_margin, i
    nums = {"paths": len(paths), "paths_tested": tested, "times_tested": steps_tested,
            "violating_paths": int(sum(m < 1 for m in per_path))}
    rule = ("implication along each path: wherever the hypothesis held on [0, t], lhs ≤ rhs + numerical slack at every "
            "recorded s ≤ t; REFUTED on any violation, VACUOUS if the hypothesis never held beyond t = 0")
    if nums["violating_paths"]:
        return Decision(REFUTED, worst, rule, nums, worst_i)
    if tested == 0:
        return Decision(VACUOUS, worst, rule, nums, None)
    return Decision(VERIFIED, worst, rule, nums, worst_i)


# --------------------------------------------------------------------------- step refinement
#: Slowest convergence order still accepted as discretisation error: Heun + trapezoid is
#: order 2 on smooth stretches; a step that crosses a ReLU kink loses an order and a variable step
#: can cost another half.  A residual that decays slower than h^½ is not discretisation error.
MIN_ORDER = 0.5


def refinement_margin(coarse: float, fine: float, floor: float, min_order: float = MIN_ORDER) -> float:
    """Margin of "ρ(h) → 0 as h → 0" from residuals at h (coarse) and h/2 (fine): if
    ρ(h) = C·h^p + o with p ≥ min_order, Richardson gives ρ(h/2) ≤ (ρ(h) − ρ(h/2))/(2^p − 1); ``floor``
    adds the solver error.  < 1 means the residual has an h-independent part."""
    _finite("refinement_margin", coarse, fine, floor)
    explained = max(coarse - fine, 0.0) / (2.0 ** min_order - 1.0) + floor
    return explained / fine if fine > 0 else math.inf


def converges_under_refinement(margins: Sequence[float]) -> Decision:
    """VERIFIED if every refinement margin is ≥ 1 (the residual is explained by discretisation),
    REFUTED otherwise (an h-independent residual on the worst case)."""
    m = np.asarray(margins, float)
    if m.size == 0:
        return Decision(INCONCLUSIVE, math.nan, "no refinement pair", {})
    worst = int(np.argmin(m))
    verdict = VERIFIED if m[worst] >= 1 else REFUTED
    return Decision(verdict, float(m[worst]), f"convergence under step halving: Richardson with the slowest accepted "
                    f"order p = {MIN_ORDER:g}; < 1 means an h-independent residual", {"pairs": int(m.size)}, worst)


# --------------------------------------------------------------------------- limits at the predicted rate
#: The rate every infinite-width limit predicts: averages of m i.i.d. terms concentrate like m^{-1/2}.
#: A claimed limit "X(m) → L at rate m^{-1/2}" is
#:   VERIFIED     when the 95% slope interval lies below 0 and reaches −1/2 or below,
#:   REFUTED      when the whole interval lies above −1/2 (decay slower than the rate, or a plateau:
#:                a wrong limit leaves a constant floor, so its fitted slope drifts towards 0),
#:   INCONCLUSIVE otherwise (the interval straddles 0).
PREDICTED_RATE = -0.5


def converges_at_predicted_rate(xs, errs, groups) -> tuple[Decision, dict]:
    """Fixed-effects slope of log(err) on log(m) (one intercept per group, e.g. per seed), decided
    against :data:`PREDICTED_RATE` by :func:`slope_below`; returns the decision and the fit."""
    fit = slope_ci(xs, np.maximum(np.asarray(errs, float), 1e-300), groups=groups)
    return slope_below(fit, PREDICTED_RATE), fit


# --------------------------------------------------------------------------- confirmations (sequential)
PASS, FAIL, UNDECIDED, CONTINUE = "PASS", "FAIL", "UNDECIDED", "CONTINUE"


@lru_cache(maxsize=4096)
def _confirmation_outcome(k: int, n: int, target: float, conf: float) -> str:
    """The fixed-design decision on k successes in n: PASS if the one-sided lower Clopper–Pearson
    bound is ≥ target, FAIL if the upper bound is < target, UNDECIDED otherwise."""
    if cp_lower_one_sided(k, n, conf) >= target:
        return PASS
    if cp_upper_one_sided(k, n, conf) < target:
        return FAIL
    return UNDECIDED


def curtailed_confirmation(outcomes: Sequence[bool], n_planned: int, target: float, conf: float = CONF) -> dict:
    """A confirmation of "P(holds) ≥ target" planned on ``n_planned`` independent trials, read in the
    order they were drawn, curtailed: the decision is taken as soon as every completion of the trials
    not yet run gives the same fixed-design decision (PASS / FAIL / UNDECIDED, as
    :func:`_confirmation_outcome` on the final count), so it equals the fixed design's decision on every
    sequence and keeps its error level; CONTINUE while completions still disagree.  Returns the
    decision, the trials used, the successes, and the planned design's bounds on what was seen."""
    if n_planned <= 0 or len(outcomes) > n_planned:
        raise ValueError(f"a confirmation plans n ≥ 1 trials and reads at most that many, got {len(outcomes)} of "
                         f"{n_planned}")
    k = j = 0
    for j, ok in enumerate(outcomes, 1):
        k += bool(ok)
        left = n_planned - j
        reachable = {_confirmation_outcome(k + extra, n_planned, target, conf) for extra in (0, left)}
        # the decision is monotone in the final count, so the two extreme completions bound every one
        if len(reachable) == 1:
            return {"decision": reachable.pop(), "used": j, "successes": k, "planned": n_planned}
    if not outcomes:
        k = 0
    if j == n_planned:
        return {"decision": _confirmation_outcome(k, n_planned, target, conf), "used": j, "successes": k,
                "planned": n_planned}
    return {"decision": CONTINUE, "used": j, "successes": k, "planned": n_planned}


# --------------------------------------------------------------------------- "for m large enough", per data set
def panel_theorem(*, implications_ok: bool, implication_margin: float, rho_exponent: dict,
                  failure_trend: dict, rho_top_slope: dict, confirmations: Sequence[dict], ladder_min: int,
                  ladder_max: int, min_confirmed: int = 3, min_span: float = 4.0,
                  alpha: float = 1 - CONF) -> Decision:
    """"W.p. ≥ 1 − δ over the initialisation, for m ≥ m*(X)": a calibrated width law and its
    confirmations (docs/claims.md, the theorem's section).

    ``rho_exponent``: {"slope", "lo", "hi"}, the width exponent β of ρ ∝ m^{−β} (β > 0: ρ falls);
    ``failure_trend``: Cochran–Armitage over the upper half of the ladder ({"p_rising", …});
    ``rho_top_slope``: {"lo", …} of log ρ's slope in log m over the ladder's top widths;
    ``confirmations``: [{"data_set", "m_star", "width", "decision" (PASS/FAIL/UNDECIDED), …}];
    ``ladder_max``: the top width (confirmed thresholds lie in (ladder_min, ladder_max], so their span is
      below ladder_max/ladder_min: a ladder spanning ≤ ``min_span``× cannot give VERIFIED, and the
      decision says so in ``verified_reachable`` and its reasons).
      VERIFIED      the implications hold on every path, β's interval lies above 0, the failures do not
                    rise, every confirmation PASSes, ≥ ``min_confirmed`` data sets are confirmed, their
                    predicted thresholds span ≥ ``min_span``× in m, and the smallest exceeds ``ladder_min``.
      REFUTED       a violated implication; ρ rising (the top slope's interval above 0) or failures rising
                    (one-sided p < alpha); a FAILed confirmation; β's interval at or below 0.
      INCONCLUSIVE  otherwise (the numbers say why).
    Margin: the smallest confirmation's CP lower bound over the target (0 when none passed)."""
    confirmed = [c for c in confirmations if c["decision"] == PASS]
    failed = [c for c in confirmations if c["decision"] == FAIL]
    undecided = [c for c in confirmations if c["decision"] not in (PASS, FAIL)]
    thresholds = sorted(c["m_star"] for c in confirmed)
    span = thresholds[-1] / thresholds[0] if len(thresholds) >= 2 else 1.0
    rising_fail = failure_trend.get("p_rising", 1.0) < alpha
    rising_rho = rho_top_slope.get("lo", -math.inf) > 0
    reasons = []
    if not implications_ok:
        reasons.append("a deterministic implication is violated beyond numerical error")
    if rising_rho:
        reasons.append("ρ rises with m at the ladder's top widths")
    if rising_fail:
        reasons.append("the failure frequency rises with m over the ladder's upper half")
    if failed:
        reasons.append(f"{len(failed)} confirmation(s) fail (CP upper < target at a width ≥ the predicted threshold)")
    if rho_exponent["hi"] <= 0:
        reasons.append("ρ's width exponent is at or below 0")
    missing = []
    if not rho_exponent["lo"] > 0:
        missing.append("ρ's width exponent is not significantly positive")
    if undecided:
        missing.append(f"{len(undecided)} confirmation(s) undecided")
    if len(confirmed) < min_confirmed:
        missing.append(f"{len(confirmed)} data set(s) confirmed, {min_confirmed} needed")
    if len(confirmed) >= 2 and span < min_span:
        missing.append(f"the confirmed thresholds span {span:.2g}×, {min_span:g}× needed")
    if thresholds and thresholds[0] <= ladder_min:
        missing.append(f"the smallest confirmed threshold {thresholds[0]:.3g} is not above the ladder's smallest "
                       f"width {ladder_min}")
    reachable = ladder_max / ladder_min > min_span
    if not reachable:
        missing.append(f"VERIFIED is out of reach at this ladder: thresholds above {ladder_min} and confirmable at "
                       f"≤ {ladder_max} span < {ladder_max / ladder_min:g}×, {min_span:g}× needed")
    lows = [c.get("cp_lower", 0.0) / c.get("target", 1.0) for c in confirmations] or [0.0]
    nums = {"verified_reachable": reachable, "confirmed": len(confirmed), "failed": len(failed), "undecided": len(undecided),
            "confirmed_span": span, "confirmed_thresholds": thresholds, "rho_exponent": dict(rho_exponent),
            "failure_rising": rising_fail, "rho_rising_at_top": rising_rho, "implication_margin": implication_margin,
            "refuted_because": reasons, "not_verified_because": missing}
    rule = ("per data set: VERIFIED if the implications hold, ρ falls with m (exponent interval above 0), failures do "
            f"not rise, every reachable confirmation passes and ≥ {min_confirmed} data sets are confirmed with "
            f"thresholds spanning ≥ {min_span:g}× above the ladder's smallest width; REFUTED on a violated implication, "
            "ρ or failures rising at the top widths, a failed confirmation, or an exponent ≤ 0; INCONCLUSIVE otherwise")
    verdict = REFUTED if reasons else VERIFIED if not missing else INCONCLUSIVE
    return Decision(verdict, float(min(lows)), rule, nums)
