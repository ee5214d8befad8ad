"""C5 (eqs. 7-9): df/dt = −H(f − y), H = JJᵀ = (γ²/m²)(VᵀV)∘(ZᵀZ), H PSD."""

from __future__ import annotations

import json

import numpy as np

import theory
from theory import derivatives as dv

from ..engine import registry, rules
from ..engine.margins import margin_ge, ratio_margin, rel_error
from ..engine.registry import Planted, experiment, property_check
from ..engine.verdict import Counterexample, Outcome, Result
from ..model import paths
from ..model import tol as _tol
from ..model.examples import solved, specs, tiny_specs
from ..model.fd import fd_along
from ..model.observers import Observer, observer
from ..model.predicates import arr, crosses_kink, solver_floor


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


# ------------------------------------------------------------------ identities of the recorded series
#: The recorded-series identities read every trajectory that another check reads.
IDENTITY_PREFIX = "check_c5_recorded_"


def _read_paths() -> list[paths.Key]:
    """Every trajectory some other check reads (under the loaded profile), in a stable order."""
    registry.load_all()
    others = [n for n in registry.REGISTRY if not n.startswith(IDENTITY_PREFIX)]
    return [t for t in registry.tasks_of(others) if isinstance(t, paths.Key)]


def _summaries() -> list[paths.Summary]:
    return paths.summaries(_read_paths())


def _path_label(s: paths.Summary) -> dict:
    return {"problem": s.problem, "rule": s.rule, "m": s.m, "seed": s.seed, "method": s.method, "step": s.step,
            "init": s.init}


def _identity_result(per_path: list[tuple[paths.Summary, float, dict]]) -> Result:
    """One margin per path (its worst recorded time), decided by rules.bound_on_every_example."""
    dec = rules.bound_on_every_example([mg for _, mg, _ in per_path])
    cex = None
    if dec.verdict == rules.REFUTED:
        s, mg, numbers = per_path[dec.worst]
        cex = Counterexample(spec=_path_label(s), margin=mg, numbers=numbers,
                             replay=f"python -m checks.replay --path '{json.dumps(_path_label(s))}'")
    by_set: dict[str, int] = {}
    for s, _, _ in per_path:
        by_set[f"{s.problem} {s.method}"] = by_set.get(f"{s.problem} {s.method}", 0) + 1
    worst = sorted(per_path, key=lambda row: row[1])[:5]
    return Result.of(dec, examples=len(per_path), counterexample=cex, evidence={
        "verdict_rule": dec.rule, "decision": dec.numbers, "paths_by_problem_and_integrator": by_set,
        "worst_paths": [dict(_path_label(s), margin=mg, **numbers) for s, mg, numbers in worst]})


@experiment("C5", statement="The recorded loss is L = ½‖f − y‖² (the normalisation dL/dt = −rᵀHr and every loss ratio "
            "of C6 and GD1 rest on): at every checkpoint of every trajectory any check reads, the recorded L(t_j) "
            "equals ½‖f(t_j) − y‖² from the recorded outputs f(t_j) and the data rebuilt from the path's seed, within "
            "the rounding of an n-term sum.",
            controls={"detects_squared_norm": Planted("Planted: the recorded loss is ‖f − y‖² (no ½), same paths, "
                                                      "same rule.", {"factor": 1.0})},
            tasks=_read_paths)
def check_c5_recorded_loss(factor: float = 0.5) -> Result:
    rows = []
    for s in _summaries():
        _, y = paths.data_of(s)
        F = np.asarray(s.checkpoint_f, float)
        expect = factor * np.sum((F - y) ** 2, axis=1)
        # both sides are sums of n squares of the same recorded differences: relative rounding ≤ (n + 2)ε
        allowed = (len(y) + 2) * _tol.EPS * np.maximum(expect, np.finfo(float).tiny)
        got = arr(s, "loss")[s.checkpoint_index]
        rows.append((s, ratio_margin(allowed, np.abs(got - expect)),
                     {"max_rel_dev": float(np.max(np.abs(got - expect) / np.maximum(expect, np.finfo(float).tiny)))}))
    return _identity_result(rows)


@experiment("C5", statement="The recorded spectra agree with the recorded drift (Weyl, and Rayleigh for the first-order "
            "part): at every recorded time of every trajectory any check reads, |λ_min(H(t)) − λ₀| ≤ ‖H(t) − H(0)‖₂, "
            "|λ_max(H(t)) − λ_max(H(0))| ≤ ‖H(t) − H(0)‖₂ and |e₀ᵀ(H(t) − H(0))e₀| ≤ ‖H(t) − H(0)‖₂ (e₀ the bottom "
            "eigenvector of H(0)), within the eigensolver's absolute error.",
            controls={"detects_small_drift": Planted("Planted: the recorded ‖H(t) − H(0)‖₂ is ten times smaller than it "
                                                     "is, same paths, same rule.", {"drift_factor": 0.1})},
            tasks=_read_paths)
def check_c5_recorded_spectra(drift_factor: float = 1.0) -> Result:
    rows = []
    for s in _summaries():
        lam_min, lam_max, dH, shift = (arr(s, k) for k in ("lam_min", "lam_max", "dH_op", "bottom_shift"))
        # three symmetric eigenproblems (H(t), H(0) and H(t) − H(0)) of size n, each exact to n·ε·‖·‖₂
        slack = 3 * _tol.eig_abs(s.n, float(max(lam_max.max(), lam_max[0])))
        allowed = drift_factor * dH + slack
        dev = np.maximum.reduce([np.abs(lam_min - lam_min[0]), np.abs(lam_max - lam_max[0]), np.abs(shift)])
        rows.append((s, ratio_margin(allowed, dev), {"max_dev_over_drift": float(np.max(dev / np.maximum(allowed, 1e-300)))}))
    return _identity_result(rows)


#: ‖A(0)‖₂ from ARPACK (m > 1024) is exact to its tolerance 1e-12 relative (theory.model.spectral_norm), a
#: dense SVD to m·ε; the certificate γ(‖A(0)‖₂ + ‖ΔA‖_F)/√m adds two roundings of O(1) numbers.
NORM_REL = 1e-12


@experiment("C5", statement="The recorded contraction certificate moves no faster than the recorded distance allows "
            "(triangle inequality): at every recorded time of every trajectory any check reads, "
            "|q_cert(t) − q(0)| ≤ (γ/√m)‖A(t) − A(0)‖_F, within the spectral norm's accuracy.",
            controls={"detects_frozen_certificate": Planted("Planted: the certificate never grows, q_cert(t) ≤ q(0), "
                                                            "same paths, same rule.", {"growth": 0.0})},
            tasks=_read_paths)
def check_c5_recorded_certificate(growth: float = 1.0) -> Result:
    rows = []
    for s in _summaries():
        q, dA = arr(s, "q_cert"), arr(s, "dA_fro")
        scale = s.gamma / np.sqrt(s.m)
        allowed = growth * scale * dA + (NORM_REL + (s.m + 4) * _tol.EPS) * np.maximum(q, q[0])
        rows.append((s, ratio_margin(allowed, np.abs(q - q[0])), {"max_q": float(q.max()), "q0": float(q[0])}))
    return _identity_result(rows)
