"""Planted plugin judges for the arena tests (loaded as `tests/data/arena/judges.py:NAME`).

- `longer`: prefers the answer with more words (strong once one is half as long again);
- `oracle`: prefers the answer stating more of the question's key facts (facts.json),
  blind to length and markdown; strong when two or more facts apart.
"""

from __future__ import annotations

import json
from pathlib import Path

_FACTS = json.loads((Path(__file__).parent / "facts.json").read_text(encoding="utf-8"))


def _graded(diff: float, strong_at: float) -> str:
    if diff == 0:
        return "A=B"
    strong = abs(diff) >= strong_at
    if diff > 0:
        return "A>>B" if strong else "A>B"
    return "B>>A" if strong else "B>A"


class LongerJudge:
    name = "planted-longer"

    def judge_pair(self, prompt: str, answer_a: str, answer_b: str) -> str:
        la, lb = len(answer_a.split()), len(answer_b.split())
        return _graded(la - lb, 0.5 * min(la, lb) + 1e-9)


class OracleJudge:
    name = "planted-oracle"

    def judge_pair(self, prompt: str, answer_a: str, answer_b: str) -> str:
        facts = _FACTS[prompt]

        def stated(text: str) -> int:
            low = text.lower()
            return sum(f.split(" is ", 1)[1].lower() in low for f in facts)

        return _graded(stated(answer_a) - stated(answer_b), 2)


longer = LongerJudge
oracle = OracleJudge
