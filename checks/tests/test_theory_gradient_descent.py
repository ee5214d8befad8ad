"""Unit tests of full-batch gradient descent (``theory.flow.GradientDescent``, our code beyond the
paper) at m = 6 on a few steps, so mutation testing can afford them for every mutant of
``theory/flow.py`` (the GD1–GD4 sweeps are too slow for that without the trajectory cache).

Oracles: the Lemma 3.2 gradient ``vjp_f`` at every visited A (independent of the flow), the Gram
matrix recomputed at A(0), and the definitions of the recorded quantities.
"""

from __future__ import annotations

import numpy as np
import pytest

import theory
from theory import derivatives as dv
from theory import flow

# Every iterate is solved to SOLVE_RTOL = 1e-11 (warm-started); the gradient recomputed cold at the same A
# agrees to ≈ 1e-11/(1 − q)² relative (z and v each within 1e-11/(1 − q)), so 1e-9 relative is a safe bound.
RTOL_STEP = 1e-9


def _problem(m=6, seed=0, gamma0=0.5, rule="gamma0/2c", d=3):
    net = theory.init_network(m, d, gamma0=gamma0, gamma_rule=rule, rng=np.random.default_rng(seed))
    X, y = theory.make_data(3, d, np.random.default_rng(seed + 1))
    return net, X, y


def _grad(net, X, y):
    eq = theory.solve_equilibrium(net, X)
    V = theory.solve_adjoint(net, eq).V
    return dv.vjp_f(net, eq, V, theory.output(net, eq.Z) - y), eq, V


def test_every_iterate_is_a_gradient_step_from_the_previous_one():
    """A_{k+1} = A_k − η∇L(A_k), the gradient recomputed from scratch at each visited A_k; t_k = kη."""
    net, X, y = _problem()
    eta = 0.3 / np.linalg.eigvalsh(theory.gram(net, *_grad(net, X, y)[1:]))[-1]
    states = []
    res = flow.gradient_flow(net, X, y, flow.GradientDescent(eta=eta), T=3 * eta, checkpoints=1, on_step=states.append)
    assert res.steps == 3 and res.nfev == 3 and len(states) == 4
    np.testing.assert_allclose(res.t, [0.0, eta, 2 * eta, 3 * eta], rtol=1e-15)
    assert res.eta == eta
    for a, b in zip(states[:-1], states[1:]):
        g, _, _ = _grad(a.net, X, y)
        np.testing.assert_allclose(b.net.A, a.net.A - eta * g, rtol=0, atol=RTOL_STEP * eta * np.abs(g).max())
    np.testing.assert_array_equal(res.final_A, states[-1].net.A)


def test_default_step_is_the_safety_over_the_largest_eigenvalue_at_the_start():
    net, X, y = _problem(seed=2)
    g, eq, V = _grad(net, X, y)
    lam_max = np.linalg.eigvalsh(theory.gram(net, eq, V))[-1]
    res = flow.gradient_flow(net, X, y, flow.GradientDescent(c=0.7), T=1e-9, checkpoints=1)
    assert res.eta == pytest.approx(0.7 / lam_max, rel=1e-9, abs=0)
    assert res.steps == 1  # T < η: one step reaches past T (the first k with kη ≥ T)


def test_model_loss_is_the_gauss_newton_prediction():
    """model_loss[k] = ½‖(I − ηH_k)r_k‖² from the recorded H_k and r_k = f_k − y; with a tiny step
    it agrees with the next loss to O(η²) (here η·λ_max = 1e-4: relative 1e-6 is generous for the
    second-order remainder ½η²·‖r‖²·O(λ_max²·ratio) and rounding)."""
    net, X, y = _problem(seed=3)
    states = []
    lam_max = np.linalg.eigvalsh(theory.gram(net, *_grad(net, X, y)[1:]))[-1]
    eta = 1e-4 / lam_max
    res = flow.gradient_flow(net, X, y, flow.GradientDescent(eta=eta), T=3 * eta, checkpoints=3, on_step=states.append)
    assert len(res.model_loss) == res.steps == 3
    for k in range(3):
        r = states[k].f - y
        want = 0.5 * np.sum(((np.eye(3) - eta * states[k].H) @ r) ** 2)
        assert res.model_loss[k] == pytest.approx(want, rel=1e-12, abs=0)
        assert res.model_loss[k] == pytest.approx(res.loss[k + 1], rel=1e-6, abs=0)
    # the checkpoints are the losses at the first kη ≥ each bound
    assert res.checkpoint_loss == [res.loss[0], res.loss[1], res.loss[2], res.loss[3]]


