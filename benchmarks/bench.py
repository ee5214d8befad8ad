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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from checks.engine.threads import one_blas_thread  # noqa: E402

one_blas_thread(override=False)  # before NumPy loads its BLAS

import numpy as np  # noqa: E402

import theory  # noqa: E402
from theory import derivatives as dv  # noqa: E402
from theory import passes  # noqa: E402

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
    only = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")]
    if not only or "basic" in only:
        rows += basic_rows(rng)
    quick = "--quick" in sys.argv
    groups = {"accel": accel_rows, "gram": lambda: gram_rows(rng, quick), "flow": lambda: flow_rows(rng, quick),
              "integrator": lambda: integrator_rows(quick), "sweep": sweep_rows, "passes": lambda: pass_rows(rng),
              "picard": picard_rows}
    for name, fn in groups.items():
        if not only or name in only:
            rows += fn()
    return _write(rows, only)


def pass_rows(rng, m: int = 4096, n: int = 6) -> list[dict]:
    """One Picard pass s·A·Z + B (A m×m, Z m×n, n = 6 as in the sweeps) against reading A once (one GEMV,
    a copy of A) and against other ways of doing the same product in one run: one dgemm, n GEMVs, the
    transposed product ZᵀAᵀ (row-major BLAS), row blocks of A, float32 (a different number), a
    Fortran-ordered copy of A, and the kernels the solvers use (theory.passes)."""
    A = rng.standard_normal((m, m))
    Z = np.ascontiguousarray(np.abs(rng.standard_normal((m, n))))
    x = Z[:, 0].copy()
    AF = np.asfortranarray(A)
    A32, Z32 = A.astype(np.float32), Z.astype(np.float32)
    ZT = np.ascontiguousarray(Z.T)
    blk = 512
    out = np.empty((m, n))

    def blocked():
        for i in range(0, m, blk):
            np.dot(A[i:i + blk], Z, out=out[i:i + blk])
        return out

    cases = {"A @ Z (one dgemm, n columns)": lambda: A @ Z, "A @ x (one GEMV: reads A once)": lambda: A @ x,
             "copy of A (reads and writes A once)": lambda: A.copy(),
             "n GEMVs A @ z_j": lambda: [A @ Z[:, j] for j in range(n)],
             "(Zᵀ Aᵀ)ᵀ (transposed product)": lambda: (ZT @ A.T).T,
             f"row blocks of {blk} (dgemm each)": blocked,
             "Fortran-ordered A @ Z": lambda: AF @ Z, "float32 A @ Z": lambda: A32 @ Z32,
             "theory.passes.matmul A·Z (the solvers' pass: one read of A, Numba)": lambda: passes.matmul(A, Z),
             "theory.passes.rmatmul Aᵀ·Z (the adjoint's pass)": lambda: passes.rmatmul(A, Z),
             "A.T @ Z (dgemm, the adjoint's former pass)": lambda: A.T @ Z,
             "theory.passes float32 A·Z (the wide solves' float32 phase)": lambda: passes._forward(A32, ZT32, out32, np.float32(0.0)),
             "theory.passes float32 Aᵀ·Z": lambda: passes._adjoint(A32, Z32, outT32),
             "A in float32 (the copy the float32 phase reads)": lambda: A.astype(np.float32)}
    ZT32, out32, outT32 = np.ascontiguousarray(Z32.T), np.empty((m, n), np.float32), np.empty((n, m), np.float32)
    passes.matmul(A, Z), passes.rmatmul(A, Z)  # compile outside the timing
    passes._forward(A32, ZT32, out32, np.float32(0.0)), passes._adjoint(A32, Z32, outT32)
    times = {name: best_of(fn, 7) for name, fn in cases.items()}
    ref = times["A @ x (one GEMV: reads A once)"]
    row = {"name": f"one Picard pass over A (m = {m}, n = {n}) against reading A once", "m": m, "n": n,
           "bytes_of_A": A.nbytes, "seconds": times, "over_one_gemv": {k: v / ref for k, v in times.items()},
           "goal": "the pass near the cost of reading A once"}
    print(row, flush=True)
    return [row]


