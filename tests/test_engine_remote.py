"""Scoring and generation through the OpenAI completions protocol, against a loopback server
that serves the embedded SmolLM2's real log-probs: the remote path must agree with the local engine."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from judgeaudit.engine.remote import RemoteModelError, continuation_result, load_remote, split_context
from judgeaudit.runstore import RunStore
from openai_completions_server import CompletionsServer

TOL = 1e-4
REQUESTS = [
    ("Question: What is 2+2?\nAnswer:", " 4"),
    ("Question: What is 2+2?\nAnswer: ", "four"),  # trailing space moves to the continuation
    ("The capital of France is", " Paris, of course."),
    ("The capital of France is", " Paris"),
    ("Translate to French: cheese =>", " fromage"),
    ("Hello", " world"),
]


# -- parsing, no model -----------------------------------------------------------------
def _logprobs(tokens, lps, tops):
    offsets, pos = [], 0
    for t in tokens:
        offsets.append(pos)
        pos += len(t)
    return {"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets}


def test_continuation_tokens_are_those_starting_after_the_context():
    lp = _logprobs(["Answer", ":", " Par", "is"], [None, -0.5, -1.0, -0.25],
                   [None, {":": -0.5}, {" Lyon": -0.9}, {"is": -0.25}])
    res = continuation_result(lp, len("Answer:"), len("Answer: Paris"))
    assert res.logprob == pytest.approx(-1.25) and res.n_tokens == 2
    assert res.is_greedy is False  # " Par" is less likely than its top-1 alternative " Lyon"
    greedy = continuation_result(lp, len("Answer: Par"), len("Answer: Paris"))
    assert greedy.is_greedy is True and greedy.n_tokens == 1


def test_tokens_past_the_prompt_are_ignored_and_missing_logprobs_are_an_error():
    lp = _logprobs(["Q", " A", " extra"], [None, -0.1, -5.0], [None, {" A": -0.1}, {" extra": -5.0}])
    assert continuation_result(lp, 1, 3).logprob == pytest.approx(-0.1)
    with pytest.raises(RemoteModelError, match="no prompt log-probs"):
        continuation_result(None, 1, 3)
    merged = _logprobs(["Answer: Paris"], [None], [None])
    with pytest.raises(RemoteModelError, match="merged"):
        continuation_result(merged, len("Answer:"), len("Answer: Paris"))


def test_split_context_moves_trailing_whitespace():
    assert split_context("Answer: ", "B") == ("Answer:", " B")
    assert split_context("Answer:", " B") == ("Answer:", " B")


def test_remote_spec_needs_an_api_base():
    with pytest.raises(RemoteModelError, match="--api-base"):
        load_remote("openai-completions:smollm2", None, tokenizer=None)


# -- against the loopback server ---------------------------------------------------------
@pytest.fixture(scope="module")
def server(smollm2):
    with CompletionsServer(smollm2) as srv:
        yield srv


def remote(server, tmp_path, **kw):
    return load_remote("openai-completions:smollm2", server.base_url, cache_dir=tmp_path / "cache", progress=False,
                       **kw)


def test_remote_loglikelihoods_match_the_local_engine(smollm2, server, tmp_path):
    from judgeaudit.engine.loglikelihood import LoglikelihoodEngine

    local = LoglikelihoodEngine(smollm2, progress=False).loglikelihood(REQUESTS)
    lm = remote(server, tmp_path, batch_size=4, concurrency=2)
    server.counts.clear()
    got = lm.loglikelihood(REQUESTS)
    for a, b in zip(local, got):
        assert abs(a.logprob - b.logprob) < TOL
        assert (a.is_greedy, a.n_tokens) == (b.is_greedy, b.n_tokens)
    # Batched: 6 prompts in ceil(6 / 4) requests; cached: a rerun sends nothing.
    assert server.counts["completions"] == 2 and server.counts["prompts"] == 6
    again = remote(server, tmp_path).loglikelihood(REQUESTS)
    assert server.counts["completions"] == 2 and [r.logprob for r in again] == [r.logprob for r in got]


def test_server_errors_are_retried(smollm2, tmp_path):
    with CompletionsServer(smollm2, fail_first=2) as srv:
        lm = remote(srv, tmp_path, max_retries=3)
        [res] = lm.loglikelihood(REQUESTS[:1])
        assert srv.counts["completions"] == 3 and res.n_tokens == 2
    with CompletionsServer(smollm2, fail_first=5) as srv:
        with pytest.raises(RemoteModelError, match="HTTP 503"):
            remote(srv, tmp_path / "other", max_retries=1).loglikelihood(REQUESTS[:1])


def test_remote_generation_matches_local_greedy_generation(smollm2, server, tmp_path):
    from judgeaudit.engine.generation import generate

    prompts = ["Once upon a time", "The three primary colors are"]
    local = generate(smollm2, prompts, max_new_tokens=12, stop=["\n", "."], progress=False)
    got = remote(server, tmp_path).generate_texts(prompts, max_new_tokens=12, stop=["\n", "."])
    assert got == local and all(got)
    chat_local = generate(smollm2, ["What is the capital of France?"], max_new_tokens=12, chat=True, progress=False)
    chat_remote = remote(server, tmp_path).generate_texts(["What is the capital of France?"], max_new_tokens=12,
                                                          chat=True)
    assert chat_remote == chat_local


def test_score_cli_remote_equals_local(server, tmp_path):
    from judgeaudit.cli import main

    req = tmp_path / "req.jsonl"
    req.write_text("".join(json.dumps({"context": c, "continuation": x, "id": i}) + "\n"
                           for i, (c, x) in enumerate(REQUESTS)))
    runner = CliRunner()
    local = runner.invoke(main, ["score", "--requests", str(req), "--out", str(tmp_path / "local.jsonl"),
                                 "--dtype", "float32"])
    assert local.exit_code == 0, local.output
    res = runner.invoke(main, ["score", "--model", "openai-completions:smollm2", "--api-base", server.base_url,
                               "--requests", str(req), "--out", str(tmp_path / "remote.jsonl")],
                        env={"JUDGEAUDIT_CACHE": str(tmp_path / "cache")})
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in (tmp_path / "remote.jsonl").read_text().splitlines()]
    base = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == list(range(len(REQUESTS)))
    assert max(abs(a["logprob"] - b["logprob"]) for a, b in zip(rows, base)) < TOL
    bad = runner.invoke(main, ["score", "--model", "openai-completions:smollm2", "--requests", str(req),
                               "--out", str(tmp_path / "x.jsonl")])
    assert bad.exit_code != 0 and "--api-base" in bad.output and not (tmp_path / "x.jsonl").exists()


def _sos_parity(smollm2, server, tmp_path, tasks):
    from judgeaudit.sos.data import DataSource
    from judgeaudit.sos.document_scoring import SosOptions
    from judgeaudit.sos.pipeline import run_sos

    opts = SosOptions(source=DataSource("fixtures"), n_resamples=50)
    quiet = dict(tasks=tasks, options=opts, progress=False, report=lambda s: None)
    local = run_sos(smollm2, tmp_path / "local", **quiet)
    lm = remote(server, tmp_path, batch_size=16, concurrency=2)
    got = run_sos(lm, tmp_path / "remote", **quiet)
    a = {(r["subtask"], r["index"]): r for r in RunStore(tmp_path / "local").records()}
    b = {(r["subtask"], r["index"]): r for r in RunStore(tmp_path / "remote").records()}
    assert a.keys() == b.keys() and len(a) > 0
    diffs = [abs(x - y) for k in a for x, y in zip(a[k]["loglikelihoods"], b[k]["loglikelihoods"])]
    assert max(diffs) < TOL
    for k in a:
        assert (a[k]["pred"], a[k]["pred_norm"], a[k]["is_greedy"]) == (b[k]["pred"], b[k]["pred_norm"], b[k]["is_greedy"])
    for name, bench in local.results["benchmarks"].items():
        assert got.results["benchmarks"][name]["score"] == pytest.approx(bench["score"])
    return max(diffs), len(a)


def test_sos_fixtures_remote_equals_local(smollm2, server, tmp_path):
    _sos_parity(smollm2, server, tmp_path, "xstest,wmdp")


@pytest.mark.slow
def test_sos_fixtures_remote_equals_local_safety_mmlu_pro_bbh(smollm2, server, tmp_path):
    worst, n = _sos_parity(smollm2, server, tmp_path, "safety,mmlu_pro,bbh")
    print(f"remote vs local on {n} SOS fixture documents: max |loglikelihood diff| {worst:.2e}")


def test_local_style_judge_on_a_served_model(smollm2, server, tmp_path):
    from judgeaudit.judges import make_judge
    from judgeaudit.judges.local import LocalJudge
    from judgeaudit.judges.protocol import VERDICTS, JudgeRequest

    reqs = [JudgeRequest("What is the capital of Australia?", "Canberra.", "Perth."),
            JudgeRequest("What is the capital of Australia?", "Perth.", "Canberra.")]
    local = LocalJudge(smollm2).judge_batch(reqs)
    judge = make_judge("openai-completions:smollm2", api_base=server.base_url)
    judge.lm.cache = remote(server, tmp_path).cache
    assert isinstance(judge, LocalJudge) and judge.lm.tokenizer is not None
    got = judge.judge_batch(reqs)
    for a, b in zip(local, got):
        assert b.parsed and math.isclose(sum(b.probs.values()), 1.0, abs_tol=1e-9)
        assert np.allclose([a.probs[v] for v in VERDICTS], [b.probs[v] for v in VERDICTS], atol=1e-4)
