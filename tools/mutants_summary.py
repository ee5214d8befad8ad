"""Summarise a mutmut run into reports/mutants.json (kill rate, survivors with their diffs).

Run from the project root after ``mutmut run`` (``nox -s mutants`` does both).  Reads mutmut's
per-file results through its own API.  Survivors are listed with the one-line reason of
``tools/mutants_equivalent.json`` when a reviewer has explained them:

* ``equivalent``: the mutant computes the same results as the original on every valid input
  (e.g. ``H.shape[1]`` for a square H, a dtype that the value already has);
* ``unobservable``: the behaviour differs only beyond a limit no input reaches (an ε-level
  threshold window, a generous iteration budget one pass larger) or only in wording that no
  contract fixes.

Entries naming a mutant that is no longer a survivor are reported as stale (and fail with
``--strict``), so the file cannot silently drift from the run.
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
    raw = json.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    equivalent = {k: (v if isinstance(v, dict) else {"kind": "equivalent", "reason": v})
                  for k, v in raw.items() if not k.startswith("_")}
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
    by_kind = Counter(s["equivalent"]["kind"] for s in survivors if s["equivalent"])
    survivor_names = {s["mutant"] for s in survivors}
    stale = sorted(k for k in equivalent if k not in survivor_names)
    reached = checked - counts["no tests"]  # mutants some selected check executes
    out = {
        "checked": checked, "killed": killed, "counts": dict(counts), "not_run": counts["not checked"],
        "kill_rate": killed / checked if checked else None,
        "kill_rate_reached": killed / reached if reached else None,
        "kill_rate_excluding_equivalent": (killed / (checked - by_kind["equivalent"])
                                           if checked - by_kind["equivalent"] > 0 else None),
        "kill_rate_excluding_explained": killed / (checked - explained) if checked - explained > 0 else None,
        "explained": explained, "explained_by_kind": dict(by_kind),
        "unexplained": len(survivors) - explained, "stale_explanations": stale,
        "goal": "≥ 95% killed, and every survivor explained (tools/mutants_equivalent.json)",
        "per_file": {k: dict(v) for k, v in per_file.items()},
        "survivors": survivors,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(f"mutants: {checked} checked ({counts['not checked']} not run), {killed} killed ({100 * (out['kill_rate'] or 0):.1f}%; "
          f"{100 * (out['kill_rate_reached'] or 0):.1f}% of the {reached} reached by a selected check), "
          f"{counts['survived']} survived, {counts['no tests']} reached by no selected check, "
          f"{explained} explained {dict(by_kind)}, {len(survivors) - explained} unexplained -> {OUT}")
    if stale:
        print(f"stale entries in {EQUIVALENT.name} (no longer survivors): {', '.join(stale)}")
    return 1 if ("--strict" in sys.argv and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
