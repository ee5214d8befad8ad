"""Replay one example of a check: ``python -m checks.replay CHECK_NAME '{json spec}'``,
or rerun an experiment (deterministic under the loaded profile): ``python -m checks.replay CHECK_NAME``,
or print one trajectory's path extrema: ``python -m checks.replay --path '{"rule": ..., "m": ..., "seed": ...,
"method": ..., "step": ...}'`` (optionally ``"init"``).

Prints the margin (≥ 1 means the claim holds on that example) and every measured number.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys

from . import harness
from .strategies import Spec


def check_modules() -> list[str]:
    """The check modules: checks/<claim id, lower case, zero-padded>_<topic>.py, e.g. c06_theorem31."""
    import re

    import checks

    return sorted(m.name for m in pkgutil.iter_modules(checks.__path__) if re.fullmatch(r"[a-z]+\d+_\w+", m.name))


def load_all() -> None:
    for name in check_modules():
        importlib.import_module(f"checks.{name}")


def replay_path(payload: str) -> int:
    """Print the path extrema and the failure (if any) of one trajectory (from the cache when present)."""
    from . import _flows

    k = json.loads(payload)
    s = _flows.trajectory(k["rule"], k["m"], k["seed"], k.get("method"), k.get("step"), k.get("init", 0))
    print(f"trajectory {k}: λ₀ = {s.lambda0!r}, {s.steps} steps, failure: {s.failure}")
    for name, v in s.maxima.items():
        print(f"  {name} = {v!r}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--path":
        return replay_path(argv[1])
    if len(argv) not in (1, 2):
        print(__doc__)
        return 2
    load_all()
    name = argv[0]
    if name not in harness.REGISTRY:
        print(f"unknown check {name!r}; known: {', '.join(sorted(harness.REGISTRY))}")
        return 2
    check = harness.REGISTRY[name]
    if check.kind == "experiment":
        res = harness.run(name)
        print(f"{name} [{check.claim}] {check.statement}")
        print(f"verdict: {res.verdict}  examples: {res.examples}  worst margin: {res.worst_margin!r}")
        print(json.dumps(res.evidence, indent=1, default=str, ensure_ascii=False))
        return 0
    if len(argv) != 2:
        print(f"{name} is a property check: give the spec as JSON (see the report's replay line)")
        return 2
    payload = argv[1]
    spec = Spec(**json.loads(payload))
    out = check.fn(spec)
    print(f"{name} [{check.claim}] {check.statement}")
    print(f"spec: {spec}")
    print(f"margin: {out.margin!r}  ({'holds' if out.margin >= 1 else 'VIOLATED'})" if out.discarded is None
          else f"discarded: {out.discarded}")
    for k, v in out.numbers.items():
        print(f"  {k} = {v!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
