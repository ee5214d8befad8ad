"""Meta-checks: every claim of THEORY.md is registered; every implemented claim has checks and
negative controls; every check is in the verdict record and runs as a test."""

from __future__ import annotations

import re
from pathlib import Path

from . import harness
from .claims import BY_ID, CLAIMS
from .replay import load_all

THEORY = Path(__file__).resolve().parents[2] / "shared" / "paper" / "THEORY.md"


def test_every_theory_id_is_registered():
    # The spec sits beside the repository (../shared); a clone without it still has our copy of the IDs.
    if THEORY.exists():
        ids = set(re.findall(r"\*\*(C\d+)\b", THEORY.read_text(encoding="utf-8")))
        missing = sorted(ids - set(BY_ID), key=lambda c: int(c[1:]))
        assert not missing, f"THEORY.md names claims with no registry entry in checks/claims.py: {missing}"
    assert [c.id for c in CLAIMS] == [f"C{i}" for i in range(1, 20)]


def test_implemented_claims_have_checks_and_controls():
    load_all()
    for claim in CLAIMS:
        checks = [c for c in harness.REGISTRY.values() if c.claim == claim.id and c.control_of is None]
        record = harness.verdicts_of_record()
        controls = [c for c in harness.REGISTRY.values() if c.claim == claim.id and c.control_of is not None
                    and record.get(c.name) in (harness.REFUTED, {"default": harness.REFUTED})]
        if claim.implemented:
            assert checks, f"{claim.id} is marked implemented but has no check"
            assert controls, f"{claim.id} is marked implemented but has no negative control (recorded REFUTED)"
        else:
            assert not checks, f"{claim.id} has checks: mark it implemented in checks/claims.py"


def test_every_check_has_a_control_target_and_a_record():
    load_all()
    record = harness.verdicts_of_record()
    for name, check in harness.REGISTRY.items():
        assert name in record, f"{name} has no verdict of record in checks/verdicts.json"
        assert name.startswith(f"check_c{check.claim[1:]}_"), f"{name}: check names start with check_c<N>_"
        if check.control_of is not None:
            assert check.control_of in harness.REGISTRY, f"{name} controls unknown check {check.control_of}"
            # Negative controls are recorded REFUTED; a positive control (true variant of a
            # refuted claim) VERIFIED, and only for a check whose own record is REFUTED.
            rec = record[name] if isinstance(record[name], str) else record[name]["default"]
            if rec == harness.VERIFIED:
                assert record[check.control_of] == harness.REFUTED, f"positive control {name} needs a refuted target"
    stale = sorted(set(record) - set(harness.REGISTRY))
    assert not stale, f"checks/verdicts.json names checks that no longer exist: {stale}"


def test_every_check_is_run_by_a_test_module():
    """Each module's NAMES list (what its test parametrizes over) covers its registered checks."""
    import importlib
    import pkgutil

    import checks

    listed: set[str] = set()
    for mod in pkgutil.iter_modules(checks.__path__):
        if mod.name.startswith("test_c"):
            listed |= set(getattr(importlib.import_module(f"checks.{mod.name}"), "NAMES", []))
    load_all()
    assert set(harness.REGISTRY) == listed, f"not run by any test: {sorted(set(harness.REGISTRY) - listed)}"
