"""Verdict parsing: last verdict wins, A<B read as B>A, criteria lines, unparseable counted."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from judgeaudit.judges.prompting import load_template
from judgeaudit.judges.protocol import VERDICTS, Judgment, win_score
from judgeaudit.judges.verdicts import parse_criteria, parse_grade, parse_overall

LABELS = {"correctness": "Correctness", "completeness": "Completeness", "safety": "Safety",
          "conciseness": "Conciseness", "style": "Style"}


@pytest.mark.parametrize("text,expected", [
    ("My final verdict is: [[A>>B]]", "A>>B"),
    ("[[A>B]]", "A>B"), ("[[A=B]]", "A=B"), ("[[B=A]]", "A=B"), ("[[ B > A ]]", "B>A"), ("[[B>>A]]", "B>>A"),
    ("[[A<B]]", "B>A"), ("[[A<<B]]", "B>>A"), ("[[B<A]]", "A>B"), ("[[B<<A]]", "A>>B"), ("[[a>b]]", None),
    ("[[A>A]]", None), ("A>B", None), ("no verdict at all", None), ("", None),
])
def test_overall(text, expected):
    assert parse_overall(text) == expected


def test_last_verdict_wins():
    text = "At first I thought [[A>>B]], but on reflection A has an error.\nMy final verdict is: [[B>A]]"
    assert parse_overall(text) == "B>A"
    # A malformed last bracket does not erase an earlier valid verdict.
    assert parse_overall("[[A>B]] ... and finally [[C>D]]") == "A>B"


@given(st.lists(st.sampled_from(VERDICTS + ("A<B", "A<<B")), min_size=1, max_size=6),
       st.text(alphabet=st.characters(blacklist_characters="[]"), max_size=30))
def test_last_of_many(verdicts, filler):
    text = filler.join(f"[[{v}]]" for v in verdicts)
    assert parse_overall(text) == parse_overall(f"[[{verdicts[-1]}]]")


def test_criteria_lines():
    text = ("Correctness: ((A>B))\n**Completeness**: ((A<B))\nSafety: ((A=B))\n"
            "Conciseness: ((B>>A))\nStyle: ((A<<B))\nCorrectness: ((A>>B))\nMy final verdict is: [[A>B]]")
    got = parse_criteria(text, LABELS)
    assert got == {"correctness": "A>>B", "completeness": "B>A", "safety": "A=B", "conciseness": "B>>A",
                   "style": "B>>A"}
    assert parse_criteria("Correctness: ((A>B))", LABELS)["style"] is None


def test_grades():
    assert parse_grade("Rating: [[7]]") == 7
    assert parse_grade("[[3]] then Rating: [[9]]") == 9
    assert parse_grade("Rating: [[11]]") is None
    assert parse_grade("Rating: 7") is None


def test_unparseable_is_recorded_and_counted():
    pairwise = load_template("pairwise")
    outs = [pairwise.judgment_from_texts(["[[A>B]]"]), pairwise.judgment_from_texts(["I like both."]),
            pairwise.judgment_from_texts(["Verdict: A is better"])]
    assert [o.parsed for o in outs] == [True, False, False]
    assert outs[1].probs is None and outs[1].raw == "I like both."
    with pytest.raises(ValueError):
        Judgment(probs=None, raw="", parsed=True)


def test_factorwise_and_single_templates():
    fw = load_template("factorwise")
    j = fw.judgment_from_texts(["Correctness: ((A<B))\nStyle: ((A>>B))\nMy final verdict is: [[A=B]]"])
    assert j.parsed and j.probs["A=B"] == 1.0
    assert j.criteria["correctness"]["B>A"] == 1.0 and j.criteria["style"]["A>>B"] == 1.0
    assert j.criteria["safety"] is None
    single = load_template("single")
    j = single.judgment_from_texts(["Fine. Rating: [[8]]", "Weak. Rating: [[4]]"])
    assert j.probs["A>>B"] == 1.0  # a gap of 4 >= strong_margin 3
    j = single.judgment_from_texts(["Rating: [[6]]", "Rating: [[7]]"])
    assert j.probs["B>A"] == 1.0
    assert not single.judgment_from_texts(["Rating: [[6]]", "no grade"]).parsed
    # Grade distributions combine into a verdict distribution that sums to one.
    probs = single.grades_to_verdicts({7: 0.5, 8: 0.5}, {7: 1.0})
    assert probs == {"A>>B": 0.0, "A>B": 0.5, "A=B": 0.5, "B>A": 0.0, "B>>A": 0.0}
    assert win_score(probs) == 0.625


def test_placeholders_are_substituted_once():
    t = load_template("pairwise")
    from judgeaudit.judges.protocol import JudgeRequest

    [chat] = t.conversations(JudgeRequest("say {answer_b}", "A text {prompt}", "B text"))
    user = chat[-1]["content"]
    assert "say {answer_b}" in user and "A text {prompt}" in user and user.count("B text") == 1


def test_user_template_file_errors_name_the_field(tmp_path):
    from judgeaudit.errors import InputError

    bad = tmp_path / "mine.yaml"
    bad.write_text("kind: pairwise\nuser: 'only {prompt} and {answer_a}'\n")
    with pytest.raises(InputError, match=r"mine.yaml: field 'user': must contain the placeholder \{answer_b\}"):
        load_template(bad)
    bad.write_text("kind: triwise\nuser: x\n")
    with pytest.raises(InputError, match="field 'kind'"):
        load_template(bad)
    good = tmp_path / "terse.yaml"
    good.write_text("kind: pairwise\nsystem: Be brief.\nuser: 'Q: {prompt}\\nA: {answer_a}\\nB: {answer_b}'\n")
    t = load_template(good)
    assert t.name == "terse" and t.digest != load_template("pairwise").digest
