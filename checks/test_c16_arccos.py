"""C16 (eq. 28): K^∞ = E_w[φ(wᵀx_i)φ(wᵀx_j)] = (sin θ + (π − θ)cos θ)/(2π); λ* = λ_min(K^∞) > 0
for non-parallel data (→ 0 like θ²/4 as two inputs align); Matrix Chernoff
λ_min(ΦᵀΦ/m) ≥ λ*/2 w.h.p. once m = Ω̃(n/λ*); ‖ΦᵀΦ/m − K^∞‖₂ → 0 like m^{-1/2}."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import theory
from theory import kernels

from . import _sweeps, _tol
from ._stats import cp_lower_one_sided, cp_upper_one_sided
from .harness import INCONCLUSIVE, REFUTED, VERIFIED, Outcome, Result, experiment, property_check, ratio_margin, verify
from .strategies import specs

STRAT = specs(max_m=2, max_n=6, max_d=5, schemes=("gaussian",), phis=("relu",))
MC_DRAWS = 200_000


def _mc_kernel(spec, kernel_fn) -> Outcome:
    """Compare a closed-form kernel with a Monte Carlo estimate of E[φ(wᵀx_i)φ(wᵀx_j)]."""
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


@property_check("C16", STRAT, max_examples=60, statement="(28): the arc-cosine closed form equals a Monte Carlo "
                "estimate (2·10⁵ draws) within a Bonferroni CLT band.")
def check_c16_arccos_vs_mc(spec) -> Outcome:
    return _mc_kernel(spec, kernels.arccos1)


@property_check("C16", STRAT, max_examples=60, control_of="check_c16_arccos_vs_mc",
                statement="Planted: (π − θ)cos θ/π (sin θ dropped, doubled).")
def check_c16_arccos_vs_mc_detects_broken_formula(spec) -> Outcome:
    def broken(X):
        th = np.arccos(np.clip(X @ X.T, -1, 1))
        return (np.pi - th) * np.cos(th) / np.pi

    return _mc_kernel(spec, broken)


def _near_parallel(claimed_power: float) -> Result:
    """Two unit vectors at angle θ: λ* = 1/2 − k(θ) = θ²/4 + O(θ³)."""
    rows, worst = [], np.inf
    for th in 10.0 ** -np.arange(1, 6):
        X = np.array([[1.0, 0.0], [np.cos(th), np.sin(th)]])
        lam = float(np.linalg.eigvalsh(kernels.arccos1(X))[0])
        pred = th**claimed_power / 4
        # O(θ³) remainder: θ³/(6π)·2 relative to θ²/4 is θ·4/(3π); plus eigenvalue rounding ε.
        rel = abs(lam - pred) / pred
        allowed = th * 4 / (3 * np.pi) * 2 + 4 * _tol.EPS / pred
        worst = min(worst, allowed / rel if rel > 0 else np.inf)
        rows.append({"theta": th, "lambda_star": lam, "theta2_over_4": pred, "rel_dev": rel})
    try:
        kernels.lambda_star(np.array([[1.0, 0.0], [1.0, 0.0]]))
        detected = False
    except theory.SingularGramError:
        detected = True
    ok = worst >= 1 and detected
    return Result("", "", VERIFIED if ok else REFUTED, len(rows), worst, None,
                  {"rows": rows, "parallel_inputs_raise": detected})


@experiment("C16", statement="λ* → 0 like θ²/4 as two inputs become parallel; exactly parallel inputs raise "
            "SingularGramError naming the pair.")
def check_c16_near_parallel(budget: int) -> Result:
    return _near_parallel(2.0)


@experiment("C16", control_of="check_c16_near_parallel", statement="Planted: λ* ≈ θ/4 (linear in θ).")
def check_c16_near_parallel_detects_linear(budget: int) -> Result:
    return _near_parallel(1.0)


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


def _chernoff(fraction: float) -> Result:
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
    lo, hi = cp_lower_one_sided(hits, CH_SEEDS), cp_upper_one_sided(hits, CH_SEEDS)
    target = 1 - CH_DELTA
    verdict = VERIFIED if lo >= target else REFUTED if hi < target else INCONCLUSIVE
    return Result("", "", verdict, CH_SEEDS, lo / target, None,
                  {"lambda_star": lam, "width": m, "fraction": fraction, "hits": hits, "seeds": CH_SEEDS,
                   "cp_lower_95": lo, "cp_upper_95": hi, "min_ratio": float(min(mins) / lam),
                   "median_ratio": float(np.median(mins) / lam)})


@experiment("C16", statement="Matrix Chernoff: at the width Tropp's bound prescribes (δ = 0.1), "
            "λ_min(ΦᵀΦ/m) ≥ λ*/2 with frequency whose 95% Clopper–Pearson lower bound is ≥ 1 − δ.")
def check_c16_matrix_chernoff(budget: int) -> Result:
    return _chernoff(0.5)


@experiment("C16", control_of="check_c16_matrix_chernoff",
            statement="Planted: at that width λ_min(ΦᵀΦ/m) ≥ 0.999·λ* w.p. ≥ 1 − δ (too tight).")
def check_c16_matrix_chernoff_detects_tight(budget: int) -> Result:
    return _chernoff(0.999)


#: ΦᵀΦ/m costs only O(m·n·d): these sweeps afford widths far beyond the network sweeps.
CONV_WIDTHS, CONV_SEEDS = (64, 256, 1024, 4096, 16384, 65536), 16


def _convergence(limit_fn, label) -> Result:
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
    verdict, fit, margin = _sweeps.convergence_verdict(xs, errs, gs)
    return Result("", "", verdict, len(xs), margin, None,
                  {"limit": label, "slope": fit, "predicted_slope": -0.5,
                   "figures": {"conv": _sweeps.loglog_figure(f"‖ΦᵀΦ/m − {label}‖₂", xs, errs, "error", fit)}})


@experiment("C16", statement="‖ΦᵀΦ/m − K^∞‖₂ → 0 as m grows (fixed-effects log-log slope interval below 0 and reaching −1/2; "
            "−1/2 predicted).")
def check_c16_convergence(budget: int) -> Result:
    return _convergence(kernels.arccos1, "K^∞")


@experiment("C16", control_of="check_c16_convergence", statement="Planted: ΦᵀΦ/m → K⁰ (degree-0 kernel).")
def check_c16_convergence_detects_wrong_kernel(budget: int) -> Result:
    return _convergence(kernels.arccos0, "K⁰")


NAMES = ["check_c16_arccos_vs_mc", "check_c16_arccos_vs_mc_detects_broken_formula", "check_c16_near_parallel",
         "check_c16_near_parallel_detects_linear", "check_c16_matrix_chernoff",
         "check_c16_matrix_chernoff_detects_tight", "check_c16_convergence",
         "check_c16_convergence_detects_wrong_kernel"]


@pytest.mark.parametrize("name", NAMES)
def test_c16(name):
    verify(name)
