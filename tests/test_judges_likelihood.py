"""The likelihood judge on the embedded SmolLM2: its scores are `judgeaudit score` log-likelihoods."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from judgeaudit.cli import main
from judgeaudit.errors import JudgeauditError
from judgeaudit.judges import make_judge, swap
from judgeaudit.judges.likelihood import DEFAULT_SCALE, LikelihoodJudge
from judgeaudit.judges.protocol import VERDICTS, JudgeRequest
from judgeaudit.judges.score_link import difference_to_probs

REQUESTS = [
    JudgeRequest("What is the capital of France?", "The capital of France is Paris.", "The capital of France is Berlin."),
    JudgeRequest("What is the capital of France?", "The capital of France is Berlin.", "The capital of France is Paris."),
]


def test_likelihood_judge_agrees_with_score_loglikelihoods(smollm2, tmp_path):
    judge = LikelihoodJudge(smollm2)
    assert judge.normalize == "mean" and judge.scale == DEFAULT_SCALE["mean"]
    judgments = judge.judge_batch(REQUESTS)

    # The same (context, continuation) requests through the `score` command.
    lines = []
    for k, req in enumerate(REQUESTS):
        for side, answer in (("a", req.answer_a), ("b", req.answer_b)):
            context, continuation = judge.request_for(req.prompt, answer)
            lines.append(json.dumps({"id": f"{k}{side}", "context": context, "continuation": continuation}))
    assert "<|im_start|>user\nWhat is the capital of France?" in json.loads(lines[0])["context"]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["score", "--model", "smollm2", "--dtype", "float32",
                                       "--requests", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    scored = {r["id"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}

    for k, j in enumerate(judgments):
        raw = json.loads(j.raw)
        a, b = scored[f"{k}a"], scored[f"{k}b"]
        assert raw["logprob_a"] == pytest.approx(a["logprob"], abs=1e-4)
        assert raw["logprob_b"] == pytest.approx(b["logprob"], abs=1e-4)
        assert (raw["tokens_a"], raw["tokens_b"]) == (a["n_tokens"], b["n_tokens"])
        diff = a["logprob"] / a["n_tokens"] - b["logprob"] / b["n_tokens"]
        expected = difference_to_probs(diff, DEFAULT_SCALE["mean"])
        assert all(math.isclose(j.probs[v], expected[v], abs_tol=1e-3) for v in VERDICTS)
    # The right answer is likelier per token than the wrong one; the swapped order mirrors it exactly.
    assert judgments[0].probs["A>>B"] > 0.5
    assert all(math.isclose(judgments[0].probs[v], swap(judgments[1].probs)[v], abs_tol=1e-9) for v in VERDICTS)

    # Totals instead of means.
    total = LikelihoodJudge(smollm2, normalize="none")
    assert total.name == "likelihood:smollm2?normalize=none" and total.scale == DEFAULT_SCALE["none"]
    for k, j in enumerate(total.judge_batch(REQUESTS)):
        diff = scored[f"{k}a"]["logprob"] - scored[f"{k}b"]["logprob"]
        assert json.loads(j.raw)["difference"] == pytest.approx(diff, abs=1e-4)
        assert j.probs["A>>B"] + j.probs["A>B"] > 0.5 if diff > 0 else j.probs["B>>A"] + j.probs["B>A"] > 0.5


def test_likelihood_spec_options_and_errors():
    with pytest.raises(JudgeauditError, match="normalize must be one of"):
        make_judge("likelihood:smollm2?normalize=max")
    with pytest.raises(JudgeauditError, match="unknown option"):
        make_judge("likelihood:smollm2?temperature=0")
    with pytest.raises(JudgeauditError, match="scale must be a positive number"):
        make_judge("likelihood:smollm2", reward_scale=0)
    with pytest.raises(JudgeauditError, match="names no model"):
        make_judge("likelihood:")
