"""C16 (eq. 28): K^∞ = E_w[φ(wᵀx_i)φ(wᵀx_j)] = (sin θ + (π − θ)cos θ)/(2π); λ* = λ_min(K^∞) > 0
for non-parallel data (→ 0 like θ²/4 as two inputs align); Matrix Chernoff
λ_min(ΦᵀΦ/m) ≥ λ*/2 w.h.p. once m = Ω̃(n/λ*); ‖ΦᵀΦ/m − K^∞‖₂ → 0 like m^{-1/2}."""

from __future__ import annotations

import numpy as np
from scipy import stats

import theory
from theory import kernels

from ..engine import figures, rules
from ..engine.margins import ratio_margin
from ..engine.registry import Planted, experiment, property_check
from ..engine.verdict import Outcome, Result
from ..model import tol as _tol
from ..model.examples import specs

STRAT = specs(max_m=2, max_n=6, max_d=5, schemes=("gaussian",), phis=("relu",))
MC_DRAWS = 200_000


def _broken_arccos(X):
    """Planted kernel: (π − θ)cos θ/π (sin θ dropped, doubled)."""
    th = np.arccos(np.clip(X @ X.T, -1, 1))
    return (np.pi - th) * np.cos(th) / np.pi


KERNELS = {"arccos1": kernels.arccos1, "broken": _broken_arccos, "arccos0": kernels.arccos0}


@property_check("C16", STRAT, max_examples=60, statement="(28): the arc-cosine closed form equals a Monte Carlo "
                "estimate (2·10⁵ draws) within a Bonferroni CLT band.",
                controls={"detects_broken_formula": Planted("Planted: (π − θ)cos θ/π (sin θ dropped, doubled).",
                                                            {"kernel": "broken"})})
def check_c16_arccos_vs_mc(spec, kernel: str = "arccos1") -> Outcome:
    """Compare a closed-form kernel with a Monte Carlo estimate of E[φ(wᵀx_i)φ(wᵀx_j)]."""
    kernel_fn = KERNELS[kernel]
    rng = np.random.default_rng([spec.seed, 16])
    X, _ = theory.make_data(spec.n, spec.d, rng)
    P = np.maximum(rng.standard_normal((MC_DRAWS, spec.d)) @ X.T, 0.0)
    est = P.T @ P / MC_DRAWS
    sd = np.sqrt(np.maximum((P**2).T @ P**2 / MC_DRAWS - est**2, 0.0))
    # Bonferroni over the n(n+1)/2 entries: two-sided z at 1 − 1e-3/(n(n+1)/2); the suite's
    # false-alarm rate per example is then ≤ 1e-3.
    k = spec.n * (spec.n + 1) / 2
    z = stats.norm.ppf(1 - 0.5e-3 / k)
    allowed = z * sd / np.sqrt(MC_DRAWS) + 10 * _tol.EPS
    err = np.abs(kernel_fn(X) - est)
    mg = ratio_margin(allowed, err)
    return Outcome(mg, {"max_err": float(err.max()), "z": float(z), "draws": MC_DRAWS})


@experiment("C16", statement="λ* → 0 like θ²/4 as two inputs become parallel; exactly parallel inputs raise "
            "SingularGramError naming the pair.",
            controls={"detects_linear": Planted("Planted: λ* ≈ θ/4 (linear in θ).", {"claimed_power": 1.0})})
def check_c16_near_parallel(claimed_power: float = 2.0) -> Result:
    """Two unit vectors at angle θ: λ* = 1/2 − k(θ) = θ²/4 + O(θ³)."""
    rows, margins = [], []
    for th in 10.0 ** -np.arange(1, 6):
        X = np.array([[1.0, 0.0], [np.cos(th), np.sin(th)]])
        lam = float(np.linalg.eigvalsh(kernels.arccos1(X))[0])
        pred = th**claimed_power / 4
        # O(θ³) remainder: θ³/(6π)·2 relative to θ²/4 is θ·4/(3π); plus eigenvalue rounding ε.
        rel = abs(lam - pred) / pred
        allowed = th * 4 / (3 * np.pi) * 2 + 4 * _tol.EPS / pred
        margins.append(allowed / rel if rel > 0 else np.inf)
        rows.append({"theta": th, "lambda_star": lam, "theta2_over_4": pred, "rel_dev": rel})
    try:
        kernels.lambda_star(np.array([[1.0, 0.0], [1.0, 0.0]]))
        detected = False
    except theory.SingularGramError:
        detected = True
    margins.append(1.0 if detected else 0.0)  # exactly parallel inputs must be refused
    dec = rules.bound_on_every_example(margins)
    return Result.of(dec, examples=len(rows), evidence={"verdict_rule": dec.rule, "rows": rows, "parallel_inputs_raise": detected})


