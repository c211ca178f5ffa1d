"""Judge a list of pairs in both orders, storing one record per judgment as it finishes.

Each judgment's key hashes the judge's identity, the template, the pair and its texts,
the order and the repeat, so a resumed run skips exactly what is already stored and a
changed pair or judge is judged afresh.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from judgeaudit.console import progress_bar
from judgeaudit.contracts import JudgmentRecord, MemberVerdict, Usage
from judgeaudit.judges.protocol import BaseJudge, Judgment, JudgeRequest, as_judge, swap, win_score
from judgeaudit.runstore import RunStore, content_hash
from judgeaudit.vocabulary import ORDERS

RAW_LIMIT = 4000
_PAIR_FIELDS = ("pair_id", "item_id", "probe", "kind", "category", "prompt", "base", "perturbed")


@dataclass(frozen=True)
class Unit:
    """One judgment to make: a pair, an order, a repeat."""

    key: str
    pair: Any
    order: str
    repeat: int
    request: JudgeRequest


def _get(pair: Any, name: str) -> Any:
    return pair[name] if isinstance(pair, dict) else getattr(pair, name)


def plan_units(judge: BaseJudge, pairs: Iterable[Any], repeats: int = 1) -> list[Unit]:
    """Every judgment a run needs, in a stable order, without duplicates."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    ident, tname = judge.identity, judge.template_name
    units, seen = [], set()
    for pair in pairs:
        fields = {f: _get(pair, f) for f in _PAIR_FIELDS}
        item = _get(pair, "item")
        for repeat in range(repeats):
            for order in ORDERS:
                key = content_hash({"judge": ident, "template": tname, "pair_id": fields["pair_id"],
                                    "prompt": fields["prompt"], "base": fields["base"],
                                    "perturbed": fields["perturbed"], "order": order, "repeat": repeat})
                if key in seen:
                    continue
                seen.add(key)
                a, b = ((fields["base"], fields["perturbed"]) if order == "base_first"
                        else (fields["perturbed"], fields["base"]))
                units.append(Unit(key, pair, order, repeat, JudgeRequest(fields["prompt"], a, b, item=item, repeat=repeat)))
    return units


def _perturbed_view(probs: dict[str, float] | None, order: str) -> dict[str, float] | None:
    """The distribution with A = perturbed answer, whatever the order shown."""
    if probs is None:
        return None
    return swap(probs) if order == "base_first" else dict(probs)


def make_record(judge: BaseJudge, unit: Unit, judgment: Judgment) -> dict[str, Any]:
    pair = unit.pair
    score = win_score(_perturbed_view(judgment.probs, unit.order)) if judgment.probs is not None else None
    criteria = None
    if judgment.criteria:
        criteria = {name: (win_score(_perturbed_view(d, unit.order)) if d is not None else None)
                    for name, d in judgment.criteria.items()}
    return JudgmentRecord(
        key=unit.key, judge=judge.name, template=judge.template_name,
        pair_id=_get(pair, "pair_id"), item_id=_get(pair, "item_id"), probe=_get(pair, "probe"),
        kind=_get(pair, "kind"), category=_get(pair, "category"), order=unit.order, repeat=unit.repeat,
        base=_get(pair, "base"), perturbed=_get(pair, "perturbed"),
        probs=judgment.probs, parsed=judgment.parsed, ambiguous=bool(getattr(judgment, "ambiguous", False)),
        score_perturbed=score,
        criteria_perturbed=criteria, raw=(judgment.raw or "")[:RAW_LIMIT], usage=Usage(**(judgment.usage or {})),
        members=member_verdicts(judgment.members, unit.order) if judgment.members else None,
    ).to_json()


def member_verdicts(members: dict[str, Judgment], order: str) -> dict[str, MemberVerdict]:
    """A jury member's part of a record: its own distribution and its win score of the perturbed answer."""
    return {name: MemberVerdict(probs=j.probs, parsed=j.parsed,
                                score_perturbed=win_score(_perturbed_view(j.probs, order)) if j.probs is not None
                                else None)
            for name, j in members.items()}


