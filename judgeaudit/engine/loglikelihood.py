"""Batched log-likelihood scoring of (context, continuation) requests.

What makes it fast, compared with scoring each request as its own full sequence:
- the choices of one question share their context, which runs once (packing.py);
- the LM head runs only at continuation positions, through the fused op in
  ``judgeaudit.kernels`` that never builds [tokens, vocab] logits;
- rows are batched by a token budget, longest first; an out-of-memory error halves
  the budget and retries instead of failing the run.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from judgeaudit.engine.packing import PackedRow, batch_rows, pack_rows
from judgeaudit.engine.progress import progress_bar
from judgeaudit.engine.requests import EncodedRequest, LoglikelihoodResult, encode_requests
from judgeaudit.kernels import lm_head_logprobs

DEFAULT_BATCH_TOKENS = {"cpu": 4096, "cuda": 65536}
MIN_BATCH_TOKENS = 8


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    msg = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in msg or "can't allocate memory" in msg)


class LoglikelihoodEngine:
    """Scores requests with one loaded causal LM (see ``judgeaudit.models.loading``)."""

    def __init__(self, lm: Any, *, max_batch_tokens: int | None = None, impl: str = "auto",
                 progress: bool = True, share_prefix: bool = True):
        self.lm = lm
        self.model = lm.model
        self.tokenizer = lm.tokenizer
        self.device = lm.device
        self.max_length = lm.max_length
        self.max_batch_tokens = max_batch_tokens or DEFAULT_BATCH_TOKENS.get(self.device.type, 8192)
        self.impl = impl
        self.progress = progress
        self.share_prefix = share_prefix
        self.decoder = getattr(self.model, self.model.base_model_prefix)
        head = self.model.get_output_embeddings()
        self.head_weight = head.weight
        self.head_bias = getattr(head, "bias", None)
        self.softcap = getattr(self.model.config, "final_logit_softcapping", None)
        self.oom_backoffs = 0

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
        done: set[int] = set()
        budget = self.max_batch_tokens
        with progress_bar(desc, total=len(todo), enabled=self.progress) as advance:
            while todo:
                rows = pack_rows(encoded, todo, max_row_tokens=budget, share_prefix=self.share_prefix)
                try:
                    for batch in batch_rows(rows, budget):
                        for idx, lp, gr in self._score_batch(batch):
                            logprob[idx] += lp
                            greedy[idx] = greedy[idx] and gr
                        finished = [b.request for row in batch for b in row.branches]
                        done.update(finished)
                        advance(len(finished))
                except Exception as exc:  # noqa: BLE001 - only OOM is handled, the rest re-raised
                    smallest = len(batch) == 1 and len(batch[0].branches) == 1
                    if not _is_oom(exc) or smallest or budget <= MIN_BATCH_TOKENS:
                        raise
                    # Batches already scored are kept; only the rest is re-packed smaller.
                    for row in batch:
                        for b in row.branches:
                            logprob[b.request], greedy[b.request] = 0.0, True
                    budget //= 2
                    self.oom_backoffs += 1
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()
                todo = [i for i in todo if i not in done]
        results = []
        for i, e in enumerate(encoded):
            src = first[e]
            results.append(LoglikelihoodResult(float(logprob[src]), bool(greedy[src]), len(e.continuation)))
        return results

    # -- internals ------------------------------------------------------------------
    @torch.inference_mode()
    def _score_batch(self, batch: list[PackedRow]) -> list[tuple[int, float, bool]]:
        width = max(r.length for r in batch)
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        pos = torch.zeros((len(batch), width), dtype=torch.long)
        seg = torch.full((len(batch), width), -1, dtype=torch.long)  # -1 marks padding
        rows_idx, cols_idx, targets, owners = [], [], [], []
        for r, row in enumerate(batch):
            toks = row.tokens()
            p, s = row.layout()
            ids[r, : len(toks)] = torch.tensor(toks)
            pos[r, : len(p)] = torch.tensor(p)
            seg[r, : len(s)] = torch.tensor(s)
            for col, tgt, owner in row.predictions():
                rows_idx.append(r)
                cols_idx.append(col)
                targets.append(tgt)
                owners.append(owner)
        mask = self._tree_mask(seg)
        out = self.decoder(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                           position_ids=pos.to(self.device), use_cache=False)
        hidden = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        h = hidden[torch.tensor(rows_idx, device=self.device), torch.tensor(cols_idx, device=self.device)]
        t = torch.tensor(targets, device=self.device)
        lp, gr = lm_head_logprobs(h, self.head_weight, t, bias=self.head_bias, softcap=self.softcap, impl=self.impl)
        lp, gr = lp.cpu().tolist(), gr.cpu().tolist()
        return list(zip(owners, lp, gr))

    def _tree_mask(self, seg: torch.Tensor) -> torch.Tensor:
        """Additive [B, 1, L, L] mask: a token sees earlier prefix tokens and earlier
        tokens of its own branch. Padding queries see the prefix, so no row is all -inf."""
        width = seg.shape[1]
        causal = torch.ones(width, width, dtype=torch.bool).tril()
        seg_q, seg_k = seg[:, :, None], seg[:, None, :]
        allowed = causal[None] & ((seg_k == 0) | (seg_k == seg_q))
        dtype = self.model.dtype
        mask = torch.zeros(allowed.shape, dtype=dtype)
        mask.masked_fill_(~allowed, torch.finfo(dtype).min)
        return mask[:, None]


def score_requests(model: str, requests: Sequence[tuple[str, str]], *, dtype: str = "auto", device: str = "auto",
                   progress: bool = True, **engine_options: Any) -> list[LoglikelihoodResult]:
    """Load ``model`` (any spec) and score ``requests``; the one-call library entry point."""
    from judgeaudit.models.loading import load_model

    lm = load_model(model, dtype=dtype, device=device)
    return LoglikelihoodEngine(lm, progress=progress, **engine_options).loglikelihood(requests)
