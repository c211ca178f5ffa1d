"""SOS-Bench task specs: one YAML file per benchmark, read into typed, validated objects.

Specs live in the package folder ``judgeaudit.benchmarks`` under ``tasks/*.yaml``
(multiple-choice, log-likelihood) and ``tasks/generative/*.yaml`` (generation + grader).
A benchmark may list ``subtasks``; each subtask inherits every field of the benchmark and
overrides what it names (``dataset`` and ``fewshot`` are merged key by key).
"""

from __future__ import annotations

import copy
import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from judgeaudit.errors import InputError
from judgeaudit.runstore import content_hash

FACTORS = ("wk", "if", "safety")
FACTOR_TITLES = {"wk": "World knowledge", "if": "Instruction following", "safety": "Safety"}
OUTPUT_TYPES = ("multiple_choice", "generate_until")
MC_METRICS = ("acc", "acc_norm")
WEIGHTINGS = ("mean", "size")

# Fields a subtask may override; everything else belongs to the benchmark as a whole.
SUBTASK_FIELDS = {
    "name", "lm_eval_task", "dataset", "description", "prompt", "choices", "target", "fewshot",
    "process", "variables", "reference_size", "target_delimiter", "generation", "title",
}
BENCHMARK_FIELDS = SUBTASK_FIELDS | {
    "factor", "output_type", "metric", "metrics", "inverse", "weighting", "lm_eval_group",
    "subtasks", "grader", "scale",
}


@dataclass(frozen=True)
class DatasetRef:
    path: str
    name: str | None
    split: str


@dataclass(frozen=True)
class FewshotSpec:
    n: int = 0
    sampler: str = "first_n"
    split: str | None = None
    samples: tuple[dict, ...] = ()
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"


@dataclass(frozen=True)
class SubtaskSpec:
    """One scored unit: one dataset split, one prompt definition."""

    name: str
    benchmark: str
    output_type: str
    lm_eval_task: str
    dataset: DatasetRef
    prompt: str
    description: str = ""
    choices: Any = None
    target: Any = None
    fewshot: FewshotSpec = FewshotSpec()
    process: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    reference_size: int | None = None
    target_delimiter: str = " "
    generation: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def fingerprint(self) -> str:
        """Hash of everything that decides what is computed for a doc (for run-store keys)."""
        return content_hash(dict(self.raw))


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    title: str
    factor: str
    output_type: str
    subtasks: tuple[SubtaskSpec, ...]
    metric: str | None = None  # multiple choice: acc or acc_norm
    metrics: tuple[str, ...] = ()  # generative: grader metrics averaged into the score
    inverse: bool = False
    weighting: str = "mean"
    scale: float = 1.0
    grader: str | None = None
    lm_eval_group: str | None = None
    source: str = ""

    @property
    def score_metrics(self) -> tuple[str, ...]:
        return (self.metric,) if self.metric else self.metrics


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key in ("dataset", "fewshot", "variables", "generation") and isinstance(value, dict) \
                and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = copy.deepcopy(value)
    return out


