"""The Hypothesis profile in use, and the one lookup of a per-profile table.

Profiles (registered in ``conftest.py``): ``dev`` (default), ``ci``, ``thorough``, ``decide``,
``explore``.  A per-profile table holds ``"default"`` and any profile that differs from it, e.g.
``{"thorough": (64, …, 2048), "default": (64, …, 1024)}``; :func:`pick` returns the entry of the
loaded profile, else that of the profile it extends (:data:`EXTENDS`: ``decide`` is ``thorough``
plus descent's panel rungs 2048 and 4096), else ``"default"``.  Tables and the verdicts of record are read the
same way, so a profile that extends another inherits its records too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from hypothesis import settings

T = TypeVar("T")
DEFAULT = "default"
#: A profile that is another one with a few tables changed: looked up first, then its base.
EXTENDS = {"decide": "thorough"}


def current() -> str:
    """The name of the loaded Hypothesis profile."""
    return settings.get_current_profile_name()


def pick(table: Mapping[str, T]) -> T:
    """``table[profile]`` for the loaded profile, else for the profile it extends, else ``table["default"]``."""
    return entry(table, current())


def entry(table: Mapping[str, T], profile: str) -> T:
    """``table``'s entry for the named profile (the same lookup as :func:`pick`)."""
    if DEFAULT not in table:
        raise KeyError(f"a per-profile table needs a {DEFAULT!r} entry, got keys {sorted(table)}")
    name: str | None = profile
    while name is not None:
        if name in table:
            return table[name]
        name = EXTENDS.get(name)
    return table[DEFAULT]


def examples() -> int:
    """Examples per property check under the loaded profile (Hypothesis' ``max_examples``)."""
    return settings.default.max_examples
