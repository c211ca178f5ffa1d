"""Attention for token-trie rows that computes only the blocks a token can see.

A trie row (packing.py) holds many request paths side by side; each token attends to
the cached prefix and to its own ancestors, a few hundred keys, while a dense masked
attention scores it against every token of the row. Here the row is cut into blocks of
``block`` tokens and each query block is scored against the prefix blocks and the row
blocks that hold at least one of its ancestors, gathered into one batched SDPA call per
layer. Masked scores contribute exactly zero after the softmax, so the result is the
dense masked attention's up to float summation order.

Which row blocks a query block needs follows from the preorder layout: key k is seen by
the queries [k, k + size[k]), and these ranges of consecutive keys form one interval, so
key block j is needed by query blocks j .. (max over k in j of k + size[k] - 1) // block.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator

import torch
import torch.nn.functional as F

from judgeaudit.models.attention import attention_implementation, replaceable

TREE_ATTENTION = "judgeaudit_tree_sdpa"
DEFAULT_BLOCK = 64
# Query blocks are grouped by how many key blocks they need, so few pad to the longest list.
DEFAULT_BUCKETS = 3

# Fused CPU attention that also returns each query's log-sum-exp.
_PREFIX_OP = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)

_ACTIVE: ContextVar["TreePlan | None"] = ContextVar("judgeaudit_tree_plan", default=None)


@dataclass
class BlockGroup:
    """Query blocks that gather the same number of key blocks (one SDPA call per layer)."""

    queries: torch.Tensor  # [n] flat query block ids (row * row_blocks + block)
    index: torch.Tensor  # [n, key_blocks] into the key pool (prefix blocks first)
    mask: torch.Tensor  # [n, 1, groups * block, key_blocks * block], additive


@dataclass
class TreePlan:
    """What every layer of one forward pass shares: block groups, their masks, the prefix."""

    block: int
    row_blocks: int
    prefix_blocks: int
    groups: list[BlockGroup]
    prefix: list[tuple[torch.Tensor, torch.Tensor]] | None  # per layer [1, kv_heads, P, dim]
    split_prefix: bool = False  # prefix attended apart and merged by log-sum-exp (not in the groups)
    calls: int = 0  # attention layers that ran through the plan (0: the model bypassed it)

    def prefix_pool(self, layer: int, which: int) -> torch.Tensor | None:
        """The prefix keys (0) or values (1) of ``layer`` as blocks [prefix_blocks, kv_heads, block, dim]."""
        if not self.prefix_blocks or self.prefix is None:
            return None
        t = self.prefix[layer][which][0]  # [kv_heads, P, dim]
        t = F.pad(t, (0, 0, 0, self.prefix_blocks * self.block - t.shape[1]))
        return t.view(t.shape[0], self.prefix_blocks, self.block, t.shape[2]).transpose(0, 1)


def _split_by_count(counts: torch.Tensor, buckets: int) -> list[torch.Tensor]:
    """Flat query blocks in up to ``buckets`` groups by how many key blocks they need, cut where
    the padded work (each group padded to its largest count) is least."""
    order = torch.argsort(counts, stable=True)
    c = counts[order]
    n = len(c)
    cuts = [0, n]
    for _ in range(buckets - 1):
        # A cut at x inside group [a, b) saves (x - a) * (c[b-1] - c[x-1]) padded slots.
        x = torch.arange(1, n)
        bounds = torch.tensor(cuts)
        seg = torch.searchsorted(bounds, x, right=True)
        a, b = bounds[seg - 1], bounds[seg]
        saving = (x - a) * (c[b - 1] - c[x - 1])
        if not len(saving) or int(saving.max()) <= 0:
            break
        cuts = sorted(cuts + [int(x[int(saving.argmax())])])
    return [order[a:b] for a, b in zip(cuts, cuts[1:])]


def plan_tree_attention(sizes: torch.Tensor, groups: int, dtype: torch.dtype, device: Any,
                        prefix: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
                        block: int = DEFAULT_BLOCK, split_prefix: bool | None = None,
                        buckets: int = DEFAULT_BUCKETS) -> TreePlan:
    """Block groups and masks for rows whose node k has subtree [k, k + sizes[r, k]).

    Padding positions must be singletons (size 1): they then see only themselves and the prefix.
    """
    rows, width = sizes.shape
    nb = -(-width // block)
    padded = nb * block
    sizes = F.pad(sizes, (0, padded - width), value=1).long()
    k = torch.arange(padded)
    reach = (k[None] + sizes - 1).view(rows, nb, block).amax(-1) // block  # last query block per key block
    i = torch.arange(nb)
    need = (i[None, None, :] <= i[None, :, None]) & (i[None, :, None] <= reach[:, None, :])  # [rows, q, k]
    need = need.reshape(rows * nb, nb)
    plen = prefix[0][0].shape[2] if prefix else 0
    # On CPU the prefix is attended in one unmasked pass that also returns its log-sum-exp,
    # so only row blocks are gathered.
    if split_prefix is None:
        split_prefix = torch.device(device).type == "cpu" and _PREFIX_OP is not None
    split = bool(plen) and split_prefix
    pb = 0 if split else -(-plen // block)
    counts = need.sum(-1)
    t = torch.arange(block)
    plan_groups = []
    for queries in _split_by_count(counts, buckets):
        most = int(counts[queries].max())
        rows_of, blocks_of = queries // nb, queries % nb
        # Needed row blocks first, by index; padded slots point at block 0 of the row and are masked.
        order = torch.argsort((~need[queries]).to(torch.int8), dim=-1, stable=True)[:, :most]  # [n, most]
        valid = torch.arange(most)[None] < counts[queries][:, None]
        row_index = torch.where(valid, order, torch.zeros_like(order))
        pool_index = pb + rows_of[:, None] * nb + row_index
        index = torch.cat([torch.arange(pb).expand(len(queries), pb), pool_index], dim=-1)
        # Mask over the gathered keys: prefix columns where they exist, row columns by the tree rule.
        qpos = (blocks_of[:, None] * block + t[None])[:, :, None, None]  # [n, block, 1, 1]
        kpos = row_index[..., None] * block + t  # [n, most, block]
        ksize = sizes[rows_of[:, None, None], kpos]
        allowed_rows = (kpos[:, None] <= qpos) & (qpos < (kpos + ksize)[:, None]) & valid[:, None, :, None]
        prefix_seen = (torch.arange(pb * block) < plen).expand(len(queries), block, pb * block)
        allowed = torch.cat([prefix_seen, allowed_rows.reshape(len(queries), block, most * block)], dim=-1)
        mask = torch.zeros(allowed.shape, dtype=dtype)
        mask.masked_fill_(~allowed, torch.finfo(dtype).min)
        # Query heads sharing a key head are stacked along the query axis.
        mask = mask[:, None].repeat(1, 1, groups, 1)
        plan_groups.append(BlockGroup(queries.to(device), index.to(device), mask.to(device)))
    return TreePlan(block=block, row_blocks=nb, prefix_blocks=pb, groups=plan_groups, prefix=prefix,
                    split_prefix=split)


def tree_attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                   attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                   **kwargs: Any) -> tuple[torch.Tensor, None]:
    """Attention over the active plan's blocks; outside a plan, transformers' SDPA."""
    plan = _ACTIVE.get()
    if plan is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    plan.calls += 1
    rows, heads, width, dim = query.shape
    kv_heads = key.shape[1]
    groups = heads // kv_heads
    nb, blk = plan.row_blocks, plan.block
    pad = nb * blk - width

    def pool(t: torch.Tensor, which: int) -> torch.Tensor:  # [(prefix blocks +) rows * nb, kv, blk, dim]
        t = F.pad(t, (0, 0, 0, pad)).view(rows, kv_heads, nb, blk, dim).transpose(1, 2)
        t = t.reshape(rows * nb, kv_heads, blk, dim)
        prefix = plan.prefix_pool(module.layer_idx, which)
        return t if prefix is None else torch.cat([prefix.to(t.dtype), t])

    def gather(pool_: torch.Tensor, index: torch.Tensor) -> torch.Tensor:  # -> [n, kv, key_blocks * blk, dim]
        g = pool_[index]
        return g.transpose(1, 2).reshape(g.shape[0], kv_heads, -1, dim)

    q = F.pad(query, (0, 0, 0, pad)).view(rows, kv_heads, groups, nb, blk, dim)
    q = q.permute(0, 3, 1, 2, 4, 5).reshape(rows * nb, kv_heads, groups * blk, dim)
    k_pool, v_pool = pool(key, 0), pool(value, 1)
    out = torch.empty_like(q)
    lse = q.new_empty(q.shape[:-1], dtype=torch.float32) if plan.split_prefix else None
    for group in plan.groups:
        k, v, mask = gather(k_pool, group.index), gather(v_pool, group.index), group.mask.to(q.dtype)
        if lse is None:
            out[group.queries] = F.scaled_dot_product_attention(q[group.queries], k, v, attn_mask=mask, scale=scaling)
        else:
            o, l = _PREFIX_OP(q[group.queries], k, v, 0.0, False, attn_mask=mask, scale=scaling)[:2]
            out[group.queries], lse[group.queries] = o, l
    out = _unblock(out, rows, nb, heads, width)
    if lse is None:
        return out, None
    lse = _unblock(lse[..., None], rows, nb, heads, width)
    # The prefix: every query sees all of it, so one unmasked pass with query heads stacked per key head.
    pk, pv = (t.to(query.dtype).expand(rows, -1, -1, -1) for t in plan.prefix[module.layer_idx])
    q_all = query.reshape(rows, kv_heads, groups * width, dim)
    p_out, p_lse = _PREFIX_OP(q_all, pk, pv, 0.0, False, scale=scaling)[:2]
    p_out = p_out.reshape(rows, heads, width, dim).transpose(1, 2)
    p_lse = p_lse.reshape(rows, heads, width, 1).transpose(1, 2)
    share = torch.sigmoid(p_lse.float() - lse)  # the prefix's part of the softmax mass
    return torch.lerp(out, p_out, share.to(out.dtype)), None


def _unblock(t: torch.Tensor, rows: int, nb: int, heads: int, width: int) -> torch.Tensor:
    """[rows * nb, kv_heads, groups * block, d] in block layout -> [rows, width, heads, d]."""
    kv_heads, dim = t.shape[1], t.shape[-1]
    blk = t.shape[2] // (heads // kv_heads)
    t = t.view(rows, nb, kv_heads, heads // kv_heads, blk, dim).permute(0, 1, 4, 2, 3, 5)
    return t.reshape(rows, nb * blk, heads, dim)[:, :width].contiguous()


def usable(model: Any) -> bool:
    """Whether the model's attention is plain SDPA/eager over a transformers attention interface
    (no logit soft-capping, which this attention does not apply)."""
    return replaceable(model) and getattr(model.config, "attn_logit_softcapping", None) is None


@contextmanager
def tree_attention_active(model: Any, plan: TreePlan) -> Iterator[None]:
    """Run the model's attention through ``tree_attention`` with ``plan`` inside the block."""
    token = _ACTIVE.set(plan)
    try:
        with attention_implementation(model, TREE_ATTENTION, tree_attention):
            yield
    finally:
        _ACTIVE.reset(token)
