"""Scoring and generation by a model behind an OpenAI-compatible *completions* endpoint.

What vLLM, SGLang, TGI and llama.cpp servers speak (lm-evaluation-harness calls it
``local-completions``), so a model served on many GPUs (``vllm serve M
--tensor-parallel-size N``, or replicas behind one URL) scores and generates for
judgeaudit exactly as a local one does.

- Log-likelihood: the prompt ``context + continuation`` is sent with ``echo=True,
  logprobs=1, max_tokens=0``; the server returns every prompt token with its text offset,
  its log-probability and its top-1 alternative. The continuation's tokens are those
  whose text offset is at or past the end of the context; their log-probs are summed,
  and the request is greedy when each token is (at least as likely as) its top-1
  alternative. Trailing whitespace of the context moves to the continuation first, as
  the local engine does, so both score the same token boundary.
- Generation: plain completions (``temperature=0``, stop strings), or chat completions
  for chat-formatted prompts (the server applies the model's chat template).

Requests are batched (several prompts per HTTP request), sent concurrently, retried by
the ``openai`` SDK (429, 5xx, timeouts, dropped connections; Retry-After honoured), and
every answer is cached on disk under the cache root, so a rerun or a resumed run sends
nothing twice. The API key is read from the environment, never cached or logged.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from judgeaudit.engine.generation import cut_at_stop
from judgeaudit.console import progress_bar
from judgeaudit.engine.requests import LoglikelihoodResult
from judgeaudit.errors import JudgeauditError
from judgeaudit.judges.request_cache import RequestCache, public_endpoint
from judgeaudit.runstore import content_hash

PREFIX = "openai-completions:"


class RemoteModelError(JudgeauditError):
    """The server could not be reached, refused a request, or answered without what is needed."""


def is_remote_spec(spec: str) -> bool:
    return isinstance(spec, str) and spec.startswith(PREFIX)


def split_context(context: str, continuation: str) -> tuple[str, str]:
    """Move the context's trailing whitespace to the front of the continuation."""
    n = len(context) - len(context.rstrip())
    if n:
        return context[:-n], context[-n:] + continuation
    return context, continuation


def continuation_result(choice_logprobs: dict[str, Any], context_chars: int, prompt_chars: int) -> LoglikelihoodResult:
    """Sum the log-probs of the prompt tokens that start at or after ``context_chars``.

    ``choice_logprobs`` is a completions ``logprobs`` object (tokens, token_logprobs,
    top_logprobs, text_offset). Tokens at or past ``prompt_chars`` (anything a server
    generated despite ``max_tokens=0``) are ignored.
    """
    try:
        tokens = choice_logprobs["tokens"]
        lps = choice_logprobs["token_logprobs"]
        offsets = choice_logprobs["text_offset"]
        tops = choice_logprobs.get("top_logprobs") or [None] * len(tokens)
    except (KeyError, TypeError):
        raise RemoteModelError("the server's completion has no prompt log-probs (tokens, token_logprobs, "
                               "text_offset); it must support echo=True with logprobs") from None
    total, greedy, n = 0.0, True, 0
    for tok, lp, off, top in zip(tokens, lps, offsets, tops):
        if off < context_chars or off >= prompt_chars:
            continue
        if lp is None:
            raise RemoteModelError("the server gave no log-prob for a continuation token (is the context empty?)")
        total += float(lp)
        n += 1
        if greedy:
            best = max(top.values()) if top else None
            # A token is greedy when nothing in its top-1 list is more likely than itself.
            greedy = best is not None and float(lp) >= float(best)
    if n == 0:
        raise RemoteModelError("no prompt token starts inside the continuation: the server's tokenizer merged "
                               "it into the context")
    return LoglikelihoodResult(total, greedy, n)