def picard_rows(widths: tuple[int, ...] = (64, 256, 1024, 4096), n: int = 6) -> list[dict]:
    """One equilibrium and one adjoint solve from a cold start (the pilot's n = 6, γ₀/c, rtol 1e-11) with the
    solvers' compiled loops (theory.passes.picard) against the same solves with the NumPy loop, in one run;
    the results are bit-identical (unit-tested), so only the time differs."""
    from unittest import mock

    from theory.equilibrium import solve_adjoint, solve_equilibrium

    out = {}
    for m in widths:
        net = theory.init_network(m, 4, gamma0=0.5, gamma_rule="gamma0/c", rng=np.random.default_rng(m))
        X = theory.normalize_rows(np.random.default_rng(1).standard_normal((n, 4)))

        def solve(net=net, X=X):
            eq = solve_equilibrium(net, X)
            return eq.iterations + solve_adjoint(net, eq).iterations

        iters = solve()  # compiles outside the timing
        compiled = best_of(solve, 7)
        with mock.patch.object(passes, "picard_takes", lambda *a: False):
            numpy_loop = best_of(solve, 7)
        out[m] = {"iterations": iters, "compiled_s": compiled, "numpy_loop_s": numpy_loop,
                  "speedup": numpy_loop / compiled}
    row = {"name": f"Picard loops compiled vs NumPy (n = {n}, one equilibrium + one adjoint solve)", "n": n,
           "by_width": out, "goal": "small widths no longer bound by NumPy call overhead"}
    print(row, flush=True)
    return [row]


def basic_rows(rng) -> list[dict]:
    rows = []
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
    return rows


def _write(rows: list[dict], only: list[str]) -> int:
    previous = json.loads(OUT.read_text())["rows"] if OUT.exists() and only else []
    names = {r["name"] for r in rows}
    rows = [r for r in previous if r["name"] not in names] + rows  # --only refreshes its groups, keeps the rest
    out = {"machine": {"platform": platform.platform(), "cores": os.cpu_count()}, "rows": rows}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1))
    for r in rows:
        print(r)
    return 0


def integrator_rows(quick: bool) -> list[dict]:
    """Exponential Euler vs Heun on the same C6 path (γ₀/(2c), seed 0, n = 6, T = 6/λ₀): steps, solves,
    wall time and the verdict quantities of both; then a whole trajectory at m = 4096, n = 32 to
    L ≤ 1e-3·L(0) with exponential Euler."""
    from checks.model import paths
    from theory.flow import ExpEuler, Heun, gradient_flow

    rows = []
    for m in ([1024, 2048] if quick else [1024, 2048, 4096]):
        net, X, y = paths.problem("gamma0/2c", m, 0)
        out = {}
        for method, integ in (("exp", ExpEuler(tau=paths.EXP_TAU)), ("heun", Heun(safety=paths.SAFETY))):
            t0 = time.perf_counter()
            r = gradient_flow(net, X, y, integ)
            sec = time.perf_counter() - t0
            a = r.arrays()
            out[method] = {"steps": r.steps, "solves": r.nfev + 1, "seconds": sec,
                           "min_lambda_ratio": float(a["lam_min"].min() / r.lambda0),
                           "a_holds": bool(a["lam_min"].min() >= r.lambda0 / 2), "c_holds": r.failure is None,
                           "max_dA": float(a["dA_fro"].max()), "final_loss_ratio": float(a["loss"][-1] / a["loss"][0])}
        row = {"name": f"exponential Euler vs Heun, C6 path m={m} n=6 (γ₀/2c, seed 0, T = 6/λ₀)", "m": m,
               "exp": out["exp"], "heun": out["heun"],
               "step_ratio": out["heun"]["steps"] / out["exp"]["steps"],
               "time_ratio": out["heun"]["seconds"] / out["exp"]["seconds"],
               "same_verdicts": out["exp"]["a_holds"] == out["heun"]["a_holds"] and
               out["exp"]["c_holds"] == out["heun"]["c_holds"], "goal": "≥ 10× fewer steps, same verdicts"}
        rows.append(row)
        print(row, flush=True)
    m, n = (2048, 32) if quick else (4096, 32)
    net = theory.init_network(m, 16, gamma0=0.5, gamma_rule="gamma0/2c", rng=np.random.default_rng([m, 3]))
    X, y = theory.make_data(n, 16, np.random.default_rng([m, 4]))
    t0 = time.perf_counter()
    H, _ = _cold_gram(net, X)
    lam0 = float(np.linalg.eigvalsh(H)[0])
    T = np.log(1000) / lam0  # Theorem 3.1 (d): L(T) ≤ e^{−λ₀T}L(0) = 1e-3·L(0)
    r = gradient_flow(net, X, y, ExpEuler(tau=paths.EXP_TAU), T=T, checkpoints=4)
    sec = time.perf_counter() - t0
    rows.append({"name": f"whole trajectory m={m} n={n} to L ≤ 1e-3·L(0), exponential Euler", "seconds": sec,
                 "steps": r.steps, "final_loss_ratio": float(r.loss[-1] / r.loss[0]), "T_lambda0": float(T * lam0),
                 "failure": r.failure, "goal": "≤ 120 s"})
    print(rows[-1], flush=True)
    return rows


