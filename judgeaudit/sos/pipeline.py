"""The whole SOS-Bench run as one library call: specs -> records -> scores -> result files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from judgeaudit.engine.distributed import Ranks, barrier
from judgeaudit.models.loading import LoadedModel
from judgeaudit.runstore import RunStore, default_run_dir, write_json_atomic
from judgeaudit.sos.aggregate import BenchmarkScore, FactorScore, score_benchmark, score_factors
from judgeaudit.sos.data import DataSource
from judgeaudit.sos.result_documents import lm_eval_document, results_document
from judgeaudit.sos.document_scoring import Generator, Scorer, SosOptions, SosRunner, model_identity
from judgeaudit.sos.spec import BenchmarkSpec, load_specs, select_specs

LM_EVAL_RESULTS = "results_lm_eval.json"


@dataclass
class SosRun:
    results: dict[str, Any] | None  # None on ranks other than 0 of a multi-process run
    scores: list[BenchmarkScore]
    factors: list[FactorScore]
    store: RunStore
    scored_now: int


def default_sos_dir(model_spec: str, source: DataSource) -> Path:
    """runs/sos-<model>[-fixtures]: one directory per model and data source, so a rerun resumes."""
    return default_run_dir(model_spec, prefix="sos-", suffix="-fixtures" if source.kind == "fixtures" else "",
                           timestamped=False)


def run_sos(lm: LoadedModel, out: str | Path, *, tasks: str | Sequence[BenchmarkSpec] = "all",
            options: SosOptions = SosOptions(), scorer: Scorer | None = None, generator: Generator | None = None,
            report: Callable[[str], None] = print, progress: bool = True, ranks: Ranks | None = None) -> SosRun:
    """Score ``lm`` (a LoadedModel) on the selected benchmarks into the run directory ``out``.

    Under torchrun (``ranks`` with world > 1) every rank calls this; documents are shared
    out, and only rank 0 writes and returns the results (the others' ``results`` is None).
    """
    ranks = ranks or Ranks()
    specs = select_specs(load_specs(), tasks) if isinstance(tasks, str) else list(tasks)
    identity = model_identity(lm)
    if ranks.is_main:  # one writer of config.json and records.jsonl
        store = RunStore(out)
        store.init_config({**identity, "data_source": options.source.kind, "data_dir": options.source.directory,
                           "seed": options.seed, "tasks": [s.name for s in specs], "limit": options.limit},
                          identity_keys=["model", "dtype", "data_source", "data_dir", "seed"])
    barrier(ranks)
    if not ranks.is_main:
        store = RunStore(out)
    runner = SosRunner(lm, store, options, scorer=scorer, generator=generator, report=report, progress=progress,
                       ranks=ranks)
    outcomes = runner.run(specs)
    if not ranks.is_main:
        return SosRun(None, [], [], store, runner.scored)
    scores = [score_benchmark(o, seed=options.seed, n_resamples=options.n_resamples) for o in outcomes]
    factors = score_factors(scores)
    doc = results_document(identity, outcomes, scores, factors, source=options.source.describe(),
                           n_resamples=options.n_resamples, seed=options.seed, limit=options.limit)
    store.write_results(doc)
    write_json_atomic(store.dir / LM_EVAL_RESULTS, lm_eval_document(identity, outcomes, scores))
    return SosRun(doc, scores, factors, store, runner.scored)
