"""Compare two verification.json files ignoring run metadata and timings.

Usage: python tools/compare_verification.py A.json B.json [--show N]
Exit 0 if they are identical apart from "run" and "timing"; else exit 1 and list, per claim that
differs, its verdicts and the first N (default 10) differing places as JSON paths with both values.
"""

from __future__ import annotations

import json
import sys


def strip(d):
    if isinstance(d, dict):
        return {k: strip(v) for k, v in d.items() if k not in ("timing", "run")}
    if isinstance(d, list):
        return [strip(x) for x in d]
    return d


def differences(a, b, where: str = ""):
    """Every leaf path where a and b differ (keys present on one side only included)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                yield f"{where}/{k}", a.get(k, "<absent>"), b.get(k, "<absent>")
            else:
                yield from differences(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{where}[{i}]")
    elif a != b:
        yield where, a, b


def main(a: str, b: str, show: int = 10) -> int:
    A, B = strip(json.load(open(a))), strip(json.load(open(b)))
    if A == B:
        print(f"identical verdicts and numbers: {a} == {b}")
        return 0
    ca_by = {c["id"]: c for c in A["claims"]}
    cb_by = {c["id"]: c for c in B["claims"]}
    for cid in sorted(set(ca_by) | set(cb_by)):
        ca, cb = ca_by.get(cid), cb_by.get(cid)
        if ca == cb:
            continue
        print(f"{cid}: differs (verdicts {ca and ca['verdict']} vs {cb and cb['verdict']})")
        for k, (where, x, y) in enumerate(differences(ca, cb)):
            if k == show:
                print("  …")
                break
            print(f"  {where}: {str(x)[:160]!s}  ≠  {str(y)[:160]!s}")
    return 1


if __name__ == "__main__":
    args = [x for x in sys.argv[1:] if not x.startswith("--show")]
    n = next((int(x.split("=")[1]) for x in sys.argv[1:] if x.startswith("--show=")), 10)
    raise SystemExit(main(args[0], args[1], n))
