"""Greedy generation with lm-evaluation-harness ``generate_until`` semantics, fast.

A request is (context, until, max_gen_toks). As the harness's HF backend does: the context
is tokenized with the tokenizer's own special-token default (no second BOS when the text
already starts with it) and truncated from the left to ``max_length - max_gen_toks``;
exactly ``max_gen_toks`` tokens are generated unless the model's EOS comes first; the
output is the decoded new tokens (special tokens skipped) cut at the first stop string
(``until`` plus the tokenizer's EOS string).

What makes it fast, without changing those outputs:
- requests whose contexts begin alike (few-shot examples, instructions) are grouped by the
  scoring engine's prefix finder (``packing.shared_prefix_runs``); the shared beginning
  runs once and its key/value cache seeds every row of the group;
- rows are batched by length (little padding) under a token budget; a row that has met
  EOS, a stop string or its token limit leaves the batch at once, so it costs no more work;
- the key/value cache is one preallocated buffer per layer, written in place (no
  per-step concatenation), and the LM head runs on new positions only;
- when few rows are left (a step then costs the reading of the weights, whatever it
  computes), each row drafts the tokens that followed the last place its latest three
  tokens occurred, and one step checks them all: a draft is kept only as far as it equals
  the model's own greedy choice at every position, so the output is what one token at a
  time gives. Greedy text that loops is drafted right almost always;
- stop strings are looked for in the decoded tail of a row, never the whole text;
- an out-of-memory error halves the batch budget and retries the batch.

The token budget bounds each prefill slice; the rows decoded together are capped apart.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch

from judgeaudit.console import progress_bar
from judgeaudit.models.attention import attention_implementation, replaceable

DEFAULT_BATCH_TOKENS = {"cpu": 4096, "cuda": 65536}  # prompt tokens per prefill batch
DEFAULT_BATCH_ROWS = {"cpu": 64, "cuda": 256}  # rows decoded together
MIN_SHARED = 32  # a shared beginning shorter than this is not worth its own cache
# Tokens one decoding step may run over all rows, drafts included: drafting pays where a
# step is bound by reading the weights (few rows), not by arithmetic (many rows).
DEFAULT_SPEC_TOKENS = {"cpu": 48, "cuda": 1024}
SPEC_MAX = 8  # drafted tokens per row and step, at most
MIN_DRAFT = 3  # rows draft only when each may draft this many
COLUMNS_PER_DRAFT = 256  # cache columns read per step that pay for one more checked token
GROW_COLUMNS = 512  # new-token room a cache starts with, and the least it grows by


@dataclass(frozen=True)
class GenerationRequest:
    context: str
    until: tuple[str, ...] = ()
    max_gen_toks: int = 256


def render_prompt(tokenizer: Any, prompt: str, chat: bool, assistant_prefix: str = "") -> str:
    if not chat:
        return prompt + assistant_prefix
    if getattr(tokenizer, "chat_template", None) is None:
        raise ValueError("chat=True needs a tokenizer with a chat template")
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)
    return text + assistant_prefix


def cut_at_stop(text: str, stop: Sequence[str] | None) -> str:
    if not stop:
        return text
    cuts = [text.find(s) for s in stop if s and s in text]
    return text[: min(cuts)] if cuts else text


def eos_token_ids(lm: Any) -> set[int]:
    """The ids that end a row, as transformers' ``generate`` reads them (generation config first)."""
    ids = getattr(getattr(lm.model, "generation_config", None), "eos_token_id", None)
    if ids is None:
        ids = lm.tokenizer.eos_token_id
    if ids is None:
        return set()
    return {int(i) for i in (ids if isinstance(ids, (list, tuple)) else [ids])}


