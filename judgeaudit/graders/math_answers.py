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
from typing import Any, Mapping, Sequence

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
# The check functions below run inside the guarded worker (its main thread), so
# math-verify's own SIGALRM timeouts work there exactly as they do in the reference.

DEFAULT_TIMEOUT_S = 10.0


def _math_verify_check(gold_text: str, generation: str) -> bool:
    """The leaderboard's exact_match: gold from the boxed answer of the solution, the
    prediction from anywhere in the output, compared by math-verify with its defaults."""
    from math_verify import LatexExtractionConfig, parse, verify

    pred = parse(generation)
    gold = parse(gold_text, extraction_config=[LatexExtractionConfig()])
    return bool(verify(gold, pred))


class _Alarm:
    """SIGALRM after `seconds` (the reference gives sympy one second per comparison)."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds

    def _raise(self, signum, frame):
        raise TimeoutError("sympy comparison timed out")

    def __enter__(self):
        import signal

        signal.signal(signal.SIGALRM, self._raise)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        import signal

        signal.alarm(0)


def _sympy_check(a: str, b: str) -> bool:
    """Both normalized answers parse with sympy's LaTeX parser (antlr4 4.11) and their
    difference simplifies to zero, within one second; anything else is not equal."""
    import sympy
    from sympy.parsing.latex import parse_latex

    try:
        with _Alarm(1):
            diff = parse_latex(a) - parse_latex(b)
            return bool(sympy.simplify(diff) == 0)
    except ImportError:  # the antlr4 runtime is missing or the wrong version: say so
        raise
    except Exception:  # unparsable, incomparable or too slow: not equal
        return False


def _minerva_check(generation: str, gold_answer: str) -> bool:
    pred = normalize_answer(final_answer_statement(generation))
    if pred == INVALID:
        return False
    gold = normalize_answer(gold_answer)
    return pred.strip() == gold.strip() or _sympy_check(pred, gold)


def warm_up() -> None:
    """One check of each kind, untimed: loads the parsers and everything sympy imports
    lazily (numpy, scipy), so that no per-check alarm can fire inside an import."""
    _math_verify_check("$\\boxed{\\frac{1}{2}}$", "$0.5$")
    import sympy
    from sympy.parsing.latex import parse_latex

    sympy.simplify(parse_latex("\\frac{1}{2}") - parse_latex("0.5"))


def _guarded(target: str, *args: str, timeout_s: float, module: str = __name__) -> bool | None:
    """The check's verdict, or None when it ran out of time (the child is then replaced)."""
    from judgeaudit.graders.guarded import CheckFailed, CheckTimeout, shared_worker

    try:
        return bool(shared_worker().call(f"{module}:{target}", *args, timeout_s=timeout_s))
    except CheckTimeout:
        return None
    except CheckFailed as exc:
        if exc.args and str(exc.args[0]).startswith(("ImportError", "ModuleNotFoundError")):
            raise RuntimeError(f"MATH grading needs its parser runtime: {exc.args[0]}") from None
        return False  # the check raised or its process died: as the reference, not equal


def math_verify_equal(gold_text: str, generation: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool | None:
    """exact_match for one output, under a hard time limit; None if it timed out."""
    return _guarded("_math_verify_check", gold_text, generation, timeout_s=timeout_s)


def minerva_equal(generation: str, gold_answer: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool | None:
    """exact_match_original for one output, under a hard time limit; None if it timed out."""
    if final_answer_statement(generation) == INVALID:
        return False
    return _guarded("_minerva_check", generation, gold_answer, timeout_s=timeout_s)


def sympy_equal(a: str, b: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """Normalized LaTeX answers equal by sympy's parser and simplify (False on a timeout)."""
    return bool(_guarded("_sympy_check", a, b, timeout_s=timeout_s))


def reference_gold(solution: str) -> str:
    """The gold answer as the leaderboard reads it: the last `\\boxed{...}` (or `\\boxed x`)
    of the solution; a last `\\fbox{...}` or unbalanced braces give INVALID."""
    boxed = last_boxed(solution)
    if boxed is None or not boxed.startswith("\\boxed"):
        return INVALID
    return unbox(boxed) or INVALID


class MathHardGrader:
    """MATH Lvl 5: the document needs `solution` (with a boxed answer); `answer` is optional.

    Each equivalence check has `timeout_s` of wall time; an output that runs out of time
    scores 0 on that metric and is counted in `equivalence_timeouts`."""

    name = "math_hard"
    metrics = ["exact_match"]

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    def score(self, doc: Mapping[str, Any], generation: str) -> dict[str, float]:
        from judgeaudit.graders import require

        solution = str(require(doc, "solution"))
        gold = doc.get("answer") or reference_gold(solution)
        em = math_verify_equal(solution, generation, timeout_s=self.timeout_s)
        original = minerva_equal(generation, gold, timeout_s=self.timeout_s)
        timeouts = (em is None) + (original is None)
        return {"exact_match": float(bool(em)), "exact_match_original": float(bool(original)),
                "equivalence_timeouts": float(timeouts), "score": float(bool(em))}

    def aggregate(self, per_doc: Sequence[Mapping[str, float]]) -> dict[str, float]:
        keys = ("exact_match", "exact_match_original", "score")
        if not per_doc:
            return {k: float("nan") for k in keys}
        out = {k: sum(float(d.get(k, 0.0)) for d in per_doc) / len(per_doc) for k in keys}
        out["equivalence_timeouts"] = float(sum(float(d.get("equivalence_timeouts", 0.0)) for d in per_doc))
        return out
