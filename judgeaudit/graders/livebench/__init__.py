"""LiveBench: one grader for the six categories, dispatching on each item's `task`.

Items keep LiveBench's own schema (`question_id`, `category`, `task`, optional `subtask`,
`turns`, `ground_truth`, and per category the test cases or instruction lists). Every
item scores in [0, 1] (LiveBench reports the same numbers times 100). A category's score
is the mean over its tasks of each task's mean item score, as LiveBench computes it.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence

from judgeaudit.graders import GraderInputError, require
from judgeaudit.graders.livebench.answers import drop_reasoning

CATEGORIES = ("coding", "data_analysis", "instruction_following", "language", "math", "reasoning")

# Known tasks, in a fixed order: per-item results carry the task's index here so that
# `aggregate` can average within tasks (per-item values are numbers only).
TASKS = ("LCB_generation", "coding_completion", "cta", "tablejoin", "tablereformat", "paraphrase", "simplify",
         "story_generation", "summarize", "connections", "plot_unscrambling", "typos", "math_comp", "olympiad",
         "AMPS_Hard", "web_of_lies_v2", "web_of_lies_v3", "zebra_puzzle", "spatial")


IFBENCH_RELEASE = "2025-11-25"   # items released from this date are graded in LiveBench's IFBench format


def instruction_following_response(doc: Mapping[str, Any], answer: str) -> str:
    """The text LiveBench checks (after removing <think> blocks): the answer with surrounding
    whitespace stripped and nothing else, for IFEval-format items; for IFBench-format items
    (released from 2025-11-25) the first <solution>...</solution>, stripped, if there is one."""
    if str(doc.get("livebench_release_date") or "") >= IFBENCH_RELEASE:
        match = re.search(r"<solution>(.*?)</solution>", answer, flags=re.DOTALL)
        if match:
            return match.group(1).strip()
    return answer.strip()


def instruction_following_score(doc: Mapping[str, Any], answer: str) -> float:
    """Strict IFEval checks; the mean of "all instructions followed" and the fraction followed."""
    from judgeaudit.graders.ifeval import follows

    verdicts = follows(list(require(doc, "instruction_id_list")), list(require(doc, "kwargs")),
                       instruction_following_response(doc, answer))
    if not verdicts:
        return 0.0
    return (float(all(verdicts)) + sum(verdicts) / len(verdicts)) / 2


def _scorer(category: str) -> Callable[[dict, str], float]:
    if category == "coding":
        from judgeaudit.graders.livebench.coding import coding_score
        return coding_score
    if category == "data_analysis":
        from judgeaudit.graders.livebench.data_analysis import data_analysis_score
        return data_analysis_score
    if category == "instruction_following":
        return instruction_following_score
    if category == "language":
        from judgeaudit.graders.livebench.language import language_score
        return language_score
    if category == "math":
        from judgeaudit.graders.livebench.math import math_score
        return math_score
    if category == "reasoning":
        from judgeaudit.graders.livebench.reasoning import reasoning_score
        return reasoning_score
    raise GraderInputError(f"unknown LiveBench category {category!r}; known: {', '.join(CATEGORIES)}",
                           field="category")


class LiveBenchGrader:
    name = "livebench"
    metrics = ["score"]

    def __init__(self, categories: Sequence[str] = CATEGORIES) -> None:
        self.categories = tuple(categories)
        if len(self.categories) == 1:
            self.name = f"livebench_{self.categories[0]}"

    def score(self, doc: Mapping[str, Any], generation: str) -> dict[str, float]:
        category = str(require(doc, "category"))
        if category not in self.categories:
            raise GraderInputError(f"LiveBench item of category {category!r} given to the {self.name} grader",
                                   field="category")
        require(doc, "task")
        try:
            value = float(_scorer(category)(dict(doc), drop_reasoning(generation)))
        except KeyError as exc:  # a field the task's rule needs
            raise GraderInputError(f"missing field '{exc.args[0]}'", field=str(exc.args[0])) from None
        task = str(doc.get("task", ""))
        out = {"score": value, "task_index": float(TASKS.index(task)) if task in TASKS else -1.0}
        if category == "coding":
            from judgeaudit.graders.sandbox import isolation

            # Recorded with the result: this answer's code ran without the bubblewrap sandbox.
            out["sandbox_fallback"] = float(isolation() == "fallback")
        return out

    def aggregate(self, per_doc: Sequence[Mapping[str, float]]) -> dict[str, float]:
        by_task: dict[float, list[float]] = {}
        for d in per_doc:
            by_task.setdefault(d.get("task_index", -1.0), []).append(d["score"])
        if not by_task:
            return {"score": float("nan")}
        out = {"score": sum(sum(v) / len(v) for v in by_task.values()) / len(by_task)}
        fallback = sum(float(d.get("sandbox_fallback", 0.0)) for d in per_doc)
        if fallback:
            out["sandbox_fallback_items"] = fallback   # graded without the sandbox: a warning in the results
        return out


def coding_grader() -> LiveBenchGrader:
    return LiveBenchGrader(("coding",))


def data_analysis_grader() -> LiveBenchGrader:
    return LiveBenchGrader(("data_analysis",))


def instruction_following_grader() -> LiveBenchGrader:
    return LiveBenchGrader(("instruction_following",))


def language_grader() -> LiveBenchGrader:
    return LiveBenchGrader(("language",))


def math_grader() -> LiveBenchGrader:
    return LiveBenchGrader(("math",))


def reasoning_grader() -> LiveBenchGrader:
    return LiveBenchGrader(("reasoning",))
