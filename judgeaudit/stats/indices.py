"""Battery-wide summary indices, with item-clustered bootstrap intervals.

Every index is built from per-item values (an item's pairs, orders and repeats averaged);
"preference" is the Arena-convention preference for the perturbed answer (stats.outcomes).
- style_sensitivity: mean |delta| over style probes (ideal 0);
- substance_sensitivity: mean -delta over substance probes (ideal 0.5: a degraded answer
  always loses);
- style_over_substance_rate: the styled wrong answer's win rate over crossed pairs (plain
  correct vs styled wrong): oracle 0, indifferent 0.5, style-lover 1;
- style_over_substance_strict: share of crossed pairs the styled wrong answer wins in both orders;
- position_consistency: share of pairs whose two orders give the same preference (ideal 1);
- first_position_rate: over all judgments, P(first shown preferred) + 0.5 P(tie) (ideal 0.5);
  first_position_rate_control: the same on control pairs only (identical answers);
- position / position_control: MT-Bench classes (stats.position), shares of pairs;
- accuracy: on substance and crossed pairs, share of judgments preferring the right (base)
  answer, ties half (ideal 1); pair_accuracy: share of those pairs right in both orders;
- ece, brier: calibration of P(answer shown first is right) (stats.calibration), distribution
  judges only;
- strong_share: strong (>>) mass over decisive mass, all parsed judgments;
- noise_floor: standard deviation over control items of the item's debiased delta (ideal 0).

Intervals: percentile bootstrap over items through stats.bootstrap.cluster_bootstrap (one
helper, scipy.stats.bootstrap underneath); each index has its own named generator.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from judgeaudit.stats.baselines import BASELINES, baseline_pair_correct, baseline_pref
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, cluster_bootstrap, named_rng
from judgeaudit.stats.calibration import brier, calibration_data, ece, reliability
from judgeaudit.stats.effects import GROUND_TRUTH_KINDS, ProbeEffect, strong_share
from judgeaudit.stats.outcomes import PairOutcome
from judgeaudit.stats.position import position_shares

INDEX_NAMES = ("style_sensitivity", "substance_sensitivity", "style_over_substance_rate",
               "style_over_substance_strict", "position_consistency", "first_position_rate",
               "first_position_rate_control", "accuracy", "pair_accuracy", "ece", "brier", "strong_share",
               "noise_floor")
# Indices whose point value is a number with an interval (the rest are shares tables or have none).
_NO_INTERVAL = ("strong_share", "noise_floor")


class _PerItem:
    """One value per item (NaN where the item has no pair of this group); weighted means over resamples."""

    def __init__(self, n_items: int, col: dict[str, int], pairs: Sequence[PairOutcome],
                 value: Callable[[PairOutcome], float]):
        sums, counts = np.zeros(n_items), np.zeros(n_items)
        for p in pairs:
            sums[col[p.item_id]] += value(p)
            counts[col[p.item_id]] += 1
        self.present = counts > 0
        self.values = np.where(self.present, sums / np.maximum(counts, 1), 0.0)

    def __bool__(self) -> bool:
        return bool(self.present.any())

    def mean(self, counts: np.ndarray) -> np.ndarray:
        w = counts * self.present
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ self.values) / w.sum(axis=-1)


def summary_indices(pairs: Sequence[PairOutcome], effects: Sequence[ProbeEffect], *,
                    resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL,
                    seed: int = 0) -> tuple[dict[str, Any], dict[str, list[float] | None]]:
    """Return (indices, their bootstrap intervals); an index without data is None."""
    complete = [p for p in pairs if p.complete]
    items = sorted({p.item_id for p in complete})
    col = {item: i for i, item in enumerate(items)}
    n = len(items)

    def per_item(ps: Sequence[PairOutcome], value) -> _PerItem:
        return _PerItem(n, col, ps, value)

    kinds = {e.name: e.kind for e in effects}
    by_probe: dict[str, list[PairOutcome]] = {}
    for p in complete:
        by_probe.setdefault(p.probe, []).append(p)
    style = [per_item(ps, lambda p: p.pref) for name, ps in by_probe.items() if kinds.get(name) == "style"]
    substance = [per_item(ps, lambda p: p.pref) for name, ps in by_probe.items() if kinds.get(name) == "substance"]
    crossed_pairs = [p for p in complete if p.kind == "crossed"]
    truth_pairs = [p for p in complete if p.kind in GROUND_TRUTH_KINDS]
    control_pairs = [p for p in complete if p.kind == "control"]

    stats: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    if style:
        stats["style_sensitivity"] = lambda c: np.mean([np.abs(s.mean(c) - 0.5) for s in style], axis=0)
    if substance:
        stats["substance_sensitivity"] = lambda c: np.mean([0.5 - s.mean(c) for s in substance], axis=0)
    groups = {
        "style_over_substance_rate": (crossed_pairs, lambda p: p.pref),
        "style_over_substance_strict": (crossed_pairs, lambda p: float(p.preferences() == (1, 1))),
        "position_consistency": (complete, lambda p: float(p.preferences()[0] == p.preferences()[1])),
        "first_position_rate": (complete, lambda p: float(np.mean(p.first_position_values()))),
        "first_position_rate_control": (control_pairs, lambda p: float(np.mean(p.first_position_values()))),
        "accuracy": (truth_pairs, lambda p: 1.0 - p.pref),
        "pair_accuracy": (truth_pairs, lambda p: float(p.preferences() == (-1, -1))),
    }
    for name, (ps, value) in groups.items():
        if ps:
            stats[name] = per_item(ps, value).mean
    calibration = None
    if any(p.distribution for p in truth_pairs):
        q, y, cols = calibration_data(truth_pairs, items)
        stats["brier"] = lambda c: brier(q, y, c[..., cols])
        stats["ece"] = lambda c: ece(q, y, c[..., cols])
        calibration = {"bins": reliability(q, y), "n_judgments": int(q.size), "method":
                       "q = P(answer shown first preferred) + 0.5 P(tie) on substance and crossed pairs, "
                       "truth = the answer shown first is the right one; 10 equal-width bins"}

    observed = np.ones((1, n))
    indices: dict[str, Any] = {name: None for name in INDEX_NAMES}
    for name, stat in stats.items():
        value = float(stat(observed)[0])
        indices[name] = value if np.isfinite(value) else None
    indices["strong_share"] = strong_share(complete)
    control = [p.pref - 0.5 for p in control_pairs]
    indices["noise_floor"] = float(np.std(control, ddof=1)) if len(control) > 1 else (0.0 if control else None)
    indices["position"] = position_shares(pairs)
    indices["position_control"] = position_shares([p for p in pairs if p.kind == "control"])
    indices["calibration"] = calibration

    intervals: dict[str, list[float] | None] = {name: None for name in INDEX_NAMES if name not in _NO_INTERVAL}
    for name, stat in stats.items():
        boot = cluster_bootstrap(n, stat, resamples=resamples, level=level, rng=named_rng(seed, "indices/" + name))
        if boot is not None and boot.ci is not None:
            intervals[name] = list(boot.ci)
    return indices, intervals


def baseline_indices(pairs: Sequence[PairOutcome]) -> dict[str, dict[str, float | None]]:
    """Each baseline's style-over-substance rate, accuracy and pair accuracy, defined as the judge's indices."""
    complete = [p for p in pairs if p.complete]
    items = sorted({p.item_id for p in complete})
    col = {item: i for i, item in enumerate(items)}
    crossed = [p for p in complete if p.kind == "crossed"]
    truth = [p for p in complete if p.kind in GROUND_TRUTH_KINDS]
    observed = np.ones((1, len(items)))

    def value(ps, fn) -> float | None:
        return float(_PerItem(len(items), col, ps, fn).mean(observed)[0]) if ps else None

    return {b: {"style_over_substance_rate": value(crossed, lambda p, b=b: baseline_pref(b, p)),
                "accuracy": value(truth, lambda p, b=b: 1.0 - baseline_pref(b, p)),
                "pair_accuracy": value(truth, lambda p, b=b: baseline_pair_correct(b, p))}
            for b in BASELINES}


def baseline_summary(effects: Sequence[ProbeEffect], indices: dict[str, Any],
                     pairs: Sequence[PairOutcome]) -> dict[str, Any]:
    """The content-blind baselines beside the judge, per probe kind, and whether the judge beats always_longer.

    style and judge-facing kinds: mean |delta| over the kind's probes (lower is better);
    substance and crossed kinds: mean accuracy over the kind's probes (higher is better).
    """
    by_kind: dict[str, list[ProbeEffect]] = {}
    for e in effects:
        if e.win_rate is not None and e.baselines:
            by_kind.setdefault(e.kind, []).append(e)
    kinds: dict[str, Any] = {}
    for kind, members in by_kind.items():
        if kind in GROUND_TRUTH_KINDS:
            metric, better = "accuracy", "higher"
            judge_value = float(np.mean([e.accuracy for e in members]))
            values = {b: float(np.mean([e.baselines[b]["accuracy"] for e in members])) for b in BASELINES}
        elif kind in ("style", "judge"):
            metric, better = "mean |delta|", "lower"
            judge_value = float(np.mean([abs(e.delta) for e in members]))
            values = {b: float(np.mean([abs(e.baselines[b]["delta"]) for e in members])) for b in BASELINES}
        else:
            continue
        longer = values["always_longer"]
        beats = judge_value > longer + 1e-12 if better == "higher" else judge_value < longer - 1e-12
        kinds[kind] = {"metric": metric, "better": better, "judge": judge_value, **values, "beats_longer": beats}
    overall = baseline_indices(pairs)
    return {"by_kind": kinds, "indices": overall,
            "judge": {k: indices.get(k) for k in ("style_over_substance_rate", "accuracy", "pair_accuracy")},
            "definition": "content-blind choices on the same pairs: always the longer answer (characters), "
                          "always the one with more markdown, always the first shown, a fair coin (expected "
                          "values); per kind, style and judge-facing probes compare mean |delta| (lower is "
                          "better), substance and crossed probes compare accuracy (higher is better)"}