def _need(path: str, obj: Mapping, key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    if key not in obj or obj[key] is None:
        raise InputError(path, "missing", field=where + key)
    if not isinstance(obj[key], kind):
        names = "/".join(t.__name__ for t in (kind if isinstance(kind, tuple) else (kind,)))
        raise InputError(path, f"expected {names}, got {type(obj[key]).__name__}", field=where + key)
    return obj[key]


def _check_choices(path: str, value: Any, where: str) -> None:
    ok = (isinstance(value, list) and all(isinstance(c, str) for c in value)) or isinstance(value, str) or (
        isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("field", "letters_for"))
    if not ok:
        raise InputError(path, "expected a list of strings, a template, {field: NAME} or {letters_for: NAME}",
                         field=where + "choices")


def _check_target(path: str, value: Any, where: str) -> None:
    ok = isinstance(value, (str, int)) and not isinstance(value, bool) or (
        isinstance(value, dict) and list(value) == ["field"])
    if not ok:
        raise InputError(path, "expected a template string, an index, or {field: NAME}", field=where + "target")


def _subtask(path: str, bench: dict, merged: dict, where: str) -> SubtaskSpec:
    unknown = set(merged) - BENCHMARK_FIELDS
    if unknown:
        raise InputError(path, f"unknown field(s) {', '.join(sorted(unknown))}", field=where.rstrip("."))
    name = _need(path, merged, "name", str, where)
    ds = _need(path, merged, "dataset", dict, where)
    dataset = DatasetRef(path=_need(path, ds, "path", str, where + "dataset."),
                         name=ds.get("name"), split=_need(path, ds, "split", str, where + "dataset."))
    output_type = bench["output_type"]
    prompt = merged.get("prompt", "")
    if output_type == "multiple_choice":
        prompt = _need(path, merged, "prompt", str, where)
        _check_choices(path, _need(path, merged, "choices", (list, str, dict), where), where)
        _check_target(path, _need(path, merged, "target", (str, int, dict), where), where)
    fs = merged.get("fewshot") or {}
    if not isinstance(fs, dict):
        raise InputError(path, "expected a mapping", field=where + "fewshot")
    samples = fs.get("samples") or []
    fewshot = FewshotSpec(
        n=int(fs.get("n", 0)), sampler=str(fs.get("sampler", "first_n")), split=fs.get("split"),
        samples=tuple(dict(s) for s in samples), target_delimiter=str(fs.get("target_delimiter", " ")),
        fewshot_delimiter=str(fs.get("fewshot_delimiter", "\n\n")),
    )
    if fewshot.sampler != "first_n":
        raise InputError(path, f"only the first_n sampler is supported, got {fewshot.sampler!r}",
                         field=where + "fewshot.sampler")
    if fewshot.n and not fewshot.samples and not fewshot.split:
        raise InputError(path, "few-shot examples need `samples` or a `split`", field=where + "fewshot")
    if fewshot.samples and len(fewshot.samples) < fewshot.n:
        raise InputError(path, f"{fewshot.n} shots asked but {len(fewshot.samples)} samples given",
                         field=where + "fewshot.samples")
    size = merged.get("reference_size")
    if size is not None and (not isinstance(size, int) or size <= 0):
        raise InputError(path, "expected a positive integer", field=where + "reference_size")
    raw = {k: v for k, v in merged.items() if k in SUBTASK_FIELDS | {"output_type", "grader"}}
    raw["output_type"] = output_type
    return SubtaskSpec(
        name=name, benchmark=bench["name"], output_type=output_type,
        lm_eval_task=str(merged.get("lm_eval_task") or name), dataset=dataset, prompt=prompt,
        description=str(merged.get("description") or ""), choices=merged.get("choices"),
        target=merged.get("target"), fewshot=fewshot, process=merged.get("process"),
        variables=dict(merged.get("variables") or {}), reference_size=size,
        target_delimiter=str(merged.get("target_delimiter", " ")),
        generation=dict(merged.get("generation") or {}), raw=raw,
    )


def parse_spec(obj: Any, path: str) -> BenchmarkSpec:
    """Validate one YAML document into a BenchmarkSpec; InputError names the file and field."""
    if not isinstance(obj, dict):
        raise InputError(path, "expected a mapping at the top level")
    unknown = set(obj) - BENCHMARK_FIELDS
    if unknown:
        raise InputError(path, f"unknown field(s) {', '.join(sorted(unknown))}")
    name = _need(path, obj, "name", str)
    factor = _need(path, obj, "factor", str)
    if factor not in FACTORS:
        raise InputError(path, f"expected one of {', '.join(FACTORS)}, got {factor!r}", field="factor")
    output_type = _need(path, obj, "output_type", str)
    if output_type not in OUTPUT_TYPES:
        raise InputError(path, f"expected one of {', '.join(OUTPUT_TYPES)}, got {output_type!r}", field="output_type")
    weighting = obj.get("weighting", "mean")
    if weighting not in WEIGHTINGS:
        raise InputError(path, f"expected one of {', '.join(WEIGHTINGS)}, got {weighting!r}", field="weighting")
    metric, metrics, grader = None, (), None
    if output_type == "multiple_choice":
        metric = _need(path, obj, "metric", str)
        if metric not in MC_METRICS:
            raise InputError(path, f"expected one of {', '.join(MC_METRICS)}, got {metric!r}", field="metric")
    else:
        grader = _need(path, obj, "grader", str)
        metrics = tuple(_need(path, obj, "metrics", list))
        if not metrics or not all(isinstance(m, str) for m in metrics):
            raise InputError(path, "expected a non-empty list of metric names", field="metrics")
    base = {k: v for k, v in obj.items() if k != "subtasks"}
    bench = {"name": name, "output_type": output_type}
    subs_raw = obj.get("subtasks")
    if subs_raw is None:
        subtasks = (_subtask(path, bench, base, ""),)
    else:
        if not isinstance(subs_raw, list) or not subs_raw:
            raise InputError(path, "expected a non-empty list", field="subtasks")
        subtasks = []
        for i, sub in enumerate(subs_raw):
            if not isinstance(sub, dict):
                raise InputError(path, "expected a mapping", field=f"subtasks[{i}]")
            bad = set(sub) - SUBTASK_FIELDS
            if bad:
                raise InputError(path, f"not allowed in a subtask: {', '.join(sorted(bad))}", field=f"subtasks[{i}]")
            merged = _merge({k: v for k, v in base.items() if k in SUBTASK_FIELDS and k != "lm_eval_task"}, sub)
            subtasks.append(_subtask(path, bench, merged, f"subtasks[{i}]."))
        subtasks = tuple(subtasks)
        names = [s.name for s in subtasks]
        if len(set(names)) != len(names):
            raise InputError(path, "subtask names must be unique", field="subtasks")
    scale = obj.get("scale", 1.0)
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
        raise InputError(path, "expected a positive number", field="scale")
    return BenchmarkSpec(
        name=name, title=str(obj.get("title") or name), factor=factor, output_type=output_type,
        subtasks=subtasks, metric=metric, metrics=metrics, inverse=bool(obj.get("inverse", False)),
        weighting=weighting, scale=float(scale), grader=grader,
        lm_eval_group=obj.get("lm_eval_group"), source=path,
    )


def load_spec_file(path: str | Path) -> BenchmarkSpec:
    path = str(path)
    try:
        from judgeaudit.jsonl_input import read_text

        obj = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, f"invalid YAML: {getattr(exc, 'problem', exc)}",
                         line=mark.line + 1 if mark else None) from None
    return parse_spec(obj, path)


