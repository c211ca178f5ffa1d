"""Item loading and validation, and the `judgeaudit probes` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from judgeaudit.cli import main
from judgeaudit.errors import InputError
from judgeaudit.probes.items import DOMAINS, load_items, validate_item

SMALL = Path(__file__).parent / "data" / "probe_items_small.jsonl"
GOOD = json.loads(SMALL.read_text(encoding="utf-8").splitlines()[0])


def _write(tmp_path, *objs, name="items_user.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n", encoding="utf-8")
    return path


def _bad(**changes):
    return {**GOOD, **changes}


FACTS = GOOD["key_facts"]
ELABS = GOOD["elaborations"]
BAD_CASES = [
    (_bad(category="trivia"), "category", "one of"),
    (_bad(answer=""), "answer", "non-empty"),
    ({k: v for k, v in GOOD.items() if k != "prompt"}, "prompt", "missing"),
    (_bad(key_facts=[]), "key_facts", "1 to 3"),
    (_bad(key_facts=[{"span": "Sydney Harbour", "wrong": "Perth"}]), "key_facts[0].span", "exactly once"),
    (_bad(key_facts=[{"span": "Canberra", "wrong": "Canberra"}]), "key_facts[0].wrong", "differ"),
    (_bad(key_facts=[{"span": "Canberra", "wrong": "Sydney"}]), "key_facts[0].wrong", "must not occur"),
    (_bad(key_facts=[{"span": "Canberra", "wrong": "Canberra City"}]), "key_facts[0].wrong", "contains"),
    (_bad(key_facts=[{"span": "Canberra", "wrong": "Perth"}, {"span": "Australia is Canberra", "wrong": "x y"}]),
     "key_facts[1].span", "overlaps"),
    (_bad(key_facts=[{"span": "Australia", "wrong": "Austria"}, {"span": "Canberra", "wrong": "Perth"}]),
     "key_facts[1].span", "shares a sentence"),
    (_bad(key_facts=[{"span": "Canberra"}]), "key_facts[0].wrong", "non-empty string"),
    (_bad(constraint={"type": "max_words", "value": 40}), "constraint", "must be null"),
    (_bad(category="instruction", constraint=None), "constraint", "one constraint"),
    (_bad(category="instruction", constraint={"type": "max_words", "value": 5}), "constraint", "does not satisfy"),
    (_bad(category="instruction", constraint={"type": "shout"}), "constraint.type", "one of"),
    (_bad(category="instruction", constraint={"type": "max_words", "value": "ten"}), "constraint.value", "integer"),
    (_bad(category="safety-refuse", key_facts=FACTS[:1]), "answer", "refusal"),
    (_bad(answer="I can't help with that. " + GOOD["answer"]), "answer", "reads as a refusal"),
    (_bad(answer="## Capital\n" + GOOD["answer"]), "answer", "plain prose"),
    ({k: v for k, v in GOOD.items() if k != "elaborations"}, "elaborations", "at least 2"),
    (_bad(elaborations=ELABS[:1]), "elaborations", "at least 2"),
    (_bad(elaborations=[ELABS[0], "It has about 450,000 people."]), "elaborations[1]", "number"),
    (_bad(elaborations=["canberra is also a planned city.", ELABS[1]]), "elaborations[0]", "key_facts[0].span"),
    (_bad(elaborations=[ELABS[0], "Many people guess perth instead."]), "elaborations[1]", "key_facts[0].wrong"),
    (_bad(elaborations=["I can't say more about the city.", ELABS[1]]), "elaborations[0]", "refusal"),
    (_bad(elaborations=[ELABS[0], "It is a **planned** city."]), "elaborations[1]", "plain prose"),
    (_bad(elaborations=[ELABS[0], ELABS[0]]), "elaborations[1]", "repeats"),
    (_bad(elaborations=[ELABS[0], "It is a planned city"]), "elaborations[1]", "whole sentences"),
]


@pytest.mark.parametrize("obj,field,message", BAD_CASES)
def test_bad_item_names_file_line_and_field(tmp_path, obj, field, message):
    path = _write(tmp_path, GOOD, _bad(id="geo-002"), obj)
    with pytest.raises(InputError) as info:
        load_items(path)
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), 3, field)
    assert message in str(err) and str(err).startswith(f"{path}:3: field '{field}'")


def test_bad_json_and_duplicates(tmp_path):
    with pytest.raises(InputError, match=r":2: invalid JSON"):
        load_items(_write(tmp_path, GOOD, "{not json"))
    with pytest.raises(InputError, match=r":2: field 'id': duplicate id 'geo-001' \(first at .*:1\)"):
        load_items(_write(tmp_path, GOOD, GOOD))
    with pytest.raises(InputError, match="no such file"):
        load_items(tmp_path / "missing.jsonl")


def test_load_items_from_file_and_directory_sorted(tmp_path):
    items = load_items(SMALL)
    assert [it["id"] for it in items] == sorted(it["id"] for it in items) and len(items) == 16
    _write(tmp_path, _bad(id="zz-001"), name="items_b.jsonl")
    _write(tmp_path, _bad(id="aa-001"), name="items_a.jsonl")
    _write(tmp_path, "not even json", name="notes.jsonl")  # ignored: not items_*.jsonl
    assert [it["id"] for it in load_items(tmp_path)] == ["aa-001", "zz-001"]
    assert validate_item(dict(GOOD, constraint=None)) == GOOD


def test_elaborations_keep_the_items_format_constraint(tmp_path):
    items = {it["id"]: it for it in load_items(SMALL)}
    lower, no_commas = items["ins-003"], items["ins-004"]
    bad = [dict(lower, elaborations=["The Moon always shows the same face to the Earth.", *lower["elaborations"][1:]]),
           dict(no_commas, elaborations=[no_commas["elaborations"][0], "It happens in leaves, mostly."])]
    for obj, field in zip(bad, ("elaborations[0]", "elaborations[1]")):
        with pytest.raises(InputError, match="constraint on its own") as info:
            validate_item(obj, "x.jsonl", 1)
        assert info.value.field == field


def test_packaged_seed_items_meet_the_contract():
    items = load_items()
    by_cat: dict[str, int] = {}
    for it in items:
        by_cat[it["category"]] = by_cat.get(it["category"], 0) + 1
        assert it["domain"] in DOMAINS
        expected_domain = {"instruction": {"instruction"}, "safety-refuse": {"safety"}, "safety-comply": {"safety"},
                           "knowledge": {"science", "geography", "history", "how-to"},
                           "reasoning": {"arithmetic", "units-dates"}}[it["category"]]
        assert it["domain"] in expected_domain, it["id"]
        assert len(it["elaborations"]) >= 2, it["id"]
        assert 2 <= len([s for s in it["answer"].replace("\n", " ").split(". ") if s.strip()]) or \
            it["constraint"], it["id"]
    assert by_cat.get("knowledge", 0) + by_cat.get("reasoning", 0) >= 160
    assert by_cat.get("instruction", 0) >= 40
    assert by_cat.get("safety-refuse", 0) + by_cat.get("safety-comply", 0) >= 40
    domains = {it["domain"] for it in items if it["category"] in ("knowledge", "reasoning")}
    assert len(domains) >= 6


# --- CLI -------------------------------------------------------------------------------

def test_cli_validate_ok_and_bad(tmp_path):
    runner = CliRunner(env={"COLUMNS": "200"})
    ok = runner.invoke(main, ["probes", "validate", str(SMALL)])
    assert ok.exit_code == 0, ok.output
    flat = " ".join(ok.output.split())  # the title wraps to the table's width
    assert "16 valid items" in flat and "safety-refuse" in flat and "elaborations" in flat
    bad = _write(tmp_path, GOOD, _bad(id="geo-002", key_facts=[{"span": "Canberra", "wrong": "Sydney"}]))
    res = runner.invoke(main, ["probes", "validate", str(bad)])
    assert res.exit_code != 0
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert lines == [f"Error: {bad}:2: field 'key_facts[0].wrong': 'Sydney' must not occur in answer"]


def test_cli_list_and_show():
    runner = CliRunner(env={"COLUMNS": "200"})
    res = runner.invoke(main, ["probes", "list", "--battery", "quick", "--items", str(SMALL)], terminal_width=200)
    assert res.exit_code == 0, res.output
    for name in ("control", "markdown", "crossed_full", "factual_error -> markdown -> verbose -> confident"):
        assert name in res.output
    assert "unsafe_compliance" in res.output  # the operator table lists every operator
    res = runner.invoke(main, ["probes", "show", "factual_error", "--n", "3", "--items", str(SMALL)],
                        terminal_width=200)
    assert res.exit_code == 0, res.output
    assert res.output.count("/factual_error/s0") == 3
    assert "substance score: base 1.00" in res.output
    res = runner.invoke(main, ["probes", "show", "no_such_probe", "--items", str(SMALL)])
    assert res.exit_code != 0 and "no_such_probe" in res.output
