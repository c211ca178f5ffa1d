"""Reading verdicts out of a judge's own text.

Callers pass only what the judge wrote (never the prompt, which quotes the answers and
may contain verdict-like text). The last verdict wins, ``A<B`` reads as ``B>A`` and
``A<<B`` as ``B>>A``; anything else is reported as unparsed, never guessed.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

# The verdict patterns, defined once for reading text (here) and tokens (token_verdicts).
# A comparison between the two answers: letter, operator, the other letter.
OPERATOR = r"(>>|<<|>|<|==|=)"
_CMP = r"\s*([AB])\s*" + OPERATOR + r"\s*([AB])\s*"
OVERALL = re.compile(r"\[\[" + _CMP + r"\]\]")
_CRITERION = r"(?im)^[\s*#_-]*{label}[\s*_]*:[\s*_]*\(\(" + _CMP + r"\)\)"
GRADE = re.compile(r"\[\[\s*(\d{1,3}(?:\.\d+)?)\s*\]\]")
# Token log-probs only exist for whole-number grades (one token per grade).
INTEGER_GRADE = re.compile(r"\[\[\s*(\d{1,3})\s*\]\]")


def normalize_comparison(left: str, op: str, right: str) -> str | None:
    """Map e.g. ('A', '<', 'B') -> 'B>A'; None when both sides name the same answer."""
    left, right = left.upper(), right.upper()
    if left == right:
        return None
    if op in ("=", "=="):
        return "A=B"
    if op in ("<", "<<"):  # X<Y means Y is better
        left, right, op = right, left, op.replace("<", ">")
    return f"{left}{op}{right}"


def parse_comparison(text: str) -> str | None:
    """A bare comparison such as 'A<B' or ' B >> A ' -> canonical verdict, else None."""
    m = re.fullmatch(_CMP, text or "")
    return normalize_comparison(*m.groups()) if m else None


def parse_overall(text: str) -> str | None:
    """The last well-formed ``[[X op Y]]`` verdict in the judge's output."""
    for m in reversed(list(OVERALL.finditer(text or ""))):
        verdict = normalize_comparison(*m.groups())
        if verdict is not None:
            return verdict
    return None


def parse_criteria(text: str, labels: Mapping[str, str]) -> dict[str, str | None]:
    """Per-criterion verdicts from lines like ``Correctness: ((A>B))``; last line per criterion wins.

    ``labels`` maps criterion name -> the label the template asks the judge to write.
    Criteria the judge did not give come back as None.
    """
    out: dict[str, str | None] = {}
    for name, label in labels.items():
        pattern = re.compile(_CRITERION.format(label=re.escape(label)))
        verdict = None
        for m in pattern.finditer(text or ""):
            verdict = normalize_comparison(*m.groups()) or verdict
        out[name] = verdict
    return out


def parse_grade(text: str, low: int = 1, high: int = 10) -> int | None:
    """The last ``[[N]]`` rating within [low, high] (decimals rounded), else None."""
    for m in reversed(list(GRADE.finditer(text or ""))):
        value = round(float(m.group(1)))
        if low <= value <= high:
            return value
    return None


def count_unparsed(judgments: Iterable) -> int:
    return sum(1 for j in judgments if not j.parsed)
