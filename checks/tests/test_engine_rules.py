"""Unit tests of the verdict rules (checks/engine/rules.py) on synthetic evidence: every rule is driven to
every outcome it names, and its margin is ≥ 1 exactly when the statement holds on the evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ..engine import rules
from ..engine.margins import NaNComparison
from ..engine.rules import INCONCLUSIVE, REFUTED, VACUOUS, VERIFIED


def test_bound_on_every_example_all_outcomes():
    ok = rules.bound_on_every_example([1.0, 2.5, 7.0])
    assert ok.verdict == VERIFIED and ok.margin == 1.0 and ok.worst == 0  # attained bound holds
    bad = rules.bound_on_every_example([3.0, 0.999, 2.0])
    assert bad.verdict == REFUTED and bad.margin == 0.999 and bad.worst == 1 and bad.numbers["violations"] == 1
    # the bound exceeds the quantity's whole range on every example: holding says nothing
    vac = rules.bound_on_every_example([1.5, 4.0], range_margins=[1.2, 3.0])
    assert vac.verdict == VACUOUS and vac.numbers["range_margin_min"] == 1.2
    # one example where the bound is below the range: informative, so VERIFIED
    assert rules.bound_on_every_example([1.5, 4.0], range_margins=[0.8, 3.0]).verdict == VERIFIED
    # a violated bound is REFUTED whatever the range says
    assert rules.bound_on_every_example([0.5], range_margins=[2.0]).verdict == REFUTED
    assert rules.bound_on_every_example([]).verdict == INCONCLUSIVE
    with pytest.raises(NaNComparison):
        rules.bound_on_every_example([1.0, math.nan])


def test_frequency_all_outcomes():
    # 29 of 29: one-sided 95% CP lower bound 0.05^(1/29) = 0.9019 ≥ 0.9
    v = rules.frequency(29, 29, 0.9)
    assert v.verdict == VERIFIED and v.numbers["cp_lower"] == pytest.approx(0.05 ** (1 / 29), rel=1e-12, abs=0)
    assert v.margin >= 1
    # 28 of 28: lower 0.05^(1/28) = 0.8985 < 0.9, upper 1: undecided
    u = rules.frequency(28, 28, 0.9)
    assert u.verdict == INCONCLUSIVE and u.margin < 1
    # 20 of 30: upper bound < 0.9
    r = rules.frequency(20, 30, 0.9)
    assert r.verdict == REFUTED and r.numbers["cp_upper"] < 0.9 and r.margin < 1
    assert rules.frequency(0, 0, 0.9).verdict == INCONCLUSIVE


def test_cochran_armitage_known_values():
    # failures 0/10, 5/10, 10/10 at scores 0, 1, 2: T = 10, p = 1/2, Σn(s − s̄)² = 20, Var = 5, z = √20
    ca = rules.cochran_armitage([0, 5, 10], [10, 10, 10], [0, 1, 2])
    assert ca["z"] == pytest.approx(10 / np.sqrt(5), rel=1e-12, abs=0)
    assert ca["p_rising"] < 1e-5 and ca["p_falling"] > 1 - 1e-5
    flat = rules.cochran_armitage([10, 10], [10, 10], [0, 1])  # all fail everywhere: no variance, no trend
    assert flat["z"] == 0.0 and flat["p_rising"] == 0.5


def _rows(fails, n=30, widths=(64, 256, 1024, 4096)):
    return [{"m": m, "n": n, "holds": n - f} for m, f in zip(widths, fails)]


def test_frequency_for_large_m_all_outcomes():
    target = 0.9
    # failures fall with m and the decision widths are clean: VERIFIED
    v = rules.frequency_for_large_m(_rows([8, 6, 0, 0]), (1024, 4096), target)
    assert v.verdict == VERIFIED and v.margin >= 1 and v.numbers["failure_falling"]
    # failures rise with m: REFUTED (contradicts "m large enough") even though they are few
    r1 = rules.frequency_for_large_m(_rows([0, 0, 5, 12]), (1024, 4096), target)
    assert r1.verdict == REFUTED and r1.numbers["failure_rising"]
    # false at every width (planted 0.99λ₀): all fail everywhere, no fall: REFUTED
    r2 = rules.frequency_for_large_m(_rows([30, 30, 30, 30]), (1024, 4096), target)
    assert r2.verdict == REFUTED and not r2.numbers["failure_falling"] and r2.numbers["cp_upper"] < target
    # failures fall with m but the decision widths still fail a few times: INCONCLUSIVE
    i = rules.frequency_for_large_m(_rows([20, 15, 4, 2]), (1024, 4096), target)
    assert i.verdict == INCONCLUSIVE and i.numbers["failure_falling"] and i.margin < 1
    # paths within numerical error of the threshold count against the verdict being drawn:
    # 30/30 clean is VERIFIED, but not if one of them is uncertain (29 of 30: lower 0.85 < 0.9)
    rows = _rows([8, 6, 0, 0])
    rows[3]["uncertain_holds"] = 1
    w = rules.frequency_for_large_m(rows, (4096,), target)
    assert w.verdict == INCONCLUSIVE and w.numbers["k_counting_uncertain_as_failures"] == 29
    # all fail, but 3 of 30 only within their error: upper bound with 3 successes is still < 0.9
    rows = _rows([30, 30, 30, 30])
    rows[3]["uncertain_fails"] = 3
    assert rules.frequency_for_large_m(rows, (4096,), target).verdict == REFUTED
    with pytest.raises(ValueError, match="not in the sweep"):
        rules.frequency_for_large_m(_rows([0, 0, 0, 0]), (8192,), target)


def test_slope_below_all_outcomes():
    fit = lambda s, lo, hi: {"slope": s, "lo": lo, "hi": hi}  # noqa: E731
    assert rules.slope_below(fit(-0.5, -0.6, -0.4), 0.0).verdict == VERIFIED
    assert rules.slope_below(fit(0.2, 0.1, 0.3), 0.0).verdict == REFUTED
    assert rules.slope_below(fit(0.0, -0.1, 0.1), 0.0).verdict == INCONCLUSIVE
    assert rules.slope_below(fit(-0.5, -0.6, -0.4), -0.5).verdict == VERIFIED
    slow = rules.slope_below(fit(-0.38, -0.46, -0.29), -0.5)
    assert slow.verdict == REFUTED and slow.margin < 1
    assert rules.slope_below(fit(-0.3, -0.7, 0.1), -0.5).verdict == INCONCLUSIVE
    for f, c in ((fit(-0.5, -0.6, -0.4), 0.0), (fit(-0.5, -0.6, -0.4), -0.5), (fit(-0.38, -0.46, -0.29), -0.5)):
        d = rules.slope_below(f, c)
        assert (d.margin >= 1) == (d.verdict == VERIFIED)


def _path(label, lam_ok, lhs, rhs, slack=0.0):
    n = len(lhs)
    return {"label": label, "hyp": np.asarray(lam_ok, bool), "lhs": np.asarray(lhs, float),
            "rhs": np.asarray(rhs, float), "slack": np.full(n, slack)}


def test_implication_along_paths_all_outcomes():
    good = _path("good", [1, 1, 1, 0], [1, 0.5, 0.3, 0.9], [1, 0.6, 0.4, 0.2])  # violation only after (a) failed
    v = rules.implication_along_paths([good])
    assert v.verdict == VERIFIED and v.margin == pytest.approx(0.6 / 0.5)  # min over the tested times
    bad = _path("bad", [1, 1, 1, 1], [1, 0.5, 0.45, 0.1], [1, 0.6, 0.4, 0.2])
    r = rules.implication_along_paths([good, bad])
    assert r.verdict == REFUTED and r.worst == 1 and r.margin == pytest.approx(0.4 / 0.45)
    # the same violation within the numerical slack is not a refutation
    assert rules.implication_along_paths([_path("in slack", [1, 1, 1, 1], [1, 0.5, 0.45, 0.1],
                                                [1, 0.6, 0.4, 0.2], slack=0.06)]).verdict == VERIFIED
    # the hypothesis never held after t = 0: nothing tested
    vac = rules.implication_along_paths([_path("never", [1, 0, 0], [1, 5, 5], [1, 0.1, 0.1])])
    assert vac.verdict == VACUOUS and vac.numbers["times_tested"] == 0
    with pytest.raises(ValueError, match="prefix-closed"):
        rules.implication_along_paths([_path("holes", [1, 0, 1], [1, 1, 1], [1, 1, 1])])


def test_refinement_rule_all_outcomes():
    # order-2 decay 0.08 → 0.02: Richardson with p = ½ explains 0.06/(√2 − 1) = 0.145 ≥ 0.02
    assert rules.refinement_margin(0.08, 0.02, 0.0) == pytest.approx(0.06 / (np.sqrt(2) - 1) / 0.02)
    assert rules.converges_under_refinement([rules.refinement_margin(0.08, 0.02, 0.0)]).verdict == VERIFIED
    # an h-independent residual 0.021 → 0.021: unexplained
    flat = rules.refinement_margin(0.021, 0.021, 1e-9)
    assert flat < 1 and rules.converges_under_refinement([3.0, flat]).verdict == REFUTED
    assert rules.refinement_margin(0.1, 0.0, 0.0) == math.inf
    assert rules.converges_under_refinement([]).verdict == INCONCLUSIVE


def test_frequency_bound_all_outcomes():
    assert rules.frequency_bound([1.2] * 40, 0.9).verdict == VERIFIED  # 40/40: lower 0.928
    assert rules.frequency_bound([1.2] * 20 + [0.5] * 20, 0.9).verdict == REFUTED
    assert rules.frequency_bound([1.2] * 28 + [0.5], 0.9).verdict == INCONCLUSIVE
    vac = rules.frequency_bound([1.5] * 40, 0.9, range_margins=[1.8] * 40)  # bound ≥ 1.8 × the quantity's maximum
    assert vac.verdict == VACUOUS and vac.numbers["range_margin_min"] == 1.8
    # informative somewhere: judged as a frequency
    assert rules.frequency_bound([1.5] * 40, 0.9, range_margins=[1.8] * 39 + [0.7]).verdict == VERIFIED


def test_correlation_all_outcomes():
    assert rules.correlation(0.8, 200, 0.3).verdict == VERIFIED
    weak = rules.correlation(0.02, 900, 0.3)  # a shuffled predictor: interval ≈ [−0.05, 0.09]
    assert weak.verdict == REFUTED and weak.numbers["hi"] < 0.3
    assert rules.correlation(0.2, 30, 0.3).verdict == INCONCLUSIVE
    assert rules.correlation(0.5, 3, 0.3).verdict == INCONCLUSIVE


def _fixed(k, n, target=0.9):
    return rules._confirmation_outcome(k, n, target, 0.95)


def test_confirmation_design_outcomes():
    """29 trials against 0.9: PASS only at 29/29 (lower bound 0.902), FAIL at ≤ 22 (upper bound < 0.9)."""
    assert _fixed(29, 29) == rules.PASS and _fixed(28, 29) == rules.UNDECIDED
    assert _fixed(23, 29) == rules.UNDECIDED and _fixed(22, 29) == rules.FAIL and _fixed(0, 29) == rules.FAIL


def test_curtailed_confirmation_reaches_every_decision():
    assert rules.curtailed_confirmation([True] * 29, 29, 0.9)["decision"] == rules.PASS
    assert rules.curtailed_confirmation([True] * 10, 29, 0.9)["decision"] == rules.CONTINUE
    assert rules.curtailed_confirmation([], 29, 0.9)["decision"] == rules.CONTINUE
    fail = rules.curtailed_confirmation([False] * 7, 29, 0.9)  # 7 failures: at most 22 of 29 can hold
    assert fail["decision"] == rules.FAIL and fail["used"] == 7
    und = rules.curtailed_confirmation([False] + [True] * 28, 29, 0.9)
    assert und["decision"] == rules.UNDECIDED
    # one failure early: PASS is out of reach, FAIL still reachable: go on
    assert rules.curtailed_confirmation([False, True, True], 29, 0.9)["decision"] == rules.CONTINUE
    with pytest.raises(ValueError):
        rules.curtailed_confirmation([True] * 30, 29, 0.9)


def test_curtailment_keeps_the_fixed_design_decision():
    """On every sequence (exhaustively for n = 12, at random for the planned 29) the curtailed decision
    equals the fixed design's decision on the whole sequence: the error level is the design's."""
    import itertools

    n, target = 12, 0.75
    for seq in itertools.product([False, True], repeat=n):
        got = rules.curtailed_confirmation(list(seq), n, target)
        assert got["decision"] == _fixed(sum(seq), n, target), seq
        prefix = rules.curtailed_confirmation(list(seq[:got["used"]]), n, target)
        assert prefix["decision"] == got["decision"] and prefix["used"] == got["used"]
    rng = np.random.default_rng(0)
    for p in (0.7, 0.85, 0.95, 0.99):
        for _ in range(300):
            seq = list(rng.random(29) < p)
            got = rules.curtailed_confirmation(seq, 29, 0.9)
            assert got["decision"] == _fixed(sum(seq), 29), (p, seq)
            assert rules.curtailed_confirmation(seq[:got["used"]], 29, 0.9)["decision"] == got["decision"]


def _panel(**over):
    conf = [{"data_set": f"d{i}", "m_star": m, "width": 2 * m, "decision": rules.PASS, "cp_lower": 0.902,
             "target": 0.9} for i, m in enumerate((200.0, 500.0, 1000.0))]
    kw = dict(implications_ok=True, implication_margin=10.0, rho_exponent={"slope": 0.5, "lo": 0.4, "hi": 0.6},
              failure_trend={"p_rising": 0.6}, rho_top_slope={"slope": -0.5, "lo": -0.7, "hi": -0.3},
              confirmations=conf, ladder_min=128, ladder_max=2048)
    kw.update(over)
    return rules.panel_theorem(**kw)


def test_panel_theorem_reaches_every_outcome():
    assert _panel().verdict == VERIFIED
    assert _panel(ladder_max=4096).verdict == VERIFIED
    # a ladder spanning ≤ 4× cannot give VERIFIED, and says so (even on evidence that would pass)
    short = _panel(ladder_max=512)
    assert short.verdict == INCONCLUSIVE and short.numbers["verified_reachable"] is False
    assert any("out of reach" in r for r in short.numbers["not_verified_because"])
    # REFUTED, one reason at a time
    assert _panel(implications_ok=False).verdict == REFUTED
    assert _panel(failure_trend={"p_rising": 0.01}).verdict == REFUTED
    assert _panel(rho_top_slope={"lo": 0.1}).verdict == REFUTED
    assert _panel(rho_exponent={"slope": -0.2, "lo": -0.3, "hi": -0.1}).verdict == REFUTED
    bad = [{"data_set": "d0", "m_star": 300.0, "width": 512, "decision": rules.FAIL, "cp_lower": 0.3, "target": 0.9}]
    assert _panel(confirmations=bad).verdict == REFUTED
    # INCONCLUSIVE, one shortfall at a time
    two = [{"data_set": f"d{i}", "m_star": m, "width": 2 * m, "decision": rules.PASS} for i, m in enumerate((200., 900.))]
    assert _panel(confirmations=two).verdict == INCONCLUSIVE
    narrow = [{"data_set": f"d{i}", "m_star": m, "width": 512, "decision": rules.PASS} for i, m in enumerate((200., 300., 400.))]
    assert _panel(confirmations=narrow).verdict == INCONCLUSIVE
    low = [{"data_set": f"d{i}", "m_star": m, "width": 512, "decision": rules.PASS} for i, m in enumerate((100., 300., 800.))]
    assert _panel(confirmations=low).verdict == INCONCLUSIVE
    und = [dict(c, decision=rules.UNDECIDED) if i == 0 else c for i, c in enumerate(_panel_conf())]
    assert _panel(confirmations=und).verdict == INCONCLUSIVE
    assert _panel(rho_exponent={"slope": 0.2, "lo": -0.1, "hi": 0.5}).verdict == INCONCLUSIVE
    assert "not_verified_because" in _panel(confirmations=two).numbers


def _panel_conf():
    return [{"data_set": f"d{i}", "m_star": m, "width": 2 * m, "decision": rules.PASS} for i, m in
            enumerate((200.0, 500.0, 1000.0))]
