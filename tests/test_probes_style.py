"""Natural style on the seed items: elaborations, phrase banks and how often phrases repeat."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import yaml

from judgeaudit.errors import InputError
from judgeaudit.probes.items import load_items
from judgeaudit.probes.operators import OPERATORS
from judgeaudit.probes.operators.phrases import MIN_PHRASES, parse_phrase_banks, phrase_bank, phrase_categories
from judgeaudit.probes.pairs import make_pairs

TONES = ("confident", "hedged", "friendly", "sarcastic", "authority")
# Share of a probe's pairs that the most common added phrase may appear in.
MAX_PHRASE_SHARE = 0.10


@pytest.fixture(scope="module")
def seed_pairs():
    return make_pairs(seed=0)


def _added_phrases(step: dict) -> set[str]:
    out = {step[k] for k in ("prefix", "suffix", "intro", "summary") if step.get(k)}
    return out | set(step.get("padding") or [])


def test_every_tone_bank_has_enough_phrasings_for_every_category():
    for name in TONES:
        for slot in ("opener", "closer"):
            for category in phrase_categories():
                bank = phrase_bank(name, slot, category)
                assert len(set(bank)) >= MIN_PHRASES, (name, slot, category)
    # Category fit: a refusal is never opened with a phrase meant for a plain answer.
    for name in TONES:
        assert not set(phrase_bank(name, "opener", "safety-refuse")) & set(phrase_bank(name, "opener", "knowledge"))


def test_tone_phrases_rarely_repeat_across_the_seed_pairs(seed_pairs):
    shares = {}
    for name in (*TONES, "padding"):
        pairs = [p for p in seed_pairs.pairs if p.probe == name]
        counts = Counter(ph for p in pairs for ph in _added_phrases(p.meta["ops"][0]))
        phrase, n = counts.most_common(1)[0]
        shares[name] = (n / len(pairs), phrase)
    for name in TONES:
        assert shares[name][0] < MAX_PHRASE_SHARE, (name, shares[name])
    # The stock filler probe is what the banks replace: one filler line sits in most of its pairs.
    assert shares["padding"][0] > 0.3, shares["padding"]


def test_verbose_lengthens_with_the_items_own_sentences(seed_pairs):
    items = {it["id"]: it for it in load_items()}
    verbose = [p for p in seed_pairs.pairs if p.probe == "verbose"]
    assert len(verbose) >= 0.8 * len(items)
    for p in verbose:
        for e in items[p.item_id]["elaborations"]:
            assert p.perturbed.count(e) == 1, p.pair_id
        assert len(p.perturbed.split()) > len(p.base.split())
    # No sentence of it is shared across items, unlike the padding probe's stock filler.
    padding = [p for p in seed_pairs.pairs if p.probe == "padding"]
    assert len(padding) >= 0.8 * len(items)
    assert any("It is worth keeping this in mind." in p.perturbed for p in padding)
    assert not any("It is worth keeping this in mind." in p.perturbed for p in verbose)


def test_padding_sits_beside_verbose_in_the_batteries():
    from judgeaudit.probes.batteries import get_battery

    for name in ("default", "quick"):
        probes = [p.name for p in get_battery(name).probes]
        assert probes.index("padding") == probes.index("verbose") + 1
    assert OPERATORS["padding"].kind == OPERATORS["verbose"].kind == "style"


def test_tone_operators_are_deterministic_per_seed_over_the_seed_items():
    items = load_items()[:40]
    for name in TONES:
        for it in items:
            a = OPERATORS[name].apply(it, it["answer"], random.Random(f"3/{it['id']}"))
            b = OPERATORS[name].apply(it, it["answer"], random.Random(f"3/{it['id']}"))
            assert a == b


def _doc(**bank):
    return {"categories": ["knowledge", "safety-refuse"], "confident": bank}


GOOD_GROUP = [{"fits": ["knowledge", "safety-refuse"], "phrases": [f"Phrase number {w}." for w in
                                                                   "abcdefghijklmnopqrstuv"]}]


@pytest.mark.parametrize("doc,field,message", [
    ({"confident": {}}, "categories", "categories"),
    (_doc(opener=GOOD_GROUP), "confident", "missing bank"),
    (_doc(opener=GOOD_GROUP, closer=[{"fits": ["knowledge"], "phrases": GOOD_GROUP[0]["phrases"]}]),
     "confident.closer", "safety-refuse items get only 0"),
    (_doc(opener=GOOD_GROUP, closer=[{"fits": ["trivia"], "phrases": ["A."]}]), "confident.closer[0].fits",
     "categories"),
    (_doc(opener=[{"fits": ["knowledge"], "phrases": ["Seven is 7."]}], closer=GOOD_GROUP),
     "confident.opener[0].phrases[0]", "number"),
    (_doc(opener=[{"fits": ["knowledge"], "phrases": ["I can't say."]}], closer=GOOD_GROUP),
     "confident.opener[0].phrases[0]", "refusal"),
    (_doc(opener=[{"fits": ["knowledge"], "phrases": ["Sure.", "Sure."]}], closer=GOOD_GROUP),
     "confident.opener[0].phrases[1]", "twice"),
])
def test_bad_phrase_bank_names_the_field(doc, field, message):
    with pytest.raises(InputError) as info:
        parse_phrase_banks(doc, "banks.yaml")
    assert info.value.field == field and message in str(info.value)


def test_packaged_phrase_file_parses():
    from importlib import resources

    text = (resources.files("judgeaudit.probes") / "data" / "tone_phrases.yaml").read_text(encoding="utf-8")
    banks = parse_phrase_banks(yaml.safe_load(text))
    assert set(TONES) <= set(banks)
