"""Examples of the property checks: Hypothesis strategies that draw *small things* (sizes, γ₀,
scheme names, seeds), the arrays built from the seed with ``numpy.random.default_rng``
(:func:`build`), and the solves of an example, cached because several checks share the examples
(:func:`solved`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import theory

from .tol import SOLVE_RTOL

#: Schemes under which eq. (4)'s γ-rules give a well-posed network (all of them do:
#: the rule measures c = ‖A(0)‖₂/√m, so even the literal half-normal is scaled down).
WELL_POSED_SCHEMES = ("gaussian", "rademacher", "halfnormal", "halfnormal_1/m", "diag_halfnormal")


@dataclass(frozen=True)
class Spec:
    """Everything needed to rebuild an example: sizes, γ₀, γ rule, scheme, φ and the seed."""

    m: int
    n: int
    d: int
    gamma0: float
    gamma_rule: str
    scheme: str
    phi: str
    seed: int

    def as_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=128)
def build(spec: Spec) -> tuple[theory.Network, np.ndarray, np.ndarray]:
    """(network, X, y) for a spec; deterministic in the seed (draw order: network, then data)."""
    rng = np.random.default_rng(spec.seed)
    net = theory.init_network(
        spec.m, spec.d, scheme=spec.scheme, gamma0=spec.gamma0,
        gamma_rule=spec.gamma_rule, phi=spec.phi, rng=rng,
    )
    X, y = theory.make_data(spec.n, spec.d, rng)
    return net, X, y


def _order_check(name: str, lo: float, hi: float) -> None:
    if not lo <= hi:
        raise InvalidArgument(f"{name}: lower bound {lo} exceeds upper bound {hi}")


@st.composite
def specs(
    draw,
    *,
    min_m: int = 1,
    max_m: int = 48,
    max_n: int = 8,
    max_d: int = 6,
    gamma0: st.SearchStrategy[float] | None = None,
    schemes: tuple[str, ...] = WELL_POSED_SCHEMES,
    phis: tuple[str, ...] = theory.PHIS,
    gamma_rules: tuple[str, ...] = ("gamma0/c", "gamma0/2c"),
) -> Spec:
    """A network-and-data specification.  γ₀ ∈ [0.01, 0.95] by default: the upper end keeps
    the solver target SOLVE_RTOL reachable (see checks.model.tol)."""
    _order_check("width", min_m, max_m)
    gamma0 = st.floats(0.01, 0.95) if gamma0 is None else gamma0
    return Spec(
        m=draw(st.integers(min_m, max_m)),
        n=draw(st.integers(1, max_n)),
        d=draw(st.integers(1, max_d)),
        gamma0=draw(gamma0),
        gamma_rule=draw(st.sampled_from(gamma_rules)),
        scheme=draw(st.sampled_from(schemes)),
        phi=draw(st.sampled_from(phis)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


#: Tiny widths for the explicit-Jacobian and mpmath oracles.
tiny_specs = specs(max_m=12, max_n=4, max_d=4)


@dataclass(frozen=True)
class Solved:
    """An example's network, data, equilibria and adjoints (to the suite's solve tolerance)."""

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
