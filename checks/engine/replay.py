"""Replay one example of a check, ``CHECK_NAME '{json spec}'``, or rerun an experiment
(deterministic under the loaded profile), ``CHECK_NAME``.  Prints the margin (≥ 1 means the claim
holds on that example) and every measured number.  The command line is ``python -m checks.replay``
(``checks/replay.py``), which also hands over the spec type and any further replayers (e.g.
``--path`` for one trajectory)."""

from __future__ import annotations

import json
from collections.abc import Callable

from . import runner
from .registry import REGISTRY, load_all


def main(argv: list[str], *, spec_type: type, replayers: dict[str, Callable[[str], int]], usage: str) -> int:
    if len(argv) == 2 and argv[0] in replayers:
        return replayers[argv[0]](argv[1])
    if len(argv) not in (1, 2):
        print(usage)
        return 2
    load_all()
    name = argv[0]
    if name not in REGISTRY:
        print(f"unknown check {name!r}; known: {', '.join(sorted(REGISTRY))}")
        return 2
    check = REGISTRY[name]
    if check.kind == "experiment":
        res = runner.run(name).result
        print(f"{name} [{check.claim}] {check.statement}")
        print(f"verdict: {res.verdict}  examples: {res.examples}  worst margin: {res.worst_margin!r}")
        print(json.dumps(res.evidence, indent=1, default=str, ensure_ascii=False))
        return 0
    if len(argv) != 2:
        print(f"{name} is a property check: give the spec as JSON (see the report's replay line)")
        return 2
    spec = spec_type(**json.loads(argv[1]))
    out = check.fn(spec)
    print(f"{name} [{check.claim}] {check.statement}")
    print(f"spec: {spec}")
    print(f"margin: {out.margin!r}  ({'holds' if out.margin >= 1 else 'VIOLATED'})" if out.discarded is None
          else f"discarded: {out.discarded}")
    for k, v in out.numbers.items():
        print(f"  {k} = {v!r}")
    return 0
