"""Independent units of work (tasks) and their content-addressed cache.

A task is a frozen dataclass deriving from :class:`Task`.  Its fields are its identity; from
them the base derives

* ``stem``: a file-name-safe identity within the task's ``namespace`` (the cache folder);
* ``label()``: the human-readable name of progress lines and failure reports;
* ``cost()``: a rough relative cost, ``m²·weight()`` (longest tasks start first).

A subclass writes ``compute() -> dict`` (the JSON-ready result, a pure function of the task and
the code) and, where it helps, ``weight()``, ``kind`` (the stem's prefix) and ``theory_modules``
(the theory/ modules the result depends on; all of them by default).

Results live in ``reports/.cache/<namespace>/<stem>-<code hash>.json`` (written atomically).  The
code hash covers the theory modules and the *code closure* of the task's class (:func:`closure`):
the class and, transitively, the top-level definitions it refers to in its own module and in the
other modules of this repository's ``checks`` package (by name, by imported name, or as a module's
attribute), except the engine's own modules (which verify results but compute none).  So an edit to another function of
the same module, or to prose (docstrings and comments are not part of the syntax tree), keeps the
cache, and any change to the code a result depends on recomputes it.  The cache is shared by xdist
workers, local worker processes and Dask clusters (the result travels back to the caller, which
writes the file).  :func:`ensure` computes the missing results of a list of tasks on the executor
(:mod:`checks.engine.executor`); :func:`result` reads one (computing it in-process if missing).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib.util
import inspect
import json
import os
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "reports" / ".cache"
PACKAGE = "checks"
ENGINE = "checks.engine"


def cache_disabled() -> bool:
    """Mutation runs: all mutants share one source text, so a cache keyed by it cannot tell them apart."""
    return os.environ.get("IMPLICIT_NO_FLOW_CACHE") == "1"


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body and \
                isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
                isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return tree


@lru_cache(maxsize=256)
def file_code(path: Path) -> bytes:
    """What a file computes: its syntax tree without docstrings (comments and layout are not in the
    tree), so an edit to prose keeps the cache and any change to code invalidates it."""
    return ast.dump(_strip_docstrings(ast.parse(path.read_text(encoding="utf-8")))).encode()


def _top_level(tree: ast.Module) -> dict[str, ast.AST]:
    defs: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, ast.Assign):
            for tgt in node.targets:
                for n in ast.walk(tgt):
                    if isinstance(n, ast.Name):
                        defs[n.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defs[node.target.id] = node
    return defs


def _package_module(name: str) -> str | None:
    """``name`` if it is a loaded module of the package outside the engine, else None."""
    return name if (name == PACKAGE or name.startswith(PACKAGE + ".")) and not name.startswith(ENGINE) \
        and name in sys.modules else None


def _package_module_of(value: Any) -> str | None:
    """The name of the ``checks`` module a global refers to (a module, or a function/class defined in
    one); None outside the package and for the engine, which verifies results but computes none."""
    name = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
    return _package_module(name) if isinstance(name, str) else None


def _module_closure(names: set[str], done: set[str]) -> bytes:
    """Whole-file code of the named package modules and, transitively, of the package modules they refer to."""
    out = b""
    todo = sorted(names)
    while todo:
        name = todo.pop(0)
        if name in done:
            continue
        done.add(name)
        mod = sys.modules[name]
        out += name.encode() + file_code(Path(mod.__file__))
        todo += sorted({m for v in vars(mod).values() if (m := _package_module_of(v)) and m not in done})
    return out


@lru_cache(maxsize=64)
def _module_defs(name: str) -> tuple[dict[str, ast.AST], dict[str, tuple[str, str]]]:
    """A package module's top-level definitions by name, and its ``from X import Y`` names
    (alias → (absolute module, name in it))."""
    mod = sys.modules[name]
    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    imports: dict[str, tuple[str, str]] = {}
    package = name if Path(mod.__file__).name == "__init__.py" else name.rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            source = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level \
                else node.module or ""
            for alias in node.names:
                imports[alias.asname or alias.name] = (source, alias.name)
    return _top_level(tree), imports


@lru_cache(maxsize=256)
def closure(obj: Any) -> bytes:
    """The code a class or function computes with: its own syntax tree and, transitively, every
    top-level definition it refers to, in its module or in another ``checks`` module: by name, by a
    name imported from that module (``from .panel import LADDER``), or as an attribute of that module
    (``panel.data``).  A module used bare (not through an attribute) enters whole, with the modules
    it refers to.  Docstrings are left out; the engine's modules and imports from outside the
    package (numpy, theory/) are not followed (theory/ is hashed by the task's ``theory_modules``)."""
    todo, seen, nodes, whole = [(obj.__module__, obj.__name__)], set(), {}, set()
    while todo:
        where = todo.pop()
        if where in seen:
            continue
        seen.add(where)
        modname, name = where
        mod = sys.modules[modname]
        defs, imports = _module_defs(modname)
        node = defs.get(name)
        if node is None:  # imported (or a builtin): follow it only into this package
            value = vars(mod).get(name)
            if inspect.ismodule(value):
                if (other := _package_module_of(value)) is not None and other != modname:
                    whole.add(other)
            elif name in imports and _package_module(imports[name][0]) is not None:
                todo.append(imports[name])
            elif (other := _package_module_of(value)) is not None and other != modname:
                todo.append((other, getattr(value, "__name__", name)))
            continue
        nodes[(modname, node.lineno)] = node
        bases = set()
        for n in ast.walk(node):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name):
                value = vars(mod).get(n.value.id)
                if inspect.ismodule(value) and (other := _package_module_of(value)) is not None:
                    bases.add(id(n.value))
                    if other != modname:
                        todo.append((other, n.attr))
        todo += [(modname, n.id) for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in bases]
    # a definition from another module is named by its module (the root's are not: a module's name is not code)
    own = b"".join((b"" if m == obj.__module__ else m.encode()) + ast.dump(_strip_docstrings(n)).encode()
                   for (m, _), n in sorted(nodes.items(), key=lambda kv: (kv[0][0] != obj.__module__, kv[0])))
    return own + _module_closure(whole, {obj.__module__})


