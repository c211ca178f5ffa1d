"""Which criteria drive a factor-wise judge's overall verdict.

Unit: one pair with both orders judged and every criterion verdict parsed. The overall
position-debiased win score of the perturbed answer is regressed (OLS, standard errors
clustered by item) on the five debiased criterion win scores. ``weights`` are the
coefficients normalised by the sum of their absolute values (a share of influence with its
sign); ``correlations`` are plain Pearson correlations with the overall score, which stay
readable when criteria move together and the coefficients share credit arbitrarily.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np
import statsmodels.api as sm

from judgeaudit.stats.bootstrap import DEFAULT_LEVEL
from judgeaudit.stats.outcomes import PairOutcome
from judgeaudit.vocabulary import CRITERIA


def criteria_weights(pairs: Sequence[PairOutcome], *, level: float = DEFAULT_LEVEL) -> dict[str, Any] | None:
    """The results.json ``criteria_weights`` section; None when no pair carries criteria."""
    rows, crit = [], []
    for p in pairs:
        c = p.criteria_scores() if p.complete else None
        if c is not None and all(name in c for name in CRITERIA):
            rows.append(p)
            crit.append([c[name] for name in CRITERIA])
    if not rows:
        return None
    y = np.array([p.score for p in rows], dtype=float)
    C = np.array(crit, dtype=float)
    out: dict[str, Any] = {
        "model": "OLS of the overall debiased score on the five criterion scores, "
                 "standard errors clustered by item",
        "n": len(rows), "level": level, "criteria": list(CRITERIA),
        "coefficients": {}, "weights": {}, "correlations": {}, "r_squared": None,
    }
    for j, name in enumerate(CRITERIA):
        out["correlations"][name] = _corr(C[:, j], y)
    used = [j for j in range(len(CRITERIA)) if np.std(C[:, j]) > 1e-12]
    groups = np.unique([p.item_id for p in rows], return_inverse=True)[1]
    if len(rows) < len(used) + 3 or groups.max() < 1:
        out["status"] = "skipped: too few pairs"
        return out
    X = sm.add_constant(C[:, used], has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
    ci = np.asarray(fit.conf_int(alpha=1.0 - level))
    total = float(np.sum(np.abs(fit.params[1:]))) or 1.0
    for k, j in enumerate(used, start=1):
        name = CRITERIA[j]
        out["coefficients"][name] = {"coef": float(fit.params[k]), "ci_low": _f(ci[k, 0]),
                                     "ci_high": _f(ci[k, 1]), "p_value": _f(fit.pvalues[k])}
        out["weights"][name] = float(fit.params[k]) / total
    for j in set(range(len(CRITERIA))) - set(used):
        out["coefficients"][CRITERIA[j]] = None
        out["weights"][CRITERIA[j]] = None
    out["r_squared"] = _f(fit.rsquared)
    out["status"] = "ok"
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    if np.std(a) < 1e-12 or np.std(b) < 1e-12:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _f(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
