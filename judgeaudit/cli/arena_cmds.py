"""`judgeaudit arena` and `judgeaudit logs`: rank models with a judge, or audit judgments already made."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console

from judgeaudit.console import console as _console


def _print_results(console: Console, run, extra: str = "") -> None:
    from judgeaudit.reports.arena_terminal import leaderboard_table, style_table

    console.print(leaderboard_table(run.results))
    console.print(style_table(run.results))
    pos = run.results["position"]
    if pos.get("consistency") is not None:
        console.print(f"position: consistency {pos['consistency']:.3f} over {pos['n_pairs_both_orders']} pairs, "
                      f"first-position rate {pos['first_position_rate']:.3f}")
    elif pos.get("note"):
        console.print(f"position: {pos['note']}")
    for note in run.results["method"].get("notes", []):
        console.print(f"[dim]note: {note}[/]")
    console.print(f"{extra}wrote {run.dir / 'results.json'}, {run.dir / 'judge_scores.csv'} and "
                  f"{run.dir / 'report.html'} ({run.wall_s:.1f} s)", markup=False)


def _sos(console: Console, sos_files: tuple[str, ...], run, seed: int, resamples: int) -> None:
    if not sos_files:
        return
    from judgeaudit.reports.sos import correlation_html, correlation_table
    from judgeaudit.sos.correlate import correlate_files, write_correlation_outputs

    result = correlate_files(list(sos_files), str(run.dir / "judge_scores.csv"), None, seed=seed,
                             n_resamples=resamples)
    for line in result.notes:
        console.print(line, markup=False, highlight=False)
    console.print(correlation_table(result))
    paths = write_correlation_outputs(result, run.dir / "correlate", correlation_html(result))
    console.print(f"wrote {paths[0]} and {paths[1]}", markup=False)


def _common(fn):
    options = [
        click.option("--strong-weight", type=click.Choice(["1", "3"]), default="1", show_default=True,
                     help="How many times a strong verdict (A>>B) counts; Arena-Hard-Auto uses 3."),
        click.option("--resamples", type=click.IntRange(min=100), default=1000, show_default=True,
                     help="Bootstrap resamples over questions."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed for the bootstrap."),
        click.option("--sos", "sos_files", multiple=True, type=click.Path(dir_okay=False),
                     help="SOS results of the same models: run `correlate` on the judge scores at once. Repeatable."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.command()
@click.option("--judge", required=True, help="Judge spec, as for `probe` (smollm2, synthetic:KIND, module:attr, "
                                             "an API model).")
@click.option("--answers", required=True, type=click.Path(exists=True),
              help="Folder of model answers (model_answer/<model>.jsonl, or AlpacaEval <model>.json).")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Question file (question.jsonl); AlpacaEval answers carry their instructions and need none.")
@click.option("--baseline", required=True, help="The model every other model is judged against.")
@click.option("--models", default=None, help="Comma-separated models to judge (default: all but the baseline).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Judge only the first N questions.")
@click.option("--format", "fmt", type=click.Choice(["arena-hard", "mt-bench", "alpaca-eval"]), default=None,
              help="Layout of questions and answers (default: detected).")
@click.option("--template", type=click.Choice(["pairwise", "pairwise-ref"]), default="pairwise", show_default=True,
              help="Judge prompt; pairwise-ref shows the --reference model's answer to the judge.")
@click.option("--reference", default=None, help="Model whose answers are the reference (with pairwise-ref).")
@click.option("--mode", type=click.Choice(["logprob", "generative"]), default="logprob", show_default=True,
              help="Local judges: read the verdict distribution (logprob) or generate and parse.")
@click.option("--api-base", default=None, help="OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, ...).")
@click.option("--api-key-env", default=None, help="Environment variable holding the API key (default OPENAI_API_KEY).")
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True,
              help="Concurrent requests for API and plugin judges.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run directory (default runs/<timestamp>-arena-<judge>); rerun with the same --out to resume.")
@click.option("--dry-run", is_flag=True, help="Print the judgment count (and API cost estimate), then exit.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@_common
def arena(judge: str, answers: str, questions: str | None, baseline: str, models: str | None, limit: int | None,
          fmt: str | None, template: str, reference: str | None, mode: str, api_base: str | None,
          api_key_env: str | None, concurrency: int, out: str | None, dry_run: bool, no_progress: bool,
          strong_weight: str, resamples: int, seed: int, sos_files: tuple[str, ...]) -> None:
    """Rank models with a judge: each model against the baseline, both orders, Bradley-Terry, style control.

    Data parallel: `torchrun --nproc-per-node N -m judgeaudit arena --judge LOCAL --out DIR ...`
    shares the judgments out over N processes; rank 0 merges, fits and reports.
    """
    from judgeaudit.arena.run import estimate_arena, run_arena
    from judgeaudit.engine import distributed

    if template == "pairwise-ref" and not reference:
        raise click.UsageError("--template pairwise-ref needs --reference MODEL (whose answers the judge sees)")
    console = _console()
    model_list = [m.strip() for m in models.split(",") if m.strip()] if models else None
    plan_kw: dict[str, Any] = dict(answers=answers, questions=questions, baseline=baseline, models=model_list,
                                   limit=limit, fmt=fmt, reference=reference if template == "pairwise-ref" else None)
    if dry_run:
        est = estimate_arena(judge, template=template, mode=mode, api_base=api_base, api_key_env=api_key_env,
                             out=out, seed=seed, **plan_kw)
        console.print(f"[bold]{est['judge']}[/] ({est['judge_kind']} judge) against baseline {baseline}")
        console.print(f"  models: {est['models']}   questions: {est['questions']}   pairs: {est['pairs']}   "
                      f"missing answers: {est['missing'] // 2}")
        from judgeaudit.reports.terminal import print_judgment_estimate

        print_judgment_estimate(console, est)
        return
    ranks = distributed.init()
    if ranks.distributed and out is None:
        raise click.UsageError("under torchrun, give --out (every rank must write to the same run directory)")
    try:
        run = run_arena(judge, template=template, strong_weight=float(strong_weight), out=out, mode=mode,
                        api_base=api_base, api_key_env=api_key_env, concurrency=concurrency, seed=seed,
                        resamples=resamples, progress=not no_progress, ranks=ranks, **plan_kw)
    finally:
        distributed.finish(ranks)
    if run is None:  # not rank 0: its judgments are merged and reported by rank 0
        return
    info = run.results["method"].get("run", {})
    cost = f", ${info['cost_usd']:.4f}" if info.get("cost_usd") else ""
    _print_results(console, run, extra=f"{run.n_judged_now} judgments made now{cost}; ")
    _sos(console, sos_files, run, seed, resamples)


@click.command()
@click.option("--format", "fmt", required=True,
              type=click.Choice(["arena-hard", "mt-bench-single", "mt-bench-pair", "alpaca-eval"]),
              help="Layout of the judgment logs.")
@click.option("--judgments", required=True, type=click.Path(exists=True),
              help="Judgment file, or folder of them (Arena-Hard: model_judgment/<judge>/).")
@click.option("--answers", type=click.Path(exists=True), default=None,
              help="Folder of model answers (not needed for AlpacaEval annotations).")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Question file (not needed for AlpacaEval annotations).")
@click.option("--baseline", default=None,
              help="Baseline model, where the logs do not name it (Arena-Hard v0.1, all-pairs MT-Bench).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Where results.json, judge_scores.csv and report.html go (default runs/<timestamp>-logs-<format>).")
@_common
def logs(fmt: str, judgments: str, answers: str | None, questions: str | None, baseline: str | None,
         out: str | None, strong_weight: str, resamples: int, seed: int, sos_files: tuple[str, ...]) -> None:
    """Audit judgments already made (no model is called): position, price of style, raw and controlled scores."""
    from judgeaudit.arena.run import run_logs

    if fmt != "alpaca-eval" and (answers is None or questions is None):
        raise click.UsageError(f"--answers and --questions are needed for --format {fmt}")
    run = run_logs(fmt, judgments, answers=answers, questions=questions, baseline=baseline, out=out,
                   strong_weight=float(strong_weight), resamples=resamples, seed=seed)
    console = _console()
    _print_results(console, run)
    _sos(console, sos_files, run, seed, resamples)
