"""`judgeaudit judges`: list the judge families and templates, and try a judge on one pair."""

from __future__ import annotations

import json

import click

from judgeaudit.console import console as make_console
from judgeaudit.errors import JudgeauditError


def _judge_options(f):
    f = click.option("--normalize", type=click.Choice(["mean", "none"]), default=None,
                     help="likelihood: judges: mean per-token log-prob (default) or total.")(f)
    f = click.option("--reward-scale", type=float, default=None,
                     help="reward: and likelihood: judges: score difference worth one logit of the verdict link.")(f)
    f = click.option("--verdict-logprobs/--no-verdict-logprobs", default=None,
                     help="API judges: read the five-verdict distribution from top_logprobs at the verdict "
                          "(text verdict when the server gives none). Default: on, except reasoning models.")(f)
    f = click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="API response cache (default $JUDGEAUDIT_CACHE/api, i.e. ~/.cache/judgeaudit/api).")(f)
    f = click.option("--api-key-env", default=None, help="Environment variable holding the API key (default OPENAI_API_KEY).")(f)
    f = click.option("--api-base", default=None, help="Base URL of an OpenAI-compatible server.")(f)
    f = click.option("--mode", type=click.Choice(["logprob", "generative"]), default="logprob", show_default=True,
                     help="Local judges: read verdict probabilities, or generate and parse.")(f)
    f = click.option("--template", default="pairwise", show_default=True,
                     help="pairwise, factorwise, single, or a path to a template YAML file.")(f)
    f = click.option("--judge", "judge_spec", required=True, help="Judge spec (see `judgeaudit judges list`).")(f)
    return f


@click.group()
def judges() -> None:
    """List judges and try one on a single pair."""


@judges.command("list")
def list_cmd() -> None:
    """Show the judge specs and built-in templates."""
    from rich.table import Table

    from judgeaudit.judges.factory import judge_families
    from judgeaudit.judges.prompting import BUILTIN_TEMPLATES, load_template

    table = Table(title="Judges")
    for col in ("spec", "family", "behaviour"):
        table.add_column(col)
    for row in judge_families():
        table.add_row(*row)
    templates = Table(title="Templates")
    for col in ("name", "kind", "reads"):
        templates.add_column(col)
    for name in BUILTIN_TEMPLATES:
        t = load_template(name)
        reads = {"pairwise": "[[A>B]]", "factorwise": "Criterion: ((A>B)) ×5 + [[A>B]]", "single": "[[1..10]] per answer"}[t.kind]
        templates.add_row(name, t.kind, reads)
    console = make_console()
    console.print(table)
    console.print(templates)


@judges.command("try")
@_judge_options
@click.option("--prompt", required=True, help="The user request both answers reply to.")
@click.option("--a", "answer_a", required=True, help="Answer shown as A.")
@click.option("--b", "answer_b", required=True, help="Answer shown as B.")
@click.option("--dry-run", is_flag=True, help="API judges: print the request count and cost estimate, call nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the judgment as JSON.")
def try_cmd(judge_spec: str, template: str, mode: str, api_base: str | None, api_key_env: str | None,
            cache_dir: str | None, verdict_logprobs: bool | None, reward_scale: float | None, normalize: str | None,
            prompt: str, answer_a: str, answer_b: str, dry_run: bool, as_json: bool) -> None:
    """Judge one pair (A then B as given) and print the verdict distribution."""
    from judgeaudit.judges import judge_kind, make_judge, win_score
    from judgeaudit.judges.protocol import VERDICTS, JudgeRequest

    options: dict = {"dry_run": True} if dry_run else {}
    options.update({k: v for k, v in (("reward_scale", reward_scale), ("normalize", normalize)) if v is not None})
    if verdict_logprobs is not None and judge_kind(judge_spec, api_base) == "api":
        options["logprobs"] = verdict_logprobs
    judge = make_judge(judge_spec, template=template, mode=mode, api_base=api_base, api_key_env=api_key_env,
                       cache_dir=cache_dir, **options)
    request = JudgeRequest(prompt, answer_a, answer_b)
    if dry_run:
        if not judge.priced:
            raise JudgeauditError(f"--dry-run estimates API cost; judge {judge.name!r} calls no API")
        click.echo(json.dumps(judge.estimate([request]), indent=2))
        return
    judgment = judge.judge_batch([request])[0]
    if as_json:
        click.echo(json.dumps({"judge": judge.name, "probs": judgment.probs, "parsed": judgment.parsed,
                               "win_score_a": win_score(judgment.probs) if judgment.probs else None,
                               "criteria": judgment.criteria, "raw": judgment.raw, "usage": judgment.usage}, indent=2))
        return
    click.echo(f"judge: {judge.name}")
    if not judgment.parsed:
        click.echo("verdict: unparsed (no [[..]] verdict in the output)")
    else:
        click.echo("verdict: " + "  ".join(f"{v} {judgment.probs[v]:.3f}" for v in VERDICTS))
        click.echo(f"win score of A: {win_score(judgment.probs):.3f}")
    if judgment.criteria:
        for name, dist in judgment.criteria.items():
            click.echo(f"  {name}: " + ("unparsed" if dist is None else f"win score of A {win_score(dist):.3f}"))
    if judgment.usage:
        click.echo(f"usage: {judgment.usage}")
    click.echo("raw output:\n" + judgment.raw)
