"""The field's metrics recover what planted judges do: win rate, position, style over substance,
accuracy and calibration, baselines, power."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from judgeaudit.judges import make_judge, run_judgments
from judgeaudit.judges.plugin import PairJudgeAdapter
from judgeaudit.probes.features import markdown_marks
from judgeaudit.probes.pairs import build_pairs
from judgeaudit.runstore import RunStore
from judgeaudit.stats import compute_results
from judgeaudit.stats.power import min_detectable_delta, sign_test_power

N_ITEMS = 40


@pytest.fixture(scope="module")
def pairs():
    return build_pairs(battery="default", seed=0, limit=N_ITEMS)


def _draw(*parts: str) -> float:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


class MarkdownLeaning:
    """Plain plugin: says A>B (never >>) for the answer with more markdown with probability p."""

    def __init__(self, p: float):
        self.p = p

    def judge_pair(self, prompt: str, answer_a: str, answer_b: str) -> dict[str, float]:
        ma, mb = markdown_marks(answer_a), markdown_marks(answer_b)
        if ma == mb:
            return {"A=B": 1.0}
        styled_is_a = ma > mb
        picks_styled = _draw(prompt, answer_a, answer_b) < self.p
        return {"A>B": 1.0} if styled_is_a == picks_styled else {"B>A": 1.0}


class FirstLeaning:
    """Plain plugin: prefers the answer shown first with probability p, independently per judgment."""

    def __init__(self, p: float):
        self.p = p
        self.calls = 0

    def judge_pair(self, prompt: str, answer_a: str, answer_b: str) -> dict[str, float]:
        self.calls += 1  # answers of a control pair are identical: draw per call, not per text
        return {"A>>B": 1.0} if _draw(prompt, answer_a, str(self.calls)) < self.p else {"B>>A": 1.0}


def _run(judge, pairs, tmp_path_factory, name="plugin"):
    if not hasattr(judge, "judge_batch"):
        judge = PairJudgeAdapter(judge, name)  # what `--judge module:attribute` wraps a plain plugin in
    store = RunStore(tmp_path_factory.mktemp("run"))
    records = run_judgments(judge, pairs, store, progress=False)
    return compute_results(records, judge=name, battery="default", seed=0, resamples=1000)


def _only(pairs, *probes):
    return [p for p in pairs if p.probe in probes]


def _probe(res, name):
    return next(p for p in res["probes"] if p["name"] == name)


@pytest.mark.parametrize("p", [0.9, 0.7])
def test_markdown_preference_p_gives_win_rate_p(pairs, tmp_path_factory, p):
    res = _run(MarkdownLeaning(p), _only(pairs, "markdown"), tmp_path_factory)
    md = _probe(res, "markdown")
    lo, hi = md["ci_low"] + 0.5, md["ci_high"] + 0.5
    assert lo <= p <= hi and abs(md["win_rate"] - p) < 0.1, md
    # the graded score reads A>B as .75: it sits at 0.25 + 0.5 p, not at p
    lo, hi = md["mean_score_ci"]
    assert lo <= 0.25 + 0.5 * p <= hi, md
    assert md["strong_share"] == 0.0
    assert md["delta"] == pytest.approx(md["win_rate"] - 0.5)


@pytest.mark.parametrize("p", [0.7, 0.55])
def test_first_position_preference_p_gives_first_position_rate_p_on_control(pairs, tmp_path_factory, p):
    res = _run(FirstLeaning(p), _only(pairs, "control", "markdown", "factual_error"), tmp_path_factory)
    idx, ci = res["indices"], res["indices_ci"]
    lo, hi = ci["first_position_rate_control"]
    assert lo <= p <= hi and abs(idx["first_position_rate_control"] - p) < 0.1, (idx, lo, hi)
    lo, hi = ci["first_position_rate"]
    assert lo <= p <= hi, (idx["first_position_rate"], lo, hi)
    # MT-Bench classes: first wins twice with p^2, second twice with (1 - p)^2
    pos = idx["position"]
    assert pos["biased_first"] == pytest.approx(p * p, abs=0.06)
    assert pos["biased_second"] == pytest.approx((1 - p) ** 2, abs=0.06)
    assert pos["consistent"] + pos["biased_first"] + pos["biased_second"] + pos["undecided"] == pytest.approx(1)


def test_indifferent_judge_gives_style_over_substance_one_half(pairs, tmp_path_factory):
    res = _run(make_judge("synthetic:random"), [p for p in pairs if p.kind == "crossed"], tmp_path_factory)
    rate, (lo, hi) = res["indices"]["style_over_substance_rate"], res["indices_ci"]["style_over_substance_rate"]
    assert lo <= 0.5 <= hi and abs(rate - 0.5) < 0.08, (rate, lo, hi)
    # the strict share (styled wrong wins in both orders) reads far lower for the same judge
    assert res["indices"]["style_over_substance_strict"] < 0.4


def test_always_tie_judge_reads_exactly_one_half(pairs, tmp_path_factory):
    class Tie:
        def judge_pair(self, prompt, answer_a, answer_b):
            return {"A=B": 1.0}

    res = _run(Tie(), pairs[:80], tmp_path_factory)
    assert res["indices"]["style_over_substance_rate"] in (None, 0.5)
    assert all(p["win_rate"] == 0.5 for p in res["probes"])
    assert res["indices"]["position"]["consistent"] == 1.0


@pytest.fixture(scope="module")
def oracle(pairs, tmp_path_factory):
    return _run(make_judge("synthetic:oracle"), pairs, tmp_path_factory)


def test_oracle_gives_accuracy_one_and_pair_accuracy_one(oracle):
    res = oracle
    idx = res["indices"]
    assert idx["accuracy"] == 1.0 and idx["pair_accuracy"] == 1.0
    assert idx["style_over_substance_rate"] == 0.0 and idx["first_position_rate"] == 0.5
    for p in res["probes"]:
        if p["kind"] in ("substance", "crossed"):
            assert p["accuracy"] == 1.0 and p["pair_accuracy"] == 1.0
        else:
            assert p["accuracy"] is None
    assert idx["ece"] is None  # hard verdicts: no calibration


def test_longer_judge_matches_the_always_longer_baseline(pairs, tmp_path_factory, oracle):
    res = _run(make_judge("synthetic:longer"), pairs, tmp_path_factory)
    for p in res["probes"]:
        assert p["win_rate"] == pytest.approx(p["baselines"]["always_longer"]["win_rate"]), p["name"]
    base = res["baselines"]
    assert base["indices"]["always_longer"]["accuracy"] == pytest.approx(res["indices"]["accuracy"])
    assert not any(row["beats_longer"] for row in base["by_kind"].values())
    assert oracle["baselines"]["by_kind"]["crossed"]["beats_longer"]
    assert oracle["baselines"]["indices"]["coin_flip"]["pair_accuracy"] == pytest.approx(0.25)
    assert oracle["baselines"]["indices"]["always_first"]["pair_accuracy"] == 0.0


def _rec(pair, item, order, probs, kind="substance", probe="factual_error"):
    from judgeaudit.judges.protocol import swap, win_score

    view = swap(probs) if order == "base_first" else probs
    return {"key": f"{pair}/{order}", "pair_id": pair, "item_id": item, "probe": probe, "kind": kind,
            "category": "knowledge", "order": order, "base": "b", "perturbed": "p", "parsed": True,
            "probs": probs, "score_perturbed": win_score(view)}


def test_calibration_of_a_distribution_judge_matches_hand_computation():
    # Says 80% for the right (base) answer in every order: right every time, so under-confident.
    recs = []
    for i in range(30):
        recs += [_rec(f"p{i}", f"i{i}", "base_first", {"A>B": 0.8, "B>A": 0.2}),
                 _rec(f"p{i}", f"i{i}", "perturbed_first", {"A>B": 0.2, "B>A": 0.8})]
    res = compute_results(recs, judge="d", battery="t", seed=0, resamples=300)
    idx = res["indices"]
    assert idx["brier"] == pytest.approx(0.04) and idx["ece"] == pytest.approx(0.2)
    assert idx["accuracy"] == pytest.approx(0.8) and idx["pair_accuracy"] == 1.0
    bins = idx["calibration"]["bins"]
    assert [(b["mean_q"], b["share_right"]) for b in bins] == [(pytest.approx(0.2), 0.0), (pytest.approx(0.8), 1.0)]
    # a judge calibrated on every judgment: ECE 0
    recs = []
    for i in range(30):
        right = i % 5 != 0  # 80% of items: the right answer preferred in both orders, at 0.8
        q = {"A>B": 0.8, "B>A": 0.2}
        recs += [_rec(f"p{i}", f"i{i}", "base_first", q if right else {"A>B": 0.2, "B>A": 0.8}),
                 _rec(f"p{i}", f"i{i}", "perturbed_first", {"A>B": 0.2, "B>A": 0.8} if right else q)]
    idx = compute_results(recs, judge="d", battery="t", seed=0, resamples=300)["indices"]
    assert idx["accuracy"] == pytest.approx(0.8 * 0.8 + 0.2 * 0.2)


def test_strong_share_counts_strong_mass_over_decisive_mass():
    recs = [_rec("p1", "i1", "base_first", {"A>>B": 0.5, "A>B": 0.25, "A=B": 0.25}),
            _rec("p1", "i1", "perturbed_first", {"B>A": 1.0})]
    res = compute_results(recs, judge="d", battery="t", seed=0, resamples=100)
    assert res["probes"][0]["strong_share"] == pytest.approx(0.5 / 1.75)


def test_min_detectable_delta_is_exact_binomial_power():
    d = min_detectable_delta(60, n_tests=10)
    level = 0.05 / 10
    assert sign_test_power(60, 0.5 + d, level) == pytest.approx(0.8, abs=1e-4)
    assert sign_test_power(60, 0.5 + d - 0.02, level) < 0.8
    assert min_detectable_delta(60, n_tests=1) < d < min_detectable_delta(30, n_tests=10)
    assert min_detectable_delta(3, n_tests=10) is None  # no outcome of 3 items reaches p <= 0.005
    # simulation check of the computed power at that delta
    rng = np.random.default_rng(0)
    from scipy import stats
    wins = rng.binomial(60, 0.5 + d, size=4000)
    p_of = np.array([stats.binomtest(k, 60, 0.5).pvalue for k in range(61)])
    rejected = np.mean(p_of[wins] <= level)
    assert rejected == pytest.approx(0.8, abs=0.03)
