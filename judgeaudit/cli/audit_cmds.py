"""`judgeaudit probe | audit | report | compare`: thin commands over judgeaudit.audit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.text import Text

from judgeaudit.cli import UserError
from judgeaudit.console import console as _console
from judgeaudit.errors import JudgeauditError


def run_options(fn: Callable) -> Callable:
    """The options `probe` and `audit` share."""
    options = [
        click.option("--judge", "judge", required=True,
                     help="Judge spec: smollm2, a HF id or dir, a .gguf, synthetic:KIND, reward:MODEL, "
                          "likelihood:MODEL, jury:SPEC1,SPEC2[:vote=mean|majority], module:attr, "
                          "or an API model such as gpt-4-1106-preview."),
        click.option("--battery", default="default", show_default=True, help="Probe battery name."),
        click.option("--items", type=click.Path(exists=True, dir_okay=True), default=None,
                     help="Seed items (JSONL file or directory of items_*.jsonl); default: the packaged items."),
        click.option("--limit", type=click.IntRange(min=1), default=None, help="Number of items (spread over categories)."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed for pairs and the bootstrap."),
        click.option("--template", type=click.Choice(["pairwise", "factorwise"]), default="pairwise",
                     show_default=True, help="Judge prompt template."),
        click.option("--mode", type=click.Choice(["logprob", "generative"]), default="logprob", show_default=True,
                     help="Local judges: read the verdict distribution (logprob) or generate and parse."),
        click.option("--reward-scale", type=float, default=None,
                     help="reward: and likelihood: judges: the score difference worth one logit of the verdict "
                          "link (default 1 for rewards and total log-probs, 0.25 for mean per-token log-probs)."),
        click.option("--normalize", type=click.Choice(["mean", "none"]), default=None,
                     help="likelihood: judges: compare mean per-token log-probs (mean, default) or totals (none)."),
        click.option("--api-base", default=None, help="OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, ...)."),
        click.option("--api-key-env", default=None, help="Environment variable holding the API key "
                                                        "(default OPENAI_API_KEY)."),
        click.option("--max-wait", type=click.FloatRange(min=0), default=None,
                     help="API judges: most seconds one request may wait between retries, Retry-After "
                          "included (default 120); a longer wait fails the run with a clear line."),
        click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True,
                     help="Concurrent requests for API and plugin judges."),
        click.option("--verdict-logprobs/--no-verdict-logprobs", default=None,
                     help="API judges: ask for logprobs with top_logprobs and read the five-verdict distribution "
                          "at the verdict position (falls back to the text verdict when the server gives none). "
                          "Default: on, except for reasoning models."),
        click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default=None,
                     help="Local judges: the model's dtype (default float32 on CPU). bfloat16 runs about 1.5x "
                          "as fast on CPUs with bf16 arithmetic, and its verdicts differ slightly."),
        click.option("--repeats", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Judgments per pair and order (for sampling judges)."),
        click.option("--resamples", type=click.IntRange(min=100), default=2000, show_default=True,
                     help="Bootstrap resamples."),
        click.option("--no-progress", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    out = {k: kw[k] for k in ("battery", "items", "limit", "seed", "template", "mode", "api_base", "api_key_env",
                              "concurrency", "repeats", "resamples", "max_wait", "verdict_logprobs")}
    options = {k: kw[k] for k in ("reward_scale", "normalize", "dtype") if kw.get(k) is not None}
    if options:
        out["judge_options"] = options
    return out


def _print_power(console: Console, power: dict[str, Any] | None) -> None:
    """Smallest detectable delta per probe kind, from the planned number of items."""
    if not power or not power.get("probes"):
        return
    by_kind: dict[str, list[float | None]] = {}
    for row in power["probes"].values():
        by_kind.setdefault(row["kind"], []).append(row["min_detectable_delta"])
    parts = []
    for kind, values in by_kind.items():
        known = [v for v in values if v is not None]
        if not known:
            parts.append(f"{kind} n/a (too few items)")
        elif min(known) == max(known):
            parts.append(f"{kind} {known[0]:.3f}")
        else:
            parts.append(f"{kind} {min(known):.3f}-{max(known):.3f}")
    console.print(f"  power: smallest |delta| detectable at {power['power']:.0%} power (exact sign test, alpha "
                  f"{power['alpha']:g}, Holm over {power['n_probes']} probes): " + "; ".join(parts))


def _print_dry_run(console: Console, est: dict[str, Any]) -> None:
    console.print(f"[bold]{est['judge']}[/] ({est['judge_kind']} judge), battery '{est['battery']}', seed {est['seed']}")
    console.print(f"  items: {est['items']}   pairs: {est['pairs']} ({est['skipped_pairs']} combinations skipped)   "
                  f"repeats: {est['repeats']}")
    from judgeaudit.reports.terminal import print_judgment_estimate

    print_judgment_estimate(console, est)
    if "rewrite_requests" in est:
        console.print(f"  style rewrites asked of {est['rewrite_with']}: {est['rewrite_requests']} "
                      "(before any already in the run directory)")
    _print_power(console, est.get("power"))


def _print_run(console: Console, run) -> None:
    from judgeaudit.reports.terminal import run_tables

    for table in run_tables(run.results):
        console.print(table)
    for note in run.results.get("run", {}).get("judge_notes") or []:
        console.print(Text(note, style="dim"))
    info = run.results.get("run", {})
    cost = f", ${info['cost_usd']:.4f}" if info.get("cost_usd") else ""
    console.print(f"{run.n_pairs} pairs, {run.results['n_judgments']} judgments "
                  f"({run.results['unparsed']} unparsed, {run.results.get('ambiguous', 0)} ambiguous) in {run.wall_s:.1f} s{cost}")
    rw = info.get("rewrites")
    if rw:
        console.print(f"style rewrites by {rw['model']}: {rw['model_rewrites']} of {rw['rewritable_pairs']} kept, "
                      f"{rw['rejected']} rejected by the substance check (rule-based variant used)")
    console.print(f"wrote {run.dir / 'results.json'} and {run.dir / 'report.html'}")


@click.command()
@run_options
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run directory (default runs/<timestamp>-<judge>); rerun with the same --out to resume.")
@click.option("--dry-run", is_flag=True, help="Print the pair and request counts (and API cost estimate), then exit.")
@click.option("--rewrite-with", default=None, metavar="MODEL",
              help="A model (API name, local model or module:attribute plugin with complete(messages)) that "
                   "rewrites the verbose and tone steps in its own words; a rewrite is kept only if every key "
                   "fact is unchanged, otherwise the rule-based variant stays.")
@click.option("--rewrite-api-base", default=None, help="OpenAI-compatible endpoint of the --rewrite-with model.")
@click.option("--rewrite-api-key-env", default=None,
              help="Environment variable holding the --rewrite-with model's API key (default OPENAI_API_KEY).")
def probe(out: str | None, dry_run: bool, no_progress: bool, rewrite_with: str | None,
          rewrite_api_base: str | None, rewrite_api_key_env: str | None, **kw: Any) -> None:
    """Run a probe battery against a judge and report bias effect sizes.

    Data parallel: `torchrun --nproc-per-node N -m judgeaudit probe --judge LOCAL --out DIR ...`
    shares the judgments out over N processes; rank 0 merges and reports.
    """
    from judgeaudit.audit import estimate_probe, run_probe

    console = _console()
    judge = kw.pop("judge")
    if dry_run:
        args = _run_kwargs(kw)
        for unused in ("concurrency", "resamples", "max_wait", "judge_options"):
            args.pop(unused, None)
        _print_dry_run(console, estimate_probe(judge, out=out, rewrite_with=rewrite_with, **args))
        return
    from judgeaudit.engine import distributed

    ranks = distributed.init()
    if ranks.distributed and out is None:
        raise click.UsageError("under torchrun, give --out (every rank must write to the same run directory)")
    try:
        run = run_probe(judge, out=out, progress=not no_progress, rewrite_with=rewrite_with,
                        rewrite_api_base=rewrite_api_base, rewrite_api_key_env=rewrite_api_key_env, ranks=ranks,
                        **_run_kwargs(kw))
    finally:
        distributed.finish(ranks)
    if run is None:  # not rank 0: its judgments are merged and reported by rank 0
        return
    _print_run(console, run)


def _show_policy(ctx: click.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from judgeaudit.stats.policy import default_policy_text

        click.echo(default_policy_text(), nl=False)
        ctx.exit(0)


# `audit` exits 0 pass, 1 fail, 2 error: an error must not look like a failed policy.
AUDIT_ERROR = 2


@click.command()
@run_options
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False), default=None,
              help="Policy TOML (default: the packaged default_policy.toml; see `--show-policy`).")
@click.option("--compare-judge", default=None, help="A second judge audited beside the first.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run directory of --judge (default runs/<timestamp>-<judge>).")
@click.option("--compare-out", type=click.Path(file_okay=False), default=None,
              help="Run directory of --compare-judge (default runs/<timestamp>-<judge>).")
@click.option("--sos/--no-sos", "with_sos", default=True, show_default=True,
              help="For local judges, score the judge model on SOS-Bench as ground truth.")
@click.option("--sos-data", type=click.Path(exists=True, file_okay=False), default=None,
              help="SOS-Bench data directory (default: the packaged fixtures).")
@click.option("--sos-tasks", default="all", show_default=True, help="SOS-Bench benchmarks to score.")
@click.option("--show-policy", is_flag=True, is_eager=True, expose_value=False,
              callback=lambda ctx, _param, value: _show_policy(ctx, value), help="Print the default policy and exit.")
def audit(policy_path: str | None, compare_judge: str | None, out: str | None, compare_out: str | None,
          with_sos: bool, sos_data: str | None, sos_tasks: str, no_progress: bool,
          **kw: Any) -> None:
    """Probe a judge, apply a policy, print a pass/fail report card (exit 0 pass, 1 fail, 2 error)."""
    from judgeaudit.audit import run_audit
    from judgeaudit.reports.terminal import compare_table, policy_card

    console = _console()

    def show(run) -> None:
        _print_run(console, run)
        if run.results.get("sos"):
            _print_sos(console, run.results["sos"])

    try:
        outcome = run_audit(kw.pop("judge"), policy_path=policy_path, compare_judge=compare_judge, out=out,
                            compare_out=compare_out, sos_data=sos_data, sos_tasks=sos_tasks if with_sos else None,
                            progress=not no_progress, on_run=show, **_run_kwargs(kw))
    except JudgeauditError as exc:
        raise UserError(exc, exit_code=AUDIT_ERROR) from exc
    except (KeyboardInterrupt, click.exceptions.Exit, click.Abort):
        raise
    except SystemExit as exc:  # judge code ending the process must never read as a pass
        raise UserError(JudgeauditError(f"judge code called sys.exit({exc.code!r}) during the audit; "
                                        f"nothing was passed"), exit_code=AUDIT_ERROR) from None
    except Exception as exc:  # noqa: BLE001 - one line for the user, never a traceback
        raise UserError(JudgeauditError(f"{type(exc).__name__}: {exc}".splitlines()[0][:500]),
                        exit_code=AUDIT_ERROR) from exc
    if len(outcome.runs) > 1:
        console.print(compare_table([r.results for r in outcome.runs]))
    for run, checks in zip(outcome.runs, outcome.checks):
        console.print(policy_card(checks, outcome.policy.name, run.results.get("run", {}).get("judge_spec")))
    sys.exit(outcome.exit_code)


def _print_sos(console: Console, sos: dict[str, Any]) -> None:
    if sos.get("note"):
        console.print(f"[dim]SOS-Bench: {sos['note']}[/]")
    scores = sos.get("scores") or {}
    if scores:
        parts = [f"{name} {v['score']:.3f}" if isinstance(v, dict) and v.get("score") is not None else f"{name} –"
                 for name, v in scores.items()]
        console.print("SOS-Bench ground truth (judge model): " + ", ".join(parts))


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--recompute", is_flag=True, help="Recompute results.json from records.jsonl before rendering.")
@click.option("--resamples", type=click.IntRange(min=100), default=None, help="Bootstrap resamples (with --recompute).")
def report(run_dir: str, recompute: bool, resamples: int | None) -> None:
    """Re-render the report of a finished run."""
    from judgeaudit.audit import rerender
    from judgeaudit.reports.terminal import run_tables

    results = rerender(run_dir, recompute=recompute, resamples=resamples)
    console = _console()
    if recompute:
        _console(stderr=True).print(f"recomputed: {results['run']['recompute']['note']}", markup=False)
    for table in run_tables(results):
        console.print(table)
    console.print(f"wrote {Path(run_dir) / 'report.html'}")


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--html", "html_out", type=click.Path(dir_okay=False), default=None,
              help="Also write a comparison page (quadrant of all judges, one table).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON instead of a table.")
def compare(run_dirs: tuple[str, ...], html_out: str | None, as_json: bool) -> None:
    """Tabulate several finished runs side by side."""
    from judgeaudit.audit import comparison_warnings, load_run
    from judgeaudit.judges.identity import identity_differences
    from judgeaudit.reports.terminal import compare_table

    runs = [load_run(d) for d in run_dirs]
    for warning in comparison_warnings(runs, list(run_dirs)) + identity_differences(runs, list(run_dirs)):
        click.echo(f"Warning: {warning}", err=True)  # plain lines: never wrapped, easy to grep
    if html_out:
        from judgeaudit.runstore import check_writable

        check_writable(html_out)  # before anything is printed
    if as_json:
        click.echo(json.dumps([{"dir": d, "judge": r["judge"], "indices": r["indices"],
                                "probes": {p["name"]: p["delta"] for p in r["probes"]}}
                               for d, r in zip(run_dirs, runs)], indent=2))
    else:
        _console().print(compare_table(runs))
    if html_out:
        from judgeaudit.reports.html import render_comparison
        from judgeaudit.runstore import write_atomic

        write_atomic(html_out, render_comparison(runs, list(run_dirs)))
        click.echo(f"wrote {html_out}")

