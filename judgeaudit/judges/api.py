"""Judges behind an OpenAI-compatible chat-completions endpoint, through the ``openai`` SDK.

Every request is cached on disk (a rerun or resume costs nothing), retried with jittered
exponential backoff on 429, 5xx, timeouts, dropped connections and malformed bodies
(honouring Retry-After), and run with bounded concurrency. Tokens and cost are counted.
The API key is read from the environment, kept only in memory, and scrubbed from any
error text before it is shown.
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Iterator, Mapping

from judgeaudit.errors import JudgeauditError
from judgeaudit.judges.pricing import cost_usd, price_of, price_table
from judgeaudit.judges.prompting import Template, load_template
from judgeaudit.judges.protocol import BaseJudge, Judgment, JudgeRequest, normalize
from judgeaudit.cache_dirs import api_cache_dir
from judgeaudit.judges.request_cache import RequestCache, public_endpoint
from judgeaudit.judges.token_verdicts import grade_from_tokens, overall_from_tokens
from judgeaudit.runstore import content_hash

log = logging.getLogger(__name__)

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# Reasoning models reject temperature and logprobs and count output as max_completion_tokens.
_REASONING_PREFIXES = ("o1", "o3", "o4")


class MissingAPIKey(JudgeauditError):
    pass


class APIJudgeError(JudgeauditError):
    pass


class _Malformed(Exception):
    """A 200 response whose body is not a usable chat completion."""


def is_openai_model_name(spec: str) -> bool:
    return spec.startswith(("gpt-", "chatgpt-")) or any(
        spec == p or spec.startswith(p + "-") for p in _REASONING_PREFIXES)


def _retry_after_seconds(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class APIJudge(BaseJudge):
    """A chat model judging through an OpenAI-compatible API.

    ``model`` is the model name sent to the endpoint; ``api_base`` None means OpenAI.
    The key comes from ``$api_key_env`` (default OPENAI_API_KEY). A non-OpenAI endpoint
    without an explicit key variable gets a placeholder key, so the OpenAI key is never
    sent to another host; local servers (vLLM, llama.cpp, Ollama) accept any key.
    """

    own_concurrency = True  # at most ``concurrency`` requests in flight, results streamed as they land
    priced = True

    def __init__(self, model: str, *, template: str | Template = "pairwise", api_base: str | None = None,
                 api_key_env: str | None = None, concurrency: int = 8, cache_dir: str | os.PathLike | None = None,
                 temperature: float = 0.0, max_tokens: int | None = None, logprobs: bool | None = None,
                 top_logprobs: int = 5, timeout: float = 120.0, max_retries: int = 8, backoff_base: float = 1.0,
                 backoff_cap: float = 60.0, max_retry_after: float = 300.0, prices: Any = None,
                 est_completion_tokens: int | None = None, dry_run: bool = False, seed: int = 0):
        self.model = model
        self.name = model
        self.template = template if isinstance(template, Template) else load_template(template)
        self.api_base = api_base
        self.endpoint = public_endpoint(api_base)
        self.key_env = api_key_env or DEFAULT_KEY_ENV
        self.concurrency = max(1, int(concurrency))
        self.batch_size = 4 * self.concurrency
        self.cache = RequestCache(cache_dir if cache_dir is not None else api_cache_dir())
        self.reasoning = any(model == p or model.startswith(p + "-") for p in _REASONING_PREFIXES)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens or self.template.max_tokens)
        self.use_logprobs = (not self.reasoning) if logprobs is None else bool(logprobs)
        self.top_logprobs = int(top_logprobs)
        self.timeout, self.max_retries = float(timeout), int(max_retries)
        self.backoff_base, self.backoff_cap, self.max_retry_after = float(backoff_base), float(backoff_cap), float(max_retry_after)
        self.price = price_of(model, price_table(prices))
        self.est_completion_tokens = est_completion_tokens
        self.dry_run = dry_run
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._client_obj = None
        self._inflight: dict[str, threading.Lock] = {}
        self.__key = self._read_key(required=not dry_run)

    def __repr__(self) -> str:  # never shows the key
        return f"APIJudge(model={self.model!r}, endpoint={self.endpoint!r}, template={self.template.name!r})"

    def _read_key(self, required: bool) -> str | None:
        if self.api_base and self.key_env == DEFAULT_KEY_ENV and not self._is_openai_host():
            # Another server without --api-key-env: never forward the OpenAI key to it.
            # Local servers (vLLM, llama.cpp, Ollama) accept any key.
            return "unused"
        key = os.environ.get(self.key_env, "").strip()
        if key:
            return key
        if required:
            where = "the OpenAI API" if not self.api_base else self.endpoint
            raise MissingAPIKey(f"judge {self.model!r} calls {where}: set the environment variable {self.key_env} "
                                f"to your API key (export {self.key_env}=...), or choose another variable with --api-key-env")
        return None

    def _is_openai_host(self) -> bool:
        from urllib.parse import urlsplit

        host = urlsplit(self.api_base or "").hostname or ""
        return host == "api.openai.com" or host.endswith(".openai.com")

    def _redact(self, text: str) -> str:
        key = self.__key
        if key and key != "unused" and len(key) >= 4:
            text = text.replace(key, "[redacted]")
        return text

    @property
    def template_name(self) -> str:
        return self.template.name

    @property
    def identity(self) -> dict:
        return {"name": self.model, "endpoint": self.endpoint, "template": self.template.identity, "params": self._params()}

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.reasoning:
            params["max_completion_tokens"] = self.max_tokens
        else:
            params["temperature"] = self.temperature
            params["max_tokens"] = self.max_tokens
        if self.use_logprobs:
            params["logprobs"] = True
            params["top_logprobs"] = self.top_logprobs
        return params

    def _client(self):
        if self._client_obj is None:
            if self.dry_run:
                raise APIJudgeError(f"judge {self.model!r} is in dry-run mode and sends no requests")
            from openai import OpenAI

            # The SDK's own retries are off, and _call_with_retries retries instead, because the SDK
            # (openai 1.x-3.x) cannot retry a 200 whose body is malformed, fixes its backoff in module
            # constants (0.5 s doubling to 8 s; runs and tests need it configurable), and gives up on
            # a Retry-After over two minutes where a rate-limited batch run should wait.
            self._client_obj = OpenAI(api_key=self.__key, base_url=self.api_base, max_retries=0, timeout=self.timeout)
        return self._client_obj

    # -- one request -----------------------------------------------------------------
    def cache_key(self, messages: list[dict[str, str]], params: Mapping[str, Any], repeat: int = 0) -> str:
        ident: dict[str, Any] = {"model": self.model, "endpoint": self.endpoint, "messages": messages, "params": dict(params)}
        if repeat:
            ident["repeat"] = repeat
        return content_hash(ident)

    def complete(self, messages: list[dict[str, str]], repeat: int = 0) -> dict[str, Any]:
        """The response to one chat (from the cache when present), with ``cached`` and ``cost_usd``."""
        params = self._params()
        key = self.cache_key(messages, params, repeat)
        # Identical requests in flight at once (a control pair's two orders) are sent once.
        with self._lock:
            key_lock = self._inflight.setdefault(key, threading.Lock())
        with key_lock:
            return self._complete_locked(messages, params, key)

    def _complete_locked(self, messages: list[dict[str, str]], params: dict[str, Any], key: str) -> dict[str, Any]:
        hit = self.cache.get(key)
        if hit is not None and isinstance(hit.get("content"), str):
            return {**hit, "cached": True, "cost_usd": 0.0}
        response = self._call_with_retries(messages, params)
        usage = response["usage"]
        cost = cost_usd(usage["prompt_tokens"], usage["completion_tokens"], self.price)
        self.cache.put(key, {"model": self.model, "endpoint": self.endpoint, "params": params, "messages": messages, **response})
        return {**response, "cached": False, "cost_usd": cost}

    def _call_with_retries(self, messages: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
        import openai

        attempt = 0
        while True:
            try:
                try:
                    completion = self._client().chat.completions.create(model=self.model, messages=messages, **params)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    # The SDK could not decode the body (invalid JSON, missing fields).
                    raise _Malformed(f"unreadable response body ({type(exc).__name__})") from None
                return self._read_completion(completion)
            except openai.AuthenticationError as exc:
                raise APIJudgeError(f"{self.endpoint} rejected the API key from {self.key_env} "
                                    f"(HTTP {exc.status_code}); check the key") from None
            except openai.BadRequestError as exc:
                if params.get("logprobs") and "logprob" in str(exc).lower():
                    log.info("%s does not accept logprobs; continuing with text verdicts", self.endpoint)
                    self.use_logprobs = False
                    params.pop("logprobs", None)
                    params.pop("top_logprobs", None)
                    continue
                raise APIJudgeError(self._redact(f"{self.endpoint} refused the request: {exc}")[:500]) from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
                    openai.APIConnectionError, openai.APIResponseValidationError, _Malformed) as exc:
                retry_after = _retry_after_seconds(exc)
                reason = type(exc).__name__
            except openai.APIStatusError as exc:
                if exc.status_code not in (408, 409) and exc.status_code < 500:
                    raise APIJudgeError(self._redact(f"{self.endpoint} answered HTTP {exc.status_code}: {exc}")[:500]) from None
                retry_after = _retry_after_seconds(exc)
                reason = f"HTTP {exc.status_code}"
            if attempt >= self.max_retries:
                raise APIJudgeError(f"{self.endpoint}: request failed after {attempt + 1} attempts (last: {reason})")
            delay = self._delay(attempt, retry_after)
            log.debug("retrying after %s in %.2fs (attempt %d)", reason, delay, attempt + 1)
            time.sleep(delay)
            attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        with self._lock:
            jitter = self._rng.random()
        if retry_after is not None:
            # The server's wait, plus a little jitter so clients do not return in lockstep.
            return min(retry_after, self.max_retry_after) + 0.1 * jitter * min(1.0, self.backoff_base)
        return jitter * min(self.backoff_cap, self.backoff_base * (2 ** attempt))  # full jitter

    @staticmethod
    def _read_completion(completion: Any) -> dict[str, Any]:
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise _Malformed("no choices")
        choice = choices[0]
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        if not isinstance(content, str):
            raise _Malformed("no message content")
        tokens = None
        lp = getattr(choice, "logprobs", None)
        items = getattr(lp, "content", None) if lp is not None else None
        if isinstance(items, list) and items:
            try:
                tokens = [{"token": str(t.token), "logprob": float(t.logprob),
                           "top_logprobs": [{"token": str(a.token), "logprob": float(a.logprob)}
                                            for a in (t.top_logprobs or [])]} for t in items]
            except (AttributeError, TypeError, ValueError):
                tokens = None  # unusable logprobs: the text verdict still stands
        usage = getattr(completion, "usage", None)
        pt = getattr(usage, "prompt_tokens", None)
        ct = getattr(usage, "completion_tokens", None)
        return {"content": content, "tokens": tokens,
                "usage": {"prompt_tokens": int(pt) if isinstance(pt, int) else 0,
                          "completion_tokens": int(ct) if isinstance(ct, int) else 0},
                "finish_reason": getattr(choice, "finish_reason", None)}

    # -- judging --------------------------------------------------------------------
    def _judge_one(self, req: JudgeRequest) -> Judgment:
        responses = [self.complete(messages, req.repeat) for messages in self.template.conversations(req)]
        usage = {"prompt_tokens": sum(r["usage"]["prompt_tokens"] for r in responses),
                 "completion_tokens": sum(r["usage"]["completion_tokens"] for r in responses),
                 "cost_usd": (None if any(r["cost_usd"] is None for r in responses) else sum(r["cost_usd"] for r in responses)),
                 "cached": all(r["cached"] for r in responses)}
        texts = [r["content"] for r in responses]
        judgment = self.template.judgment_from_texts(texts, usage)
        if judgment.parsed and self.use_logprobs:
            probs = self._probs_from_tokens(responses)
            if probs is not None:
                judgment.probs = probs
        return judgment

    def _probs_from_tokens(self, responses: list[dict[str, Any]]) -> dict[str, float] | None:
        t = self.template
        if t.kind == "single":
            grades = [grade_from_tokens(r.get("tokens") or [], *t.scale) for r in responses]
            if any(g is None for g in grades):
                return None
            total = [sum(g.values()) for g in grades]
            return t.grades_to_verdicts({k: v / total[0] for k, v in grades[0].items()},
                                        {k: v / total[1] for k, v in grades[1].items()})
        weights = overall_from_tokens(responses[0].get("tokens") or [])
        return normalize(weights) if weights else None

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        out: list[Judgment | None] = [None] * len(requests)
        for i, judgment in self.iter_judgments(requests):
            out[i] = judgment
        return out  # type: ignore[return-value]

    def iter_judgments(self, requests: list[JudgeRequest]) -> Iterator[tuple[int, Judgment]]:
        """Judgments as they finish, at most ``concurrency`` requests in flight."""
        if self.dry_run:
            raise APIJudgeError(f"judge {self.model!r} is in dry-run mode and sends no requests")
        self._client()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="judge-api")
        try:
            futures = {pool.submit(self._judge_one, req): i for i, req in enumerate(requests)}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # -- estimate --------------------------------------------------------------------
    def estimate(self, requests: list[JudgeRequest]) -> dict[str, Any]:
        """Requests and cost a run would need, without calling anything.

        Prompt tokens are estimated as characters / 4 plus a few per message; completion
        tokens as ``est_completion_tokens`` each (default: half of max_tokens), with
        max_tokens as the worst case. Requests already in the cache cost nothing.
        """
        params = self._params()
        calls = cached = 0
        prompt_tokens = 0
        for req in requests:
            for messages in self.template.conversations(req):
                if self.cache.has(self.cache_key(messages, params, req.repeat)):
                    cached += 1
                    continue
                calls += 1
                prompt_tokens += sum(math.ceil(len(m["content"]) / 4) + 4 for m in messages) + 3
        per_completion = self.est_completion_tokens if self.est_completion_tokens is not None else self.max_tokens // 2
        completion_tokens = calls * per_completion
        worst = calls * self.max_tokens
        return {"judge": self.model, "endpoint": self.endpoint, "requests": calls, "cached_requests": cached,
                "prompt_tokens_est": prompt_tokens, "completion_tokens_est": completion_tokens,
                "completion_tokens_per_request_est": per_completion,
                "price_usd_per_1m": list(self.price) if self.price else None,
                "cost_usd_est": cost_usd(prompt_tokens, completion_tokens, self.price),
                "cost_usd_max": cost_usd(prompt_tokens, worst, self.price)}
