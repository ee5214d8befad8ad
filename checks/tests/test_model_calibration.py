"""The calibration of a width law (checks/model/calibration.py) on synthetic data with a known law:
the fit recovers the exponents, the bootstrap over data sets covers them, thresholds follow the
formula, and the confirmation plan picks the widths the design says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ..engine.stats import cluster_bootstrap, percentile_interval
from ..model import calibration

PLAN = calibration.Plan("gamma0/2c", "exp", 0.25, (128, 256, 512, 1024, 2048), tuple(range(8)), 3)


def _rows(beta=0.8, lam_exp=1.6, label=-1.3, noise=0.15, seed=0):
    """Synthetic paths: log ρ = −5 − β log m − lam_exp log λ∞ + label·variant + noise (per data set and
    per path), log deficit = log(min(ρ, 0.9)·0.4)."""
    rng = np.random.default_rng(seed)
    rows = []
    for ds in range(8):
        lam, var = 3e-3 / 1.4**ds, float(ds % 2)
        offset = rng.normal(0, noise)
        for m in PLAN.ladder:
            for j in range(PLAN.inits):
                rho = math.exp(-5 - beta * math.log(m) - lam_exp * math.log(lam) + label * var + offset
                               + rng.normal(0, noise))
                rows.append({"ds": ds, "data_set": f"d{ds}", "m": m, "init": j, "lambda_inf": lam, "variant": var,
                             "rho": rho, "deficit": 0.4 * min(rho, 0.9), "first_order": 0.4 * min(rho, 0.9)})
    return rows


def test_the_fit_recovers_a_known_law_and_its_interval_covers_it():
    f = calibration.fit(PLAN, _rows())
    P, I = f["point"], f["interval"]
    assert P["beta_rho"] == pytest.approx(0.8, abs=0.05) and I["beta_rho"][0] < 0.8 < I["beta_rho"][1]
    assert P["kappa"] == pytest.approx(1.6 / 0.8, rel=0.1, abs=0) and I["kappa"][0] < 2.0 < I["kappa"][1]
    assert P["d_rho"] == pytest.approx(-1.3, abs=0.2)
    assert f["data_sets"] == 8 and f["paths"] == 8 * 5 * 3 and f["replicates"] == calibration.REPLICATES


def test_threshold_is_where_the_quantile_reaches_a_half():
    coef = np.array([-5.0, -0.8, -1.6, -1.3])
    lam, var, r_q = 1e-3, 0.0, 0.2
    m = calibration.threshold(coef, r_q, lam, var)
    assert coef[0] + coef[1] * math.log(m) + coef[2] * math.log(lam) + r_q == pytest.approx(math.log(0.5), abs=1e-12)
    assert calibration.threshold(np.array([-5.0, 0.1, -1.6, 0.0]), r_q, lam, var) == math.inf  # does not fall with m


def test_the_bootstrap_is_seeded_and_resamples_whole_clusters():
    clusters = np.repeat(np.arange(5), 3)
    seen = []
    out = cluster_bootstrap(lambda idx: seen.append(np.sort(clusters[idx])) or len(idx), clusters, replicates=20, seed=3)
    again = cluster_bootstrap(lambda idx: len(idx), clusters, replicates=20, seed=3)
    assert out == again == [15] * 20
    assert all(np.all(np.bincount(c, minlength=5) % 3 == 0) for c in seen)  # a cluster comes with all its rows
    assert percentile_interval([1.0, 2.0, 3.0, math.inf], 0.5) == (1.0, 3.0)


def test_confirmations_are_planned_inside_the_ladder():
    f = {"point": {}, "interval": {}}
    for ds, (m, lo, hi) in enumerate([(100, 50, 150), (300, 200, 400), (900, 600, 1500), (1800, 1200, 3000)]):
        f["point"][f"m*:{ds}"], f["interval"][f"m*:{ds}"] = m, (lo, hi)
        f["point"][f"m*deficit:{ds}"], f["interval"][f"m*deficit:{ds}"] = math.inf, (0, math.inf)
    plan = calibration.Plan("gamma0/2c", "exp", 0.25, PLAN.ladder, (0, 1, 2, 3), 3)
    planned = calibration.confirmations_planned(plan, f)
    assert [(c["ds"], c["width"]) for c in planned] == [(1, 512), (2, 2048)]  # 0: below the ladder, 3: beyond it
    below = calibration.confirmations_planned(plan, f, factor=1 / 8)
    assert [(c["ds"], c["width"]) for c in below] == [(1, 128), (2, 256)]


def test_a_fit_is_computed_once_for_equal_arguments_and_handed_out_as_a_copy(monkeypatch):
    calls = []
    real = calibration.compute_fit
    monkeypatch.setattr(calibration, "_FITS", {})
    monkeypatch.setattr(calibration, "compute_fit", lambda *a: calls.append(a) or real(*a))
    first = calibration.fit(PLAN, _rows())
    first["point"]["kappa"] = -1.0  # a caller's edit must not reach the next caller
    second = calibration.fit(PLAN, _rows())
    assert len(calls) == 1 and second == real(PLAN, _rows())
    calibration.fit(PLAN, _rows(seed=1))  # other rows: a new fit
    assert len(calls) == 2
