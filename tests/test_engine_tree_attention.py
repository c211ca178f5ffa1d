"""Tree attention (blocks a token can see) equals dense masked attention over trie rows."""

import random

import pytest
import torch

from judgeaudit.engine import tree_attention
from judgeaudit.engine.loglikelihood import LoglikelihoodEngine
from judgeaudit.engine.packing import TrieRow, build_clusters
from judgeaudit.engine.requests import EncodedRequest


def _random_row(rng: random.Random, n_seqs: int) -> TrieRow:
    """A trie row of sorted random sequences over a small alphabet (so they share beginnings)."""
    seqs = sorted({tuple(rng.randrange(3) for _ in range(rng.randrange(2, 14))) for _ in range(n_seqs)})
    row = TrieRow(offset=0)
    for i, s in enumerate(seqs):
        row.insert(i, EncodedRequest(prefix=s[:-1], continuation=s[-1:]))
    return row


def _sizes(rows: list[TrieRow]) -> torch.Tensor:
    width = max(r.length for r in rows)
    sizes = torch.ones(len(rows), width, dtype=torch.long)
    for r, row in enumerate(rows):
        sizes[r, :row.length] = torch.tensor(row.subtree_sizes())
    return sizes


def _dense_allowed(sizes: torch.Tensor, plen: int) -> torch.Tensor:
    width = sizes.shape[1]
    q = torch.arange(width)[None, :, None]
    k = torch.arange(width)[None, None, :]
    allowed = (k <= q) & (q < k + sizes[:, None, :])
    return torch.cat([torch.ones(sizes.shape[0], width, plen, dtype=torch.bool), allowed], dim=2)


@pytest.mark.parametrize("split,buckets", [(True, 3), (False, 1), (True, 1), (False, 5)])
@pytest.mark.parametrize("block,plen,seed", [(4, 0, 0), (4, 7, 1), (3, 5, 2), (16, 9, 3), (64, 0, 4)])
def test_tree_attention_equals_dense_masked_sdpa(block, plen, seed, split, buckets):
    rng = random.Random(seed)
    torch.manual_seed(seed)
    rows = [_random_row(rng, n) for n in (12, 5, 1)]
    sizes = _sizes(rows)
    b, width = sizes.shape
    heads, kv_heads, dim = 6, 2, 8
    layers = 2
    prefix = [(torch.randn(1, kv_heads, plen, dim), torch.randn(1, kv_heads, plen, dim)) for _ in range(layers)] if plen else None
    plan = tree_attention.plan_tree_attention(sizes, heads // kv_heads, torch.float32, "cpu", prefix=prefix, block=block,
                                              split_prefix=split, buckets=buckets)
    assert len(plan.groups) <= buckets
    assert plan.split_prefix == (split and plen > 0)
    allowed = _dense_allowed(sizes, plen)
    mask = torch.zeros(allowed.shape).masked_fill_(~allowed, torch.finfo(torch.float32).min)[:, None]
    for layer in range(layers):
        module = type("Attn", (), {"layer_idx": layer})()
        q = torch.randn(b, heads, width, dim)
        k, v = torch.randn(b, kv_heads, width, dim), torch.randn(b, kv_heads, width, dim)
        token = tree_attention._ACTIVE.set(plan)
        try:
            got, _ = tree_attention.tree_attention(module, q, k, v, None, scaling=dim ** -0.5)
        finally:
            tree_attention._ACTIVE.reset(token)
        full_k, full_v = k, v
        if plen:
            full_k = torch.cat([prefix[layer][0].expand(b, -1, -1, -1), k], dim=2)
            full_v = torch.cat([prefix[layer][1].expand(b, -1, -1, -1), v], dim=2)
        rep = heads // kv_heads
        want = torch.nn.functional.scaled_dot_product_attention(
            q, full_k.repeat_interleave(rep, 1), full_v.repeat_interleave(rep, 1), attn_mask=mask, scale=dim ** -0.5)
        assert got.shape == (b, width, heads, dim)
        torch.testing.assert_close(got, want.transpose(1, 2), atol=1e-5, rtol=1e-5)


def test_plan_gathers_fewer_keys_than_the_dense_row():
    rng = random.Random(7)
    # Many short paths side by side: each token has few ancestors in a long row.
    row = _random_row(rng, 200)
    plan = tree_attention.plan_tree_attention(_sizes([row]), 1, torch.float32, "cpu", block=16)
    gathered = max(g.index.shape[1] for g in plan.groups) * plan.block
    assert row.length > 4 * gathered, (row.length, gathered)


def test_outside_a_plan_it_is_transformers_sdpa():
    q, k, v = torch.randn(1, 2, 5, 4), torch.randn(1, 2, 5, 4), torch.randn(1, 2, 5, 4)
    module = type("Attn", (), {"layer_idx": 0, "is_causal": True, "num_key_value_groups": 1})()
    got, _ = tree_attention.tree_attention(module, q, k, v, None, scaling=0.5)
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.5)
    torch.testing.assert_close(got, want.transpose(1, 2))


