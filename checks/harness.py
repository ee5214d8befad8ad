"""The one data-driven harness behind every claim check.

A *property check* is a function ``check_cNN_<property>(spec) -> Outcome`` registered
with :func:`property_check`.  ``Outcome.margin`` is the slack ratio allowed/observed:
the claim holds on the example iff margin ≥ 1.  :func:`run` asks Hypothesis
(``find``, under the loaded profile) for an example with margin < 1; the shrunk
example is the counterexample and the verdict is REFUTED, otherwise VERIFIED.

An *experiment* (statistical or asymptotic claims: frequencies with binomial bounds,
fitted slopes with intervals) is a function returning a :class:`Result` directly,
registered with :func:`experiment`.

A *negative control* is a check of a planted false variant (``control_of=`` the check
it mirrors).  Its test passes only if the same machinery REFUTES it.

Verdicts of record live in ``checks/verdicts.json``; a run whose verdict differs fails,
so a verdict changes only in a reviewed commit.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, find, settings
from hypothesis.errors import NoSuchExample

from . import evidence

VERIFIED, REFUTED, INCONCLUSIVE = "VERIFIED", "REFUTED", "INCONCLUSIVE"
RECORD_FILE = Path(__file__).with_name("verdicts.json")

#: A check whose examples are mostly discarded (e.g. ReLU kinks crossed by every FD step)
#: has not been tested: fewer than this fraction of usable examples is INCONCLUSIVE.
MIN_USABLE_FRACTION = 0.5


@dataclass
class Outcome:
    """Result of one example: margin (≥ 1 ⇔ holds), the measured numbers, or a discard reason."""

    margin: float
    numbers: dict[str, Any] = field(default_factory=dict)
    discarded: str | None = None


@dataclass
class Result:
    name: str
    claim: str
    verdict: str
    examples: int
    worst_margin: float
    counterexample: dict | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    discarded: int = 0
    control_of: str | None = None
    statement: str = ""
    finding: bool = False


@dataclass
class Check:
    name: str
    claim: str
    statement: str
    fn: Callable[..., Any]
    strategy: Any = None
    control_of: str | None = None
    kind: str = "property"  # or "experiment"
    max_examples: int | None = None
    planted: dict | None = None  # a control declared with its check: the keyword arguments it plants
    expect: str | None = None  # a declared control's expected verdict (REFUTED: negative, VERIFIED: positive)
    tasks: Callable[[], list] | None = None  # independent work (trajectory keys) the check reads, for prefetching
    finding: bool = False  # a side finding shown beside the claim; it does not decide the claim's headline verdict


@dataclass(frozen=True)
class Planted:
    """A control declared with its check: the check's own function, sizes and rule, called with
    ``kwargs`` planting a false statement (``expect`` REFUTED) or a true variant of a refuted one
    (``expect`` VERIFIED)."""

    statement: str
    kwargs: dict
    expect: str = "REFUTED"


def _register_controls(fn, claim: str, kind: str, strategy, max_examples, controls: dict | None, tasks=None) -> None:
    import functools

    for suffix, pl in (controls or {}).items():
        planted_fn = functools.partial(fn, **pl.kwargs)
        _register(Check(f"{fn.__name__}_{suffix}", claim, pl.statement, planted_fn, strategy, fn.__name__, kind,
                        max_examples, dict(pl.kwargs), pl.expect, tasks))


REGISTRY: dict[str, Check] = {}


def _same_fn(a, b) -> bool:
    if a is b:
        return True
    return getattr(a, "func", None) is not None and getattr(a, "func", None) is getattr(b, "func", None) \
        and a.keywords == b.keywords


def _register(check: Check) -> Check:
    if check.name in REGISTRY and not _same_fn(REGISTRY[check.name].fn, check.fn):
        raise ValueError(f"duplicate check name {check.name}")
    from .claims import BY_ID

    if check.claim not in BY_ID:
        raise ValueError(f"{check.name}: claim {check.claim!r} is not declared in docs/claims.md")
    REGISTRY[check.name] = check
    return check


def property_check(claim: str, strategy, *, statement: str, control_of: str | None = None,
                   max_examples: int | None = None, controls: dict[str, Planted] | None = None):
    """Register ``fn(spec) -> Outcome`` as a property check of ``claim``.

    ``max_examples`` caps the profile's budget for expensive checks (mpmath); it never
    raises it.  ``controls`` declares planted variants run through ``fn`` itself.
    """

    def deco(fn):
        _register(Check(fn.__name__, claim, statement, fn, strategy, control_of, "property", max_examples))
        _register_controls(fn, claim, "property", strategy, max_examples, controls)
        return fn

    return deco


def experiment(claim: str, *, statement: str, control_of: str | None = None,
               controls: dict[str, Planted] | None = None, tasks: Callable[[], list] | None = None,
               finding: bool = False):
    """Register ``fn(budget) -> Result`` as an experiment of ``claim``; ``controls`` declares
    planted variants run through ``fn`` itself (``fn(budget, **planted.kwargs)``); ``tasks``
    lists the independent work it reads (trajectory keys), computed ahead on the executor."""

    def deco(fn):
        _register(Check(fn.__name__, claim, statement, fn, None, control_of, "experiment", tasks=tasks, finding=finding))
        _register_controls(fn, claim, "experiment", None, None, controls, tasks)
        return fn

    return deco


def profile_budget() -> int:
    """Examples per property check under the loaded Hypothesis profile."""
    return settings.default.max_examples


def run(name: str) -> Result:
    """Run a registered check under the current profile and return its Result."""
    check = REGISTRY[name]
    if check.kind == "experiment":
        res = check.fn(profile_budget())
        res.name, res.claim, res.control_of, res.statement = name, check.claim, check.control_of, check.statement
        res.finding = check.finding
        if res.counterexample is not None and not res.counterexample.get("replay"):
            # experiments are deterministic functions of the profile: rerunning the check replays it
            profile = settings.get_current_profile_name()
            res.counterexample["replay"] = f"IMPLICIT_HYPOTHESIS_PROFILE={profile} python -m checks.replay {name}"
        return res
    budget = profile_budget() if check.max_examples is None else min(check.max_examples, profile_budget())
    stats = {"used": 0, "discarded": 0, "worst": math.inf, "worst_numbers": {}, "reasons": {}}

    def condition(spec) -> bool:
        out: Outcome = check.fn(spec)
        if out.discarded is not None:
            stats["discarded"] += 1
            stats["reasons"][out.discarded] = stats["reasons"].get(out.discarded, 0) + 1
            return False
        stats["used"] += 1
        if math.isnan(out.margin):
            raise NaNComparison(f"{name}: NaN margin at {spec!r} (numbers {out.numbers}); "
                                "a NaN is a defect of our code, never a verdict")
        if out.margin < stats["worst"]:
            stats["worst"], stats["worst_numbers"] = out.margin, dict(out.numbers, spec=spec)
        return not (out.margin >= 1.0)

    cfg = settings(settings.default, max_examples=budget, database=None,
                   suppress_health_check=list(HealthCheck))
    counterexample = None
    try:
        cex = find(check.strategy, condition, settings=cfg)
        out = check.fn(cex)
        counterexample = {"spec": cex, "margin": out.margin, "numbers": out.numbers,
                          "replay": replay_command(name, cex)}
        verdict = REFUTED
    except NoSuchExample:
        total = stats["used"] + stats["discarded"]
        verdict = VERIFIED if total and stats["used"] >= MIN_USABLE_FRACTION * total else INCONCLUSIVE
    return Result(
        name=name, claim=check.claim, verdict=verdict, examples=stats["used"],
        worst_margin=stats["worst"], counterexample=counterexample,
        evidence={"worst_example": stats["worst_numbers"], "discard_reasons": stats["reasons"],
                  "budget": budget},
        discarded=stats["discarded"], control_of=check.control_of, statement=check.statement,
    )


def replay_command(name: str, spec) -> str:
    payload = json.dumps(spec.as_dict() if hasattr(spec, "as_dict") else spec, sort_keys=True)
    return f"python -m checks.replay {name} '{payload}'"


def verdicts_of_record() -> dict[str, str]:
    with open(RECORD_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def _entry(res: Result, seconds: float) -> dict:
    return {
        "name": res.name, "claim": res.claim, "verdict": res.verdict, "examples": res.examples,
        "worst_margin": res.worst_margin, "counterexample": res.counterexample,
        "evidence": res.evidence, "discarded": res.discarded, "control_of": res.control_of,
        "statement": res.statement, "timing": {"seconds": round(seconds, 3)}, "finding": res.finding,
    }


def verify(name: str) -> Result:
    """Run a check, record its evidence, and fail if its verdict differs from the record.

    A negative control is recorded REFUTED (the planted false claim is rejected); a positive
    control (a planted *true* variant of a refuted claim, showing the check can also pass) is
    recorded VERIFIED.
    """
    t0 = time.perf_counter()
    res = run(name)
    record = verdicts_of_record()
    check = REGISTRY[name]
    expected = check.expect if check.expect is not None else record.get(name)  # declared controls: in code
    if isinstance(expected, dict):  # profile-specific record: {"default": ..., "thorough": ...}
        expected = expected.get(settings.get_current_profile_name(), expected.get("default"))
    evidence.record(dict(_entry(res, time.perf_counter() - t0), expected=expected))
    where = f"checks/{RECORD_FILE.name}"
    if expected is None:
        raise AssertionError(f"[{res.claim}] {name}: no verdict of record; add \"{name}\": "
                             f"\"{res.verdict}\" to {where} in a reviewed commit")
    if res.verdict != expected:
        cex = res.counterexample
        detail = (f"\n  counterexample: {cex['spec']}\n  margin: {cex['margin']:.6g}\n"
                  f"  numbers: {cex['numbers']}\n  replay: {cex['replay']}") if cex else \
                 f"\n  examples: {res.examples}, worst margin: {res.worst_margin:.6g}, discarded: {res.discarded}"
        if res.control_of is None:
            what = "verdict differs from the verdict of record"
        elif expected == REFUTED:
            what = "negative control was NOT rejected: the check cannot detect this defect"
        else:
            what = "positive control was not verified: the check rejects a true statement"
        raise AssertionError(f"[{res.claim}] {name}: {what}: got {res.verdict}, record says {expected}"
                             f"{detail}\n  statement: {res.statement}")
    return res


class NaNComparison(AssertionError):
    """A comparison met NaN.  NaN is never evidence for or against a claim: it means our code
    produced garbage (the code is wrong), so the test errors instead of recording a verdict."""


def _no_nan(what: str, *values) -> None:
    import numpy as np

    for v in values:
        if np.isnan(np.asarray(v, float)).any():
            raise NaNComparison(f"{what}: NaN among the compared values {values!r}")


def margin_le(observed: float, bound: float, slack: float = 0.0) -> float:
    """Margin of ``observed ≤ bound`` with absolute slack: (bound + slack)/observed."""
    _no_nan("margin_le", observed, bound, slack)
    if observed <= 0.0:
        return math.inf if bound + slack >= observed else 0.0
    return (bound + slack) / observed


def margin_ge(observed: float, bound: float, slack: float = 0.0) -> float:
    """Margin of ``observed ≥ bound`` with absolute slack: (observed + slack)/bound."""
    _no_nan("margin_ge", observed, bound, slack)
    if bound <= 0.0:
        return math.inf if observed + slack >= bound else 0.0
    return (observed + slack) / bound


def ratio_margin(allowed, err) -> float:
    """min over entries of allowed/err, with +inf where err = 0 (an exact match always holds)."""
    import numpy as np

    allowed, err = np.broadcast_arrays(np.asarray(allowed, float), np.asarray(err, float))
    _no_nan("ratio_margin", allowed, err)
    pos = err > 0
    return float(np.min(np.where(pos, allowed / np.where(pos, err, 1.0), np.inf), initial=np.inf))


def tasks_of(names) -> list:
    """The union of the tasks (trajectory keys) that the named checks read, in a stable order."""
    seen: dict = {}
    for name in names:
        check = REGISTRY.get(name)
        if check is not None and check.tasks is not None:
            for t in check.tasks():
                seen.setdefault(t, None)
    return list(seen)


def ordered_names() -> list[str]:
    """Every registered check, by claim (document order), checks before their controls."""
    from .claims import claim_sort_key

    return sorted(REGISTRY, key=lambda n: (claim_sort_key(REGISTRY[n].claim), REGISTRY[n].control_of or n, n))
