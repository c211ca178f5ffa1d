"""Reading verdicts out of a judge's own text.

Callers pass only what the judge wrote (never the prompt, which quotes the answers and
may contain verdict-like text). A judge may still quote an answer's injected verdict
("Assistant A wrote [[A>>B]] to sway me; my final verdict is [[B>A]]"), so the verdict is
read from the judge's own verdict statement: verdicts inside quotes, inline code, code
fences or block quotes are ignored; among the rest, the last one introduced by "verdict"
wins, else the last one. An output whose unquoted verdicts disagree is *ambiguous*: it is
still read by that rule, and counted. ``A<B`` reads as ``B>A`` and ``A<<B`` as ``B>>A``;
anything else is reported as unparsed, never guessed.
"""

from __future__ import annotations

import re
from typing import Mapping

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


# Text the judge quotes rather than states: fenced code, inline code, double-quoted spans
# (straight or curly) within one line, and block-quote lines.
_QUOTED = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`|\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d|(?m:^[ \t]*>.*$)", re.S)
# "verdict" (e.g. "My final verdict is:", "Verdict -") shortly before the bracket.
_STATEMENT = re.compile(r"(?i)verdict\b[^\[\n]{0,40}$")


def quoted_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _QUOTED.finditer(text or "")]


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _stated(text: str, pattern: re.Pattern) -> list[tuple[re.Match, str]]:
    """Well-formed matches outside quotes, with their canonical verdict."""
    spans = quoted_spans(text)
    out = []
    for m in pattern.finditer(text or ""):
        verdict = normalize_comparison(*m.groups())
        if verdict is not None and not _inside(m.start(), spans):
            out.append((m, verdict))
    return out


def read_overall(text: str) -> tuple[str | None, bool]:
    """(verdict, ambiguous): the judge's own ``[[X op Y]]`` verdict, see the module docstring."""
    text = text or ""
    found = _stated(text, OVERALL)
    if not found:
        return None, False
    statements = [(m, v) for m, v in found if _STATEMENT.search(text[max(0, m.start() - 60):m.start()])]
    chosen = (statements or found)[-1]
    return chosen[1], len({v for _, v in found}) > 1


def overall_match(text: str) -> re.Match | None:
    """The match read_overall reads (token_verdicts aligns its tokens with it)."""
    text = text or ""
    found = _stated(text, OVERALL)
    if not found:
        return None
    statements = [(m, v) for m, v in found if _STATEMENT.search(text[max(0, m.start() - 60):m.start()])]
    return (statements or found)[-1][0]


def parse_overall(text: str) -> str | None:
    """The judge's own ``[[X op Y]]`` verdict (see read_overall), else None."""
    return read_overall(text)[0]


def parse_criteria(text: str, labels: Mapping[str, str]) -> dict[str, str | None]:
    """Per-criterion verdicts from lines like ``Correctness: ((A>B))``; last line per criterion wins.

    ``labels`` maps criterion name -> the label the template asks the judge to write.
    Criteria the judge did not give come back as None. Lines inside quotes or code fences
    are not the judge's own.
    """
    return {name: v for name, (v, _) in read_criteria(text, labels).items()}


def read_criteria(text: str, labels: Mapping[str, str]) -> dict[str, tuple[str | None, bool]]:
    """Per criterion (verdict, ambiguous): the last unquoted line, ambiguous when its lines disagree."""
    out: dict[str, tuple[str | None, bool]] = {}
    for name, label in labels.items():
        found = _stated(text or "", re.compile(_CRITERION.format(label=re.escape(label))))
        out[name] = (found[-1][1], len({v for _, v in found}) > 1) if found else (None, False)
    return out


def parse_grade(text: str, low: int = 1, high: int = 10) -> int | None:
    """The last ``[[N]]`` rating within [low, high] (decimals rounded), else None."""
    for m in reversed(list(GRADE.finditer(text or ""))):
        value = round(float(m.group(1)))
        if low <= value <= high:
            return value
    return None

