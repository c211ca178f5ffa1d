"""LiveBench math: competition multiple choice (AMC/SMC), AIME integers, olympiad proof
gap-filling (IMO/USAMO), and AMPS_Hard symbolic answers."""

from __future__ import annotations

import re

from judgeaudit.graders import GraderInputError
from judgeaudit.graders.livebench.answers import boxed_plain, levenshtein, solution_tags
from judgeaudit.graders.math_answers import last_boxed, unbox


def choice_values(question: str) -> dict[str, str]:
    """Map each letter of an AMC-style choice list (\\textbf{(A) }value\\qquad...) to its value."""
    found = re.findall(r"\\textbf\{\(([A-E])\)\s?\}(.*?)(?:\\qquad|\$)", question)
    return {letter: value.strip().strip("$").strip("~").strip() for letter, value in found}


def multiple_choice_score(ground_truth: str, answer: str, question: str) -> float:
    """AMC/SMC: the prompt asks for the letter five times (e.g. CCCCC)."""
    gt = ground_truth.strip()
    if len(gt) != 1 or gt not in "ABCDE":
        raise GraderInputError(f"a competition answer must be one letter A-E, got {ground_truth!r}", field="ground_truth")
    tags = solution_tags(answer)
    if tags and len(set(tags[-1].strip())) == 1 and tags[-1].strip()[:1].lower() == gt.lower():
        return 1.0
    if gt * 4 in answer:
        return 1.0
    boxed = boxed_plain(answer)
    if boxed is not None and boxed.strip().lower() == gt.lower():
        return 1.0
    value = choice_values(question).get(gt)
    if value and value in answer[-(20 + len(value)):]:
        return 1.0  # the answer stated as the choice's value near the end
    return 0.0


def integer_answer_score(ground_truth: str, answer: str) -> float:
    """AIME: the three-digit answer must appear in the last 50 characters."""
    return float(ground_truth.strip() in answer[-50:])


def _digits_core(token: str) -> str:
    """The first run of digits in a token ("<12>." -> "12")."""
    match = re.search(r"\d+", token)
    return match.group(0) if match else ""


def proof_completion_numbers(answer: str) -> list[int]:
    """The comma-separated expression indices the model chose, from its answer line."""
    lower = answer.lower()
    if "answer:" in lower:
        lines = lower.strip().split("\n")
        idx = max(i for i, line in enumerate(lines) if "answer:" in line)
        text = lines[idx].split("answer:", 1)[1].replace("**", "").strip()
        if not text.strip(" .") and idx + 1 < len(lines):
            text = lines[idx + 1].replace("**", "")
        numbers = [_digits_core(tok.strip().split(" ")[-1]) for tok in text.split(",")]
        numbers = [int(n) for n in numbers if n]
        if numbers:
            return numbers
    boxed = boxed_plain(answer) if "\\boxed" in answer else None
    if boxed:
        numbers = [int(tok.strip()) for tok in boxed.split(",") if tok.strip().isdigit()]
        if numbers:
            return numbers
    last_line = answer.strip().split("\n")[-1] if answer.strip() else ""
    return [int(n) for n in (_digits_core(tok) for tok in last_line.split(",")) if n]


def proof_gap_score(ground_truth: str, answer: str) -> float:
    """Olympiad: 1 - edit distance between chosen and true index lists / the longer length."""
    truth = [int(n) for n in ground_truth.split(",")]
    chosen = proof_completion_numbers(answer)
    longest = max(len(chosen), len(truth))
    return 1.0 - levenshtein(chosen, truth) / longest if longest else 0.0


_LATEX_NOISE = ("\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\,", "\\;", "\\!")


def _clean_latex(text: str) -> str:
    for noise in _LATEX_NOISE:
        text = text.replace(noise, "")
    return text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\cdot", "*")


def symbolic_answer(answer: str) -> str | None:
    """AMPS_Hard: the last boxed expression, else the last $...$ on the last line (right of '=')."""
    text = answer
    for c in ("+C", "+ C", "+ c", "+c"):  # constants of integration are not graded
        text = text.replace(c, "")
    text = _clean_latex(text.replace("\\fbox{", "\\boxed{"))
    inner = unbox(last_boxed(text))
    if inner is None:
        last_line = text.strip().split("\n")[-1] if text.strip() else ""
        if last_line.count("$") >= 2:
            close = last_line.rfind("$")
            if last_line[close - 1] == "$":
                close -= 1
            open_ = last_line.rfind("$", 0, close)
            inner = last_line[open_ + 1:close]
    if inner is None:
        return None
    return inner.split("=")[-1].strip()


def _symbolic_check(truth: str, candidate: str) -> bool:
    """Runs in the guarded worker: math-verify on both as LaTeX, then sympy's parser."""
    from math_verify import LatexExtractionConfig, parse, verify

    from judgeaudit.graders.math_answers import _sympy_check

    cfg = [LatexExtractionConfig()]
    gold = parse(f"${truth}$", extraction_config=cfg)
    pred = parse(f"${candidate}$", extraction_config=cfg)
    if gold and pred and verify(gold, pred):
        return True
    return _sympy_check(truth, candidate)


def symbolic_equal(truth: str, candidate: str) -> bool:
    """Symbolic equality under the hard time limit of every equivalence check (a timeout is
    not equal)."""
    from judgeaudit.graders.math_answers import DEFAULT_TIMEOUT_S, _guarded

    return bool(_guarded("_symbolic_check", truth, candidate, timeout_s=DEFAULT_TIMEOUT_S,
                         module=__name__))


def amps_hard_score(ground_truth: str, answer: str) -> float:
    truth = _clean_latex(ground_truth).replace(" ^", "^")
    candidate = symbolic_answer(answer)
    if candidate is None:
        tail = answer.replace("\n", "").rstrip(".")
        return float(bool(truth) and tail.endswith(truth))
    if candidate.replace(" ", "") == truth.replace(" ", ""):
        return 1.0
    try:
        return float(symbolic_equal(truth, candidate))
    except Exception:  # unparsable LaTeX on either side counts as a mismatch
        return 0.0


def math_score(doc: dict, answer: str) -> float:
    task = str(doc.get("task") or "")
    kind = str(doc.get("subtask") or task)
    parts = kind.lower().split("_")
    question = doc["turns"][0] if doc.get("turns") else ""
    truth = str(doc.get("ground_truth", ""))
    if task == "AMPS_Hard" or "amps_hard" in kind.lower():
        return amps_hard_score(truth, answer)
    if parts[0].startswith(("amc", "smc")) or (len(parts) > 1 and parts[1] == "amc"):
        return multiple_choice_score(truth, answer, question)
    if parts[0].startswith("aime"):
        return integer_answer_score(truth, answer)
    if parts[0] in ("imo", "usamo") or task == "olympiad":
        return proof_gap_score(truth, answer)
    raise GraderInputError(f"no LiveBench math grading rule for task {task!r} / subtask {kind!r}", field="task")
