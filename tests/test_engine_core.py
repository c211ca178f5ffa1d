"""Prefix sharing, batching and out-of-memory back-off give the same scores as scoring alone."""

import pytest
import torch

from judgeaudit.engine.bench import make_workload, run_naive
from judgeaudit.engine.loglikelihood import LoglikelihoodEngine
from judgeaudit.engine.packing import batch_rows, build_clusters
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


def test_cached_shared_instructions_give_the_same_scores(smollm2):
    head = ("You are a careful grader. Read the question and the answer, then say whether the answer is right. "
            "Be strict about facts and ignore the tone of the answer entirely. ")
    reqs = [(head + f"Question: {q}\nAnswer: {a}\nVerdict:", c)
            for q, a in [("2+2?", "4"), ("2+2?", "5"), ("Capital of Peru?", "Lima")] for c in (" right", " wrong")]
    engine = LoglikelihoodEngine(smollm2, progress=False, min_shared=16)
    assert any(c.prefix for c in build_clusters(engine.encode(reqs), range(len(reqs)), 1024, min_shared=16))
    _same(engine.loglikelihood(reqs), LoglikelihoodEngine(smollm2, progress=False, share_prefix=False).loglikelihood(reqs))


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

    # Fail any batch bigger than the longest single request: the first, packed batch
    # must fail, and the engine has to split down to rows that fit.
    encoded = engine.encode(REQUESTS)
    limit = max(len(e.prefix) + len(e.continuation) - 1 for e in encoded)
    packed = max(r.length for c in build_clusters(encoded, range(len(encoded)), 4096) for r in c.rows)
    assert packed > limit

    def flaky(batch, cache=None):
        if len(batch) * max(r.length for r in batch) > limit:
            calls["oom"] += 1
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(batch, cache)

    monkeypatch.setattr(engine, "_score_batch", flaky)
    _same(engine.loglikelihood(REQUESTS), alone)
    assert calls["oom"] > 0 and engine.oom_backoffs > 0


def test_other_errors_are_not_swallowed(smollm2, monkeypatch):
    engine = LoglikelihoodEngine(smollm2, progress=False)
    monkeypatch.setattr(engine, "_score_batch", lambda batch, cache=None: (_ for _ in ()).throw(ValueError("boom")))
    with pytest.raises(ValueError, match="boom"):
        engine.loglikelihood(REQUESTS[:2])


def test_workload_contexts_are_about_300_tokens(smollm2):
    reqs = make_workload(5, 4)
    lengths = [len(smollm2.tokenizer.encode(c)) for c, _ in reqs[::4]]
    assert all(250 <= n <= 400 for n in lengths), lengths
    assert len(reqs) == 20 and len({c for c, _ in reqs}) == 5


# -- packing, without a model ---------------------------------------------------------
def test_trie_row_shares_prefixes_and_points_predictions_at_the_right_nodes():
    enc = [EncodedRequest((1, 2, 3), (10, 11)), EncodedRequest((1, 2, 3), (20,)), EncodedRequest((1, 2, 3), (30, 31, 32))]
    (cluster,) = build_clusters(enc, range(3), max_row_tokens=100, min_shared=100)
    (row,) = cluster.rows
    assert cluster.prefix == ()
    # Sorted inputs: (1,2,3) for request 1, (1,2,3,10), (1,2,3,30,31): preorder trie.
    assert row.tokens == [1, 2, 3, 10, 30, 31] and row.depths == [0, 1, 2, 3, 3, 4]
    assert row.subtree_sizes() == [6, 5, 4, 1, 2, 1]
    assert sorted(row.predictions) == sorted([(2, 10, 0), (3, 11, 0), (2, 20, 1), (2, 30, 2), (4, 31, 2), (5, 32, 2)])


def test_long_shared_beginnings_become_a_cached_cluster_prefix():
    head = tuple(range(100, 140))
    enc = [EncodedRequest(head + (1, 2), (7, 8)), EncodedRequest(head + (1, 3), (9,)), EncodedRequest((5, 6), (4,))]
    clusters = build_clusters(enc, range(3), max_row_tokens=100, min_shared=32)
    cached = [c for c in clusters if c.prefix]
    assert len(cached) == 1 and cached[0].prefix == head + (1,)
    (row,) = cached[0].rows
    assert row.offset == 41 and row.tokens == [2, 7, 3]
    assert sorted(i for c in clusters for r in c.rows for i in r.requests) == [0, 1, 2]


