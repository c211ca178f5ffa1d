"""Property tests (hypothesis) for the perturbation operators.

Examples per property are set with @settings(max_examples=...) on each test; parametrized
tests run that many examples per operator.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from judgeaudit.errors import InputError
from judgeaudit.probes.answer_checks import assess_answer, substance_score
from judgeaudit.probes.items import validate_item
from judgeaudit.probes.operators import OPERATORS, NotApplicable, get_operator, strip_markdown
from judgeaudit.probes.text import count_span, normalize_ws, numbers, split_units

STYLE_OPS = sorted(n for n, op in OPERATORS.items() if op.kind == "style")
CONTENT_KEEPING = STYLE_OPS + sorted(n for n, op in OPERATORS.items() if op.kind == "judge")
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])

# Filler words: any unicode letters or digits (so numbers appear in the text too).
word = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=7)
# Fact values carry a Greek letter, so no operator template (ASCII and emoji) can contain one.
fact_word = st.builds(lambda g, w: g + w, st.sampled_from("αβγδεζηθλμξπσφψω"), word)
fact_value = st.lists(fact_word, min_size=1, max_size=3).map(" ".join)
# Elaborations: letters only (an added sentence carries no number), ending in a full stop, and
# marked with a leading "§" (never in an answer word) so a test can find each one unambiguously.
elab_word = st.text(st.characters(categories=("L",)), min_size=1, max_size=7)
elaboration = st.lists(elab_word, min_size=2, max_size=8).map(lambda ws: "§ " + " ".join(ws) + ".")


@st.composite
def items(draw, category="knowledge", constraint=None):
    n_sent = draw(st.integers(2, 5))
    n_facts = draw(st.integers(1, min(3, n_sent)))
    fact_slots = draw(st.permutations(range(n_sent)))[:n_facts]
    facts = []
    sentences = []
    for k in range(n_sent):
        words = draw(st.lists(word, min_size=1, max_size=6))
        if k in fact_slots:
            span = draw(fact_value)
            wrong = draw(fact_value.filter(lambda w, s=span: w != s))
            words.insert(draw(st.integers(0, len(words))), span)
            facts.append({"span": span, "wrong": wrong})
        sentences.append(" ".join(words) + draw(st.sampled_from([".", "!", "?"])))
    if category == "safety-refuse":
        sentences.insert(0, "I can't help with that.")
        facts = facts[:1]
    answer = " ".join(sentences)
    elaborations = draw(st.lists(elaboration, min_size=2, max_size=3, unique=True))
    item = {"id": "gen-001", "category": category, "domain": "science", "prompt": "Why is that so?",
            "answer": answer, "key_facts": facts, "elaborations": elaborations, "constraint": constraint}
    try:
        validate_item(item)
    except InputError:
        assume(False)
    return item


def _counts(item, text):
    return Counter({f["span"]: count_span(text, f["span"]) for f in item["key_facts"]})


def _wrong(item, text):
    return sum(count_span(text, f["wrong"]) for f in item["key_facts"])


@pytest.mark.parametrize("name", CONTENT_KEEPING)
@settings(max_examples=40, **SETTINGS)
@given(item=items(), seed=st.integers(0, 2**32 - 1))
def test_style_keeps_facts_and_numbers_and_adds_no_wrong_value(name, item, seed):
    out = get_operator(name)(item, item["answer"], random.Random(seed))
    assert out.strip() and out != item["answer"]
    assert _counts(item, out) == _counts(item, item["answer"])
    assert numbers(out) == numbers(item["answer"])
    assert _wrong(item, out) == 0
    assert assess_answer(item, out) == assess_answer(item, item["answer"])
    assert substance_score(item, out) == 1.0


@pytest.mark.parametrize("name", CONTENT_KEEPING)
@settings(max_examples=25, **SETTINGS)
@given(item=items(), seed=st.integers(0, 2**32 - 1))
def test_style_keeps_an_injected_wrong_value(name, item, seed):
    """Applied to a factual_error variant (as in crossed probes), style keeps the wrong value."""
    wrong_text, details = get_operator("factual_error").apply(item, item["answer"], random.Random(seed))
    out = get_operator(name)(item, wrong_text, random.Random(seed))
    assert _counts(item, out) == _counts(item, wrong_text)
    assert _wrong(item, out) == 1 and count_span(out, details["wrong"]) == 1
    assert numbers(out) == numbers(wrong_text)


@settings(max_examples=80, **SETTINGS)
@given(item=items(), seed=st.integers(0, 2**32 - 1))
def test_markdown_strips_back_to_the_base(item, seed):
    out = get_operator("markdown")(item, item["answer"], random.Random(seed))
    assert "**" in out or "\n- " in out or out.startswith("#")
    assert normalize_ws(strip_markdown(out)) == normalize_ws(strip_markdown(item["answer"]))


@settings(max_examples=60, **SETTINGS)
@given(text=st.text(st.characters(categories=("L", "N", "Zs")).filter(lambda c: c not in "*#-"), min_size=1)
       .map(lambda t: t + " end. Next one."))
def test_markdown_strip_is_identity_on_plain_text(text):
    item = {"id": "x", "category": "knowledge", "prompt": "q", "answer": text, "key_facts": [], "constraint": None}
    out = get_operator("markdown")(item, text, random.Random(0))
    assert normalize_ws(strip_markdown(out)) == normalize_ws(text)


@settings(max_examples=60, **SETTINGS)
@given(item=items(), seed=st.integers(0, 2**32 - 1))
def test_factual_error_changes_exactly_one_fact(item, seed):
    out, d = get_operator("factual_error").apply(item, item["answer"], random.Random(seed))
    fact = item["key_facts"][d["fact"]]
    assert out == item["answer"].replace(fact["span"], fact["wrong"], 1)
    expected = _counts(item, item["answer"])
    expected[fact["span"]] = 0
    assert _counts(item, out) == expected
    assert count_span(out, fact["wrong"]) == 1 and _wrong(item, out) == 1
    assert Counter(numbers(out)) == Counter(numbers(item["answer"])) - Counter(numbers(fact["span"])) \
        + Counter(numbers(fact["wrong"]))


@settings(max_examples=60, **SETTINGS)
@given(item=items(), seed=st.integers(0, 2**32 - 1))
def test_omission_drops_exactly_the_sentence_holding_one_fact(item, seed):
    out, d = get_operator("omission").apply(item, item["answer"], random.Random(seed))
    strings = [s for f in item["key_facts"] for s in (f["span"], f["wrong"])]
    units = [item["answer"][a:b] for a, b in split_units(item["answer"], strings)]
    kept = [u for u in units if u != d["dropped_sentence"]]
    assert len(kept) == len(units) - 1
    assert normalize_ws(out) == normalize_ws(" ".join(kept))
    expected = _counts(item, item["answer"])
    expected[item["key_facts"][d["fact"]]["span"]] = 0
    assert _counts(item, out) == expected and _wrong(item, out) == 0


@settings(max_examples=40, **SETTINGS)
@given(item=items(category="safety-refuse"), seed=st.integers(0, 2**32 - 1))
def test_unsafe_compliance_stops_refusing_and_keeps_the_redirect(item, seed):
    before = assess_answer(item, item["answer"])
    out = get_operator("unsafe_compliance")(item, item["answer"], random.Random(seed))
    after = assess_answer(item, out)
    assert before.refuses and not after.refuses
    assert after.wrong_values == 0 and after.facts_present == before.facts_present
    assert substance_score(item, out) == 0.0


@settings(max_examples=30, **SETTINGS)
@given(item=items(category="safety-comply"), seed=st.integers(0, 2**32 - 1))
def test_over_refusal_refuses(item, seed):
    out = get_operator("over_refusal")(item, item["answer"], random.Random(seed))
    a = assess_answer(item, out)
    assert a.refuses and a.wrong_values == 0 and substance_score(item, out) == 0.0


@st.composite
def instruction_items(draw):
    base = draw(items())
    answer = base["answer"]
    words = answer.split()
    kind = draw(st.sampled_from(["max_words", "min_words", "include_word", "avoid_word", "bullet_count",
                                 "all_lowercase", "no_commas", "end_with", "sentence_count"]))
    if kind == "max_words":
        c = {"type": kind, "value": len(words) + draw(st.integers(0, 20))}
    elif kind == "min_words":
        c = {"type": kind, "value": len(words)}
    elif kind == "include_word":
        c = {"type": kind, "value": draw(st.sampled_from(words)).strip(".!?")}
    elif kind == "avoid_word":
        c = {"type": kind, "value": draw(st.sampled_from(["very", "really", "harbour", "quite"]))}
    elif kind == "bullet_count":
        sents = [answer[a:b] for a, b in split_units(answer, [s for f in base["key_facts"] for s in f.values()])]
        answer = "Points:\n" + "\n".join("- " + s for s in sents)
        c = {"type": kind, "value": len(sents)}
    elif kind == "all_lowercase":
        assume(all(f["span"] == f["span"].lower() and f["wrong"] == f["wrong"].lower() for f in base["key_facts"]))
        answer = answer.lower()
        base = {**base, "elaborations": [e.lower() for e in base["elaborations"]]}
        c = {"type": kind}
    elif kind == "no_commas":
        c = {"type": kind}
    elif kind == "end_with":
        c = {"type": kind, "value": "Is there anything else?"}
        answer = answer + " Is there anything else?"
    else:
        from judgeaudit.probes.text import sentence_count
        c = {"type": kind, "value": sentence_count(answer)}
    item = {**base, "category": "instruction", "domain": "instruction", "answer": answer, "constraint": c}
    try:
        validate_item(item)
    except InputError:
        assume(False)
    return item


@settings(max_examples=120, **SETTINGS)
@given(item=instruction_items(), seed=st.integers(0, 2**32 - 1))
def test_instruction_violation_breaks_only_the_constraint(item, seed):
    before = assess_answer(item, item["answer"])
    try:
        out = get_operator("instruction_violation")(item, item["answer"], random.Random(seed))
    except NotApplicable:
        assume(False)
    after = assess_answer(item, out)
    assert before.constraint_ok is True and after.constraint_ok is False
    assert (after.facts_present, after.wrong_values, after.refuses) == \
        (before.facts_present, before.wrong_values, before.refuses)


@pytest.mark.parametrize("name", sorted(OPERATORS))
@settings(max_examples=20, **SETTINGS)
@given(item=st.one_of(items(), items(category="safety-refuse"), items(category="safety-comply"),
                      instruction_items()),
       seed=st.integers(0, 2**32 - 1))
def test_deterministic_for_a_seed(name, item, seed):
    op = get_operator(name)

    def run():
        try:
            return op.apply(item, item["answer"], random.Random(seed))
        except NotApplicable as exc:
            return ("not applicable", str(exc))
    assert run() == run()


@st.composite
def arbitrary_items(draw):
    """Arbitrary unicode answers with arbitrary spans (substrings of the answer or not)."""
    answer = draw(st.text(min_size=1, max_size=300).filter(lambda t: t.strip()))
    facts = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()) and len(answer) > 1:
            i = draw(st.integers(0, len(answer) - 1))
            j = draw(st.integers(i + 1, len(answer)))
            span = answer[i:j]
        else:
            span = draw(st.text(min_size=1, max_size=20))
        facts.append({"span": span, "wrong": draw(st.text(min_size=1, max_size=20))})
    category = draw(st.sampled_from(["knowledge", "reasoning", "instruction", "safety-refuse", "safety-comply"]))
    constraint = None
    if category == "instruction":
        constraint = draw(st.sampled_from([
            {"type": "max_words", "value": 5}, {"type": "min_words", "value": 500},
            {"type": "include_word", "value": "harbour"}, {"type": "avoid_word", "value": "very"},
            {"type": "bullet_count", "value": 2}, {"type": "all_lowercase"}, {"type": "no_commas"},
            {"type": "end_with", "value": "Is there anything else?"}, {"type": "sentence_count", "value": 2}]))
    return {"id": "arb-001", "category": category, "domain": "science", "prompt": draw(st.text(max_size=80)),
            "answer": answer, "key_facts": facts, "elaborations": draw(st.lists(st.text(max_size=60), max_size=3)),
            "constraint": constraint}


@pytest.mark.parametrize("name", sorted(OPERATORS))
@settings(max_examples=40, **SETTINGS)
@given(item=arbitrary_items(), seed=st.integers(0, 2**32 - 1))
def test_no_crash_and_no_empty_output_on_arbitrary_unicode(name, item, seed):
    try:
        out = get_operator(name)(item, item["answer"], random.Random(seed))
    except NotApplicable:
        return
    assert isinstance(out, str) and out.strip()


def test_not_applicable_combinations_are_refused():
    item = {"id": "k", "category": "knowledge", "prompt": "q", "answer": "It is Canberra. Yes.",
            "key_facts": [{"span": "Canberra", "wrong": "Perth"}], "constraint": None}
    for name in ("unsafe_compliance", "over_refusal", "instruction_violation"):
        with pytest.raises(NotApplicable):
            get_operator(name)(item, item["answer"], random.Random(0))
    with pytest.raises(NotApplicable):
        get_operator("omission")(item, "It is Canberra.", random.Random(0))


@settings(max_examples=60, **SETTINGS)
@given(item=items(), seed=st.integers(0, 2**32 - 1))
def test_verbose_adds_exactly_the_items_elaborations(item, seed):
    """Natural verbosity: every elaboration appears once, and taking them out gives the answer back."""
    out, details = get_operator("verbose").apply(item, item["answer"], random.Random(seed))
    assert details["elaborations"] == len(item["elaborations"])
    rest = out
    for e in item["elaborations"]:
        assert rest.count(e) == 1
        rest = rest.replace(e, "")
    assert normalize_ws(rest) == normalize_ws(item["answer"])
    assert len(out.split()) > len(item["answer"].split())


@settings(max_examples=30, **SETTINGS)
@given(item=items(), seed=st.integers(0, 2**32 - 1))
def test_verbose_needs_elaborations_and_padding_does_not(item, seed):
    bare = {k: v for k, v in item.items() if k != "elaborations"}
    with pytest.raises(NotApplicable, match="elaborations"):
        get_operator("verbose").apply(bare, bare["answer"], random.Random(seed))
    out = get_operator("padding")(bare, bare["answer"], random.Random(seed))
    assert len(out.split()) > len(bare["answer"].split())


@pytest.mark.parametrize("name", ["confident", "hedged", "friendly", "sarcastic", "authority"])
@settings(max_examples=30, **SETTINGS)
@given(item=st.one_of(items(), items(category="safety-refuse"), items(category="safety-comply"),
                      items(category="reasoning")), seed=st.integers(0, 2**32 - 1))
def test_tone_phrases_come_from_the_bank_that_fits_the_category(name, item, seed):
    from judgeaudit.probes.operators.phrases import phrase_bank

    out, d = get_operator(name).apply(item, item["answer"], random.Random(seed))
    assert d["fit"] == item["category"]
    assert d["prefix"] in phrase_bank(name, "opener", item["category"])
    assert d["suffix"] in phrase_bank(name, "closer", item["category"])
    assert out.startswith(d["prefix"]) and out.rstrip().endswith(d["suffix"])
    if item["category"] == "safety-refuse":
        # A willing answer (after unsafe_compliance) is phrased as a helpful one, never as a refusal.
        willing = get_operator("unsafe_compliance")(item, item["answer"], random.Random(seed))
        _, d2 = get_operator(name).apply(item, willing, random.Random(seed))
        assert d2["fit"] == "safety-comply" and d2["prefix"] in phrase_bank(name, "opener", "safety-comply")


@settings(max_examples=40, **SETTINGS)
@given(item=items(), data=st.data())
def test_an_elaboration_carrying_a_fact_or_number_is_rejected(item, data):
    """Validation treats elaborations like style steps: any annotated string (in any case) or a
    number in one is an error naming the elaboration."""
    fact = data.draw(st.sampled_from(item["key_facts"]))
    value = data.draw(st.sampled_from([fact["span"].upper(), fact["wrong"].lower(), "seven 7"]))
    bad = dict(item, elaborations=[item["elaborations"][0], f"§ So {value} it is."])
    with pytest.raises(InputError) as info:
        validate_item(bad, "items.jsonl", 4)
    assert info.value.field == "elaborations[1]" and info.value.line == 4
