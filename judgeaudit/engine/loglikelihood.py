"""Batched log-likelihood scoring of (context, continuation) requests.

What makes it fast, compared with scoring each request as its own full sequence:
- requests that begin alike share that work (packing.py): a long common beginning
  (instructions, few-shot examples) runs once into a KV cache reused by every row of
  its cluster, and the rest is packed as token tries under a tree-shaped mask, so the
  context of a question's choices runs once;
- attention in those rows is computed only over the blocks that hold a token's prefix
  and ancestors (tree_attention.py), not densely over the whole row under a mask;
- the LM head runs only at continuation positions, through the fused op in
  ``judgeaudit.kernels`` that never builds [tokens, vocab] logits;
- rows are batched by a token budget, longest first; an out-of-memory error halves
  the budget and retries instead of failing the run.
"""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import torch

from judgeaudit.console import progress_bar
from judgeaudit.engine import tree_attention
from judgeaudit.engine.packing import TrieRow, batch_rows, build_clusters
from judgeaudit.engine.requests import EncodedRequest, LoglikelihoodResult, encode_requests
from judgeaudit.kernels import lm_head_logprobs
from judgeaudit.models.loading import LoadedModel

DEFAULT_BATCH_TOKENS = {"cpu": 4096, "cuda": 65536}
# Rows longer than this cost more in (dense, masked) attention than sharing saves. Tree
# attention costs a token its ancestors only, so its rows can be longer; on CPU 2048 beat
# 4096 (smaller activations stay in cache) on the probe battery.
DEFAULT_ROW_TOKENS = {"cpu": 1024, "cuda": 4096}
TREE_ROW_TOKENS = {"cpu": 2048, "cuda": 16384}
ATTENTION = ("auto", "tree", "dense")
MIN_BATCH_TOKENS = 8


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    msg = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in msg or "can't allocate memory" in msg)


def cache_argument(decoder: Any) -> str:
    """transformers renamed the decoder's cache argument (past_key_values -> cache)."""
    return "cache" if "cache" in inspect.signature(decoder.forward).parameters else "past_key_values"


KV = list[tuple[torch.Tensor, torch.Tensor]]


@torch.inference_mode()
def prefix_cache(decoder: Any, prefix: Sequence[int], device: Any, base: tuple[int, KV] | None = None) -> KV:
    """Per-layer key/value states [1, heads, len(prefix), dim] of a shared prefix, computed once.

    ``base`` = (n, states of prefix[:n]) extends an already computed beginning instead of
    running it again.
    """
    from transformers import DynamicCache

    start, states = base if base is not None else (0, None)
    ids = torch.tensor([list(prefix[start:])], device=device)
    pos = torch.arange(start, len(prefix), device=device)[None]
    cache = DynamicCache(ddp_cache_data=states) if states is not None else DynamicCache()
    out = decoder(input_ids=ids, position_ids=pos, use_cache=True, **{cache_argument(decoder): cache})
    cache = out.get("cache") if out.get("cache") is not None else out.get("past_key_values")
    return [(layer.keys, layer.values) for layer in cache.layers]


class PrefixStore:
    """The last few computed prefix caches, so a nested or repeated beginning extends one
    already run (a judge's instructions run once per run, not once per batch)."""

    def __init__(self, decoder: Any, device: Any, max_entries: int = 8):
        self.decoder, self.device, self.max_entries = decoder, device, max_entries
        self.entries: dict[tuple[int, ...], KV] = {}  # insertion order = recency
        self.tokens_run = 0

    def get(self, prefix: tuple[int, ...]) -> KV:
        if prefix in self.entries:
            states = self.entries.pop(prefix)
        else:
            best = max((p for p in self.entries if len(p) < len(prefix) and prefix[:len(p)] == p), key=len, default=None)
            base = (len(best), self.entries[best]) if best is not None else None
            states = prefix_cache(self.decoder, prefix, self.device, base)
            self.tokens_run += len(prefix) - (len(best) if best is not None else 0)
        self.entries[prefix] = states
        while len(self.entries) > self.max_entries:
            self.entries.pop(next(iter(self.entries)))
        return states


