"""A local OpenAI-compatible chat-completions server that injects faults, for tests.

Starlette app served by uvicorn in a background thread on 127.0.0.1 and a free port.
A configurable share of requests is faulted: 429 with Retry-After, 500, a connection
dropped mid-body, a response slower than the client's timeout, or a malformed body.
Successful answers are deterministic functions of the messages, so reruns agree.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import threading
import time
from collections import Counter
from typing import Any, Callable

from loopback_server import LoopbackServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

FAULTS = ("429", "500", "drop", "slow", "malformed")
VERDICTS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")


def message_digest(messages: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def default_verdict(messages: list[dict[str, Any]]) -> str:
    return VERDICTS[int(message_digest(messages)[:8], 16) % len(VERDICTS)]


def tokens_with_logprobs(content: str, top: int, verdict: str) -> list[dict[str, Any]]:
    """Tokens of ``content``: words, the brackets, and the verdict split into letter, operator, letter.

    At the letter and operator positions the alternatives carry fixed probabilities, so a
    test can compute the expected distribution.
    """
    head, _, _ = content.rpartition("[[" + verdict + "]]")
    pieces = [w for w in head.replace("\n", " \n").split(" ") if w]
    toks: list[dict[str, Any]] = [{"token": (w if i == 0 else " " + w) if w != "\n" else "\n", "logprob": -0.01,
                                   "top_logprobs": []} for i, w in enumerate(pieces)]
    toks.append({"token": " [[", "logprob": -0.01, "top_logprobs": []})
    letter, op, other = verdict[0], verdict[1:-1], verdict[-1]
    letters = {letter: math.log(0.7), other: math.log(0.3)}
    ops = {op: math.log(0.6)}
    for alt, p in ((">", 0.25), (">>", 0.1), ("=", 0.05)):
        if alt not in ops:
            ops[alt] = math.log(p)
    toks.append({"token": letter, "logprob": letters[letter],
                 "top_logprobs": [{"token": t, "logprob": lp} for t, lp in letters.items()][:top]})
    toks.append({"token": op, "logprob": ops[op],
                 "top_logprobs": [{"token": t, "logprob": lp} for t, lp in ops.items()][:top]})
    toks.append({"token": other, "logprob": -0.001, "top_logprobs": []})
    toks.append({"token": "]]", "logprob": -0.001, "top_logprobs": []})
    return toks


class FaultServer(LoopbackServer):
    """``with FaultServer(fault_rate=0.3) as srv: OpenAI(base_url=srv.base_url, ...)``."""

    force_exit = True  # held-open requests must not delay a stop

    def __init__(self, *, fault_rate: float = 0.0, faults: tuple[str, ...] = FAULTS, retry_after: str = "1",
                 slow_seconds: float = 1.0, seed: int = 0, required_key: str | None = None,
                 verdict: Callable[[list[dict[str, Any]]], str] = default_verdict,
                 first_faults: list[str] | None = None,
                 content: Callable[[list[dict[str, Any]], str], str] | None = None, echo_auth: bool = False):
        self.fault_rate, self.faults, self.retry_after = fault_rate, tuple(faults), retry_after
        self.slow_seconds, self.required_key, self.verdict = slow_seconds, required_key, verdict
        self.content = content  # (messages, verdict) -> reply text; default: reasoning + [[verdict]]
        self.echo_auth = echo_auth  # a careless server: the reply quotes the Authorization header and the URL
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._first = list(first_faults or [])  # faults for the first requests, in order
        self.requests = 0
        self.outcomes: Counter[str] = Counter()
        self.served: Counter[str] = Counter()  # message digest -> successful responses
        self.arrivals: list[float] = []
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset_counts(self) -> None:
        with self._lock:
            self.requests = 0
            self.outcomes.clear()
            self.served.clear()
            self.arrivals.clear()

    def _pick_fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            self.arrivals.append(time.monotonic())
            if self._first:
                return self._first.pop(0) or None
            if self._rng.random() < self.fault_rate:
                return self._rng.choice(self.faults)
            return None

    async def _chat(self, request: Request):
        from starlette.responses import JSONResponse, Response

        body = await request.json()
        if self.required_key is not None:
            auth = request.headers.get("authorization", "")
            if auth != f"Bearer {self.required_key}":
                given = auth.removeprefix("Bearer ")
                # Like some real servers, echo the rejected key back in the error text.
                return JSONResponse({"error": {"message": f"Incorrect API key provided: {given}", "type": "invalid_request_error",
                                               "code": "invalid_api_key"}}, status_code=401)
        fault = self._pick_fault()
        with self._lock:
            self.outcomes[fault or "ok"] += 1
        if fault == "429":
            return JSONResponse({"error": {"message": "Rate limit reached", "type": "requests"}}, status_code=429,
                                headers={"retry-after": self.retry_after})
        if fault == "500":
            return JSONResponse({"error": {"message": "The server had an error"}}, status_code=500)
        if fault == "drop":
            return _DroppedResponse()
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        if fault == "malformed":
            with self._lock:
                variant = self._rng.randrange(3)
            if variant == 0:
                return Response('{"id": "chatcmpl-1", "choices": [{"message": ', media_type="application/json")
            if variant == 1:
                return JSONResponse({"id": "chatcmpl-1", "object": "chat.completion"})
            return JSONResponse({"id": "chatcmpl-1", "choices": [{"index": 0, "message": {"role": "assistant"}}]})
        messages = body["messages"]
        verdict = self.verdict(messages)
        content = f"Both replies address the request; weighing accuracy and focus.\nMy final verdict is: [[{verdict}]]"
        if self.content is not None:
            content = self.content(messages, verdict)
        if self.echo_auth:
            content = (f"You sent {request.headers.get('authorization', '')} to {request.url}.\n" + content)
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        if body.get("logprobs") and self.content is None and not self.echo_auth:
            choice["logprobs"] = {"content": tokens_with_logprobs(content, int(body.get("top_logprobs") or 0), verdict)}
        prompt_tokens = sum(len(m["content"]) for m in messages) // 4
        with self._lock:
            self.served[message_digest(messages)] += 1
        return JSONResponse({"id": "chatcmpl-" + message_digest(messages)[:12], "object": "chat.completion",
                             "created": int(time.time()), "model": body["model"], "choices": [choice],
                             "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 25,
                                       "total_tokens": prompt_tokens + 25}})


class _DroppedResponse:
    """Promises a body, sends part of it, then gives up: the client sees the connection drop."""

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"id": "chatcmpl-', "more_body": True})
        raise ConnectionAbortedError("connection dropped on purpose")
