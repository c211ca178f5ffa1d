"""Statistics of a probe run: per-probe effects with item-clustered CIs, indices, regressions."""

from judgeaudit.stats.effects import ProbeEffect, battery_effects, cohens_h, holm, probe_effect, sign_test
from judgeaudit.stats.outcomes import PairOutcome, collect_outcomes, load_records
from judgeaudit.stats.policy import Check, Policy, evaluate, load_policy
from judgeaudit.stats.probe_results import compute_results

__all__ = [
    "ProbeEffect", "battery_effects", "cohens_h", "holm", "probe_effect", "sign_test",
    "PairOutcome", "collect_outcomes", "load_records",
    "Check", "Policy", "evaluate", "load_policy",
    "compute_results",
]