class RemoteCompletionsLM:
    """A model served behind ``api_base`` (OpenAI completions protocol), named ``model`` there.

    Used wherever a loaded local model is: the SOS runner and local-style judges call
    ``loglikelihood`` and ``generate_texts``. ``tokenizer`` (optional) gives judges the
    model's chat template; without one they fall back to plain role-prefixed prompts.
    """

    is_remote = True

    def __init__(self, model: str, api_base: str, *, api_key_env: str | None = None, batch_size: int = 16,
                 concurrency: int = 8, max_retries: int = 6, timeout: float = 600.0,
                 cache_dir: str | os.PathLike | None = None, tokenizer: Any = None, progress: bool = True,
                 seed: int = 1234):
        if not api_base:
            raise RemoteModelError(f"model '{PREFIX}{model}' needs --api-base (the server's URL, e.g. "
                                   "http://127.0.0.1:8000/v1)")
        self.model = model
        self.name = PREFIX + model
        self.api_base = api_base
        self.endpoint = public_endpoint(api_base)
        self.dtype = "remote"  # what the server runs in is the server's business
        self.device = None
        self.batch_size = max(1, int(batch_size))
        self.concurrency = max(1, int(concurrency))
        self.max_retries = int(max_retries)
        self.timeout = float(timeout)
        self.tokenizer = tokenizer
        self.progress = progress
        self.seed = seed
        if cache_dir is None:
            from judgeaudit.cache_dirs import cache_root

            cache_dir = cache_root() / "completions"
        self.cache = RequestCache(Path(cache_dir))
        key = os.environ.get(api_key_env, "").strip() if api_key_env else ""
        if api_key_env and not key:
            raise RemoteModelError(f"--api-key-env {api_key_env}: the variable is not set")
        self.__key = key or "EMPTY"  # local servers accept any key
        self._client_obj = None
        self._lock = threading.Lock()
        self.requests_sent = 0
        self.cache_hits = 0

    def __repr__(self) -> str:  # never shows the key
        return f"RemoteCompletionsLM(model={self.model!r}, endpoint={self.endpoint!r})"

    @property
    def identity(self) -> dict[str, str]:
        return {"model": self.name, "endpoint": self.endpoint}

    # -- transport ------------------------------------------------------------------
    def _client(self):
        with self._lock:
            if self._client_obj is None:
                try:
                    from openai import OpenAI
                except ImportError:
                    raise RemoteModelError("a served model needs the openai SDK: pip install 'judgeaudit[api]'") from None

                self._client_obj = OpenAI(api_key=self.__key, base_url=self.api_base, max_retries=self.max_retries,
                                          timeout=self.timeout)
            return self._client_obj

    def _redact(self, text: str) -> str:
        key = self.__key
        return text.replace(key, "[redacted]") if key and key != "EMPTY" and len(key) >= 4 else text

    def _call(self, fn, **body) -> Any:
        import openai

        try:
            response = fn(**body)
        except openai.APIStatusError as exc:
            raise RemoteModelError(self._redact(f"{self.endpoint}: HTTP {exc.status_code}: {exc.message}")) from None
        except openai.APIError as exc:
            raise RemoteModelError(self._redact(f"{self.endpoint}: {type(exc).__name__}: {exc}")) from None
        with self._lock:
            self.requests_sent += 1
        return response.model_dump() if hasattr(response, "model_dump") else response

    def _key(self, kind: str, payload: dict[str, Any]) -> str:
        return content_hash({"kind": kind, "endpoint": self.endpoint, "model": self.model, **payload})

    def _run_batches(self, batches: list[Any], fn, desc: str, total: int, sizes: list[int]) -> None:
        """Run ``fn(batch)`` for every batch with bounded concurrency, advancing a progress bar."""
        if not batches:
            return
        with progress_bar(desc, total=total, enabled=self.progress) as advance:
            if self.concurrency == 1 or len(batches) == 1:
                for b, size in zip(batches, sizes):
                    fn(b)
                    advance(size)
                return
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                futures = [pool.submit(fn, b) for b in batches]
                for fut, size in zip(futures, sizes):
                    fut.result()
                    advance(size)

    # -- log-likelihood -------------------------------------------------------------
    def loglikelihood(self, requests: Sequence[tuple[str, str]], desc: str = "scoring") -> list[LoglikelihoodResult]:
        split = [split_context(c, x) for c, x in requests]
        for context, continuation in split:
            if context == "":
                raise RemoteModelError("remote scoring needs a non-empty context (the server gives the first "
                                       "prompt token no log-prob)")
            if continuation == "":
                raise RemoteModelError("remote scoring got an empty continuation")
        results: dict[tuple[str, str], LoglikelihoodResult] = {}
        todo: list[tuple[str, str]] = []
        for pair in dict.fromkeys(split):
            hit = self.cache.get(self._key("loglikelihood", {"context": pair[0], "continuation": pair[1]}))
            if hit is not None and {"logprob", "is_greedy", "n_tokens"} <= set(hit):
                results[pair] = LoglikelihoodResult(float(hit["logprob"]), bool(hit["is_greedy"]), int(hit["n_tokens"]))
                self.cache_hits += 1
            else:
                todo.append(pair)
        # Longest first: a batch's prompts cost about the same on the server.
        todo.sort(key=lambda p: -(len(p[0]) + len(p[1])))
        batches = [todo[i:i + self.batch_size] for i in range(0, len(todo), self.batch_size)]

        def score(batch: list[tuple[str, str]]) -> None:
            prompts = [c + x for c, x in batch]
            out = self._call(self._client().completions.create, model=self.model, prompt=prompts, max_tokens=0,
                             echo=True, logprobs=1, temperature=0.0, seed=self.seed)
            choices = sorted(out.get("choices") or [], key=lambda ch: ch.get("index", 0))
            if len(choices) != len(prompts):
                raise RemoteModelError(f"{self.endpoint}: {len(prompts)} prompts sent, {len(choices)} choices returned")
            for (context, continuation), prompt, choice in zip(batch, prompts, choices):
                res = continuation_result(choice.get("logprobs"), len(context), len(prompt))
                self.cache.put(self._key("loglikelihood", {"context": context, "continuation": continuation}),
                               {"logprob": res.logprob, "is_greedy": res.is_greedy, "n_tokens": res.n_tokens})
                with self._lock:
                    results[(context, continuation)] = res

        self._run_batches(batches, score, desc, len(todo), [len(b) for b in batches])
        return [results[pair] for pair in split]

    # -- generation -----------------------------------------------------------------
    def generate_texts(self, prompts: Sequence[str], *, max_new_tokens: int = 256, stop: Sequence[str] | None = None,
                       chat: bool = False, desc: str = "generating", **_: Any) -> list[str]:
        """Greedy continuations, cut at the first stop string; ``chat`` sends each prompt as one user message."""
        stop_list = [s for s in (stop or []) if s]
        params = {"max_tokens": int(max_new_tokens), "temperature": 0.0, "stop": stop_list or None, "seed": self.seed}
        kind = "chat" if chat else "completion"
        outputs: dict[str, str] = {}
        todo = []
        for p in dict.fromkeys(prompts):
            hit = self.cache.get(self._key(kind, {"prompt": p, "params": params}))
            if hit is not None and isinstance(hit.get("text"), str):
                outputs[p] = hit["text"]
                self.cache_hits += 1
            else:
                todo.append(p)
        step = 1 if chat else self.batch_size
        batches = [todo[i:i + step] for i in range(0, len(todo), step)]

        def run(batch: list[str]) -> None:
            if chat:
                out = self._call(self._client().chat.completions.create, model=self.model,
                                 messages=[{"role": "user", "content": batch[0]}], **params)
                texts = [((out.get("choices") or [{}])[0].get("message") or {}).get("content")]
            else:
                out = self._call(self._client().completions.create, model=self.model, prompt=batch, **params)
                choices = sorted(out.get("choices") or [], key=lambda ch: ch.get("index", 0))
                texts = [ch.get("text") for ch in choices]
            if len(texts) != len(batch) or not all(isinstance(t, str) for t in texts):
                raise RemoteModelError(f"{self.endpoint}: malformed completion for {len(batch)} prompt(s)")
            for p, text in zip(batch, texts):
                text = cut_at_stop(text, stop_list)
                self.cache.put(self._key(kind, {"prompt": p, "params": params}), {"text": text})
                with self._lock:
                    outputs[p] = text

        self._run_batches(batches, run, desc, len(todo), [len(b) for b in batches])
        return [outputs[p] for p in prompts]


