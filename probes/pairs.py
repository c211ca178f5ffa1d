"""Probe pairs: a base (plain correct) answer beside a perturbed one, and the builder."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

PAIR_KINDS = ("style", "substance", "crossed", "control", "judge")


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