class _BufferLayer:
    """One layer's key/value cache: a [rows, heads, capacity, dim] buffer written in place.

    Behaves as transformers' ``DynamicLayer`` towards the model (``update`` returns all
    keys and values so far) without concatenating a new tensor at every step.
    """

    is_sliding = False
    is_compileable = False

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, rows: int, capacity: int):
        _, heads, n, dim = keys.shape
        # Zeros, not garbage: padding columns a slice never writes are masked, but a NaN
        # there would still poison the softmax.
        self.kbuf = keys.new_zeros(rows, heads, capacity, dim)
        self.vbuf = values.new_zeros(rows, heads, capacity, dim)
        self.kbuf[:, :, :n] = keys
        self.vbuf[:, :, :n] = values
        self.length = n
        self.is_initialized = True
        self.device = keys.device

    @property
    def keys(self) -> torch.Tensor:
        return self.kbuf[:, :, : self.length]

    @property
    def values(self) -> torch.Tensor:
        return self.vbuf[:, :, : self.length]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any):
        n = key_states.shape[-2]
        self.kbuf[:, :, self.length:self.length + n] = key_states
        self.vbuf[:, :, self.length:self.length + n] = value_states
        self.length += n
        return self.keys, self.values

    def get_seq_length(self, *args: Any) -> int:
        return self.length

    def get_mask_sizes(self, query_length: int, *args: Any) -> tuple[int, int]:
        return self.length + query_length, 0

    def get_max_length(self) -> int:
        return -1

    def keep_rows(self, rows: torch.Tensor) -> None:
        """Keep these rows, moved to the front in place; only the used columns are copied."""
        n = self.length
        self.kbuf[: len(rows), :, :n] = self.kbuf[rows, :, :n]
        self.vbuf[: len(rows), :, :n] = self.vbuf[rows, :, :n]
        self.kbuf, self.vbuf = self.kbuf[: len(rows)], self.vbuf[: len(rows)]

    def repack(self, columns: torch.Tensor, capacity: int) -> None:
        """New buffers holding, per row, the cache columns ``columns[row]`` (all rows alike long)."""
        rows, heads, _, dim = self.kbuf.shape
        index = columns[:, None, :, None].expand(rows, heads, columns.shape[1], dim)
        for name in ("kbuf", "vbuf"):
            old = getattr(self, name)
            new = old.new_zeros(rows, heads, capacity, dim)
            new[:, :, : columns.shape[1]] = old.gather(2, index)
            setattr(self, name, new)
        self.length = columns.shape[1]


GROUPED_ATTENTION = "judgeaudit_grouped_sdpa"


def grouped_query_attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                            attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                            is_causal: bool | None = None, **kwargs: Any) -> tuple[torch.Tensor, None]:
    """SDPA for grouped-query attention that never copies the cache per query head.

    transformers' SDPA path repeats keys and values for every query head when a mask is
    given and more than one token is new (``repeat_kv``): each decoding step that checks
    drafts would copy the whole cache several times. Here the query heads sharing a key
    head are stacked along the query axis instead (what transformers does for one token),
    and the mask is repeated to match.
    """
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    b, heads, width, dim = query.shape
    groups = heads // key.shape[1]
    if groups == 1 or attention_mask is None or attention_mask.shape[1] != 1 or attention_mask.shape[2] != width:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    # Query heads are ordered key head by key head (as repeat_kv expands them).
    q = query.reshape(b, key.shape[1], groups * width, dim)
    mask = attention_mask.repeat(1, 1, groups, 1)
    out = torch.nn.functional.scaled_dot_product_attention(q, key, value, attn_mask=mask, scale=scaling)
    return out.reshape(b, heads, width, dim).transpose(1, 2).contiguous(), None


@contextmanager
def _grouped_attention(model: Any) -> Iterator[None]:
    """Run the model's attention through ``grouped_query_attention`` inside the block."""
    if not replaceable(model):  # a special kernel the model was loaded with: keep it
        yield
        return
    with attention_implementation(model, GROUPED_ATTENTION, grouped_query_attention):
        yield


class _Lookup:
    """Drafts for one row: the tokens that followed the latest earlier occurrence of its last
    three tokens (prompt lookup). Kept as an index, so drafting and appending cost O(1)."""

    N = 3

    def __init__(self, tokens: Sequence[int]):
        self.seq = list(tokens)
        self.follows: dict[tuple[int, ...], int] = {}  # n-gram -> where its latest follower sits
        for end in range(self.N, len(self.seq)):
            self.follows[tuple(self.seq[end - self.N:end])] = end

    def append(self, token: int) -> None:
        if len(self.seq) >= self.N:
            self.follows[tuple(self.seq[-self.N:])] = len(self.seq)
        self.seq.append(token)

    def draft(self, k: int) -> list[int]:
        """Up to k tokens; a short loop is followed round again (the latest occurrence of the
        last tokens may be only a few tokens back)."""
        out: list[int] = []
        while len(out) < k:
            tail = tuple((self.seq[-self.N:] + out)[-self.N:])
            at = self.follows.get(tail) if len(tail) == self.N else None
            chunk = self.seq[at:at + k - len(out)] if at is not None else []
            if not chunk:
                break
            out += chunk
        return out


