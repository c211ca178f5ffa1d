"""Model rewrites of style steps: `judgeaudit probe --rewrite-with MODEL`.

A style pair whose one operator is rewritable (verbose and the tone operators), or a crossed
pair whose substance step is followed by one such operator, is restyled by a model instead
of the rules: the model gets the question and the text the operator would get, and a
request for that style (`data/rewrite_styles.yaml`). The rewrite is kept only when the
substance checker finds it unchanged against that text: the same assessment (facts present,
wrong values, refusal, constraint), every key-fact span and wrong value the same number of
times, and the same numbers. Otherwise the rule-based variant stays and the rejection is
counted with its reason.

The model is any judge-capable spec: an API model (the API judge's client, with its disk
cache, retries and concurrency), a local model (loaded like a local judge, greedy
generation), or a plugin `module:attribute` whose object has
`complete(messages: list[dict[str, str]]) -> str`. Each model reply is a record in the run's
`rewrites/records.jsonl`, keyed by a content hash of the model's identity and the request,
so an interrupted run resumes and a rerun asks nothing again.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Sequence

import yaml

from judgeaudit.errors import JudgeauditError
from judgeaudit.probes.answer_checks import assess_answer, substance_score
from judgeaudit.probes.operators import OPERATORS
from judgeaudit.probes.pairs import Pair, apply_probe
from judgeaudit.probes.text import count_span, numbers

REWRITABLE = ("verbose", "confident", "hedged", "friendly", "sarcastic", "authority")
DEFAULT_MAX_TOKENS = 768


class RewriteError(JudgeauditError):
    """The rewrite model cannot be used (wrong kind of spec, plugin without `complete`)."""


@functools.lru_cache(maxsize=1)
def rewrite_requests() -> dict[str, Any]:
    text = (resources.files("judgeaudit.probes") / "data" / "rewrite_styles.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def rewrite_messages(op: str, prompt: str, answer: str, keep: Sequence[str]) -> list[dict[str, str]]:
    spec = rewrite_requests()
    user = spec["user"].format(prompt=prompt.strip(), answer=answer.strip(), style=spec["styles"][op].strip(),
                               keep="; ".join(f'"{k}"' for k in keep) or "(none)")
    return [{"role": "system", "content": spec["system"].strip()}, {"role": "user", "content": user}]


# --- models --------------------------------------------------------------------------------

class _APIModel:
    def __init__(self, judge: Any, concurrency: int):
        self.judge, self.concurrency = judge, max(1, concurrency)
        self.name = judge.model
        self.identity = {"kind": "api", **judge.identity}

    def complete_each(self, conversations: list[list[dict[str, str]]], done: Callable[[int, str], None]) -> None:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self.judge.complete, m): i for i, m in enumerate(conversations)}
            for fut in as_completed(futures):
                done(futures[fut], str(fut.result().get("content") or ""))


class _LocalModel:
    chunk = 8

    def __init__(self, judge: Any, max_tokens: int, progress: bool):
        self.judge, self.max_tokens, self.progress = judge, max_tokens, progress
        self.name = judge.name
        self.identity = {"kind": "local", "name": judge.name, "dtype": str(getattr(judge.lm, "dtype", "")),
                         "max_new_tokens": max_tokens}

    def complete_each(self, conversations: list[list[dict[str, str]]], done: Callable[[int, str], None]) -> None:
        from judgeaudit.engine.generation import generate

        for start in range(0, len(conversations), self.chunk):
            part = conversations[start:start + self.chunk]
            texts = generate(self.judge.lm, [self.judge.chat_prompt(m) for m in part], max_new_tokens=self.max_tokens,
                             chat=False, batch_size=self.chunk, progress=False)
            for k, text in enumerate(texts):
                done(start + k, text)


class _PluginModel:
    def __init__(self, obj: Any, spec: str):
        self.obj, self.name = obj, str(getattr(obj, "name", None) or spec)
        self.identity = {"kind": "plugin", "name": self.name, **({"version": str(obj.version)}
                                                                  if getattr(obj, "version", None) else {})}

    def complete_each(self, conversations: list[list[dict[str, str]]], done: Callable[[int, str], None]) -> None:
        for i, messages in enumerate(conversations):
            done(i, str(self.obj.complete([dict(m) for m in messages])))


def make_rewriter(spec: str, *, api_base: str | None = None, api_key_env: str | None = None,
                  concurrency: int = 8, cache_dir: Any = None, max_tokens: int = DEFAULT_MAX_TOKENS,
                  progress: bool = True, seed: int = 0, **api_options: Any):
    """The rewrite model a spec names (the same specs as judges, except synthetic ones).
    ``api_options`` go to the API client (timeouts, retries) for API models."""
    from judgeaudit.judges import judge_kind, make_judge

    kind = judge_kind(spec, api_base)
    if kind == "synthetic":
        raise RewriteError(f"--rewrite-with {spec!r}: synthetic judges do not write text; use an API model, a "
                           "local model or a plugin with complete(messages)")
    if kind == "api":
        judge = make_judge(spec, api_base=api_base, api_key_env=api_key_env, concurrency=concurrency,
                           cache_dir=cache_dir, seed=seed, logprobs=False, max_tokens=max_tokens, temperature=0.0,
                           **api_options)
        return _APIModel(judge, concurrency)
    if kind == "plugin":
        from judgeaudit.judges.plugin import _import_target

        obj = _import_target(spec)
        if inspect.isclass(obj) or (callable(obj) and not callable(getattr(obj, "complete", None))):
            try:
                obj = obj()
            except TypeError as exc:
                raise RewriteError(f"--rewrite-with {spec!r}: calling the factory with no arguments failed "
                                   f"({exc})") from exc
        if not callable(getattr(obj, "complete", None)):
            raise RewriteError(f"--rewrite-with {spec!r} gives a {type(obj).__name__} without "
                               "complete(messages: list[dict[str, str]]) -> str")
        return _PluginModel(obj, spec)
    judge = make_judge(spec, mode="generative", max_new_tokens=max_tokens)
    return _LocalModel(judge, max_tokens, progress)


# --- checking --------------------------------------------------------------------------------

_FENCE = re.compile(r"^```[^\n]*\n(.*?)\n?```$", re.DOTALL)


def clean_reply(text: str) -> str:
    """The reply without surrounding whitespace, a code fence or matching quotes."""
    text = text.strip()
    m = _FENCE.match(text)
    if m:
        text = m.group(1).strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def check_rewrite(item: dict[str, Any], source: str, text: str) -> str | None:
    """None when `text` restyles `source` without touching its substance; else why not."""
    if not text.strip():
        return "empty reply"
    if text.strip() == source.strip():
        return "unchanged"
    before, after = assess_answer(item, source), assess_answer(item, text)
    if before != after:
        changed = [k for k, v in before.to_dict().items() if after.to_dict()[k] != v]
        return "changes the substance assessment (" + ", ".join(changed) + ")"
    for fact in item.get("key_facts") or []:
        for key in ("span", "wrong"):
            if count_span(text, fact[key]) != count_span(source, fact[key]):
                return f"changes how often a key fact's {key} appears"
    if numbers(text) != numbers(source):
        return "adds, drops or changes a number"
    return None


# --- applying --------------------------------------------------------------------------------

@dataclass
class RewriteSummary:
    model: str
    rewritable: int = 0
    kept: int = 0
    rejected: int = 0
    from_records: int = 0
    reasons: Counter = field(default_factory=Counter)
    by_operator: dict[str, Counter] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "rewritable_pairs": self.rewritable, "model_rewrites": self.kept,
                "rejected": self.rejected, "rule_based_fallbacks": self.rejected, "from_records": self.from_records,
                "rejection_reasons": dict(sorted(self.reasons.items())),
                "by_operator": {k: dict(v) for k, v in sorted(self.by_operator.items())}}


def rewrite_target(pair: Pair) -> tuple[str, str] | None:
    """(operator, text it was given) when the pair's last step can be a model rewrite."""
    ops = [step["op"] for step in pair.meta.get("ops", [])]
    if not ops or ops[-1] not in REWRITABLE or any(OPERATORS[o].kind != "substance" for o in ops[:-1]):
        return None
    if len(ops) == 1:
        return ops[-1], pair.base
    from judgeaudit.probes.batteries import Probe

    before = apply_probe(pair.item, Probe(pair.probe, "substance", tuple(ops[:-1]), ""), int(pair.meta.get("seed", 0)))
    return (ops[-1], before.perturbed) if isinstance(before, Pair) else None


