"""Battery-wide summary indices, with item-clustered bootstrap intervals.

- style_sensitivity: mean |delta| over style probes (ideal 0);
- substance_sensitivity: mean -delta over substance probes (ideal 0.5: a degraded answer
  always loses);
- style_over_substance_rate: share of crossed pairs (plain correct vs styled wrong) whose
  debiased score favours the styled wrong answer (> 0.5) (ideal 0);
- position_consistency: share of all pairs in the battery whose two orders give the same
  preference (ideal 1);
- noise_floor: standard deviation over control items (base vs an identical copy) of the
  item's debiased delta; effects of this size per item are what the judge produces on
  identical answers (ideal 0).

Intervals resample items once per draw for the whole battery (an item appears in many
probes), percentile method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from judgeaudit.stats.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, cluster_weights, percentile_interval, named_rng
from judgeaudit.stats.effects import ProbeEffect
from judgeaudit.stats.outcomes import PairOutcome

INDEX_NAMES = ("style_sensitivity", "substance_sensitivity", "style_over_substance_rate",
               "position_consistency", "noise_floor")


@dataclass
class _Column:
    """Pairs of one group as (item column, value) arrays for weighted bootstrap means."""
    cols: np.ndarray
    values: np.ndarray

    def mean(self) -> float | None:
        return float(self.values.mean()) if self.values.size else None

    def draws(self, weights: np.ndarray) -> np.ndarray:
        w = weights[:, self.cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ self.values) / w.sum(axis=1)


def summary_indices(pairs: Sequence[PairOutcome], effects: Sequence[ProbeEffect], *,
                    resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL,
                    seed: int = 0) -> tuple[dict[str, float | None], dict[str, list[float] | None]]:
    """Return (indices, their bootstrap intervals); an index without data is None."""
    complete = [p for p in pairs if p.complete]
    items = sorted({p.item_id for p in complete})
    col = {item: i for i, item in enumerate(items)}

    def column(ps: Sequence[PairOutcome], value) -> _Column:
        return _Column(np.array([col[p.item_id] for p in ps], dtype=int),
                       np.array([value(p) for p in ps], dtype=float))

    kinds = {e.name: e.kind for e in effects}
    by_probe: dict[str, list[PairOutcome]] = {}
    for p in complete:
        by_probe.setdefault(p.probe, []).append(p)
    style = [column(ps, lambda p: p.score) for name, ps in by_probe.items() if kinds.get(name) == "style"]
    substance = [column(ps, lambda p: p.score) for name, ps in by_probe.items() if kinds.get(name) == "substance"]
    crossed = column([p for p in complete if p.kind == "crossed"], lambda p: float(p.score > 0.5 + 1e-9))
    consistent = column(complete, lambda p: float(p.preferences()[0] == p.preferences()[1]))
    control = [p.score - 0.5 for p in complete if p.kind == "control"]

    def style_stat(means: Sequence[np.ndarray | float]) -> np.ndarray | float:
        return np.mean([np.abs(np.asarray(m) - 0.5) for m in means], axis=0)

    def substance_stat(means: Sequence[np.ndarray | float]) -> np.ndarray | float:
        return np.mean([0.5 - np.asarray(m) for m in means], axis=0)

    indices: dict[str, float | None] = {
        "style_sensitivity": float(style_stat([c.mean() for c in style])) if style else None,
        "substance_sensitivity": float(substance_stat([c.mean() for c in substance])) if substance else None,
        "style_over_substance_rate": crossed.mean(),
        "position_consistency": consistent.mean(),
        "noise_floor": float(np.std(control, ddof=1)) if len(control) > 1 else (0.0 if control else None),
    }

    intervals: dict[str, list[float] | None] = {name: None for name in INDEX_NAMES}
    if items:
        weights = cluster_weights(len(items), resamples=resamples, rng=named_rng(seed, "indices"))
        draws = {
            "style_sensitivity": style_stat([c.draws(weights) for c in style]) if style else None,
            "substance_sensitivity": substance_stat([c.draws(weights) for c in substance]) if substance else None,
            "style_over_substance_rate": crossed.draws(weights) if crossed.values.size else None,
            "position_consistency": consistent.draws(weights) if consistent.values.size else None,
        }
        for name, d in draws.items():
            if d is not None:
                ci = percentile_interval(np.asarray(d, dtype=float), level)
                intervals[name] = list(ci) if ci else None
    return indices, intervals
