"""C5 (eqs. 7-9): df/dt = −H(f − y), H = JJᵀ = (γ²/m²)(VᵀV)∘(ZᵀZ), H PSD."""

from __future__ import annotations

import numpy as np

import theory
from theory import derivatives as dv

from ..engine import rules
from ..engine.margins import margin_ge, ratio_margin, rel_error
from ..engine.registry import Planted, experiment, property_check
from ..engine.verdict import Outcome, Result
from ..model import paths
from ..model import tol as _tol
from ..model.examples import solved, specs, tiny_specs
from ..model.fd import fd_along
from ..model.observers import Observer, observer
from ..model.predicates import crosses_kink, solver_floor


def H_paper(s) -> np.ndarray:
    return theory.gram(s.net, s.eq, s.adj.V)


def H_matrix_product(s) -> np.ndarray:
    """Planted: ordinary matrix product (VᵀV)(ZᵀZ) instead of the Hadamard product."""
    return (s.net.gamma / s.net.m) ** 2 * ((s.adj.V.T @ s.adj.V) @ (s.eq.Z.T @ s.eq.Z))


def H_wrong_width_power(s) -> np.ndarray:
    """Planted: γ²/m instead of γ²/m² (one power of m dropped)."""
    return s.net.m * H_paper(s)


def _gram_rel_tol(m: int, q: float) -> float:
    # The oracle J uses explicit inverses Q_i: relative error ≤ (m+2)ε·κ, κ ≤ (1+q)/(1−q);
    # each H entry is a product of two such factors, plus the adjoint solve's target.
    return 4 * (m + 2) * _tol.EPS * (1 + q) / (1 - q) ** 2 + 2 * _tol.rounding(m, q)


GRAMS = {"paper": H_paper, "matrix_product": H_matrix_product, "wrong_width_power": H_wrong_width_power}


@property_check("C5", tiny_specs, statement="The Hadamard form (γ²/m²)(VᵀV)∘(ZᵀZ) equals JJᵀ with J from "
                "the explicit Jacobian s·QD(zᵀ⊗I) (no adjoint solve).",
                controls={"detects_matrix_product": Planted("Planted: (VᵀV)(ZᵀZ) as a matrix product instead of a "
                                                            "Hadamard product.", {"gram": "matrix_product"})})
def check_c5_hadamard_vs_jacobian(spec, gram: str = "paper") -> Outcome:
    s = solved(spec)
    J = dv.jacobian_f_explicit(s.net, s.eq)
    H_ref = theory.gram_explicit(J)
    err = rel_error(GRAMS[gram](s), H_ref)
    tol = _gram_rel_tol(s.net.m, s.net.q)
    return Outcome(tol / err if err > 0 else np.inf, {"rel_err": err, "allowed": tol, "q": s.net.q})


@property_check("C5", specs(max_m=32), statement="(7)-(9): the rate of change of f along the gradient "
                "flow, measured by central differences, equals −H(f − y).",
                controls={"detects_width_power": Planted("Planted: H with γ²/m instead of γ²/m².",
                                                         {"gram": "wrong_width_power"})})
def check_c5_flow_velocity(spec, gram: str = "paper") -> Outcome:
    """d/dt f along the gradient-flow direction dA = −Σ_i r_i ∂f_i/∂A equals −H r."""
    s = solved(spec)
    r = s.f - s.y
    if not np.any(r):
        return Outcome(np.nan, discarded="f = y: zero velocity")
    dA = -dv.vjp_f(s.net, s.eq, s.adj.V, r)
    nrm = s.net.s * theory.spectral_norm(dA)
    if nrm == 0:
        return Outcome(np.nan, discarded="zero gradient (all pre-activations inactive)")
    fd = fd_along(s.net, s.X, dA, s.eq.D, 1.0 / nrm)  # steps in natural units s‖h·dA‖₂ = h
    if fd is None:
        return Outcome(np.nan, discarded="every step crossed a ReLU kink")
    pred = -GRAMS[gram](s) @ r
    err = np.abs(pred - fd.derivative)
    return Outcome(ratio_margin(fd.allowed, err), {"rel_err": rel_error(pred, fd.derivative), "h": fd.h, "q": s.net.q})


@property_check("C5", specs(max_m=48), statement="H is positive semi-definite: λ_min(H) ≥ −n·ε·‖H‖₂.",
                controls={"detects_diagonal_claim": Planted("Planted: λ_min(H) ≥ min_i H_ii (H diagonal-dominated).",
                                                            {"planted": True})})
