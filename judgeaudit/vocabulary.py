"""The words every layer shares, defined once: orders, probe kinds, criteria, verdict labels.

Probes produce pairs of these kinds, judges answer in these verdicts, records carry these
orders, and the statistics and reports group by them; all import them from here.
"""

from __future__ import annotations

# The two orders a pair is shown in; their mean cancels a judge's position preference.
ORDERS: tuple[str, ...] = ("base_first", "perturbed_first")

# Probe kinds, in the order reports list them.
PROBE_KINDS: tuple[str, ...] = ("style", "substance", "crossed", "judge", "control")
# Kinds of pair the judge runner judges: the probe kinds, and arena games (a model's answer
# against the baseline's answer to the same question).
PAIR_KINDS: tuple[str, ...] = PROBE_KINDS + ("arena",)
# Kinds an operator can have (crossed and control pairs are built from these).
OPERATOR_KINDS: tuple[str, ...] = ("style", "substance", "judge")
# Kinds the style-controlled regression fits (text aimed at the judge is not a style or substance change).
REGRESSION_KINDS: tuple[str, ...] = ("style", "substance", "crossed", "control")

# Arena-Hard's five verdicts, A (first shown) against B.
VERDICTS: tuple[str, ...] = ("A>>B", "A>B", "A=B", "B>A", "B>>A")
# Win score of answer A under each verdict.
WIN_VALUES: dict[str, float] = {"A>>B": 1.0, "A>B": 0.75, "A=B": 0.5, "B>A": 0.25, "B>>A": 0.0}
# The verdict read with A and B exchanged.
SWAPPED: dict[str, str] = {"A>>B": "B>>A", "A>B": "B>A", "A=B": "A=B", "B>A": "A>B", "B>>A": "A>>B"}

# The factor-wise template's criteria.
CRITERIA: tuple[str, ...] = ("correctness", "completeness", "safety", "conciseness", "style")
