"""results.json, judge_scores.csv and report.html of an arena or logs run."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from judgeaudit.arena.fitting import STYLE_RIDGE, ArenaFit
from judgeaudit.runstore import write_atomic, write_json_atomic

MODEL_KEYS = ("name", "n", "score", "ci_low", "ci_high", "rank", "bt_score", "controlled_score",
              "controlled_ci_low", "controlled_ci_high", "controlled_rank", "mean_words")
STYLE_KEYS = ("coef", "ci_low", "ci_high", "p_value", "definition")


def _r(x: Any) -> Any:
    """Six significant digits (not decimals: a p-value of 1e-28 must not read as 0)."""
    return float(f"{x:.6g}") if isinstance(x, float) else x


def build_results(fit: ArenaFit, *, kind: str, judge: str, baseline: str | None, source: dict[str, Any],
                  strong_weight: float, resamples: int, level: float, seed: int,
                  n_unparsed: int, n_missing: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    models = [{k: _r(getattr(m, k)) for k in MODEL_KEYS} for m in fit.models]
    style = {}
    for s in fit.style:
        entry = {k: _r(getattr(s, k)) for k in STYLE_KEYS}
        if s.note:
            entry["note"] = s.note
        style[s.name] = entry
    boot = {"resamples": resamples, "seed": seed, "level": level, "cluster": "question",
            "interval": "percentile", "n_questions": fit.n_questions}
    if kind == "pairwise":
        scores = {
            "score": "win rate against the baseline: the share of games won (A>B and A>>B win, A=B counts "
                     f"half), strong verdicts counted {strong_weight:g} times; both orders pooled",
            "bt_score": "Bradley-Terry (logistic fit on model indicators, baseline fixed at 0.5): probability "
                        "of beating the baseline",
            "controlled_score": "the same fit with style differences A - B as covariates: probability of "
                                "beating the baseline with equal style",
            "rank": "1 + number of models with a higher score (controlled_rank: the same on controlled_score)",
        }
        style_method = ("logistic (Bradley-Terry) fit of the share A won (ties half, squeezed (y(N-1)+0.5)/N) on "
                        "model indicators and style differences A - B, each divided by its SD over the games; "
                        f"ridge penalty {STYLE_RIDGE:g} on the style coefficients only; coefficient intervals: "
                        "bootstrap percentile over questions; p-values: two-sided Wald, sandwich errors clustered "
                        "by question")
    else:
        scores = {
            "score": "mean rating",
            "bt_score": "not applicable to single ratings (null)",
            "controlled_score": "mean rating with the model's mean style set to the mean style of all rated answers",
            "rank": "1 + number of models with a higher score",
        }
        style_method = ("OLS of the rating on log(words + 1) and markdown density with model and question-turn "
                        "fixed effects (statsmodels); coefficient intervals and p-values: Wald with errors "
                        "clustered by question (t, G - 1 df); score intervals: bootstrap percentile over questions")
    method = {
        "judge": judge, "baseline": baseline, "kind": kind, **source,
        "judgments": {"total": fit.n_games, "parsed": fit.n_parsed, "unparsed": n_unparsed, "missing": n_missing},
        "strong_weight": strong_weight, "scores": scores, "style": style_method, "bootstrap": boot,
        "notes": fit.notes,
    }
    if extra:
        method.update(extra)
    return {"models": models, "style": style, "position": {k: _r(v) for k, v in fit.position.items()},
            "method": method}


def judge_scores_csv(results: dict[str, Any]) -> str:
    """model, score (what `judgeaudit correlate --judge-scores` reads), then the other columns."""
    buf = io.StringIO()
    cols = ["model", "score", "ci_low", "ci_high", "bt_score", "controlled_score", "controlled_ci_low",
            "controlled_ci_high", "rank", "controlled_rank", "n", "mean_words"]
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for m in results["models"]:
        if m["score"] is None:
            continue  # correlate needs a number in every row
        writer.writerow([m["name"]] + ["" if m[c] is None else m[c] for c in cols[1:]])
    return buf.getvalue()


def write_outputs(directory: str | os.PathLike, results: dict[str, Any]) -> dict[str, Path]:
    """results.json, judge_scores.csv and report.html, each written whole or not at all."""
    from judgeaudit.reports.arena_html import render_arena_report

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    html = render_arena_report(results)  # rendered first: a failure leaves nothing half-written
    csv_text = judge_scores_csv(results)
    write_json_atomic(d / "results.json", results)
    write_atomic(d / "judge_scores.csv", csv_text)
    write_atomic(d / "report.html", html)
    return {"results": d / "results.json", "judge_scores": d / "judge_scores.csv", "report": d / "report.html"}
