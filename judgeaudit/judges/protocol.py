"""The one protocol every judge follows: a pair in, a distribution over five verdicts out.

A judge is any object with a ``name`` and ``judge_batch(requests) -> judgments``.
It may also offer ``iter_judgments(requests)`` yielding ``(index, judgment)`` as each
one finishes (judges with their own concurrency, so results are stored as they land),
an ``identity`` dict (what makes its verdicts differ, hashed into record keys), and a
``batch_size`` (how many requests the runner hands it at once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol, Sequence, runtime_checkable

VERDICTS: tuple[str, ...] = ("A>>B", "A>B", "A=B", "B>A", "B>>A")
# Win score of answer A under each verdict.
WIN_VALUES: dict[str, float] = {"A>>B": 1.0, "A>B": 0.75, "A=B": 0.5, "B>A": 0.25, "B>>A": 0.0}
# The verdict read with A and B exchanged.
SWAPPED: dict[str, str] = {"A>>B": "B>>A", "A>B": "B>A", "A=B": "A=B", "B>A": "A>B", "B>>A": "A>>B"}
CRITERIA: tuple[str, ...] = ("correctness", "completeness", "safety", "conciseness", "style")


@dataclass(frozen=True)
class JudgeRequest:
    prompt: str
    answer_a: str
    answer_b: str
    item: dict | None = None
    # Distinguishes repeated judgments of the same pair (sampling judges, request caches).
    repeat: int = 0


@dataclass
class Judgment:
    probs: dict[str, float] | None
    raw: str
    parsed: bool
    criteria: dict[str, dict[str, float] | None] | None = None
    usage: dict | None = None
    # A jury's judgment also keeps each member's own judgment, by member name.
    members: dict[str, "Judgment"] | None = None

    def __post_init__(self) -> None:
        if (self.probs is None) == self.parsed:
            raise ValueError("Judgment: probs must be None exactly when the output was not parsed")

    @classmethod
    def unparsed(cls, raw: str, usage: dict | None = None) -> "Judgment":
        return cls(probs=None, raw=raw, parsed=False, usage=usage)


@runtime_checkable
class Judge(Protocol):
    name: str

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]: ...


def point_mass(verdict: str) -> dict[str, float]:
    if verdict not in WIN_VALUES:
        raise ValueError(f"unknown verdict {verdict!r}; expected one of {', '.join(VERDICTS)}")
    return {v: (1.0 if v == verdict else 0.0) for v in VERDICTS}


def normalize(weights: Mapping[str, float]) -> dict[str, float]:
    """Probabilities over all five verdicts from non-negative weights on some of them."""
    unknown = set(weights) - set(VERDICTS)
    if unknown:
        raise ValueError(f"unknown verdict label(s) {sorted(unknown)}; expected {', '.join(VERDICTS)}")
    values = {v: float(weights.get(v, 0.0)) for v in VERDICTS}
    if any(not math.isfinite(x) or x < 0 for x in values.values()):
        raise ValueError(f"verdict weights must be finite and non-negative, got {dict(weights)}")
    total = sum(values.values())
    if total <= 0:
        raise ValueError("verdict weights sum to zero")
    return {v: x / total for v, x in values.items()}


def softmax_logprobs(logprobs: Mapping[str, float]) -> dict[str, float]:
    """Normalize log-probabilities over the five verdicts (missing labels get zero)."""
    top = max(logprobs.values())
    return normalize({v: math.exp(lp - top) for v, lp in logprobs.items()})


def win_score(probs: Mapping[str, float]) -> float:
    """Expected win score of answer A."""
    return float(sum(WIN_VALUES[v] * p for v, p in probs.items()))


def swap(probs: Mapping[str, float]) -> dict[str, float]:
    """The same distribution with A and B exchanged."""
    return {SWAPPED[v]: p for v, p in probs.items()}


def argmax_verdict(probs: Mapping[str, float]) -> str:
    return max(VERDICTS, key=lambda v: probs.get(v, 0.0))


def iter_in_chunks(judge: Any, requests: Sequence[JudgeRequest], chunk: int) -> Iterator[tuple[int, Judgment]]:
    """Default streaming for judges that only batch: one chunk at a time."""
    for start in range(0, len(requests), chunk):
        part = list(requests[start:start + chunk])
        out = judge.judge_batch(part)
        if len(out) != len(part):
            raise RuntimeError(f"judge {getattr(judge, 'name', judge)!r} returned {len(out)} judgments for {len(part)} requests")
        for offset, judgment in enumerate(out):
            yield start + offset, judgment


__all__ = [
    "VERDICTS", "WIN_VALUES", "SWAPPED", "CRITERIA", "JudgeRequest", "Judgment", "Judge",
    "point_mass", "normalize", "softmax_logprobs", "win_score", "swap", "argmax_verdict",
]
