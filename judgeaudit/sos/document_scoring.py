"""Score a model on SOS-Bench benchmarks, one record per document in a RunStore.

Multiple-choice subtasks go through the log-likelihood engine (all choices of a document
share its context); generative ones through ``judgeaudit.engine.generation.generate`` and
the benchmark's grader. Every scored document is appended to ``records.jsonl`` under a key
that hashes model, subtask definition, position and content, so an interrupted run picks
up where it stopped and a resumed run never scores a document twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from judgeaudit.models.loading import LoadedModel
from judgeaudit.contracts import SosRecord, validate_line
from judgeaudit.errors import InputError
from judgeaudit.runstore import RunStore, content_hash
from judgeaudit.sos.data import DataSource, DataUnavailable, load_subtask_data
from judgeaudit.sos.prompts import ContextBuilder, MCItem, PromptItem
from judgeaudit.sos.spec import BenchmarkSpec, SubtaskSpec


class Scorer(Protocol):
    def loglikelihood(self, requests: Sequence[tuple[str, str]], desc: str = ...) -> list[Any]: ...


Generator = Callable[..., list[str]]  # (prompts, *, max_new_tokens, stop, chat) -> outputs


@dataclass(frozen=True)
class SosOptions:
    source: DataSource = DataSource()
    limit: int | None = None
    seed: int = 1234  # few-shot/option shuffles (GPQA) and bootstrap
    n_resamples: int = 1000
    chunk_docs: int = 32  # documents scored between two appends to the run store
    generation_chunk_docs: int = 64  # generative documents decoded together (and appended together)
    generation_batch_size: int | None = None  # rows decoded together (default: by device, under a token budget)
    max_new_tokens: int | None = None  # caps every generative spec's max_new_tokens (quick runs)


@dataclass
class SubtaskOutcome:
    spec: SubtaskSpec
    records: list[SosRecord] = field(default_factory=list)
    missing: str | None = None  # why its data or grader could not be had

    @property
    def n(self) -> int:
        return len(self.records)

    def values(self, metric: str) -> np.ndarray:
        return np.array([float(getattr(r, metric)) for r in self.records], dtype=float)


@dataclass
class BenchmarkOutcome:
    spec: BenchmarkSpec
    subtasks: list[SubtaskOutcome]
    grader: Any = None
    missing: str | None = None  # benchmark-wide reason (e.g. no grader)

    @property
    def reason(self) -> str | None:
        if self.missing:
            return self.missing
        gone = [s for s in self.subtasks if s.missing]
        if gone:
            if len(self.subtasks) == 1:
                return gone[0].missing
            return "; ".join(f"{s.spec.name}: {s.missing}" for s in gone)
        return None

    @property
    def complete(self) -> bool:
        return self.reason is None and all(s.n > 0 for s in self.subtasks)


def model_identity(lm: LoadedModel) -> dict[str, str]:
    return {"model": str(getattr(lm, "name", lm)), "dtype": str(getattr(lm, "dtype", ""))}


def doc_key(identity: dict[str, str], sub: SubtaskSpec, index: int, doc: dict[str, Any]) -> str:
    return content_hash({"identity": identity, "subtask": sub.name, "definition": sub.fingerprint,
                         "index": index, "doc": doc})


def _mc_record(key: str, sub: SubtaskSpec, item: MCItem, results: Sequence[Any]) -> dict[str, Any]:
    lls = np.array([r.logprob for r in results], dtype=float)
    lengths = np.array([float(len(c)) for c in item.choices])
    # As the harness: argmax takes the first maximum; acc_norm divides by characters.
    pred = int(np.argmax(lls))
    pred_norm = int(np.argmax(lls / lengths))
    return SosRecord(
        key=key, benchmark=sub.benchmark, subtask=sub.name, index=item.index,
        loglikelihoods=[float(x) for x in lls], is_greedy=[bool(r.is_greedy) for r in results],
        gold=item.gold, pred=pred, pred_norm=pred_norm,
        acc=float(pred in item.gold), acc_norm=float(pred_norm in item.gold),
    ).to_json()


def resolve_grader(spec: BenchmarkSpec) -> tuple[Any, str | None]:
    """The benchmark's grader, or (None, why it is not available)."""
    try:
        from judgeaudit.graders import get_grader
    except ImportError as exc:
        return None, f"graders are not installed ({exc})"
    try:
        return get_grader(spec.grader), None
    except (KeyError, ImportError, AttributeError) as exc:
        return None, f"grader {spec.grader!r} unavailable: {str(exc).strip(chr(34) + chr(39))}"


