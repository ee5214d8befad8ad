"""Cached solves per example spec (several checks share the same examples)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

import theory

from ._tol import SOLVE_RTOL
from .strategies import Spec, build


@dataclass(frozen=True)
class Solved:
    net: theory.Network
    X: np.ndarray
    y: np.ndarray
    eq: theory.Equilibrium
    adj: theory.Adjoint

    @property
    def f(self) -> np.ndarray:
        return theory.output(self.net, self.eq.Z)


@lru_cache(maxsize=128)
def solved(spec: Spec) -> Solved:
    net, X, y = build(spec)
    eq = theory.solve_equilibrium(net, X, rtol=SOLVE_RTOL)
    adj = theory.solve_adjoint(net, eq, rtol=SOLVE_RTOL)
    return Solved(net, X, y, eq, adj)


def aux_rng(spec: Spec, stream: int) -> np.random.Generator:
    """An independent generator for auxiliary draws (directions, starts) of one example."""
    return np.random.default_rng([spec.seed, stream])