def _keep(item: dict[str, Any], source: str) -> list[str]:
    out = []
    for fact in item.get("key_facts") or []:
        for key in ("span", "wrong"):
            if count_span(source, fact[key]) and fact[key] not in out:
                out.append(fact[key])
    return out


def apply_rewrites(pairs: Sequence[Pair], model: Any, store_dir: str | Path, *, progress: bool = True,
                   spec: str | None = None) -> tuple[list[Pair], RewriteSummary]:
    """The pairs with accepted model rewrites in place of rule-based style steps, and the counts."""
    from judgeaudit.console import progress_bar
    from judgeaudit.runstore import RunStore, content_hash

    store = RunStore(store_dir)
    known = {r["key"]: r for r in store.iter_records()}
    summary = RewriteSummary(spec or model.name)
    tasks: list[tuple[int, str, str, list[dict[str, str]], str]] = []
    for i, pair in enumerate(pairs):
        target = rewrite_target(pair)
        if target is None:
            continue
        op, source = target
        messages = rewrite_messages(op, pair.prompt, source, _keep(pair.item, source))
        key = content_hash({"rewriter": model.identity, "messages": messages})
        tasks.append((i, op, source, messages, key))
    summary.rewritable = len(tasks)
    todo = [t for t in tasks if t[4] not in known]
    summary.from_records = len(tasks) - len(todo)
    with progress_bar("rewriting", total=len(tasks), enabled=progress and bool(todo),
                      done=summary.from_records) as advance:
        def done(k: int, text: str) -> None:
            i, op, _, _, key = todo[k]
            record = {"key": key, "pair_id": pairs[i].pair_id, "op": op, "model": summary.model, "reply": text}
            store.append(record)
            known[key] = record
            advance(1)
        model.complete_each([t[3] for t in todo], done)

    out = list(pairs)
    for i, op, source, _, key in tasks:
        pair = pairs[i]
        text = clean_reply(known[key]["reply"])
        reason = check_rewrite(pair.item, source, text)
        counts = summary.by_operator.setdefault(op, Counter())
        if reason is not None:
            summary.rejected += 1
            summary.reasons[reason.split(" (")[0]] += 1
            counts["rejected"] += 1
            continue
        summary.kept += 1
        counts["kept"] += 1
        steps = [dict(s) for s in pair.meta["ops"]]
        steps[-1] = {"op": op, "kind": "style", "rewritten_by": summary.model}
        meta = {**pair.meta, "ops": steps, "rewrite": {"model": summary.model, "op": op, "key": key},
                "perturbed_score": substance_score(pair.item, text),
                "perturbed_assessment": assess_answer(pair.item, text).to_dict()}
        out[i] = replace(pair, perturbed=text, meta=meta)
    return out, summary