JUDGE_LIKE = [
    ("<|im_start|>system\nCompare two replies and give a verdict.<|im_end|>\n<|im_start|>user\n"
     f"Request: {q}\nReply A: {a}\nReply B: {b}<|im_end|>\n<|im_start|>assistant\nVerdict: [[", c)
    for q in ("What is 2+2?", "Name a colour.")
    for a, b in (("4", "It is four, of course."), ("It is four, of course.", "4"), ("Blue", "5"))
    for c in ("A>B]]", "A=B]]", "B>A]]", "A>>B]]")
]


@pytest.mark.parametrize("block", [4, 64])
def test_engine_tree_attention_scores_equal_dense(smollm2, block):
    dense = LoglikelihoodEngine(smollm2, progress=False, attention="dense", min_shared=8).loglikelihood(JUDGE_LIKE)
    engine = LoglikelihoodEngine(smollm2, progress=False, attention="tree", min_shared=8)
    engine.tree_block = block
    tree = engine.loglikelihood(JUDGE_LIKE)
    # The shared instructions are a cached prefix the tree plan must attend to.
    assert any(c.prefix for c in build_clusters(engine.encode(JUDGE_LIKE), range(len(JUDGE_LIKE)), 4096, min_shared=8))
    for x, y in zip(tree, dense):
        assert abs(x.logprob - y.logprob) < 1e-4
        assert x.is_greedy == y.is_greedy


def test_auto_picks_tree_for_sdpa_models_and_refuses_unknown_names(smollm2):
    assert LoglikelihoodEngine(smollm2, progress=False).attention == "tree"
    with pytest.raises(ValueError, match="unknown attention"):
        LoglikelihoodEngine(smollm2, progress=False, attention="sparse")


def test_a_model_that_bypasses_the_interface_falls_back_to_dense(smollm2, monkeypatch):
    engine = LoglikelihoodEngine(smollm2, progress=False, attention="tree")
    real = tree_attention.tree_attention_active

    def unused(model, plan):  # the model's attention never calls the plan
        from contextlib import nullcontext
        return nullcontext()

    monkeypatch.setattr(tree_attention, "tree_attention_active", unused)
    got = engine.loglikelihood(JUDGE_LIKE[:4])
    assert engine.attention == "dense"
    monkeypatch.setattr(tree_attention, "tree_attention_active", real)
    want = LoglikelihoodEngine(smollm2, progress=False, attention="dense").loglikelihood(JUDGE_LIKE[:4])
    for x, y in zip(got, want):
        assert abs(x.logprob - y.logprob) < 1e-4


def test_tree_attention_in_bfloat16_stays_close_to_float32():
    rng = random.Random(3)
    sizes = _sizes([_random_row(rng, 10)])
    prefix = [(torch.randn(1, 1, 6, 8), torch.randn(1, 1, 6, 8))]
    q, k, v = torch.randn(1, 2, sizes.shape[1], 8), torch.randn(1, 1, sizes.shape[1], 8), torch.randn(1, 1, sizes.shape[1], 8)
    module = type("Attn", (), {"layer_idx": 0})()
    outs = {}
    for dtype in (torch.float32, torch.bfloat16):
        pre = [(a.to(dtype), b.to(dtype)) for a, b in prefix]
        plan = tree_attention.plan_tree_attention(sizes, 2, dtype, "cpu", prefix=pre, block=4)
        token = tree_attention._ACTIVE.set(plan)
        try:
            outs[dtype], _ = tree_attention.tree_attention(module, q.to(dtype), k.to(dtype), v.to(dtype), None, scaling=0.35)
        finally:
            tree_attention._ACTIVE.reset(token)
    assert outs[torch.bfloat16].dtype == torch.bfloat16
    torch.testing.assert_close(outs[torch.bfloat16].float(), outs[torch.float32], atol=0.05, rtol=0.05)


def test_query_blocks_are_grouped_to_cut_padded_work():
    counts = torch.tensor([9, 2, 2, 3, 9, 2, 8, 3, 2, 2])
    groups = tree_attention._split_by_count(counts, 3)
    assert sorted(torch.cat(groups).tolist()) == list(range(len(counts)))  # every block once
    padded = sum(len(g) * int(counts[g].max()) for g in groups)
    assert len(groups) == 3 and padded < len(counts) * int(counts.max())
    assert padded == 5 * 2 + 2 * 3 + 3 * 9  # the best 3-way cut: the 2s, the 3s, then 8 and the 9s
    assert len(tree_attention._split_by_count(torch.tensor([4, 4, 4]), 3)) == 1  # nothing to save
