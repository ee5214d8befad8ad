"""The Hypothesis profile in use, and the one lookup of a per-profile table.

Profiles (registered in ``conftest.py``): ``dev`` (default), ``ci``, ``thorough``, ``explore``.  A
per-profile table holds ``"default"`` and any profile that differs from it, e.g.
``{"thorough": (64, …, 4096), "default": (64, …, 1024)}``; :func:`pick` returns the entry of the
loaded profile, and ``"default"`` for every profile the table does not name (the one fallback).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from hypothesis import settings

T = TypeVar("T")
DEFAULT = "default"


def current() -> str:
    """The name of the loaded Hypothesis profile."""
    return settings.get_current_profile_name()


def pick(table: Mapping[str, T]) -> T:
    """``table[profile]`` for the loaded profile, ``table["default"]`` when the table does not name it."""
    if DEFAULT not in table:
        raise KeyError(f"a per-profile table needs a {DEFAULT!r} entry, got keys {sorted(table)}")
    return table.get(current(), table[DEFAULT])


def examples() -> int:
    """Examples per property check under the loaded profile (Hypothesis' ``max_examples``)."""
    return settings.default.max_examples
