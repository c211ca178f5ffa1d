"""API judge against a real local HTTP server speaking chat completions, with faults injected."""

from __future__ import annotations

import logging
import math
import secrets
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from judgeaudit.cli import main
from judgeaudit.judges import make_judge, run_judgments
from judgeaudit.judges.api import APIJudgeError, MissingAPIKey
from judgeaudit.judges.pricing import OPENAI_PRICES, price_of, price_table
from judgeaudit.judges.protocol import JudgeRequest
from judgeaudit.judges.pair_judging import estimate_judgments
from judgeaudit.judges.token_verdicts import overall_from_tokens
from judgeaudit.errors import InputError
from judgeaudit.probes.pairs import Pair
from judgeaudit.runstore import RunStore

from openai_fault_server import FaultServer, default_verdict, tokens_with_logprobs

KEY_ENV = "JUDGEAUDIT_TEST_API_KEY"
FAST = dict(timeout=0.4, backoff_base=0.01, backoff_cap=0.05, max_retries=15)


def make_pairs(n: int) -> list[Pair]:
    return [Pair(pair_id=f"it-{i:03d}/markdown/s0", item_id=f"it-{i:03d}", probe="markdown", kind="style",
                 category="knowledge", prompt=f"Question number {i}: what is {i} plus {i}?",
                 base=f"{i} plus {i} is {2 * i}.", perturbed=f"**Answer:** {i} plus {i} is **{2 * i}**.",
                 item={"id": f"it-{i:03d}"}) for i in range(n)]


def expected_probs(verdict: str) -> dict[str, float]:
    """What the server's token log-probs imply (see tokens_with_logprobs): letters .7/.3, ops .6/.25/.1/.05."""
    letter, op = verdict[0], verdict[1:-1]
    ops = {op: 0.6}
    for alt, p in ((">", 0.25), (">>", 0.1), ("=", 0.05)):
        ops.setdefault(alt, p)
    other = "B" if letter == "A" else "A"
    from judgeaudit.judges.verdicts import normalize_comparison

    w: dict[str, float] = {}
    for lt, pl in ((letter, 0.7), (other, 0.3)):
        for o, po in ops.items():
            v = normalize_comparison(lt, o, "B" if lt == "A" else "A")
            w[v] = w.get(v, 0) + pl * po
    total = sum(w.values())
    return {v: x / total for v, x in w.items()}


@pytest.fixture
def api_key(monkeypatch) -> str:
    key = "sk-judgeaudit-leakcheck-" + secrets.token_hex(12)
    monkeypatch.setenv(KEY_ENV, key)
    return key


