"""Planted-bias recovery: real probe pairs, synthetic judges with known behaviour, the full statistics."""

from __future__ import annotations

import pytest

from judgeaudit.judges import make_judge, run_judgments
from judgeaudit.probes.pairs import build_pairs
from judgeaudit.runstore import RunStore
from judgeaudit.stats import compute_results

N_ITEMS = 30


@pytest.fixture(scope="module")
def pairs():
    return build_pairs(battery="default", seed=0, limit=N_ITEMS)


def _results(spec, pairs, tmp_path_factory):
    judge = make_judge(spec)
    store = RunStore(tmp_path_factory.mktemp("run"))
    records = run_judgments(judge, pairs, store, progress=False)
    return compute_results(records, judge=judge.name, battery="default", seed=0, resamples=1000)


def _probes(results, kind):
    found = [p for p in results["probes"] if p["kind"] == kind]
    assert found, f"battery has no {kind} probes"
    return found


def test_longer_judge_shows_a_large_verbose_effect(pairs, tmp_path_factory):
    res = _results("synthetic:longer", pairs, tmp_path_factory)
    verbose = next(p for p in res["probes"] if p["name"] == "verbose")
    assert verbose["n"] >= 20
    assert verbose["delta"] > 0.3 and verbose["ci_low"] > 0
    assert verbose["p_holm"] < 0.001
    # a judge that only counts characters prefers the padded wrong answer to the plain right one
    assert res["indices"]["style_over_substance_rate"] > 0.8
    assert res["style_control"]["price_of_style"]["ci_low"] > 1


def test_oracle_judge_ignores_style_and_rejects_every_degraded_answer(pairs, tmp_path_factory):
    res = _results("synthetic:oracle", pairs, tmp_path_factory)
    for p in _probes(res, "style") + _probes(res, "control") + _probes(res, "judge"):
        assert p["ci_low"] <= 0 <= p["ci_high"], p
    for p in _probes(res, "substance") + _probes(res, "crossed"):
        # every item's debiased outcome favours the correct answer
        assert p["n_wins"] == 0 and p["n_ties"] == 0, p
        assert p["delta"] <= -0.25 and p["ci_high"] < 0, p
    assert res["indices"]["style_sensitivity"] == 0
    assert res["indices"]["style_over_substance_rate"] == 0
    assert res["indices"]["position_consistency"] == 1


def test_oracle_substance_deltas_below_minus_0_4(pairs, tmp_path_factory):
    res = _results("synthetic:oracle", pairs, tmp_path_factory)
    for p in _probes(res, "substance"):
        assert p["delta"] < -0.4, p


@pytest.mark.parametrize("p_bias", [0.8, 0.6])
def test_position_judge_consistency_matches_its_bias(pairs, tmp_path_factory, p_bias):
    res = _results(f"synthetic:position?p={p_bias}", pairs, tmp_path_factory)
    # base_first prefers base with prob p, perturbed_first prefers perturbed with prob p, and
    # the two draws are independent: the orders agree with probability 2 p (1 - p). A control
    # pair shows the same request in both orders, and this judge's draw is a function of the
    # request, so it picks A both times: never consistent.
    n_control = sum(p["n"] for p in _probes(res, "control"))
    n_all = sum(p["n"] for p in res["probes"])
    implied = 2 * p_bias * (1 - p_bias) * (n_all - n_control) / n_all
    lo, hi = res["indices_ci"]["position_consistency"]
    assert lo <= implied <= hi, (implied, lo, hi, res["indices"]["position_consistency"])
    assert abs(res["indices"]["position_consistency"] - implied) < 0.05
    assert all(p["position_consistency"] == 0 for p in _probes(res, "control"))
    # a pure position bias is cancelled by judging both orders: no probe shows an effect
    for p in res["probes"]:
        assert p["p_holm"] is None or p["p_holm"] > 0.05, p
