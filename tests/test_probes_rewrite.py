"""`probe --rewrite-with MODEL`: model restyles, the substance gate, caching and counting."""

from __future__ import annotations

import json
import random
import re
import secrets
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgeaudit.audit import run_probe
from judgeaudit.cli import main
from judgeaudit.errors import JudgeauditError
from judgeaudit.probes.items import load_items
from judgeaudit.probes.operators import get_operator
from judgeaudit.probes.pairs import build_pairs
from judgeaudit.probes.text import count_span
from judgeaudit.probes.rewrite import (REWRITABLE, RewriteError, apply_rewrites, check_rewrite, clean_reply,
                                       make_rewriter, rewrite_target)
from openai_fault_server import FaultServer

SMALL = Path(__file__).parent / "data" / "probe_items_small.jsonl"
KEY_ENV = "JUDGEAUDIT_TEST_REWRITE_KEY"
FAST = dict(timeout=0.4, backoff_base=0.01, backoff_cap=0.05, max_retries=15)


def answer_in(messages) -> str:
    user = messages[-1]["content"]
    return user.split("Answer:\n", 1)[1].split("\n\nRewrite the answer", 1)[0]


def scripted_reply(messages) -> str:
    """A model that restyles most answers but changes a key fact, fixes a planted error or adds a
    number in some."""
    answer = answer_in(messages)
    if "100 degrees" in answer:
        return answer.replace("100 degrees", "95 degrees")  # a changed number: must be rejected
    if "Perth" in answer:
        return answer.replace("Perth", "Canberra")  # fixes the planted error: must be rejected
    if "Armstrong" in answer:
        return answer + " The whole trip took 8 days."  # a new, unchecked number: must be rejected
    return f"```\nWell, here goes. {answer} That is the gist of it.\n```"


PLUGIN = textwrap.dedent('''
    import os, sys
    sys.path.insert(0, {tests!r})
    from test_probes_rewrite import scripted_reply

    class Restyler:
        name = "scripted-restyler"
        def complete(self, messages):
            with open(os.environ["RW_LOG"], "a") as fh:
                fh.write("call\\n")
            return scripted_reply(messages)

    class NoComplete:
        pass
''')


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    path = tmp_path / "restyler.py"
    path.write_text(PLUGIN.format(tests=str(Path(__file__).parent)), encoding="utf-8")
    log = tmp_path / "calls.log"
    monkeypatch.setenv("RW_LOG", str(log))
    return f"{path}:Restyler", log


def _calls(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


# --- the gate ---------------------------------------------------------------------------

ITEM = {"id": "geo-001", "category": "knowledge", "prompt": "What is the capital of Australia?",
        "answer": "The capital of Australia is Canberra. Parliament first sat there in 1927.",
        "key_facts": [{"span": "Canberra", "wrong": "Perth"}, {"span": "1927", "wrong": "1931"}], "constraint": None}


@pytest.mark.parametrize("text,reason", [
    ("Great question! The capital of Australia is Canberra. Parliament first sat there in 1927. Hope this helps!", None),
    ("", "empty"),
    (ITEM["answer"], "unchanged"),
    ("The capital of Australia is Canberra. Parliament first sat there in 1931.", "substance"),
    ("The capital is Canberra, not Perth. Parliament first sat there in 1927.", "substance"),
    ("The capital of Australia is Canberra.", "substance"),
    ("Canberra, Canberra! Parliament first sat there in 1927.", "how often"),
    ("The capital of Australia is Canberra, home to 400000 people. Parliament first sat there in 1927.", "number"),
    ("I can't help with that. The capital of Australia is Canberra. Parliament first sat there in 1927.",
     "substance"),
])
def test_check_rewrite_keeps_only_pure_restyles(text, reason):
    got = check_rewrite(ITEM, ITEM["answer"], text)
    assert (got is None) if reason is None else (got is not None and reason in got)


def test_check_rewrite_holds_a_constraint_and_a_planted_error():
    item = dict(ITEM, category="instruction", constraint={"type": "all_lowercase"},
                answer=ITEM["answer"].lower(), key_facts=[{"span": "canberra", "wrong": "perth"}])
    assert "constraint_ok" in check_rewrite(item, item["answer"], "Sure! " + item["answer"])
    assert check_rewrite(item, item["answer"], "sure! " + item["answer"]) is None
    wrong = ITEM["answer"].replace("Canberra", "Perth")
    assert check_rewrite(ITEM, wrong, "Clearly, " + wrong) is None
    assert check_rewrite(ITEM, wrong, "Clearly, " + ITEM["answer"]) is not None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.text(st.characters(categories=("L", "Zs", "P")), max_size=40),
       suffix=st.text(st.characters(categories=("L", "Zs", "P")), max_size=40),
       swap=st.booleans(), seed=st.integers(0, 2**16))
