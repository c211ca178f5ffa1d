"""Per-probe effect of a perturbation on the judge: win score, delta, CI, tests.

Definitions (also in docs/results_schema.md):
- w: mean over items of the item's position-debiased win score of the perturbed answer;
  delta = w - 0.5; the CI is a bootstrap over items.
- Cohen's h of w against 0.5: 2 asin(sqrt(w)) - 2 asin(sqrt(0.5)).
- p_value: exact two-sided sign test (binomial, p = 0.5) over items whose debiased outcome
  is not a tie; p_holm: Holm-adjusted across every probe of the battery.
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

from judgeaudit.stats.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, mean_ci, named_rng
from judgeaudit.stats.outcomes import PairOutcome

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
    outcomes = np.array([np.mean([p.score for p in ps]) for ps in by_item.values()], dtype=float)
    prefs = [p.preferences() for p in complete]
    flips = np.array([np.mean([_flip(p.preferences()) for p in ps]) for ps in by_item.values()], dtype=float)
    same = np.array([np.mean([_same(p.preferences()) for p in ps]) for ps in by_item.values()], dtype=float)
    unparsed = sum(p.n_unparsed for p in pairs)
    effect = ProbeEffect(
        name=name, kind=kind, n=len(by_item), win_rate=None, delta=None, ci_low=None, ci_high=None,
        cohens_h=None, p_value=None, p_holm=None, flip_rate=None, position_consistency=None,
        unparsed=unparsed, n_judgments=sum(p.n_judgments for p in pairs),
        n_incomplete=len({p.item_id for p in pairs} - set(by_item)),
    )
    if not complete:
        return effect
    w = float(outcomes.mean())
    effect.win_rate, effect.delta, effect.cohens_h = w, w - 0.5, cohens_h(w)
    ci = mean_ci(outcomes, resamples=resamples, level=level, rng=named_rng(seed, name))
    if ci is not None:
        effect.ci_low, effect.ci_high, effect.ci_method = ci.low - 0.5, ci.high - 0.5, ci.method
    effect.p_value, effect.n_wins, effect.n_losses, effect.n_ties = sign_test(outcomes)
    effect.flip_rate = float(flips.mean())
    effect.position_consistency = float(same.mean())
    pc_ci = mean_ci(same, resamples=resamples, level=level, rng=named_rng(seed, name + "/position"))
    if pc_ci is not None:
        effect.position_consistency_ci = [pc_ci.low, pc_ci.high]
    effect.p_position = mcnemar_position(prefs)
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
    return effects
