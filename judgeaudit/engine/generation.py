"""Batched greedy generation with stop sequences, on transformers.

Prompts are sorted by length and left-padded in batches (less padding, the same
outputs); each output is cut at the first stop string. With ``chat=True`` each prompt
becomes one user message rendered through the tokenizer's chat template.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from judgeaudit.console import progress_bar


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


@torch.inference_mode()
def generate(lm: Any, prompts: Sequence[str], *, max_new_tokens: int = 256, stop: Sequence[str] | None = None,
             chat: bool = False, batch_size: int = 8, progress: bool = True, desc: str = "generating") -> list[str]:
    """Greedy continuations of ``prompts`` (already rendered unless ``chat``), cut at ``stop``."""
    tok, model = lm.tokenizer, lm.model
    texts = [render_prompt(tok, p, chat) for p in prompts]
    # Chat templates already hold the special tokens; plain prompts follow the tokenizer default.
    add_special = not chat
    lengths = [len(tok.encode(t, add_special_tokens=add_special)) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    outputs: list[str] = [""] * len(texts)
    pad_side = tok.padding_side
    tok.padding_side = "left"
    stop_list = [s for s in (stop or []) if s]
    try:
        with progress_bar(desc, total=len(texts), enabled=progress) as advance:
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                window = max(1, lm.max_length - max_new_tokens)
                enc = tok([texts[i] for i in idx], return_tensors="pt", padding=True, truncation=True,
                          max_length=window, add_special_tokens=add_special)
                kwargs: dict[str, Any] = dict(max_new_tokens=max_new_tokens, do_sample=False,
                                              pad_token_id=tok.pad_token_id, num_beams=1)
                if stop_list:
                    kwargs.update(stop_strings=stop_list, tokenizer=tok)
                out = model.generate(**{k: v.to(lm.device) for k, v in enc.items()}, **kwargs)
                new = out[:, enc["input_ids"].shape[1]:]
                for row, i in enumerate(idx):
                    outputs[i] = cut_at_stop(tok.decode(new[row], skip_special_tokens=True), stop_list)
                advance(len(idx))
    finally:
        tok.padding_side = pad_side
    return outputs
