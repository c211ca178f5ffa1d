"""Per-probe effect of a perturbation on the judge: win rate, delta, CI, tests.

Definitions (also in docs/results_schema.md):
- win_rate w: mean over items of the item's position-debiased preference for the perturbed
  answer, P(perturbed preferred) + 0.5 P(tie) per judgment (Arena-Hard / MT-Bench
  convention: A>B and A>>B are both wins); delta = w - 0.5; the CI is a bootstrap over items.
- mean_score: the same mean of the graded win score (A>>B = 1, A>B = .75, ...), with its own CI.
- strong_share: share of the decisive verdict mass that is strong (>>).
- Cohen's h of w against 0.5: 2 asin(sqrt(w)) - 2 asin(sqrt(0.5)).
- p_value: exact two-sided sign test (binomial, p = 0.5) over items whose debiased preference
  is not a tie; p_holm: Holm-adjusted across every probe of the battery.
- position: MT-Bench classes of the probe's pairs (stats.position); first_position_rate over
  its judgments, with a CI over items.
- accuracy, pair_accuracy (substance and crossed probes, where the base answer is right by
  construction): 1 - w, and the share of pairs with the base preferred in both orders.
- baselines: the content-blind baselines' win rates on the same pairs (stats.baselines).
- min_detectable_delta: stats.power at this probe's n and the battery's number of probes.
- p_position: exact McNemar test on the paired per-order outcomes ("perturbed preferred"
  in base_first vs in perturbed_first) of items whose preference is not a tie in either
  order; small p means the preference depends on the position.
- flip_rate: share of items whose two orders prefer opposite sides.
- position_consistency: share of items whose two orders give the same preference
  (perturbed, base, or tie in both).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from judgeaudit.stats.baselines import BASELINES, baseline_pair_correct, baseline_pref
from judgeaudit.stats.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, mean_ci, named_rng
from judgeaudit.stats.outcomes import PairOutcome
from judgeaudit.stats.position import position_shares
from judgeaudit.stats.power import min_detectable_delta

# Probe kinds whose base answer is right by construction (ground truth known).
GROUND_TRUTH_KINDS = ("substance", "crossed")

TIE_TOL = 1e-9


@dataclass
class ProbeEffect:
    name: str
    kind: str
    n: int  # items with a debiased outcome
    win_rate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    cohens_h: float | None
    p_value: float | None
    p_holm: float | None
    flip_rate: float | None
    position_consistency: float | None
    unparsed: int
    # extras (documented in docs/results_schema.md)
    n_judgments: int = 0
    n_incomplete: int = 0  # items left out because an order had no parsed judgment
    ci_method: str | None = None
    position_consistency_ci: list[float] | None = None
    p_position: float | None = None
    n_wins: int = 0  # items whose debiased outcome favours the perturbed answer
    n_losses: int = 0
    n_ties: int = 0
    mean_score: float | None = None
    mean_score_ci: list[float] | None = None
    strong_share: float | None = None
    position: dict | None = None
    first_position_rate: float | None = None
    first_position_rate_ci: list[float] | None = None
    accuracy: float | None = None
    accuracy_ci: list[float] | None = None
    pair_accuracy: float | None = None
    baselines: dict | None = None
    min_detectable_delta: float | None = None

    def to_dict(self) -> dict:
        return {k: _clean(v) for k, v in asdict(self).items()}


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (np.floating,)):
        return _clean(float(v))
    return v


def cohens_h(p: float, p0: float = 0.5) -> float:
    p = min(max(p, 0.0), 1.0)
    return 2.0 * math.asin(math.sqrt(p)) - 2.0 * math.asin(math.sqrt(p0))


def sign_test(outcomes: Sequence[float]) -> tuple[float | None, int, int, int]:
    """Exact two-sided sign test against 0.5; returns (p, wins, losses, ties)."""
    x = np.asarray(outcomes, dtype=float)
    wins = int(np.sum(x > 0.5 + TIE_TOL))
    losses = int(np.sum(x < 0.5 - TIE_TOL))
    ties = int(x.size - wins - losses)
    if wins + losses == 0:
        return None, wins, losses, ties
    return float(stats.binomtest(wins, wins + losses, 0.5).pvalue), wins, losses, ties


def mcnemar_position(preferences: Sequence[tuple[int, int]]) -> float | None:
    """Exact McNemar p for order dependence; ties in either order are left out."""
    table = np.zeros((2, 2), dtype=int)
    for first, second in preferences:
        if first == 0 or second == 0:
            continue
        table[int(first > 0), int(second > 0)] += 1
    if table[0, 1] + table[1, 0] == 0:
        return None if table.sum() == 0 else 1.0
    return float(mcnemar(table, exact=True).pvalue)


def _ci(values: np.ndarray, resamples: int, level: float, seed: int, name: str) -> list[float] | None:
    ci = mean_ci(values, resamples=resamples, level=level, rng=named_rng(seed, name))
    return None if ci is None else [ci.low, ci.high]


def strong_share(pairs: Sequence[PairOutcome]) -> float | None:
    """Strong (>>) verdict mass over decisive verdict mass, over every parsed judgment that says."""
    strong = decisive = 0.0
    for p in pairs:
        for s, d in zip(p.strong, p.decisive):
            if s is not None and d is not None:
                strong, decisive = strong + s, decisive + d
    return strong / decisive if decisive > 1e-12 else None


def _item_means(by_item: dict[str, list[PairOutcome]], value) -> np.ndarray:
    return np.array([np.mean([value(p) for p in ps]) for ps in by_item.values()], dtype=float)


def _flip(pref: tuple[int, int]) -> float:
    return float(pref[0] * pref[1] < 0)


def _same(pref: tuple[int, int]) -> float:
    return float(pref[0] == pref[1])


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm adjustment (statsmodels) over the p-values that exist; None stays None."""
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    if idx:
        adjusted = multipletests([pvalues[i] for i in idx], method="holm")[1]
        for i, p in zip(idx, adjusted):
            out[i] = float(p)
    return out