# ------------------------------------------------------------------ Matrix Chernoff
CH_N, CH_D, CH_DELTA, CH_SEEDS = 5, 4, 0.1, 60


def chernoff_width(lam_star: float, n: int, delta: float) -> int:
    """Width from Tropp's Matrix Chernoff (ε = ½): P(λ_min ≤ λ*/2) ≤ n·(e^{-½}/(½)^{½})^{mλ*/L},
    with L = max_k ‖φ(Xw_k)‖² ≤ n·t², t = √(2 log(4m/δ)) bounding all |w_kᵀx_i| w.p. ≥ 1 − δ/2
    (union bound over the m·n Gaussian projections, iterated to a fixed point in m)."""
    base = -np.log(np.exp(-0.5) / np.sqrt(0.5))
    m = 100
    for _ in range(50):
        L = n * 2 * np.log(4 * m * n / delta)
        m = int(np.ceil(L * np.log(2 * n / delta) / (base * lam_star)))
    return m


@experiment("C16", statement="Matrix Chernoff: at the width Tropp's bound prescribes (δ = 0.1), "
            "λ_min(ΦᵀΦ/m) ≥ λ*/2 with frequency whose 95% Clopper–Pearson lower bound is ≥ 1 − δ.",
            controls={"detects_tight": Planted("Planted: at that width λ_min(ΦᵀΦ/m) ≥ 0.999·λ* w.p. ≥ 1 − δ (too tight).",
                                               {"fraction": 0.999})})
def check_c16_matrix_chernoff(fraction: float = 0.5) -> Result:
    rng = np.random.default_rng(1616)
    X, _ = theory.make_data(CH_N, CH_D, rng)
    lam = kernels.lambda_star(X)
    m = chernoff_width(lam, CH_N, CH_DELTA)
    hits = 0
    mins = []
    for seed in range(CH_SEEDS):
        W = np.random.default_rng([seed, 1617]).standard_normal((m, CH_D))
        Phi = np.maximum(W @ X.T, 0)
        lm = float(np.linalg.eigvalsh(Phi.T @ Phi / m)[0])
        mins.append(lm)
        hits += lm >= fraction * lam
    dec = rules.frequency(hits, CH_SEEDS, 1 - CH_DELTA)
    return Result.of(dec, examples=CH_SEEDS, evidence={"verdict_rule": dec.rule, "lambda_star": lam, "width": m, "fraction": fraction, "hits": hits,
                   "seeds": CH_SEEDS, "cp_lower_95": dec.numbers["cp_lower"], "cp_upper_95": dec.numbers["cp_upper"],
                   "min_ratio": float(min(mins) / lam), "median_ratio": float(np.median(mins) / lam)})


#: ΦᵀΦ/m costs only O(m·n·d): these sweeps afford widths far beyond the network sweeps.
CONV_WIDTHS, CONV_SEEDS = (64, 256, 1024, 4096, 16384, 65536), 16


@experiment("C16", statement="‖ΦᵀΦ/m − K^∞‖₂ → 0 as m grows (fixed-effects log-log slope interval below 0 and reaching −1/2; "
            "−1/2 predicted).",
            controls={"detects_wrong_kernel": Planted("Planted: ΦᵀΦ/m → K⁰ (degree-0 kernel).", {"limit": "arccos0"})})
def check_c16_convergence(limit: str = "arccos1") -> Result:
    limit_fn, label = KERNELS[limit], {"arccos1": "K^∞", "arccos0": "K⁰"}[limit]
    widths, n_seeds = CONV_WIDTHS, CONV_SEEDS
    X, _ = theory.make_data(CH_N, CH_D, np.random.default_rng(1616))
    K = limit_fn(X)
    xs, errs, gs = [], [], []
    for m in widths:
        for seed in range(n_seeds):
            W = np.random.default_rng([seed, m, 1618]).standard_normal((m, CH_D))
            Phi = np.maximum(W @ X.T, 0)
            xs.append(m)
            gs.append(seed)
            errs.append(float(np.linalg.norm(Phi.T @ Phi / m - K, 2)))
    dec, fit = rules.converges_at_predicted_rate(xs, errs, gs)
    return Result.of(dec, examples=len(xs), evidence={"limit": label, "slope": fit, "predicted_slope": -0.5,
                   "figures": {"conv": figures.loglog_figure(f"‖ΦᵀΦ/m − {label}‖₂", xs, errs, "error", fit)}})
