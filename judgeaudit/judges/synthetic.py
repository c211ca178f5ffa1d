"""Reference judges whose behaviour is known by construction, to calibrate the statistics.

- ``oracle``: prefers the answer with the higher substance score (key facts right and
  complete, refuses exactly when it should, meets the constraint); blind to style and to
  text aimed at the judge. Needs the request's ``item``.
- ``longer``: prefers the longer answer (characters).
- ``markdown``: prefers the answer with more markdown structure.
- ``position``: prefers answer A with probability ``p`` (default 0.8), drawn per request.
- ``random``: a uniformly random verdict per request.

Draws are deterministic functions of (seed, request, repeat), so reruns agree exactly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable

from judgeaudit.judges.protocol import VERDICTS, BaseJudge, Judgment, JudgeRequest, point_mass
from judgeaudit.probes.features import markdown_marks
from judgeaudit.registry import Registry

Decide = Callable[["SyntheticJudge", JudgeRequest], str]


@dataclass(frozen=True)
class Behaviour:
    description: str  # shown by `judgeaudit judges list`
    decide: Decide


# kind -> behaviour, in the order `judgeaudit judges list` shows them
BEHAVIOURS: Registry[Behaviour] = Registry("synthetic judge")


def behaviour(kind: str, description: str) -> Callable[[Decide], Decide]:
    """Register the decorated ``decide(judge, request) -> verdict`` as synthetic:KIND."""
    def deco(decide: Decide) -> Decide:
        BEHAVIOURS.register(kind, Behaviour(description, decide))
        return decide
    return deco


def _graded(diff: float, strong_at: float, eps: float = 1e-9) -> str:
    """Verdict for A from a signed difference A - B."""
    if abs(diff) <= eps:
        return "A=B"
    strong = abs(diff) >= strong_at
    if diff > 0:
        return "A>>B" if strong else "A>B"
    return "B>>A" if strong else "B>A"


class SyntheticJudge(BaseJudge):
    """One of the reference behaviours above; ``judge_batch`` never fails on well-formed requests."""

    batch_size = 256
    parallel_batches = False  # pure functions: threads would only add overhead

    def __init__(self, kind: str, *, seed: int = 0, p: float = 0.8):
        if kind not in BEHAVIOURS:
            raise ValueError(f"unknown synthetic judge {kind!r}; expected one of {', '.join(BEHAVIOURS)}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"synthetic:position needs 0 <= p <= 1, got {p}")
        self.kind, self.seed, self.p = kind, int(seed), float(p)
        self.name = f"synthetic:{kind}" + (f"?p={self.p:g}" if kind == "position" else "")
        self._decide = BEHAVIOURS[kind].decide

    @property
    def identity(self) -> dict:
        ident = {"name": self.name}
        if self.kind in ("position", "random"):
            ident["seed"] = self.seed
        return ident

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        out = []
        for req in requests:
            verdict = self._decide(self, req)
            out.append(Judgment(probs=point_mass(verdict), raw=f"[[{verdict}]]", parsed=True))
        return out

    def _uniform(self, req: JudgeRequest) -> float:
        blob = json.dumps([self.seed, req.prompt, req.answer_a, req.answer_b, req.repeat], ensure_ascii=False)
        return int.from_bytes(hashlib.sha256(blob.encode("utf-8")).digest()[:8], "big") / 2.0**64


@behaviour("oracle", "prefers right, complete, safe answers; blind to style")
def _oracle(judge: SyntheticJudge, req: JudgeRequest) -> str:
    if req.item is None:
        raise ValueError("synthetic:oracle needs the item (key facts, category, constraint) with each request")
    from judgeaudit.probes.answer_checks import substance_score

    # Certain by construction: any difference in substance is a strong preference.
    diff = substance_score(req.item, req.answer_a) - substance_score(req.item, req.answer_b)
    return _graded(diff, strong_at=1e-9)


@behaviour("longer", "prefers the longer answer")
def _longer(judge: SyntheticJudge, req: JudgeRequest) -> str:
    a, b = len(req.answer_a.strip()), len(req.answer_b.strip())
    if a == b:
        return "A=B"
    # Strong preference once one answer is half as long again as the other.
    return _graded(a - b, 0.5 * min(a, b) + 1e-9)


@behaviour("markdown", "prefers more markdown structure")
def _markdown(judge: SyntheticJudge, req: JudgeRequest) -> str:
    return _graded(markdown_marks(req.answer_a) - markdown_marks(req.answer_b), 3)


@behaviour("position", "prefers answer A with probability p")
def _position(judge: SyntheticJudge, req: JudgeRequest) -> str:
    return "A>>B" if judge._uniform(req) < judge.p else "B>>A"


@behaviour("random", "a uniformly random verdict")
def _random(judge: SyntheticJudge, req: JudgeRequest) -> str:
    return VERDICTS[min(int(judge._uniform(req) * len(VERDICTS)), len(VERDICTS) - 1)]
