"""Probe pairs: a base (plain correct) answer beside a perturbed one, and the builder."""

from __future__ import annotations

import copy
import itertools
import random
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from judgeaudit.probes.answer_checks import AnswerAssessment, assess_answer, substance_score
from judgeaudit.probes.operators import OPERATORS, NotApplicable
from judgeaudit.vocabulary import PROBE_KINDS as PAIR_KINDS

if TYPE_CHECKING:
    from judgeaudit.probes.batteries import Battery, Probe



@dataclass(frozen=True)
class Pair:
    """One probe pair. `base` is always the plain correct reference answer; `perturbed` is
    the answer after the probe's operators (equal to `base` for control pairs). Which side a
    judge sees first is decided later by the judge runner, which judges both orders."""

    pair_id: str
    item_id: str
    probe: str
    kind: str
    category: str
    prompt: str
    base: str
    perturbed: str
    item: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in PAIR_KINDS:
            raise ValueError(f"pair kind must be one of {PAIR_KINDS}, got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Pair":
        names = cls.__dataclass_fields__.keys()
        missing = [n for n in ("pair_id", "item_id", "probe", "kind", "category", "prompt", "base", "perturbed")
                   if n not in d]
        if missing:
            raise ValueError(f"pair is missing {', '.join(missing)}")
        return cls(**{k: copy.deepcopy(v) for k, v in d.items() if k in names})


def pair_id(item_id: str, probe: str, seed: int) -> str:
    """Stable, readable id for (item, probe, seed)."""
    return f"{item_id}/{probe}/s{seed}"


@dataclass(frozen=True)
class Skip:
    """A (item, probe) combination that produced no pair, and why."""

    item_id: str
    probe: str
    op: str | None
    reason: str


@dataclass
class PairSet:
    pairs: list[Pair]
    skipped: list[Skip]


def spread_order(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items interleaved over categories, then domains (round-robin, items in id order)."""
    by_cat: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for it in sorted(items, key=lambda it: it["id"]):
        by_cat.setdefault(it["category"], {}).setdefault(it.get("domain", ""), []).append(it)
    queues = [_round_robin([doms[d] for d in sorted(doms)]) for _, doms in sorted(by_cat.items())]
    return _round_robin(queues)


def select_items(items: Sequence[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """The first `limit` items of `spread_order` (all if None), in id order. Independent of
    the seed, so runs with different seeds see the same items; a smaller limit gives a subset."""
    chosen = list(items) if limit is None else spread_order(items)[: max(limit, 0)]
    return sorted(chosen, key=lambda it: it["id"])


def _round_robin(lists: list[list[Any]]) -> list[Any]:
    return [x for group in itertools.zip_longest(*lists) for x in group if x is not None]


def apply_probe(item: dict[str, Any], probe: "Probe", seed: int = 0, battery: str | None = None) -> Pair | Skip:
    """The pair for one item and probe, or a Skip saying which step did not fit.

    Each operator draws from its own generator seeded by (seed, item id, operator), so the
    wrong fact in a crossed probe is the one the plain factual_error probe uses."""
    base = item["answer"]
    text, before = base, assess_answer(item, base)
    steps: list[dict[str, Any]] = []
    for name in probe.ops:
        op = OPERATORS[name]
        rng = random.Random(f"{seed}/{item['id']}/{name}")
        try:
            new, details = op.apply(item, text, rng)
        except NotApplicable as exc:
            return Skip(item["id"], probe.name, name, str(exc))
        after = assess_answer(item, new)
        if not new.strip() or new == text:
            return Skip(item["id"], probe.name, name, "no change")
        if not op.expect(before, after):
            return Skip(item["id"], probe.name, name, f"would also change the substance assessment "
                        f"({_diff(before, after)}), so it is not a clean {op.kind} step")
        steps.append({"op": name, "kind": op.kind, **details})
        text, before = new, after
    meta = {"battery": battery, "seed": seed, "ops": steps,
            "base_score": substance_score(item, base), "perturbed_score": substance_score(item, text),
            "perturbed_assessment": before.to_dict()}
    return Pair(pair_id(item["id"], probe.name, seed), item["id"], probe.name, probe.kind, item["category"],
                item["prompt"], base, text, copy.deepcopy(item), meta)


def _diff(before: AnswerAssessment, after: AnswerAssessment) -> str:
    b, a = before.to_dict(), after.to_dict()
    return ", ".join(f"{k} {b[k]} -> {a[k]}" for k in b if b[k] != a[k])


def make_pairs(items: Sequence[dict[str, Any]] | None = None, battery: "str | Battery" = "default", seed: int = 0,
               limit: int | None = None) -> PairSet:
    """Pairs for every selected item and every probe of the battery, with the skipped
    combinations; in item-id order, then battery order."""
    from judgeaudit.probes.batteries import get_battery
    from judgeaudit.probes.items import load_items

    bat = get_battery(battery) if isinstance(battery, str) else battery
    chosen = select_items(load_items() if items is None else items, limit)
    out = PairSet([], [])
    for item in chosen:
        for probe in bat.probes:
            result = apply_probe(item, probe, seed, bat.name)
            (out.pairs if isinstance(result, Pair) else out.skipped).append(result)
    return out


def build_pairs(items: Sequence[dict[str, Any]] | None = None, battery: "str | Battery" = "default", seed: int = 0,
                limit: int | None = None) -> list[Pair]:
    """Pairs of a battery over items (default: the packaged seed items); `limit` = number
    of items, spread over categories. Combinations that do not fit are skipped (see
    `make_pairs` for the list of skips)."""
    return make_pairs(items, battery, seed, limit).pairs
