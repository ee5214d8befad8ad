"""Independent units of work (tasks) and their content-addressed cache.

A task is a small frozen dataclass with

* ``namespace`` (class attribute): the cache folder, e.g. ``"flows"``;
* ``stem`` (property): a file-name-safe identity of the task within its namespace;
* ``label()``: a human-readable name for progress lines and failure reports;
* ``cost()``: a rough relative cost (longest tasks start first);
* ``compute() -> dict``: the JSON-ready result, a pure function of the task and the code;
* optionally ``theory_modules`` (class attribute): the theory/ modules the result depends on
  (default: all of them).

Results live in ``reports/.cache/<namespace>/<stem>-<code hash>.json`` (written atomically), keyed
by a hash of ``theory/`` and the module that defines the task, so a changed code recomputes and an
unchanged one is shared by xdist workers, local worker processes and Dask clusters alike (the
result travels back to the caller, which writes the file).  :func:`ensure` computes the missing
results of a list of tasks on the executor (:mod:`checks._executor`); :func:`result` reads one
(computing it in-process if it is missing).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "reports" / ".cache"


def cache_disabled() -> bool:
    """Mutation runs: all mutants share one source text, so a cache keyed by it cannot tell them apart."""
    return os.environ.get("IMPLICIT_NO_FLOW_CACHE") == "1"


def _code_of(path: Path) -> bytes:
    """What a file computes: its syntax tree without docstrings (comments and layout are not in the
    tree), so an edit to prose keeps the cache and any change to code invalidates it."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body and \
                isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


@lru_cache(maxsize=16)
def code_hash(module: str, theory_modules: tuple[str, ...] | None) -> str:
    """Hash of the theory modules a task depends on (all of theory/ unless the task names them)
    and of the task's own module (read once per process)."""
    files = sorted((ROOT / "theory").glob("*.py")) if theory_modules is None else \
        [ROOT / "theory" / f"{name}.py" for name in sorted(theory_modules)]
    h = hashlib.sha256()
    for p in files + [Path(sys.modules[module].__file__)]:
        h.update(_code_of(p))
    return h.hexdigest()[:16]


def path(task: Any) -> Path:
    deps = getattr(task, "theory_modules", None)
    return CACHE / task.namespace / f"{task.stem}-{code_hash(type(task).__module__, deps)}.json"


def store(task: Any, result: dict) -> None:
    """Write a result atomically into the cache."""
    p = path(task)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, p)


def cached(task: Any) -> bool:
    return not cache_disabled() and path(task).exists()


def run_task(task: Any) -> dict:
    """Executor entry point: one task with one BLAS thread (bitwise-reproducible in any process)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return task.compute()


_memo: dict = {}


def result(task: Any) -> dict:
    """The task's result from the cache, computed in this process if missing (the same JSON round
    trip either way); remembered for the rest of the process (callers must not mutate it)."""
    key = (task, None if cache_disabled() else str(CACHE))
    if key not in _memo:
        if cache_disabled():
            _memo[key] = json.loads(json.dumps(task.compute()))
        else:
            p = path(task)
            if not p.exists():
                store(task, task.compute())
            _memo[key] = json.loads(p.read_text())
    return _memo[key]


def ensure(tasks, label: str = "tasks") -> None:
    """Compute the missing results of ``tasks`` on the executor and store them; a no-op when all
    are cached or the cache is disabled."""
    if cache_disabled():
        return
    missing = sorted({t for t in tasks if not cached(t)}, key=lambda t: (-t.cost(), t.stem))
    if not missing:
        return
    from . import _executor

    _executor.run(run_task, missing, label=label, on_result=store)