def theory_code(modules: tuple[str, ...] | None) -> bytes:
    """The theory modules a result depends on (all of theory/ when None)."""
    files = sorted((ROOT / "theory").glob("*.py")) if modules is None else \
        [ROOT / "theory" / f"{name}.py" for name in sorted(modules)]
    return b"".join(file_code(p) for p in files)


def _stem_part(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        return "_".join(_stem_part(x) for x in v)
    return str(v).replace("/", "_").replace(" ", "")


@dataclasses.dataclass(frozen=True)
class Task:
    """Base of a unit of work: frozen fields (its identity), ``compute() -> dict`` (module docstring)."""

    namespace: ClassVar[str] = "tasks"
    theory_modules: ClassVar[tuple[str, ...] | None] = None
    kind: ClassVar[str] = ""  # the stem's prefix (default: the class name, lower case)

    def _fields(self) -> list[tuple[str, Any]]:
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]

    @property
    def stem(self) -> str:
        parts = [self.kind or type(self).__name__.lower()] + [_stem_part(v) for _, v in self._fields()]
        return "-".join(p for p in parts if p)

    def label(self) -> str:
        return f"{self.kind or type(self).__name__} " + " ".join(f"{k}={v}" for k, v in self._fields())

    def weight(self) -> float:
        """Relative cost per m² (per task when the task has no width m)."""
        return 1.0

    def cost(self) -> float:
        return float(getattr(self, "m", 1)) ** 2 * self.weight()

    def code(self) -> bytes:
        """The code the result depends on (hashed into the cache file name)."""
        return theory_code(self.theory_modules) + closure(type(self))

    def compute(self) -> dict:  # pragma: no cover - every task defines it
        raise NotImplementedError


@lru_cache(maxsize=4096)
def code_hash(task: Task) -> str:
    return hashlib.sha256(task.code()).hexdigest()[:16]


def path(task: Task) -> Path:
    return CACHE / task.namespace / f"{task.stem}-{code_hash(task)}.json"


def _payload(result: dict, seconds: float) -> dict:
    return {"task_result": result, "task_seconds": round(seconds, 3)}


def write_json_atomic(p: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``p`` atomically (a per-process temporary renamed over it): a reader in
    another process sees the old file or the whole new one, never a part."""
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj))
    os.replace(tmp, p)


def store(task: Task, payload: dict) -> None:
    """Write a payload ({"task_result", "task_seconds"}: what :func:`run_task` returns) atomically."""
    write_json_atomic(path(task), payload)


def cached(task: Task) -> bool:
    return not cache_disabled() and path(task).exists()


def run_task(task: Task) -> dict:
    """Executor entry point: one task with one BLAS thread (bitwise-reproducible in any process); the
    result and the seconds it took."""
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    with threadpool_limits(1):
        result = task.compute()
    return _payload(result, time.perf_counter() - t0)


_memo: dict = {}


def _read(task: Task) -> dict:
    key = (task, None if cache_disabled() else str(CACHE))
    if key not in _memo:
        if cache_disabled():
            t0 = time.perf_counter()
            _memo[key] = json.loads(json.dumps(_payload(task.compute(), time.perf_counter() - t0)))
        else:
            p = path(task)
            if not p.exists():
                t0 = time.perf_counter()
                result = task.compute()
                store(task, _payload(result, time.perf_counter() - t0))
            payload = json.loads(p.read_text())
            # a file written before results carried their time holds the bare result
            _memo[key] = payload if "task_result" in payload else {"task_result": payload, "task_seconds": None}
    return _memo[key]


def result(task: Task) -> dict:
    """The task's result from the cache, computed in this process if missing (the same JSON round
    trip either way); remembered for the rest of the process (callers must not mutate it)."""
    return _read(task)["task_result"]


def seconds(task: Task) -> float | None:
    """How long the cached result took to compute (None if it is not cached)."""
    if not cached(task):
        return None
    secs = _read(task)["task_seconds"]
    return None if secs is None else float(secs)


def ensure(tasks, label: str = "tasks") -> None:
    """Compute the missing results of ``tasks`` on the executor and store them; a no-op when all
    are cached or the cache is disabled."""
    if cache_disabled():
        return
    missing = sorted({t for t in tasks if not cached(t)}, key=lambda t: (-t.cost(), t.stem))
    if not missing:
        return
    from . import executor

    executor.run(run_task, missing, label=label, on_result=store)
