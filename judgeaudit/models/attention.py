"""Running a transformers model's attention through a function of ours, for one block of code.

transformers looks a layer's attention function up by ``config._attn_implementation`` in
its AttentionInterface at every call, so registering a function under a name and setting
that name for the duration of a forward pass swaps the attention without touching the
model. Only plain SDPA/eager models are swapped: a special kernel the model was loaded
with (flash attention, paged attention) is kept.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

REPLACEABLE = (None, "sdpa", "eager")


def replaceable(model: Any) -> bool:
    """Whether the model's attention is plain SDPA or eager."""
    return getattr(model.config, "_attn_implementation", None) in REPLACEABLE


@contextmanager
def attention_implementation(model: Any, name: str, function: Callable[..., Any]) -> Iterator[None]:
    """Inside the block, the model's attention layers call ``function`` (registered as ``name``)."""
    from transformers import AttentionInterface

    if name not in AttentionInterface._global_mapping:
        AttentionInterface.register(name, function)
    config = model.config
    before = config._attn_implementation
    config._attn_implementation = name
    try:
        yield
    finally:
        config._attn_implementation = before
