"""A loopback OpenAI-compatible server backed by a real transformers model, for tests.

Serves ``/v1/completions`` (prompt log-probs with ``echo=True, logprobs=K, max_tokens=0``
as vLLM returns them: tokens, token_logprobs with None for the first token, top_logprobs,
text_offset; greedy generation with stop strings otherwise) and ``/v1/chat/completions``
(the model's chat template, greedy generation, optional per-token ``logprobs`` with
``top_logprobs``). Binds 127.0.0.1 on a free port; every request is one bounded forward
pass or one bounded generation. Counts requests and prompts so tests can check batching
and caching.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import torch
from loopback_server import LoopbackServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class CompletionsServer(LoopbackServer):
    """``with CompletionsServer(lm) as srv: ... srv.base_url ...`` where ``lm`` is a LoadedModel."""

    def __init__(self, lm: Any, *, served_name: str = "smollm2", chat_logprobs: bool = True,
                 fail_first: int = 0):
        self.lm = lm
        self.tok = lm.tokenizer
        self.model = lm.model
        self.served_name = served_name
        self.chat_logprobs = chat_logprobs  # False: a server that ignores logprobs on chat
        self.fail_first = fail_first  # answer the first N requests with HTTP 503 (retries)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/v1/completions", self._completions, methods=["POST"]),
                                     Route("/v1/chat/completions", self._chat, methods=["POST"])])
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- model work ------------------------------------------------------------------
    def _token_texts(self, prompt: str, ids: list[int], offsets: list[tuple[int, int]]) -> tuple[list[str], list[int]]:
        """Each token's text and where it starts, as a detokenizing server reports them: contiguous spans."""
        starts, texts, pos = [], [], 0
        for _, end in offsets:
            end = max(end, pos)
            starts.append(pos)
            texts.append(prompt[pos:end])
            pos = end
        return texts, starts

    @torch.inference_mode()
    def prompt_logprobs(self, prompt: str, top: int) -> dict[str, Any]:
        enc = self.tok(prompt, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        texts, starts = self._token_texts(prompt, ids, [tuple(o) for o in enc["offset_mapping"]])
        logits = self.model(input_ids=torch.tensor([ids], device=self.lm.device)).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        token_lps: list[float | None] = [None]
        tops: list[dict[str, float] | None] = [None]
        for i in range(1, len(ids)):
            row = logp[i - 1]
            token_lps.append(float(row[ids[i]]))
            values, idx = torch.topk(row, max(1, top))
            tops.append({self.tok.decode([int(j)]): float(v) for v, j in zip(values, idx)})
        return {"tokens": texts, "token_logprobs": token_lps, "top_logprobs": tops, "text_offset": starts}

    @torch.inference_mode()
    def generate(self, text: str, max_tokens: int, stop: list[str], top: int | None) -> tuple[str, list[dict] | None, int, int]:
        ids = self.tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"].to(self.lm.device)
        out = self.model.generate(ids, max_new_tokens=max_tokens, do_sample=False, num_beams=1,
                                  pad_token_id=self.tok.pad_token_id, output_scores=top is not None,
                                  return_dict_in_generate=True)
        new = out.sequences[0, ids.shape[1]:].tolist()
        eos = self.tok.eos_token_id
        if eos in new:
            new = new[:new.index(eos)]
        content = self.tok.decode(new, skip_special_tokens=True)
        cut = min([content.find(s) for s in stop if s and s in content] or [len(content)])
        content = content[:cut]
        logprobs = None
        if top is not None:
            logprobs, written = [], ""
            for step, tid in enumerate(new):
                if len(written) >= len(content):
                    break
                row = torch.log_softmax(out.scores[step][0].float(), dim=-1)
                values, idx = torch.topk(row, max(1, top))
                piece = self.tok.decode(new[:step + 1], skip_special_tokens=True)[len(written):]
                written += piece
                logprobs.append({"token": piece, "logprob": float(row[tid]),
                                 "top_logprobs": [{"token": self.tok.decode([int(j)]), "logprob": float(v)}
                                                  for v, j in zip(values, idx)]})
        return content, logprobs, int(ids.shape[1]), len(new)

    # -- routes ----------------------------------------------------------------------
    def _count(self, what: str) -> bool:
        """Counts a request; True when it is to be failed (the first ``fail_first``)."""
        with self._lock:
            self.counts[what] += 1
            self.counts["http"] += 1
            return self.counts["http"] <= self.fail_first

    async def _completions(self, request: Request):
        body = await request.json()
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        if self._count("completions"):
            return JSONResponse({"error": {"message": "warming up"}}, status_code=503)
        with self._lock:
            self.counts["prompts"] += len(prompts)
        max_tokens = int(body.get("max_tokens") if body.get("max_tokens") is not None else 16)
        echo = bool(body.get("echo"))
        top = body.get("logprobs")
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        choices = []
        with self._lock:
            for i, prompt in enumerate(prompts):
                if echo:
                    if max_tokens != 0:
                        return JSONResponse({"error": {"message": "this server echoes with max_tokens=0 only"}},
                                            status_code=400)
                    lp = self.prompt_logprobs(prompt, int(top or 0)) if top is not None else None
                    choices.append({"index": i, "text": prompt, "logprobs": lp, "finish_reason": "length"})
                else:
                    text, _, _, _ = self.generate(prompt, max_tokens, stop, None)
                    choices.append({"index": i, "text": text, "logprobs": None, "finish_reason": "stop"})
        # Out of order on purpose: clients must sort by index.
        choices.reverse()
        return JSONResponse({"id": "cmpl-loopback", "object": "text_completion", "created": int(time.time()),
                             "model": body["model"], "choices": choices,
                             "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})

    async def _chat(self, request: Request):
        body = await request.json()
        if self._count("chat"):
            return JSONResponse({"error": {"message": "warming up"}}, status_code=503)
        text = self.tok.apply_chat_template(body["messages"], tokenize=False, add_generation_prompt=True)
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else list(stop)
        want = bool(body.get("logprobs")) and self.chat_logprobs
        with self._lock:
            content, logprobs, n_in, n_out = self.generate(text, int(body.get("max_tokens") or 64), stop,
                                                           int(body.get("top_logprobs") or 1) if want else None)
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": content},
                                  "finish_reason": "stop"}
        if logprobs is not None:
            choice["logprobs"] = {"content": logprobs}
        return JSONResponse({"id": "chatcmpl-loopback", "object": "chat.completion", "created": int(time.time()),
                             "model": body["model"], "choices": [choice],
                             "usage": {"prompt_tokens": n_in, "completion_tokens": n_out,
                                       "total_tokens": n_in + n_out}})
