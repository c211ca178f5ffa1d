"""LiveBench math: competition multiple choice (AMC/SMC), AIME integers, olympiad proof
gap-filling (IMO/USAMO), and AMPS_Hard symbolic answers."""

from __future__ import annotations

import re

from judgeaudit.graders import GraderInputError
from judgeaudit.graders.livebench.answers import (
    boxed_plain, levenshtein, livebench_boxed, livebench_last_boxed, livebench_unbox, solution_tag_plain)


def choice_values(question: str) -> dict[str, str]:
    """Map each letter of an AMC-style choice list (\\textbf{(A) }value\\qquad...) to its value."""
    found = re.findall(r"\\textbf\{\(([A-E])\)\s?\}(.*?)(?:\\qquad|\$)", question)
    return {letter: value.strip().strip("$").strip("~").strip() for letter, value in found}


def multiple_choice_score(ground_truth: str, answer: str, question: str) -> float:
    """AMC/SMC, LiveBench's rules in order: a <solution> of one repeated letter; the letter
    four times in a row (the prompt asks for it five times); a boxed letter; the choice's
    value near the end; finally the last line, as the letter alone (asterisks dropped) or
    as the text inside its first pair of parentheses."""
    gt = ground_truth
    if len(gt) != 1 or gt not in "ABCDE":
        raise GraderInputError(f"a competition answer must be one letter A-E, got {ground_truth!r}", field="ground_truth")
    tags = solution_tag_plain(answer)
    if tags and len(set(tags[-1])) == 1 and tags[-1][0].lower() == gt.lower():
        return 1.0
    if gt * 4 in answer:
        return 1.0
    boxed = livebench_boxed(answer)
    if boxed is not None:
        letter = boxed.replace("\\text{", "").replace("}", "").replace("\\", "").lower()
        if letter in ("a", "b", "c", "d", "e") and letter == gt.lower():
            return 1.0
    value = choice_values(question).get(gt) or "FAILURE"   # LiveBench's placeholder for a missing value
    if value in answer[-(20 + len(value)):]:
        return 1.0
    last_line = answer.strip().split("\n")[-1]
    if last_line.strip().replace("*", "").lower() == gt.lower():
        return 1.0
    if "(" in last_line and ")" in last_line and last_line.split("(")[1].split(")")[0].lower() == gt.lower():
        return 1.0
    return 0.0


def integer_answer_score(ground_truth: str, answer: str) -> float:
    """AIME: a <solution> of one repeated character equal to the answer, or the answer
    anywhere in the last 50 characters."""
    tags = solution_tag_plain(answer)
    if tags and len(set(tags[-1])) == 1 and tags[-1][0].lower() == ground_truth.lower():
        return 1.0
    return float(ground_truth in answer[-50:])


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


# LiveBench's AMPS_Hard rule: the answer has its constants of integration and LaTeX sizing
# removed and ALL its newlines deleted (so "the last line" is the whole answer); the last
# box (else the last $...$, right of any "=") is normalized and compared with the ground
# truth symbolically: equal when the difference simplifies to 0 or to less than 0.001 in
# absolute value. Where sympy is inconclusive LiveBench asks an LLM; no LLM is called
# here, so such an answer scores 0 (documented deviation).
_ANSWER_EDITS = (("+C", ""), ("+ C", ""), ("+ c", ""), ("+c", ""), ("\\\\fbox{", "\\\\boxed{"),
                 ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\left", ""), ("\\right", ""),
                 ("\\bigl", ""), ("\\bigr", ""), ("\\Bigl", ""), ("\\Bigr", ""), ("\\,", ""), ("\\;", ""),
                 ("\n", ""), ("\\cdot", "*"))
_TRUTH_EDITS = (("\\left", ""), ("\\right", ""), (" ^", "^"), ("\\ ", "*"))
AMPS_TOLERANCE = 0.001


def _edit(text: str, edits) -> str:
    for before, after in edits:
        text = text.replace(before, after)
    return text


