"""Run a registered check under the loaded Hypothesis profile, and verify it against the record.

A property check's margin is searched by Hypothesis (``find``, under the loaded profile) for an
example with margin < 1: the shrunk example is the counterexample and the verdict REFUTED,
otherwise VERIFIED (INCONCLUSIVE if most examples were discarded).  An experiment returns its
:class:`~checks.engine.verdict.Result` directly.  Either way the runner adds the check's identity
and a replay command, and :func:`verify` fails when the verdict differs from the verdict of record
(``checks/verdicts.json``; a control's expectation is declared with it), so a verdict changes only
in a reviewed commit.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from hypothesis import HealthCheck, find, settings
from hypothesis.errors import NoSuchExample

from . import evidence, profiles
from .margins import no_nan
from .registry import REGISTRY
from .verdict import INCONCLUSIVE, REFUTED, VERIFIED, Counterexample, Outcome, Record, Result

RECORD_FILE = Path(__file__).resolve().parent.parent / "verdicts.json"

#: A check whose examples are mostly discarded (e.g. ReLU kinks crossed by every FD step)
#: has not been tested: fewer than this fraction of usable examples is INCONCLUSIVE.
MIN_USABLE_FRACTION = 0.5


def replay_command(name: str, spec=None) -> str:
    """The command that replays a check: one example of a property check, or the whole experiment
    (deterministic under the profile it ran in)."""
    if spec is None:
        return f"IMPLICIT_HYPOTHESIS_PROFILE={profiles.current()} python -m checks.replay {name}"
    payload = json.dumps(spec.as_dict() if hasattr(spec, "as_dict") else spec, sort_keys=True)
    return f"python -m checks.replay {name} '{payload}'"


def _run_property(name: str) -> Result:
    check = REGISTRY[name]
    budget = profiles.examples() if check.max_examples is None else min(check.max_examples, profiles.examples())
    stats = {"used": 0, "discarded": 0, "worst": math.inf, "worst_numbers": {}, "reasons": {}}

    def condition(spec) -> bool:
        out: Outcome = check.fn(spec)
        if out.discarded is not None:
            stats["discarded"] += 1
            stats["reasons"][out.discarded] = stats["reasons"].get(out.discarded, 0) + 1
            return False
        stats["used"] += 1
        no_nan(f"{name}: the margin at {spec!r} (numbers {out.numbers})", out.margin)
        if out.margin < stats["worst"]:
            stats["worst"], stats["worst_numbers"] = out.margin, dict(out.numbers, spec=spec)
        return not (out.margin >= 1.0)

    cfg = settings(settings.default, max_examples=budget, database=None, suppress_health_check=list(HealthCheck))
    counterexample = None
    try:
        cex = find(check.strategy, condition, settings=cfg)
        out = check.fn(cex)
        counterexample = Counterexample(spec=cex, margin=out.margin, numbers=out.numbers,
                                        replay=replay_command(name, cex))
        verdict = REFUTED
    except NoSuchExample:
        total = stats["used"] + stats["discarded"]
        verdict = VERIFIED if total and stats["used"] >= MIN_USABLE_FRACTION * total else INCONCLUSIVE
    return Result(verdict=verdict, examples=stats["used"], worst_margin=stats["worst"], counterexample=counterexample,
                  evidence={"worst_example": stats["worst_numbers"], "discard_reasons": stats["reasons"],
                            "budget": budget},
                  discarded=stats["discarded"])


def run(name: str) -> Record:
    """Run a registered check under the current profile; its result with the check's identity."""
    check = REGISTRY[name]
    if check.kind == "experiment":
        res = check.fn()
        if res.counterexample is not None and not res.counterexample.replay:
            res.counterexample.replay = replay_command(name)
    else:
        res = _run_property(name)
    return Record(name=name, claim=check.claim, statement=check.statement, control_of=check.control_of,
                  finding=check.finding, result=res)


def verdicts_of_record() -> dict:
    with open(RECORD_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def record_for(name: str, profile: str) -> str:
    """The verdict of record of ``name`` in ``profile``."""
    rec = verdicts_of_record()[name]
    return profiles.entry(rec, profile) if isinstance(rec, dict) else rec


def expected_verdict(name: str) -> str | None:
    """A control's declared expectation, else the record (a per-profile record is
    ``{"default": …, "thorough": …}``, read with profiles.pick)."""
    check = REGISTRY[name]
    expected = check.expect if check.expect is not None else verdicts_of_record().get(name)
    return profiles.pick(expected) if isinstance(expected, dict) else expected


def verify(name: str) -> Record:
    """Run a check, record its evidence, and fail if its verdict differs from the record.

    A negative control is recorded REFUTED (the planted false claim is rejected); a positive
    control (a planted *true* variant of a refuted claim, showing the check can also pass) is
    recorded VERIFIED.
    """
    t0 = time.perf_counter()
    rec = run(name)
    expected = expected_verdict(name)
    evidence.record(rec.entry(time.perf_counter() - t0, expected))
    res = rec.result
    where = f"checks/{RECORD_FILE.name}"
    if expected is None:
        raise AssertionError(f"[{rec.claim}] {name}: no verdict of record; add \"{name}\": "
                             f"\"{res.verdict}\" to {where} in a reviewed commit")
    if res.verdict != expected:
        cex = res.counterexample
        detail = (f"\n  counterexample: {cex.spec}\n  margin: {cex.margin:.6g}\n"
                  f"  numbers: {cex.numbers}\n  replay: {cex.replay}") if cex else \
                 f"\n  examples: {res.examples}, worst margin: {res.worst_margin:.6g}, discarded: {res.discarded}"
        if rec.control_of is None:
            what = "verdict differs from the verdict of record"
        elif expected == REFUTED:
            what = "negative control was NOT rejected: the check cannot detect this defect"
        else:
            what = "positive control was not verified: the check rejects a true statement"
        raise AssertionError(f"[{rec.claim}] {name}: {what}: got {res.verdict}, record says {expected}"
                             f"{detail}\n  statement: {rec.statement}")
    return rec
