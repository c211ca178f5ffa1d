"""From judgment records to one position-debiased outcome per pair.

A pair is judged in two orders (and possibly several repeats). Each judgment gives two
numbers for the perturbed answer:
- its preference, the Arena convention: P(perturbed preferred) + 0.5 P(tie) from the verdict
  distribution (A>B and A>>B are both wins; a hard verdict gives 1, 0.5 or 0);
- its graded win score (A>>B = 1, A>B = .75, A=B = .5, B>A = .25, B>>A = 0).
A pair's outcome is the mean over orders of the mean over repeats, so a judge's position
preference cancels. A pair only has an outcome when both orders have at least
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

from judgeaudit.vocabulary import ORDERS, VERDICTS


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
    # Per parsed judgment, in the same order as ``scores``: preference of the perturbed answer,
    # and the probability mass on strong (>>) and on decisive (not tie) verdicts (None: unknown).
    prefs: dict[str, list[float]] = field(default_factory=lambda: {o: [] for o in ORDERS})
    strong: list[float | None] = field(default_factory=list)
    decisive: list[float | None] = field(default_factory=list)
    distribution: bool = False  # some judgment gave a spread distribution (not a point mass)
    criteria: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    n_judgments: int = 0
    n_unparsed: int = 0

    def order_score(self, order: str) -> float | None:
        values = self.scores[order]
        return sum(values) / len(values) if values else None

    def order_pref(self, order: str) -> float | None:
        values = self.prefs[order]
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

    @property
    def pref(self) -> float | None:
        """Position-debiased preference for the perturbed answer (Arena convention; None when an order is missing)."""
        if not self.complete:
            return None
        return 0.5 * (self.order_pref("base_first") + self.order_pref("perturbed_first"))

    def preferences(self) -> tuple[int, int] | None:
        """Preferred side per order: +1 perturbed, -1 base, 0 tie (base_first, perturbed_first)."""
        if not self.complete:
            return None
        return tuple(_side(self.order_pref(o)) for o in ORDERS)  # type: ignore[return-value]

    def first_position_values(self) -> list[float]:
        """Per parsed judgment: P(the answer shown first preferred) + 0.5 P(tie)."""
        return [1.0 - v for v in self.prefs["base_first"]] + list(self.prefs["perturbed_first"])

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


def judgment_preference(probs: dict[str, float] | None, order: str,
                        score: float) -> tuple[float, float | None, float | None, bool]:
    """(preference of the perturbed answer, strong mass, decisive mass, spread distribution) of one judgment.

    From the verdict distribution when the record has one; otherwise from the graded score
    (a hard verdict's score names it; any other score gives only the preferred side).
    """
    if probs:
        total = sum(max(float(probs.get(v, 0.0)), 0.0) for v in VERDICTS)
        if total > 0:
            q = {v: max(float(probs.get(v, 0.0)), 0.0) / total for v in VERDICTS}
            # A is the first shown; the perturbed answer is A exactly when it is shown first.
            win, lose = (q["A>>B"] + q["A>B"], q["B>>A"] + q["B>A"])
            if order == "base_first":
                win, lose = lose, win
            tie = q["A=B"]
            spread = max(q.values()) < 1.0 - 1e-9
            return win + 0.5 * tie, q["A>>B"] + q["B>>A"], 1.0 - tie, spread
    side = _side(score)
    pref = 0.5 + 0.5 * side
    graded = {1.0: (1.0, 1.0), 0.0: (1.0, 1.0), 0.75: (0.0, 1.0), 0.25: (0.0, 1.0), 0.5: (0.0, 0.0)}
    strong, decisive = next(((s, d) for v, (s, d) in graded.items() if abs(score - v) < 1e-9), (None, None))
    return pref, strong, decisive, False


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
        pref, strong, decisive, spread = judgment_preference(rec.probs, order, float(rec.score_perturbed))
        p.prefs[order].append(pref)
        p.strong.append(strong)
        p.decisive.append(decisive)
        p.distribution = p.distribution or spread
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
