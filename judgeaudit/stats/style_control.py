"""Style-controlled regression: how much a judge pays for length and markdown.

Unit: one pair (style, substance, crossed and control probes; judge-facing probes are left
out). Outcome: the pair's position-debiased win score of the perturbed answer, a number
in [0, 1], fitted as a fractional logit (statsmodels GLM, binomial family, logit link) with
standard errors clustered by item. Predictors, each "perturbed minus base":
- length_diff: normalized word-count difference (Lp - Lb) / (Lp + Lb), in [-1, 1];
- headers_diff, bullets_diff, bold_diff: markdown density difference, per 100 words;
- substance_degraded: 1 for substance and crossed pairs, else 0.
Continuous predictors are divided by their standard deviation in the fitted data (not
centred, so 0 still means "no difference"); each coefficient is per one SD, and the SD is
reported as ``scale``.

price_of_style = exp(coefficient of length_diff): the odds ratio of the perturbed answer
winning per one SD of normalized length difference, with markdown and substance held
fixed (1 = length buys nothing).

Outcomes are squeezed y' = (y (N - 1) + 0.5) / N (Smithson and Verkuilen, 2006) so that a
judge that separates the classes perfectly (an oracle always rejecting degraded answers)
still gives finite estimates.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np
import statsmodels.api as sm

from judgeaudit.probes.features import style_features
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL
from judgeaudit.stats.outcomes import PairOutcome
from judgeaudit.vocabulary import REGRESSION_KINDS

CONTINUOUS = ("length_diff", "headers_diff", "bullets_diff", "bold_diff")
PREDICTORS = CONTINUOUS + ("substance_degraded",)

def markdown_density(text: str) -> dict[str, float]:
    """Headers, bullet lines and bold spans per 100 words."""
    f = style_features(text)
    per = 100.0 / max(f["words"], 1.0)
    return {key: f[key] * per for key in ("headers", "bullets", "bold")}


def pair_features(base: str, perturbed: str) -> dict[str, float]:
    lb, lp = len(base.split()), len(perturbed.split())
    mb, mp = markdown_density(base), markdown_density(perturbed)
    return {
        "length_diff": (lp - lb) / (lp + lb) if lp + lb else 0.0,
        "headers_diff": mp["headers"] - mb["headers"],
        "bullets_diff": mp["bullets"] - mb["bullets"],
        "bold_diff": mp["bold"] - mb["bold"],
    }


def _skipped(reason: str, n: int = 0) -> dict[str, Any]:
    return {"status": "skipped", "reason": reason, "n": n, "coefficients": {}, "price_of_style": None}


def style_control(pairs: Sequence[PairOutcome], *, level: float = DEFAULT_LEVEL) -> dict[str, Any]:
    """Fit the style-controlled model; returns the results.json ``style_control`` section."""
    rows = [p for p in pairs if p.complete and p.kind in REGRESSION_KINDS]
    if len({p.item_id for p in rows}) < 2 or len(rows) < len(PREDICTORS) + 3:
        return _skipped("too few pairs with both orders judged", len(rows))
    feats = [pair_features(p.base, p.perturbed) for p in rows]
    columns: dict[str, np.ndarray] = {name: np.array([f[name] for f in feats]) for name in CONTINUOUS}
    columns["substance_degraded"] = np.array([float(p.kind in ("substance", "crossed")) for p in rows])
    scales: dict[str, float] = {}
    used, dropped = [], []
    n = len(rows)
    X = np.ones((n, 1))
    for name in PREDICTORS:
        sd = float(np.std(columns[name], ddof=1))
        # A predictor that never varies, or that the ones before it already determine
        # (e.g. every markdown operator adding headers and bold together), is left out.
        scale = sd if name in CONTINUOUS else 1.0
        candidate = np.column_stack([X, columns[name] / scale]) if sd > 1e-12 else X
        if sd <= 1e-12 or np.linalg.matrix_rank(candidate) < candidate.shape[1]:
            dropped.append(name)
            continue
        X, scales[name] = candidate, scale
        used.append(name)
    y = np.array([p.score for p in rows], dtype=float)
    y_fit = (y * (n - 1) + 0.5) / n
    groups = np.unique([p.item_id for p in rows], return_inverse=True)[1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(y_fit, X, family=sm.families.Binomial()).fit(
                cov_type="cluster", cov_kwds={"groups": groups})
    except (np.linalg.LinAlgError, ValueError) as exc:
        return _skipped(f"fit failed: {exc}", n)
    ci = np.asarray(fit.conf_int(alpha=1.0 - level))
    coefficients: dict[str, Any] = {}
    for j, name in enumerate(["intercept"] + used):
        b, lo, hi = float(fit.params[j]), float(ci[j, 0]), float(ci[j, 1])
        coefficients[name] = {
            "coef": b, "ci_low": lo, "ci_high": hi, "p_value": _finite(fit.pvalues[j]),
            "odds_ratio": _exp(b), "or_ci_low": _exp(lo), "or_ci_high": _exp(hi),
            "scale": scales.get(name),
        }
    for name in dropped:
        coefficients[name] = None
    length = coefficients.get("length_diff")
    price = None
    if length:
        price = {
            "odds_ratio": length["odds_ratio"], "ci_low": length["or_ci_low"], "ci_high": length["or_ci_high"],
            "definition": "odds ratio of the perturbed answer winning per one SD "
                          f"({scales['length_diff']:.3f}) of normalized length difference (Lp-Lb)/(Lp+Lb), "
                          "markdown density and substance held fixed",
        }
    return {
        "status": "ok" if fit.converged else "not converged",
        "model": "fractional logit (GLM binomial, logit link), standard errors clustered by item",
        "outcome": "position-debiased win score of the perturbed answer",
        "n": int(n), "n_items": int(groups.max() + 1), "level": level,
        "dropped": dropped,
        "coefficients": coefficients,
        "price_of_style": price,
    }


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _exp(x: float) -> float | None:
    if not math.isfinite(x) or x > 700:
        return None
    return math.exp(x)
