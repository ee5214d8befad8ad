"""The claims, read from their one declaration: ``docs/claims.md``.

Each claim is a section ``## <ID> · <title>`` followed by ``- reference:``, ``- tag:`` and
``- summary:`` lines.  Checks and controls are declared with their code (``checks.engine.registry``);
``checks/tests/test_engine_registry.py`` cross-checks the two and fails when they disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "claims.md"
TAGS = ("paper", "derived", "suspect", "beyond")
_HEAD = re.compile(r"^## ([A-Z]+\d+) · (.+)$")
_FIELD = re.compile(r"^- (reference|tag|summary): (.+)$")


@dataclass(frozen=True)
class Claim:
    id: str
    reference: str
    tag: str
    title: str
    statement: str  # the one-line summary shown in report rows


def parse(text: str) -> tuple[Claim, ...]:
    """Claims in document order; raises ValueError naming a malformed section."""
    out: list[Claim] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _HEAD.match(line)
        if not m:
            continue
        fields = {}
        for nxt in lines[i + 1:i + 4]:
            f = _FIELD.match(nxt)
            if f:
                fields[f.group(1)] = f.group(2).strip()
        missing = {"reference", "tag", "summary"} - set(fields)
        if missing:
            raise ValueError(f"docs/claims.md, claim {m.group(1)}: missing {sorted(missing)} after its heading")
        if fields["tag"] not in TAGS:
            raise ValueError(f"docs/claims.md, claim {m.group(1)}: tag {fields['tag']!r} is not one of {TAGS}")
        out.append(Claim(m.group(1), fields["reference"], fields["tag"], m.group(2).strip(), fields["summary"]))
    ids = [c.id for c in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"docs/claims.md declares {dup} more than once")
    return tuple(out)


CLAIMS: tuple[Claim, ...] = parse(DOC.read_text(encoding="utf-8"))
BY_ID = {c.id: c for c in CLAIMS}


def claim_sort_key(cid: str) -> tuple[int, str]:
    """Document order (unknown IDs last)."""
    order = {c.id: k for k, c in enumerate(CLAIMS)}
    return (order.get(cid, len(order)), cid)
