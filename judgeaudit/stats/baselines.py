"""Content-blind baselines, scored on the same pairs as the judge.

Each baseline gives, per pair and order, its expected preference for the perturbed answer
(Arena convention, ties half), so it goes through the same win rate, accuracy and
pair-accuracy definitions as a judge:
- always_longer: prefers the answer with more characters (tie when equal);
- always_more_markdown: prefers the answer with more markdown structures (tie when equal);
- always_first: prefers the answer shown first;
- coin_flip: a fair coin per judgment (expected values: preference 0.5 in each order,
  pair accuracy 0.25).
"""

from __future__ import annotations

from typing import Callable

from judgeaudit.probes.features import markdown_marks
from judgeaudit.stats.outcomes import PairOutcome

BASELINES = ("always_longer", "always_more_markdown", "always_first", "coin_flip")


def _compare(a: float, b: float) -> float:
    return 1.0 if a > b else 0.0 if a < b else 0.5


def _longer(p: PairOutcome) -> tuple[float, float]:
    v = _compare(len(p.perturbed.strip()), len(p.base.strip()))
    return v, v


def _markdown(p: PairOutcome) -> tuple[float, float]:
    v = _compare(markdown_marks(p.perturbed), markdown_marks(p.base))
    return v, v


def _first(p: PairOutcome) -> tuple[float, float]:
    return 0.0, 1.0  # base shown first wins; perturbed shown first wins


def _coin(p: PairOutcome) -> tuple[float, float]:
    return 0.5, 0.5


ORDER_PREFS: dict[str, Callable[[PairOutcome], tuple[float, float]]] = {
    "always_longer": _longer, "always_more_markdown": _markdown, "always_first": _first, "coin_flip": _coin,
}


def baseline_pref(name: str, pair: PairOutcome) -> float:
    """The baseline's debiased preference for the perturbed answer on ``pair``."""
    a, b = ORDER_PREFS[name](pair)
    return 0.5 * (a + b)


def baseline_pair_correct(name: str, pair: PairOutcome) -> float:
    """Probability the baseline prefers the base (correct) answer in both orders."""
    if name == "coin_flip":
        return 0.25
    a, b = ORDER_PREFS[name](pair)
    return float(a == 0.0 and b == 0.0)
