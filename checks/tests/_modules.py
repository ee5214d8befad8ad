"""A helper of the unit tests that edit code: write a module's source to a file and import it under a name."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType


def load_source(path: Path, name: str, source: str) -> ModuleType:
    """Write ``source`` (dedented) to ``path`` and import it as module ``name`` (registered in sys.modules)."""
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
