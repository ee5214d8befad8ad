"""Top-level pytest configuration: Hypothesis profiles, one BLAS thread per worker,
evidence collection and the merge into reports/verification.json."""

from __future__ import annotations

import os

from checks.engine.memory import keep_freed_memory
from checks.engine.threads import one_blas_thread

# One BLAS thread per process, set before NumPy loads its BLAS (checks.engine.threads); a value the
# user set is kept.
one_blas_thread(override=False)
# Freed m×m blocks stay in the process (checks.engine.memory): no page faults per step.
keep_freed_memory()

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# All profiles are derandomised with no example database: the same code gives the same
# examples, verdicts and numbers on every run and under any -n.  'explore' is the one
# random profile, for hunting new counterexamples by hand.
_common = dict(deadline=None, print_blob=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=25, derandomize=True, **_common)
settings.register_profile("ci", max_examples=120, derandomize=True, **_common)
settings.register_profile("thorough", max_examples=1000, derandomize=True, **_common)
# 'decide': thorough plus gradient descent's panel rungs 2048 and 4096 (checks.engine.profiles.EXTENDS):
# what deciding GD2 costs, beyond the thorough profile's 30 minutes here.
settings.register_profile("decide", max_examples=1000, derandomize=True, **_common)
settings.register_profile("explore", max_examples=1000, derandomize=False, **_common)
settings.load_profile(os.environ.get("IMPLICIT_HYPOTHESIS_PROFILE", "dev"))


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_addoption(parser):
    parser.addoption("--claim-progress", action="store_true", default=False,
                     help="print one line per finished check: claim, check, verdict, seconds, checks done so far")
    parser.addoption("--dask-scheduler", default=None,
                     help="run the trajectory sweeps on this Dask scheduler (e.g. tcp://host:8786); "
                          "same as IMPLICIT_DASK_SCHEDULER")
    parser.addoption("--no-prefetch", action="store_true", default=False,
                     help="do not compute the selected checks' trajectories ahead on the executor")


# ------------------------------------------------------------------ sweeps ahead of the checks
# The trajectory sweeps dominate the run and are independent tasks.  Before any check runs, the
# controller (the xdist controller, or the only process under -n 0) computes the trajectories that
# the *selected* checks read on the executor (checks.engine.executor: one worker process per core, or a
# Dask cluster), while the xdist workers wait; then the checks run in parallel under xdist and read
# the cache.  The two phases never overlap, so the cores are never oversubscribed.
_prefetched = False
#: Stages of dependent tasks the prefetch follows (a confirmation of 29 inits in batches of 10 needs 4).
MAX_STAGES = 12


def _check_names(nodeids) -> list[str]:
    import re

    return [m.group(1) for nid in nodeids if (m := re.search(r"\[(check_[A-Za-z0-9_]+)\]$", nid))]


def _prefetch(config, nodeids) -> None:
    global _prefetched
    if _prefetched or config.getoption("--no-prefetch") or os.environ.get("IMPLICIT_NO_FLOW_CACHE") == "1":
        return
    _prefetched = True
    from checks.engine import executor, registry, tasks

    registry.load_all()
    names = _check_names(nodeids)
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        def write(line: str) -> None:
            tr.ensure_newline()
            tr.write_line(line)

        executor.progress_writer = write
    # A check's tasks may depend on earlier tasks' results (a confirmation's next batch follows from the
    # cached calibration): ask again after each stage until nothing new appears.
    done: set = set()
    for stage in range(1, MAX_STAGES + 1):
        keys = [k for k in registry.tasks_of(names) if k not in done]
        if not keys:
            return
        tasks.ensure(keys, label=f"tasks of the selected checks, stage {stage} ({len(keys)} new)")
        done.update(keys)
    raise RuntimeError(f"the selected checks still ask for new tasks after {MAX_STAGES} stages")


def pytest_collection_finish(session):
    """-n 0: the selected items are known here."""
    if _is_controller(session.config) and not hasattr(session.config, "workerinput") and \
            not session.config.pluginmanager.hasplugin("dsession"):
        _prefetch(session.config, [it.nodeid for it in session.items])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """xdist controller: called when a worker has collected (all collect the same ids), before
    the scheduler hands out the first test."""
    _prefetch(node.config, ids)


_tail = None
_done = 0


def pytest_runtest_logreport(report):
    """Per-check progress lines (controller only, also under xdist): read from the evidence spool."""
    global _done
    if _tail is None or report.when != "teardown":
        return
    tr = _config.pluginmanager.get_plugin("terminalreporter")
    for e in _tail.new_entries():
        _done += 1
        role = f" (control of {e['control_of']})" if e.get("control_of") else ""
        ok = "" if e["verdict"] == e.get("expected") else f"  ≠ record {e.get('expected')}"
        secs = e.get("timing", {}).get("seconds") if isinstance(e.get("timing"), dict) else None
        took = f" {secs:.1f}s" if isinstance(secs, (int, float)) else ""
        tr.ensure_newline()
        tr.write_line(f"[{_done:3d}] {e['claim']:>3} {e['name']}{role}: {e['verdict']}{ok}{took}")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running sweep or high-precision check (thorough profile)")
    if config.getoption("--dask-scheduler"):
        os.environ["IMPLICIT_DASK_SCHEDULER"] = config.getoption("--dask-scheduler")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl is a test dependency
        pass
    if _is_controller(config) and os.environ.get("IMPLICIT_NO_EVIDENCE") != "1":
        from checks.engine import evidence

        evidence.reset()
        if config.getoption("--claim-progress"):
            global _tail, _config
            _tail, _config = evidence.SpoolTail(), config


def pytest_sessionfinish(session, exitstatus):
    if not _is_controller(session.config) or os.environ.get("IMPLICIT_NO_EVIDENCE") == "1":
        return
    from checks.engine import evidence, profiles, report_data

    entries = evidence.load_spool()
    if not entries:
        return
    task_seconds = None if os.environ.get("IMPLICIT_NO_FLOW_CACHE") == "1" else report_data.claim_task_seconds(entries)
    path = report_data.write_verification(entries, profile=profiles.current(), task_seconds=task_seconds)
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"evidence: {len(entries)} check results merged into {path}")