class SosRunner:
    """Runs benchmarks for one model into one run store."""

    def __init__(self, lm: LoadedModel, store: RunStore, options: SosOptions = SosOptions(), *,
                 scorer: Scorer | None = None, generator: Generator | None = None,
                 report: Callable[[str], None] = print, progress: bool = True, ranks: Any = None):
        self.lm = lm
        self.store = store
        self.options = options
        self.identity = model_identity(lm)
        self._scorer = scorer
        self._generator = generator
        self._generation_engine = None
        self.report = report
        self.progress = progress
        self.scored = 0  # documents computed in this process (not resumed)
        self._docsets: dict[str, Any] = {}  # subtask -> its test DocSet, to locate bad items
        self._sink = store  # where finished records go: the store, or this rank's shard of it
        if ranks is None:
            from judgeaudit.engine.distributed import Ranks

            ranks = Ranks()
        self.ranks = ranks

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            if getattr(self.lm, "is_remote", False):
                self._scorer = self.lm  # a served model scores by itself
            else:
                from judgeaudit.engine.loglikelihood import LoglikelihoodEngine

                self._scorer = LoglikelihoodEngine(self.lm, progress=False)
        return self._scorer

    def _generation_kwargs(self, gen: dict[str, Any]) -> dict[str, Any]:
        limit = int(gen.get("max_new_tokens", 256))
        if self.options.max_new_tokens is not None:
            limit = min(limit, self.options.max_new_tokens)
        return {"max_new_tokens": limit, "stop": list(gen.get("stop") or []), "chat": bool(gen.get("chat", False))}

    def generate_many(self, jobs: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Outputs of (prompt, generation settings) jobs; settings may differ from job to job.

        The local engine decodes them all in one call: a decoding step costs about the same
        for one row as for many, so rows from several subtasks and benchmarks share steps.
        """
        kwargs = [self._generation_kwargs(gen) for _, gen in jobs]
        local = self._generator is None and not getattr(self.lm, "is_remote", False)
        from judgeaudit.engine import generation_vllm

        if not local or generation_vllm.available():  # vLLM (GPU) is much faster for long generations
            outputs: list[str | None] = [None] * len(jobs)
            groups: dict[str, list[int]] = {}
            for i, kw in enumerate(kwargs):
                groups.setdefault(repr(sorted(kw.items())), []).append(i)
            for members in groups.values():
                prompts, kw = [jobs[i][0] for i in members], kwargs[members[0]]
                if self._generator is not None:
                    texts = self._generator(prompts, **kw)
                elif getattr(self.lm, "is_remote", False):
                    texts = self.lm.generate_texts(prompts, **kw)
                else:
                    texts = generation_vllm.generate(self.lm, prompts, progress=False, **kw)
                for i, text in zip(members, texts):
                    outputs[i] = text
            return outputs  # type: ignore[return-value]
        from judgeaudit.engine.generation import GenerationEngine, GenerationRequest, render_prompt

        if self._generation_engine is None:
            self._generation_engine = GenerationEngine(self.lm, max_batch_rows=self.options.generation_batch_size,
                                                       progress=False)
        requests = [GenerationRequest(render_prompt(self.lm.tokenizer, prompt, kw["chat"]),
                                      tuple(s for s in kw["stop"] if s), kw["max_new_tokens"])
                    for (prompt, _), kw in zip(jobs, kwargs)]
        return self._generation_engine.generate_until(requests)

    # -- preparation ----------------------------------------------------------------
    def _prepare(self, spec: BenchmarkSpec) -> tuple[BenchmarkOutcome, list[tuple[SubtaskOutcome, list]]]:
        outcome = BenchmarkOutcome(spec, [SubtaskOutcome(s) for s in spec.subtasks])
        plans: list[tuple[SubtaskOutcome, list]] = []
        if spec.output_type == "generate_until":
            outcome.grader, why = resolve_grader(spec)
            if why:
                outcome.missing = why
                return outcome, plans
        for sub_out in outcome.subtasks:
            sub = sub_out.spec
            try:
                data = load_subtask_data(sub, self.options.source)
            except DataUnavailable as exc:
                sub_out.missing = str(exc)
                continue
            if self.options.limit is not None:
                data.test.docs = data.test.docs[: self.options.limit]
            self._docsets[sub.name] = data.test
            builder = ContextBuilder(sub, data, seed=self.options.seed)
            items = builder.mc_items() if spec.output_type == "multiple_choice" else builder.prompt_items()
            identity = self.identity
            if spec.output_type == "generate_until" and self.options.max_new_tokens is not None:
                identity = {**identity, "max_new_tokens": str(self.options.max_new_tokens)}  # changes outputs
            plans.append((sub_out, [(doc_key(identity, sub, it.index, it.doc), it) for it in items]))
        return outcome, plans

    # -- scoring --------------------------------------------------------------------
    def _score_mc(self, sub: SubtaskSpec, todo: list[tuple[str, MCItem]]) -> None:
        requests, spans = [], []
        for _, item in todo:
            reqs = item.requests(sub.target_delimiter)
            spans.append((len(requests), len(requests) + len(reqs)))
            requests += reqs
        results = self.scorer.loglikelihood(requests, desc=sub.name)
        for (key, item), (a, b) in zip(todo, spans):
            self._sink.append(_mc_record(key, sub, item, results[a:b]))

    def _score_gen(self, entries: list[tuple[BenchmarkOutcome, SubtaskOutcome, str, PromptItem]]) -> None:
        """Generate for documents of one or more generative subtasks together, then grade each."""
        from judgeaudit.graders import GraderInputError

        outputs = self.generate_many([(item.prompt, dict(sub_out.spec.generation)) for _, sub_out, _, item in entries])
        for (outcome, sub_out, key, item), text in zip(entries, outputs):
            sub = sub_out.spec
            try:
                metrics = outcome.grader.score(item.doc, text)
            except GraderInputError as exc:
                origin, line = self._docsets[sub.name].where(item.index)
                raise InputError(origin, str(exc), line=line, field=exc.field) from None
            self._sink.append(SosRecord(key=key, benchmark=sub.benchmark, subtask=sub.name, index=item.index,
                                        output=text, metrics=dict(metrics)).to_json())

    def run(self, specs: Sequence[BenchmarkSpec]) -> list[BenchmarkOutcome]:
        """Score what is not yet in the store; under torchrun each rank takes every N-th chunk.

        With several ranks, each appends to its own shard of the run directory; after all
        are done rank 0 merges the shards in plan order (so the records equal a one-process
        run's) and only rank 0's outcomes carry records.
        """
        from judgeaudit.console import progress_bar
        from judgeaudit.engine import distributed

        ranks = self.ranks
        prepared = [self._prepare(spec) for spec in specs]
        if ranks.is_main:
            for outcome, _ in prepared:
                if outcome.reason:
                    self.report(f"{outcome.spec.name}: missing ({outcome.reason})")
        done = distributed.done_keys(self.store)  # shards left by a stopped multi-rank run count as done
        step = self.options.chunk_docs
        # Units in plan order: a multiple-choice unit is (outcome, subtask outcome, chunk of
        # (key, item)); generative documents of all subtasks form mixed chunks of
        # (outcome, subtask outcome, key, item), so their decoding steps are shared.
        units: list[tuple[Any, Any, list]] = []
        generative: list[tuple[Any, Any, str, Any]] = []
        for outcome, plans in prepared:
            for sub_out, items in plans:
                todo = [(k, it) for k, it in items if k not in done]
                if outcome.spec.output_type == "multiple_choice":
                    units += [(outcome, sub_out, todo[i:i + step]) for i in range(0, len(todo), step)]
                else:
                    generative += [(outcome, sub_out, k, it) for k, it in todo]
        gstep = self.options.generation_chunk_docs
        units += [(None, None, generative[i:i + gstep]) for i in range(0, len(generative), gstep)]
        # Every rank must plan from the same `done` before any rank writes a record.
        distributed.barrier(ranks)
        mine = ranks.shard(units)
        self._sink = distributed.ShardStore(self.store.dir, ranks.rank) if ranks.distributed else self.store
        total = sum(len(chunk) for _, _, chunk in mine)
        with progress_bar("SOS-Bench", total=total, enabled=self.progress and ranks.is_main) as advance:
            for outcome, sub_out, chunk in mine:
                if outcome is not None:
                    self._score_mc(sub_out.spec, chunk)
                else:
                    self._score_gen(chunk)
                self.scored += len(chunk)
                advance(len(chunk))
        distributed.barrier(ranks)
        if ranks.is_main:
            order = [k for _, plans in prepared for _, items in plans for k, _ in items]
            distributed.merge_shards(self.store, order)
        distributed.barrier(ranks)
        if not ranks.is_main:
            return [outcome for outcome, _ in prepared]
        by_key = {r["key"]: r for r in self.store.iter_records()}
        records_path = self.store.records_path
        for outcome, plans in prepared:
            for sub_out, items in plans:
                sub_out.records = [validate_line(SosRecord, by_key[k], records_path) for k, _ in items if k in by_key]
        return [outcome for outcome, _ in prepared]
