"""Across models: SOS factor scores against a judge's scores (Spearman, Kendall).

Point estimates and p-values come from scipy (``spearmanr``, ``kendalltau``, two-sided);
intervals are percentile bootstrap over models (pairs resampled together).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from judgeaudit.errors import InputError
from judgeaudit.runstore import write_atomic, write_json_atomic
from judgeaudit.sos.importers import ModelScores, read_sos_file
from judgeaudit.sos.spec import FACTOR_TITLES, FACTORS, BenchmarkSpec, load_specs
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL as CI_LEVEL
from judgeaudit.stats.bootstrap import named_rng, percentile_bootstrap



@dataclass
class FactorCorrelation:
    factor: str
    n: int
    benchmarks: list[str]
    spearman: float | None = None
    spearman_p: float | None = None
    spearman_ci: tuple[float, float] | None = None
    kendall: float | None = None
    kendall_p: float | None = None
    kendall_ci: tuple[float, float] | None = None
    points: list[tuple[str, float, float]] = field(default_factory=list)  # (model, factor, judge)


@dataclass
class CorrelationResult:
    factors: list[FactorCorrelation]
    matched: list[tuple[str, str]]  # (sos model, judge model)
    unmatched_sos: list[str]
    unmatched_judge: list[str]
    factor_scores: dict[str, dict[str, float | None]]  # sos model -> factor -> score
    notes: list[str]
    n_resamples: int
    seed: int


def factor_scores(scores: Mapping[str, float], specs: Mapping[str, BenchmarkSpec]) -> dict[str, float | None]:
    """Unweighted mean of each factor's available benchmarks (missing ones are left out)."""
    out: dict[str, float | None] = {}
    for factor in FACTORS:
        vals = [scores[name] for name, spec in specs.items() if spec.factor == factor and name in scores]
        out[factor] = float(np.mean(vals)) if vals else None
    return out


def _csv_rows(path: Path, columns: Sequence[str]):
    """(line number, row) for each data row of a CSV that must have ``columns``."""
    if not path.exists():
        raise InputError(path, "no such file")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for col in columns:
            if col not in (reader.fieldnames or []):
                raise InputError(path, "missing column", line=1, field=col)
        for lineno, row in enumerate(reader, start=2):
            yield lineno, {col: (row[col] or "").strip() for col in columns}


def read_judge_scores(path: str | Path) -> dict[str, float]:
    path = Path(path)
    out: dict[str, float] = {}
    for lineno, row in _csv_rows(path, ("model", "score")):
        name = row["model"]
        if not name:
            raise InputError(path, "empty model name", line=lineno, field="model")
        try:
            value = float(row["score"])
        except ValueError:
            raise InputError(path, f"not a number: {row['score']!r}", line=lineno, field="score") from None
        if not math.isfinite(value):
            raise InputError(path, f"not a finite number: {row['score']!r}", line=lineno, field="score")
        if name in out:
            raise InputError(path, f"model {name!r} appears twice", line=lineno, field="model")
        out[name] = value
    return out


def read_name_map(path: str | Path) -> dict[str, str]:
    path = Path(path)
    out: dict[str, str] = {}
    for lineno, row in _csv_rows(path, ("sos_model", "judge_model")):
        sos, judge = row["sos_model"], row["judge_model"]
        if not sos or not judge:
            raise InputError(path, "empty name", line=lineno, field="sos_model" if not sos else "judge_model")
        if sos in out:
            raise InputError(path, f"{sos!r} is mapped twice", line=lineno, field="sos_model")
        out[sos] = judge
    return out


def _norm(name: str) -> str:
    return " ".join(name.casefold().split())


