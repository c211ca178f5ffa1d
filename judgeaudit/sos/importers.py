"""Read SOS scores per model from judgeaudit results, lm-evaluation-harness results, or a
wide CSV (one row per model, ``<task>/<metric>`` columns, as W&B exports of harness runs).

Harness-style task metrics are turned into benchmark scores with the same specs and rules
as a judgeaudit run: a group value (``bbq/acc``) is used when present, else the subtasks are
combined (size-weighted ones by each subtask's ``reference_size``); inverse benchmarks become
1 - acc. A benchmark lacking any needed value is missing for that model.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Mapping

from judgeaudit.errors import InputError
from judgeaudit.sos.aggregate import combine
from judgeaudit.sos.result_documents import FORMAT
from judgeaudit.sos.spec import BenchmarkSpec

TaskMetrics = dict[str, dict[str, float]]  # task -> metric -> value
ModelScores = dict[str, dict[str, float]]  # model -> benchmark -> score

NAME_COLUMNS = ("Name", "name", "model", "Model", "model_name")


def _metric_name(key: str) -> str:
    return key.split(",", 1)[0]  # harness keys look like "acc,none"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and value.strip():
        try:
            f = float(value)
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def benchmark_scores(metrics: TaskMetrics, specs: Mapping[str, BenchmarkSpec]) -> dict[str, float]:
    """Benchmark scores from harness task metrics; benchmarks lacking a value are left out."""
    out: dict[str, float] = {}
    for spec in specs.values():
        names = spec.score_metrics

        def value_of(task: str) -> float | None:
            got = [metrics.get(task, {}).get(m) for m in names]
            return None if any(v is None for v in got) else sum(got) / len(got)

        group = value_of(spec.lm_eval_group) if spec.lm_eval_group else None
        if group is not None and spec.weighting == "size":
            out[spec.name] = combine(spec, [group], [1.0])
            continue
        values = [value_of(sub.lm_eval_task) for sub in spec.subtasks]
        if any(v is None for v in values):
            if group is not None:  # a plain-mean group value is the same number
                out[spec.name] = combine(spec, [group], [1.0])
            continue
        sizes = [float(sub.reference_size or 0) for sub in spec.subtasks]
        if spec.weighting == "size" and len(values) > 1 and not all(sizes):
            continue
        out[spec.name] = combine(spec, values, sizes if spec.weighting == "size" else [1.0] * len(values))
    return out


def read_wide_csv(path: str | Path) -> dict[str, TaskMetrics]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        name_col = next((c for c in NAME_COLUMNS if c in header), None)
        if name_col is None:
            raise InputError(path, f"no model-name column (one of {', '.join(NAME_COLUMNS)})", line=1)
        if not any("/" in c for c in header):
            raise InputError(path, "no <task>/<metric> columns", line=1)
        models: dict[str, TaskMetrics] = {}
        for lineno, row in enumerate(reader, start=2):
            name = (row.get(name_col) or "").strip()
            if not name:
                raise InputError(path, "empty model name", line=lineno, field=name_col)
            if name in models:
                raise InputError(path, f"model {name!r} appears twice", line=lineno, field=name_col)
            metrics: TaskMetrics = {}
            for col, raw in row.items():
                if not col or "/" not in col or col.endswith("_stderr"):
                    continue
                task, metric = col.rsplit("/", 1)
                value = _number(raw)
                if value is None and raw not in (None, "", "NaN", "nan"):
                    raise InputError(path, f"not a number: {raw!r}"[:200], line=lineno, field=col)
                if value is not None:
                    metrics.setdefault(task, {})[_metric_name(metric)] = value
            models[name] = metrics
    return models


def read_lm_eval_json(path: str | Path, obj: dict[str, Any]) -> dict[str, TaskMetrics]:
    results = obj.get("results")
    if not isinstance(results, dict):
        raise InputError(path, "expected an object", field="results")
    metrics: TaskMetrics = {}
    for task, entry in results.items():
        if not isinstance(entry, dict):
            raise InputError(path, "expected an object", field=f"results.{task}")
        for key, raw in entry.items():
            if "_stderr" in key or key == "alias":
                continue
            value = _number(raw)
            if value is not None:
                metrics.setdefault(task, {})[_metric_name(key)] = value
    config = obj.get("config") or {}
    name = obj.get("model_name") or (config.get("model_args") if isinstance(config, dict) else None) or Path(path).stem
    for part in str(name).split(","):
        if part.startswith("pretrained="):
            name = part[len("pretrained="):]
    return {str(name): metrics}


def read_sos_file(path: str | Path, specs: Mapping[str, BenchmarkSpec]) -> ModelScores:
    """Benchmark scores per model from any of the three formats."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.suffix.lower() == ".csv":
        return {m: benchmark_scores(t, specs) for m, t in read_wide_csv(path).items()}
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON ({exc.msg})", line=exc.lineno) from None
    if not isinstance(obj, dict):
        raise InputError(path, "expected a JSON object")
    if obj.get("format") == FORMAT:
        model = obj.get("model", {}).get("model") or path.parent.name
        benches = obj.get("benchmarks")
        if not isinstance(benches, dict):
            raise InputError(path, "expected an object", field="benchmarks")
        return {str(model): {name: float(b["score"]) for name, b in benches.items()
                             if isinstance(b, dict) and _number(b.get("score")) is not None and name in specs}}
    return {m: benchmark_scores(t, specs) for m, t in read_lm_eval_json(path, obj).items()}
