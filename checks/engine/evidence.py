"""Evidence records: one JSON line per check result, one file per xdist worker.

Writers call :func:`record`; the controller's ``pytest_sessionfinish`` reads the spool
(:func:`load_spool`) and builds ``reports/verification.json`` (:mod:`checks.engine.report_data`).  Records carry no wall-clock
data except in the separate ``timing`` field, so verdicts and numbers are
identical across ``-n`` and test order.
"""

from __future__ import annotations

import json
import math
import os
from enum import Enum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"
SPOOL = REPORTS / ".evidence"
VERIFICATION = REPORTS / "verification.json"


def jsonable(x: Any) -> Any:
    """Plain JSON types; non-finite floats become strings so the file stays valid JSON."""
    import numpy as np

    if isinstance(x, Enum):
        return x.value
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        f = float(x)
        return f if math.isfinite(f) else str(f)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if hasattr(x, "as_dict"):
        return jsonable(x.as_dict())
    return x


def reset() -> None:
    SPOOL.mkdir(parents=True, exist_ok=True)
    for p in SPOOL.glob("*.jsonl"):
        p.unlink()


def record(entry: dict) -> None:
    SPOOL.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(SPOOL / f"{worker}.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(jsonable(entry), sort_keys=True) + "\n")


def load_spool() -> list[dict]:
    out: list[dict] = []
    for p in sorted(SPOOL.glob("*.jsonl")):
        with open(p, encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out


class SpoolTail:
    """Follows the spool files as workers append to them (for progress lines on the controller)."""

    def __init__(self) -> None:
        self.offsets: dict[Path, int] = {}

    def new_entries(self) -> list[dict]:
        out: list[dict] = []
        for p in sorted(SPOOL.glob("*.jsonl")):
            with open(p, encoding="utf-8") as fh:
                fh.seek(self.offsets.get(p, 0))
                chunk = fh.read()
            complete = chunk[: chunk.rfind("\n") + 1]  # a line still being written waits for the next call
            self.offsets[p] = self.offsets.get(p, 0) + len(complete.encode("utf-8"))
            out.extend(json.loads(line) for line in complete.splitlines() if line.strip())
        return out
