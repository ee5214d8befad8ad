"""Render reports/index.html from reports/verification.json (no mathematics recomputed).

Usage: python -m reports.render [path/to/verification.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from checks.engine.verdict import NOT_CHECKED, Verdict

HERE = Path(__file__).resolve().parent

BADGE = {Verdict.VERIFIED: "ok", Verdict.REFUTED: "bad", Verdict.INCONCLUSIVE: "warn", Verdict.VACUOUS: "vac",
         NOT_CHECKED: "none"}


def fmt(x, digits: int = 4) -> str:
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(fmt(v, digits) for v in x) + "]"
    if isinstance(x, dict):
        return ", ".join(f"{k}={fmt(v, digits)}" for k, v in x.items())
    return str(x)


def render(data: dict) -> str:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = fmt
    env.filters["dropkeys"] = lambda d, *keys: {k: v for k, v in d.items() if k not in keys} if isinstance(d, dict) else d
    figures = {}
    try:
        from . import figures as figmod

        figures = figmod.all_figures(data)
    except ImportError:  # matplotlib missing: the page still renders, without figures
        figures = {}
    claims = data["claims"]
    for c in claims:  # wall time per claim: its checks and controls (summed over xdist workers), and its tasks
        c["seconds"] = sum(float((ch.get("timing") or {}).get("seconds") or 0.0)
                           for ch in c.get("checks", []) + c.get("side_findings", []) + c.get("controls", []))
        c["task_minutes"] = float(((c.get("timing") or {}).get("task_seconds") or {}).get("seconds") or 0.0) / 60
    counts = {k: sum(c["verdict"] == k for c in claims) for k in BADGE}
    for c in claims:
        c.setdefault("side_findings", [])
    findings = [c for c in claims if c["verdict"] in (Verdict.REFUTED, Verdict.INCONCLUSIVE, Verdict.VACUOUS)
                or any(f["verdict"] != Verdict.VERIFIED for f in c["side_findings"])
                or any(ch["verdict"] == Verdict.VACUOUS for ch in c.get("checks", []))]
    bench_path = HERE / "bench.json"
    bench = json.loads(bench_path.read_text(encoding="utf-8")) if bench_path.exists() else None
    mutants_path = HERE / "mutants.json"
    mutants = json.loads(mutants_path.read_text(encoding="utf-8")) if mutants_path.exists() else None
    return env.get_template("index.html.j2").render(
        run=data["run"], claims=claims, counts=counts, findings=findings, badge=BADGE, figures=figures, bench=bench, mutants=mutants,
        V=Verdict,
    )


def main(argv: list[str]) -> int:
    src = Path(argv[0]) if argv else HERE / "verification.json"
    if not src.exists():
        print(f"{src} does not exist: run the suite first (nox -s report, or pytest)", file=sys.stderr)
        return 1
    data = json.loads(src.read_text(encoding="utf-8"))
    out = src.with_name("index.html")
    out.write_text(render(data), encoding="utf-8")
    print(f"wrote {out} ({sum(1 for c in data['claims'] if c['verdict'] != NOT_CHECKED)} claims checked)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
