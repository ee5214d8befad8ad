"""Path observers: what a claim records along a trajectory beyond the generic series.

An observer is a class defined in the claim module that reads its results, registered with
:func:`observer`.  It declares

* ``name``: the key of its results in ``Summary.observed``;
* ``carried_by(key)``: which trajectories carry it (a predicate of the key's fields);
* ``needs_heldout``: whether it reads the held-out inputs' equilibria (``State.eq_extra``); a
  trajectory that carries such an observer solves its held-out inputs in the same batched Picard
  iteration as its samples;

and implements ``on_step(state)`` (called at t = 0 and after every accepted step with the
:class:`theory.flow.State`) and ``result(flow) -> dict`` (JSON-ready, from the finished
:class:`theory.flow.FlowResult`).  ``integrator_sensitive(result)`` names the scalars of its result
that depend on the integrator, so the integrator's accuracy evidence can compare them across
integrators without knowing the observer.

The trajectory key lists the observers it carries (:func:`carried`), and the code hash of a
trajectory includes the code closure of exactly those observers (``checks.engine.tasks.closure``):
changing one observer recomputes only the trajectories that carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..engine.registry import load_all


@dataclass(frozen=True)
class PathContext:
    """What an observer knows of its trajectory before it starts: the key, the samples (X, y) and
    the held-out inputs (None unless some observer of the trajectory needs them)."""

    key: Any
    X: np.ndarray
    y: np.ndarray
    heldout: np.ndarray | None


class Observer:
    """Base of the path observers (module docstring)."""

    name: ClassVar[str]
    needs_heldout: ClassVar[bool] = False

    def __init__(self, ctx: PathContext) -> None:
        self.ctx = ctx

    @classmethod
    def carried_by(cls, key: Any) -> bool:  # pragma: no cover - every observer defines it
        raise NotImplementedError

    def on_step(self, state) -> None:  # pragma: no cover - every observer defines it
        raise NotImplementedError

    def result(self, flow) -> dict:  # pragma: no cover - every observer defines it
        raise NotImplementedError

    @classmethod
    def integrator_sensitive(cls, result: dict) -> dict[str, float]:
        """{label: value} of the result's scalars that depend on the integrator (default: none)."""
        return {}


OBSERVERS: dict[str, type[Observer]] = {}


def observer(cls: type[Observer]) -> type[Observer]:
    """Register an observer class under its ``name`` (class decorator)."""
    if not getattr(cls, "name", ""):
        raise ValueError(f"observer {cls.__qualname__} has no name")
    if cls.name in OBSERVERS and OBSERVERS[cls.name].__qualname__ != cls.__qualname__:
        raise ValueError(f"two observers are called {cls.name!r}: {OBSERVERS[cls.name]} and {cls}")
    OBSERVERS[cls.name] = cls
    return cls


def carried(key: Any) -> tuple[str, ...]:
    """The names of the observers a trajectory carries, sorted (every claim module loaded first)."""
    load_all()
    return tuple(sorted(name for name, cls in OBSERVERS.items() if cls.carried_by(key)))


def get(name: str) -> type[Observer]:
    """The observer class registered under ``name`` (loading the claim modules if needed)."""
    if name not in OBSERVERS:
        load_all()
    return OBSERVERS[name]
