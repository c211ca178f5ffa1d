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
import re
from typing import Callable

from judgeaudit.judges.protocol import VERDICTS, BaseJudge, Judgment, JudgeRequest, point_mass
from judgeaudit.probes.features import markdown_marks

# kind -> what it does (shown by `judgeaudit judges list`)
KINDS: dict[str, str] = {
    "oracle": "prefers right, complete, safe answers; blind to style",
    "longer": "prefers the longer answer",
    "markdown": "prefers more markdown structure",
    "position": "prefers answer A with probability p",
    "random": "a uniformly random verdict",
}

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
        if kind not in KINDS:
            raise ValueError(f"unknown synthetic judge {kind!r}; expected one of {', '.join(KINDS)}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"synthetic:position needs 0 <= p <= 1, got {p}")
        self.kind, self.seed, self.p = kind, int(seed), float(p)
        self.name = f"synthetic:{kind}" + (f"?p={self.p:g}" if kind == "position" else "")
        self._decide: Callable[[JudgeRequest], str] = getattr(self, f"_{kind}")

    @property
    def identity(self) -> dict:
        ident = {"name": self.name}
        if self.kind in ("position", "random"):
            ident["seed"] = self.seed
        return ident

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        out = []
        for req in requests:
            verdict = self._decide(req)
            out.append(Judgment(probs=point_mass(verdict), raw=f"[[{verdict}]]", parsed=True))
        return out

    # -- behaviours -------------------------------------------------------------------
    def _uniform(self, req: JudgeRequest) -> float:
        blob = json.dumps([self.seed, req.prompt, req.answer_a, req.answer_b, req.repeat], ensure_ascii=False)
        return int.from_bytes(hashlib.sha256(blob.encode("utf-8")).digest()[:8], "big") / 2.0**64

    def _oracle(self, req: JudgeRequest) -> str:
        if req.item is None:
            raise ValueError("synthetic:oracle needs the item (key facts, category, constraint) with each request")
        from judgeaudit.probes.answer_checks import substance_score

        # Certain by construction: any difference in substance is a strong preference.
        diff = substance_score(req.item, req.answer_a) - substance_score(req.item, req.answer_b)
        return _graded(diff, strong_at=1e-9)

    def _longer(self, req: JudgeRequest) -> str:
        a, b = len(req.answer_a.strip()), len(req.answer_b.strip())
        if a == b:
            return "A=B"
        # Strong preference once one answer is half as long again as the other.
        return _graded(a - b, 0.5 * min(a, b) + 1e-9)

    def _markdown(self, req: JudgeRequest) -> str:
        return _graded(markdown_marks(req.answer_a) - markdown_marks(req.answer_b), 3)

    def _position(self, req: JudgeRequest) -> str:
        return "A>>B" if self._uniform(req) < self.p else "B>>A"

    def _random(self, req: JudgeRequest) -> str:
        return VERDICTS[min(int(self._uniform(req) * len(VERDICTS)), len(VERDICTS) - 1)]
