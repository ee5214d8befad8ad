"""Typed errors of the reference model.

Every public function of :mod:`theory` fails with one of these instead of
returning a silently wrong number.  Each error's message names the offending
quantity and a remedy; the numbers behind it are attributes, so a check can
assert on them.
"""

from __future__ import annotations

from collections.abc import Sequence


def _rebuild(cls: type, args: tuple, kwargs: dict) -> TheoryError:
    return cls(*args, **kwargs)


class TheoryError(Exception):
    """Base class of every error raised by :mod:`theory`.

    Errors keep their constructor arguments, so they survive pickling (a worker process or a
    Dask worker raising one hands the caller the same typed error, message and attributes)."""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls, *args)
        self._ctor = (args, kwargs)
        return self

    def __reduce__(self):
        args, kwargs = getattr(self, "_ctor", (self.args, {}))
        return (_rebuild, (type(self), args, kwargs))


class InputError(TheoryError, ValueError):
    """An argument is malformed (shape, value range)."""


class ShapeError(InputError):
    """Array shapes do not fit together (e.g. W is m×d but X has d' ≠ d columns)."""


class NonFiniteError(InputError):
    """An input array holds NaN or ±inf."""

    def __init__(self, name: str, count: int, size: int) -> None:
        self.name, self.count, self.size = name, count, size
        super().__init__(
            f"{name} holds {count} non-finite value(s) (NaN or inf) out of {size}; "
            f"the model is only defined for finite inputs: clean {name} before calling."
        )


class NonUnitDataError(InputError):
    """Rows of X must have unit Euclidean norm (the paper's assumption ‖x_i‖ = 1)."""

    def __init__(self, worst_row: int, norm: float, tol: float) -> None:
        self.worst_row, self.norm, self.tol = worst_row, norm, tol
        super().__init__(
            f"row {worst_row} of X has norm {norm:.17g}, but the paper assumes ‖x_i‖ = 1 "
            f"(tolerance {tol:.1e}); normalise with theory.normalize_rows(X)."
        )


class LabelRangeError(InputError):
    """Labels must satisfy |y_i| ≤ 1 (the paper's assumption)."""


class NonContractiveError(InputError):
    """γ‖A‖₂/√m ≥ 1 (or ≥ the declared γ₀): the equilibrium map is not a contraction.

    Attributes: ``q`` the measured γ‖A‖₂/√m, ``limit`` the bound it violated.
    """

    def __init__(self, q: float, limit: float = 1.0, *, context: str = "") -> None:
        self.q, self.limit = q, limit
        where = f" ({context})" if context else ""
        super().__init__(
            f"non-contractive implicit layer{where}: measured γ‖A‖₂/√m = {q:.6g} ≥ {limit:.6g}. "
            f"Well-posedness needs γ‖A‖₂/√m ≤ γ₀ < 1: lower γ (e.g. gamma_rule='gamma0/2c') "
            f"or rescale A."
        )


class ConvergenceError(TheoryError, RuntimeError):
    """An iterative solve stopped before meeting its a-posteriori error target.

    Attributes: ``what`` (which solve), ``iterations``, ``history`` (relative
    a-posteriori bounds per iteration), ``target``.
    """

    def __init__(self, what: str, iterations: int, history: Sequence[float], target: float) -> None:
        self.what, self.iterations = what, iterations
        self.history, self.target = list(history), target
        tail = ", ".join(f"{h:.2e}" for h in self.history[-5:])
        super().__init__(
            f"{what} did not converge in {iterations} iterations: a-posteriori relative error "
            f"bound {self.history[-1] if self.history else float('nan'):.3e} > target {target:.1e} "
            f"(last bounds: {tail}). Raise maxiter, relax rtol, or lower γ₀."
        )


class SingularGramError(TheoryError, ArithmeticError):
    """H(0) (or another Gram matrix) is numerically singular where λ₀ > 0 is needed."""

    def __init__(self, lam_min: float, scale: float, hint: str = "") -> None:
        self.lam_min, self.scale = lam_min, scale
        super().__init__(
            f"Gram matrix is numerically singular: λ_min = {lam_min:.3e} ≤ n·ε·‖H‖ = {scale:.3e}. "
            f"{hint or 'Two inputs may be parallel (x_i = ±x_j); remove duplicates.'}"
        )


class IntegrationError(TheoryError, RuntimeError):
    """The ODE integrator of the gradient flow failed (message from the integrator)."""
