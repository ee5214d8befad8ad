"""Figures for the report, as inline SVG strings, drawn from verification.json only."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9})


def svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def all_figures(data: dict) -> dict[str, dict[str, str]]:
    """{claim id: {figure name: svg}} for every claim whose evidence carries plottable series."""
    out: dict[str, dict[str, str]] = {}
    for claim in data["claims"]:
        figs = {}
        for ch in claim["checks"] + claim.get("side_findings", []):
            for name, spec in (ch.get("evidence") or {}).get("figures", {}).items():
                figs[f"{ch['name']}:{name}"] = draw(spec)
        if figs:
            out[claim["id"]] = figs
    return out


def draw(spec: dict) -> str:
    """A line/scatter plot from a small declarative spec recorded by a check:
    {"title", "xlabel", "ylabel", "logx", "logy", "series": [{"label", "x", "y", "style"}]}."""
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    for s in spec.get("series", []):
        x = [float(v) for v in s["x"]]
        y = [float(v) for v in s["y"]]
        style = s.get("style", "o-")
        ax.plot(x, y, style, label=s.get("label"), ms=3, lw=1.2)
    if spec.get("logx"):
        ax.set_xscale("log")
    if spec.get("logy"):
        ax.set_yscale("log")
    ax.set_title(spec.get("title", ""))
    ax.set_xlabel(spec.get("xlabel", ""))
    ax.set_ylabel(spec.get("ylabel", ""))
    if any(s.get("label") for s in spec.get("series", [])):
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return svg(fig)
