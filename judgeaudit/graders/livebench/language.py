"""LiveBench language: connections word groups, plot unscrambling, typo correction."""

from __future__ import annotations

import difflib
import re

from judgeaudit.graders import GraderInputError
from judgeaudit.graders.livebench.answers import boxed_plain, levenshtein, solution_tags


def _groups_of_four(words: list[str]) -> list[frozenset[str]]:
    clean = [w.strip().lower() for w in words]
    return [frozenset(clean[i:i + 4]) for i in range(0, len(clean), 4)]


def connections_score(ground_truth: str, answer: str, release_date: str = "9999") -> float:
    """The 16 words in four groups of four; the fraction of groups exactly right."""
    truth_words = ground_truth.split(",")
    truth_groups = _groups_of_four(truth_words)
    if release_date < "2024-11-25":
        # Early puzzles: groups given in bold; the best-scoring bold list counts.
        best = 0.0
        for span in re.findall(r"\*\*(.*?)\*\*", answer.replace("\n", "")):
            groups = _groups_of_four(span.split(","))
            hits = sum(any(t <= g for g in groups) for t in truth_groups)
            best = max(best, hits / len(truth_groups))
        return best
    found = solution_tags(answer) or solution_tags(answer, join_lines=True)
    if not found and "\\boxed" in answer:
        boxed = boxed_plain(answer)
        found = [boxed] if boxed is not None else []
    found = [f.replace("\n", "") for f in found]
    if not found:
        return 0.0
    if len(found) > 1:
        words = [w for f in found for w in f.split(",")][-len(truth_words):]
    else:
        words = found[-1].split(",")
    given = _groups_of_four(words)
    return sum(g in truth_groups for g in given) / len(truth_groups)


def _plot_text(answer: str) -> str:
    tags = solution_tags(answer)
    if tags:
        return tags[-1]
    match = re.search(r"<PLOT_SUMMARY>(.*)", answer, flags=re.DOTALL)
    return match.group(1).replace("</PLOT_SUMMARY>", "") if match else answer


def plot_unscrambling_score(ground_truth: str, answer: str) -> float:
    """1 - edit distance between the true sentence order and the order the answer implies."""
    truth = [s.strip() for s in ground_truth.split(".") if s.strip()]
    given = [s.strip() for s in _plot_text(answer).split(".") if s.strip()]
    if not truth:
        return 0.0
    order = []
    for sentence in truth:
        best = difflib.get_close_matches(sentence, given, n=1, cutoff=0.0)
        if best:
            order.append(given.index(best[0]))
    return 1.0 - levenshtein(list(range(len(truth))), order) / len(truth)


def typos_score(ground_truth: str, answer: str) -> float:
    """The corrected text must appear verbatim (line breaks read as spaces)."""
    tags = solution_tags(answer)
    text = tags[-1] if tags else answer
    joined = " ".join(line for line in text.split("\n") if line)
    return float(ground_truth.strip() in joined)


def language_score(doc: dict, answer: str) -> float:
    task = str(doc.get("task", ""))
    truth = str(doc.get("ground_truth", ""))
    if task == "connections":
        return connections_score(truth, answer, str(doc.get("livebench_release_date") or "9999"))
    if task == "plot_unscrambling":
        return plot_unscrambling_score(truth, answer)
    if task == "typos":
        return typos_score(truth, answer)
    raise GraderInputError(f"no LiveBench language grading rule for task {task!r}", field="task")
