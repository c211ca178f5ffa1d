"""SOS-Bench result documents: judgeaudit's results.json and an lm-evaluation-harness-style
results file (the terminal table is in judgeaudit.reports.sos)."""

from __future__ import annotations

from typing import Any, Sequence

from judgeaudit.sos.aggregate import CI_LEVEL, BenchmarkScore, FactorScore
from judgeaudit.sos.document_scoring import BenchmarkOutcome
from judgeaudit.sos.spec import FACTOR_TITLES

FORMAT = "judgeaudit.sos/1"


def statistics_note(n_resamples: int, seed: int) -> dict[str, Any]:
    return {"ci_level": CI_LEVEL, "method": "percentile bootstrap over documents, stratified by subtask; "
            "factor replicates are means of benchmark replicates", "n_resamples": n_resamples, "seed": seed}


def results_document(model: dict[str, str], outcomes: Sequence[BenchmarkOutcome], scores: Sequence[BenchmarkScore],
                     factors: Sequence[FactorScore], *, source: str, n_resamples: int, seed: int,
                     limit: int | None) -> dict[str, Any]:
    benchmarks = {}
    for outcome, s in zip(outcomes, scores):
        spec = outcome.spec
        benchmarks[s.name] = {
            "title": spec.title, "factor": spec.factor, "status": "ok" if s.score is not None else "missing",
            "metric": spec.metric or "mean(" + ", ".join(spec.metrics) + ")", "inverse": spec.inverse,
            "weighting": spec.weighting, "score": s.score, "ci": list(s.ci) if s.ci else None, "n": s.n,
            "missing_reason": s.missing, "subtasks": s.subtasks,
        }
    return {
        "format": FORMAT, "model": model, "data_source": source, "limit": limit,
        "factors": {f.factor: {"title": FACTOR_TITLES[f.factor], "score": f.score, "ci": list(f.ci) if f.ci else None,
                               "benchmarks": f.benchmarks, "missing": f.missing} for f in factors},
        "benchmarks": benchmarks, "statistics": statistics_note(n_resamples, seed),
    }


def lm_eval_document(model: dict[str, str], outcomes: Sequence[BenchmarkOutcome],
                     scores: Sequence[BenchmarkScore]) -> dict[str, Any]:
    """The shape lm-evaluation-harness writes (`results`, `groups`, `n-samples`, ...)."""
    results: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    group_subtasks: dict[str, list[str]] = {}
    n_samples: dict[str, Any] = {}
    for outcome, s in zip(outcomes, scores):
        spec = outcome.spec
        names = []
        for sub in outcome.subtasks:
            summary = s.subtasks.get(sub.spec.name)
            if not summary:
                continue
            task = sub.spec.lm_eval_task
            names.append(task)
            entry: dict[str, Any] = {"alias": task}
            for key, value in summary.items():
                if key in ("n", "lm_eval_task"):
                    continue
                metric = key[: -len("_stderr")] + "_stderr" if key.endswith("_stderr") else key
                entry[f"{metric},none"] = value if value is not None else "N/A"
            results[task] = entry
            n_samples[task] = {"original": summary["n"], "effective": summary["n"]}
        if spec.lm_eval_group and s.score is not None and spec.output_type == "multiple_choice":
            sizes = [s.subtasks[sub.spec.name]["n"] for sub in outcome.subtasks]
            group = {"alias": spec.lm_eval_group}
            for metric in ("acc", "acc_norm"):
                vals = [s.subtasks[sub.spec.name][metric] for sub in outcome.subtasks]
                if spec.weighting == "size":
                    value = sum(v * n for v, n in zip(vals, sizes)) / sum(sizes)
                else:
                    value = sum(vals) / len(vals)
                group[f"{metric},none"] = value
                group[f"{metric}_stderr,none"] = "N/A"
            groups[spec.lm_eval_group] = group
            results[spec.lm_eval_group] = group
            group_subtasks[spec.lm_eval_group] = names
    return {"results": results, "groups": groups, "group_subtasks": group_subtasks, "n-samples": n_samples,
            "config": {"model": "judgeaudit", "model_args": f"pretrained={model.get('model')},dtype={model.get('dtype')}"}}
