"""A language model's own likelihood as judge: ``likelihood:MODEL``.

Each answer is scored by the scoring engine as the continuation of the prompt in the
model's chat template (the user turn, then the opened assistant turn), the way DPO-style
pipelines read a policy's log-likelihood as an implicit reward. The judge prefers the
answer with the higher mean per-token log-probability (``normalize="mean"``, the default)
or the higher total log-probability (``normalize="none"``). The difference of the two
scores becomes a verdict distribution through the ordered logistic link of
``score_link`` with a stated scale:

- mean per-token: scale 0.25 nats per token per logit by default, so answers 0.5 nats per
  token apart get a strong verdict about half the time;
- total: scale 1 nat per logit by default, so sigmoid(difference) is exactly the share of
  the two answers' joint probability that falls on A.

Each answer is scored alone, so the judge has no position bias by construction; both
orders are still judged (the engine scores identical requests once, so this costs nothing).
"""

from __future__ import annotations

import json
from typing import Any

from judgeaudit.judges.protocol import BaseJudge, Judgment, JudgeRequest
from judgeaudit.judges.score_link import LINK_DESCRIPTION, check_scale, difference_to_probs

NORMALIZATIONS = ("mean", "none")
DEFAULT_SCALE = {"mean": 0.25, "none": 1.0}


def chat_context(tokenizer: Any, prompt: str) -> str:
    """The text before the assistant's answer: the chat template's user turn and assistant opener."""
    messages = [{"role": "user", "content": prompt}]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return f"User: {prompt}\n\nAssistant:"


class LikelihoodJudge(BaseJudge):
    # One model in this process: batches run one after another.
    parallel_batches = False

    def __init__(self, model: Any = "smollm2", *, normalize: str = "mean", scale: float | None = None,
                 dtype: str = "auto", device: str = "auto", batch_size: int | None = None,
                 trust_remote_code: bool = False, progress: bool = False):
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"likelihood judge: normalize must be one of {', '.join(NORMALIZATIONS)}, got {normalize!r}")
        if isinstance(model, str):
            from judgeaudit.models.loading import load_model

            model = load_model(model, dtype=dtype, device=device, trust_remote_code=trust_remote_code)
        self.lm = model
        self.model_name = str(getattr(model, "name", "local"))
        self.normalize = normalize
        self.scale = check_scale(scale, "likelihood judge") or DEFAULT_SCALE[normalize]
        self.name = f"likelihood:{self.model_name}" + ("?normalize=none" if normalize == "none" else "")
        # Large batches let the engine score each item's shared answers once for all its pairs.
        self.batch_size = int(batch_size or 128)
        self.progress = progress
        self._engine = None

    @property
    def identity(self) -> dict:
        return {"name": self.name, "kind": "likelihood", "model": self.model_name, "normalize": self.normalize,
                "scale": self.scale, "dtype": str(getattr(self.lm, "dtype", ""))}

    @property
    def notes(self) -> list[str]:
        unit = "nats per token" if self.normalize == "mean" else "nats"
        score = "mean per-token" if self.normalize == "mean" else "total"
        return [f"likelihood judge: score = {score} log-probability of the answer given the prompt under "
                f"{self.model_name}; {LINK_DESCRIPTION}; scale {self.scale:g} {unit} per logit",
                "pointwise judge: each answer is scored alone, so position cannot matter; both orders are "
                "still judged as a check (position consistency should be 1)"]

    def request_for(self, prompt: str, answer: str) -> tuple[str, str]:
        """The (context, continuation) the engine scores for one answer (as `judgeaudit score` reads them)."""
        return chat_context(self.lm.tokenizer, prompt), answer

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        if not requests:
            return []
        if self._engine is None:
            from judgeaudit.engine.loglikelihood import LoglikelihoodEngine

            self._engine = LoglikelihoodEngine(self.lm, progress=self.progress)
        scoring = []
        for req in requests:
            scoring += [self.request_for(req.prompt, req.answer_a), self.request_for(req.prompt, req.answer_b)]
        results = self._engine.loglikelihood(scoring, desc="likelihood")
        out = []
        for k in range(len(requests)):
            a, b = results[2 * k], results[2 * k + 1]
            raw = {"logprob_a": a.logprob, "tokens_a": a.n_tokens, "logprob_b": b.logprob, "tokens_b": b.n_tokens}
            if self.normalize == "mean" and (a.n_tokens == 0 or b.n_tokens == 0):
                # An empty answer has no per-token mean: no verdict rather than an invented one.
                out.append(Judgment.unparsed(json.dumps(raw)))
                continue
            score_a = a.logprob / a.n_tokens if self.normalize == "mean" else a.logprob
            score_b = b.logprob / b.n_tokens if self.normalize == "mean" else b.logprob
            raw["difference"] = score_a - score_b
            out.append(Judgment(probs=difference_to_probs(score_a - score_b, self.scale), raw=json.dumps(raw),
                                parsed=True))
        return out