class LoglikelihoodEngine:
    """Scores requests with one loaded causal LM (see ``judgeaudit.models.loading``)."""

    def __init__(self, lm: LoadedModel, *, max_batch_tokens: int | None = None, impl: str = "auto",
                 progress: bool = True, share_prefix: bool = True, max_row_tokens: int | None = None,
                 min_shared: int = 32, attention: str = "auto"):
        if attention not in ATTENTION:
            raise ValueError(f"unknown attention {attention!r}; expected one of {', '.join(ATTENTION)}")
        self.lm = lm
        self.model = lm.model
        self.tokenizer = lm.tokenizer
        self.device = lm.device
        self.max_length = lm.max_length
        self.max_batch_tokens = max_batch_tokens or DEFAULT_BATCH_TOKENS.get(self.device.type, 8192)
        self.impl = impl
        self.progress = progress
        self.share_prefix = share_prefix
        # "tree": attention over the blocks each token can see; "dense": one masked SDPA per row (reference).
        self.attention = ("tree" if tree_attention.usable(self.model) else "dense") if attention == "auto" else attention
        self.tree_block = tree_attention.DEFAULT_BLOCK
        rows = TREE_ROW_TOKENS if self.attention == "tree" else DEFAULT_ROW_TOKENS
        self.max_row_tokens = max_row_tokens or rows.get(self.device.type, 2048)
        self.min_shared = min_shared
        self.decoder = getattr(self.model, self.model.base_model_prefix)
        head = self.model.get_output_embeddings()
        self.head_weight = head.weight
        self.head_bias = getattr(head, "bias", None)
        self.softcap = getattr(self.model.config, "final_logit_softcapping", None)
        self.oom_backoffs = 0
        self._rows_run = 0  # trie row tokens through the model, without padding
        self._cache_arg = cache_argument(self.decoder)
        self.prefixes = PrefixStore(self.decoder, self.device)

    @property
    def tokens_run(self) -> int:
        """Tokens through the model: each shared prefix once, trie rows without padding."""
        return self._rows_run + self.prefixes.tokens_run

    # -- public ---------------------------------------------------------------------
    def encode(self, requests: Sequence[tuple[str, str]]) -> list[EncodedRequest]:
        return encode_requests(self.tokenizer, requests, self.max_length)

    def loglikelihood(self, requests: Sequence[tuple[str, str]], desc: str = "scoring") -> list[LoglikelihoodResult]:
        encoded = self.encode(requests)
        return self.loglikelihood_encoded(encoded, desc=desc)

    def loglikelihood_encoded(self, encoded: Sequence[EncodedRequest], desc: str = "scoring") -> list[LoglikelihoodResult]:
        # Identical requests are scored once.
        first: dict[EncodedRequest, int] = {}
        unique = [first.setdefault(e, i) == i for i, e in enumerate(encoded)]
        todo = [i for i, u in enumerate(unique) if u and encoded[i].continuation]
        logprob = [0.0] * len(encoded)
        greedy = [True] * len(encoded)
        budget = self.max_batch_tokens
        with progress_bar(desc, total=len(todo), enabled=self.progress) as advance:
            while todo:
                done: set[int] = set()
                batch: list[TrieRow] = []
                try:
                    for cluster in build_clusters(encoded, todo, max_row_tokens=min(budget, self.max_row_tokens),
                                                  min_shared=self.min_shared, share_prefix=self.share_prefix):
                        cache = self.prefixes.get(cluster.prefix) if cluster.prefix else None
                        for batch in batch_rows(cluster.rows, budget):
                            self._rows_run += sum(row.length for row in batch)
                            for idx, lp, gr in self._score_batch(batch, cache):
                                logprob[idx] += lp
                                greedy[idx] = greedy[idx] and gr
                            finished = [i for row in batch for i in row.requests]
                            done.update(finished)
                            advance(len(finished))
                except Exception as exc:  # noqa: BLE001 - only OOM is handled, the rest re-raised
                    smallest = len(batch) == 1 and len(batch[0].requests) == 1
                    if not _is_oom(exc) or smallest or budget <= MIN_BATCH_TOKENS:
                        raise
                    # Batches already scored are kept; the failed one is reset and the
                    # rest re-packed with half the budget.
                    for row in batch:
                        for i in row.requests:
                            logprob[i], greedy[i] = 0.0, True
                    budget //= 2
                    self.oom_backoffs += 1
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()
                todo = [i for i in todo if i not in done]
        results = []
        for e in encoded:
            src = first[e]
            results.append(LoglikelihoodResult(float(logprob[src]), bool(greedy[src]), len(e.continuation)))
        return results

    # -- internals ------------------------------------------------------------------
    @torch.inference_mode()
    def _score_batch(self, batch: list[TrieRow], cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None
                     ) -> list[tuple[int, float, bool]]:
        width = max(r.length for r in batch)
        offset = batch[0].offset
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        pos = torch.full((len(batch), width), offset, dtype=torch.long)
        sizes = torch.ones((len(batch), width), dtype=torch.long)  # padding: a subtree of itself
        rows_idx, cols_idx, targets, owners = [], [], [], []
        for r, row in enumerate(batch):
            n = row.length
            ids[r, :n] = torch.tensor(row.tokens)
            pos[r, :n] = torch.tensor(row.depths) + offset
            sizes[r, :n] = torch.tensor(row.subtree_sizes())
            for node, tgt, owner in row.predictions:
                rows_idx.append(r)
                cols_idx.append(node)
                targets.append(tgt)
                owners.append(owner)
        if self.attention == "tree":
            config = self.model.config
            groups = config.num_attention_heads // getattr(config, "num_key_value_heads", config.num_attention_heads)
            plan = tree_attention.plan_tree_attention(sizes, groups, self.model.dtype, self.device, prefix=cache,
                                                      block=self.tree_block)
            with tree_attention.tree_attention_active(self.model, plan):
                out = self.decoder(input_ids=ids.to(self.device), position_ids=pos.to(self.device), use_cache=False)
            if not plan.calls:  # attention modules that do not go through transformers' interface
                self.attention = "dense"
                return self._score_batch(batch, cache)
        else:
            mask = self._tree_mask(sizes, offset).to(self.device)
            kwargs = {}
            if cache is not None:
                from transformers import DynamicCache

                b = len(batch)
                kwargs[self._cache_arg] = DynamicCache(
                    ddp_cache_data=[(k.expand(b, -1, -1, -1), v.expand(b, -1, -1, -1)) for k, v in cache])
            out = self.decoder(input_ids=ids.to(self.device), attention_mask=mask, position_ids=pos.to(self.device),
                               use_cache=cache is not None, **kwargs)
        hidden = out.last_hidden_state
        h = hidden[torch.tensor(rows_idx, device=self.device), torch.tensor(cols_idx, device=self.device)]
        t = torch.tensor(targets, device=self.device)
        lp, gr = lm_head_logprobs(h, self.head_weight, t, bias=self.head_bias, softcap=self.softcap, impl=self.impl)
        return list(zip(owners, lp.cpu().tolist(), gr.cpu().tolist()))

    def _tree_mask(self, sizes: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Additive [B, 1, L, offset + L] mask: every token sees the cached prefix and its
        own ancestors in the row's trie (node k's subtree is [k, k + size[k]))."""
        width = sizes.shape[1]
        q = torch.arange(width)[None, :, None]
        k = torch.arange(width)[None, None, :]
        allowed = (k <= q) & (q < k + sizes[:, None, :])
        if offset:
            allowed = torch.cat([torch.ones(allowed.shape[0], width, offset, dtype=torch.bool), allowed], dim=2)
        dtype = self.model.dtype
        mask = torch.zeros(allowed.shape, dtype=dtype)
        mask.masked_fill_(~allowed, torch.finfo(dtype).min)
        return mask[:, None]

