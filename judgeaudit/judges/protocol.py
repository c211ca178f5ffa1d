"""The one protocol every judge follows: a pair in, a distribution over five verdicts out.

``BaseJudge`` declares everything the runner and the audit use of a judge, with defaults:
a ``name``, ``judge_batch(requests) -> judgments``, an ``identity`` (what makes its
verdicts differ, hashed into record keys), a ``batch_size``, whether batches may run in
threads, whether it runs requests concurrently itself (``iter_judgments`` then yields
``(index, judgment)`` as each finishes), an API cost ``estimate``, and its model weights
``lm`` when it has them, and ``notes`` the run states about it. The built-in judges subclass it; ``as_judge`` adapts any other
object with ``name`` and ``judge_batch`` (plugins, tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Protocol, Sequence, runtime_checkable

from judgeaudit.vocabulary import CRITERIA, SWAPPED, VERDICTS, WIN_VALUES

if TYPE_CHECKING:
    from judgeaudit.models.loading import LoadedModel


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
    # The judge wrote disagreeing verdicts outside quotes (see judges.verdicts); read, and counted.
    ambiguous: bool = False
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


class BaseJudge:
    """What the runner uses of a judge. Subclasses set ``name`` and implement ``judge_batch``."""

    name: str = "judge"
    # Requests handed to judge_batch at once.
    batch_size: int = 16
    # Whether the runner may run batches in threads (False: an in-process model or a pure function).
    parallel_batches: bool = True
    # Whether the judge runs requests concurrently itself; iter_judgments then streams results.
    own_concurrency: bool = False
    # Whether estimate() gives requests and cost (API judges).
    priced: bool = False
    # The judge's model weights, when it has them (SOS-Bench ground truth needs them).
    lm: "LoadedModel | None" = None

    @property
    def identity(self) -> dict:
        return {"name": self.name}

    @property
    def template_name(self) -> str:
        return "none"

    @property
    def notes(self) -> list[str]:
        """What the run should state about how this judge reaches a verdict (e.g. a pointwise link)."""
        return []

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        raise NotImplementedError

    def iter_judgments(self, requests: Sequence[JudgeRequest]) -> Iterator[tuple[int, Judgment]]:
        """(index, judgment) as each finishes; by default one batch at a time."""
        return iter_in_chunks(self, requests, max(1, int(self.batch_size)))

    def estimate(self, requests: Sequence[JudgeRequest]) -> dict[str, Any]:
        """Requests and cost a run would need, calling nothing (only for ``priced`` judges)."""
        raise NotImplementedError(f"judge {self.name!r} has no cost estimate")


class BatchJudgeAdapter(BaseJudge):
    """Any object with ``name`` and ``judge_batch`` (and optionally ``batch_size`` and ``identity``)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.name = inner.name
        self.batch_size = int(getattr(inner, "batch_size", BaseJudge.batch_size))
        self._identity = getattr(inner, "identity", None)

    @property
    def identity(self) -> dict:
        return self._identity or {"name": self.name}

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        return self.inner.judge_batch(requests)


def as_judge(obj: Any) -> BaseJudge:
    """``obj`` itself when it is a BaseJudge, else an adapter declaring the defaults."""
    return obj if isinstance(obj, BaseJudge) else BatchJudgeAdapter(obj)


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
    "VERDICTS", "WIN_VALUES", "SWAPPED", "CRITERIA", "JudgeRequest", "Judgment", "Judge", "BaseJudge", "as_judge",
    "point_mass", "normalize", "softmax_logprobs", "win_score", "swap", "argmax_verdict",
]
