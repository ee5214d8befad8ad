"""Reference implementation of the implicit network of Gao & Gao (arXiv 2209.15562).

Notation follows docs/claims.md ("The model") and is defined once in :mod:`theory.model`:
A, W, u, γ (``gamma``), s = γ/√m, q = γ‖A‖₂/√m, Z, P, D, Q, v, H.
"""

from .equilibrium import (
    Adjoint,
    Equilibrium,
    forward,
    input_features,
    output,
    picard_path,
    solve_adjoint,
    solve_equilibrium,
)
from .errors import (
    ConvergenceError,
    InputError,
    IntegrationError,
    LabelRangeError,
    NonContractiveError,
    NonFiniteError,
    NonUnitDataError,
    ShapeError,
    SingularGramError,
    TheoryError,
)
from .gram import gram, gram_at, gram_explicit, lambda0, lambda_min
from .model import (
    GAMMA_RULES,
    PHIS,
    SCHEMES,
    Network,
    gamma_from_rule,
    init_A,
    init_network,
    init_network_zero_output,
    make_data,
    normalize_rows,
    phi_fn,
    spectral_norm,
)

__all__ = [
    "Adjoint", "Equilibrium", "forward", "input_features", "output", "picard_path",
    "solve_adjoint", "solve_equilibrium",
    "ConvergenceError", "InputError", "IntegrationError", "LabelRangeError",
    "NonContractiveError", "NonFiniteError", "NonUnitDataError", "ShapeError",
    "SingularGramError", "TheoryError",
    "gram", "gram_at", "gram_explicit", "lambda0", "lambda_min",
    "GAMMA_RULES", "PHIS", "SCHEMES", "Network", "gamma_from_rule", "init_A",
    "init_network",
    "init_network_zero_output", "make_data", "normalize_rows", "phi_fn", "spectral_norm",
]