def test_prefix_store_extends_the_longest_computed_beginning(smollm2):
    from judgeaudit.engine.loglikelihood import PrefixStore, prefix_cache

    decoder = getattr(smollm2.model, smollm2.model.base_model_prefix)
    ids = tuple(smollm2.tokenizer.encode("The judge reads the instructions, then the request, then both answers."))
    store = PrefixStore(decoder, smollm2.device, max_entries=2)
    store.get(ids[:5])
    full = store.get(ids)
    assert store.tokens_run == len(ids)  # the first five ran once
    whole = prefix_cache(decoder, ids, smollm2.device)
    for (k1, v1), (k2, v2) in zip(full, whole):
        assert k1.shape == k2.shape and torch.allclose(k1, k2, atol=1e-4) and torch.allclose(v1, v2, atol=1e-4)
    store.get(ids[:3]), store.get(ids[:4])
    assert len(store.entries) == 2 and ids[:5] not in store.entries


def test_rows_respect_budget_and_batches_go_longest_first():
    enc = [EncodedRequest((1,) * 10 + (k,), (5,) * 6) for k in range(5)] + [EncodedRequest((2,) * 30, (7, 8))]
    (cluster,) = build_clusters(enc, range(6), max_row_tokens=24, min_shared=100)
    assert all(r.length <= 24 for r in cluster.rows if len(r.requests) > 1)  # a lone request may exceed it
    assert sum(len(r.requests) for r in cluster.rows) == 6 and len(cluster.rows) > 2
    batches = batch_rows(cluster.rows, max_batch_tokens=40)
    flat = [r.length for b in batches for r in b]
    assert flat == sorted(flat, reverse=True)
    assert all(len(b) * b[0].length <= 40 or len(b) == 1 for b in batches)
    assert sorted(i for b in batches for r in b for i in r.requests) == list(range(6))


def test_tree_mask_blocks_other_branches(smollm2):
    engine = LoglikelihoodEngine(smollm2, progress=False)
    # prefix 1,2 then branches (3,4) and (5,6); the last column is padding.
    sizes = torch.tensor([[6, 5, 2, 1, 2, 1, 1][:6]])
    allowed = engine._tree_mask(sizes)[0, 0] == 0
    expect = torch.tensor([
        [1, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0],  # branch 1 sees the prefix and itself
        [1, 1, 1, 1, 0, 0],
        [1, 1, 0, 0, 1, 0],  # branch 2 does not see branch 1
        [1, 1, 0, 0, 1, 1],
    ], dtype=torch.bool)
    assert torch.equal(allowed, expect)
    with_cache = engine._tree_mask(sizes, offset=3)[0, 0] == 0
    assert with_cache.shape == (6, 9) and bool(with_cache[:, :3].all()) and torch.equal(with_cache[:, 3:], expect)


def test_whitespace_only_context_is_scored_as_an_empty_context(smollm2):
    from judgeaudit.engine.requests import encode_request, prefix_token_id

    engine = LoglikelihoodEngine(smollm2, progress=False)
    spaces, empty = engine.loglikelihood([("  ", " Paris"), ("", "   Paris")])
    assert abs(spaces.logprob - empty.logprob) < 1e-5 and spaces.n_tokens == empty.n_tokens
    enc = encode_request(smollm2.tokenizer, " \n ", "Paris", 2048)
    assert enc.prefix == (prefix_token_id(smollm2.tokenizer),)


def test_empty_continuation_is_refused(smollm2, tmp_path):
    import json

    from click.testing import CliRunner

    from judgeaudit.cli import main

    with pytest.raises(ValueError, match="empty continuation"):
        LoglikelihoodEngine(smollm2, progress=False).loglikelihood([("Question?", "")])
    req = tmp_path / "req.jsonl"
    req.write_text(json.dumps({"context": "Q: 2+2?\nA:", "continuation": " 4"}) + "\n"
                   + json.dumps({"context": "Q: 2+2?\nA:", "continuation": ""}) + "\n")
    result = CliRunner().invoke(main, ["score", "--requests", str(req), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code != 0 and "req.jsonl:2: field 'continuation'" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_score_checks_the_output_path_before_any_work(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    import judgeaudit.models.loading as loading
    from judgeaudit.cli import main

    def no_loading(*a, **k):
        raise AssertionError("the model must not be loaded for an unwritable --out")

    monkeypatch.setattr(loading, "load_model", no_loading)
    req = tmp_path / "req.jsonl"
    req.write_text(json.dumps({"context": "Q:", "continuation": " 4"}) + "\n")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for out in (blocker / "out.jsonl", tmp_path):
        result = CliRunner().invoke(main, ["score", "--requests", str(req), "--out", str(out)])
        assert result.exit_code == 1 and result.output.startswith("Error: ") and "cannot write" in result.output \
            or "is a directory" in result.output, result.output
        assert "Traceback" not in result.output