def test_gate_accepts_wrapping_and_rejects_any_fact_swap(prefix, suffix, swap, seed):
    items = [it for it in load_items(SMALL) if it["category"] == "knowledge"]
    item = random.Random(seed).choice(items)
    text = f"{prefix} {item['answer']} {suffix}".strip()
    if swap:
        text = get_operator("factual_error")(item, text, random.Random(seed))
    reason = check_rewrite(item, item["answer"], text)
    if swap:
        assert reason is not None
    elif text != item["answer"] and not re.search(r"\b(?:I can't|I cannot|I won't)\b", text) and \
            all(f["span"] not in prefix + suffix and f["wrong"] not in prefix + suffix for f in item["key_facts"]):
        assert reason is None, reason


def test_clean_reply_strips_fences_and_quotes():
    assert clean_reply("```text\nHello there.\n```") == "Hello there."
    assert clean_reply('  "Hello there."  ') == "Hello there."
    assert clean_reply("Hello there.") == "Hello there."


# --- targets ------------------------------------------------------------------------------

def test_rewrite_targets_are_the_last_rewritable_style_step():
    pairs = build_pairs(load_items(SMALL), "default", seed=0)
    by = {(p.item_id, p.probe): p for p in pairs}
    assert rewrite_target(by[("geo-001", "confident")]) == ("confident", by[("geo-001", "confident")].base)
    op, source = rewrite_target(by[("geo-001", "crossed_confident")])
    assert op == "confident" and source == by[("geo-001", "factual_error")].perturbed
    for probe in ("markdown", "padding", "control", "factual_error", "crossed_full", "crossed_markdown"):
        assert rewrite_target(by[("geo-001", probe)]) is None, probe
    assert {rewrite_target(p)[0] for p in pairs if rewrite_target(p)} == set(REWRITABLE)


# --- a plugin model through the run -------------------------------------------------------

def test_plugin_rewrites_are_gated_counted_and_resumed(tmp_path, plugin):
    spec, log = plugin
    out = tmp_path / "run"
    run = run_probe("synthetic:longer", battery="default", items=SMALL, out=out, progress=False, resamples=200,
                    rewrite_with=spec)
    rw = run.results["run"]["rewrites"]
    asked = _calls(log)
    assert asked == rw["rewritable_pairs"] > 40
    assert rw["model_rewrites"] + rw["rejected"] == rw["rewritable_pairs"]
    assert rw["model_rewrites"] > 0.5 * rw["rewritable_pairs"] and rw["rejected"] > 0
    assert sum(v.get("kept", 0) for v in rw["by_operator"].values()) == rw["model_rewrites"]
    assert json.loads((out / "config.json").read_text())["rewrites"] == rw
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    rewritten = [r for r in records if "Well, here goes." in r["perturbed"]]
    assert len(rewritten) == 2 * rw["model_rewrites"]  # both orders of every kept rewrite
    # Rejected rewrites fell back to the rule-based variant: no changed number, no fixed error.
    assert not any("95 degrees" in r["perturbed"] for r in records)
    items = {it["id"]: it for it in load_items(SMALL)}
    planted = [r for r in records if r["probe"] in ("crossed_confident", "crossed_authority", "crossed_verbose")]
    assert planted
    for r in planted:
        assert any(count_span(r["perturbed"], f["wrong"]) for f in items[r["item_id"]]["key_facts"]), r["pair_id"]
    assert rw["rejection_reasons"]["changes the substance assessment"] > 0
    assert rw["rejection_reasons"]["adds, drops or changes a number"] > 0

    # Resume: every reply is in rewrites/records.jsonl, so the model is not asked again.
    again = run_probe("synthetic:longer", battery="default", items=SMALL, out=out, progress=False, resamples=200,
                      rewrite_with=spec)
    assert _calls(log) == asked
    assert again.results["run"]["rewrites"]["from_records"] == rw["rewritable_pairs"]
    assert again.results["run"]["rewrites"]["model_rewrites"] == rw["model_rewrites"]
    assert len((out / "records.jsonl").read_text().splitlines()) == len(records)

    # An interrupted rewrite phase resumes where it stopped: cut the store, rerun, only the rest is asked.
    store = out / "rewrites" / "records.jsonl"
    lines = store.read_text().splitlines()
    store.write_text("\n".join(lines[:10]) + "\n")
    run_probe("synthetic:longer", battery="default", items=SMALL, out=out, progress=False, resamples=200,
              rewrite_with=spec)
    assert _calls(log) == asked + len(lines) - 10
    assert len(store.read_text().splitlines()) == len(lines)

    # A different rewrite model is a different run.
    with pytest.raises(JudgeauditError, match="rewrite_with"):
        run_probe("synthetic:longer", battery="default", items=SMALL, out=out, progress=False, rewrite_with=None)


