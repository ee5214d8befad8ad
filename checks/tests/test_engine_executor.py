"""The sweep executor (checks/engine/executor.py): local worker processes and a Dask LocalCluster give
identical evidence, a worker killed mid-sweep is survived, and a failing task never yields a
partial sweep.  Small trajectories (m = 32, 48: ≈ 0.5 s each) stand in for the real sweeps."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from ..engine import executor as _executor
from ..engine import registry, runner
from ..engine import tasks as _tasks
from ..engine.evidence import jsonable
from ..model import paths

KEYS = [paths.key(rule, m, seed, "heun", paths.SAFETY) for rule in ("gamma0/2c",) for m in (32, 48) for seed in range(2)]
SMALL_PLAN = {"widths": (32, 48), "seeds": (2, 2), "decision": (48,)}


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A private trajectory cache and a small plan, so these tests neither read nor fill the real one."""
    monkeypatch.setattr(_tasks, "CACHE", tmp_path)
    monkeypatch.setitem(paths.PLANS, "default", SMALL_PLAN)
    monkeypatch.setitem(paths.PLANS, "thorough", SMALL_PLAN)
    monkeypatch.delenv(_executor.ENV_SCHEDULER, raising=False)
    monkeypatch.setattr(_executor, "progress_writer", lambda line: None)
    paths._load.cache_clear()
    _tasks._memo.clear()
    yield tmp_path / "flows"
    paths._load.cache_clear()
    _tasks._memo.clear()


def _files(cache: Path) -> dict[str, dict]:
    """The cached results (without their compute times, which differ between runs)."""
    return {p.name: json.loads(p.read_text())["task_result"] for p in sorted(cache.glob("*.json"))}


def _results(got: dict) -> dict:
    return {k: v["task_result"] for k, v in got.items()}


def _compute(k) -> dict:
    return json.loads(json.dumps(k.compute()))


def _evidence(name: str) -> str:
    """A sweep check's whole Result, as the evidence file would hold it."""
    registry.load_all()
    paths._load.cache_clear()
    _tasks._memo.clear()
    res = runner.run(name).result
    return json.dumps(jsonable({"verdict": res.verdict, "margin": res.worst_margin, "evidence": res.evidence}),
                      sort_keys=True)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c:
        yield c


def test_local_processes_match_in_process_computation(tmp_cache):
    direct = {k: _compute(k) for k in KEYS}
    got = _executor.run(_tasks.run_task, KEYS, label="test", on_result=_tasks.store)
    assert _results(got) == direct  # bitwise: same code, one BLAS thread in every process
    assert all(v["task_seconds"] > 0 for v in got.values())
    assert len(_files(tmp_cache)) == len(KEYS)


def test_dask_local_cluster_gives_identical_evidence(tmp_cache, cluster, monkeypatch):
    """The same check, once on local worker processes and once on a Dask LocalCluster (processes):
    identical cache files and identical evidence."""
    paths.ensure(KEYS, label="local")
    local_files = _files(tmp_cache)
    local_ev = _evidence("check_c6_loss_rate")
    for p in tmp_cache.glob("*.json"):
        p.unlink()
    monkeypatch.setenv(_executor.ENV_SCHEDULER, cluster.scheduler_address)
    paths.ensure(KEYS, label="dask")
    assert _files(tmp_cache) == local_files
    assert _evidence("check_c6_loss_rate") == local_ev


def test_dask_worker_killed_mid_sweep_is_survived(tmp_cache, cluster, monkeypatch):
    """SIGKILL one Dask worker after the first result: Dask reschedules its tasks (the nanny
    restarts the worker), the sweep completes, and the results equal the in-process ones."""
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
    killed = []

    def on_result(k, res):
        _tasks.store(k, res)
        if not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    monkeypatch.setenv(_executor.ENV_SCHEDULER, cluster.scheduler_address)
    got = _executor.run(_tasks.run_task, KEYS, label="kill", on_result=on_result)
    assert killed and len(got) == len(KEYS)
    assert _results(got) == {k: _compute(k) for k in KEYS}


def _dies_once(marker: str):
    """A task that kills its own worker process the first time it runs (fault injection)."""
    def task(k):
        if k == KEYS[0] and not Path(marker).exists():
            Path(marker).write_text("died")
            os._exit(1)
        return _tasks.run_task(k)

    return task


class _DiesOnce:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self, k):
        return _dies_once(self.marker)(k)


def test_local_worker_death_is_retried(tmp_cache, tmp_path):
    """A local worker process that dies breaks the pool; the lost tasks run again on a new pool."""
    lines = []
    _executor.progress_writer = lines.append
    got = _executor.run(_DiesOnce(str(tmp_path / "marker")), KEYS, label="die", on_result=_tasks.store)
    assert len(got) == len(KEYS) and any("worker lost" in ln for ln in lines)
    assert got[KEYS[0]]["task_result"] == _compute(KEYS[0])


class _Typed:
    def __call__(self, k):
        import theory

        if k.seed == 1:
            raise theory.ConvergenceError("equilibrium (Picard)", 7, [1e-3, 1e-4], 1e-11)
        return _tasks.run_task(k)


def test_typed_error_fails_the_sweep_with_its_key(tmp_cache):
    """A task that raises a documented theory error is reported with its (rule, m, seed) and the
    sweep has no result: nothing is silently dropped."""
    with pytest.raises(_executor.SweepError) as e:
        _executor.run(_Typed(), KEYS, label="typed", on_result=_tasks.store)
    msg = str(e.value)
    assert "2 of 4 tasks did not complete" in msg
    assert "rule=gamma0/2c m=32 seed=1 method=heun step=0.25" in msg
    assert "ConvergenceError: equilibrium (Picard) did not converge" in msg
    assert "rule=gamma0/2c m=48 seed=1" in msg


def test_further_initialisations_keep_the_data():
    """``init`` ≥ 1 draws another network for the same data (Theorem 3.1's probability is over the
    initialisation with the data fixed); init 0 is the sweep's own network, and each init is its own
    cache entry."""
    net0, X0, y0 = paths.problem("gamma0/2c", 16, 3)
    net_a, X_a, y_a = paths.problem("gamma0/2c", 16, 3, init=0)
    net1, X1, y1 = paths.problem("gamma0/2c", 16, 3, init=1)
    net2, _, _ = paths.problem("gamma0/2c", 16, 3, init=2)
    assert np.array_equal(net0.A, net_a.A) and np.array_equal(X0, X_a) and np.array_equal(y0, y_a)
    assert np.array_equal(X0, X1) and np.array_equal(y0, y1)
    assert not np.array_equal(net0.A, net1.A) and not np.array_equal(net1.A, net2.A)
    k0, k3 = paths.key("gamma0/c", 1024, 28), paths.key("gamma0/c", 1024, 28, init=3)
    assert k0.stem == "path-pilot-gamma0_c-1024-28-exp-0.25-0" and k3.stem == "path-pilot-gamma0_c-1024-28-exp-0.25-3"
    assert k3 != k0 and _tasks.path(k3) != _tasks.path(k0)