def sweep_rows() -> list[dict]:
    """A sweep's wall time on 2 local worker processes vs 1 (issue: ≥ 1.8×): 8 C6 trajectories at
    m = 256 (Heun), computed twice into private caches."""
    import tempfile

    from checks.engine import executor as _executor
    from checks.engine import tasks as _tasks
    from checks.model import paths

    keys = [paths.key("gamma0/2c", 256, s) for s in range(8)]
    _executor.progress_writer = lambda line: None
    times = {}
    for n in (1, 2):
        os.environ[_executor.ENV_WORKERS] = str(n)
        with tempfile.TemporaryDirectory() as tmp:
            _tasks.CACHE = Path(tmp)
            t0 = time.perf_counter()
            paths.ensure(keys, label="bench")
            times[n] = time.perf_counter() - t0
    os.environ.pop(_executor.ENV_WORKERS, None)
    row = {"name": "sweep of 8 trajectories (m=256, Heun) on 2 worker processes vs 1", "seconds_1": times[1],
           "seconds_2": times[2], "speedup": times[1] / times[2], "cores": os.cpu_count(), "goal": "≥ 1.8×"}
    print(row, flush=True)
    return [row]


def accel_rows() -> list[dict]:
    """Picard (ours) vs SciPy's Newton-Krylov on the same batched residual Z − σ(sAZ + B), by γ₀,
    m = 1024, n = 32, to the same accuracy (‖Z − Z*‖ ≤ 1e-10 relative, Z* from a 1e-14 Picard solve)."""
    from scipy.optimize import newton_krylov

    rows = []
    for g0 in (0.5, 0.8, 0.9, 0.95):
        net = theory.init_network(1024, 16, gamma0=g0, gamma_rule="gamma0/c", rng=np.random.default_rng(11))
        X, _ = theory.make_data(32, 16, np.random.default_rng(12))
        ref = theory.solve_equilibrium(net, X, rtol=1e-14).Z
        sA, B = net.s * net.A, theory.input_features(net, X)
        eq = theory.solve_equilibrium(net, X, rtol=1e-10)
        t_p = best_of(lambda net=net, X=X: theory.solve_equilibrium(net, X, rtol=1e-10), 3)
        calls = [0]

        def F(z, sA=sA, B=B, calls=calls):
            calls[0] += 1
            Z = z.reshape(B.shape)
            return (Z - np.maximum(sA @ Z + B, 0.0)).ravel()

        t0 = time.perf_counter()
        z = newton_krylov(F, np.zeros(B.size), f_tol=1e-10 * np.linalg.norm(ref) / np.sqrt(B.size) * 1e-2,
                          method="lgmres")
        t_nk = time.perf_counter() - t0
        err_nk = float(np.linalg.norm(z.reshape(B.shape) - ref) / np.linalg.norm(ref))
        rows.append({"name": f"equilibrium m=1024 n=32 γ₀={g0}: Picard vs Newton-Krylov", "gamma0": g0, "q": net.q,
                     "picard_seconds": t_p, "picard_iterations": eq.iterations, "picard_rel_err": float(
                         np.linalg.norm(eq.Z - ref) / np.linalg.norm(ref)),
                     "newton_krylov_seconds": t_nk, "newton_krylov_residual_calls": calls[0], "newton_krylov_rel_err": err_nk,
                     "speedup_picard": t_nk / t_p})
        print(rows[-1], flush=True)
    return rows


