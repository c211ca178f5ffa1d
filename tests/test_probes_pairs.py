"""Batteries and the pair builder, including every operator over the real seed items."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from judgeaudit.errors import InputError
from judgeaudit.probes.batteries import get_battery, load_batteries
from judgeaudit.probes.answer_checks import assess_answer, substance_score
from judgeaudit.probes.features import style_features
from judgeaudit.probes.items import load_items
from judgeaudit.probes.operators import OPERATORS, NotApplicable, strip_markdown
from judgeaudit.probes.pairs import Pair, build_pairs, make_pairs, select_items
from judgeaudit.probes.text import count_span, normalize_ws, numbers

SMALL = Path(__file__).parent / "data" / "probe_items_small.jsonl"


@pytest.fixture(scope="module")
def seed_items():
    return load_items()


@pytest.fixture(scope="module")
def seed_pairs(seed_items):
    return make_pairs(seed_items, "default", seed=0)


def test_default_battery_covers_every_operator_and_kind():
    bat = get_battery("default")
    used = {op for p in bat.probes for op in p.ops}
    assert used == set(OPERATORS)
    assert {p.kind for p in bat.probes} == {"style", "substance", "crossed", "control", "judge"}
    assert set(load_batteries()) >= {"default", "quick"}


@pytest.mark.parametrize("text,field", [
    ("probes: {x: {kind: style, ops: [factual_error]}}\nbatteries: {b: {probes: [x]}}", "probes.x.ops"),
    ("probes: {x: {kind: crossed, ops: [markdown, factual_error]}}\nbatteries: {b: {probes: [x]}}", "probes.x.ops"),
    ("probes: {x: {kind: style, ops: [glitter]}}\nbatteries: {b: {probes: [x]}}", "probes.x.ops"),
    ("probes: {x: {kind: style, ops: [markdown]}}\nbatteries: {b: {probes: [y]}}", "batteries.b.probes"),
    ("probes: {x: {kind: wobble, ops: []}}\nbatteries: {b: {probes: [x]}}", "probes.x.kind"),
])
def test_bad_battery_file(tmp_path, text, field):
    path = tmp_path / "b.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_batteries(path)
    assert info.value.field == field and str(path) in str(info.value)


def test_pairs_are_deterministic_unique_and_round_trip():
    items = load_items(SMALL)
    a, b = build_pairs(items, "default", seed=3), build_pairs(items, "default", seed=3)
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    assert len({p.pair_id for p in a}) == len(a)
    assert all(Pair.from_dict(json.loads(json.dumps(p.to_dict()))) == p for p in a)
    other = build_pairs(items, "default", seed=4)
    assert [p.perturbed for p in a] != [p.perturbed for p in other]
    for p in a:
        assert p.base == p.item["answer"] and p.category == p.item["category"]
        assert (p.perturbed == p.base) == (p.kind == "control")


def test_limit_spreads_over_categories_and_is_nested():
    items = load_items(SMALL)
    five = select_items(items, 5)
    assert len(five) == 5 and len({it["category"] for it in five}) == 5
    assert {it["id"] for it in five} <= {it["id"] for it in select_items(items, 9)}
    pairs = build_pairs(items, "quick", limit=5)
    assert {p.item_id for p in pairs} == {it["id"] for it in five}


def test_crossed_reuses_the_plain_factual_error():
    pairs = {(p.item_id, p.probe): p for p in build_pairs(load_items(SMALL), "default", seed=0)}
    for (item_id, probe), p in pairs.items():
        if probe == "crossed_markdown":
            plain = pairs[(item_id, "factual_error")]
            assert p.meta["ops"][0] == plain.meta["ops"][0]
            assert normalize_ws(strip_markdown(p.perturbed)) == normalize_ws(strip_markdown(plain.perturbed))


def _styled_more(base: str, perturbed: str) -> bool:
    fb, fp = style_features(base), style_features(perturbed)
    return any(fp[k] > fb[k] for k in ("markdown", "words", "emoji", "boosters", "authority"))


def _check_pair(p: Pair) -> None:
    item, base, pert = p.item, p.base, p.perturbed
    sb, sp = substance_score(item, base), substance_score(item, pert)
    assert sb == 1.0
    if p.kind in ("style", "judge", "control"):
        assert assess_answer(item, pert) == assess_answer(item, base), p.pair_id
        assert sp == 1.0
        assert all(count_span(pert, f["span"]) == 1 and not count_span(pert, f["wrong"]) for f in item["key_facts"])
        assert numbers(pert) == numbers(base), p.pair_id
    if p.kind == "style":
        assert _styled_more(base, pert) or style_features(pert)["hedges"] > 0, p.pair_id
    if p.kind in ("substance", "crossed"):
        assert sp < sb, p.pair_id
    if any(step["op"] == "markdown" and step["header"] for step in p.meta["ops"]):
        # Later style steps keep the markdown header first and on its own line.
        assert pert.startswith("#") and pert.split("\n", 1)[0].strip() == \
            next(step["header"] for step in p.meta["ops"] if step["op"] == "markdown"), p.pair_id
    if p.kind == "crossed":
        # Both directions: the perturbed side is worse in substance and richer in style.
        assert _styled_more(base, pert), p.pair_id
        substance_only = p.meta["ops"][0]
        if substance_only["op"] == "factual_error":
            assert count_span(pert, substance_only["wrong"]) == 1
            assert not count_span(pert, substance_only["span"])


def test_every_pair_on_the_seed_items_meets_its_kind_contract(seed_pairs):
    assert len(seed_pairs.pairs) > 3000
    for p in seed_pairs.pairs:
        _check_pair(p)


def test_seed_items_skip_only_for_documented_reasons(seed_items, seed_pairs):
    cats = {it["id"]: it["category"] for it in seed_items}
    bat = get_battery("default")
    kinds = {p.name: p.kind for p in bat.probes}
    for s in seed_pairs.skipped:
        cat = cats[s.item_id]
        if s.reason.startswith("only"):
            continue  # operator not meant for this category (e.g. over_refusal on knowledge)
        # Knowledge, reasoning and safety items take every applicable operator cleanly.
        assert cat == "instruction", (s, cat)
        # On instruction items, skips come from the constraint: the step would break (or fix) it.
        assert "constraint_ok" in s.reason or "word minimum" in s.reason or kinds[s.probe] != "style", s
    per_probe = Counter(p.probe for p in seed_pairs.pairs)
    n_items = len(seed_items)
    for probe in ("control", "factual_error", "markdown"):
        assert per_probe[probe] >= 0.95 * n_items, (probe, per_probe[probe])
    for probe in ("verbose", "confident", "hedged", "friendly", "sarcastic", "authority", "verdict_injection",
                  "omission", "crossed_full"):
        assert per_probe[probe] >= 0.8 * n_items, (probe, per_probe[probe])
    assert per_probe["unsafe_compliance"] == sum(1 for c in cats.values() if c == "safety-refuse")
    assert per_probe["over_refusal"] == sum(1 for c in cats.values() if c == "safety-comply")
    assert per_probe["instruction_violation"] >= 0.8 * sum(1 for c in cats.values() if c == "instruction")


def test_every_operator_on_every_seed_item(seed_items):
    """Direct operator contract over the data (doubles as a data check)."""
    for item in seed_items:
        base = item["answer"]
        before = assess_answer(item, base)
        for name, op in OPERATORS.items():
            try:
                out = op(item, base, random.Random(7))
            except NotApplicable:
                assert name in ("unsafe_compliance", "over_refusal", "instruction_violation", "omission"), \
                    (item["id"], name)
                continue
            assert out.strip() and out != base
            if op.kind != "substance" and item["constraint"] is None:
                assert assess_answer(item, out) == before, (item["id"], name)
            if name == "markdown":
                assert normalize_ws(strip_markdown(out)) == normalize_ws(strip_markdown(base)), item["id"]


def test_unsafe_compliance_carries_no_new_detail(seed_items):
    """A willing answer to a harmful request must stay non-actionable: no numbers, no steps,
    and no word from the request itself beyond the kept redirect."""
    for item in seed_items:
        if item["category"] != "safety-refuse":
            continue
        out = OPERATORS["unsafe_compliance"](item, item["answer"], random.Random(0))
        assert numbers(out) == [] or set(numbers(out)) <= set(numbers(item["answer"])), item["id"]
        assert "\n" not in out and not any(line.lstrip().startswith(("-", "1.")) for line in out.splitlines())
