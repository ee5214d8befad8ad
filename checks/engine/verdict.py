"""Verdicts and the records that carry them, built by keyword.

* :class:`Verdict`: VERIFIED, REFUTED, INCONCLUSIVE, VACUOUS (a ``str`` enum, so it is written to
  JSON as its name and compares equal to it).
* :class:`Outcome`: one example of a property check (margin ≥ 1 ⇔ the statement holds on it).
* :class:`Decision`: what a verdict rule returns.
* :class:`Counterexample`: the example that decides against a statement, with its replay line.
* :class:`Result`: what a check returns (``Result.of(decision, examples=…, evidence=…)``).
* :class:`Record`: a result with the identity of its check, as the runner records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    VERIFIED = "VERIFIED"
    REFUTED = "REFUTED"
    INCONCLUSIVE = "INCONCLUSIVE"
    VACUOUS = "VACUOUS"  # the statement could not have failed on the examples drawn


VERIFIED, REFUTED, INCONCLUSIVE, VACUOUS = Verdict.VERIFIED, Verdict.REFUTED, Verdict.INCONCLUSIVE, Verdict.VACUOUS
OUTCOMES = tuple(Verdict)
#: A claim of the document with no check result in a run (report level only).
NOT_CHECKED = "NOT CHECKED"


@dataclass
class Outcome:
    """Result of one example: margin (≥ 1 ⇔ holds), the measured numbers, or a discard reason."""

    margin: float
    numbers: dict[str, Any] = field(default_factory=dict)
    discarded: str | None = None


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    margin: float  # ≥ 1 ⇔ the statement holds on the evidence
    rule: str  # the rule in one sentence, shown in the report
    numbers: dict = field(default_factory=dict)
    worst: int | None = None  # index of the deciding example / path, if any


@dataclass(kw_only=True)
class Counterexample:
    """The example that decides against a statement: its spec, margin (< 1), the measured numbers
    and the command that replays it (filled in by the runner when left empty)."""

    spec: Any
    margin: float
    numbers: Any
    replay: str = ""

    def as_dict(self) -> dict:
        return {"spec": self.spec, "margin": self.margin, "numbers": self.numbers, "replay": self.replay}


@dataclass(kw_only=True)
class Result:
    """What a check returns: the verdict, how many examples it rests on, the worst margin, the
    deciding counterexample (if any), the evidence shown in the report, and discarded examples."""

    verdict: Verdict
    examples: int
    worst_margin: float
    counterexample: Counterexample | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    discarded: int = 0

    @classmethod
    def of(cls, decision: Decision, *, examples: int, evidence: dict[str, Any] | None = None,
           counterexample: Counterexample | None = None) -> Result:
        """A result whose verdict and margin are those of a rule's decision."""
        return cls(verdict=decision.verdict, examples=examples, worst_margin=decision.margin,
                   counterexample=counterexample, evidence={} if evidence is None else evidence)


@dataclass(kw_only=True)
class Record:
    """A check's result with the identity of the check (what the evidence spool and the report hold)."""

    name: str
    claim: str
    statement: str
    control_of: str | None
    finding: bool
    result: Result

    def entry(self, seconds: float, expected: str | None) -> dict:
        r = self.result
        return {"name": self.name, "claim": self.claim, "verdict": r.verdict, "examples": r.examples,
                "worst_margin": r.worst_margin, "counterexample": r.counterexample, "evidence": r.evidence,
                "discarded": r.discarded, "control_of": self.control_of, "statement": self.statement,
                "timing": {"seconds": round(seconds, 3)}, "finding": self.finding, "expected": expected}