class _Stop(Exception):
    pass


def _cold_gram(net, X):
    eq = theory.solve_equilibrium(net, X)
    return theory.gram(net, eq, theory.solve_adjoint(net, eq).V), eq.iterations


def gram_rows(rng, quick: bool) -> list[dict]:
    """Hadamard-form Gram (cold equilibrium + adjoint + two GEMMs) vs an autodiff empirical NTK
    (torch.func jacrev + vmap through the unrolled Picard iteration) vs explicit JJᵀ (tiny m)."""
    import ntk_torch

    rows = []
    sizes = [(256, 32), (256, 128), (1024, 32)] if quick else [(256, 32), (256, 128), (1024, 32), (1024, 128), (4096, 32), (4096, 128)]
    torch_sizes = {(256, 32), (256, 128), (1024, 32)}  # larger: J alone is n·m²·8 bytes (4 GB at 4096, 32)
    if ntk_torch.available():  # import and first-call overhead off the clock
        w = theory.init_network(8, 4, rng=np.random.default_rng(0))
        ntk_torch.ntk(w, theory.make_data(2, 4, np.random.default_rng(0))[0], 3)
    for m, n in sizes:
        net = theory.init_network(m, 16, gamma0=0.5, gamma_rule="gamma0/c", rng=np.random.default_rng([m, n]))
        X, _ = theory.make_data(n, 16, np.random.default_rng([m, n, 1]))
        H, K = _cold_gram(net, X)
        t_h = best_of(lambda net=net, X=X: _cold_gram(net, X), 3)
        row = {"name": f"Gram m={m} n={n}: Hadamard form vs torch.func NTK", "m": m, "n": n, "hadamard": t_h,
               "picard_steps": K}
        if (m, n) in torch_sizes and ntk_torch.available():
            t0 = time.perf_counter()
            Ht = ntk_torch.ntk(net, X, K)
            row["torch"] = time.perf_counter() - t0
            row["speedup"] = row["torch"] / t_h
            row["rel_diff_torch"] = float(np.abs(H - Ht).max() / np.abs(H).max())
            row["goal"] = "≥ 500× at m=1024 n=32; agree to 1e-10" if (m, n) == (1024, 32) else "agree to 1e-10"
        elif (m, n) in torch_sizes:
            row["torch"] = "not installed (pip install torch==2.13.0)"
        else:
            row["torch"] = f"not run: J is n·m² doubles = {n * m * m * 8 / 2**30:.1f} GiB"
        rows.append(row)
        print(row, flush=True)
    # explicit JJᵀ oracle: ∂z/∂vec(A) is n·m·m² doubles, so only tiny m
    net = theory.init_network(48, 8, gamma0=0.5, gamma_rule="gamma0/c", rng=np.random.default_rng(7))
    X, _ = theory.make_data(32, 8, np.random.default_rng(8))
    H, K = _cold_gram(net, X)
    eq = theory.solve_equilibrium(net, X)
    t_j = best_of(lambda: theory.gram_explicit(dv.jacobian_f_explicit(net, eq)), 3)
    Hj = theory.gram_explicit(dv.jacobian_f_explicit(net, eq))
    row = {"name": "Gram m=48 n=32: Hadamard vs explicit JJᵀ", "hadamard": best_of(lambda: _cold_gram(net, X)),
           "explicit": t_j, "rel_diff_explicit": float(np.abs(H - Hj).max() / np.abs(H).max())}
    row["speedup"] = t_j / row["hadamard"]
    if ntk_torch.available():
        row["rel_diff_torch"] = float(np.abs(H - ntk_torch.ntk(net, X, K)).max() / np.abs(H).max())
    rows.append(row)
    print(row, flush=True)
    return rows


def _flow_steps(m: int, n: int, steps: int, rng) -> dict:
    """Time per Heun step of theory.gradient_flow (warm starts, all diagnostics) after the first
    step, and the solver iterations per recorded state."""
    from theory.flow import gradient_flow

    net = theory.init_network(m, 16, gamma0=0.5, gamma_rule="gamma0/2c", rng=np.random.default_rng([m, 3]))
    X, y = theory.make_data(n, 16, np.random.default_rng([m, 4]))
    marks, iters = [], []

    def on_step(st):
        marks.append(time.perf_counter())
        iters.append((st.eq.iterations, st.adj.iterations))
        if len(marks) > steps + 1:
            raise _Stop

    try:
        gradient_flow(net, X, y, on_step=on_step)
    except _Stop:
        pass
    per_step = (marks[-1] - marks[1]) / (len(marks) - 2)
    it_eq = float(np.mean([a for a, _ in iters[2:]]))
    it_adj = float(np.mean([b for _, b in iters[2:]]))
    return {"per_step": per_step, "it_eq": it_eq, "it_adj": it_adj, "net": net, "X": X, "y": y}


