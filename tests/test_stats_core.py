"""The statistical core on synthetic judgment records with known, planted behaviour."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from judgeaudit.errors import InputError
from judgeaudit.stats import cohens_h, collect_outcomes, compute_results, holm, load_records, probe_effect, sign_test
from judgeaudit.stats.bootstrap import mean_ci
from judgeaudit.stats.indices import summary_indices
from judgeaudit.stats.effects import battery_effects
from simulated_records import simulate_records


def _rec(pair, item, order, score, probe="markdown", kind="style", repeat=0, **extra):
    return {"key": f"{pair}/{order}/{repeat}", "pair_id": pair, "item_id": item, "probe": probe, "kind": kind,
            "category": "knowledge", "order": order, "repeat": repeat, "base": "b", "perturbed": "p",
            "parsed": score is not None, "score_perturbed": score, **extra}


def test_cohens_h_reference_values():
    assert cohens_h(0.5) == pytest.approx(0.0)
    assert cohens_h(1.0) == pytest.approx(math.pi / 2)
    assert cohens_h(0.0) == pytest.approx(-math.pi / 2)
    assert cohens_h(0.7) == pytest.approx(2 * math.asin(math.sqrt(0.7)) - math.pi / 2)


def test_sign_test_is_exact_binomial_and_ignores_ties():
    p, wins, losses, ties = sign_test([0.9] * 9 + [0.1] + [0.5] * 5)
    assert (wins, losses, ties) == (9, 1, 5)
    assert p == pytest.approx(2 * (1 + 10) / 2**10)
    assert sign_test([0.5, 0.5])[0] is None


def test_holm_matches_hand_computation_and_keeps_missing():
    assert holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])


def test_debiased_outcome_averages_orders_then_repeats():
    recs = [_rec("p1", "i1", "base_first", 0.9, repeat=0), _rec("p1", "i1", "base_first", 0.7, repeat=1),
            _rec("p1", "i1", "perturbed_first", 0.2)]
    (pair,) = collect_outcomes(recs)
    # order means 0.8 and 0.2; their mean, not the mean of all three judgments (0.6)
    assert pair.score == pytest.approx(0.5)
    assert pair.preferences() == (1, -1)


def test_unparsed_judgments_are_counted_and_incomplete_items_excluded():
    recs = [_rec("p1", "i1", "base_first", 0.75), _rec("p1", "i1", "perturbed_first", 0.75),
            _rec("p2", "i2", "base_first", 0.25), _rec("p2", "i2", "perturbed_first", None),
            _rec("p3", "i3", "base_first", None), _rec("p3", "i3", "perturbed_first", 0.0),
            _rec("p3", "i3", "perturbed_first", 0.5, repeat=1)]
    eff = probe_effect("markdown", "style", collect_outcomes(recs))
    assert eff.unparsed == 2
    assert eff.n_judgments == 7
    assert eff.n == 1 and eff.n_incomplete == 2
    assert eff.win_rate == pytest.approx(0.75)


def test_flip_rate_and_position_consistency():
    recs = []
    # i0: both orders prefer perturbed; i1: flip; i2: tie in both; i3: tie vs base
    for item, (a, b) in enumerate([(0.8, 0.9), (0.8, 0.2), (0.5, 0.5), (0.5, 0.3)]):
        recs += [_rec(f"p{item}", f"i{item}", "base_first", a), _rec(f"p{item}", f"i{item}", "perturbed_first", b)]
    eff = probe_effect("markdown", "style", collect_outcomes(recs))
    assert eff.flip_rate == pytest.approx(0.25)
    assert eff.position_consistency == pytest.approx(0.5)


def test_bootstrap_is_clustered_by_item_not_by_judgment():
    """Orders that disagree but average out to the same item outcome give no spread;
    more repeats of the same items do not narrow the interval."""
    recs = []
    for i in range(30):
        recs += [_rec(f"p{i}", f"i{i}", "base_first", 1.0), _rec(f"p{i}", f"i{i}", "perturbed_first", 0.0)]
    eff = probe_effect("markdown", "style", collect_outcomes(recs))
    assert (eff.ci_low, eff.ci_high) == (0.0, 0.0)

    item_effect = np.random.default_rng(1).normal(0.6, 0.15, size=40)

    def rule_for(repeats):
        def rule(probe, kind, order, i, rng):
            return float(np.clip(item_effect[i] + rng.normal(0, 0.01), 0, 1))
        return rule

    widths = {}
    for repeats in (1, 8):
        res = compute_results(simulate_records(rule_for(repeats), n_items=40, repeats=repeats,
                                               probes=[("markdown", "style")]),
                              judge="sim", battery="t", seed=3, resamples=1000)
        p = res["probes"][0]
        assert p["n"] == 40
        widths[repeats] = p["ci_high"] - p["ci_low"]
    # Judgment-level resampling would shrink the width by about sqrt(8) = 2.8.
    assert widths[8] / widths[1] == pytest.approx(1.0, abs=0.15)


def test_ci_covers_planted_delta_at_about_the_nominal_rate():
    rng = np.random.default_rng(0)
    hits, sims = 0, 120
    for s in range(sims):
        x = rng.choice([0.25, 0.5, 0.75, 1.0], size=50, p=[0.2, 0.3, 0.3, 0.2])  # mean 0.625
        ci = mean_ci(x, resamples=999, rng=s)
        hits += ci.low <= 0.625 <= ci.high
    assert 0.88 <= hits / sims <= 0.995


def test_bootstrap_is_reproducible_for_a_seed_and_recorded():
    recs = simulate_records(lambda probe, kind, order, i, rng: float(rng.random()), n_items=30)
    a = compute_results(recs, judge="sim", battery="t", seed=11, resamples=500)
    b = compute_results(recs, judge="sim", battery="t", seed=11, resamples=500)
    c = compute_results(recs, judge="sim", battery="t", seed=12, resamples=500)
    assert a["probes"] == b["probes"]
    assert [p["ci_low"] for p in a["probes"]] != [p["ci_low"] for p in c["probes"]]
    assert a["method"]["resamples"] == 500 and a["method"]["seed"] == 11 and a["method"]["level"] == 0.95


def _planted(probe, kind, order, i, rng):
    """Verbose wins, substance loses, crossed wins 1 in 4, position bias towards A on 30%."""
    if kind == "substance":
        return 0.0
    if kind == "crossed":
        return 1.0 if i % 4 == 0 else 0.0
    if probe == "verbose":
        return 1.0
    if rng.random() < 0.3:
        return 0.25 if order == "base_first" else 0.75
    return 0.5


def test_indices_match_their_definitions():
    recs = simulate_records(_planted, n_items=40, seed=5)
    res = compute_results(recs, judge="sim", battery="t", seed=0, resamples=500)
    probes = {p["name"]: p for p in res["probes"]}
    style = [p for p in res["probes"] if p["kind"] == "style"]
    idx = res["indices"]
    assert idx["style_sensitivity"] == pytest.approx(np.mean([abs(p["delta"]) for p in style]))
    assert idx["substance_sensitivity"] == pytest.approx(0.5)
    assert idx["style_over_substance_rate"] == pytest.approx(10 / 40)
    consistent = [p["position_consistency"] * p["n"] for p in res["probes"]]
    assert idx["position_consistency"] == pytest.approx(sum(consistent) / sum(p["n"] for p in res["probes"]))
    control = probes["control"]
    assert idx["noise_floor"] > 0 and control["position_consistency"] < 1
    lo, hi = res["indices_ci"]["style_over_substance_rate"]
    assert lo < 0.25 < hi
    assert probes["verbose"]["delta"] == pytest.approx(0.5) and probes["factual_error"]["p_holm"] < 1e-6


def test_results_schema_field_names():
    res = compute_results(simulate_records(_planted, n_items=12), judge="sim", battery="t", seed=0, resamples=200)
    for key in ("judge", "battery", "seed", "n_items", "probes", "indices", "style_control", "criteria_weights",
                "method"):
        assert key in res
    for p in res["probes"]:
        assert {"name", "kind", "n", "win_rate", "delta", "ci_low", "ci_high", "cohens_h", "p_value", "p_holm",
                "flip_rate", "position_consistency", "unparsed"} <= set(p)
    assert set(res["indices"]) == {"style_sensitivity", "substance_sensitivity", "style_over_substance_rate",
                                   "position_consistency", "noise_floor"}
    assert {"ci", "level", "resamples", "test"} <= set(res["method"])
    assert res["criteria_weights"] is None  # pairwise template
    json.dumps(res, allow_nan=False)  # strict JSON: no NaN or infinity anywhere


def test_style_control_recovers_a_planted_length_preference():
    def longer_wins(probe, kind, order, i, rng):
        if kind == "control":
            return 0.5
        # the judge only looks at length: longer perturbed text wins, shorter loses
        return 1.0 if probe == "verbose" or (probe == "markdown" and i % 3 == 2) else (
            0.0 if kind == "substance" and rng.random() < 0.5 else 0.5)

    sc = compute_results(simulate_records(longer_wins, n_items=48), judge="sim", battery="t", seed=0,
                         resamples=200)["style_control"]
    assert sc["status"] == "ok"
    price = sc["price_of_style"]
    assert price["ci_low"] > 1.0 and price["odds_ratio"] > 1.5

    def oracle(probe, kind, order, i, rng):
        return 0.0 if kind in ("substance", "crossed") else 0.5

    sc = compute_results(simulate_records(oracle, n_items=48), judge="sim", battery="t", seed=0,
                         resamples=200)["style_control"]
    assert sc["price_of_style"]["ci_low"] <= 1.0 <= sc["price_of_style"]["ci_high"]
    assert sc["coefficients"]["substance_degraded"]["odds_ratio"] < 0.05


def test_criteria_weights_find_the_criteria_that_drive_the_verdict():
    def factorwise(probe, kind, order, i, rng):
        crit = {c: float(rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])) for c in
                ("correctness", "completeness", "safety", "conciseness", "style")}
        overall = 0.7 * crit["style"] + 0.3 * crit["completeness"]
        return overall, crit

    res = compute_results(simulate_records(factorwise, n_items=40), judge="sim", battery="t", seed=0,
                          template="factorwise", resamples=200)
    cw = res["criteria_weights"]
    assert cw["status"] == "ok" and cw["n"] == 40 * 9
    assert cw["weights"]["style"] == pytest.approx(0.7, abs=0.02)
    assert cw["weights"]["completeness"] == pytest.approx(0.3, abs=0.02)
    assert abs(cw["weights"]["correctness"]) < 0.02
    assert cw["coefficients"]["safety"]["ci_low"] < 0 < cw["coefficients"]["safety"]["ci_high"]


def test_load_records_names_file_line_and_field(tmp_path):
    path = tmp_path / "records.jsonl"
    good = _rec("p1", "i1", "base_first", 0.5)
    bad = dict(good, order="sideways")
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError) as exc:
        load_records(path)
    assert "records.jsonl:2" in str(exc.value) and "order" in str(exc.value)
    path.write_text(json.dumps(dict(good, score_perturbed=1.5)) + "\n")
    with pytest.raises(InputError, match="score_perturbed"):
        load_records(path)


def test_index_intervals_reproducible_and_contain_estimate_for_means():
    recs = simulate_records(_planted, n_items=30, seed=2)
    pairs = collect_outcomes(recs)
    eff = battery_effects(pairs, resamples=300, seed=4)
    a = summary_indices(pairs, eff, resamples=300, seed=4)
    b = summary_indices(pairs, eff, resamples=300, seed=4)
    assert a == b
    idx, ci = a
    lo, hi = ci["position_consistency"]
    assert lo <= idx["position_consistency"] <= hi
