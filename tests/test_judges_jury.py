"""Juries: spec grammar, combination rules, and per-member results from the same statistics."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.cli import main
from judgeaudit.errors import JudgeauditError
from judgeaudit.judges import make_judge, swap
from judgeaudit.judges.jury import JuryJudge, JurySpecError, combine_majority, combine_mean, parse_jury_spec
from judgeaudit.judges.protocol import VERDICTS, Judgment, JudgeRequest, point_mass

ITEMS = "tests/data/probe_items_small.jsonl"


def test_spec_grammar_keeps_colons_and_options_inside_members():
    spec = parse_jury_spec("jury:synthetic:position?p=0.8&seed=3, my_module:judge ,likelihood:smollm2?normalize=none")
    assert spec.members == ("synthetic:position?p=0.8&seed=3", "my_module:judge", "likelihood:smollm2?normalize=none")
    assert spec.vote == "mean"
    assert parse_jury_spec("jury:synthetic:oracle,path/to/j.py:make:vote=majority") == \
        parse_jury_spec("jury:synthetic:oracle,path/to/j.py:make:vote=majority")
    assert parse_jury_spec("jury:synthetic:oracle,path/to/j.py:make:vote=majority").members[1] == "path/to/j.py:make"
    assert parse_jury_spec("jury:a,b:vote=majority").vote == "majority"


@pytest.mark.parametrize("spec, message", [
    ("jury:", "names no members"),
    ("jury::vote=mean", "names no members"),
    ("jury:synthetic:oracle", "at least two members"),
    ("jury:synthetic:oracle,,synthetic:longer", "member 2 is empty"),
    ("jury:synthetic:oracle,synthetic:longer,", "member 3 is empty"),
    ("jury:synthetic:oracle,synthetic:longer:vote=median", "unknown vote 'median'"),
    ("jury:synthetic:oracle:vote=mean,synthetic:longer", "carries ':vote='"),
    ("jury:synthetic:oracle,jury:a,b", "juries do not nest"),
    ("jury:synthetic:oracle,synthetic:oracle", "appears more than once"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(JurySpecError, match=message):
        parse_jury_spec(spec)


def test_bad_spec_on_the_command_line_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["probe", "--judge", "jury:synthetic:oracle,,synthetic:longer", "--items", ITEMS,
                                       "--limit", "2", "--out", str(tmp_path / "run")])
    assert result.exit_code != 0 and not (tmp_path / "run").exists()
    assert result.output.strip().splitlines() == [
        "Error: jury spec 'jury:synthetic:oracle,,synthetic:longer': member 2 is empty (two commas, or a comma at an end)"]
    bad_member = CliRunner().invoke(main, ["judges", "try", "--judge", "jury:synthetic:oracle,synthetic:nosuch",
                                           "--prompt", "p", "--a", "a", "--b", "b"])
    assert bad_member.exit_code != 0 and "unknown synthetic judge 'nosuch'" in bad_member.output


def test_judges_list_shows_the_new_kinds():
    result = CliRunner().invoke(main, ["judges", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for word in ("reward:HF-ID", "likelihood:smollm2", "jury:SPEC1,SPEC2", "vote=mean|majority", "--reward-scale"):
        assert word in result.output


_dist = st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5).filter(lambda w: sum(w) > 1e-6).map(
    lambda w: {v: x / sum(w) for v, x in zip(VERDICTS, w)})


@settings(max_examples=60, deadline=None)
@given(st.lists(_dist, min_size=2, max_size=4))
def test_combination_rules_add_no_position_bias(dists):
    for combine in (combine_mean, combine_majority):
        combined = combine(dists)
        assert math.isclose(sum(combined.values()), 1.0, abs_tol=1e-9)
        mirrored = swap(combine([swap(d) for d in dists]))
        assert all(math.isclose(combined[v], mirrored[v], abs_tol=1e-9) for v in VERDICTS)


def test_majority_and_mean_values():
    votes = [point_mass("A>>B"), point_mass("A>>B"), point_mass("B>A")]
    assert combine_majority(votes) == point_mass("A>>B")
    assert combine_majority([point_mass("A>B"), point_mass("B>A")]) == {**point_mass("A>B"), "A>B": 0.5, "B>A": 0.5}
    assert combine_mean(votes)["A>>B"] == pytest.approx(2 / 3) and combine_mean(votes)["B>A"] == pytest.approx(1 / 3)


class _Shy:
    """A member that gives no verdict on answers mentioning 'secret'."""

    name = "shy"

    def judge_batch(self, requests):
        return [Judgment.unparsed("no verdict") if "secret" in r.answer_a else
                Judgment(probs=point_mass("A>B"), raw="[[A>B]]", parsed=True) for r in requests]


def test_unparsed_members_are_left_out_and_kept_per_member():
    jury = JuryJudge([_Shy(), make_judge("synthetic:longer")])
    out = jury.judge_batch([JudgeRequest("p", "short", "a longer answer"), JudgeRequest("p", "secret", "x")])
    assert out[0].probs == combine_mean([point_mass("A>B"), point_mass("B>>A")])
    assert out[1].parsed and out[1].probs == point_mass("A>>B")  # only synthetic:longer voted
    assert not out[1].members["shy"].parsed and json.loads(out[1].raw) == {"shy": None, "synthetic:longer": "A>>B"}
    both_shy = JuryJudge([_Shy(), type("Shy2", (_Shy,), {"name": "shy2"})()])
    assert not both_shy.judge_batch([JudgeRequest("p", "secret", "x")])[0].parsed


def _run(spec, tmp_path, name):
    from judgeaudit.audit import run_probe

    return run_probe(spec, battery="default", items=ITEMS, limit=4, out=tmp_path / name, progress=False,
                     resamples=300).results


def test_jury_of_two_planted_judges_sits_between_them(tmp_path):
    jury = _run("jury:synthetic:longer,synthetic:oracle", tmp_path, "jury")
    longer, oracle = _run("synthetic:longer", tmp_path, "longer"), _run("synthetic:oracle", tmp_path, "oracle")
    members = {m["judge"]: m for m in jury["members"]}
    assert list(members) == ["synthetic:longer", "synthetic:oracle"]
    # Each member's entry is exactly what a run of that judge alone gives (same pairs, same statistics).
    for alone in (longer, oracle):
        entry = members[alone["judge"]]
        assert entry["indices"] == alone["indices"] and entry["indices_ci"] == alone["indices_ci"]
        assert [p["delta"] for p in entry["probes"]] == [p["delta"] for p in alone["probes"]]
    # The jury's biases lie between its members'.
    for key in ("style_sensitivity", "substance_sensitivity"):
        lo, hi = sorted((longer["indices"][key], oracle["indices"][key]))
        assert lo < jury["indices"][key] < hi, key
    assert oracle["indices"]["style_sensitivity"] == 0 and longer["indices"]["style_sensitivity"] > 0.2
    # Mean vote: the oracle's strong verdict cancels the longer answer's on every crossed pair.
    assert jury["indices"]["style_over_substance_rate"] < longer["indices"]["style_over_substance_rate"]


def test_position_bias_of_a_jury_is_diluted_and_recomputed_from_records(tmp_path):
    from judgeaudit.audit import rerender

    jury = _run("jury:synthetic:position?p=0.9,synthetic:oracle", tmp_path, "pos")
    members = {m["judge"]: m for m in jury["members"]}
    position = members["synthetic:position?p=0.9"]["indices"]["position_consistency"]
    assert position < 0.5 and members["synthetic:oracle"]["indices"]["position_consistency"] == 1.0
    # Where the oracle is sure (substance), its strong verdict outweighs the position judge's
    # half of the vote in both orders; elsewhere the jury follows the position judge.
    assert position <= jury["indices"]["position_consistency"]
    substance = [p for p in jury["probes"] if p["kind"] == "substance" and p["n"]]
    assert substance and all(p["flip_rate"] == 0 for p in substance)
    assert any(p["flip_rate"] > 0 for m in jury["members"] if m["judge"].startswith("synthetic:position")
               for p in m["probes"] if p["kind"] == "substance")
    assert any("jury of 2" in n for n in jury["run"]["judge_notes"])
    # A recompute from records.jsonl gives the members again, unchanged.
    again = rerender(tmp_path / "pos", recompute=True)
    assert again["members"] == jury["members"]
    html = (tmp_path / "pos" / "report.html").read_text()
    assert "Jury and its members" in html and "synthetic:position?p=0.9" in html
