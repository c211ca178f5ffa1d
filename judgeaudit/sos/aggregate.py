"""From per-document records to benchmark and factor scores with bootstrap intervals.

Benchmark score: its subtasks' metric combined by plain mean or by subtask size (BBQ,
WMDP), as 1 - acc for inverse benchmarks (WMDP), times the spec's scale. Generative
benchmarks: the mean of the spec's metrics, each aggregated by the grader. Factor score:
the unweighted mean of its complete benchmarks; benchmarks not scored are listed as
missing and never counted as zero.

Intervals: percentile bootstrap over documents, resampled within each subtask (stratified),
independently across benchmarks; a factor's replicate is the mean of its benchmarks'
replicates under the same draws. The generator of each benchmark is seeded from the run
seed and the benchmark name, so a benchmark's interval does not depend on what else ran.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from judgeaudit.sos.runner import BenchmarkOutcome, SubtaskOutcome
from judgeaudit.sos.spec import FACTORS, BenchmarkSpec

CI_LEVEL = 0.95


@dataclass
class BenchmarkScore:
    name: str
    factor: str
    score: float | None
    ci: tuple[float, float] | None
    n: int
    subtasks: dict[str, dict[str, Any]]
    missing: str | None = None
    replicates: np.ndarray | None = field(default=None, repr=False)


@dataclass
class FactorScore:
    factor: str
    score: float | None
    ci: tuple[float, float] | None
    benchmarks: list[str]
    missing: list[str]


def combine(spec: BenchmarkSpec, values: Sequence[float], sizes: Sequence[float]) -> float:
    """Subtask values -> benchmark score (weighting, inversion, scale)."""
    v = np.asarray(values, dtype=float)
    if spec.weighting == "size":
        w = np.asarray(sizes, dtype=float)
        score = float(np.sum(v * w) / np.sum(w))
    else:
        score = float(np.mean(v))
    if spec.inverse:
        score = 1.0 - score
    return score * spec.scale


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def _mc_replicates(values: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap means of one subtask's per-document values (chunked to bound memory)."""
    n = len(values)
    out = np.empty(n_resamples)
    step = max(1, 2_000_000 // max(n, 1))
    for start in range(0, n_resamples, step):
        b = min(step, n_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        out[start:start + b] = values[idx].mean(axis=1)
    return out


def _gen_value(spec: BenchmarkSpec, grader: Any, per_doc: Sequence[dict[str, Any]]) -> float:
    from judgeaudit.graders import aggregate

    agg = aggregate(grader, per_doc)
    return float(np.mean([float(agg[m]) for m in spec.metrics]))


def _subtask_summary(spec: BenchmarkSpec, grader: Any, sub: SubtaskOutcome) -> dict[str, Any]:
    out: dict[str, Any] = {"n": sub.n, "lm_eval_task": sub.spec.lm_eval_task}
    if spec.output_type == "multiple_choice":
        for metric in ("acc", "acc_norm"):
            v = sub.values(metric)
            out[metric] = float(v.mean())
            out[f"{metric}_stderr"] = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None
    else:
        from judgeaudit.graders import aggregate

        agg = aggregate(grader, [r.metrics for r in sub.records])
        out.update({k: float(v) for k, v in agg.items()})
    return out


def score_benchmark(outcome: BenchmarkOutcome, *, seed: int = 1234, n_resamples: int = 1000) -> BenchmarkScore:
    spec = outcome.spec
    if not outcome.complete:
        reason = outcome.reason or "no documents scored"
        return BenchmarkScore(spec.name, spec.factor, None, None, 0,
                              {s.spec.name: _subtask_summary(spec, outcome.grader, s) for s in outcome.subtasks if s.n},
                              missing=reason)
    rng = _rng(seed, spec.name)
    sizes = [s.n for s in outcome.subtasks]
    values, reps = [], []
    for sub in outcome.subtasks:
        if spec.output_type == "multiple_choice":
            v = sub.values(spec.metric)
            values.append(float(v.mean()))
            reps.append(_mc_replicates(v, n_resamples, rng))
        else:
            per_doc = [r.metrics for r in sub.records]
            values.append(_gen_value(spec, outcome.grader, per_doc))
            draws = rng.integers(0, len(per_doc), size=(n_resamples, len(per_doc)))
            reps.append(np.array([_gen_value(spec, outcome.grader, [per_doc[i] for i in row]) for row in draws]))
    score = combine(spec, values, sizes)
    rep_matrix = np.stack(reps, axis=1)  # [resamples, subtasks]
    replicates = np.array([combine(spec, row, sizes) for row in rep_matrix])
    alpha = (1 - CI_LEVEL) / 2
    ci = (float(np.quantile(replicates, alpha)), float(np.quantile(replicates, 1 - alpha)))
    subtasks = {s.spec.name: _subtask_summary(spec, outcome.grader, s) for s in outcome.subtasks}
    return BenchmarkScore(spec.name, spec.factor, score, ci, sum(sizes), subtasks, replicates=replicates)


def score_factors(scores: Sequence[BenchmarkScore], factors: Sequence[str] = FACTORS) -> list[FactorScore]:
    out = []
    alpha = (1 - CI_LEVEL) / 2
    for factor in factors:
        mine = [s for s in scores if s.factor == factor]
        done = [s for s in mine if s.score is not None]
        missing = [s.name for s in mine if s.score is None]
        if not done:
            out.append(FactorScore(factor, None, None, [], missing))
            continue
        value = float(np.mean([s.score for s in done]))
        ci = None
        if all(s.replicates is not None for s in done):
            reps = np.mean(np.stack([s.replicates for s in done]), axis=0)
            ci = (float(np.quantile(reps, alpha)), float(np.quantile(reps, 1 - alpha)))
        out.append(FactorScore(factor, value, ci, [s.name for s in done], missing))
    return out
