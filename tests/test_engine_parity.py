"""The engine against lm-evaluation-harness's HF backend on the same requests (fp32)."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from judgeaudit.engine.loglikelihood import LoglikelihoodEngine

DATA = Path(__file__).parent / "data" / "mc_parity.jsonl"
TOL = 1e-4  # SOS_BENCH.md: same model, fp32 -> same log-likelihoods to about 1e-4


def mc_requests():
    docs = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    requests, spans = [], []
    for doc in docs:
        context = f"Question: {doc['question']}\nAnswer:"
        start = len(requests)
        requests.extend((context, " " + c) for c in doc["choices"])
        spans.append((start, doc))
    return docs, requests, spans


def acc_and_acc_norm(logprobs, spans):
    acc = acc_norm = 0
    for start, doc in spans:
        lps = logprobs[start:start + len(doc["choices"])]
        norm = [lp / len(" " + c) for lp, c in zip(lps, doc["choices"])]
        acc += max(range(len(lps)), key=lps.__getitem__) == doc["gold"]
        acc_norm += max(range(len(norm)), key=norm.__getitem__) == doc["gold"]
    return acc / len(spans), acc_norm / len(spans)


def lm_eval_loglikelihood(checkpoint_dir, requests, max_length=None):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    kwargs = {"max_length": max_length} if max_length else {}
    model = HFLM(pretrained=checkpoint_dir, dtype="float32", batch_size=8, device="cpu", **kwargs)
    instances = [Instance(request_type="loglikelihood", doc={}, arguments=req, idx=i) for i, req in enumerate(requests)]
    return model.loglikelihood(instances, disable_tqdm=True)


@pytest.fixture(scope="module")
def parity_run(smollm2):
    docs, requests, spans = mc_requests()
    # Edge cases the harness handles specially: trailing context space, empty context.
    requests = requests + [("The capital of Italy is ", "Rome"), ("", "Hello world, this is a test.")]
    ours = LoglikelihoodEngine(smollm2, progress=False).loglikelihood(requests)
    theirs = lm_eval_loglikelihood(smollm2.checkpoint_dir, requests)
    return requests, spans, ours, theirs


def test_loglikelihoods_match_lm_eval(parity_run):
    requests, _, ours, theirs = parity_run
    assert len(ours) == len(theirs) == len(requests)
    for req, mine, (lp, greedy) in zip(requests, ours, theirs):
        assert abs(mine.logprob - lp) < TOL, (req, mine.logprob, lp)
        assert mine.is_greedy == greedy, req


def test_acc_and_acc_norm_match_lm_eval(parity_run):
    _, spans, ours, theirs = parity_run
    n = sum(len(doc["choices"]) for _, doc in spans)
    mine = acc_and_acc_norm([r.logprob for r in ours[:n]], spans)
    ref = acc_and_acc_norm([lp for lp, _ in theirs[:n]], spans)
    assert mine == ref
    # Per-item predictions, not only the mean, are identical.
    for start, doc in spans:
        k = len(doc["choices"])
        a = max(range(k), key=lambda j: ours[start + j].logprob)
        b = max(range(k), key=lambda j: theirs[start + j][0])
        assert a == b, doc["question"]


def test_left_truncation_matches_lm_eval(smollm2):
    """Inputs longer than the window are cut from the left, as the harness does."""
    window = 48
    short = replace(smollm2, max_length=window)
    context = " ".join(f"Item {i} is on shelf {i % 7}." for i in range(30)) + "\nWhere is item 3?"
    requests = [(context, " On shelf 3."), (context, " On shelf 5."), ("Short context:", " fine")]
    ours = LoglikelihoodEngine(short, progress=False).loglikelihood(requests)
    theirs = lm_eval_loglikelihood(smollm2.checkpoint_dir, requests, max_length=window)
    for mine, (lp, greedy) in zip(ours, theirs):
        assert abs(mine.logprob - lp) < TOL
        assert mine.is_greedy == greedy
