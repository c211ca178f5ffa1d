"""Position bias, MT-Bench style: which side wins in each of a pair's two orders.

A pair's class, from the preferred side in each order (order means over repeats):
- consistent: the same answer preferred in both orders (a tie in both counts as consistent);
- biased_first: the answer shown first wins in both orders;
- biased_second: the answer shown second wins in both orders;
- undecided: a tie in one order and a preference in the other, or an order without a
  parsed judgment (unparsed).
The four shares sum to 1. ``first_position_rate`` is, over judgments, P(first shown
preferred) + 0.5 P(tie); 0.5 is no position preference, and control pairs (identical answers)
read it free of any content preference.
"""

from __future__ import annotations

from typing import Sequence

from judgeaudit.stats.outcomes import PairOutcome

POSITION_CLASSES = ("consistent", "biased_first", "biased_second", "undecided")


def position_class(pair: PairOutcome) -> str:
    prefs = pair.preferences()
    if prefs is None:
        return "undecided"
    in_base_first, in_perturbed_first = prefs  # +1 perturbed preferred, -1 base, 0 tie
    if in_base_first == in_perturbed_first:
        return "consistent"
    if in_base_first == -1 and in_perturbed_first == 1:  # base first wins, then perturbed first wins
        return "biased_first"
    if in_base_first == 1 and in_perturbed_first == -1:
        return "biased_second"
    return "undecided"


def position_shares(pairs: Sequence[PairOutcome]) -> dict[str, float | int] | None:
    """Share of ``pairs`` in each class, and n (pairs); None when there are none."""
    if not pairs:
        return None
    counts = {c: 0 for c in POSITION_CLASSES}
    for p in pairs:
        counts[position_class(p)] += 1
    out: dict[str, float | int] = {c: counts[c] / len(pairs) for c in POSITION_CLASSES}
    out["n"] = len(pairs)
    return out
