"""Several judges as one: ``jury:SPEC1,SPEC2,...[:vote=mean|majority]``.

Grammar (members may contain ':' and '?', as in ``synthetic:position?p=0.8`` or
``module:attr``, but not ','):

    jury-spec := "jury:" member ("," member)+ [":vote=" ("mean" | "majority")]

The optional ``:vote=`` suffix is taken off the end first; the rest is split on commas
and each member is stripped of surrounding spaces. A jury needs at least two members, none
empty, none itself a jury, no spec twice. A bad spec is one error line naming what is wrong.

Every member judges every pair. The jury's verdict distribution combines the members':

- ``mean`` (default): the mean of the members' distributions;
- ``majority``: each member votes for its most probable verdict (a member whose top
  probability is shared by several verdicts splits its vote equally among them); the jury's
  distribution is uniform over the verdicts with the most votes.

Both rules are symmetric in A and B, so combining adds no position bias. A member that
cannot give a verdict (unparsed) is left out of that judgment's combination; the jury's
judgment is unparsed only when no member gave one. Each judgment keeps every member's own
distribution (``Judgment.members``), so the run reports each member's indices computed
from the same pairs with the same statistics.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from judgeaudit.errors import JudgeauditError
from judgeaudit.judges.protocol import VERDICTS, BaseJudge, Judgment, JudgeRequest, as_judge, normalize

VOTES = ("mean", "majority")
PREFIX = "jury:"
GRAMMAR = "jury:SPEC1,SPEC2[,...][:vote=mean|majority]"
_VOTE_SUFFIX = re.compile(r":vote=([^,:]*)$")


class JurySpecError(JudgeauditError):
    """A jury spec that cannot be read."""


@dataclass(frozen=True)
class JurySpec:
    members: tuple[str, ...]
    vote: str = "mean"


def parse_jury_spec(spec: str) -> JurySpec:
    """The members and vote of a jury spec (grammar in the module docstring)."""
    if not spec.startswith(PREFIX):
        raise JurySpecError(f"jury spec {spec!r}: must start with '{PREFIX}'; expected {GRAMMAR}")
    body, vote = spec[len(PREFIX):], "mean"
    found = _VOTE_SUFFIX.search(body)
    if found:
        vote, body = found.group(1).strip(), body[:found.start()]
        if vote not in VOTES:
            raise JurySpecError(f"jury spec {spec!r}: unknown vote {vote!r}; use vote=mean or vote=majority")
    if not body.strip():
        raise JurySpecError(f"jury spec {spec!r}: names no members; expected {GRAMMAR}")
    members = [m.strip() for m in body.split(",")]
    for i, member in enumerate(members, start=1):
        if not member:
            raise JurySpecError(f"jury spec {spec!r}: member {i} is empty (two commas, or a comma at an end)")
        if member.startswith(PREFIX):
            raise JurySpecError(f"jury spec {spec!r}: member {i} is itself a jury; juries do not nest")
        if ":vote=" in member:
            raise JurySpecError(f"jury spec {spec!r}: member {i} ({member!r}) carries ':vote='; the vote goes once, "
                                f"at the end: {GRAMMAR}")
    if len(members) < 2:
        raise JurySpecError(f"jury spec {spec!r}: a jury needs at least two members; expected {GRAMMAR}")
    repeated = sorted({m for m in members if members.count(m) > 1})
    if repeated:
        raise JurySpecError(f"jury spec {spec!r}: member {repeated[0]!r} appears more than once")
    return JurySpec(tuple(members), vote)


def combine_mean(dists: Sequence[dict[str, float]]) -> dict[str, float]:
    return normalize({v: sum(d.get(v, 0.0) for d in dists) / len(dists) for v in VERDICTS})


def combine_majority(dists: Sequence[dict[str, float]]) -> dict[str, float]:
    votes = {v: 0.0 for v in VERDICTS}
    for d in dists:
        top = max(d.values())
        winners = [v for v in VERDICTS if math.isclose(d.get(v, 0.0), top, rel_tol=1e-9, abs_tol=1e-12)]
        for v in winners:
            votes[v] += 1.0 / len(winners)
    most = max(votes.values())
    return normalize({v: 1.0 for v, n in votes.items() if math.isclose(n, most, rel_tol=1e-9, abs_tol=1e-12)})


COMBINE = {"mean": combine_mean, "majority": combine_majority}


def _member_judgments(member: BaseJudge, requests: list[JudgeRequest]) -> list[Judgment]:
    """All of one member's judgments, in request order, through its own batching or streaming."""
    got: dict[int, Judgment] = dict(member.iter_judgments(requests))
    if len(got) != len(requests):
        raise RuntimeError(f"jury member {member.name!r} returned {len(got)} judgments for {len(requests)} requests")
    return [got[i] for i in range(len(requests))]


def _sum_usage(usages: Sequence[dict | None]) -> dict | None:
    present = [u for u in usages if u]
    if not present:
        return None
    total: dict[str, Any] = {}
    for u in present:
        for k, v in u.items():
            if isinstance(v, bool):
                continue
            if isinstance(v, (int, float)):
                total[k] = total.get(k, 0) + v
    total["cached"] = all(bool(u.get("cached")) for u in present)
    return total


class JuryJudge(BaseJudge):
    # Members run one after another; each uses its own batching and concurrency.
    parallel_batches = False

    def __init__(self, members: Sequence[Any], vote: str = "mean"):
        if vote not in VOTES:
            raise JurySpecError(f"jury: unknown vote {vote!r}; use vote=mean or vote=majority")
        if len(members) < 2:
            raise JurySpecError("jury: needs at least two members")
        names = [m.name for m in members]
        if len(set(names)) != len(names):
            raise JurySpecError(f"jury: two members share a name ({', '.join(names)}); their results would mix")
        self.members = [as_judge(m) for m in members]
        self.vote = vote
        self.name = PREFIX + ",".join(names) + (f":vote={vote}" if vote != "mean" else "")
        # The smallest member batch: records are stored (and a run can resume) at that grain.
        self.batch_size = min(int(m.batch_size) for m in self.members)
        self._combine = COMBINE[vote]

    @property
    def identity(self) -> dict:
        return {"name": self.name, "kind": "jury", "vote": self.vote,
                "members": [m.identity for m in self.members]}

    @property
    def notes(self) -> list[str]:
        rule = ("the mean of the members' verdict distributions" if self.vote == "mean" else
                "uniform over the verdicts most members rate most probable")
        out = [f"jury of {len(self.members)} ({', '.join(m.name for m in self.members)}): verdict = {rule}; "
               f"a member without a verdict is left out of that judgment; each member's own indices are "
               f"in results.json 'members'"]
        for m in self.members:
            out += [f"{m.name}: {n}" for n in m.notes]
        return out

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        if not requests:
            return []
        per_member = [_member_judgments(m, requests) for m in self.members]
        out = []
        for k in range(len(requests)):
            own = {m.name: per_member[i][k] for i, m in enumerate(self.members)}
            parsed = [j.probs for j in own.values() if j.parsed and j.probs is not None]
            usage = _sum_usage([j.usage for j in own.values()])
            raw = json.dumps({name: (max(VERDICTS, key=j.probs.get) if j.parsed and j.probs else None)
                              for name, j in own.items()})
            if not parsed:
                out.append(Judgment(probs=None, raw=raw, parsed=False, usage=usage, members=own))
            else:
                out.append(Judgment(probs=self._combine(parsed), raw=raw, parsed=True, usage=usage, members=own))
        return out