def probe_effect(name: str, kind: str, pairs: Sequence[PairOutcome], *, resamples: int = DEFAULT_RESAMPLES,
                 level: float = DEFAULT_LEVEL, seed: int = 0) -> ProbeEffect:
    """Effect of one probe from its pairs.

    The unit is the item: when a probe has several pairs for one item (e.g. one per key
    fact), the item's outcome and its flip/consistency shares are means over those pairs.
    """
    complete = [p for p in pairs if p.complete]
    by_item: dict[str, list[PairOutcome]] = {}
    for p in complete:
        by_item.setdefault(p.item_id, []).append(p)
    prefs = [p.preferences() for p in complete]
    unparsed = sum(p.n_unparsed for p in pairs)
    effect = ProbeEffect(
        name=name, kind=kind, n=len(by_item), win_rate=None, delta=None, ci_low=None, ci_high=None,
        cohens_h=None, p_value=None, p_holm=None, flip_rate=None, position_consistency=None,
        unparsed=unparsed, n_judgments=sum(p.n_judgments for p in pairs),
        n_incomplete=len({p.item_id for p in pairs} - set(by_item)),
        position=position_shares(pairs),
    )
    if not complete:
        return effect
    outcomes = _item_means(by_item, lambda p: p.pref)
    w = float(outcomes.mean())
    effect.win_rate, effect.delta, effect.cohens_h = w, w - 0.5, cohens_h(w)
    ci = mean_ci(outcomes, resamples=resamples, level=level, rng=named_rng(seed, name))
    if ci is not None:
        effect.ci_low, effect.ci_high, effect.ci_method = ci.low - 0.5, ci.high - 0.5, ci.method
    effect.p_value, effect.n_wins, effect.n_losses, effect.n_ties = sign_test(outcomes)
    scores = _item_means(by_item, lambda p: p.score)
    effect.mean_score = float(scores.mean())
    effect.mean_score_ci = _ci(scores, resamples, level, seed, name + "/mean_score")
    effect.strong_share = strong_share(complete)
    effect.flip_rate = float(_item_means(by_item, lambda p: _flip(p.preferences())).mean())
    same = _item_means(by_item, lambda p: _same(p.preferences()))
    effect.position_consistency = float(same.mean())
    effect.position_consistency_ci = _ci(same, resamples, level, seed, name + "/position")
    effect.p_position = mcnemar_position(prefs)
    first = np.array([np.mean([v for p in ps for v in p.first_position_values()]) for ps in by_item.values()])
    effect.first_position_rate = float(first.mean())
    effect.first_position_rate_ci = _ci(first, resamples, level, seed, name + "/first_position")
    if kind in GROUND_TRUTH_KINDS:
        correct = 1.0 - outcomes
        effect.accuracy = float(correct.mean())
        effect.accuracy_ci = _ci(correct, resamples, level, seed, name + "/accuracy")
        effect.pair_accuracy = float(_item_means(by_item, lambda p: float(p.preferences() == (-1, -1))).mean())
    effect.baselines = {}
    for b in BASELINES:
        bw = float(_item_means(by_item, lambda p: baseline_pref(b, p)).mean())
        row = {"win_rate": bw, "delta": bw - 0.5}
        if kind in GROUND_TRUTH_KINDS:
            row["accuracy"] = 1.0 - bw
            row["pair_accuracy"] = float(_item_means(by_item, lambda p: baseline_pair_correct(b, p)).mean())
        effect.baselines[b] = row
    return effect


def battery_effects(pairs: Sequence[PairOutcome], *, resamples: int = DEFAULT_RESAMPLES,
                    level: float = DEFAULT_LEVEL, seed: int = 0) -> list[ProbeEffect]:
    """One effect per probe, in order of first appearance, with Holm across the battery."""
    groups: dict[str, list[PairOutcome]] = {}
    for p in pairs:
        groups.setdefault(p.probe, []).append(p)
    effects = [probe_effect(name, ps[0].kind, ps, resamples=resamples, level=level, seed=seed)
               for name, ps in groups.items()]
    for e, p in zip(effects, holm([e.p_value for e in effects])):
        e.p_holm = p
        e.min_detectable_delta = min_detectable_delta(e.n, n_tests=len(effects))
    return effects
