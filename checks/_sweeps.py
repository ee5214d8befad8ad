"""Width sweeps for asymptotic claims: widths and seeds by Hypothesis profile, and the
fixed-effects log-log slope verdict shared by C13, C16-C19."""

from __future__ import annotations

import numpy as np
from hypothesis import settings

from ._stats import slope_ci
from .harness import INCONCLUSIVE, REFUTED, VERIFIED

WIDTHS = {"thorough": (64, 128, 256, 512, 1024, 2048, 4096)}
DEFAULT_WIDTHS = (64, 128, 256, 512, 1024)
SEEDS = {"thorough": 8}
DEFAULT_SEEDS = 4

#: Separator between "decays like m^{-1/2}" (concentration) and "does not decay" (slope 0):
#: a claimed convergence is VERIFIED when the whole 95% interval of the slope lies below −1/4,
#: REFUTED when it lies above −1/4, INCONCLUSIVE when it straddles it.
RATE_SEPARATOR = -0.25


def widths_and_seeds() -> tuple[tuple[int, ...], int]:
    name = settings.get_current_profile_name()
    return WIDTHS.get(name, DEFAULT_WIDTHS), SEEDS.get(name, DEFAULT_SEEDS)


def convergence_verdict(xs, errs, seeds) -> tuple[str, dict, float]:
    """Fixed-effects slope of log(err) on log(m); verdict against RATE_SEPARATOR."""
    fit = slope_ci(xs, np.maximum(np.asarray(errs, float), 1e-300), groups=seeds)
    if fit["hi"] < RATE_SEPARATOR:
        verdict = VERIFIED
    elif fit["lo"] > RATE_SEPARATOR:
        verdict = REFUTED
    else:
        verdict = INCONCLUSIVE
    margin = (RATE_SEPARATOR - fit["hi"]) + 1.0  # ≥ 1 iff the interval is below the separator
    return verdict, fit, margin


def loglog_figure(title: str, xs, ys, label: str, fit: dict | None = None) -> dict:
    series = [{"label": label, "x": list(map(float, xs)), "y": list(map(float, ys)), "style": "o"}]
    if fit is not None:
        ms = np.unique(xs)
        mean_level = np.exp(np.mean(np.log(np.maximum(ys, 1e-300))) - fit["slope"] * np.mean(np.log(xs)))
        series.append({"label": f"slope {fit['slope']:.2f} [{fit['lo']:.2f}, {fit['hi']:.2f}]",
                       "x": [float(m) for m in ms], "y": [float(mean_level * m ** fit["slope"]) for m in ms],
                       "style": "k-"})
    return {"title": title, "xlabel": "width m", "ylabel": label, "logx": True, "logy": True, "series": series}
