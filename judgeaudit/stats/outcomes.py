"""From judgment records to one position-debiased outcome per pair.

A pair is judged in two orders (and possibly several repeats). Its outcome is the mean
over orders of the mean over repeats of the perturbed answer's win score, so a judge's
position preference cancels. A pair only has an outcome when both orders have at least
one parsed judgment; otherwise the leftover order would bring the position bias back.
Unparsed judgments are counted on the pair, never dropped silently.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from judgeaudit.contracts import JudgmentRecord, validate_line
from judgeaudit.jsonl_input import iter_jsonl_objects

from judgeaudit.vocabulary import ORDERS


@dataclass
class PairOutcome:
    pair_id: str
    item_id: str
    probe: str
    kind: str
    category: str
    base: str
    perturbed: str
    scores: dict[str, list[float]] = field(default_factory=lambda: {o: [] for o in ORDERS})
    criteria: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    n_judgments: int = 0
    n_unparsed: int = 0

    def order_score(self, order: str) -> float | None:
        values = self.scores[order]
        return sum(values) / len(values) if values else None

    @property
    def complete(self) -> bool:
        return all(self.scores[o] for o in ORDERS)

    @property
    def score(self) -> float | None:
        """Position-debiased win score of the perturbed answer (None when an order is missing)."""
        if not self.complete:
            return None
        return 0.5 * (self.order_score("base_first") + self.order_score("perturbed_first"))

    def preferences(self) -> tuple[int, int] | None:
        """Preferred side per order: +1 perturbed, -1 base, 0 tie (base_first, perturbed_first)."""
        if not self.complete:
            return None
        return tuple(_side(self.order_score(o)) for o in ORDERS)  # type: ignore[return-value]

    def criteria_scores(self) -> dict[str, float] | None:
        """Debiased per-criterion win scores of the perturbed answer (factor-wise judges)."""
        if not self.criteria:
            return None
        out: dict[str, float] = {}
        for name, by_order in self.criteria.items():
            if not all(by_order.get(o) for o in ORDERS):
                return None
            out[name] = 0.5 * sum(sum(by_order[o]) / len(by_order[o]) for o in ORDERS)
        return out


def _side(score: float, tol: float = 1e-9) -> int:
    if score > 0.5 + tol:
        return 1
    if score < 0.5 - tol:
        return -1
    return 0


def collect_outcomes(records: Iterable[dict[str, Any]]) -> list[PairOutcome]:
    """Group judgment records (the run store's contract schema) into pair outcomes.

    Records of one pair must agree on item, probe and kind. Pairs come back in order of
    first appearance, which is the order the runner judged them.
    """
    pairs: dict[str, PairOutcome] = {}
    for raw in records:
        rec = raw if isinstance(raw, JudgmentRecord) else JudgmentRecord.model_validate(raw)
        p = pairs.get(rec.pair_id)
        if p is None:
            p = pairs[rec.pair_id] = PairOutcome(
                pair_id=rec.pair_id, item_id=rec.item_id, probe=rec.probe, kind=rec.kind,
                category=rec.category or "", base=rec.base or "", perturbed=rec.perturbed or "",
            )
        p.n_judgments += 1
        if not rec.is_parsed:
            p.n_unparsed += 1
            continue
        order = rec.order
        p.scores[order].append(float(rec.score_perturbed))
        crit = rec.criteria_perturbed
        if crit:
            for name, value in crit.items():
                if value is not None:
                    p.criteria.setdefault(name, defaultdict(list))[order].append(float(value))
    return list(pairs.values())


def _check_record(source: str | os.PathLike, lineno: int, obj: dict[str, Any]) -> None:
    validate_line(JudgmentRecord, obj, source, lineno)


def load_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read and check a records.jsonl; a bad line raises InputError naming file, line and field."""
    out = []
    for lineno, obj in iter_jsonl_objects(path):
        _check_record(path, lineno, obj)
        out.append(obj)
    return out


def check_records(records: Sequence[dict[str, Any]], source: str = "records") -> None:
    """The same checks as load_records, for records already in memory (line = position, from 1)."""
    for lineno, obj in enumerate(records, start=1):
        _check_record(source, lineno, obj)


__all__ = ["PairOutcome", "collect_outcomes", "load_records", "check_records"]
