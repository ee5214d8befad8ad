"""Width sweeps for asymptotic claims: widths and seeds by Hypothesis profile, and the
fixed-effects log-log slope verdict shared by C13, C16-C19."""

from __future__ import annotations

import numpy as np
from hypothesis import settings

from ._stats import slope_ci

WIDTHS = {"thorough": (64, 128, 256, 512, 1024, 2048, 4096)}
DEFAULT_WIDTHS = (64, 128, 256, 512, 1024)
SEEDS = {"thorough": 8}
DEFAULT_SEEDS = 4

#: The rate every limit of Sections 4-5 predicts: averages of m i.i.d. terms concentrate like
#: m^{-1/2}.  A claimed limit "X(m) → L at rate m^{-1/2}" is
#:   VERIFIED     when the 95% slope interval lies below 0 and reaches −1/2 or below,
#:   REFUTED      when the whole interval lies above −1/2 (decay slower than the rate, or a plateau:
#:                a wrong limit leaves a constant floor, so its fitted slope drifts towards 0),
#:   INCONCLUSIVE otherwise (the interval straddles 0).
PREDICTED_RATE = -0.5


def widths_and_seeds() -> tuple[tuple[int, ...], int]:
    name = settings.get_current_profile_name()
    return WIDTHS.get(name, DEFAULT_WIDTHS), SEEDS.get(name, DEFAULT_SEEDS)


def convergence_verdict(xs, errs, seeds) -> tuple[str, dict, float]:
    """Fixed-effects slope of log(err) on log(m); verdict against PREDICTED_RATE by rules.slope_below."""
    from . import rules

    fit = slope_ci(xs, np.maximum(np.asarray(errs, float), 1e-300), groups=seeds)
    dec = rules.slope_below(fit, PREDICTED_RATE)
    return dec.verdict, fit, dec.margin


def loglog_figure(title: str, xs, ys, label: str, fit: dict | None = None) -> dict:
    series = [{"label": label, "x": list(map(float, xs)), "y": list(map(float, ys)), "style": "o"}]
    if fit is not None:
        ms = np.unique(xs)
        mean_level = np.exp(np.mean(np.log(np.maximum(ys, 1e-300))) - fit["slope"] * np.mean(np.log(xs)))
        series.append({"label": f"slope {fit['slope']:.2f} [{fit['lo']:.2f}, {fit['hi']:.2f}]",
                       "x": [float(m) for m in ms], "y": [float(mean_level * m ** fit["slope"]) for m in ms],
                       "style": "k-"})
    return {"title": title, "xlabel": "width m", "ylabel": label, "logx": True, "logy": True, "series": series}
