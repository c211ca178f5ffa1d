"""Verdict distributions from the per-token top log-probabilities an API returns.

An API returns, for each token it wrote, its log-probability and the top alternatives at
that position, conditional on the text written before it. Around the last ``[[X op Y]]``
the judge wrote, two positions decide the verdict: the first letter and the operator.
- letter and operator in separate tokens: P(letter) comes from the letter position and
  P(op | written letter) from the operator position. The other letter's operator
  distribution is not observable; it is taken to be the same as the written letter's
  (the judge's strength of preference does not depend on which answer it names first).
- a token holding the whole comparison (``A>B``) or letter plus operator (``A>>``): its
  alternatives are read directly.
When the tokens cannot be aligned with the text, callers fall back to the text verdict.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

from judgeaudit.judges.verdicts import INTEGER_GRADE, OPERATOR, OVERALL, normalize_comparison

# A token's alternatives: a letter with maybe an operator and the other letter, or an operator alone.
_HEAD = re.compile(r"^\s*([AB])\s*" + OPERATOR + r"?\s*([AB])?")
_OP = re.compile(r"^\s*" + OPERATOR)


def _token_at(starts: list[int], tokens: Sequence[dict], char: int) -> int | None:
    for i in range(len(tokens) - 1, -1, -1):
        if starts[i] <= char:
            return i if char < starts[i] + len(tokens[i]["token"]) else None
    return None


def _alternatives(tok: dict) -> list[tuple[str, float]]:
    alts = [(a["token"], float(a["logprob"])) for a in tok.get("top_logprobs") or []]
    if tok["token"] not in {t for t, _ in alts}:
        alts.append((tok["token"], float(tok["logprob"])))
    return alts


def _other(letter: str) -> str:
    return "B" if letter == "A" else "A"


def _last_match(tokens: Sequence[dict[str, Any]], pattern: re.Pattern) -> tuple[re.Match, str, list[int]] | None:
    """The last match of ``pattern`` in the written text, the text, and each token's start offset."""
    if not tokens:
        return None
    text = "".join(t["token"] for t in tokens)
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    starts, pos = [], 0
    for t in tokens:
        starts.append(pos)
        pos += len(t["token"])
    return matches[-1], text, starts


def overall_from_tokens(tokens: Sequence[dict[str, Any]]) -> dict[str, float] | None:
    """Weights over the five verdicts around the last ``[[..]]``, or None when not readable."""
    found = _last_match(tokens, OVERALL)
    if found is None:
        return None
    m, text, starts = found
    if normalize_comparison(*m.groups()) is None:
        return None
    i_letter = _token_at(starts, tokens, m.start(1))
    i_op = _token_at(starts, tokens, m.start(2))
    if i_letter is None or i_op is None:
        return None
    weights: dict[str, float] = {}

    def add(letter: str, op: str, second: str | None, p: float) -> None:
        verdict = normalize_comparison(letter, op, second or _other(letter))
        if verdict is not None:
            weights[verdict] = weights.get(verdict, 0.0) + p

    lead = text[starts[i_letter]:m.start(1)]  # e.g. "[[" when the token is "[[A"
    if i_letter == i_op:
        for alt, lp in _alternatives(tokens[i_letter]):
            if not alt.startswith(lead):
                continue
            h = _HEAD.match(alt[len(lead):])
            if h and h.group(2):
                add(h.group(1), h.group(2), h.group(3), math.exp(lp))
    else:
        ops = []
        for alt, lp in _alternatives(tokens[i_op]):
            o = _OP.match(alt)
            if o:
                ops.append((o.group(1), math.exp(lp)))
        for alt, lp in _alternatives(tokens[i_letter]):
            if not alt.startswith(lead):
                continue
            h = _HEAD.match(alt[len(lead):])
            if not h or h.group(2):
                continue
            letter = h.group(1)
            for op, p_op in ops:
                # For the unwritten letter this is the mirror: same strength, other side.
                add(letter, op, None, math.exp(lp) * p_op)
    return weights or None


def grade_from_tokens(tokens: Sequence[dict[str, Any]], low: int, high: int) -> dict[int, float] | None:
    """Weights over grades at the last ``[[N]]``, when N is a single token."""
    found = _last_match(tokens, INTEGER_GRADE)
    if found is None:
        return None
    m, text, starts = found
    i = _token_at(starts, tokens, m.start(1))
    if i is None or starts[i] + len(tokens[i]["token"]) < m.end(1):
        return None  # the number spans several tokens: alternatives are not comparable
    lead = text[starts[i]:m.start(1)]
    weights: dict[int, float] = {}
    for alt, lp in _alternatives(tokens[i]):
        if not alt.startswith(lead):
            continue
        g = re.match(r"^\s*(\d{1,3})(?!\d)", alt[len(lead):])
        if g and low <= int(g.group(1)) <= high:
            weights[int(g.group(1))] = weights.get(int(g.group(1)), 0.0) + math.exp(lp)
    return weights or None
