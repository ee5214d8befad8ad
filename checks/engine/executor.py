"""Independent tasks (trajectories) on a ``concurrent.futures`` executor.

* Default: a :class:`~concurrent.futures.ProcessPoolExecutor` with one worker process per core
  (``IMPLICIT_WORKERS`` overrides), started with ``spawn``, one BLAS thread per process, and
  glibc's malloc keeping what it frees (:mod:`checks.engine.memory`).
* ``IMPLICIT_DASK_SCHEDULER=tcp://host:8786`` (or ``pytest --dask-scheduler=...``): the tasks go to
  that Dask distributed cluster through ``Client.get_executor()``, a standard executor.

Results come back to the caller, which stores them (the trajectory cache), so a cluster whose
workers do not share this file system fills the same cache as local processes.

Faults: a worker process that dies (``BrokenProcessPool`` locally, ``KilledWorker`` or a lost
worker on Dask, which itself reschedules the task on another worker) makes the task run again,
up to ``RETRIES`` times; a task that raises a documented :class:`theory.TheoryError` is not
retried (it is deterministic) and is reported with its key.  :func:`run` raises
:class:`SweepError` naming every task that did not complete, so a partial sweep never reaches a
verdict; any other exception is a defect of our code and propagates with the task named.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

import theory

from .memory import keep_freed_memory
from .threads import one_blas_thread

ENV_SCHEDULER = "IMPLICIT_DASK_SCHEDULER"
ENV_WORKERS = "IMPLICIT_WORKERS"
#: A task whose worker died runs again at most this many times (a deterministic task that kills
#: its worker every time, e.g. by exhausting memory, is then reported, not retried forever).
RETRIES = 3
#: Progress: a line at least this often (seconds) while a sweep runs, and when it ends.
PROGRESS_EVERY = 15.0

#: Where progress lines go (conftest points it at pytest's terminal reporter).
progress_writer: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731


class SweepError(RuntimeError):
    """Some tasks of a sweep did not complete: the sweep has no verdict."""

    def __init__(self, label: str, failures: list[tuple[Any, str]], total: int) -> None:
        self.failures = failures
        lines = "\n".join(f"  {_label(k)}: {why}" for k, why in failures)
        super().__init__(f"sweep '{label}': {len(failures)} of {total} tasks did not complete, so no verdict "
                         f"is drawn from it:\n{lines}")


def _label(k: Any) -> str:
    return k.label() if hasattr(k, "label") else repr(k)


def workers() -> int:
    """Local worker processes: ``IMPLICIT_WORKERS`` or the number of cores."""
    env = os.environ.get(ENV_WORKERS)
    if env:
        n = int(env)
        if n < 1:
            raise ValueError(f"{ENV_WORKERS} must be ≥ 1, got {env!r}")
        return n
    return os.cpu_count() or 1


def scheduler_address() -> str | None:
    return os.environ.get(ENV_SCHEDULER) or None


def describe() -> str:
    addr = scheduler_address()
    return f"Dask cluster at {addr}" if addr else f"{workers()} local worker process(es)"


def _init_worker() -> None:
    """Local worker processes: one BLAS thread (also set in the environment before spawn), and
    freed memory kept in the process (checks.engine.memory: a worker touches its peak once)."""
    one_blas_thread()
    keep_freed_memory()


@contextmanager
def executor(n_workers: int | None = None):
    """The executor of this run: a Dask client's executor when a scheduler is named, else a
    local process pool.  Yields (executor, description, is_dask)."""
    addr = scheduler_address()
    if addr:
        from distributed import Client

        with Client(addr, set_as_default=False) as client:
            yield client.get_executor(pure=False), f"Dask cluster at {addr}", True
        return
    n = n_workers or workers()
    one_blas_thread()  # inherited by the spawned workers before NumPy loads its BLAS
    ex = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker)
    try:
        yield ex, f"{n} local worker process(es)", False
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


#: Dask's ways of saying a task lost its worker (it reschedules such tasks itself first).
DASK_LOST = ("KilledWorker", "CommClosedError", "FutureCancelledError")


def _worker_died(exc: BaseException) -> bool:
    return isinstance(exc, BrokenProcessPool) or type(exc).__name__ in DASK_LOST


def run(fn: Callable[[Any], Any], tasks: Iterable[Any], *, label: str,
        on_result: Callable[[Any, Any], None] | None = None, executor_factory=None) -> dict:
    """Run ``fn(task)`` for every task on the executor; ``on_result(task, result)`` as each
    completes (in the calling process).  Returns {task: result}.  Raises :class:`SweepError` if
    any task failed with a typed theory error or lost its worker more than ``RETRIES`` times."""
    tasks = list(tasks)
    total = len(tasks)
    if not total:
        return {}
    factory = executor_factory or executor
    results: dict = {}
    failures: list[tuple[Any, str]] = []
    attempts = {t: 0 for t in tasks}
    todo = list(tasks)
    t_start = last = time.perf_counter()
    while todo:
        with factory() as (ex, where, _):
            if len(results) == 0 and attempts[todo[0]] == 0:
                progress_writer(f"[sweep] {label}: {total} tasks on {where}")
            futures: dict[Future, Any] = {}
            for t in todo:
                attempts[t] += 1
                futures[ex.submit(fn, t)] = t
            todo = []
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=PROGRESS_EVERY, return_when=FIRST_COMPLETED)
                for fut in done:
                    t = futures[fut]
                    exc = fut.exception()
                    if exc is None:
                        res = fut.result()
                        results[t] = res
                        if on_result is not None:
                            on_result(t, res)
                    elif isinstance(exc, theory.TheoryError):
                        failures.append((t, f"{type(exc).__name__}: {exc}"))
                    elif _worker_died(exc):
                        if attempts[t] <= RETRIES:
                            todo.append(t)
                            progress_writer(f"[sweep] {label}: worker lost while running {_label(t)} "
                                            f"({type(exc).__name__}); retrying (attempt {attempts[t] + 1})")
                        else:
                            failures.append((t, f"worker lost {attempts[t]} times ({type(exc).__name__}: {exc})"))
                    else:
                        raise RuntimeError(f"sweep '{label}': task {_label(t)} raised an unexpected "
                                           f"{type(exc).__name__} (a defect of our code)") from exc
                now = time.perf_counter()
                if now - last >= PROGRESS_EVERY or not pending:
                    last = now
                    progress_writer(f"[sweep] {label}: {len(results)}/{total} done, {len(failures)} failed, "
                                    f"{now - t_start:.0f} s")
    if failures:
        raise SweepError(label, failures, total)
    return results
