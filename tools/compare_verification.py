"""Compare two verification.json files ignoring run metadata and timings.

Usage: python tools/compare_verification.py A.json B.json   (exit 1 and a diff summary if they differ)
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


def main(a: str, b: str) -> int:
    A, B = strip(json.load(open(a))), strip(json.load(open(b)))
    if A == B:
        print(f"identical verdicts and numbers: {a} == {b}")
        return 0
    for ca, cb in zip(A["claims"], B["claims"]):
        if ca != cb:
            print(f"{ca['id']}: differs (verdicts {ca['verdict']} vs {cb['verdict']})")
    return 1


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
