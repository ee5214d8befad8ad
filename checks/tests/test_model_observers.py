"""The path model's observers and the code hash of trajectories: an observer's code enters the hash
of exactly the trajectories that carry it, so changing one claim's observer recomputes only those
(and an edit elsewhere in the observer's module, or to its prose, recomputes nothing)."""

from __future__ import annotations

import sys

import pytest

from ..engine import tasks
from ..model import observers, paths
from ._modules import load_source

PROBE = '''
"""A probe observer (version {v})."""
import numpy as np

from checks.model.observers import Observer, observer

SCALE = {scale}


def unrelated():
    return {unrelated}


def _weight(x):
    return SCALE * x


@observer
class Probe(Observer):
    """Records the largest loss seen ({v})."""

    name = "probe_for_test"

    @classmethod
    def carried_by(cls, k):
        return k.rule == "gamma0/c" and k.seed == 1

    def __init__(self, ctx):
        super().__init__(ctx)
        self.top = 0.0

    def on_step(self, st):
        self.top = max(self.top, _weight(float(st.loss)))

    def result(self, flow):
        return {{"top": self.top}}
'''


def _load_probe(tmp_path, v: int, scale: float = 1.0, unrelated: int = 0):
    """Write and import one version of the probe module (a stand-in for a claim module being edited)."""
    return load_source(tmp_path / f"probe_v{v}.py", f"checks_probe_v{v}",
                       PROBE.format(v=v, scale=scale, unrelated=unrelated))


@pytest.fixture
def probe_cache(tmp_path, monkeypatch):
    """A private cache, a counter of computed trajectories, and the probe removed afterwards."""
    monkeypatch.setattr(tasks, "CACHE", tmp_path / "cache")
    calls = []
    real = paths.compute
    monkeypatch.setattr(paths, "compute", lambda k: calls.append(k) or real(k))

    def fresh():
        tasks._memo.clear()
        paths._load.cache_clear()
        tasks.code_hash.cache_clear()
        tasks.closure.cache_clear()

    fresh()
    yield calls, fresh
    observers.OBSERVERS.pop("probe_for_test", None)
    for v in range(1, 5):
        sys.modules.pop(f"checks_probe_v{v}", None)
    fresh()


def _keys() -> list[paths.Key]:
    # m = 32: at m = 16 the paths reach q = 0.999–0.999995, where a Picard iterate certifies 1e-11 only
    # at an exact fixed point of the rounded map (q/(1 − q)·ε > 1e-11), and seed 2 raises
    # ConvergenceError, as documented; at 32 every q stays below 0.9.
    return [paths.key("gamma0/c", 32, seed, "heun", 0.5) for seed in range(3)]


def test_changing_an_observer_recomputes_only_the_paths_that_carry_it(tmp_path, probe_cache):
    calls, fresh = probe_cache
    _load_probe(tmp_path, 1)
    keys = _keys()
    assert [k.observers for k in keys] == [(), ("probe_for_test",), ()]
    first = [paths.summary(k) for k in keys]
    assert len(calls) == 3 and "probe_for_test" in first[1].observed and first[0].observed == {}
    files = [tasks.path(k) for k in keys]

    # the observer's code changes (a module-level helper it calls): only seed 1 is recomputed
    fresh()
    calls.clear()
    _load_probe(tmp_path, 2, scale=2.0)
    keys2 = _keys()
    second = [paths.summary(k) for k in keys2]
    assert [k.seed for k in calls] == [1]
    assert [tasks.path(k) for k in keys2] == [files[0], tasks.path(keys2[1]), files[2]] != files
    assert second[1].observed["probe_for_test"]["top"] == 2 * first[1].observed["probe_for_test"]["top"]
    assert second[0] == first[0] and second[2] == first[2]

    # an edit elsewhere in the same module (code the observer does not reach) recomputes nothing
    fresh()
    calls.clear()
    _load_probe(tmp_path, 3, scale=2.0, unrelated=7)
    assert [tasks.path(k) for k in _keys()] == [tasks.path(k) for k in keys2]
    [paths.summary(k) for k in _keys()]
    assert calls == []


def test_a_path_without_the_observer_does_not_hash_its_code(tmp_path, probe_cache):
    _, fresh = probe_cache
    mod = _load_probe(tmp_path, 4)
    k0, k1 = _keys()[:2]
    probe = tasks.closure(mod.Probe)
    assert probe in k1.code() and probe not in k0.code()
    # the closure holds the class, the helper it calls and the constant that helper reads, not the rest
    assert b"_weight" in probe and b"SCALE" in probe and b"unrelated" not in probe


def test_every_registered_observer_is_carried_by_some_planned_path():
    """An observer no planned trajectory carries would record nothing: every registered observer is
    carried by a path some registered check reads (under the loaded profile)."""
    from ..engine import registry

    registry.load_all()
    keys = [t for t in registry.tasks_of(registry.REGISTRY) if isinstance(t, paths.Key)]
    carried = {name for k in keys for name in k.observers}
    assert set(observers.OBSERVERS) - {"probe_for_test"} <= carried, set(observers.OBSERVERS) - carried


def test_observer_names_are_unique():
    """A second observer under a registered name is refused (and not registered).  The claim modules
    are loaded first: run before them (another xdist worker's order), the test itself would register
    the name and the real observer's import would then fail."""
    from ..engine import registry

    registry.load_all()
    before = dict(observers.OBSERVERS)

    class A(observers.Observer):
        name = "kernel_interpolation"

    with pytest.raises(ValueError, match="two observers are called 'kernel_interpolation'"):
        observers.observer(A)
    assert observers.OBSERVERS == before
