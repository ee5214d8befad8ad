"""Unit tests of the code closure that keys the task cache (checks.engine.tasks.closure): what a result
is computed from enters its hash, and nothing else does."""

from __future__ import annotations

import sys

import pytest

from ..engine import tasks
from ..model import paths
from ._modules import load_source

A_SOURCE = '''
CONST = {const}
UNUSED = {unused}


def helper(x):
    return x * CONST


def other():
    return UNUSED
'''

B_SOURCE = '''
import checks._closure_probe_a as pa
from checks._closure_probe_a import CONST as C


def f(x):
    return pa.helper(x) + C
'''


@pytest.fixture
def probe_modules(tmp_path):
    """Two modules inside the package's namespace: b uses a through an attribute and an imported name."""

    def load(const: int, unused: int):
        tasks.closure.cache_clear()
        tasks._module_defs.cache_clear()
        load_source(tmp_path / "a.py", "checks._closure_probe_a", A_SOURCE.format(const=const, unused=unused))
        return load_source(tmp_path / "b.py", "checks._closure_probe_b", B_SOURCE)

    yield load
    for name in ("checks._closure_probe_a", "checks._closure_probe_b"):
        sys.modules.pop(name, None)
    tasks.closure.cache_clear()
    tasks._module_defs.cache_clear()


def test_closure_follows_module_attributes_and_imported_names_only(probe_modules):
    code = tasks.closure(probe_modules(3, 4).f)
    assert b"FunctionDef(name='helper'" in code  # pa.helper: an attribute of a package module
    assert b"id='CONST', ctx=Store()" in code  # read by helper, and imported by name
    assert b"FunctionDef(name='other'" not in code and b"id='UNUSED', ctx=Store()" not in code


def test_an_edit_the_closure_does_not_reach_keeps_the_hash(probe_modules):
    first = tasks.closure(probe_modules(3, 4).f)
    assert tasks.closure(probe_modules(3, 5).f) == first  # UNUSED: read only by other()
    assert tasks.closure(probe_modules(7, 4).f) != first  # CONST: read by f's helper


def test_a_pilot_trajectory_does_not_hash_the_panel_module_whole():
    """A pilot path reaches the panel only through the problem table (its data and network functions);
    the rest of checks/model/panel.py (the λ∞ task, the small-angle data, the ladder) is not its code."""
    code = paths.key("gamma0/2c", 1024, 0).code()
    assert b"FunctionDef(name='network'" in code and b"FunctionDef(name='_moved'" in code
    for absent in (b"ClassDef(name='Limit'", b"FunctionDef(name='small_theta_data'", b"id='LADDER', ctx=Store()",
                   b"id='SMALL_THETAS', ctx=Store()"):
        assert absent not in code, absent