def test_faulted_run_completes_without_duplicates_and_rerun_hits_cache(tmp_path, api_key):
    pairs = make_pairs(14)
    with FaultServer(fault_rate=0.3, retry_after="1", slow_seconds=0.8, seed=7) as srv:
        judge = make_judge("gpt-4-1106-preview", api_base=srv.base_url, api_key_env=KEY_ENV,
                           cache_dir=tmp_path / "cache", concurrency=6, **FAST)
        store = RunStore(tmp_path / "run1")
        records = run_judgments(judge, pairs, store, progress=False)
        first_requests = srv.requests
        faults = {k: v for k, v in srv.outcomes.items() if k != "ok"}

        assert len(records) == 2 * len(pairs)
        lines = store.records()
        assert len(lines) == 2 * len(pairs)
        assert len({r["key"] for r in lines}) == len(lines)
        assert {(r["pair_id"], r["order"]) for r in lines} == {(p.pair_id, o) for p in pairs
                                                                for o in ("base_first", "perturbed_first")}
        # Faults really happened, of several kinds, at about the configured rate.
        assert sum(faults.values()) >= 0.15 * first_requests, (faults, first_requests)
        assert len(faults) >= 3, faults
        assert srv.outcomes["ok"] >= 2 * len(pairs)
        for r in lines:
            assert r["parsed"] and r["usage"]["cached"] is False
            assert abs(sum(r["probs"].values()) - 1) < 1e-9
            assert r["usage"]["prompt_tokens"] > 0 and r["usage"]["cost_usd"] > 0
        # The distribution comes from the returned token log-probs, not just the text.
        srv_verdict = default_verdict(judge.template.conversations(
            JudgeRequest(pairs[0].prompt, pairs[0].base, pairs[0].perturbed))[0])
        r0 = next(r for r in lines if r["pair_id"] == pairs[0].pair_id and r["order"] == "base_first")
        for v, p in expected_probs(srv_verdict).items():
            assert math.isclose(r0["probs"][v], p, abs_tol=1e-9)

        # Resuming the same run: nothing to do, nothing sent, nothing appended.
        srv.reset_counts()
        again = run_judgments(judge, pairs, store, progress=False)
        assert srv.requests == 0 and len(store.records()) == len(lines)
        assert [r["key"] for r in again] == [r["key"] for r in records]

        # A fresh run directory with the same cache: zero requests, identical verdicts.
        judge2 = make_judge("gpt-4-1106-preview", api_base=srv.base_url, api_key_env=KEY_ENV,
                            cache_dir=tmp_path / "cache", concurrency=6, **FAST)
        second = run_judgments(judge2, pairs, RunStore(tmp_path / "run2"), progress=False)
        assert srv.requests == 0
        assert [(r["key"], r["probs"]) for r in second] == [(r["key"], r["probs"]) for r in records]
        assert all(r["usage"]["cached"] and r["usage"]["cost_usd"] == 0 for r in second)


def test_retry_after_is_honoured(tmp_path, api_key):
    with FaultServer(first_faults=["429"], retry_after="1") as srv:
        judge = make_judge("gpt-4o", api_base=srv.base_url, api_key_env=KEY_ENV, cache_dir=tmp_path, **FAST)
        out = judge.judge_batch([JudgeRequest("q", "a", "b")])
        assert out[0].parsed
        assert srv.requests == 2
        assert srv.arrivals[1] - srv.arrivals[0] >= 0.95


def test_backoff_grows_and_gives_up_with_clear_error(tmp_path, api_key):
    with FaultServer(fault_rate=1.0, faults=("500",)) as srv:
        judge = make_judge("gpt-4o", api_base=srv.base_url, api_key_env=KEY_ENV, cache_dir=tmp_path,
                           timeout=0.4, backoff_base=0.02, backoff_cap=0.2, max_retries=4)
        with pytest.raises(APIJudgeError, match="failed after 5 attempts"):
            judge.judge_batch([JudgeRequest("q", "a", "b")])
        assert srv.requests == 5
        assert not any((tmp_path).rglob("*.json"))  # nothing cached for a failed request


def test_token_logprobs_give_a_continuous_distribution():
    for verdict in ("A>>B", "A>B", "A=B", "B>A", "B>>A"):
        content = f"Reasoning here.\nMy final verdict is: [[{verdict}]]"
        toks = tokens_with_logprobs(content, 5, verdict)
        assert "".join(t["token"] for t in toks).endswith(f"[[{verdict}]]")
        w = overall_from_tokens(toks)
        total = sum(w.values())
        for v, p in expected_probs(verdict).items():
            assert math.isclose(w[v] / total, p, abs_tol=1e-9), (verdict, v)
    # A single token holding the whole comparison is read directly.
    toks = [{"token": "[[", "logprob": 0.0, "top_logprobs": []},
            {"token": "B>A", "logprob": math.log(0.5), "top_logprobs": [
                {"token": "B>A", "logprob": math.log(0.5)}, {"token": "A<B", "logprob": math.log(0.2)},
                {"token": "A=B", "logprob": math.log(0.3)}]},
            {"token": "]]", "logprob": 0.0, "top_logprobs": []}]
    w = overall_from_tokens(toks)
    assert math.isclose(w["B>A"], 0.7) and math.isclose(w["A=B"], 0.3)
    assert overall_from_tokens([{"token": "no verdict", "logprob": 0.0}]) is None


