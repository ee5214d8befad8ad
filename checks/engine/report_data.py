"""Build ``reports/verification.json`` from the spooled check results.

Shape: {"run": {...}, "claims": [{"id", "reference", "tag", "title", "statement",
"verdict", "examples", "worst_margin", "counterexample", "controls": [...],
"checks": [...], "evidence": {...}}]}.  Claims are sorted by ID and checks by name, so
the file is identical whatever the worker count or test order (``timing`` aside).
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from collections import defaultdict
from importlib import metadata

from . import evidence
from .declarations import CLAIMS, claim_sort_key
from .verdict import INCONCLUSIVE, NOT_CHECKED, REFUTED, VACUOUS, VERIFIED


def claim_verdict(checks: list[dict]) -> str:
    """From the claim's headline checks (side findings excluded): REFUTED if any refutes it;
    INCONCLUSIVE if any is inconclusive; VACUOUS if every check is vacuous (nothing could have
    failed); VERIFIED otherwise (vacuous parts are shown beside it)."""
    verdicts = {c["verdict"] for c in checks}
    if not verdicts:
        return NOT_CHECKED
    if REFUTED in verdicts:
        return REFUTED
    if INCONCLUSIVE in verdicts:
        return INCONCLUSIVE
    if verdicts == {VACUOUS}:
        return VACUOUS
    return VERIFIED


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.inf


def run_metadata(profile: str | None) -> dict:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=evidence.ROOT, capture_output=True,
                                  text=True, check=True).stdout.strip() or None
        except (OSError, subprocess.CalledProcessError):
            return None

    versions = {}
    for pkg in ("numpy", "scipy", "mpmath", "hypothesis", "pytest", "pytest-xdist", "scikit-learn"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    blas = None
    try:
        from threadpoolctl import threadpool_info

        blas = [{k: i.get(k) for k in ("internal_api", "version", "num_threads")} for i in threadpool_info()]
    except ImportError:
        pass
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain")),
        "profile": profile,
        "versions": versions,
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cores": os.cpu_count(), "blas": blas},
        "seeds": "examples are drawn by derandomised Hypothesis profiles; every example's seed is in its spec",
    }


def claim_task_seconds(entries: list[dict]) -> dict[str, dict]:
    """Per claim, the compute time of the cached tasks its recorded checks (and controls) read, each task
    counted once per claim (a task several claims read is charged to each of them)."""
    from . import registry, tasks

    out = {}
    for claim in sorted({e["claim"] for e in entries}):
        keys = registry.tasks_of(sorted({e["name"] for e in entries if e["claim"] == claim}))
        secs = [tasks.seconds(k) for k in keys]
        out[claim] = {"seconds": float(sum(v for v in secs if v is not None)), "tasks": len(keys),
                      "uncached": sum(v is None for v in secs)}
    return out


def build(entries: list[dict], profile: str | None, task_seconds: dict | None = None) -> dict:
    by_claim: dict[str, list[dict]] = defaultdict(list)
    for e in entries:
        by_claim[e["claim"]].append(e)
    claims = []
    for c in CLAIMS:
        rows = sorted(by_claim.get(c.id, []), key=lambda e: e["name"])
        checks = [r for r in rows if r.get("control_of") is None and not r.get("finding")]
        findings = [r for r in rows if r.get("control_of") is None and r.get("finding")]
        controls = [r for r in rows if r.get("control_of") is not None]
        refuted = [r for r in checks if r["verdict"] == REFUTED]
        margins = [_num(r["worst_margin"]) for r in checks]
        claims.append({
            "id": c.id, "reference": c.reference, "tag": c.tag, "title": c.title,
            "statement": c.statement, "implemented": True,
            "verdict": claim_verdict(checks),
            "examples": sum(r["examples"] for r in checks),
            "worst_margin": min(margins) if margins else None,
            "counterexample": refuted[0]["counterexample"] if refuted else None,
            "controls": [{"name": r["name"], "control_of": r["control_of"],
                          "rejected": r["verdict"] == REFUTED, "verdict": r["verdict"],
                          "kind": "positive" if r.get("expected") == VERIFIED else "negative",
                          "as_expected": r["verdict"] == r.get("expected", REFUTED),
                          "statement": r["statement"],
                          "counterexample": r["counterexample"]} for r in controls],
            "checks": checks,
            "side_findings": findings,
            "evidence": {r["name"]: r["evidence"] for r in checks + findings},
            "timing": {"task_seconds": (task_seconds or {}).get(c.id, {})},
        })
    claims.sort(key=lambda c: claim_sort_key(c["id"]))
    return {"run": run_metadata(profile), "claims": claims}


def write_verification(entries: list[dict], profile: str | None, task_seconds: dict | None = None) -> str:
    data = build(entries, profile, task_seconds)
    evidence.REPORTS.mkdir(parents=True, exist_ok=True)
    with open(evidence.VERIFICATION, "w", encoding="utf-8") as fh:
        json.dump(evidence.jsonable(data), fh, indent=1, sort_keys=True)
    return str(evidence.VERIFICATION)