def check_c5_psd(spec, planted: bool = False) -> Outcome:
    s = solved(spec)
    H = H_paper(s)
    lam = np.linalg.eigvalsh(H)
    slack = _tol.eig_abs(H.shape[0], float(np.abs(lam).max()))
    if planted:  # planted: λ_min(H) ≥ min_i H_ii (true only for diagonal H)
        bound = float(np.diag(H).min())
        return Outcome(margin_ge(float(lam[0]), bound, slack), {"lambda_min": float(lam[0]), "bound": bound})
    # λ_min ≥ 0 up to the eigensolver's absolute error n·ε·‖H‖₂.
    mg = np.inf if lam[0] >= 0 else slack / -lam[0]
    return Outcome(float(mg), {"lambda_min": float(lam[0]), "slack": slack, "q": s.net.q})


# ------------------------------------------------------------------ the energy identity along recorded paths
@observer
class Energy(Observer):
    """The energy identity dL/dt = −rᵀH(t)r with the *recorded* loss L(t) and the recorded H(t): per
    recorded step, the trapezoid residual (L(t_{k+1}) − L(t_k)) + ½h(r_kᵀH_kr_k + r_{k+1}ᵀH_{k+1}r_{k+1}),
    summed over the steps that cross no ReLU kink and over those that do (training or held-out
    pre-activations, checks.model.predicates.crosses_kink); planted: the loss normalised as ‖f − y‖²,
    i.e. the rate doubled against ½‖r‖²."""

    name = "energy"
    needs_heldout = True  # the kink classification of a step reads the held-out pre-activations too

    @classmethod
    def carried_by(cls, k) -> bool:
        return k.problem == "section51"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.prev = None
        self.kink_steps = 0
        self.energy = {k: 0.0 for k in ("smooth", "kink", "smooth_planted", "kink_planted")}

    def on_step(self, st) -> None:
        r = st.f - self.ctx.y
        e_rate = float(r @ st.H @ r)
        P = np.concatenate([st.eq.P, st.eq_extra.P], axis=1)
        if self.prev is not None:
            t0, L0, rate0, P0 = self.prev
            h = st.t - t0
            kink = crosses_kink(P0, P)
            self.kink_steps += kink
            part = "kink" if kink else "smooth"
            for tag, c in (("", 1.0), ("_planted", 2.0)):  # planted: L = ‖r‖², i.e. dL/dt = −2rᵀHr for ½‖r‖²
                self.energy[part + tag] += (st.loss - L0) + c * 0.5 * h * (rate0 + e_rate)
        self.prev = (st.t, st.loss, e_rate, P)

    def result(self, flow) -> dict:
        out = {f"energy_{k}": abs(v) for k, v in self.energy.items()}  # |Σ residuals| per part
        out["kink_steps"] = self.kink_steps
        return out


@experiment("C5", statement="Along the recorded Section 5.1 path (four Heun step sizes), the energy identity that "
            "df/dt = −H(f − y) implies for L = ½‖f − y‖², L(t_{k+1}) − L(t_k) = −∫ r(t)ᵀH(t)r(t) dt, holds on the "
            "steps that touch no ReLU kink: the summed trapezoid residual of the recorded L and H vanishes under step "
            "refinement.",
            controls={"detects_loss_normalisation": Planted("Planted: the recorded loss is ‖f − y‖² (dL/dt = −2rᵀHr "
                                                            "for ½‖r‖²), same paths, same rule.", {"key": "energy_smooth_planted"})},
            tasks=paths.section51_keys)
def check_c5_energy_identity(key: str = "energy_smooth") -> Result:
    sums = paths.summaries(paths.section51_keys())
    rho = [s.observed[Energy.name][key] for s in sums]
    margins = [rules.refinement_margin(rho[i], rho[i + 1], solver_floor(sums[i + 1])) for i in range(len(rho) - 1)]
    dec = rules.converges_under_refinement(margins[-1:])  # the finest halving decides, as for C9
    return Result.of(dec, examples=len(rho), evidence={
        "verdict_rule": dec.rule, "quantity": key, "residuals": rho, "margins": margins,
        "steps": [s.steps for s in sums], "kink_steps": [s.observed[Energy.name]["kink_steps"] for s in sums]})
