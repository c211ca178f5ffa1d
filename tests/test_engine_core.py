"""Prefix sharing, batching and out-of-memory back-off give the same scores as scoring alone."""

import pytest
import torch

from judgeaudit.engine.bench import make_workload, run_naive
from judgeaudit.engine.loglikelihood import LoglikelihoodEngine
from judgeaudit.engine.packing import PackedRow, Branch, batch_rows, pack_rows
from judgeaudit.engine.requests import EncodedRequest

REQUESTS = [
    ("Question: Which is a fruit?\nAnswer:", " apple"),
    ("Question: Which is a fruit?\nAnswer:", " a wooden chair with four legs"),
    ("Question: Which is a fruit?\nAnswer:", " stone"),
    ("Question: Which is a fruit?\nAnswer:", " apple"),  # duplicate: scored once, reported twice
    ("The sun rises in the", " east"),
    ("The sun rises in the", " west and sets in the east"),
    ("Completely different context that shares nothing", "."),
]


@pytest.fixture(scope="module")
def alone(smollm2):
    return LoglikelihoodEngine(smollm2, progress=False, share_prefix=False).loglikelihood(REQUESTS)


def _same(a, b, tol=1e-4):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert abs(x.logprob - y.logprob) < tol
        assert x.is_greedy == y.is_greedy
        assert x.n_tokens == y.n_tokens


def test_prefix_sharing_equals_scoring_alone(smollm2, alone):
    shared = LoglikelihoodEngine(smollm2, progress=False).loglikelihood(REQUESTS)
    _same(shared, alone)
    assert shared[0] == shared[3]
    assert shared[0].logprob > shared[2].logprob - 50  # finite, sensible magnitudes


def test_tiny_budgets_split_rows_and_batches_without_changing_scores(smollm2, alone):
    engine = LoglikelihoodEngine(smollm2, progress=False, max_batch_tokens=24)
    _same(engine.loglikelihood(REQUESTS), alone)


def test_alone_matches_full_logits_reference(smollm2, alone):
    naive = run_naive(smollm2, REQUESTS, batch_size=3)
    for a, b in zip(alone, naive):
        assert abs(a.logprob - b) < 1e-4


def test_out_of_memory_backs_off_and_finishes(smollm2, alone, monkeypatch):
    engine = LoglikelihoodEngine(smollm2, progress=False, max_batch_tokens=4096)
    real = engine._score_batch
    calls = {"oom": 0}

    def flaky(batch):
        if len(batch) * max(r.length for r in batch) > 40:
            calls["oom"] += 1
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(batch)

    monkeypatch.setattr(engine, "_score_batch", flaky)
    _same(engine.loglikelihood(REQUESTS), alone)
    assert calls["oom"] > 0 and engine.oom_backoffs > 0


def test_other_errors_are_not_swallowed(smollm2, monkeypatch):
    engine = LoglikelihoodEngine(smollm2, progress=False)
    monkeypatch.setattr(engine, "_score_batch", lambda batch: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        engine.loglikelihood(REQUESTS[:2])


def test_workload_contexts_are_about_300_tokens(smollm2):
    reqs = make_workload(5, 4)
    lengths = [len(smollm2.tokenizer.encode(c)) for c, _ in reqs[::4]]
    assert all(250 <= n <= 400 for n in lengths), lengths
    assert len(reqs) == 20 and len({c for c, _ in reqs}) == 5


# -- packing, without a model ---------------------------------------------------------
def test_packed_row_predictions_point_at_the_right_positions():
    enc = [EncodedRequest((1, 2, 3), (10, 11)), EncodedRequest((1, 2, 3), (20,)), EncodedRequest((1, 2, 3), (30, 31, 32))]
    (row,) = pack_rows(enc, range(3), max_row_tokens=100)
    assert row.tokens() == [1, 2, 3, 10, 30, 31]
    positions, segments = row.layout()
    assert positions == [0, 1, 2, 3, 3, 4] and segments == [0, 0, 0, 1, 3, 3]
    assert list(row.predictions()) == [(2, 10, 0), (3, 11, 0), (2, 20, 1), (2, 30, 2), (4, 31, 2), (5, 32, 2)]


def test_rows_respect_budget_and_batches_go_longest_first():
    enc = [EncodedRequest((1,) * 10, (5,) * 6) for _ in range(5)] + [EncodedRequest((2,) * 30, (7, 8))]
    rows = pack_rows(enc, range(6), max_row_tokens=22)
    assert sorted(len(r.branches) for r in rows) == [1, 1, 2, 2]
    assert all(r.length <= 22 for r in rows if len(r.branches) > 1)  # a lone branch may exceed it
    batches = batch_rows(rows, max_batch_tokens=40)
    flat = [r.length for b in batches for r in b]
    assert flat == sorted(flat, reverse=True)
    assert all(len(b) * b[0].length <= 40 or len(b) == 1 for b in batches)
    assert sorted(br.request for b in batches for r in b for br in r.branches) == list(range(6))


def test_tree_mask_blocks_other_branches(smollm2):
    engine = LoglikelihoodEngine(smollm2, progress=False)
    row = PackedRow((1, 2), [Branch(0, (3, 4)), Branch(1, (5, 6))])
    seg = torch.tensor([row.layout()[1] + [-1]])
    allowed = engine._tree_mask(seg)[0, 0] == 0
    expect = torch.tensor([
        [1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0],  # branch 1 sees the prefix and itself
        [1, 1, 0, 1, 0],  # branch 2 does not see branch 1
        [1, 1, 0, 0, 1],  # padding sees the prefix (no all-masked row)
    ], dtype=torch.bool)
    assert torch.equal(allowed, expect)
