"""The check registry and the discovery of claim modules.

A *property check* ``check_<id>_<property>(spec, **planted) -> Outcome`` is registered with
:func:`property_check`: the runner asks Hypothesis for an example with margin < 1.  An
*experiment* ``check_<id>_<property>(**planted) -> Result`` (statistical and asymptotic claims) is
registered with :func:`experiment`.  A *control* is declared with its check (``controls={suffix:
Planted(...)}``) and registered as ``functools.partial`` of the check's own function with the
planted keyword arguments: same sizes, same strategy, same verdict rule.  ``tasks`` names the
independent work (:mod:`checks.engine.tasks`) an experiment reads, computed ahead on the executor;
it may return more tasks once earlier ones are cached (a stage whose plan follows from earlier
results), and the prefetch asks again until nothing new appears.

Discovery: :func:`load_all` imports every claim module ``checks/claims/<id>_<topic>.py``; importing
a module registers its checks.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .declarations import BY_ID, claim_sort_key
from .verdict import REFUTED, Verdict

CLAIMS_PACKAGE = "checks.claims"
#: A claim module: <claim id, lower case, zero-padded>_<topic>, e.g. c06_theorem31, gd_gradient_descent.
MODULE_NAME = re.compile(r"[a-z]+\d*_\w+")


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
    planted: dict | None = None  # a control: the keyword arguments it plants
    expect: Verdict | None = None  # a control's expected verdict (REFUTED: negative, VERIFIED: positive)
    tasks: Callable[[], list] | None = None  # independent work the check reads, for computing ahead
    finding: bool = False  # a side finding shown beside the claim; it does not decide the claim's headline verdict


@dataclass(frozen=True)
class Planted:
    """A control declared with its check: the check's own function, sizes and rule, called with
    ``kwargs`` planting a false statement (``expect`` REFUTED) or a true variant of a refuted one
    (``expect`` VERIFIED)."""

    statement: str
    kwargs: dict
    expect: Verdict = REFUTED


REGISTRY: dict[str, Check] = {}


def _same_fn(a, b) -> bool:
    if a is b:
        return True
    return getattr(a, "func", None) is not None and getattr(a, "func", None) is getattr(b, "func", None) \
        and a.keywords == b.keywords


def _register(check: Check) -> Check:
    if check.name in REGISTRY and not _same_fn(REGISTRY[check.name].fn, check.fn):
        raise ValueError(f"duplicate check name {check.name}")
    if check.claim not in BY_ID:
        raise ValueError(f"{check.name}: claim {check.claim!r} is not declared in docs/claims.md")
    REGISTRY[check.name] = check
    return check


def _register_with_controls(check: Check, controls: dict[str, Planted] | None) -> None:
    _register(check)
    for suffix, pl in (controls or {}).items():
        _register(Check(f"{check.name}_{suffix}", check.claim, pl.statement, functools.partial(check.fn, **pl.kwargs),
                        check.strategy, check.name, check.kind, check.max_examples, dict(pl.kwargs), pl.expect,
                        check.tasks))


def property_check(claim: str, strategy, *, statement: str, max_examples: int | None = None,
                   controls: dict[str, Planted] | None = None):
    """Register ``fn(spec) -> Outcome`` as a property check of ``claim``.

    ``max_examples`` caps the profile's budget for expensive checks (mpmath); it never
    raises it.  ``controls`` declares planted variants run through ``fn`` itself.
    """

    def deco(fn):
        _register_with_controls(Check(fn.__name__, claim, statement, fn, strategy, None, "property", max_examples),
                                controls)
        return fn

    return deco


def experiment(claim: str, *, statement: str, controls: dict[str, Planted] | None = None,
               tasks: Callable[[], list] | None = None, finding: bool = False):
    """Register ``fn(**planted) -> Result`` as an experiment of ``claim``; ``controls`` declares
    planted variants run through ``fn`` itself; ``tasks`` lists the independent work it reads,
    computed ahead on the executor; ``finding`` marks a side finding."""

    def deco(fn):
        _register_with_controls(Check(fn.__name__, claim, statement, fn, None, None, "experiment", tasks=tasks,
                                      finding=finding), controls)
        return fn

    return deco


def check_modules() -> list[str]:
    """The claim modules (checks/claims/<id>_<topic>.py), sorted."""
    pkg = importlib.import_module(CLAIMS_PACKAGE)
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if MODULE_NAME.fullmatch(m.name)
                  and not m.name.startswith("test_"))


@functools.cache
def load_all() -> tuple[str, ...]:
    """Import every claim module (registering its checks and observers); idempotent."""
    names = tuple(check_modules())
    for name in names:
        importlib.import_module(f"{CLAIMS_PACKAGE}.{name}")
    return names


def tasks_of(names) -> list:
    """The union of the tasks that the named checks read, in a stable order."""
    seen: dict = {}
    for name in names:
        check = REGISTRY.get(name)
        if check is not None and check.tasks is not None:
            for t in check.tasks():
                seen.setdefault(t, None)
    return list(seen)


def ordered_names() -> list[str]:
    """Every registered check, by claim (document order), checks before their controls."""
    return sorted(REGISTRY, key=lambda n: (claim_sort_key(REGISTRY[n].claim), REGISTRY[n].control_of or n, n))
