"""Meta-tests of the layout (docs/architecture.md): the engine and the path model name no claim, no
claim module imports another claim module, only typed errors are caught, every approx with a
relative tolerance names its absolute one, and the unit tests follow one naming scheme."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CHECKS = Path(__file__).resolve().parents[1]
#: A claim ID of docs/claims.md: C1…C99, GD1…GD9 (and any later prefix of capitals and digits).
CLAIM_ID = re.compile(r"\b(?:C|GD)\d{1,2}\b")


def _files(*rooms: str) -> list[Path]:
    return sorted(p for room in rooms for p in (CHECKS / room).rglob("*.py"))


def claim_ids_in(path: Path) -> list[str]:
    """Every line of a file that names a claim ID (in code, strings, comments or docstrings)."""
    return [f"{path.name}:{i}: {line.strip()}"
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if CLAIM_ID.search(line)]


def test_engine_and_model_name_no_claim():
    """The engine and the path model are shared by every claim: a claim ID there would mean a claim's
    logic has leaked out of its module (adding a claim must not touch them)."""
    offenders = [hit for p in _files("engine", "model") for hit in claim_ids_in(p)]
    assert not offenders, "claim IDs in the engine or the path model:\n" + "\n".join(offenders)


def test_the_claim_id_scan_can_fail(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text('"""Records the C13 coupling."""\nX = 1  # GD2 too\nY = "C130"\n', encoding="utf-8")
    assert len(claim_ids_in(planted)) == 2


def test_claim_modules_import_no_other_claim_module():
    """Whatever two claims share lives in the engine or the model, not in one of them."""
    offenders = []
    for p in _files("claims"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                mod = ("." * node.level) + (node.module or "")
                names = [a.name for a in node.names]
                if mod == "." or mod.startswith(".c") or mod.startswith(".gd") or "claims." in mod or \
                        (mod == ".." and "claims" in names):
                    offenders.append(f"{p.name}:{node.lineno}: from {mod} import {', '.join(names)}")
    assert not offenders, "a claim module imports another:\n" + "\n".join(offenders)


def test_only_typed_errors_are_caught_in_checks():
    """A check may discard an example only for a documented reason (an Outcome with ``discarded=``) or
    a typed theory error it names; a broad ``except`` would turn a defect of our code into a discard or
    a verdict.  (The executor catches future exceptions to classify them, and re-raises the unknown.)"""
    offenders = []
    for p in sorted(CHECKS.rglob("*.py")):
        if p.name in ("executor.py", "test_layout.py"):
            continue
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"except\s*(Exception|BaseException)?\s*(as\s+\w+)?\s*:", line):
                offenders.append(f"{p.relative_to(CHECKS)}:{i}: {line.strip()}")
    assert not offenders, "broad except in checks:\n" + "\n".join(offenders)


def test_approx_names_its_absolute_tolerance():
    """``pytest.approx(x, rel=r)`` still accepts any value within 1e-12 of x (its default absolute
    tolerance is not switched off by ``rel``), which swamps a relative check of a small quantity: a
    series term of relative size 1e-13 in hφ₁(−hλ) ≈ 1e-3 went unnoticed that way.  Every approx with a
    relative tolerance in the checks therefore names its absolute one too (``abs=0`` unless a floor is
    derived)."""
    offenders = []
    for p in sorted(CHECKS.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "approx":
                kw = {k.arg for k in node.keywords}
                if "rel" in kw and "abs" not in kw:
                    offenders.append(f"{p.relative_to(CHECKS)}:{node.lineno}")
    assert not offenders, "approx with rel= but no abs= (the default abs=1e-12 applies):\n" + "\n".join(offenders)


def test_unit_tests_follow_one_naming_scheme():
    """checks/tests/ holds test_theory_*, test_engine_*, test_model_* and this file; the claim checks
    run from checks/test_claims.py alone."""
    names = sorted(p.name for p in (CHECKS / "tests").glob("test_*.py"))
    odd = [n for n in names if not re.fullmatch(r"test_(theory|engine|model)_\w+\.py|test_layout\.py", n)]
    assert not odd, f"unit tests outside the naming scheme: {odd}"
    stray = sorted(p.relative_to(CHECKS).as_posix() for p in CHECKS.rglob("test_*.py")
                   if p.parent != CHECKS / "tests" and p.name != "test_claims.py")
    assert not stray and (CHECKS / "test_claims.py").exists(), f"test files outside checks/tests: {stray}"
