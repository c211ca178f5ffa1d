"""Single-answer ratings (MT-Bench single grades): how much of a rating is style.

Linear model (statsmodels OLS) of the rating on log(words + 1) and markdown density
(markdown elements per 100 words), with model fixed effects and question-turn fixed
effects, standard errors clustered by question. A model's raw score is its mean rating;
its controlled score is that mean with its answers' mean style moved to the mean style
of all rated answers: raw_m - b . (style_m - style_all). Intervals for the scores:
percentile bootstrap over questions (each refit on the resampled questions); for the
coefficients: the clustered Wald interval (t with G - 1 degrees of freedom).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import statsmodels.api as sm

from judgeaudit.arena.fitting import ArenaFit, ModelScore, StyleCoef, _ranks
from judgeaudit.probes.features import style_features
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL, cluster_weights, percentile_interval, named_rng

RATING_FEATURES = {
    "length": "log(words + 1) of the rated answer",
    "markdown_density": "markdown elements (headers, list items, bold spans) per 100 words of the rated answer",
}


@dataclass
class Rating:
    question: str
    turn: int
    model: str
    text: str
    score: float | None  # None: the judge's grade could not be read


def _markdown_density(text: str) -> float:
    f = style_features(text)
    return 100.0 * (f["headers"] + f["bullets"] + f["bold"]) / max(f["words"], 1.0)


def _design(ratings: Sequence[Rating]):
    models = sorted({r.model for r in ratings})
    units = sorted({(r.question, r.turn) for r in ratings})
    mcol = {m: i for i, m in enumerate(models)}
    ucol = {u: i for i, u in enumerate(units)}
    n = len(ratings)
    style = np.array([[math.log(len(r.text.split()) + 1.0), _markdown_density(r.text)] for r in ratings])
    M = np.zeros((n, len(models)))
    U = np.zeros((n, max(len(units) - 1, 0)))
    for i, r in enumerate(ratings):
        M[i, mcol[r.model]] = 1.0
        u = ucol[(r.question, r.turn)]
        if u > 0:
            U[i, u - 1] = 1.0  # the first unit is the reference level
    return models, style, M, U


def fit_ratings(ratings: Sequence[Rating], *, resamples: int = 1000, level: float = DEFAULT_LEVEL,
                seed: int = 0) -> ArenaFit:
    parsed = [r for r in ratings if r.score is not None]
    notes: list[str] = []
    models, style, M, U = _design(parsed)
    y = np.array([r.score for r in parsed], dtype=float)
    questions = sorted({r.question for r in parsed})
    qcol = {q: i for i, q in enumerate(questions)}
    gq = np.array([qcol[r.question] for r in parsed], dtype=int)
    # Drop style columns that never vary (e.g. no markdown anywhere).
    used = [j for j in range(style.shape[1]) if np.ptp(style[:, j]) > 1e-12]
    X = np.column_stack([style[:, used], M, U])
    names = list(RATING_FEATURES)
    coefs: dict[int, tuple[float, float, float, float]] = {}
    beta_style = np.zeros(style.shape[1])
    if len(parsed) > X.shape[1] and len(questions) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": gq})
        ci = np.asarray(fit.conf_int(alpha=1 - level))
        for pos, j in enumerate(used):
            coefs[j] = (float(fit.params[pos]), float(ci[pos, 0]), float(ci[pos, 1]), float(fit.pvalues[pos]))
            beta_style[j] = fit.params[pos]
    else:
        notes.append("too few ratings for the style regression")

    def scores(weights: np.ndarray | None, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = np.ones(len(parsed)) if weights is None else weights
        grand = (w @ style) / w.sum()
        raw, ctrl = np.empty(len(models)), np.empty(len(models))
        for i in range(len(models)):
            wm = w * M[:, i]
            tot = wm.sum()
            if tot <= 0:
                raw[i] = ctrl[i] = np.nan
                continue
            raw[i] = (wm @ y) / tot
            ctrl[i] = raw[i] - beta @ ((wm @ style) / tot - grand)
        return raw, ctrl

    raw, ctrl = scores(None, beta_style)
    rng = named_rng(seed, "ratings")
    counts = cluster_weights(len(questions), resamples=resamples, rng=rng)
    raw_draws = np.full((resamples, len(models)), np.nan)
    ctrl_draws = np.full((resamples, len(models)), np.nan)
    for b in range(resamples):
        wb = counts[b, gq]
        sel = wb > 0
        sw = np.sqrt(wb[sel])
        beta_b = np.zeros(style.shape[1])
        if coefs:
            sol = np.linalg.lstsq(X[sel] * sw[:, None], y[sel] * sw, rcond=None)[0]
            beta_b[used] = sol[:len(used)]
        raw_draws[b], ctrl_draws[b] = scores(wb, beta_b)

    out: list[ModelScore] = []
    for i, m in enumerate(models):
        rci = percentile_interval(raw_draws[:, i], level)
        cci = percentile_interval(ctrl_draws[:, i], level)
        words = [len(r.text.split()) for r in parsed if r.model == m]
        out.append(ModelScore(m, len({r.question for r in parsed if r.model == m}), float(raw[i]),
                              rci[0] if rci else None, rci[1] if rci else None, None,
                              float(ctrl[i]), cci[0] if cci else None, cci[1] if cci else None,
                              float(np.mean(words)) if words else None))
    for s, r in zip(out, _ranks([s.score for s in out])):
        s.rank = r
    for s, r in zip(out, _ranks([s.controlled_score for s in out])):
        s.controlled_rank = r
    out.sort(key=lambda s: (s.rank or 10**9, s.name))
    style_out = []
    for j, name in enumerate(names):
        if j in coefs:
            b, lo, hi, p = coefs[j]
            style_out.append(StyleCoef(name, b, lo, hi, p if math.isfinite(p) else None, None,
                                       f"rating points per unit of {RATING_FEATURES[name]}, model and question "
                                       "fixed effects held"))
        else:
            style_out.append(StyleCoef(name, None, None, None, None, None, RATING_FEATURES[name],
                                       note="not estimated (no variation or too few ratings)"))
    position = {"n_judgments": len(parsed), "consistency": None, "first_position_rate": None,
                "note": "single-answer ratings show one answer at a time: no position to read"}
    return ArenaFit(out, style_out, position, len(ratings), len(parsed), len(questions), notes)