def test_checkpoints_take_the_first_iterate_past_each_bound():
    net, X, y = _problem(seed=4)
    eta = 0.01
    res = flow.gradient_flow(net, X, y, flow.GradientDescent(eta=eta), T=0.1, checkpoints=4)
    # bounds 0, 0.025, 0.05, 0.075, 0.1 → iterates k = 0, 3, 5, 8, 10
    assert res.steps == 10
    assert res.checkpoint_loss == [res.loss[k] for k in (0, 3, 5, 8, 10)]


def test_small_steps_track_the_flow_at_first_order():
    """GD is forward Euler: its distance to the flow (RK45 oracle at rtol 1e-10) at T halves when η
    halves (ratio in [1.6, 2.4]: first order with a second-order remainder of a few percent)."""
    net, X, y = _problem(seed=5)
    T = 0.5
    ref = flow.gradient_flow(net, X, y, flow.RK45(rtol=1e-10), T=T, checkpoints=1).f[-1]
    errs = [np.abs(flow.gradient_flow(net, X, y, flow.GradientDescent(eta=T / k), T=T, checkpoints=1).f[-1] - ref).max()
            for k in (20, 40)]
    assert 1.6 <= errs[0] / errs[1] <= 2.4, errs


@pytest.mark.parametrize("eta", [0.0, -1.0, np.nan, np.inf])
def test_bad_steps_are_input_errors(eta):
    net, X, y = _problem()
    with pytest.raises(theory.InputError, match="the gradient-descent step η must be a positive number"):
        flow.gradient_flow(net, X, y, flow.GradientDescent(eta=eta), T=1.0)


def test_step_budget_is_an_integration_error():
    net, X, y = _problem()
    with pytest.raises(theory.IntegrationError, match="more than 3 gradient-descent steps before T = 1"):
        flow.gradient_flow(net, X, y, flow.GradientDescent(eta=0.01), T=1.0, checkpoints=1, max_steps=3)
    res = flow.gradient_flow(net, X, y, flow.GradientDescent(eta=0.01), T=0.03, checkpoints=1, max_steps=3)
    assert res.steps == 3  # the budget is inclusive
    with pytest.raises(theory.IntegrationError, match="more than 3 gradient-descent steps"):
        flow.gradient_flow(net, X, y, flow.GradientDescent(eta=0.01), T=0.04, checkpoints=1, max_steps=3)  # one too many


def test_loss_of_contraction_stops_the_descent_with_the_step(monkeypatch):
    """Fault injection as for the flow: after the first true norm, ‖A‖₂ is reported 1.5/0.95 times
    too large; the run stops at t = η (the first step), records why and keeps A(0)."""
    net, X, y = _problem(seed=1, gamma0=0.95, rule="gamma0/c")
    calls = {"n": 0}
    real = flow.spectral_norm

    def fake(A):
        calls["n"] += 1
        return real(A) if calls["n"] <= 1 else real(A) * 1.5 / 0.95

    monkeypatch.setattr(flow, "spectral_norm", fake)
    res = flow.gradient_flow(net, X, y, flow.GradientDescent(eta=0.05), T=1.0, checkpoints=1)
    assert res.failure is not None and "gradient flow at t = 0.05)" in res.failure
    assert res.steps == 0 and res.t == [0.0]
    np.testing.assert_array_equal(res.final_A, net.A)