def _buffer_cache(prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] | None, n_layers: int, like: torch.Tensor,
                  heads: int, dim: int, rows: int, capacity: int) -> Any:
    from transformers import DynamicCache

    cache = DynamicCache()
    if prefix_kv is None:
        empty = like.new_empty(1, heads, 0, dim)
        prefix_kv = [(empty, empty)] * n_layers
    cache.layers = [_BufferLayer(k, v, rows, capacity) for k, v in prefix_kv]
    return cache


class GenerationEngine:
    """Greedy ``generate_until`` with one loaded causal LM (see ``judgeaudit.models.loading``)."""

    def __init__(self, lm: Any, *, max_batch_tokens: int | None = None, max_batch_rows: int | None = None,
                 share_prefix: bool = True, min_shared: int = MIN_SHARED, progress: bool = True,
                 speculate: bool = True, spec_tokens: int | None = None):
        from judgeaudit.engine.loglikelihood import cache_argument

        self.lm = lm
        self.model = lm.model
        self.tokenizer = lm.tokenizer
        self.device = lm.device
        self.max_length = lm.max_length
        self.max_batch_tokens = max_batch_tokens or DEFAULT_BATCH_TOKENS.get(self.device.type, 8192)
        self.max_batch_rows = max_batch_rows or DEFAULT_BATCH_ROWS.get(self.device.type, 64)
        self.share_prefix = share_prefix
        self.min_shared = min_shared
        self.progress = progress
        self.speculate = speculate
        self.spec_tokens = spec_tokens or DEFAULT_SPEC_TOKENS.get(self.device.type, 64)
        self.hole_room: int | None = None  # cache columns kept for holes (None: by the generation length)
        self.drafted = 0  # draft tokens checked
        self.accepted = 0  # draft tokens kept
        self.repacks = 0
        self.decoder = getattr(self.model, self.model.base_model_prefix)
        self._cache_arg = cache_argument(self.decoder)
        head = self.model.get_output_embeddings()
        self.head_weight, self.head_bias = head.weight, getattr(head, "bias", None)
        self.eos_ids = eos_token_ids(lm)
        eos = self.tokenizer.eos_token_id
        self.eos_text = self.tokenizer.decode([eos], skip_special_tokens=False) if eos is not None else None
        self.oom_backoffs = 0
        self.tokens_in = 0  # prompt tokens run through the model (shared beginnings once)
        self.tokens_out = 0  # tokens generated

    # -- encoding -------------------------------------------------------------------
    def encode_context(self, context: str, max_gen_toks: int) -> tuple[int, ...]:
        from judgeaudit.engine.requests import _encode, prefix_token_id

        if max_gen_toks >= self.max_length:
            raise ValueError(f"max_gen_toks {max_gen_toks} must be below the model window of {self.max_length}")
        ids = _encode(self.tokenizer, context) or [prefix_token_id(self.tokenizer)]
        return tuple(ids[-(self.max_length - max_gen_toks):])

    def stops_of(self, request: GenerationRequest) -> list[str]:
        stops = [s for s in request.until if s]
        if self.eos_text and self.eos_text not in stops:
            stops.append(self.eos_text)  # as the harness: EOS text is a stop string too
        return stops

    # -- public ---------------------------------------------------------------------
    def generate_until(self, requests: Sequence[GenerationRequest], desc: str = "generating") -> list[str]:
        from judgeaudit.engine.loglikelihood import _is_oom, prefix_cache
        from judgeaudit.engine.packing import shared_prefix_runs

        contexts = [self.encode_context(r.context, r.max_gen_toks) for r in requests]
        outputs: list[str | None] = [None] * len(requests)
        # Identical requests are generated once.
        first: dict[tuple, int] = {}
        source = [first.setdefault((contexts[i], r.until, r.max_gen_toks), i) for i, r in enumerate(requests)]
        todo = [i for i in range(len(requests)) if source[i] == i]
        seqs = {i: contexts[i] for i in todo}
        keep = {i: len(contexts[i]) - 1 for i in todo}  # each row keeps its last token: it yields the first output
        min_shared = self.min_shared if self.share_prefix else 10**9
        groups: list[tuple[int, list[int]]] = []
        loose: list[int] = []
        for shared, run in shared_prefix_runs(seqs, keep, min_shared):
            if shared >= min_shared:
                groups.append((shared, run))
            else:
                loose.extend(run)
        if loose:
            groups.append((0, loose))
        budget, rows_cap = self.max_batch_tokens, self.max_batch_rows
        with progress_bar(desc, total=len(todo), enabled=self.progress) as advance:
            for shared, members in groups:
                prefix = contexts[members[0]][:shared]
                kv = prefix_cache(self.decoder, prefix, self.device) if shared else None
                self.tokens_in += shared
                pending = sorted(members, key=lambda i: len(contexts[i]))  # by length: little padding
                while pending:
                    batch = pending[:rows_cap]  # the token budget bounds each prefill slice, not this
                    try:
                        texts = self._generate_batch([requests[i] for i in batch], [contexts[i][shared:] for i in batch],
                                                     shared, kv, budget, [contexts[i] for i in batch])
                    except Exception as exc:  # noqa: BLE001 - only OOM is handled, the rest re-raised
                        if not _is_oom(exc) or len(batch) == 1:
                            raise
                        budget, rows_cap = max(1, budget // 2), max(1, min(rows_cap, len(batch)) // 2)
                        self.oom_backoffs += 1
                        if self.device.type == "cuda":
                            torch.cuda.empty_cache()
                        continue
                    for i, text in zip(batch, texts):
                        outputs[i] = text
                    pending = pending[len(batch):]
                    advance(len(batch))
        return [outputs[source[i]] for i in range(len(requests))]  # type: ignore[misc]

    # -- internals ------------------------------------------------------------------
    @staticmethod
    def _prefill_slices(widths: list[int], budget: int) -> list[tuple[int, int]]:
        """Consecutive row ranges (widths ascending) whose rows x widest row fits the token budget."""
        slices, start = [], 0
        for end in range(1, len(widths) + 1):
            if end - start > 1 and (end - start) * widths[end - 1] > budget:
                slices.append((start, end - 1))
                start = end - 1
        slices.append((start, len(widths)))
        return slices

    def _head_argmax(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = torch.nn.functional.linear(hidden, self.head_weight, self.head_bias)
        return logits.argmax(dim=-1)

    @torch.inference_mode()
    def _generate_batch(self, reqs: list[GenerationRequest], suffixes: list[tuple[int, ...]], offset: int,
                        prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] | None, budget: int | None = None,
                        contexts: list[tuple[int, ...]] | None = None) -> list[str]:
        tok, dev = self.tokenizer, self.device
        n = len(reqs)
        width = max(len(s) for s in suffixes)
        max_new = max(r.max_gen_toks for r in reqs)
        # The cache starts with room for GROW_COLUMNS new tokens (and the holes rejected
        # drafts leave) and is repacked into a larger one when full: most rows stop early, so
        # a long limit costs memory only for the rows that reach it.
        if self.hole_room is None:
            capacity = offset + width + min(max_new, GROW_COLUMNS) + (SPEC_MAX + 1 if self.speculate else 0)
        else:
            capacity = offset + width + max_new + self.hole_room
        cfg = self.model.config
        heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
        dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        cache = _buffer_cache(prefix_kv, cfg.num_hidden_layers, self.head_weight, heads, dim, n, capacity)
        # Every row's suffix ends at column offset + width (left padding), so decoding steps
        # write one column for all rows. The prefill runs in slices of rows that fit the
        # token budget; each slice is as wide as its own widest row and its keys/values are
        # copied into the shared buffer, right-aligned.
        lengths = torch.tensor([len(s) for s in suffixes])
        valid = torch.zeros((n, capacity), dtype=torch.bool)  # which cache columns a row may attend to
        valid[:, :offset] = True
        for r in range(n):
            valid[r, offset + width - len(suffixes[r]): offset + width] = True
        order = sorted(range(n), key=lambda r: len(suffixes[r]))
        next_tok = torch.empty(n, dtype=torch.long)
        for a, b in self._prefill_slices([len(suffixes[r]) for r in order], budget or self.max_batch_tokens):
            rows = order[a:b]
            w = max(len(suffixes[r]) for r in rows)
            part = _buffer_cache(prefix_kv, cfg.num_hidden_layers, self.head_weight, heads, dim, len(rows), offset + w)
            out = self._prefill(part, [suffixes[r] for r in rows], offset, w)
            next_tok[rows] = self._head_argmax(out.last_hidden_state[:, -1]).cpu()
            index = torch.tensor(rows, device=dev)
            for big, small in zip(cache.layers, part.layers):
                big.kbuf[index, :, offset + width - w: offset + width] = small.kbuf[:, :, offset:offset + w]
                big.vbuf[index, :, offset + width - w: offset + width] = small.vbuf[:, :, offset:offset + w]
        for layer in cache.layers:
            layer.length = offset + width
        self.tokens_in += int(lengths.sum())
        stops = [self.stops_of(r) for r in reqs]
        # A stop string of c characters spans at most 4c byte-level tokens; one more for the seam.
        tails = [4 * max((len(s) for s in st), default=0) + 1 for st in stops]
        generated: list[list[int]] = [[] for _ in reqs]
        lookups = [_Lookup(contexts[r]) for r in range(n)] if self.speculate and contexts else None
        draft_len = [SPEC_MAX] * n
        active = list(range(n))  # batch rows still generating, in cache row order
        next_pos = (offset + lengths).clone()
        pending = [[int(next_tok[r])] for r in range(n)]  # tokens predicted, not yet taken, per row

        def take(r: int, t: int) -> bool:
            """Append t to row r; False when the row is finished."""
            generated[r].append(t)
            self.tokens_out += 1
            if lookups is not None:
                lookups[r].append(t)
            if t in self.eos_ids or len(generated[r]) >= reqs[r].max_gen_toks:
                return False
            if stops[r]:
                tail = tok.decode(generated[r][-tails[r]:], skip_special_tokens=True)
                if any(s in tail for s in stops[r]):
                    return False
            return True

        while True:
            still, inputs = [], []
            for slot, r in enumerate(active):
                alive = all(take(r, t) for t in pending[r])  # stops at the first token that ends the row
                if alive:
                    still.append(slot)
                    inputs.append(generated[r][-1])
            if not still:
                break
            if len(still) < len(active):
                keep = torch.tensor(still)
                for layer in cache.layers:
                    layer.keep_rows(keep.to(dev))
                valid = valid.index_select(0, keep)
                next_pos = next_pos.index_select(0, keep)
                active = [active[s] for s in still]
            # Drafts: what followed the row's last three tokens where they last occurred
            # (greedy text that repeats itself is drafted right, and checked in one pass).
            rows = len(active)
            length = cache.layers[0].length
            # A row's step reads its whole cache once, however many tokens it checks: the
            # longer the cache, the more drafted tokens a row may check per step.
            room = max(self.spec_tokens // rows, length // COLUMNS_PER_DRAFT) - 1 if lookups is not None else 0
            room = room if room >= MIN_DRAFT else 0  # one or two drafts a row do not pay for the wider step
            drafts = []
            for r in active:
                k = min(room, draft_len[r], reqs[r].max_gen_toks - len(generated[r]) - 1)
                drafts.append(lookups[r].draft(k) if lookups is not None and k > 0 else [])
            width = 1 + max(len(d) for d in drafts)
            if length + width > valid.shape[1]:
                valid = self._repack(cache, valid, width, [reqs[r].max_gen_toks - len(generated[r]) for r in active])
                length = cache.layers[0].length
            ids = torch.full((rows, width), inputs[0], dtype=torch.long)
            real = torch.tensor([1 + len(d) for d in drafts])
            for slot, (t, d) in enumerate(zip(inputs, drafts)):
                ids[slot, : 1 + len(d)] = torch.tensor([t] + d)
            new = torch.arange(width)
            own = (new[None, :, None] >= new[None, None, :]) & (new[None, None, :] < real[:, None, None])
            allowed = torch.cat([valid[:, None, :length].expand(rows, width, length), own], dim=2)
            mask = self._additive(allowed)[:, None]
            pos = next_pos[:, None] + new[None, :]
            with _grouped_attention(self.model):
                out = self.decoder(input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                                   use_cache=True, **{self._cache_arg: cache})
            predicted = self._head_argmax(out.last_hidden_state).cpu()
            for slot, r in enumerate(active):
                d = drafts[slot]
                accepted = 0
                while accepted < len(d) and d[accepted] == int(predicted[slot, accepted]):
                    accepted += 1
                self.drafted += len(d)
                self.accepted += accepted
                # The input and the accepted drafts stay in the cache; rejected drafts become holes.
                valid[slot, length: length + 1 + accepted] = True
                next_pos[slot] += 1 + accepted
                pending[r] = d[:accepted] + [int(predicted[slot, accepted])]
                if d:
                    draft_len[r] = min(SPEC_MAX, 2 * draft_len[r]) if accepted == len(d) else max(1, accepted + 1)
        texts = []
        for r, gen in enumerate(generated):
            if gen and gen[-1] in self.eos_ids:
                gen = gen[:-1]
            texts.append(cut_at_stop(tok.decode(gen, skip_special_tokens=True), stops[r]))
        return texts

    def _repack(self, cache: Any, valid: torch.Tensor, width: int, remaining: list[int]) -> torch.Tensor:
        """Squeeze out the holes rejected drafts left (each row's valid columns, right-aligned)
        into a cache with room for the next tokens."""
        length = cache.layers[0].length
        keep = [valid[r, :length].nonzero().flatten() for r in range(valid.shape[0])]
        used = max(len(k) for k in keep)
        capacity = used + width + min(max(remaining) + SPEC_MAX + 1, max(GROW_COLUMNS, used // 2))
        columns = torch.zeros((len(keep), used), dtype=torch.long)
        repacked = torch.zeros((len(keep), capacity), dtype=torch.bool)
        for r, k in enumerate(keep):
            columns[r, used - len(k):] = k
            repacked[r, used - len(k): used] = True
        for layer in cache.layers:
            layer.repack(columns.to(self.device), capacity)
        self.repacks += 1
        return repacked

    def _prefill(self, cache: Any, suffixes: list[tuple[int, ...]], offset: int, width: int) -> Any:
        """Run left-padded suffixes after the cached prefix; the cache ends at column offset + width."""
        n = len(suffixes)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids = torch.full((n, width), pad, dtype=torch.long)
        valid = torch.zeros((n, offset + width), dtype=torch.bool)
        valid[:, :offset] = True
        lengths = torch.tensor([len(s) for s in suffixes])
        for r, s in enumerate(suffixes):
            ids[r, width - len(s):] = torch.tensor(s)
            valid[r, offset + width - len(s):] = True
        col = torch.arange(width)
        start = width - lengths[:, None]
        pos = offset + (col[None, :] - start).clamp(min=0)
        # Causal within the row's own tokens, all of the prefix; a padding query sees itself
        # only, so no softmax row is empty.
        keys = torch.arange(offset + width)
        own = valid[:, None, :] & (keys[None, None, :] <= (offset + col)[None, :, None])
        own |= (keys[None, None, :] == (offset + col)[None, :, None])
        mask = self._additive(own)[:, None]
        dev = self.device
        return self.decoder(input_ids=ids.to(dev), attention_mask=mask.to(dev), position_ids=pos.to(dev),
                            use_cache=True, **{self._cache_arg: cache})

    def _additive(self, allowed: torch.Tensor) -> torch.Tensor:
        dtype = self.model.dtype
        mask = torch.zeros(allowed.shape, dtype=dtype)
        return mask.masked_fill_(~allowed, torch.finfo(dtype).min)


def generate(lm: Any, prompts: Sequence[str], *, max_new_tokens: int = 256, stop: Sequence[str] | None = None,
             chat: bool = False, batch_size: int | None = None, progress: bool = True, desc: str = "generating",
             engine: GenerationEngine | None = None) -> list[str]:
    """Greedy continuations of ``prompts`` (rendered through the chat template when ``chat``), cut at ``stop``.

    ``batch_size`` caps the rows decoded together (default: by device, under a token budget).
    """
    texts = [render_prompt(lm.tokenizer, p, chat) for p in prompts]
    engine = engine or GenerationEngine(lm, max_batch_rows=batch_size, progress=progress)
    until = tuple(s for s in (stop or []) if s)
    return engine.generate_until([GenerationRequest(t, until, int(max_new_tokens)) for t in texts], desc=desc)