def builtin_task_dirs() -> list[Path]:
    root = Path(str(importlib.resources.files("judgeaudit.benchmarks"))) / "tasks"
    return [root, root / "generative"]


def load_specs(dirs: Iterable[str | Path] | None = None) -> dict[str, BenchmarkSpec]:
    """All benchmark specs, by name, from the built-in task folders (or the given ones)."""
    specs: dict[str, BenchmarkSpec] = {}
    for folder in (builtin_task_dirs() if dirs is None else [Path(d) for d in dirs]):
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.yaml")):
            spec = load_spec_file(file)
            if spec.name in specs:
                raise InputError(file, f"benchmark name {spec.name!r} is also used by {specs[spec.name].source}",
                                 field="name")
            specs[spec.name] = spec
    return specs


def select_specs(specs: Mapping[str, BenchmarkSpec], selection: str = "all") -> list[BenchmarkSpec]:
    """``all``, a factor (``wk``, ``if``, ``safety``), benchmark names, or a comma-separated mix."""
    chosen: list[BenchmarkSpec] = []
    for token in [t.strip() for t in selection.split(",") if t.strip()]:
        if token == "all":
            found = list(specs.values())
        elif token in FACTORS:
            found = [s for s in specs.values() if s.factor == token]
        elif token in specs:
            found = [specs[token]]
        else:
            raise InputError("--tasks", f"unknown benchmark or factor {token!r}; known: all, "
                             f"{', '.join(FACTORS)}, {', '.join(sorted(specs))}")
        chosen += [s for s in found if s not in chosen]
    return chosen
