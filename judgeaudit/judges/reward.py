"""A reward model as judge: ``reward:SPEC`` (a HF sequence-classification model, hub id or directory).

Each answer, with its prompt, goes through the reward model's chat template (user turn,
assistant turn) and gets one scalar reward. The pair's verdict distribution comes from
the reward difference through the ordered logistic link of ``score_link``; ``scale``
(``--reward-scale``, default 1: the Bradley-Terry link reward models are trained under)
is the reward difference worth one logit, and the run states it. Texts are batched by the
scoring engine's token budget (longest first; an out-of-memory error halves the budget).

A reward model scores answers one at a time, so position cannot matter; both orders are
still judged as a check of the plumbing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judgeaudit.errors import ModelUnavailable
from judgeaudit.judges.protocol import BaseJudge, Judgment, JudgeRequest
from judgeaudit.judges.score_link import LINK_DESCRIPTION, check_scale, difference_to_probs

DEFAULT_SCALE = 1.0
DEFAULT_BATCH_TOKENS = {"cpu": 4096, "cuda": 65536}


@dataclass
class _Row:
    """One text to score; ``length`` is what the engine's batcher reads."""

    index: int
    ids: list[int]

    @property
    def length(self) -> int:
        return len(self.ids)


def load_reward_model(spec: str, *, dtype: str = "auto", device: str = "auto", trust_remote_code: bool = False):
    """(model, tokenizer, device) for a sequence-classification reward model with one output."""
    import torch  # noqa: F401
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from judgeaudit.models.loading import pick_device, pick_dtype

    path = Path(spec).expanduser()
    local = path.is_dir()
    if local and not (path / "config.json").exists():
        raise ModelUnavailable(f"reward model '{spec}': directory has no config.json (not a transformers checkpoint)")
    if not local and (path.exists() or spec.startswith((".", "/", "~"))):
        raise ModelUnavailable(f"reward model '{spec}': not a directory or a hub id")
    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    dev = pick_device(device)
    dt = pick_dtype(dtype, dev)
    source = str(path) if local else spec
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code,
                                                  local_files_only=local or offline)
        model = AutoModelForSequenceClassification.from_pretrained(
            source, dtype=dt, trust_remote_code=trust_remote_code, local_files_only=local or offline)
    except (OSError, ValueError) as exc:
        if not local and isinstance(exc, OSError):
            raise ModelUnavailable(f"reward model '{spec}': not in the local Hugging Face cache and the hub cannot "
                                   f"be reached; download it where there is network or pass a directory") from None
        raise ModelUnavailable(f"reward model '{spec}': cannot load: {exc}".splitlines()[0]) from None
    if model.config.num_labels != 1:
        raise ModelUnavailable(f"reward model '{spec}': the classification head has {model.config.num_labels} "
                               f"outputs; a reward model has exactly one")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model.config.pad_token_id is None:
        # The classifier reads the last non-padding token, which it finds by this id.
        model.config.pad_token_id = tokenizer.pad_token_id
    model.to(dev)
    model.eval()
    return model, tokenizer, dev


class RewardJudge(BaseJudge):
    parallel_batches = False

    def __init__(self, model: Any, *, scale: float | None = None, dtype: str = "auto", device: str = "auto",
                 tokenizer: Any = None, max_batch_tokens: int | None = None, batch_size: int = 64,
                 max_length: int | None = None, trust_remote_code: bool = False, name: str | None = None):
        if isinstance(model, str):
            self.model_name = model
            model, tokenizer, dev = load_reward_model(model, dtype=dtype, device=device,
                                                      trust_remote_code=trust_remote_code)
        else:
            if tokenizer is None:
                raise ValueError("RewardJudge: a model object needs its tokenizer")
            self.model_name = name or type(model).__name__
            dev = next(model.parameters()).device
        self.model, self.tokenizer, self.device = model, tokenizer, dev
        self.scale = check_scale(scale, "reward judge") or DEFAULT_SCALE
        self.name = f"reward:{self.model_name}"
        self.batch_size = int(batch_size)
        self.max_batch_tokens = int(max_batch_tokens or DEFAULT_BATCH_TOKENS.get(dev.type, 8192))
        from judgeaudit.models.loading import resolve_max_length

        self.max_length = int(max_length or resolve_max_length(model.config, tokenizer))
        self.oom_backoffs = 0

    @property
    def identity(self) -> dict:
        return {"name": self.name, "kind": "reward", "scale": self.scale, "dtype": str(self.model.dtype),
                "max_length": self.max_length}

    @property
    def notes(self) -> list[str]:
        return [f"reward judge: score = the reward model's scalar output for prompt + answer through its chat "
                f"template; {LINK_DESCRIPTION}; scale {self.scale:g} reward units per logit (--reward-scale)",
                "pointwise judge: each answer is scored alone, so position cannot matter; both orders are "
                "still judged as a check (position consistency should be 1)"]

    def text_for(self, prompt: str, answer: str) -> str:
        """What the reward model reads for one answer."""
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}], tokenize=False)
        return f"User: {prompt}\n\nAssistant: {answer}"

    def _encode(self, text: str) -> list[int]:
        bos = self.tokenizer.bos_token
        kwargs = {"add_special_tokens": False} if bos and text.startswith(bos) else {}
        ids = list(self.tokenizer.encode(text, **kwargs))
        # Too long: keep the end, where the answer is.
        return ids[-self.max_length:]

    def rewards(self, texts: list[str]) -> list[float]:
        """One reward per text; identical texts are scored once."""
        import torch

        from judgeaudit.engine.loglikelihood import MIN_BATCH_TOKENS, _is_oom
        from judgeaudit.engine.packing import batch_rows

        unique = list(dict.fromkeys(texts))
        rows = [_Row(i, self._encode(t)) for i, t in enumerate(unique)]
        scores: dict[int, float] = {}
        budget = self.max_batch_tokens
        pad = self.tokenizer.pad_token_id
        todo = rows
        while todo:
            try:
                for batch in batch_rows(todo, budget):
                    width = batch[0].length
                    ids = torch.full((len(batch), width), pad, dtype=torch.long)
                    mask = torch.zeros((len(batch), width), dtype=torch.long)
                    for r, row in enumerate(batch):
                        ids[r, :row.length] = torch.tensor(row.ids)
                        mask[r, :row.length] = 1
                    with torch.inference_mode():
                        logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
                    for row, value in zip(batch, logits[:, 0].float().cpu().tolist()):
                        scores[row.index] = value
            except Exception as exc:  # noqa: BLE001 - only OOM is handled
                if not _is_oom(exc) or budget <= MIN_BATCH_TOKENS:
                    raise
                budget //= 2
                self.oom_backoffs += 1
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
            todo = [r for r in todo if r.index not in scores]
        by_text = {t: scores[i] for i, t in enumerate(unique)}
        return [by_text[t] for t in texts]

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        if not requests:
            return []
        texts = []
        for req in requests:
            texts += [self.text_for(req.prompt, req.answer_a), self.text_for(req.prompt, req.answer_b)]
        values = self.rewards(texts)
        out = []
        for k in range(len(requests)):
            ra, rb = values[2 * k], values[2 * k + 1]
            raw = json.dumps({"reward_a": ra, "reward_b": rb})
            out.append(Judgment(probs=difference_to_probs(ra - rb, self.scale), raw=raw, parsed=True))
        return out