def join_names(sos: Sequence[str], judge: Sequence[str], name_map: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pairs (sos model, judge model): through the map first, then by name (case and spacing ignored)."""
    judge_by_norm = {_norm(j): j for j in judge}
    pairs, used = [], set()
    for s in sos:
        target = name_map.get(s)
        j = target if target in judge else judge_by_norm.get(_norm(target)) if target else judge_by_norm.get(_norm(s))
        if j is not None and j not in used:
            pairs.append((s, j))
            used.add(j)
    return pairs


def _bootstrap_ci(x: np.ndarray, y: np.ndarray, stat, n_resamples: int, rng: np.random.Generator):
    """Percentile interval over models, each model's (x, y) kept together; a resample with a
    constant side has no rank correlation and is left out."""
    def statistic(xs: np.ndarray, ys: np.ndarray) -> float:
        return np.nan if np.ptp(xs) == 0 or np.ptp(ys) == 0 else stat(xs, ys).statistic

    return percentile_bootstrap((x, y), statistic, resamples=n_resamples, level=CI_LEVEL, rng=rng, paired=True).ci


def correlate_scores(sos: ModelScores, judge: Mapping[str, float], name_map: Mapping[str, str] | None = None, *,
                     specs: Mapping[str, BenchmarkSpec] | None = None, seed: int = 1234,
                     n_resamples: int = 2000) -> CorrelationResult:
    from scipy.stats import kendalltau, spearmanr

    specs = specs or load_specs()
    pairs = join_names(list(sos), list(judge), name_map or {})
    matched_sos = {s for s, _ in pairs}
    matched_judge = {j for _, j in pairs}
    fscores = {m: factor_scores(sos[m], specs) for m in sos}
    notes = []
    factors = []
    for factor in FACTORS:
        pts = [(s, fscores[s][factor], judge[j]) for s, j in pairs if fscores[s][factor] is not None]
        used = sorted({b for s, _ in pairs for b in sos[s] if specs[b].factor == factor}) if pairs else []
        fc = FactorCorrelation(factor, len(pts), used, points=pts)
        if len(pts) >= 3:
            x = np.array([p[1] for p in pts])
            y = np.array([p[2] for p in pts])
            if np.ptp(x) > 0 and np.ptp(y) > 0:
                rng = named_rng(seed, factor)
                sp, kt = spearmanr(x, y), kendalltau(x, y)
                fc.spearman, fc.spearman_p = float(sp.statistic), float(sp.pvalue)
                fc.kendall, fc.kendall_p = float(kt.statistic), float(kt.pvalue)
                fc.spearman_ci = _bootstrap_ci(x, y, spearmanr, n_resamples, rng)
                fc.kendall_ci = _bootstrap_ci(x, y, kendalltau, n_resamples, rng)
        else:
            notes.append(f"{factor}: {len(pts)} models with a score, too few for a correlation")
        factors.append(fc)
    result = CorrelationResult(factors, pairs, sorted(set(sos) - matched_sos), sorted(set(judge) - matched_judge),
                               fscores, notes, n_resamples, seed)
    return result


def correlate_files(sos_files: Sequence[str], judge_file: str, name_map_file: str | None, *, seed: int = 1234,
                    n_resamples: int = 2000) -> CorrelationResult:
    specs = load_specs()
    sos: ModelScores = {}
    for path in sos_files:
        for model, scores in read_sos_file(path, specs).items():
            if model in sos:
                raise InputError(path, f"model {model!r} is also in an earlier --sos file")
            sos[model] = scores
    judge = read_judge_scores(judge_file)
    name_map = read_name_map(name_map_file) if name_map_file else {}
    result = correlate_scores(sos, judge, name_map, specs=specs, seed=seed, n_resamples=n_resamples)
    result.notes.insert(0, f"joined {len(result.matched)} models; SOS models without a judge score: "
                           f"{', '.join(result.unmatched_sos) or 'none'}; judge models without SOS scores: "
                           f"{', '.join(result.unmatched_judge) or 'none'}")
    for fc in result.factors:
        missing = sorted(n for n, s in specs.items() if s.factor == fc.factor and n not in fc.benchmarks)
        if missing:
            result.notes.append(f"{fc.factor}: no scores for {', '.join(missing)} (factor = mean of the others)")
    return result


def result_document(result: CorrelationResult) -> dict[str, Any]:
    return {
        "statistics": {"ci_level": CI_LEVEL, "method": "percentile bootstrap over models (pairs)",
                       "n_resamples": result.n_resamples, "seed": result.seed,
                       "tests": "scipy.stats.spearmanr and kendalltau (tau-b), two-sided"},
        "factors": [{"factor": fc.factor, "n": fc.n, "benchmarks": fc.benchmarks, "spearman": fc.spearman,
                     "spearman_ci": fc.spearman_ci, "spearman_p": fc.spearman_p, "kendall": fc.kendall,
                     "kendall_ci": fc.kendall_ci, "kendall_p": fc.kendall_p} for fc in result.factors],
        "matched": [{"sos_model": s, "judge_model": j} for s, j in result.matched],
        "unmatched_sos": result.unmatched_sos, "unmatched_judge": result.unmatched_judge,
        "factor_scores": result.factor_scores, "notes": result.notes,
    }


def write_correlation_outputs(result: CorrelationResult, out: str | Path, report_html: str) -> tuple[Path, Path]:
    """results.json and the rendered page (reports.sos.correlation_html) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "results.json", result_document(result))
    write_atomic(out / "report.html", report_html)
    return out / "results.json", out / "report.html"
