"""Benchmarks (not tests): ratios measured within one run, written to reports/bench.json.

Run: nox -s bench   (or python benchmarks/bench.py)
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import numpy as np  # noqa: E402

import theory  # noqa: E402
from theory import derivatives as dv  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "reports" / "bench.json"


def best_of(fn, repeat: int = 5) -> float:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main() -> int:
    rows = []
    rng = np.random.default_rng(0)
    # Equilibrium at the size: m = 2048, n = 64, γ₀ = 0.5 (rule γ₀/c), cold start.
    net = theory.init_network(2048, 16, gamma0=0.5, gamma_rule="gamma0/c", rng=rng)
    X, _ = theory.make_data(64, 16, rng)
    eq = theory.solve_equilibrium(net, X)
    t_eq = best_of(lambda: theory.solve_equilibrium(net, X))
    t_gemm = best_of(lambda: net.A @ eq.Z)
    rows.append({"name": "equilibrium m=2048 n=64 (batched Picard)", "seconds": t_eq, "iterations": eq.iterations,
                 "floor_seconds": t_gemm * eq.iterations, "ratio_to_gemm_floor": t_eq / (t_gemm * eq.iterations)})
    # Batched vs per-sample loop (same solver, one column at a time), m = 1024, n = 32.
    net2 = theory.init_network(1024, 16, gamma0=0.5, gamma_rule="gamma0/c", rng=rng)
    X2, _ = theory.make_data(32, 16, rng)
    t_b = best_of(lambda: theory.solve_equilibrium(net2, X2), 3)
    t_l = best_of(lambda: [theory.solve_equilibrium(net2, X2[i:i + 1]) for i in range(len(X2))], 3)
    rows.append({"name": "batched vs per-sample equilibrium m=1024 n=32", "batched": t_b, "loop": t_l, "speedup": t_l / t_b})
    # Adjoint: contraction vs explicit inverse per sample, m = 512, n = 16.
    net3 = theory.init_network(256, 8, gamma0=0.5, gamma_rule="gamma0/c", rng=rng)
    X3, _ = theory.make_data(16, 8, rng)
    eq3 = theory.solve_equilibrium(net3, X3)
    t_adj = best_of(lambda: theory.solve_adjoint(net3, eq3), 3)
    t_inv = best_of(lambda: np.einsum("ilk,l->ki", dv.Q_explicit(net3, eq3), net3.u), 3)
    rows.append({"name": "adjoint v: contraction vs explicit inverses m=256 n=16", "contraction": t_adj,
                 "explicit": t_inv, "speedup": t_inv / t_adj})
    # Gram: Hadamard form vs explicit Jacobian JJᵀ (oracle), m = 24, n = 8; agreement recorded.
    net4 = theory.init_network(24, 4, gamma0=0.5, gamma_rule="gamma0/c", rng=rng)
    X4, _ = theory.make_data(8, 4, rng)
    eq4 = theory.solve_equilibrium(net4, X4)
    adj4 = theory.solve_adjoint(net4, eq4)
    H = theory.gram(net4, eq4, adj4.V)
    J = dv.jacobian_f_explicit(net4, eq4)
    t_h = best_of(lambda: theory.gram(net4, eq4, theory.solve_adjoint(net4, eq4).V))
    t_j = best_of(lambda: theory.gram_explicit(dv.jacobian_f_explicit(net4, eq4)))
    rows.append({"name": "Gram: Hadamard form vs explicit JJᵀ m=24 n=8", "hadamard": t_h, "explicit": t_j,
                 "speedup": t_j / t_h, "max_abs_diff": float(np.abs(H - J @ J.T).max())})
    out = {"machine": {"platform": platform.platform(), "cores": os.cpu_count()}, "rows": rows}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1))
    for r in rows:
        print(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
