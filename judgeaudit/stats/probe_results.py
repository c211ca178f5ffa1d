"""Assemble results.json from a run's judgment records (schema: docs/results_schema.md)."""

from __future__ import annotations

from typing import Any, Iterable

from judgeaudit.stats.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES
from judgeaudit.stats.criteria import criteria_weights
from judgeaudit.stats.effects import battery_effects
from judgeaudit.stats.indices import baseline_summary, summary_indices
from judgeaudit.stats.power import method_text as power_method
from judgeaudit.stats.members import members_results
from judgeaudit.stats.outcomes import check_records, collect_outcomes
from judgeaudit.contracts import ProbeResults
from judgeaudit.stats.style_control import style_control
from judgeaudit.vocabulary import PROBE_KINDS as KIND_ORDER

SCHEMA_VERSION = 1


def compute_results(records: Iterable[dict[str, Any]], *, judge: str, battery: str, seed: int,
                    template: str = "pairwise", resamples: int = DEFAULT_RESAMPLES,
                    level: float = DEFAULT_LEVEL, run: dict[str, Any] | None = None,
                    judge_identity: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every statistic of one judge on one battery.

    ``seed`` is the run's seed (pairs and bootstrap); ``run`` is copied into the output as
    extra run information (mode, repeats, cost, ...); ``judge_identity`` (judges.identity) too.
    """
    records = list(records)
    check_records(records)
    pairs = collect_outcomes(records)
    effects = battery_effects(pairs, resamples=resamples, level=level, seed=seed)
    effects.sort(key=lambda e: (KIND_ORDER.index(e.kind) if e.kind in KIND_ORDER else len(KIND_ORDER)))
    indices, intervals = summary_indices(pairs, effects, resamples=resamples, level=level, seed=seed)
    weights = criteria_weights(pairs, level=level) if template == "factorwise" else None
    n_unparsed = sum(p.n_unparsed for p in pairs)
    n_judgments = sum(p.n_judgments for p in pairs)
    members = members_results(records, battery=battery, seed=seed, template=template, resamples=resamples,
                              level=level)
    results = {
        "schema_version": SCHEMA_VERSION,
        "judge": judge,
        "battery": battery,
        "seed": seed,
        "template": template,
        "n_items": len({p.item_id for p in pairs}),
        "n_pairs": len(pairs),
        "n_judgments": n_judgments,
        "unparsed": n_unparsed,
        # Outputs whose unquoted verdicts disagreed; read by the rule in judges.verdicts.
        "ambiguous": sum(1 for r in records if isinstance(r, dict) and r.get("ambiguous")),
        "probes": [e.to_dict() for e in effects],
        "indices": indices,
        "indices_ci": intervals,
        "baselines": baseline_summary(effects, indices, pairs),
        "style_control": style_control(pairs, level=level),
        "criteria_weights": weights,
        **({"members": members} if members is not None else {}),
        "method": {
            "unit": "item; an item's outcome is the mean over its two orders (and repeats) of the "
                    "perturbed answer's preference, P(perturbed preferred) + 0.5 P(tie) (A>B and A>>B "
                    "both win: Arena-Hard / MT-Bench convention)",
            "win_rate": "mean over items of the item outcome; delta = win_rate - 0.5",
            "mean_score": "mean over items of the graded win score (A>>B=1, A>B=.75, A=B=.5, B>A=.25, "
                          "B>>A=0), same bootstrap",
            "strong_share": "strong (>>) verdict mass over decisive (not tie) verdict mass",
            "ci": "bootstrap over items",
            "ci_method": "BCa (scipy.stats.bootstrap) per probe; percentile (scipy.stats.bootstrap over "
                         "items, each index its own seeded generator) for the indices",
            "level": level,
            "resamples": resamples,
            "seed": seed,
            "test": "exact two-sided sign test (binomial, p=0.5) over items with a non-tied outcome; "
                    "Holm correction across the battery",
            "position_test": "exact McNemar test on per-order preferences",
            "effect_size": "Cohen's h of the win rate against 0.5",
            "power": power_method(max(len(effects), 1)),
            "position": "MT-Bench classes per pair: consistent, biased_first, biased_second, undecided "
                        "(a tie in one order only, or an order unparsed)",
            "calibration": "ECE (10 equal-width bins) and Brier of P(answer shown first preferred) + "
                           "0.5 P(tie) against truth on substance and crossed pairs; distribution judges only",
            "unparsed": "unparsed judgments are counted per probe and excluded; an item needs a "
                        "parsed judgment in both orders",
        },
        "run": run or {},
        "judge_identity": judge_identity,
    }
    ProbeResults.model_validate(results)  # the writer keeps to the contract its readers check
    return results
