"""Confidence statements for statistical and asymptotic claims.

* "with probability ≥ 1−δ": a frequency k/N over independent seeds with an exact
  (Clopper–Pearson) binomial interval.
* "→ 0 as m → ∞" / "∝ m^p": the slope of an ordinary least-squares fit of log y on log m
  over all (width, seed) points, with a Student-t interval.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: Confidence level of every interval in the suite (two-sided; one-sided uses the same level).
CONF = 0.95


def cp_interval(k: int, N: int, conf: float = CONF) -> tuple[float, float]:
    """Exact two-sided Clopper–Pearson interval for a binomial proportion k/N."""
    ci = stats.binomtest(k, N).proportion_ci(confidence_level=conf, method="exact")
    return float(ci.low), float(ci.high)


def cp_lower_one_sided(k: int, N: int, conf: float = CONF) -> float:
    """One-sided lower Clopper–Pearson bound: P(p ≥ bound) ≥ conf."""
    return 0.0 if k == 0 else float(stats.beta.ppf(1 - conf, k, N - k + 1))


def cp_upper_one_sided(k: int, N: int, conf: float = CONF) -> float:
    return 1.0 if k == N else float(stats.beta.ppf(conf, k + 1, N - k))


def slope_ci(x, y, conf: float = CONF, groups=None) -> dict:
    """log-log OLS slope of y on x with a two-sided t interval.

    ``groups`` (e.g. the data seed of each point) adds one intercept per group (a
    fixed-effects fit): widths trained on the same data are compared with each other, so
    the data-to-data spread of the level (λ₀ differs per data set) leaves the slope's
    interval.  Residual degrees of freedom: N − groups − 1.
    """
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if groups is not None:
        g = np.asarray(groups)
        keep = np.array([np.unique(lx[g == k]).size >= 2 for k in g])
        lx, ly, g = lx[keep], ly[keep], g[keep]
        cx, cy = lx.copy(), ly.copy()
        for k in np.unique(g):
            sel = g == k
            cx[sel] -= lx[sel].mean()
            cy[sel] -= ly[sel].mean()
        slope = float(cx @ cy / (cx @ cx))
        dof = len(cx) - np.unique(g).size - 1
        resid = cy - slope * cx
        se = float(np.sqrt(resid @ resid / dof / (cx @ cx)))
        t = stats.t.ppf(0.5 + conf / 2, dof)
        return {"slope": slope, "lo": slope - t * se, "hi": slope + t * se, "points": len(cx),
                "groups": int(np.unique(g).size), "conf": conf, "fixed_effects": True}
    fit = stats.linregress(lx, ly)
    t = stats.t.ppf(0.5 + conf / 2, len(lx) - 2)
    return {"slope": float(fit.slope), "lo": float(fit.slope - t * fit.stderr),
            "hi": float(fit.slope + t * fit.stderr), "intercept": float(fit.intercept),
            "points": len(lx), "conf": conf}


def ols(y, X) -> dict:
    """Least squares y ≈ X·coef: coefficients, residuals (X holds the intercept column if wanted)."""
    y, X = np.asarray(y, float), np.asarray(X, float)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return {"coef": coef, "resid": y - X @ coef}


def cluster_bootstrap(stat, clusters, *, replicates: int = 2000, seed: int = 0) -> list:
    """Resample whole clusters (e.g. data sets) with replacement ``replicates`` times and evaluate
    ``stat(rows)`` on each resample (``rows``: the indices of the resampled rows, a cluster drawn
    twice contributing its rows twice).  Seeded: the same call gives the same replicates."""
    clusters = np.asarray(clusters)
    names = np.unique(clusters)
    members = [np.flatnonzero(clusters == c) for c in names]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(replicates):
        pick = rng.integers(0, len(names), len(names))
        out.append(stat(np.concatenate([members[i] for i in pick])))
    return out


def percentile_interval(values, conf: float = CONF) -> tuple[float, float]:
    """Two-sided percentile interval of bootstrap replicates (non-finite replicates kept: they sort to
    the ends, so an interval reaching them is infinite rather than silently shortened)."""
    v = np.sort(np.asarray(values, float))
    lo, hi = np.quantile(v, [(1 - conf) / 2, (1 + conf) / 2], method="inverted_cdf")
    return float(lo), float(hi)


def cluster_robust_term(y, X, clusters, term: int) -> dict:
    """The coefficient of column ``term`` with its cluster-robust (by ``clusters``) standard error and
    two-sided p-value (statsmodels OLS, cov_type="cluster"): is the term needed?"""
    import statsmodels.api as sm

    res = sm.OLS(np.asarray(y, float), np.asarray(X, float)).fit(
        cov_type="cluster", cov_kwds={"groups": np.unique(np.asarray(clusters), return_inverse=True)[1]})
    return {"coef": float(res.params[term]), "se": float(res.bse[term]), "p": float(res.pvalues[term])}
