"""Log-likelihood requests, their tokenization (lm-evaluation-harness parity) and results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class LoglikelihoodResult:
    logprob: float  # summed log-probability of the continuation tokens
    is_greedy: bool  # every continuation token is the model's argmax
    n_tokens: int  # continuation length in tokens


@dataclass(frozen=True)
class EncodedRequest:
    """Token ids the model reads before the continuation, and the continuation itself.

    The model reads ``prefix + continuation[:-1]``; the last prefix token predicts the
    first continuation token.
    """

    prefix: tuple[int, ...]
    continuation: tuple[int, ...]


def _encode(tokenizer: Any, text: str) -> list[int]:
    # As lm-evaluation-harness: the tokenizer's own special-token default, except that a
    # text already starting with the BOS string does not get a second one.
    bos = tokenizer.bos_token
    kwargs = {"add_special_tokens": False} if bos and text.startswith(bos) else {}
    return list(tokenizer.encode(text, **kwargs))


def prefix_token_id(tokenizer: Any) -> int:
    """What an empty context is replaced by: BOS, else EOS (as lm-evaluation-harness)."""
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def encode_request(tokenizer: Any, context: str, continuation: str, max_length: int) -> EncodedRequest:
    """Tokenize one (context, continuation) request exactly as lm-evaluation-harness does.

    Trailing whitespace of the context moves to the front of the continuation; the
    continuation tokens are those of tok(context + continuation) past len(tok(context)),
    so merges across the boundary are scored as the harness scores them. A context that
    is empty then (empty or whitespace only) is replaced by the prefix token. Inputs longer
    than the window are truncated from the left. An empty continuation has no tokens to
    score (its log-probability would read as certain): ValueError.
    """
    if continuation == "":
        raise ValueError("empty continuation: there is nothing to score")
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    ctx: list[int] = _encode(tokenizer, context) if context else []
    if not ctx:
        cont = list(tokenizer.encode(continuation, add_special_tokens=False))
        pid = prefix_token_id(tokenizer)
        ctx, cont = ([pid], cont) if not cont or pid != cont[0] else (cont[:1], cont[1:])
    else:
        whole = _encode(tokenizer, context + continuation)
        cont = whole[len(ctx):]
    if not cont:
        raise ValueError(f"continuation {continuation[:40]!r} has no tokens of its own to score")
    if len(ctx) + len(cont) - 1 > max_length:
        if len(cont) > max_length:
            raise ValueError(f"continuation of {len(cont)} tokens exceeds the model window of {max_length}")
        full = (ctx + cont)[-(max_length + 1):]
        ctx = full[: len(full) - len(cont)]
    return EncodedRequest(tuple(ctx), tuple(cont))


def encode_requests(tokenizer: Any, requests: Sequence[tuple[str, str]], max_length: int) -> list[EncodedRequest]:
    return [encode_request(tokenizer, c, x, max_length) for c, x in requests]
