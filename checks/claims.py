"""The claim registry: THEORY.md's stable IDs C1..C19 with paper reference, tag and title.

The checks and negative controls of each claim are found through the harness registry
(``harness.REGISTRY``); ``checks/test_registry.py`` fails if a claim marked
``implemented`` lacks a check or a control, or if THEORY.md names an ID missing here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    id: str
    reference: str
    tag: str
    title: str
    statement: str
    implemented: bool


CLAIMS: tuple[Claim, ...] = (
    Claim("C1", "eq. (2), (14)", "paper/derived", "Contraction and well-posedness",
          "For γ‖A‖₂/√m ≤ γ₀ < 1 the equilibrium is unique, Picard contracts with ratio ≤ γ₀, "
          "‖z‖ ≤ ‖φ(Wx)‖/(1−γ₀) ≤ c_W√m/(1−γ₀), and E f(x)² ≤ 1/(1−γ₀)² at initialisation.", True),
    Claim("C2", "Lemma 3.2, eqs. (10)-(11)", "derived", "Implicit derivatives",
          "∂z/∂vec(A) = (γ/√m)QD(zᵀ⊗I), ∂f/∂A = (γ/m)vzᵀ with v = DQᵀu.", True),
    Claim("C3", "eq. (34)", "derived", "Invertibility of I − (γ/√m)DA",
          "σ_min(I − (γ/√m)DA) ≥ 1 − γ₀, so ‖Q‖₂ ≤ 1/(1−γ₀) and ‖v‖ ≤ √m/(1−γ₀).", True),
    Claim("C4", "eq. (35)", "derived", "Gradient size independent of m",
          "‖∂f/∂A‖_F ≤ (γ/m)‖v‖‖z‖ ≤ γc_W/(1−γ₀)².", True),
    Claim("C5", "eqs. (7)-(9)", "paper/derived", "Gram matrix and its Hadamard structure",
          "df/dt = −H(f−y) with H = JJᵀ = (γ²/m²)(VᵀV)∘(ZᵀZ), H PSD.", True),
    Claim("C6", "Theorem 3.1", "paper", "Global linear convergence of gradient flow",
          "W.p. ≥ 1−δ for large m: λ_min(H(t)) ≥ λ₀/2, ‖A(t)−A(0)‖_F ≤ R, γ‖A(t)‖₂/√m < 1, "
          "L(t) ≤ e^{−λ₀t}L(0).", True),
    Claim("C7", "eqs. (12)-(15)", "derived/suspect", "Proof inequalities of Theorem 3.1",
          "Stability of z, v and H under ΔA with ‖ΔA‖_F = O(1); (13) is suspect under pattern flips.", True),
    Claim("C8", "eq. (25)", "derived", "Schur lower bound on λ_min(H)",
          "λ_min(H) ≥ (γ²/m²)·min_i‖v_i‖²·λ_min(ZᵀZ) and symmetrically.", True),
    Claim("C9", "eqs. (16)-(17)", "paper/derived", "Kernel-machine (path-kernel) form",
          "f_T(x) = f_0(x) − ∫₀ᵀ K_t(x,X)(f_t−y)dt with K_t = (γ²/m²)(vᵀv')(zᵀz').", True),
    Claim("C10", "eqs. (18)-(19)", "derived", "Linearised coupling",
          "g_t(X) = ĝ(t) = y + e^{−H(0)t}(f(0)−y).", True),
    Claim("C11", "Lemma 4.2, eqs. (22), (36)", "derived", "RKHS norm and Rademacher complexity",
          "α_tᵀH(0)α_t ≤ rᵀH(0)⁻¹r = B² and R̂_S(G_B) ≤ (B/n)√tr H(0).", True),
    Claim("C12", "Lemma 4.3, eq. (23)", "derived", "Coupling of f(t) and ĝ(t)",
          "‖f(t)−ĝ(t)‖ ≤ (2/λ₀)sup_s‖H(s)−H(0)‖₂‖f(0)−y‖(e^{−λ₀t/2}−e^{−λ₀t}).", True),
    Claim("C13", "Lemma 4.4, eq. (24)", "paper", "Uniform coupling on the sphere",
          "sup_{‖x‖=1}|f_t(x)−g_t(x)| → 0 as m → ∞ uniformly in t.", True),
    Claim("C14", "Theorem 4.1, eq. (20)", "paper/derived", "Generalisation bound",
          "test loss ≤ train loss + 2ρ√(rᵀH(0)⁻¹r·trH(0))/n + 3√(log(2/δ)/(2n)) + o_m(1).", True),
    Claim("C15", "Section 5.1, eqs. (26)-(27)", "suspect", "Half-normal initialisation",
          "A(0) ≥ 0 gives D = I, Neumann closed forms and λ_min(H(0)) ≥ γ²/(1+γ₀)⁴·λ_min(ΦᵀΦ/m); "
          "the unit-variance scale is not well posed.", True),
    Claim("C16", "eq. (28)", "paper/derived", "Arc-cosine kernel and Matrix Chernoff",
          "K^∞ = (sinθ + (π−θ)cosθ)/(2π), λ_min(ΦᵀΦ/m) ≥ λ*/2 w.h.p.", True),
    Claim("C17", "Section 5.1 (limit)", "derived", "Infinite-width H(0) under Section 5.1",
          "H(0) → γ²[K^∞ + ((1−β)⁻²−1)μμᵀ].", True),
    Claim("C18", "Section 5.2", "paper/derived", "Diagonal initialisation",
          "z_r = φ(w_rᵀx)/(1−γa_r/√m); H(0) → γ²K⁰∘K^∞ at Hoeffding rate.", True),
    Claim("C19", "beyond the paper", "derived", "Infinite-width H(0) under Gaussian init",
          "H(0) → γ²Σ*∘Ė/(1−γ²Ė).", True),
)

BY_ID = {c.id: c for c in CLAIMS}


def claim_sort_key(cid: str) -> int:
    return int(cid[1:])
