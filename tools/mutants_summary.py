"""Summarise a mutmut run into reports/mutants.json (kill rate, survivors with their diffs).

Run from the project root after ``mutmut run`` (``nox -s mutants`` does both).  Reads mutmut's
per-file results through its own API.  Survivors are listed with the one-line reason of
``tools/mutants_equivalent.json`` when a reviewer has shown them equivalent.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "reports" / "mutants.json"
EQUIVALENT = ROOT / "tools" / "mutants_equivalent.json"


def main() -> int:
    from mutmut.__main__ import SourceFileMutationData, get_diff_for_mutant, walk_mutatable_files
    from mutmut.stats import status_by_exit_code

    counts: Counter[str] = Counter()
    per_file: dict[str, Counter] = {}
    survivors = []
    equivalent = json.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        c = per_file.setdefault(str(path), Counter())
        for name, code in data.exit_code_by_key.items():
            status = status_by_exit_code[code]
            counts[status] += 1
            c[status] += 1
            if status in ("survived", "no tests", "suspicious"):
                try:
                    diff = get_diff_for_mutant(name, path=data.path)
                except Exception as e:  # pragma: no cover - diff is informative only
                    diff = f"(diff unavailable: {e})"
                survivors.append({"mutant": name, "status": status, "diff": diff,
                                  "equivalent": equivalent.get(name)})
    checked = sum(v for k, v in counts.items() if k != "not checked")
    killed = counts["killed"] + counts["timeout"] + counts["caught by type check"]
    explained = sum(1 for s in survivors if s["equivalent"])
    reached = checked - counts["no tests"]  # mutants some selected check executes
    out = {
        "checked": checked, "killed": killed, "counts": dict(counts), "not_run": counts["not checked"],
        "kill_rate": killed / checked if checked else None,
        "kill_rate_reached": killed / reached if reached else None,
        "kill_rate_excluding_equivalent": killed / (checked - explained) if checked - explained > 0 else None,
        "goal": "≥ 90% (or each survivor shown equivalent)",
        "per_file": {k: dict(v) for k, v in per_file.items()},
        "survivors": survivors,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(f"mutants: {checked} checked ({counts['not checked']} not run), {killed} killed ({100 * (out['kill_rate'] or 0):.1f}%; "
          f"{100 * (out['kill_rate_reached'] or 0):.1f}% of the {reached} reached by a selected check), "
          f"{counts['survived']} survived, {counts['no tests']} reached by no selected check, "
          f"{explained} shown equivalent -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