def amps_normalize(answer: str) -> str:
    """Minerva's normalization without its unit and word lists, as LiveBench uses it here."""
    answer = answer.split("=")[-1]
    answer = re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\\3$", answer)
    answer = re.sub(r"(\\text\{)(.*?)(\})", "\\2", answer)
    answer = re.sub(r"(\\textbf\{)(.*?)(\})", "\\2", answer)
    answer = re.sub(r"(\\overline\{)(.*?)(\})", "\\2", answer)
    answer = re.sub(r"(\\boxed\{)(.*)(\})", "\\2", answer)
    answer = re.sub(r"(frac)([^{])(.)", "frac{\\2}{\\3}", answer)
    answer = re.sub(r"(sqrt)([^{\[])", "sqrt{\\2}", answer)
    answer = answer.replace("$", "")
    if answer.replace(",", "").isdigit():
        answer = answer.replace(",", "")
    return answer


def symbolic_answer(answer: str) -> str | None:
    """AMPS_Hard: the normalized answer LiveBench reads, or None when there is none."""
    text = _edit(answer, _ANSWER_EDITS)
    boxed = livebench_last_boxed(text)
    if boxed:
        inner = livebench_unbox(boxed)
        return amps_normalize(inner) if inner is not None else None
    last_line = text.split("\n")[-1]   # newlines are gone: the whole answer
    if last_line.count("$") < 2:
        return None
    close = last_line.rfind("$")
    if last_line[close - 1] == "$":
        close -= 1
    open_ = last_line.rfind("$", 0, close)
    expr = last_line[open_ + 1:close]
    if "=" in expr:
        expr = expr.split("=")[-1].strip()
    elif "\\quad \\text{or} \\quad" in expr:
        expr = expr.split("\\quad \\text{or} \\quad")[-1].strip()
    return amps_normalize(expr)


def _parse_all(text: str) -> list:
    """Every sympy reading of `text`: sympy's LaTeX parser, then latex2sympy2_extended
    (each also with doubled backslashes halved)."""
    from sympy.parsing.latex import parse_latex

    from latex2sympy2_extended import latex2sympy

    for candidate in (text, text.replace("\\\\", "\\")):
        for parser in (parse_latex, latex2sympy):
            try:
                return [parser(candidate)]
            except Exception:
                continue
    return []


def _symbolic_check(truth: str, candidate: str) -> bool:
    """Runs in the guarded worker: equal when the difference simplifies to 0 or to an
    absolute value below AMPS_TOLERANCE."""
    import sympy

    for a in _parse_all(truth):
        for b in _parse_all(candidate):
            try:
                diff = sympy.simplify(a - b)
                if diff == 0 or bool(sympy.Abs(diff) < AMPS_TOLERANCE):
                    return True
            except Exception:  # incomparable readings: try the next pair
                continue
    return False


def symbolic_equal(truth: str, candidate: str) -> bool:
    """Symbolic equality under the hard time limit of every equivalence check (a timeout is
    not equal)."""
    from judgeaudit.graders.math_answers import DEFAULT_TIMEOUT_S, _guarded

    return bool(_guarded("_symbolic_check", truth, candidate, timeout_s=DEFAULT_TIMEOUT_S,
                         module=__name__))


def amps_hard_score(ground_truth: str, answer: str) -> float:
    truth = _edit(ground_truth, _TRUTH_EDITS)
    boxed = livebench_last_boxed(_edit(answer, _ANSWER_EDITS))
    if boxed and livebench_unbox(boxed) is None:
        return 0.0   # a box LiveBench cannot unbox is an evaluation error there, scored 0
    candidate = symbolic_answer(answer)
    if candidate is None:
        tail = _edit(answer, _ANSWER_EDITS)
        tail = tail[:-1] if tail.endswith(".") else tail
        return float(bool(truth) and tail[-len(truth):] == truth)
    return float(symbolic_equal(truth, candidate))


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
