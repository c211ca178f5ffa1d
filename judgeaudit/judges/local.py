"""A local open-weight model as judge, in logprob mode (default) or generative mode.

Logprob mode: the judge prompt goes through the model's chat template, the assistant
turn is started with the template's verdict prefix (ending in ``[[``), and the five
verdict continuations (``A>>B]]`` ... ``B>>A]]``) are scored on that one shared context
by the scoring engine; their probabilities, normalized over the five, are the verdict
distribution. The closing brackets make the five continuations disjoint events.
The factor-wise template adds one context per criterion, ending in e.g.
``Correctness: ((`` and scored with ``A>B))`` etc. Each context stands alone (no earlier
criterion lines are filled in), so all contexts of a batch are scored in one pass.
Single-answer grading scores ``1]]`` ... ``10]]`` after ``Rating: [[`` for each answer.
The judge writes no reasoning in this mode; that is what makes it one forward pass.

Generative mode: greedy generation from the same chat prompt, then verdict parsing of
what the model wrote. With ``prefill=True`` the assistant turn starts with the verdict
opener (the first logprob context's prefix) and only a few tokens are generated: the
model then states its verdict without reasoning first, which small models need to produce
a parseable verdict at all.
"""

from __future__ import annotations

from typing import Any

from judgeaudit.judges.prompting import Template, load_template
from judgeaudit.judges.protocol import BaseJudge, Judgment, JudgeRequest
from judgeaudit.models.loading import LoadedModel

MODES = ("logprob", "generative")


class LocalJudge(BaseJudge):
    # One model in this process: batches run one after another, never in threads.
    parallel_batches = False

    def __init__(self, model: LoadedModel | str = "smollm2", *, template: str | Template = "pairwise", mode: str = "logprob",
                 dtype: str = "auto", device: str = "auto", max_new_tokens: int | None = None,
                 batch_size: int | None = None,
                 trust_remote_code: bool = False, progress: bool = False, prefill: bool = False,
                 api_base: str | None = None, api_key_env: str | None = None):
        if mode not in MODES:
            raise ValueError(f"unknown local judge mode {mode!r}; expected one of {', '.join(MODES)}")
        if isinstance(model, str):
            from judgeaudit.models.loading import load_lm

            model = load_lm(model, api_base=api_base, api_key_env=api_key_env, dtype=dtype, device=device,
                            trust_remote_code=trust_remote_code)
        self.lm: LoadedModel = model
        self.name = str(getattr(model, "name", "local"))
        self.template = template if isinstance(template, Template) else load_template(template)
        self.mode = mode
        self.prefill = bool(prefill)
        default_new = (96 if self.template.kind == "factorwise" else 12) if self.prefill else min(self.template.max_tokens, 512)
        self.max_new_tokens = int(max_new_tokens or default_new)
        # Logprob batches are large so the engine can share the instructions, and each
        # item's request and first answer, across many judgments in one call.
        self.batch_size = int(batch_size or (64 if mode == "logprob" else 16))
        self.progress = progress
        self._engine = None

    @property
    def template_name(self) -> str:
        return self.template.name

    @property
    def identity(self) -> dict:
        ident = {"name": self.name, "mode": self.mode, "template": self.template.identity,
                 "dtype": str(getattr(self.lm, "dtype", ""))}
        if self.mode == "generative":
            ident["max_new_tokens"] = self.max_new_tokens
            ident["prefill"] = self.prefill
        return ident

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        """The text the model sees before its own turn."""
        tok = self.lm.tokenizer
        if getattr(tok, "chat_template", None):
            return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        parts = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
        return "\n\n".join(parts) + "\n\nAssistant: "

    def judge_batch(self, requests: list[JudgeRequest]) -> list[Judgment]:
        if not requests:
            return []
        return self._logprob(requests) if self.mode == "logprob" else self._generative(requests)

    def _logprob(self, requests: list[JudgeRequest]) -> list[Judgment]:
        if self._engine is None:
            if getattr(self.lm, "is_remote", False):
                self._engine = self.lm  # a served model (openai-completions:NAME) scores by itself
            else:
                from judgeaudit.engine.loglikelihood import LoglikelihoodEngine

                self._engine = LoglikelihoodEngine(self.lm, progress=self.progress)
        queries = self.template.logprob_queries()
        scoring: list[tuple[str, str]] = []
        layout = []  # per request: per conversation: per query: slice start
        for req in requests:
            per_conv = []
            for messages in self.template.conversations(req):
                chat = self.chat_prompt(messages)
                starts = {}
                for q in queries:
                    starts[q.name] = len(scoring)
                    scoring.extend((chat + q.prefix, c) for c in q.continuations)
                per_conv.append(starts)
            layout.append(per_conv)
        results = self._engine.loglikelihood(scoring, desc="judging")
        out = []
        for per_conv in layout:
            scores = []
            for starts in per_conv:
                scores.append({q.name: {label: results[starts[q.name] + k].logprob for k, label in enumerate(q.labels)}
                               for q in queries})
            out.append(self.template.judgment_from_logprobs(scores))
        return out

    def _generative(self, requests: list[JudgeRequest]) -> list[Judgment]:
        from judgeaudit.engine.generation import generate

        # The opener is part of the judge's own turn, so it is parsed together with what follows.
        # Factor-wise: open the first criterion line and let the model write the rest.
        queries = self.template.logprob_queries()
        opener = "" if not self.prefill else queries[1 if self.template.kind == "factorwise" else 0].prefix
        prompts, owners = [], []
        for i, req in enumerate(requests):
            for messages in self.template.conversations(req):
                prompts.append(self.chat_prompt(messages) + opener)
                owners.append(i)
        if getattr(self.lm, "is_remote", False):
            texts = self.lm.generate_texts(prompts, max_new_tokens=self.max_new_tokens, chat=False)
        else:
            texts = generate(self.lm, prompts, max_new_tokens=self.max_new_tokens, chat=False,
                             batch_size=self.batch_size, progress=self.progress)
        grouped: list[list[str]] = [[] for _ in requests]
        for owner, text in zip(owners, texts):
            grouped[owner].append(opener + text)
        return [self.template.judgment_from_texts(g) for g in grouped]