def _stream(judge: BaseJudge, requests: list[JudgeRequest], concurrency: int | None) -> Iterator[tuple[int, Judgment]]:
    # A judge with its own concurrency keeps the setting it was built with.
    if judge.own_concurrency:
        yield from judge.iter_judgments(requests)
        return
    chunk = max(1, int(judge.batch_size))
    # Judges that gain nothing from threads (in-process models, pure functions) say so.
    if not concurrency or concurrency <= 1 or not judge.parallel_batches:
        yield from judge.iter_judgments(requests)
        return
    # Judges without their own concurrency (plugins calling remote services) run chunks in threads.
    pool = ThreadPoolExecutor(max_workers=int(concurrency), thread_name_prefix="judge")
    try:
        futures = {pool.submit(judge.judge_batch, requests[s:s + chunk]): s for s in range(0, len(requests), chunk)}
        for fut in as_completed(futures):
            start, out = futures[fut], fut.result()
            if len(out) != len(requests[start:start + chunk]):
                raise RuntimeError(f"judge {judge.name!r} returned {len(out)} judgments for "
                                   f"{len(requests[start:start + chunk])} requests")
            for offset, judgment in enumerate(out):
                yield start + offset, judgment
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_judgments(judge: Any, pairs: Sequence[Any], store: RunStore, *, repeats: int = 1,
                  concurrency: int | None = None, progress: bool = True, ranks: Any = None) -> list[dict[str, Any]]:
    """Judge every pair in both orders (``repeats`` times), appending records to ``store``.

    Judgments already in the store are not redone. Returns the records of all of this
    run's judgments (stored earlier or now), in plan order. Under torchrun (``ranks`` with
    world > 1) each rank judges every N-th batch into its own records shard, and rank 0
    merges the shards in plan order (other ranks then return nothing).
    """
    from judgeaudit.engine import distributed

    judge = as_judge(judge)
    ranks = ranks or distributed.Ranks()
    units = plan_units(judge, pairs, repeats)
    done = distributed.done_keys(store)
    pending = [u for u in units if u.key not in done]
    distributed.barrier(ranks)  # every rank plans from the same finished set before anyone writes
    if ranks.distributed:
        # Whole judge batches per rank, so each batch is the one a single process would judge.
        size = max(1, int(getattr(judge, "batch_size", 16)))
        batches = ranks.shard([pending[i:i + size] for i in range(0, len(pending), size)])
        pending = [u for batch in batches for u in batch]
    sink = distributed.ShardStore(store.dir, ranks.rank) if ranks.distributed else store
    fresh: dict[str, dict[str, Any]] = {}
    if pending:
        tally = _Tally(priced=judge.priced)
        with progress_bar(f"judging ({judge.name})", total=len(units), enabled=progress and ranks.is_main,
                          done=len(units) - len(pending), info=tally.text) as advance:
            for index, judgment in _stream(judge, [u.request for u in pending], concurrency):
                record = make_record(judge, pending[index], judgment)
                if sink.append(record):
                    fresh[record["key"]] = record
                tally.add(record)
                advance()
    distributed.barrier(ranks)
    if ranks.is_main:
        distributed.merge_shards(store, [u.key for u in units])
    distributed.barrier(ranks)
    if not ranks.is_main:
        return []
    wanted = {u.key for u in units}
    stored = {r["key"]: r for r in store.iter_records() if r["key"] in wanted}
    return [stored[u.key] for u in units if u.key in stored]


def estimate_judgments(judge: Any, pairs: Sequence[Any], store: RunStore | None = None, repeats: int = 1) -> dict[str, Any]:
    """What a run would cost, calling nothing: judgments to make and, for API judges, requests and USD."""
    judge = as_judge(judge)
    units = plan_units(judge, pairs, repeats)
    pending = [u for u in units if store is None or not store.has(u.key)]
    out: dict[str, Any] = {"judge": judge.name, "pairs": len({_get(u.pair, "pair_id") for u in units}),
                           "judgments": len(units), "judgments_pending": len(pending)}
    if judge.priced:
        out.update(judge.estimate([u.request for u in pending]))
    return out


class _Tally:
    """What the progress bar shows beside the count: unparsed judgments and, for API judges, money spent."""

    def __init__(self, priced: bool):
        self.priced = priced
        self.cost = 0.0
        self.cached = self.unparsed = 0

    def add(self, record: dict[str, Any]) -> None:
        usage = record.get("usage") or {}
        self.cost += usage.get("cost_usd") or 0.0
        self.cached += bool(usage.get("cached"))
        self.unparsed += not record["parsed"]

    def text(self) -> str:
        parts = [f"unparsed {self.unparsed}"]
        if self.priced:
            parts.append(f"${self.cost:.4f} spent, {self.cached} cached")
        return " | ".join(parts)


def run_usage(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Tokens, cached requests and cost summed over a run's judgment records ({} for free judges)."""
    cost = prompt = completion = cached = 0
    for r in records:
        u = r.get("usage") or {}
        cost += u.get("cost_usd") or 0.0
        prompt += u.get("prompt_tokens") or 0
        completion += u.get("completion_tokens") or 0
        cached += bool(u.get("cached"))
    if not (cost or prompt or completion):
        return {}
    return {"cost_usd": round(float(cost), 6), "prompt_tokens": int(prompt), "completion_tokens": int(completion),
            "cached_requests": int(cached)}
