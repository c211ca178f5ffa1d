"""Games: one judgment of answer A against answer B, whatever log or run it came from.

A game holds the verdict distribution as shown to the judge (A first), so position
statistics stay possible, and knows which model wrote each side. Scoring follows
Arena-Hard-Auto: A>>B and A>B are wins, A=B a tie worth half, and with a strong weight
``s`` a strong verdict counts ``s`` times (Arena-Hard-Auto repeats it three times).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from judgeaudit.judges.protocol import VERDICTS, point_mass, swap

# Labels as logs write them -> the five verdicts (A<B is B>A, B=A is A=B, ...).
LABELS: dict[str, str] = {v: v for v in VERDICTS}
LABELS.update({"A<B": "B>A", "A<<B": "B>>A", "B=A": "A=B", "B<A": "A>B", "B<<A": "A>>B"})


def parse_label(label: Any) -> dict[str, float] | None:
    """The verdict distribution of a logged label; None for a missing or unreadable label."""
    if not isinstance(label, str):
        return None
    verdict = LABELS.get(label.strip().strip("[]").replace(" ", ""))
    return point_mass(verdict) if verdict else None


@dataclass
class Game:
    question: str  # the cluster the bootstrap resamples
    model_a: str  # shown first
    model_b: str
    text_a: str
    text_b: str
    probs: dict[str, float] | None  # as shown (A first); None: the judgment was not parsed
    turn: int = 1
    raw: str = ""

    @property
    def parsed(self) -> bool:
        return self.probs is not None

    @property
    def pair(self) -> tuple[str, int, str, str]:
        """The same two answers in either order share this key."""
        a, b = sorted((self.model_a, self.model_b))
        return (self.question, self.turn, a, b)

    def outcome(self, strong_weight: float = 1.0) -> tuple[float, float]:
        """(share won by A with ties as half, weight): strong verdicts count ``strong_weight`` times."""
        p = self.probs or {}
        win = strong_weight * p.get("A>>B", 0.0) + p.get("A>B", 0.0)
        loss = strong_weight * p.get("B>>A", 0.0) + p.get("B>A", 0.0)
        tie = p.get("A=B", 0.0)
        weight = win + loss + tie
        return ((win + 0.5 * tie) / weight if weight > 0 else 0.5), weight

    def for_model(self, model: str) -> dict[str, float] | None:
        """The distribution with ``model`` as A."""
        if self.probs is None:
            return None
        return dict(self.probs) if model == self.model_a else swap(self.probs)


def top_label(probs: Mapping[str, float] | None) -> str | None:
    if probs is None:
        return None
    return max(VERDICTS, key=lambda v: probs.get(v, 0.0))


# -- arena runs: pairs for the judge runner, records back to games ------------------------------
ARENA_KIND = "arena"


def arena_pairs(corpus, models: Iterable[str], baseline: str, question_ids: Iterable[str],
                reference: str | None = None) -> list[dict[str, Any]]:
    """Pairs in the runner's shape: base = the baseline's answer, perturbed = the model's.

    The runner judges each in both orders: ``base_first`` is Arena-Hard's first game
    (baseline as A), ``perturbed_first`` its second.
    """
    pairs = []
    for model in models:
        for qid in question_ids:
            q = corpus.questions[qid]
            prompt = q.prompt
            if reference is not None:
                prompt = with_reference(prompt, corpus.answers[reference][qid])
            pairs.append({"pair_id": f"{model}\x1f{qid}", "item_id": qid, "probe": model, "kind": ARENA_KIND,
                          "category": q.category, "prompt": prompt, "base": corpus.answers[baseline][qid],
                          "perturbed": corpus.answers[model][qid], "item": None})
    return pairs


REFERENCE_OPEN = "\n\n<|Reference answer|>\n"
REFERENCE_CLOSE = "\n<|End of reference answer|>"


def with_reference(prompt: str, reference: str) -> str:
    return prompt + REFERENCE_OPEN + reference + REFERENCE_CLOSE


def games_from_records(records: Iterable[Mapping[str, Any]], baseline: str) -> list[Game]:
    """Arena records (the runner's schema) -> games, in record order."""
    games = []
    for r in records:
        model = r["probe"]
        base_first = r["order"] == "base_first"
        a, b = (baseline, model) if base_first else (model, baseline)
        ta, tb = (r["base"], r["perturbed"]) if base_first else (r["perturbed"], r["base"])
        probs = r.get("probs") if r.get("parsed") else None
        games.append(Game(question=r["item_id"], model_a=a, model_b=b, text_a=ta, text_b=tb, probs=probs,
                          raw=r.get("raw") or ""))
    return games


def arena_hard_lines(records: Iterable[Mapping[str, Any]], judge: str, baseline: str,
                     categories: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Per model, judgment lines in the Arena-Hard-Auto layout (uid, judge, model, baseline,
    games: first the baseline as A, then the model as A). Each game keeps the label as
    ``score`` and, beside it, the full verdict distribution as ``probs``."""
    by_pair: dict[tuple[str, str], dict[str, Mapping[str, Any]]] = {}
    for r in records:
        by_pair.setdefault((r["probe"], r["item_id"]), {})[r["order"]] = r
    out: dict[str, list[dict[str, Any]]] = {}
    for (model, qid), orders in by_pair.items():
        games = []
        for order in ("base_first", "perturbed_first"):
            r = orders.get(order)
            if r is None:
                continue
            probs = r.get("probs") if r.get("parsed") else None
            games.append({"score": top_label(probs), "judgment": {"answer": r.get("raw") or ""}, "probs": probs})
        out.setdefault(model, []).append({"uid": qid, "category": categories.get(qid, ""), "judge": judge,
                                          "model": model, "baseline": baseline, "games": games})
    return out
