"""From per-document records to benchmark and factor scores with bootstrap intervals.

Benchmark score: its subtasks' metric combined by plain mean or by subtask size (BBQ,
WMDP), as 1 - acc for inverse benchmarks (WMDP), times the spec's scale. Generative
benchmarks: the mean of the spec's metrics, each aggregated by the grader. Factor score:
the unweighted mean of its complete benchmarks; benchmarks not scored are listed as
missing and never counted as zero.

Intervals: percentile bootstrap over documents (scipy.stats.bootstrap), resampled within
each subtask (stratified), independently across benchmarks; a factor's replicate is the
mean of its benchmarks' replicates under the same draws. The generator of each benchmark is
seeded from the run seed and the benchmark name, so a benchmark's interval does not depend
on what else ran. A subtask of one document contributes its value to every replicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from judgeaudit.sos.document_scoring import BenchmarkOutcome, SubtaskOutcome
from judgeaudit.sos.spec import FACTORS, BenchmarkSpec
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL as CI_LEVEL
from judgeaudit.stats.bootstrap import named_rng, percentile_bootstrap, percentile_interval


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
    sizes = [s.n for s in outcome.subtasks]
    if spec.output_type == "multiple_choice":
        per_sub = [sub.values(spec.metric) for sub in outcome.subtasks]

        def subtask_value(k: int, docs: np.ndarray) -> float:
            return float(np.mean(per_sub[k][docs]))
    else:
        per_sub = [[r.metrics for r in sub.records] for sub in outcome.subtasks]

        def subtask_value(k: int, docs: np.ndarray) -> float:
            return _gen_value(spec, outcome.grader, [per_sub[k][i] for i in docs])

    everything = [np.arange(n) for n in sizes]
    values = [subtask_value(k, docs) for k, docs in enumerate(everything)]
    score = combine(spec, values, sizes)
    # Document indices of each subtask are resampled independently; one-document subtasks stay fixed.
    varying = [k for k, n in enumerate(sizes) if n > 1]

    def statistic(*docs: np.ndarray) -> float:
        chosen = dict(zip(varying, docs))
        return combine(spec, [subtask_value(k, chosen.get(k, everything[k])) for k in range(len(sizes))], sizes)

    if varying:
        boot = percentile_bootstrap([everything[k] for k in varying], statistic, resamples=n_resamples,
                                    level=CI_LEVEL, rng=named_rng(seed, spec.name))
        replicates, ci = boot.replicates, boot.ci
    else:
        replicates, ci = np.full(n_resamples, score), (score, score)
    subtasks = {s.spec.name: _subtask_summary(spec, outcome.grader, s) for s in outcome.subtasks}
    return BenchmarkScore(spec.name, spec.factor, score, ci, sum(sizes), subtasks, replicates=replicates)


def score_factors(scores: Sequence[BenchmarkScore], factors: Sequence[str] = FACTORS) -> list[FactorScore]:
    out = []
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
            ci = percentile_interval(reps, CI_LEVEL)
        out.append(FactorScore(factor, value, ci, [s.name for s in done], missing))
    return out