def test_missing_key_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingAPIKey, match="OPENAI_API_KEY"):
        make_judge("gpt-4-1106-preview", cache_dir=tmp_path)
    result = CliRunner().invoke(main, ["judges", "try", "--judge", "gpt-4-1106-preview", "--prompt", "p",
                                       "--a", "x", "--b", "y", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "OPENAI_API_KEY" in lines[0] and "Traceback" not in result.output
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(MissingAPIKey, match="MY_KEY"):
        make_judge("llama", api_base="http://127.0.0.1:9/v1", api_key_env="MY_KEY", cache_dir=tmp_path)


def test_dry_run_estimates_without_calling(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    pairs = make_pairs(50)
    judge = make_judge("gpt-4-1106-preview", cache_dir=tmp_path, dry_run=True, est_completion_tokens=500)
    est = estimate_judgments(judge, pairs)
    assert est["judgments"] == 100 and est["requests"] == 100 and est["cached_requests"] == 0
    assert est["price_usd_per_1m"] == [10.0, 30.0]
    expected = (est["prompt_tokens_est"] * 10 + est["completion_tokens_est"] * 30) / 1e6
    assert math.isclose(est["cost_usd_est"], expected)
    assert est["completion_tokens_est"] == 100 * 500
    assert est["cost_usd_max"] > est["cost_usd_est"]
    assert judge._client_obj is None
    with pytest.raises(APIJudgeError, match="dry-run"):
        judge.judge_batch([JudgeRequest("q", "a", "b")])
    result = CliRunner().invoke(main, ["judges", "try", "--judge", "gpt-4-1106-preview", "--prompt", "p",
                                       "--a", "x", "--b", "y", "--cache-dir", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert '"requests": 1' in result.output


def test_prices_known_and_overridable(tmp_path):
    table = price_table()
    assert price_of("gpt-4-1106-preview", table) == (10.0, 30.0)
    assert price_of("gpt-4o-mini-2024-07-18", table) == OPENAI_PRICES["gpt-4o-mini"]
    assert price_of("my-local-model", table) is None
    f = tmp_path / "prices.json"
    f.write_text('{"my-local-model": {"input": 0.0, "output": 0.0}, "gpt-4-1106-preview": {"input": 1, "output": 2}}')
    table = price_table(f)
    assert price_of("my-local-model", table) == (0.0, 0.0)
    assert price_of("gpt-4-1106-preview", table) == (1.0, 2.0)
    f.write_text('{"gpt-x": {"input": "cheap"}}')
    with pytest.raises(InputError, match="gpt-x"):
        price_table(f)


def test_api_key_never_written_or_logged(tmp_path, api_key, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("openai").setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    run_dir, cache_dir = tmp_path / "run", tmp_path / "cache"
    with FaultServer(fault_rate=0.3, faults=("429", "500", "drop", "malformed"), retry_after="0",
                     required_key=api_key, seed=3) as srv:
        judge = make_judge("gpt-4-1106-preview", api_base=srv.base_url, api_key_env=KEY_ENV,
                           cache_dir=cache_dir, concurrency=4, **FAST)
        records = run_judgments(judge, make_pairs(6), RunStore(run_dir), progress=True)
        assert len(records) == 12 and all(r["parsed"] for r in records)
        assert repr(judge).find(api_key) == -1
        result = CliRunner().invoke(main, ["judges", "try", "--judge", "gpt-4-1106-preview", "--api-base", srv.base_url,
                                           "--api-key-env", KEY_ENV, "--cache-dir", str(cache_dir), "--json",
                                           "--prompt", "p", "--a", "x", "--b", "y"])
        assert result.exit_code == 0, result.output
        # A server that rejects the key and echoes it back: the error shown must not carry it.
        srv.required_key = "sk-some-other-key"
        bad = make_judge("gpt-4o", api_base=srv.base_url, api_key_env=KEY_ENV, cache_dir=cache_dir, **FAST)
        with pytest.raises(APIJudgeError) as err:
            bad.judge_batch([JudgeRequest("fresh question", "a", "b")])
        assert api_key not in str(err.value)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in cache_dir.rglob("*")) and (run_dir / "records.jsonl").exists()
    needle = api_key.encode()
    for p in written:
        assert needle not in p.read_bytes(), p
    out, errout = capfd.readouterr()
    assert api_key not in out and api_key not in errout and api_key not in result.output
    assert api_key not in caplog.text
    assert all(api_key not in str(rec.args) for rec in caplog.records)


def test_identical_requests_are_sent_once(tmp_path, api_key):
    """A control pair (base == perturbed) gives the same chat in both orders: one request, not two."""
    pair = make_pairs(1)[0]
    control = Pair(pair_id="it-000/control/s0", item_id=pair.item_id, probe="control", kind="control",
                   category="knowledge", prompt=pair.prompt, base=pair.base, perturbed=pair.base, item=pair.item)
    with FaultServer() as srv:
        judge = make_judge("gpt-4o", api_base=srv.base_url, api_key_env=KEY_ENV, cache_dir=tmp_path / "c",
                           concurrency=4, **FAST)
        records = run_judgments(judge, [control], RunStore(tmp_path / "r"), progress=False)
        assert len(records) == 2 and srv.requests == 1
        assert sorted(r["usage"]["cached"] for r in records) == [False, True]


def test_factorwise_and_single_templates_through_the_api(tmp_path, api_key):
    def reply(messages, verdict):
        user = messages[-1]["content"]
        if "<|Reply of the Assistant|>" in user:  # single-answer grading: grade by answer length
            answer = user.split("<|Reply of the Assistant|>")[1].split("<|End of Reply")[0]
            return f"Reasonable. Rating: [[{min(10, len(answer.strip()) // 10 + 1)}]]"
        return ("Correctness: ((A>B))\nCompleteness: ((A=B))\nSafety: ((A=B))\nConciseness: ((B>A))\n"
                "Style: ((A<<B))\nMy final verdict is: [[A>B]]")

    pairs = make_pairs(2)
    with FaultServer(content=reply) as srv:
        fw = make_judge("gpt-4o", template="factorwise", api_base=srv.base_url, api_key_env=KEY_ENV,
                        cache_dir=tmp_path / "c", **FAST)
        recs = run_judgments(fw, pairs, RunStore(tmp_path / "fw"), progress=False)
        bf = next(r for r in recs if r["order"] == "base_first")
        assert bf["template"] == "factorwise" and bf["score_perturbed"] == 0.25
        assert bf["criteria_perturbed"] == {"correctness": 0.25, "completeness": 0.5, "safety": 0.5,
                                            "conciseness": 0.75, "style": 1.0}
        single = make_judge("gpt-4o", template="single", api_base=srv.base_url, api_key_env=KEY_ENV,
                            cache_dir=tmp_path / "c", **FAST)
        srv.reset_counts()
        recs = run_judgments(single, pairs, RunStore(tmp_path / "single"), progress=False)
        # Each answer is graded once; the second order reuses both grades from the cache.
        assert srv.requests == 2 * len(pairs)
        for r in recs:
            assert r["parsed"] and r["score_perturbed"] > 0.5  # the padded answer is longer, so graded higher


def test_openai_key_is_not_forwarded_to_other_servers(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-" + secrets.token_hex(8))
    with FaultServer(required_key="unused") as srv:  # 401 for any other key
        judge = make_judge("llama3", api_base=srv.base_url, cache_dir=tmp_path)
        assert judge.judge_batch([JudgeRequest("q", "a", "b")])[0].parsed


def test_api_cache_follows_the_one_cache_root(tmp_path, monkeypatch):
    from judgeaudit.cache_dirs import api_cache_dir, models_cache_dir

    monkeypatch.setenv("JUDGEAUDIT_CACHE", str(tmp_path / "root"))
    monkeypatch.setenv("JUDGEAUDIT_CACHE_DIR", str(tmp_path / "stale"))  # no longer read
    judge = make_judge("gpt-4-1106-preview", dry_run=True)
    assert judge.cache.dir == tmp_path / "root" / "api" == api_cache_dir()
    assert models_cache_dir() == tmp_path / "root" / "models"
