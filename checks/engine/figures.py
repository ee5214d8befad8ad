"""Declarative figure specs recorded with the evidence; ``reports/figures.py`` draws them.

A spec is {"title", "xlabel", "ylabel", "logx", "logy", "series": [{"label", "x", "y", "style"}]}."""

from __future__ import annotations

import numpy as np


def loglog_figure(title: str, xs, ys, label: str, fit: dict | None = None) -> dict:
    """Points (x, y) on log-log axes, with the fitted power law through their mean level if ``fit``."""
    series = [{"label": label, "x": list(map(float, xs)), "y": list(map(float, ys)), "style": "o"}]
    if fit is not None:
        ms = np.unique(xs)
        mean_level = np.exp(np.mean(np.log(np.maximum(ys, 1e-300))) - fit["slope"] * np.mean(np.log(xs)))
        series.append({"label": f"slope {fit['slope']:.2f} [{fit['lo']:.2f}, {fit['hi']:.2f}]",
                       "x": [float(m) for m in ms], "y": [float(mean_level * m ** fit["slope"]) for m in ms],
                       "style": "k-"})
    return {"title": title, "xlabel": "width m", "ylabel": label, "logx": True, "logy": True, "series": series}
