"""Rewrite the README's claims table from docs/claims.md, the registry and checks/verdicts.json:
``python -m checks.readme`` (the logic is :mod:`checks.engine.readme`)."""

from __future__ import annotations

from .engine import readme

if __name__ == "__main__":
    raise SystemExit(readme.main())