def flow_rows(rng, quick: bool) -> list[dict]:
    rows = []
    ms = [256, 512, 1024, 2048] if quick else [256, 512, 1024, 2048, 4096]
    n = 32
    per = []
    for m in ms:
        r = _flow_steps(m, n, 4 if m >= 2048 else 8, rng)
        net, X, y = r["net"], r["X"], r["y"]
        eq = theory.solve_equilibrium(net, X)
        adj = theory.solve_adjoint(net, eq)
        DW = adj.V
        res = theory.output(net, eq.Z) - y
        t_az = best_of(lambda net=net, eq=eq: net.A @ eq.Z, 5)
        t_atw = best_of(lambda net=net, DW=DW: net.A.T @ DW, 5)
        t_f = best_of(lambda adj=adj, res=res, eq=eq: (adj.V * res) @ eq.Z.T, 5)
        # a Heun step: two equilibrium + two adjoint solves (predictor and corrector state), each
        # `it` Picard products, plus two force products V·diag(r)·Zᵀ
        floor = 2 * (r["it_eq"] * t_az + r["it_adj"] * t_atw + t_f)
        row = {"name": f"gradient-flow step m={m} n={n} vs its BLAS floor", "m": m, "per_step": r["per_step"],
               "floor": floor, "ratio_to_floor": r["per_step"] / floor, "picard_it_eq": r["it_eq"],
               "picard_it_adj": r["it_adj"], "goal": "≤ 2× floor"}
        rows.append(row)
        per.append((m, r["per_step"]))
        print(row, flush=True)
    lm, lt = np.log([p[0] for p in per]), np.log([p[1] for p in per])
    slope, icpt = np.polyfit(lm, lt, 1)
    rows.append({"name": "time per flow step vs m (log-log fit)", "slope": float(slope), "predicted": 2.0,
                 "points": per})
    # Whole trajectory at m = 4096, n = 32 to L(T) ≤ 1e-3·L(0): Heun steps h = 0.25/λ_max(H) over
    # T = ln(1000)/λ₀ (Theorem 3.1 (d)) gives ≈ 4·ln(1000)·λ_max/λ₀ steps; projected from the measured step.
    m = 4096 if not quick else 2048
    net = theory.init_network(m, 16, gamma0=0.5, gamma_rule="gamma0/2c", rng=np.random.default_rng([m, 3]))
    X, y = theory.make_data(n, 16, np.random.default_rng([m, 4]))
    H, _ = _cold_gram(net, X)
    ev = np.linalg.eigvalsh(H)
    steps = 4 * np.log(1000) * ev[-1] / ev[0]
    step_t = dict(per)[m]
    rows.append({"name": f"whole trajectory m={m} n={n} to L ≤ 1e-3·L(0) (projected)", "lambda_max_over_lambda0": float(ev[-1] / ev[0]),
                 "projected_steps": float(steps), "projected_seconds": float(steps * step_t), "goal": "≤ 120 s"})
    print(rows[-1], flush=True)
    # Peak memory of a few flow steps (tracemalloc sees NumPy's buffers): O(m² + nm) means
    # peak/m² flat in m (a fixed number of m×m arrays), never growing like n·m.
    import tracemalloc

    mem = []
    for m in ([1024, 2048, 4096] if quick else [1024, 2048, 4096, 8192]):
        tracemalloc.start()
        _flow_steps(m, n, 2, rng)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        mem.append({"m": m, "peak_bytes": peak, "m_by_m_arrays": peak / (8 * m * m)})
        print(mem[-1], flush=True)
    rows.append({"name": "peak memory of gradient flow (n=32)", "points": mem,
                 "goal": "O(m² + nm): peak/(8m²) flat in m"})
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
