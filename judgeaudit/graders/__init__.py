"""Graders for generative benchmarks: text in, per-item metric values out.

A grader has a `name`, the `metrics` it reports, `score(doc, generation)` giving that
item's metric values (plus any bookkeeping values its `aggregate` needs), and
optionally `aggregate(per_doc)`, used where a benchmark's metric is not the plain mean
over items (IFEval's instruction-level accuracy pools instructions; LiveBench averages
tasks within a category). Every grader also reports `score`, its one number per item
in [0, 1] for confidence intervals over items.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

from judgeaudit.registry import Registry


class GraderInputError(ValueError):
    """An item a grader cannot grade (a missing field, an unknown task or instruction);
    `field` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def require(doc: Mapping[str, Any], field: str) -> Any:
    """doc[field], or GraderInputError naming the field."""
    if field not in doc or doc[field] is None:
        raise GraderInputError(f"missing field '{field}'", field=field)
    return doc[field]


@runtime_checkable
class Grader(Protocol):
    name: str
    metrics: list[str]

    def score(self, doc: Mapping[str, Any], generation: str) -> dict[str, float]: ...


# name -> grader factory, imported on first use so `import judgeaudit.graders` is cheap.
GRADERS: Registry[Callable[[], Grader]] = Registry("grader")
GRADERS.register_lazy("ifeval", "judgeaudit.graders.ifeval:IFEvalGrader")
GRADERS.register_lazy("math_hard", "judgeaudit.graders.math_answers:MathHardGrader")
GRADERS.register_lazy("livebench", "judgeaudit.graders.livebench:LiveBenchGrader")
GRADERS.register_lazy("livebench_coding", "judgeaudit.graders.livebench:coding_grader")
GRADERS.register_lazy("livebench_data_analysis", "judgeaudit.graders.livebench:data_analysis_grader")
GRADERS.register_lazy("livebench_instruction_following", "judgeaudit.graders.livebench:instruction_following_grader")
GRADERS.register_lazy("livebench_language", "judgeaudit.graders.livebench:language_grader")
GRADERS.register_lazy("livebench_math", "judgeaudit.graders.livebench:math_grader")
GRADERS.register_lazy("livebench_reasoning", "judgeaudit.graders.livebench:reasoning_grader")

_cache: dict[str, Grader] = {}


def get_grader(name: str) -> Grader:
    """The grader registered under `name`; KeyError naming the known graders otherwise."""
    if name not in _cache:
        _cache[name] = GRADERS[name]()
    return _cache[name]


def aggregate(grader: Grader, per_doc: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The grader's own aggregation, or the mean of each metric (and `score`) over items."""
    agg = getattr(grader, "aggregate", None)
    if callable(agg):
        return agg(per_doc)
    keys = [*grader.metrics, *(["score"] if "score" not in grader.metrics else [])]
    if not per_doc:
        return {k: float("nan") for k in keys}
    return {k: sum(float(d[k]) for d in per_doc) / len(per_doc) for k in keys if all(k in d for d in per_doc)}


__all__ = ["Grader", "GraderInputError", "GRADERS", "get_grader", "aggregate", "require"]
