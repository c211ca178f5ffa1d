"""`judgeaudit sos` and `judgeaudit correlate`: thin wrappers over judgeaudit.sos."""

from __future__ import annotations

from pathlib import Path

import click

from judgeaudit.cli.engine_cmds import remote_kwargs, remote_options
from judgeaudit.console import console as make_console


@click.command("sos")
@click.option("--model", "model_spec", default="smollm2", show_default=True,
              help="Model spec: smollm2, a HF hub id, a local directory, a .gguf file, or "
                   "openai-completions:NAME with --api-base.")
@click.option("--tasks", default="all", show_default=True,
              help="all, a factor (wk, if, safety), benchmark names, or a comma-separated mix.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Local exports: <subtask>.jsonl/.parquet (+ <subtask>.fewshot.jsonl) in each dataset's schema.")
@click.option("--fixtures", is_flag=True, help="Use the small built-in fixture items (offline demo and tests).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Score at most N documents per subtask.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run directory (default: runs/sos-<model>[-fixtures]); an existing one is resumed.")
@click.option("--dtype", default="auto", show_default=True, help="auto, float32, bfloat16 or float16.")
@click.option("--device", default="auto", show_default=True)
@click.option("--seed", default=1234, show_default=True, type=int, help="Seed for option shuffles and the bootstrap.")
@click.option("--n-resamples", default=1000, show_default=True, type=click.IntRange(min=10))
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=None,
              help="Cap generation length of generative benchmarks (quick runs; recorded in the run).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@remote_options
def sos(model_spec: str, tasks: str, data_dir: str | None, fixtures: bool, limit: int | None, out: str | None,
        dtype: str, device: str, seed: int, n_resamples: int, max_new_tokens: int | None, quiet: bool,
        api_base: str | None, api_key_env: str | None, concurrency: int, remote_batch: int) -> None:
    """Score a model on the SOS-Bench ground-truth benchmarks.

    Data parallel: `torchrun --nproc-per-node N -m judgeaudit sos ...` shares the documents
    out over N processes (one GPU each, or gloo on CPU); rank 0 merges and reports.
    """
    from judgeaudit.engine import distributed
    from judgeaudit.errors import InputError
    from judgeaudit.models.loading import load_lm
    from judgeaudit.sos.data import DataSource
    from judgeaudit.reports.sos import results_table
    from judgeaudit.sos.document_scoring import SosOptions
    from judgeaudit.sos.spec import load_specs, select_specs
    from judgeaudit.sos.pipeline import LM_EVAL_RESULTS, default_sos_dir, run_sos

    if fixtures and data_dir:
        raise InputError("--data-dir", "use either --fixtures or --data-dir, not both")
    source = DataSource("fixtures") if fixtures else DataSource("dir", data_dir) if data_dir else DataSource("hub")
    specs = select_specs(load_specs(), tasks)  # fails on a bad --tasks before the model loads
    console = make_console()
    err = make_console(stderr=True)
    ranks = distributed.init(device)
    lm = load_lm(model_spec, dtype=dtype, device=distributed.rank_device(device, ranks),
                 **remote_kwargs(api_base, api_key_env, concurrency, remote_batch))
    out_dir = Path(out) if out else default_sos_dir(model_spec, source)
    options = SosOptions(source=source, limit=limit, seed=seed, n_resamples=n_resamples,
                         max_new_tokens=max_new_tokens)
    try:
        run = run_sos(lm, out_dir, tasks=specs, options=options, report=lambda line: err.print(line, markup=False,
                      highlight=False), progress=not quiet, ranks=ranks)
    finally:
        distributed.finish(ranks)
    if run.results is None:  # not rank 0: its records are merged and reported by rank 0
        return
    console.print(results_table(run.scores, run.factors, title=f"SOS-Bench: {model_spec} ({source.describe()})",
                                n_resamples=n_resamples, seed=seed))
    console.print(f"scored {run.scored_now} documents now, {len(run.store.keys)} in the run; "
                  f"wrote {run.store.dir / 'results.json'} and {run.store.dir / LM_EVAL_RESULTS}",
                  markup=False, highlight=False)


@click.command("correlate")
@click.option("--sos", "sos_files", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="SOS results: judgeaudit results.json, lm-evaluation-harness results JSON, or a CSV "
                   "with one row per model and <task>/<metric> columns. Repeatable.")
@click.option("--judge-scores", required=True, type=click.Path(dir_okay=False),
              help="CSV with columns model, score (a judge's score per model).")
@click.option("--name-map", type=click.Path(dir_okay=False), default=None,
              help="CSV with columns sos_model, judge_model, for names that differ.")
@click.option("--out", type=click.Path(file_okay=False), default="runs/correlate", show_default=True,
              help="Where results.json and report.html go.")
@click.option("--seed", default=1234, show_default=True, type=int)
@click.option("--n-resamples", default=2000, show_default=True, type=click.IntRange(min=10))
def correlate(sos_files: tuple[str, ...], judge_scores: str, name_map: str | None, out: str, seed: int,
              n_resamples: int) -> None:
    """Correlate SOS factor scores with judge scores across models."""
    from judgeaudit.reports.sos import correlation_html, correlation_table
    from judgeaudit.sos.correlate import correlate_files, write_correlation_outputs

    result = correlate_files(list(sos_files), judge_scores, name_map, seed=seed, n_resamples=n_resamples)
    console = make_console()
    for line in result.notes:
        console.print(line, markup=False, highlight=False)
    console.print(correlation_table(result))
    results_path, report_path = write_correlation_outputs(result, out, correlation_html(result))
    console.print(f"wrote {results_path} and {report_path}", markup=False, highlight=False)
