"""Unit tests of the gradient-flow integrator (our code, not the paper), at m = 6 on short
horizons, so mutation testing can afford to run them for every mutant of ``theory/flow.py``.

Oracles: the Lemma 3.2 gradient (``vjp_f``, independent of the flow), SciPy's RK45 at a tight
tolerance, the Gram matrix and λ_min recomputed from scratch at the recorded states, and
fault injection for the two ways a path can end early.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.integrate

import theory
from theory import derivatives as dv
from theory import flow

# The flow solves to SOLVE_RTOL = 1e-11 (warm-started); recomputing a state cold to the same target agrees to
# 1e-11·‖Q‖ ≤ 1e-11/(1 − q) ≈ 2e-11 in z and v, and H, λ_min (products of two) to ≈ 1e-10: rel 1e-9.
RTOL_PATH = 1e-9


def _inflate_norm(monkeypatch, honest: int) -> None:
    """Fault injection: the first ``honest`` calls of the flow's ‖A‖₂ are true, later ones report
    1.5/0.95 times the truth (q = 1.5 for a start at q = 0.95)."""
    calls = {"n": 0}
    real = flow.spectral_norm

    def fake(A):
        calls["n"] += 1
        return real(A) if calls["n"] <= honest else real(A) * 1.5 / 0.95

    monkeypatch.setattr(flow, "spectral_norm", fake)


def _problem(m=6, seed=0, gamma0=0.5, rule="gamma0/2c", d=3):
    """n = 3 samples in d dimensions."""
    net = theory.init_network(m, d, gamma0=gamma0, gamma_rule=rule, rng=np.random.default_rng(seed))
    X, y = theory.make_data(3, d, np.random.default_rng(seed + 1))
    return net, X, y


def test_first_heun_step_follows_the_negative_gradient():
    """One Heun step of size h: A(h) − A(0) = −h·∇_A L + O(h²), ∇_A L = Σ_i (f_i − y_i)∂f_i/∂A.
    The O(h²) term is ½h²·(dF/dt), bounded here by h²·‖F‖·λ_max(H(0)) (F changes at rate
    ≤ λ_max‖F‖ to first order), so with h = 1e-4 the relative deviation must be ≤ 1e-3."""
    net, X, y = _problem()
    eq = theory.solve_equilibrium(net, X)
    V = theory.solve_adjoint(net, eq).V
    grad = dv.vjp_f(net, eq, V, theory.output(net, eq.Z) - y)
    h = 1e-4
    res = flow.gradient_flow(net, X, y, flow.Heun(safety=1e6), T=h, checkpoints=1)  # safety ≫: one step, clipped to T
    assert res.steps == 1 and res.t == [0.0, h]
    lam_max = np.linalg.eigvalsh(theory.gram(net, eq, V))[-1]
    step = res.final_A - net.A
    assert np.linalg.norm(step + h * grad) <= h**2 * lam_max * np.linalg.norm(grad) * (1 + 1e-6)
    assert np.linalg.norm(step + h * grad) < 1e-3 * h * np.linalg.norm(grad)


def test_heun_converges_to_the_rk45_oracle_at_second_order():
    """Heun at safety s, s/2, s/4 against RK45 at rtol 1e-10, on a path with no ReLU pattern
    change (checked: flip_frac ≡ 0), where the field is smooth and Heun has order 2: each
    halving must cut the error by ≥ 2.5 (order ≥ 1.3; 4 expected, steps are clipped at T), and
    the finest run must lie within twice its Richardson estimate |a_{s/2} − a_{s/4}|/3 of the
    oracle.  (Across pattern changes the order drops to 1: the C9 finding.)"""
    net, X, y = _problem(seed=1)
    T = 30.0
    ref = flow.gradient_flow(net, X, y, flow.RK45(rtol=1e-10), T=T, checkpoints=1)
    runs = [flow.gradient_flow(net, X, y, flow.Heun(safety=s), T=T, checkpoints=1) for s in (0.1, 0.05, 0.025)]
    assert max(ref.flip_frac) == 0.0 and all(max(r.flip_frac) == 0.0 for r in runs)
    e = [np.linalg.norm(r.final_A - ref.final_A) for r in runs]
    assert e[0] / e[1] >= 2.5 and e[1] / e[2] >= 2.5, e
    rich = np.linalg.norm(runs[1].final_A - runs[2].final_A) / 3
    assert e[2] <= 2 * rich
    np.testing.assert_allclose(runs[2].f[-1], ref.f[-1], rtol=0, atol=10 * rich)
    assert ref.t[-1] == T and runs[2].t[-1] == pytest.approx(T, rel=1e-14, abs=0)
    assert ref.nfev > 0 and runs[2].nfev == 2 * runs[2].steps
    assert [r.steps for r in runs] == [4, 7, 13]  # h = s/λ_max(H(t)): halving s doubles the steps


def test_recorded_diagnostics_are_the_quantities_they_name():
    net, X, y = _problem(seed=2)
    states = []
    res = flow.gradient_flow(net, X, y, flow.Heun(safety=0.25), T=4.0, checkpoints=3, on_step=states.append)
    n_rec = len(res.t)
    assert n_rec == res.steps + 1 == len(states) and len(res.checkpoint_loss) == 4
    arr = res.arrays()
    assert set(arr) == {"t", "loss", "lam_min", "dA_fro", "q_cert", "dH_op", "dz_max", "dz_rel_max", "dv_max", "flip_frac"}
    assert all(len(v) == n_rec for v in arr.values())
    for cp in (4 / 3, 8 / 3, 4.0):  # the path lands on every checkpoint
        assert np.min(np.abs(arr["t"] - cp)) <= 1e-12
    eq0 = theory.solve_equilibrium(net, X)
    adj0 = theory.solve_adjoint(net, eq0)
    H0 = theory.gram(net, eq0, adj0.V)
    assert res.lambda0 == pytest.approx(theory.lambda0(H0), rel=RTOL_PATH, abs=0)
    assert res.loss[0] == pytest.approx(0.5 * np.sum((theory.output(net, eq0.Z) - y) ** 2), rel=RTOL_PATH, abs=0)
    assert arr["dA_fro"][0] == arr["dH_op"][0] == arr["dz_max"][0] == arr["dv_max"][0] == arr["flip_frac"][0] == 0.0
    assert np.all(np.diff(arr["loss"]) <= 1e-12 * arr["loss"][0])  # gradient flow: L never increases
    for k in (n_rec // 2, n_rec - 1):  # recompute everything at two recorded states
        st = states[k]
        A = st.net.A
        eq = theory.solve_equilibrium(st.net, X)
        adj = theory.solve_adjoint(st.net, eq)
        H = theory.gram(st.net, eq, adj.V)
        np.testing.assert_allclose(st.H, H, rtol=RTOL_PATH, atol=1e-12)
        assert arr["lam_min"][k] == pytest.approx(np.linalg.eigvalsh(H)[0], rel=RTOL_PATH, abs=0)
        assert res.lam_max[k] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=RTOL_PATH, abs=0)
        assert arr["dA_fro"][k] == pytest.approx(np.linalg.norm(A - net.A), rel=1e-12, abs=0)  # same arrays: rounding only
        # differences lose the digits they share: here ‖ΔH‖ ≥ 0.06‖H‖ and ‖Δz‖ ≥ 0.03‖z‖ after the
        # first step, so H's 1e-9 becomes ≤ 2e-8 on ΔH (allowed 1e-6) and z's 2e-11 ≤ 7e-10 on Δz (1e-8)
        assert arr["dH_op"][k] == pytest.approx(np.linalg.norm(H - H0, 2), rel=1e-6, abs=1e-12)
        dz = np.linalg.norm(eq.Z - eq0.Z, axis=0)
        assert arr["dz_max"][k] == pytest.approx(dz.max(), rel=1e-8, abs=0)
        assert arr["dz_rel_max"][k] == pytest.approx((dz / np.linalg.norm(eq0.Z, axis=0)).max(), rel=1e-8, abs=0)
        assert arr["dv_max"][k] == pytest.approx(np.linalg.norm(adj.V - adj0.V, axis=0).max(), rel=1e-8, abs=0)
        assert arr["flip_frac"][k] == np.mean(eq.D != eq0.D)
        true_q = st.net.gamma * theory.spectral_norm(A) / np.sqrt(net.m)
        assert true_q <= arr["q_cert"][k] * (1 + 1e-12)  # a certificate, never below the truth
        assert arr["q_cert"][k] <= net.gamma * (theory.spectral_norm(net.A) + np.linalg.norm(A - net.A)) / np.sqrt(net.m) * (1 + 1e-12)
        np.testing.assert_allclose(res.f[k], theory.output(st.net, eq.Z), rtol=0, atol=RTOL_PATH / 10)  # ‖u‖/√m = 1
    np.testing.assert_array_equal(res.final_A, states[-1].net.A)


def test_default_horizon_is_in_units_of_lambda0():
    net, X, y = _problem(seed=3)
    res = flow.gradient_flow(net, X, y, flow.Heun(), horizon=0.05, checkpoints=1)
    assert res.T == pytest.approx(0.05 / res.lambda0, rel=1e-15, abs=0) and res.t[-1] == pytest.approx(res.T, rel=1e-14, abs=0)


def test_q_is_measured_near_the_contraction_limit():
    """Above Q_MEASURE the cheap bound γ(‖A(0)‖₂ + ‖ΔA‖_F)/√m is replaced by the measured q."""
    net, X, y = _problem(seed=1, gamma0=0.95, rule="gamma0/c")
    res = flow.gradient_flow(net, X, y, flow.Heun(safety=0.25), T=1.0, checkpoints=1)
    q = res.q_cert
    assert q[0] == pytest.approx(0.95, rel=1e-12, abs=0)  # measured at t = 0, not the cheap bound
    cheap = np.array([net.gamma * (theory.spectral_norm(net.A) + d) / np.sqrt(net.m) for d in res.dA_fro])
    assert np.all(np.array(q[1:]) < cheap[1:])


@pytest.mark.parametrize("method", ["heun", "rk45"])
@pytest.mark.parametrize("honest", [1, 2])
def test_non_contractive_path_stops_with_the_time(monkeypatch, method, honest):
    """Fault injection: after ``honest`` true norms (the measured q(0), then for Heun the first
    stage's; ‖A(0)‖₂ itself comes from the network's certificate), ‖A(t)‖₂ is reported 1.5/0.95
    times too large, i.e. q = 1.5.  The path
    must stop, record why and at which (positive) time, and keep A at the last accepted state."""
    net, X, y = _problem(seed=1, gamma0=0.95, rule="gamma0/c")
    _inflate_norm(monkeypatch, honest)
    res = flow.gradient_flow(net, X, y, flow.integrator(method, 0.25), T=1.0, checkpoints=1)
    assert res.failure is not None
    m = re.search(r"non-contractive implicit layer \(gradient flow at t = ([^)]*)\): measured γ‖A‖₂/√m = ([0-9.]+) ≥ 1\.", res.failure)
    assert m, res.failure
    t_fail = float(m.group(1))
    # RK45's first stage is at t = 0; Heun's first failing solve is at t = h > 0
    assert (0 < t_fail <= 1.0) if method == "heun" else (0 <= t_fail <= 1.0)
    assert 1.4 < float(m.group(2)) < 1.6
    assert len(res.t) == res.steps + 1 and res.T == 1.0
    np.testing.assert_array_equal(res.final_A, net.A if res.steps == 0 else res.final_A)
    assert res.final_A is not None and np.isfinite(res.final_A).all()


def test_non_contractive_at_the_start_is_raised(monkeypatch):
    """If A(0) itself is found non-contractive (here: the flow's first measured norm, q(0), is
    reported as 1.5), there is no path to record: the error is raised, with t = 0."""
    net, X, y = _problem(seed=1, gamma0=0.95, rule="gamma0/c")
    _inflate_norm(monkeypatch, 0)
    with pytest.raises(theory.NonContractiveError, match=r"\(gradient flow at t = 0\)"):
        flow.gradient_flow(net, X, y, flow.Heun(), T=1.0, checkpoints=1)


def test_states_seen_by_callbacks_match_the_record():
    net, X, y = _problem(seed=1, gamma0=0.91, rule="gamma0/c")  # q(t) stays in [0.91, 0.96]: measured, contractive
    for method in ("heun", "rk45"):
        states = []
        res = flow.gradient_flow(net, X, y, flow.integrator(method, 0.25 if method == "heun" else 1e-6), T=1.0,
                                 checkpoints=2, on_step=states.append)
        assert len(states) == len(res.t) == res.steps + 1
        for k, st in enumerate(states):
            assert st.t == res.t[k] and st.q_cert == res.q_cert[k] and isinstance(st.q_cert, float)
            assert st.net.q == st.q_cert  # the network carries the certificate it was solved with
            assert isinstance(st.eq, theory.Equilibrium) and isinstance(st.adj, theory.Adjoint)
            np.testing.assert_array_equal(st.f, res.f[k])
            true_q = st.net.gamma * theory.spectral_norm(st.net.A) / np.sqrt(net.m)
            assert st.q_cert == pytest.approx(true_q, rel=1e-12, abs=0)  # q ≥ Q_MEASURE = 0.9: measured, not bounded
        assert res.failure is None
        # checkpoint_loss[j] is the loss at checkpoint j (t = 0, T/2, T)
        for j, tc in enumerate((0.0, 0.5, 1.0)):
            k = int(np.argmin(np.abs(np.asarray(res.t) - tc)))
            assert abs(res.t[k] - tc) <= 1e-12 and res.checkpoint_loss[j] == res.loss[k]
        assert res.t[-1] == pytest.approx(1.0, rel=1e-14, abs=0) and len(res.checkpoint_loss) == 3


def test_warm_starts_make_the_path_solves_cheap():
    """Every solve along the path starts from the previous state's Z and Wₐ: after the first step
    the equilibrium and adjoint solves take far fewer iterations than cold solves."""
    net, X, y = _problem(seed=1)
    states = []
    flow.gradient_flow(net, X, y, flow.Heun(safety=0.025), T=30.0, checkpoints=1, on_step=states.append)
    st = states[-1]
    cold_eq = theory.solve_equilibrium(st.net, X, rtol=flow.SOLVE_RTOL)
    cold_adj = theory.solve_adjoint(st.net, cold_eq, rtol=flow.SOLVE_RTOL)
    assert st.eq.iterations < cold_eq.iterations, (st.eq.iterations, cold_eq.iterations)
    assert st.adj.iterations < cold_adj.iterations, (st.adj.iterations, cold_adj.iterations)


def test_every_path_solve_runs_compiled_after_joint_solves(monkeypatch):
    """With held-out inputs, a recorded state's joint solve hands the samples' columns on as warm starts; they
    are C-ordered copies, so every later solve (Heun's predictor stage solves the samples alone) runs in
    theory.passes.picard, not the NumPy loop (bit-identical, ≈ 10× the call overhead at small m)."""
    from theory import passes

    net, X, y = _problem(m=8, seed=1)
    Xx = theory.normalize_rows(np.random.default_rng(7).standard_normal((4, X.shape[1])))
    taken = []
    real = passes.picard_takes
    monkeypatch.setattr(passes, "picard_takes", lambda *a: taken.append(real(*a)) or taken[-1])
    flow.gradient_flow(net, X, y, flow.Heun(safety=0.05), T=5.0, checkpoints=2, X_extra=Xx)
    assert len(taken) >= 10 and all(taken), taken.count(False)


def test_rk45_accuracy_follows_its_tolerance():
    """RK45 at rtol 1e-5 against rtol 1e-10 (two checkpoints): the global error is at most the sum
    of the per-step local errors (≤ rtol·‖ΔA‖ each; the flow is non-expansive off kinks), i.e.
    ≤ N·1e-5 with N = 10 steps here; allowed 10³·1e-5 (measured 1.6e-6), and every counter must
    add up over the checkpoint intervals."""
    net, X, y = _problem(seed=1)
    T = 30.0
    fine = flow.gradient_flow(net, X, y, flow.RK45(rtol=1e-10), T=T, checkpoints=2)
    coarse = flow.gradient_flow(net, X, y, flow.RK45(rtol=1e-5), T=T, checkpoints=2)
    change = np.linalg.norm(fine.final_A - net.A)
    assert np.linalg.norm(coarse.final_A - fine.final_A) <= 1e3 * 1e-5 * change
    for r in (fine, coarse):
        assert r.t[-1] == T and len(r.t) == r.steps + 1
        assert r.nfev >= 6 * r.steps  # ≥ 6 stage evaluations per accepted step, summed over intervals
        assert all(isinstance(q, float) for q in r.q_cert)


def test_step_budgets_are_inclusive():
    """max_steps = the steps a path needs is enough; one fewer raises (both integrators)."""
    net, X, y = _problem(seed=1)
    for method, rtol in (("heun", 0.1), ("rk45", 1e-6)):
        need = flow.gradient_flow(net, X, y, flow.integrator(method, rtol), T=30.0, checkpoints=2).steps
        flow.gradient_flow(net, X, y, flow.integrator(method, rtol), T=30.0, checkpoints=2, max_steps=need)
        with pytest.raises(theory.IntegrationError, match=r"before T = 30[ ,)]|before T = 30$"):
            flow.gradient_flow(net, X, y, flow.integrator(method, rtol), T=30.0, checkpoints=2, max_steps=need - 1)


def test_labels_are_checked_against_the_samples():
    net, X, y = _problem(d=4)  # n = 3 samples, d = 4: the labels must match n, not d
    res = flow.gradient_flow(net, X, y, flow.Heun(), T=0.5, checkpoints=1)
    assert res.f[0].shape == (3,)
    with pytest.raises(theory.ShapeError, match=r"y must have shape \(3,\) to match X"):
        flow.gradient_flow(net, X, np.zeros(4), flow.Heun(), T=0.5)


def test_documented_defaults():
    import inspect

    sig = inspect.signature(flow.gradient_flow).parameters
    assert (sig["horizon"].default, sig["integrator"].default, sig["checkpoints"].default,
            sig["max_steps"].default) == (6.0, None, 12, 200_000)
    assert (flow.Heun().safety, flow.ExpEuler().tau, flow.RK45().rtol, flow.GradientDescent().c) == (0.25, 0.25, 1e-6, 1.0)
    # the default integrator is Heun at safety 0.25: the same path as asking for it
    net, X, y = _problem(seed=3)
    a = flow.gradient_flow(net, X, y, T=0.5, checkpoints=1)
    b = flow.gradient_flow(net, X, y, flow.Heun(safety=0.25), T=0.5, checkpoints=1)
    assert a.method == b.method == "heun" and a.t == b.t and a.loss == b.loss
    assert [flow.integrator(k, 0.5).step for k in ("heun", "rk45", "exp", "gd")] == [0.5] * 4


def test_relative_path_change_with_small_equilibria():
    """dz_rel_max divides by ‖z_i(0)‖ even when it is < 1 (here φ(Wx) is scaled by 0.05)."""
    base, X, y = _problem(seed=1)
    net = theory.Network(A=base.A, W=0.05 * base.W, u=base.u, gamma=base.gamma)
    states = []
    res = flow.gradient_flow(net, X, 0.1 * y, flow.Heun(), T=5.0, checkpoints=1, on_step=states.append)
    z0 = np.linalg.norm(states[0].eq.Z, axis=0)
    assert 0 < z0.max() < 1
    dz = np.linalg.norm(states[-1].eq.Z - states[0].eq.Z, axis=0)
    assert res.dz_rel_max[-1] == pytest.approx((dz / z0).max(), rel=1e-8, abs=0)


def test_step_budget_and_method_errors():
    net, X, y = _problem()
    with pytest.raises(theory.IntegrationError, match="more than 3 Heun steps before T = 50"):
        flow.gradient_flow(net, X, y, flow.Heun(), T=50.0, checkpoints=1, max_steps=3)
    with pytest.raises(theory.IntegrationError, match="more than 3 RK45 steps before T = 50 "):
        flow.gradient_flow(net, X, y, flow.RK45(rtol=1e-8), T=50.0, checkpoints=1, max_steps=3)
    with pytest.raises(theory.InputError, match="unknown integration method 'euler': 'heun', 'rk45', 'exp' or 'gd'"):
        flow.integrator("euler", 1.0)
    with pytest.raises(theory.InputError, match="integrator must be Heun, RK45, ExpEuler or GradientDescent"):
        flow.gradient_flow(net, X, y, "heun", T=1.0)
    for bad in (0.0, -0.25, float("nan"), float("inf")):
        with pytest.raises(theory.InputError, match="must be a positive finite number"):
            flow.Heun(safety=bad)
    with pytest.raises(theory.LabelRangeError):
        flow.gradient_flow(net, X, 2 * np.ones(3), flow.Heun(), T=1.0)


def test_rk45_failure_is_an_integration_error(monkeypatch):
    """Fault injection: a right-hand side that turns NaN makes SciPy's RK45 fail (step size
    underflow); the flow raises IntegrationError with the time, never returns the NaNs."""
    net, X, y = _problem()

    class Broken(scipy.integrate.RK45):
        def step(self):
            self.status = "failed"
            return "Required step size is less than spacing between numbers."

    monkeypatch.setattr(scipy.integrate, "RK45", Broken)
    with pytest.raises(theory.IntegrationError, match="RK45 failed at t = 0: Required step size"):
        flow.gradient_flow(net, X, y, flow.RK45(rtol=0.25), T=1.0, checkpoints=1)


def test_loss_is_half_the_squared_residual():
    assert flow.loss(np.array([1.0, 2.0]), np.array([0.0, 0.0])) == 2.5


def test_rk45_receives_the_documented_tolerances(monkeypatch):
    """RK45 gets rtol as given and atol = rtol·‖dA/dt(0)‖_F/(λ₀·m), the typical entry of ΔA
    (‖dA/dt(0)‖ from the Lemma 3.2 gradient, computed here independently)."""
    net, X, y = _problem(seed=1)
    seen = []

    class Spy(scipy.integrate.RK45):
        def __init__(self, *args, **kw):
            seen.append(kw)
            super().__init__(*args, **kw)

    monkeypatch.setattr(scipy.integrate, "RK45", Spy)
    res = flow.gradient_flow(net, X, y, flow.RK45(rtol=1e-7), T=2.0, checkpoints=2)
    eq = theory.solve_equilibrium(net, X)
    V = theory.solve_adjoint(net, eq).V
    g0 = np.linalg.norm(dv.vjp_f(net, eq, V, theory.output(net, eq.Z) - y))
    assert len(seen) == 2  # one solver per checkpoint interval
    for kw in seen:
        assert kw["rtol"] == 1e-7
        assert kw["atol"] == pytest.approx(1e-7 * g0 / (res.lambda0 * net.m), rel=1e-8, abs=0)
    # labels within 1e-3 of f(0) (scaled into [−1, 1] with the output): the typical entry of ΔA
    # is ≪ 1 and atol follows it down
    seen.clear()
    shrink = 0.5 / max(1.0, np.abs(theory.output(net, eq.Z)).max())  # |f(0)| ≤ ½ after scaling u
    net = theory.Network(A=net.A, W=net.W, u=shrink * net.u, gamma=net.gamma)
    eq = theory.solve_equilibrium(net, X)
    V = theory.solve_adjoint(net, eq).V
    y_near = theory.output(net, eq.Z) + 1e-3
    res = flow.gradient_flow(net, X, y_near, flow.RK45(rtol=1e-7), T=2.0, checkpoints=1)
    g0 = np.linalg.norm(dv.vjp_f(net, eq, V, theory.output(net, eq.Z) - y_near))
    assert g0 / (res.lambda0 * net.m) < 1
    assert seen[0]["atol"] == pytest.approx(1e-7 * g0 / (res.lambda0 * net.m), rel=1e-8, abs=0)


def test_a_sample_with_zero_equilibrium_has_no_flow():
    """A sample with φ(Wx) ≤ 0 on every unit has z(t) ≡ 0 (the unique fixed point of σ(sAz)), so
    its row of J is 0 and H(0) is singular: the flow refuses to start (λ₀ is needed for T), which
    is why the relative change ‖Δz_i‖/‖z_i(0)‖ never meets ‖z_i(0)‖ = 0."""
    net, X, y = _problem(seed=1)
    W = net.W.copy()
    W[:, 0] = -np.abs(W[:, 0])
    net = theory.Network(A=net.A, W=W, u=net.u, gamma=net.gamma)
    X = np.vstack([[1.0, 0.0, 0.0], X[1:]])  # sample 0 = e₁: Wx = W[:, 0] ≤ 0
    assert not theory.solve_equilibrium(net, X).Z[:, 0].any()
    with pytest.raises(theory.SingularGramError):
        flow.gradient_flow(net, X, y, flow.Heun(), T=5.0, checkpoints=1)


@pytest.mark.parametrize("method", ["heun", "rk45"])
def test_extra_inputs_are_solved_only_at_recorded_states(method, monkeypatch):
    """Held-out inputs (``X_extra``) join the samples' solve at every recorded state only: Heun's
    predictor stage and RK45's stage evaluations solve the n samples alone (the stage states are
    not recorded, so solving the extras there would only cost a pass over A per column)."""
    net, X, y = _problem(seed=4)
    Xt = theory.normalize_rows(np.random.default_rng(9).standard_normal((2, 3)))
    sizes = []
    real = flow.solve_equilibrium

    def spy(net_, XX, **kw):
        sizes.append(len(XX))
        return real(net_, XX, **kw)

    monkeypatch.setattr(flow, "solve_equilibrium", spy)
    states = []
    res = flow.gradient_flow(net, X, y, flow.integrator(method, 0.25 if method == "heun" else 1e-3), T=2.0,
                             checkpoints=2, X_extra=Xt, on_step=states.append)
    assert sorted(set(sizes)) == [3, 5]
    assert sizes.count(5) == len(states) == res.steps + 1  # one joint solve per recorded state
    stages = res.steps if method == "heun" else res.nfev  # predictor stages / RK45 stage evaluations
    assert sizes.count(3) == stages
