"""MATH answers: extraction, Minerva-style normalization, equivalence, and the MATH Lvl 5 grader.

`exact_match` follows the Open LLM Leaderboard v2 (`leaderboard_math_hard`, version 3):
the gold answer is read from the boxed expression of the reference solution and the
model's answer from anywhere in its output by `math-verify`, which decides equivalence
symbolically. `exact_match_original` is the earlier Minerva rule: take the text between
"Final Answer: The final answer is" and "I hope it is correct.", normalize both answers
(Lewkowycz et al. 2022, appendix D) and compare them as strings, then symbolically.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Mapping

INVALID = "[invalidanswer]"


# ---- boxed answers ----------------------------------------------------------------------

def last_boxed(text: str) -> str | None:
    """The last `\\boxed{...}` (or `\\fbox{...}`) group with balanced braces, or None."""
    if "\\boxed " in text:  # "\boxed 5" without braces runs to the next "$"
        return "\\boxed " + text.split("\\boxed ")[-1].split("$")[0]
    start = text.rfind("\\boxed")
    if start < 0:
        start = text.rfind("\\fbox")
        if start < 0:
            return None
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return None


def unbox(boxed: str | None) -> str | None:
    """The content of a `\\boxed{...}`/`\\fbox{...}`/`\\boxed ...` string, or None."""
    if boxed is None:
        return None
    if boxed.startswith("\\boxed "):
        return boxed[len("\\boxed "):]
    for left in ("\\boxed{", "\\fbox{"):
        if boxed.startswith(left) and boxed.endswith("}"):
            return boxed[len(left):-1]
    return None


def boxed_answer(text: str) -> str | None:
    return unbox(last_boxed(text))


# ---- Minerva normalization --------------------------------------------------------------

_SUBSTITUTIONS = [
    ("an ", ""), ("a ", ""), (".$", "$"), ("\\$", ""), (r"\ ", ""), (" ", ""), ("mbox", "text"),
    (",\\text{and}", ","), ("\\text{and}", ","), ("\\text{m}", "\\text{}"),
]
_REMOVED = [
    "square", "ways", "integers", "dollars", "mph", "inches", "ft", "hours", "km", "units", "\\ldots", "sue",
    "points", "feet", "minutes", "digits", "cents", "degrees", "cm", "gm", "pounds", "meters", "meals", "edges",
    "students", "childrentickets", "multiples", "\\text{s}", "\\text{.}", "\\text{\ns}", "\\text{}^2",
    "\\text{}^3", "\\text{\n}", "\\text{}", r"\mathrm{th}", r"^\circ", r"^{\circ}", r"\;", r",\!", "{,}", '"',
    "\\dots",
]


def normalize_answer(answer: str) -> str:
    """Normalize a final answer: drop units and words, unwrap text/box markup, canonical fractions."""
    answer = answer.split("=")[-1]
    for before, after in _SUBSTITUTIONS:
        answer = answer.replace(before, after)
    for expr in _REMOVED:
        answer = answer.replace(expr, "")
    answer = re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\\3$", answer)
    answer = re.sub(r"(\\text\{)(.*?)(\})", "\\2", answer)
    answer = re.sub(r"(\\textbf\{)(.*?)(\})", "\\2", answer)
    answer = re.sub(r"(\\overline\{)(.*?)(\})", "\\2", answer)
    answer = re.sub(r"(\\boxed\{)(.*)(\})", "\\2", answer)
    answer = re.sub(r"(frac)([^{])(.)", "frac{\\2}{\\3}", answer)   # \frac12 -> \frac{1}{2}
    answer = re.sub(r"(sqrt)([^{])", "sqrt{\\2}", answer)           # \sqrt2 -> \sqrt{2}
    answer = answer.replace("$", "")
    if answer.replace(",", "").isdigit():
        answer = answer.replace(",", "")                             # 100,000 -> 100000
    return answer


_FINAL = re.compile(r"Final Answer: The final answer is(.*?). I hope it is correct.")


def final_answer_statement(generation: str) -> str:
    """The answer in "Final Answer: The final answer is X. I hope it is correct.", or INVALID."""
    match = _FINAL.search(generation + "I hope it is correct.")
    return match.group(1).strip() if match else INVALID


# ---- equivalence ------------------------------------------------------------------------

def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def math_verify_equal(gold_text: str, generation: str) -> bool:
    """math-verify: gold from the boxed/LaTeX answer in `gold_text`, prediction from `generation`."""
    from math_verify import LatexExtractionConfig, parse, verify

    # math-verify's timeouts use SIGALRM, which only the main thread may set.
    timeout = 5 if _in_main_thread() else None
    gold = parse(gold_text, extraction_config=[LatexExtractionConfig()], parsing_timeout=timeout)
    pred = parse(generation, parsing_timeout=timeout)
    if not gold or not pred:
        return False
    return bool(verify(gold, pred, timeout_seconds=timeout))


def sympy_equal(a: str, b: str) -> bool:
    """Both normalized LaTeX strings parse and their difference simplifies to zero."""
    try:
        from latex2sympy2_extended import latex2sympy
        import sympy
    except ImportError:  # math-verify brings latex2sympy2_extended; without it, strings only
        return False
    try:
        diff = latex2sympy(a) - latex2sympy(b)
        return bool(sympy.simplify(diff) == 0)
    except Exception:  # unparsable or incomparable expressions are simply not equal
        return False


def minerva_equal(generation: str, gold_answer: str) -> bool:
    pred = final_answer_statement(generation)
    if pred == INVALID:
        return False
    pred, gold = normalize_answer(pred).strip(), normalize_answer(gold_answer).strip()
    return pred == gold or sympy_equal(pred, gold)


class MathHardGrader:
    """MATH Lvl 5: the document needs `solution` (with a boxed answer); `answer` is optional."""

    name = "math_hard"
    metrics = ["exact_match"]

    def score(self, doc: Mapping[str, Any], generation: str) -> dict[str, float]:
        from judgeaudit.graders import require

        solution = str(require(doc, "solution"))
        gold = doc.get("answer") or boxed_answer(solution) or INVALID
        em = math_verify_equal(solution, generation)
        try:
            original = minerva_equal(generation, gold)
        except Exception:  # a pathological answer string must not abort the run
            original = False
        return {"exact_match": float(em), "exact_match_original": float(original), "score": float(em)}
