"""LiveBench reasoning: web of lies, zebra puzzles, spatial reasoning."""

from __future__ import annotations

import itertools
import re

from judgeaudit.graders import GraderInputError
from judgeaudit.graders.livebench.answers import boxed_plain, livebench_boxed, solution_tag_plain, solution_tags

_TRUTH_WORDS = ("yes", "no", "unknown")


def _last_truth_combination(answer: str) -> str | None:
    """The yes/no/unknown triple ("yes, no, unknown") that starts last in the answer."""
    lower, best, best_at = answer.lower(), None, -1
    for combo in itertools.product(_TRUTH_WORDS, repeat=3):
        at = lower.find(", ".join(combo))
        if at != -1 and at > best_at:
            best, best_at = combo, at
    return ", ".join(best) if best else None


def _boxed_truths(answer: str) -> str | None:
    # LiveBench reads \textbf{...} as a box too.
    text = answer.replace("\\\\boxed{\\\\textbf{", "\\\\boxed{").replace("\\\\fbox{", "\\\\boxed{")
    return livebench_boxed(text.replace("\\textbf{", "\\boxed{"))


def web_of_lies_v2_score(ground_truth: str, answer: str) -> float:
    """Three yes/no/unknown answers: from <solution> tags, else the last three truth words
    in bold, else a box, else the last "x, y, z" triple; right if equal to the ground truth
    (lowercased) or if it holds exactly three truth words and contains the ground truth."""
    tags = solution_tag_plain(answer) or re.findall(r"</solution>(.*?)</solution>", answer)
    parsed: str | None = tags[-1] if tags else None
    bold = re.findall(r"\*\*(.*?)\*\*", answer)
    if parsed is None and bold:
        words = [w.lower().strip().replace(",", "").replace(".", "") for span in bold for w in span.split()]
        picked = [w for w in words if w in _TRUTH_WORDS][-3:]
        parsed = ", ".join(picked) if picked else None
    if parsed is None or not parsed.strip():
        boxed = _boxed_truths(answer)
        if boxed is not None:
            parsed = boxed
    if parsed is None:
        parsed = _last_truth_combination(answer)
    if not parsed:
        return 0.0
    truth = ground_truth.lower()
    if parsed == truth:
        return 1.0
    n_words = parsed.count("yes") + parsed.count("no") + parsed.count("unknown")
    return float(n_words == 3 and truth in parsed)


def web_of_lies_v3_score(ground_truth: str, answer: str) -> float:
    """v3: no bold rule; the parsed answer and the ground truth are split on commas and
    compared position by position, as written (no case folding or trimming); half credit
    for the fraction right, half for all right."""
    tags = solution_tag_plain(answer)
    parsed: str | None = tags[-1] if tags else None
    if parsed is None or not parsed.strip():
        boxed = _boxed_truths(answer)
        if boxed is not None:
            parsed = boxed.replace("\\text{", "").replace("}", "")
    if parsed is None:
        parsed = _last_truth_combination(answer)
    if parsed is None:
        return 0.0
    given, truth = parsed.split(","), ground_truth.split(",")
    correct = sum(1 for i, want in enumerate(truth) if i < len(given) and given[i] == want)
    return ((correct == len(truth)) + correct / len(truth)) / 2


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
    """One word or number. The whole answer equal to the ground truth; else any of the last
    three bold spans (lowercased; a spelled-out number; "two tetrahedra" for "tetrahedra");
    else the last box, with \\textbf/\\mathbf/\\text removed, exactly equal to the ground
    truth. <solution> tags are not read."""
    if answer == ground_truth:
        return 1.0
    truth = ground_truth.strip().lower()
    for word in [w.strip().lower() for w in re.findall(r"\*\*([^\*]+)\*\*", answer)[-3:]]:
        if word == truth or _SPELLED.get(word) == truth:
            return 1.0
        # "two tetrahedra" counts for "tetrahedra"; "circle square triangle" does not
        for shape in ("tetrahedra", "tetrahedron", "triangle", "square"):
            if truth == shape and shape in word and len(word) < 2 * len(shape) + 5:
                return 1.0
    boxed = livebench_boxed(answer)
    if boxed is not None:
        for markup in ("\\textbf{", "\\mathbf{", "\\text{", "}"):
            boxed = boxed.replace(markup, "")
        if boxed == ground_truth:
            return 1.0
    return 0.0


def reasoning_score(doc: dict, answer: str) -> float:
    task = str(doc.get("task", ""))
    truth = str(doc.get("ground_truth", ""))
    if task == "web_of_lies_v2":
        return web_of_lies_v2_score(truth, answer)
    if task == "web_of_lies_v3":
        return web_of_lies_v3_score(truth, answer)
    if task == "zebra_puzzle":
        return zebra_score(truth, answer, str(doc.get("livebench_release_date") or "9999"))
    if task == "spatial":
        return spatial_score(truth, answer)
    raise GraderInputError(f"no LiveBench reasoning grading rule for task {task!r}", field="task")