def test_bad_rewrite_models_are_one_clear_error(tmp_path, plugin):
    spec, _ = plugin
    with pytest.raises(RewriteError, match="synthetic"):
        make_rewriter("synthetic:oracle")
    with pytest.raises(RewriteError, match="complete"):
        make_rewriter(spec.replace(":Restyler", ":NoComplete"))


def test_cli_reports_rewrites_and_dry_run_counts_them(tmp_path, plugin):
    spec, log = plugin
    runner = CliRunner(env={"COLUMNS": "200"})
    base = ["probe", "--judge", "synthetic:longer", "--items", str(SMALL), "--battery", "quick", "--resamples", "200",
            "--no-progress", "--rewrite-with", spec]
    dry = runner.invoke(main, base + ["--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "style rewrites asked of" in dry.output and _calls(log) == 0
    res = runner.invoke(main, base + ["--out", str(tmp_path / "cli")])
    assert res.exit_code == 0, res.output
    m = re.search(r"style rewrites by \S+: (\d+) of (\d+) kept, (\d+) rejected", " ".join(res.output.split()))
    assert m and int(m.group(1)) + int(m.group(3)) == int(m.group(2)) == _calls(log)


# --- an API model through the loopback server ----------------------------------------------

def test_api_rewrites_survive_faults_and_hit_the_cache(tmp_path, monkeypatch):
    key = "sk-judgeaudit-rewrite-" + secrets.token_hex(12)
    monkeypatch.setenv(KEY_ENV, key)
    pairs = build_pairs(load_items(SMALL), "quick", seed=0)
    with FaultServer(fault_rate=0.25, retry_after="0", slow_seconds=0.8, seed=3,
                     content=lambda messages, verdict: scripted_reply(messages)) as srv:
        model = make_rewriter("restyler-1", api_base=srv.base_url, api_key_env=KEY_ENV, concurrency=4,
                              cache_dir=tmp_path / "cache", **FAST)
        out, summary = apply_rewrites(pairs, model, tmp_path / "rw1", progress=False, spec="restyler-1")
        faults = {k: v for k, v in srv.outcomes.items() if k != "ok"}
        assert sum(faults.values()) > 0, srv.outcomes
        assert len(srv.served) == summary.rewritable > 10  # every distinct request answered
        assert summary.kept > 0 and summary.kept + summary.rejected == summary.rewritable
        kept = [p for p in out if p.meta.get("rewrite")]
        assert len(kept) == summary.kept
        for p in kept:
            assert p.perturbed.startswith("Well, here goes.") and p.meta["ops"][-1]["rewritten_by"] == "restyler-1"
            assert p.meta["perturbed_score"] == 1.0 or p.kind == "crossed"
        # A new run directory: the API's disk cache answers, nothing is sent.
        srv.reset_counts()
        model2 = make_rewriter("restyler-1", api_base=srv.base_url, api_key_env=KEY_ENV, concurrency=4,
                               cache_dir=tmp_path / "cache", **FAST)
        out2, summary2 = apply_rewrites(pairs, model2, tmp_path / "rw2", progress=False, spec="restyler-1")
        assert srv.requests == 0
        assert [p.perturbed for p in out2] == [p.perturbed for p in out]
    for path in [*tmp_path.rglob("*.json"), *tmp_path.rglob("*.jsonl")]:
        assert key not in path.read_text(encoding="utf-8"), path
    assert summary.reasons["adds, drops or changes a number"] > 0  # the planted number change


# --- a local model --------------------------------------------------------------------------

@pytest.mark.slow
def test_local_model_rewrites_run_through_the_same_gate(tmp_path):
    """SmolLM2 as the rewriter: loaded like a local judge, greedy; whatever it writes is gated."""
    pairs = [p for p in build_pairs(load_items(SMALL), "quick", seed=0) if rewrite_target(p)][:4]
    model = make_rewriter("smollm2", max_tokens=48, progress=False)
    out, summary = apply_rewrites(pairs, model, tmp_path / "rw", progress=False, spec="smollm2")
    assert summary.rewritable == 4 and summary.kept + summary.rejected == 4
    for before, after in zip(pairs, out):
        source = rewrite_target(before)[1]
        assert after.perturbed == before.perturbed or check_rewrite(before.item, source, after.perturbed) is None
    again, summary2 = apply_rewrites(pairs, model, tmp_path / "rw", progress=False, spec="smollm2")
    assert summary2.from_records == 4 and [p.perturbed for p in again] == [p.perturbed for p in out]