def load_remote(spec: str, api_base: str | None, **options: Any) -> RemoteCompletionsLM:
    """``openai-completions:NAME`` at ``api_base``; NAME's tokenizer is used for chat templates when it is local."""
    name = spec[len(PREFIX):]
    if not name:
        raise RemoteModelError(f"model spec {spec!r}: name the served model after '{PREFIX}'")
    if "tokenizer" not in options:
        options["tokenizer"] = local_tokenizer(name)
    return RemoteCompletionsLM(name, api_base or "", **options)


def local_tokenizer(spec: str) -> Any:
    """The tokenizer of ``spec`` when it is available offline, else None (never downloads or converts)."""
    try:
        from transformers import AutoTokenizer

        from judgeaudit.models.loading import resolve_spec

        resolved = resolve_spec(spec)
        if resolved.kind == "hub":
            return AutoTokenizer.from_pretrained(spec, local_files_only=True)
        if resolved.converted_dir is not None:
            if resolved.is_converted:
                return AutoTokenizer.from_pretrained(str(resolved.converted_dir), local_files_only=True)
            gguf = Path(resolved.location)
            return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        return AutoTokenizer.from_pretrained(resolved.location, local_files_only=True)
    except Exception:  # noqa: BLE001 - no local tokenizer is a normal case for a served model
        return None
