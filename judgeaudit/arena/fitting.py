"""Scores of models from games: win rate against the baseline, Bradley-Terry, and
Bradley-Terry with the answers' style differences as covariates.

Bradley-Terry is a logistic model of "A beats B" on model indicators (+1 for A's model,
-1 for B's), with the baseline's coefficient fixed at 0, so a model's score
expit(beta_m) is its probability of beating the baseline (the baseline scores 0.5), as
Arena-Hard-Auto reports it. Each game is one row whose outcome is the share A won (ties
half, strong verdicts counted ``strong_weight`` times) with the game's total weight as a
variance weight, which is the same likelihood as repeating the rows. The style-controlled
fit adds the style differences A - B (normalized length difference (La-Lb)/(La+Lb) in
words, and header, list and bold densities per 100 words), each divided by its standard
deviation over the games (not centred: 0 still means "no difference"); a model's
controlled score is its probability of beating the baseline with equal style.

Outcomes are squeezed y' = (y (N - 1) + 0.5) / N (Smithson and Verkuilen, 2006), as in
the probes' style regression, so a model that wins every game keeps a finite score, and
the style coefficients (not the models') carry a ridge penalty ``STYLE_RIDGE`` * b^2 / 2
(a normal prior with SD 1 on the log-odds per SD of the covariate): a judge that a style
covariate separates perfectly (one that always prefers the longer answer) then gets a
large, finite coefficient instead of an unbounded one that leaves the models' strengths
undetermined.

Intervals: percentile bootstrap over questions (every game of a resampled question
counts as often as the question is drawn); p-values: two-sided Wald tests with the
sandwich covariance clustered by question (small-sample factor G/(G-1) (N-1)/(N-K), as
statsmodels uses; with no penalty the fit and its errors equal statsmodels' GLM with
``cov_type="cluster"``).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy import stats
from scipy.special import expit

from judgeaudit.arena.games import Game
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL, cluster_weights, percentile_interval, named_rng
from judgeaudit.stats.style_control import pair_features

# Style covariates: results name -> (feature of stats.style_control.pair_features, definition)
STYLE_FEATURES: dict[str, tuple[str, str]] = {
    "length": ("length_diff", "normalized length difference (La-Lb)/(La+Lb), in words"),
    "header_density": ("headers_diff", "difference in markdown headers per 100 words"),
    "list_density": ("bullets_diff", "difference in list items per 100 words"),
    "bold_density": ("bold_diff", "difference in bold spans per 100 words"),
}
DEFAULT_BT_RESAMPLES = 1000
STYLE_RIDGE = 1.0


@dataclass
class StyleCoef:
    name: str
    coef: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    scale: float | None
    definition: str
    note: str = ""


@dataclass
class ModelScore:
    name: str
    n: int
    score: float | None  # win rate against the baseline
    ci_low: float | None
    ci_high: float | None
    bt_score: float | None
    controlled_score: float | None
    controlled_ci_low: float | None
    controlled_ci_high: float | None
    mean_words: float | None
    rank: int | None = None
    controlled_rank: int | None = None


@dataclass
class ArenaFit:
    models: list[ModelScore]
    style: list[StyleCoef]
    position: dict[str, Any]
    n_games: int
    n_parsed: int
    n_questions: int
    notes: list[str] = field(default_factory=list)


def _squeeze(y: np.ndarray) -> np.ndarray:
    n = len(y)
    return (y * (n - 1) + 0.5) / n if n > 1 else y


def logit_fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray | None = None,
              penalty: np.ndarray | None = None, iters: int = 100) -> np.ndarray:
    """Weighted fractional-logit MLE by Newton steps, with an optional ridge ``penalty``
    (one value per coefficient: the objective gains -penalty * b^2 / 2)."""
    k = X.shape[1]
    beta = np.zeros(k) if beta is None else np.array(beta, dtype=float)
    pen = np.zeros(k) if penalty is None else np.asarray(penalty, dtype=float)
    jitter = 1e-10 * np.eye(k)
    for _ in range(iters):
        p = expit(X @ beta)
        grad = X.T @ (w * (y - p)) - pen * beta
        hess = (X * (w * p * (1 - p))[:, None]).T @ X + np.diag(pen) + jitter
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return np.full(k, np.nan)
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            return np.full(k, np.nan)
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def clustered_cov(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray, groups: np.ndarray,
                  penalty: np.ndarray | None = None) -> np.ndarray:
    """Sandwich covariance clustered by ``groups`` (bread: the penalized Hessian)."""
    n, k = X.shape
    p = expit(X @ beta)
    bread = (X * (w * p * (1 - p))[:, None]).T @ X
    if penalty is not None:
        bread = bread + np.diag(penalty)
    inv = np.linalg.pinv(bread)
    scores = X * (w * (y - p))[:, None]
    n_groups = int(groups.max()) + 1 if n else 0
    sums = np.zeros((n_groups, k))
    np.add.at(sums, groups, scores)
    meat = sums.T @ sums
    g = len(np.unique(groups))
    factor = (g / (g - 1)) * ((n - 1) / (n - k)) if g > 1 and n > k else 1.0
    return factor * inv @ meat @ inv


def _ranks(values: Sequence[float | None]) -> list[int | None]:
    """1 + the number of models with a strictly higher score (ties share a rank)."""
    vals = [v for v in values if v is not None]
    return [None if v is None else 1 + sum(u > v + 1e-12 for u in vals) for v in values]


def position_stats(games: Sequence[Game]) -> dict[str, Any]:
    """MT-Bench-style position reading over pairs judged in both orders.

    A judgment prefers A when A's share (ties half) exceeds 0.5. A pair is consistent when
    both orders prefer the same answer, biased to the first (second) position when A (B)
    is preferred in both orders. ``first_position_rate``: A's mean share over all parsed
    judgments (0.5 = no pull toward the first position).
    """
    parsed = [g for g in games if g.parsed]
    by_pair: dict[tuple, list[Game]] = defaultdict(list)
    for g in parsed:
        by_pair[g.pair].append(g)
    counts = {"consistent": 0, "biased_first": 0, "biased_second": 0, "other": 0}
    n_pairs = 0
    for members in by_pair.values():
        first_a = [g for g in members if g.model_a == members[0].model_a]
        first_b = [g for g in members if g.model_a != members[0].model_a]
        if not first_a or not first_b:
            continue
        n_pairs += 1
        # Side each order prefers, as +1 (members[0].model_a) / -1 / 0.
        sides = []
        for group, sign in ((first_a, 1), (first_b, -1)):
            share = float(np.mean([g.outcome()[0] for g in group]))
            s = 0 if abs(share - 0.5) < 1e-9 else (1 if share > 0.5 else -1)
            sides.append(sign * s)
        if sides[0] == sides[1] and sides[0] != 0:
            counts["consistent"] += 1
        elif sides[0] == 1 and sides[1] == -1:
            counts["biased_first"] += 1  # each order preferred the answer shown first
        elif sides[0] == -1 and sides[1] == 1:
            counts["biased_second"] += 1
        else:
            counts["other"] += 1
    out: dict[str, Any] = {"n_judgments": len(parsed), "n_pairs_both_orders": n_pairs,
                           "first_position_rate": float(np.mean([g.outcome()[0] for g in parsed])) if parsed else None}
    if n_pairs:
        out.update({"consistency": counts["consistent"] / n_pairs,
                    "biased_first": counts["biased_first"] / n_pairs,
                    "biased_second": counts["biased_second"] / n_pairs,
                    "inconsistent_other": counts["other"] / n_pairs})
    else:
        out.update({"consistency": None, "biased_first": None, "biased_second": None, "inconsistent_other": None,
                    "note": "no pair was judged in both orders; position consistency cannot be read"})
    return out


def fit_arena(games: Sequence[Game], baseline: str, *, strong_weight: float = 1.0,
              resamples: int = DEFAULT_BT_RESAMPLES, level: float = DEFAULT_LEVEL, seed: int = 0) -> ArenaFit:
    """Win rates, Bradley-Terry and style-controlled Bradley-Terry scores with bootstrap intervals."""
    parsed = [g for g in games if g.parsed]
    models_all = sorted({g.model_a for g in games} | {g.model_b for g in games})
    if baseline not in models_all:
        raise ValueError(f"baseline {baseline!r} plays in no game")
    others = [m for m in models_all if m != baseline]
    col = {m: i for i, m in enumerate(others)}
    questions = sorted({g.question for g in parsed})
    qcol = {q: i for i, q in enumerate(questions)}
    n, k, nq = len(parsed), len(others), len(questions)
    notes: list[str] = []

    y = np.empty(n)
    w = np.empty(n)
    Xm = np.zeros((n, k))
    S = np.zeros((n, len(STYLE_FEATURES)))
    gq = np.empty(n, dtype=int)
    for i, g in enumerate(parsed):
        y[i], w[i] = g.outcome(strong_weight)
        if g.model_a in col:
            Xm[i, col[g.model_a]] += 1.0
        if g.model_b in col:
            Xm[i, col[g.model_b]] -= 1.0
        f = pair_features(g.text_b, g.text_a)  # A minus B
        S[i] = [f[feat] for feat, _ in STYLE_FEATURES.values()]
        gq[i] = qcol[g.question]
    keep = w > 0
    y_fit = _squeeze(y)

    # Win rate against the baseline: per model and question, weighted sums for the bootstrap.
    wy_q = np.zeros((k, nq))
    w_q = np.zeros((k, nq))
    for i, g in enumerate(parsed):
        if baseline not in (g.model_a, g.model_b) or g.model_a == g.model_b:
            continue
        m = g.model_b if g.model_a == baseline else g.model_a
        share = y[i] if g.model_a == m else 1.0 - y[i]
        wy_q[col[m], gq[i]] += w[i] * share
        w_q[col[m], gq[i]] += w[i]

    # Style columns that vary and are not determined by the columns before them.
    scales: dict[str, float] = {}
    used: list[int] = []
    X_ctrl = Xm.copy()
    for j, name in enumerate(STYLE_FEATURES):
        sd = float(np.std(S[keep, j], ddof=1)) if keep.sum() > 1 else 0.0
        if sd <= 1e-12:
            notes.append(f"style feature {name} does not vary over these answers; left out of the fit")
            continue
        cand = np.column_stack([X_ctrl, S[:, j] / sd])
        if np.linalg.matrix_rank(cand[keep]) < cand.shape[1]:
            notes.append(f"style feature {name} is determined by the others; left out of the fit")
            continue
        X_ctrl, scales[name] = cand, sd
        used.append(j)
    style_names = list(STYLE_FEATURES)

    raw_params = ctrl_params = ctrl_cov = None
    pen = np.concatenate([np.zeros(k), np.full(len(used), STYLE_RIDGE)])
    if k and keep.sum() > k:
        Xk, yk, wk, gk = X_ctrl[keep], y_fit[keep], w[keep], gq[keep]
        raw_params = logit_fit(Xk[:, :k], yk, wk)
        ctrl_params = logit_fit(Xk, yk, wk, penalty=pen)
        if not np.all(np.isfinite(ctrl_params)):
            notes.append("style-controlled fit failed (singular information matrix)")
            ctrl_params = None
        else:
            ctrl_cov = clustered_cov(Xk, yk, wk, ctrl_params, gk, penalty=pen)
        if not np.all(np.isfinite(raw_params)):
            notes.append("Bradley-Terry fit failed (singular information matrix)")
            raw_params = None

    # Bootstrap over questions.
    rng = named_rng(seed, "arena")
    counts = cluster_weights(nq, resamples=resamples, rng=rng) if nq else np.zeros((resamples, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        wr_draws = (counts @ wy_q.T) / (counts @ w_q.T)  # (resamples, k)
    ctrl_draws = np.full((resamples, X_ctrl.shape[1]), np.nan)
    if ctrl_params is not None:
        for b in range(resamples):
            wb = w * counts[b, gq]
            sel = keep & (wb > 0)
            ctrl_draws[b] = logit_fit(X_ctrl[sel], y_fit[sel], wb[sel], ctrl_params, penalty=pen)

    scores: list[ModelScore] = []
    base_words = _mean_words(parsed or games, baseline)
    base_n = len({g.question for g in parsed if baseline in (g.model_a, g.model_b)})
    scores.append(ModelScore(baseline, base_n, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, base_words))
    for m in others:
        j = col[m]
        total = w_q[j].sum()
        wr = float(wy_q[j].sum() / total) if total > 0 else None
        wr_ci = percentile_interval(wr_draws[:, j], level) if wr is not None else None
        c = float(expit(ctrl_params[j])) if ctrl_params is not None else None
        c_ci = percentile_interval(expit(ctrl_draws[:, j]), level) if ctrl_params is not None else None
        n_m = len({g.question for g in parsed if m in (g.model_a, g.model_b)})
        scores.append(ModelScore(
            m, n_m, wr, wr_ci[0] if wr_ci else None, wr_ci[1] if wr_ci else None,
            float(expit(raw_params[j])) if raw_params is not None else None,
            c, c_ci[0] if c_ci else None, c_ci[1] if c_ci else None, _mean_words(parsed or games, m)))
    for s, r in zip(scores, _ranks([s.score for s in scores])):
        s.rank = r
    for s, r in zip(scores, _ranks([s.controlled_score for s in scores])):
        s.controlled_rank = r
    scores.sort(key=lambda s: (s.rank or 10**9, s.name))

    style: list[StyleCoef] = []
    for j, name in enumerate(style_names):
        definition = STYLE_FEATURES[name][1]
        if j not in used or ctrl_params is None:
            style.append(StyleCoef(name, None, None, None, None, None, definition + " (A minus B)",
                                   note="not estimated (no variation, collinear, or the fit failed)"))
            continue
        pos = k + used.index(j)
        ci = percentile_interval(ctrl_draws[:, pos], level)
        se = float(np.sqrt(ctrl_cov[pos, pos]))
        p = float(2 * stats.norm.sf(abs(ctrl_params[pos]) / se)) if se > 0 else float("nan")
        style.append(StyleCoef(
            name, float(ctrl_params[pos]), ci[0] if ci else None, ci[1] if ci else None,
            p if np.isfinite(p) else None, scales[name],
            f"log-odds of A winning per one SD ({scales[name]:.4g}) of the {definition} (A minus B), "
            "models' strengths held fixed"))
    return ArenaFit(scores, style, position_stats(games), len(games), len(parsed), nq, notes)


def _mean_words(games: Sequence[Game], model: str) -> float | None:
    texts: dict[tuple[str, int], str] = {}
    for g in games:
        if g.model_a == model:
            texts[(g.question, g.turn)] = g.text_a
        if g.model_b == model:
            texts[(g.question, g.turn)] = g.text_b
    return float(np.mean([len(t.split()) for t in texts.values()])) if texts else None
