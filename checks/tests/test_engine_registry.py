"""Meta-checks: the claims document (docs/claims.md) and the check registry agree, every check has
a verdict of record or a declared expectation, and every check runs as a test.  These fail,
never skip: a clone of this repository holds everything they read."""

from __future__ import annotations

import pytest

from ..engine import registry as reg
from ..engine import runner
from ..engine.declarations import BY_ID, CLAIMS, DOC, parse
from ..engine.verdict import REFUTED, VERIFIED


def _registry():
    reg.load_all()
    return reg.REGISTRY


def cross_check(claims, registry, record) -> list[str]:
    """Every disagreement between the document's claims, the registered checks and the record."""
    problems = []
    ids = {c.id for c in claims}
    for c in claims:
        checks = [k for k in registry.values() if k.claim == c.id and k.control_of is None]
        negative = [k for k in registry.values() if k.claim == c.id and k.control_of is not None
                    and (k.expect or record.get(k.name)) in (REFUTED, {"default": REFUTED})]
        if not checks:
            problems.append(f"{c.id} is declared in docs/claims.md but has no registered check")
        if not negative:
            problems.append(f"{c.id} has no negative control (a planted false variant expected REFUTED)")
    for name, k in registry.items():
        if k.claim not in ids:
            problems.append(f"{name} checks {k.claim}, which docs/claims.md does not declare")
    return problems


def test_document_and_registry_agree():
    problems = cross_check(CLAIMS, _registry(), runner.verdicts_of_record())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("side", ["document", "registry"])
def test_cross_check_fails_when_a_claim_is_removed(side):
    """Removing a claim from either side must be noticed (here C6, from a copy of each)."""
    registry, record = _registry(), runner.verdicts_of_record()
    claims = parse(DOC.read_text(encoding="utf-8"))
    if side == "document":
        claims = tuple(c for c in claims if c.id != "C6")
        want = "checks C6, which docs/claims.md does not declare"
    else:
        registry = {n: k for n, k in registry.items() if k.claim != "C6"}
        want = "C6 is declared in docs/claims.md but has no registered check"
    assert any(want in p for p in cross_check(claims, registry, record))


def test_document_is_well_formed():
    assert CLAIMS and all(c.title and c.reference and c.statement for c in CLAIMS)
    assert BY_ID["C6"].tag == "paper"
    with pytest.raises(ValueError, match="missing"):
        parse("## C99 · broken\n- tag: paper\n")
    with pytest.raises(ValueError, match="not one of"):
        parse("## C99 · broken\n- reference: x\n- tag: folklore\n- summary: y\n")


def test_every_check_has_a_record_or_a_declared_expectation():
    record = runner.verdicts_of_record()
    for name, check in _registry().items():
        prefix = "check_" + check.claim.lower() + "_"
        assert name.startswith(prefix), f"{name}: check names start with {prefix}"
        if check.expect is not None:  # a control declared with its check: its expectation is in the code
            assert check.planted is not None and check.control_of in reg.REGISTRY
            assert name not in record, f"{name} is a declared control; its expected verdict is {check.expect}, not a record"
            continue
        assert name in record, f"{name} has no verdict of record in checks/verdicts.json"
        if check.control_of is not None:
            assert check.control_of in reg.REGISTRY, f"{name} controls unknown check {check.control_of}"
            rec = record[name] if isinstance(record[name], str) else record[name]["default"]
            if rec == VERIFIED:  # a positive control belongs to a refuted check
                assert record[check.control_of] == REFUTED, f"positive control {name} needs a refuted target"
    stale = sorted(set(record) - set(reg.REGISTRY))
    assert not stale, f"checks/verdicts.json names checks that no longer exist: {stale}"


def test_every_check_is_a_test_item():
    """The single test entry parametrizes over the whole registry, and every module named like a
    check module registers at least one check (a misnamed module would be silently skipped)."""
    from .. import test_claims

    items = test_claims.test_check.pytestmark[0].args[1]
    assert sorted(items) == sorted(_registry())
    for mod in reg.check_modules():
        assert any(getattr(getattr(k.fn, "func", k.fn), "__module__", "") == f"checks.claims.{mod}"
                   for k in _registry().values()), f"checks/claims/{mod}.py registers no check"


def test_every_control_runs_through_its_checks_own_function():
    """A control is its check's function called with planted keyword arguments (functools.partial of
    the very same function object): same sizes, same strategy, same verdict rule.  No control may be
    written as a separate function."""
    import functools

    reg = _registry()
    controls = [k for k in reg.values() if k.control_of is not None]
    assert controls
    for k in controls:
        parent = reg[k.control_of]
        assert isinstance(k.fn, functools.partial), f"{k.name} is not declared with its check (controls={{...}})"
        assert k.fn.func is parent.fn, f"{k.name} does not call {parent.name}'s own function"
        assert not k.fn.args and k.fn.keywords == k.planted, f"{k.name} plants more than keyword arguments"
        assert k.strategy is parent.strategy and k.kind == parent.kind and k.max_examples == parent.max_examples
        assert k.expect in (REFUTED, VERIFIED)
        if k.expect == VERIFIED:  # a positive control belongs to a check recorded REFUTED somewhere
            rec = runner.verdicts_of_record()[parent.name]
            assert REFUTED in (rec.values() if isinstance(rec, dict) else [rec]), k.name


def test_readme_claims_table_is_up_to_date():
    from ..engine import readme

    assert readme.current() == readme.table(), "README.md's claims table is stale: run python -m checks.readme"
