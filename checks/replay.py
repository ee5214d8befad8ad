"""Replay one example of a check: ``python -m checks.replay CHECK_NAME '{json spec}'``.

Prints the margin (≥ 1 means the claim holds on that example) and every measured number.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys

from . import harness
from .strategies import Spec


def load_all() -> None:
    import checks

    for mod in pkgutil.iter_modules(checks.__path__):
        if mod.name.startswith("test_c"):
            importlib.import_module(f"checks.{mod.name}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    load_all()
    name, payload = argv
    check = harness.REGISTRY[name]
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
