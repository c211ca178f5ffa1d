"""LiveBench reasoning: web of lies, zebra puzzles, spatial reasoning."""

from __future__ import annotations

import itertools
import re

from judgeaudit.graders import GraderInputError
from judgeaudit.graders.livebench.answers import bold_spans, boxed_plain, solution_tags

_TRUTH_WORDS = ("yes", "no", "unknown")


def web_of_lies_score(ground_truth: str, answer: str) -> float:
    """Three yes/no/unknown answers, in order."""
    parsed: str | None = None
    tags = solution_tags(answer)
    if tags:
        parsed = tags[-1]
    if parsed is None:
        words = [w.lower().strip().replace(",", "").replace(".", "") for span in bold_spans(answer)
                 for w in span.split()]
        picked = [w for w in words if w in _TRUTH_WORDS][-3:]
        parsed = ", ".join(picked) if picked else None
    if parsed is None or not parsed.strip():
        boxed = boxed_plain(answer.replace("\\textbf{", "\\boxed{"))
        if boxed is not None:
            parsed = boxed
    if parsed is None:
        lower, best, best_at = answer.lower(), None, -1
        for combo in itertools.product(_TRUTH_WORDS, repeat=3):
            at = lower.rfind(", ".join(combo))
            if at > best_at:
                best, best_at = combo, at
        parsed = ", ".join(best) if best else None
    if not parsed:
        return 0.0
    parsed, truth = parsed.strip().lower(), ground_truth.strip().lower()
    if parsed == truth:
        return 1.0
    n_words = sum(parsed.count(w) for w in ("yes", "no", "unknown"))
    return float(n_words == 3 and truth in parsed)


_WORD_NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                 "eight": "8", "nine": "9"}


def zebra_score(ground_truth: str, answer: str, release_date: str = "9999") -> float:
    """Comma-separated answers; half credit for the fraction right, half for all right."""
    if release_date < "2024-11-25":
        return _zebra_single_score(ground_truth, answer)
    truth = ground_truth.split(",")
    found = solution_tags(answer)
    if not found:
        boxed = boxed_plain(answer)
        if boxed is not None:
            found = [boxed]
    if not found:
        last_line = answer.strip().split("\n")[-1] if answer.strip() else ""
        if last_line.count(",") == len(truth) - 1:
            found = [last_line]
    if not found:
        return 0.0
    given = [w for match in found for w in match.split(",")][-len(truth):] if len(found) > 1 \
        else found[-1].split(",")
    correct = 0
    for i, want in enumerate(truth):
        if i >= len(given):
            break
        want_n = want.strip().lower().replace("-", " ")
        got = given[i].strip().lower().replace("-", " ").replace("position", "").strip()
        if want_n == got or want_n in got:
            correct += 1
    return ((correct == len(truth)) + correct / len(truth)) / 2


def _zebra_single_score(ground_truth: str, answer: str) -> float:
    """Early zebra puzzles: one answer, the last ***bold*** word (or the last word)."""
    bold = re.findall(r"\*\*\*(\w+)\*\*\*", answer)
    words = re.findall(r"\b\w+\b", answer)
    word = bold[-1] if bold else (words[-1] if words else "")
    truth = ground_truth.strip().lower()
    word_l = word.lower()
    return float(word_l == truth or _WORD_NUMBERS.get(word_l) == truth or
                 {v: k for k, v in _WORD_NUMBERS.items()}.get(word_l) == truth or f"{word_l} movies" == truth)


_SPELLED = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
            "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
            "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
            "eighteen": "18", "nineteen": "19", "twenty": "20"}


def spatial_score(ground_truth: str, answer: str) -> float:
    """One word or number; from <solution> tags, else any of the last three bold spans."""
    truth = ground_truth.strip().lower()
    tags = solution_tags(answer)
    candidates = [tags[-1]] if tags else []
    boxed = boxed_plain(answer)
    if not candidates and boxed is not None:
        candidates = [boxed]
    if not candidates:
        candidates = bold_spans(answer)[-3:][::-1]
    for cand in candidates:
        word = cand.strip().lower().rstrip(".")
        if word == truth or _SPELLED.get(word) == truth:
            return 1.0
        # "two tetrahedra" counts for "tetrahedra"; a list of shapes does not
        for shape in ("tetrahedra", "tetrahedron", "triangle", "square"):
            if truth == shape and shape in word and len(word) < 2 * len(shape) + 5:
                return 1.0
    return 0.0


def reasoning_score(doc: dict, answer: str) -> float:
    task = str(doc.get("task", ""))
    truth = str(doc.get("ground_truth", ""))
    if task.startswith("web_of_lies"):
        return web_of_lies_score(truth, answer)
    if task == "zebra_puzzle":
        return zebra_score(truth, answer, str(doc.get("livebench_release_date") or "9999"))
    if task == "spatial":
        return spatial_score(truth, answer)
    raise GraderInputError(f"no LiveBench reasoning grading rule for task {task!r}", field="task")
