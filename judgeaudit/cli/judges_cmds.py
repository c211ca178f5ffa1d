"""`judgeaudit judges`: list the judge families and templates, and try a judge on one pair."""

from __future__ import annotations

import json

import click

from judgeaudit.errors import JudgeauditError

_FAMILIES = [
    ("smollm2 | HF id | dir | file.gguf", "local", "open-weight model; --mode logprob (default) or generative"),
    ("gpt-4-1106-preview, gpt-4o, o3-mini, …", "api", "OpenAI API with $OPENAI_API_KEY"),
    ("NAME --api-base URL", "api", "any OpenAI-compatible server (vLLM, llama.cpp, Ollama)"),
    ("synthetic:oracle", "synthetic", "prefers right, complete, safe answers; blind to style"),
    ("synthetic:longer", "synthetic", "prefers the longer answer"),
    ("synthetic:markdown", "synthetic", "prefers more markdown structure"),
    ("synthetic:position?p=0.8", "synthetic", "prefers answer A with probability p"),
    ("synthetic:random", "synthetic", "a uniformly random verdict"),
    ("reward:HF-ID | reward:DIR", "reward", "sequence-classification reward model; reward difference through a "
                                            "logistic link (--reward-scale, default 1)"),
    ("likelihood:smollm2 | likelihood:MODEL", "likelihood", "prefers the answer with the higher mean per-token "
                                                            "log-prob given the prompt (--normalize none: total)"),
    ("jury:SPEC1,SPEC2[,...][:vote=mean|majority]", "jury", "every member judges; distributions averaged (mean) "
                                                           "or majority verdict; per-member indices reported"),
    ("module:attr | file.py:attr", "plugin", "your object or factory with judge_pair or judge_batch"),
]


def _judge_options(f):
    f = click.option("--normalize", type=click.Choice(["mean", "none"]), default=None,
                     help="likelihood: judges: mean per-token log-prob (default) or total.")(f)
    f = click.option("--reward-scale", type=float, default=None,
                     help="reward: and likelihood: judges: score difference worth one logit of the verdict link.")(f)
    f = click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="API response cache (default ~/.cache/judgeaudit/api).")(f)
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
    from rich.console import Console
    from rich.table import Table

    from judgeaudit.judges.prompting import BUILTIN_TEMPLATES, load_template

    table = Table(title="Judges")
    for col in ("spec", "family", "behaviour"):
        table.add_column(col)
    for row in _FAMILIES:
        table.add_row(*row)
    templates = Table(title="Templates")
    for col in ("name", "kind", "reads"):
        templates.add_column(col)
    for name in BUILTIN_TEMPLATES:
        t = load_template(name)
        reads = {"pairwise": "[[A>B]]", "factorwise": "Criterion: ((A>B)) ×5 + [[A>B]]", "single": "[[1..10]] per answer"}[t.kind]
        templates.add_row(name, t.kind, reads)
    console = Console()
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
            cache_dir: str | None, reward_scale: float | None, normalize: str | None, prompt: str, answer_a: str,
            answer_b: str, dry_run: bool, as_json: bool) -> None:
    """Judge one pair (A then B as given) and print the verdict distribution."""
    from judgeaudit.judges import make_judge, win_score
    from judgeaudit.judges.protocol import VERDICTS, JudgeRequest

    options: dict = {"dry_run": True} if dry_run else {}
    options.update({k: v for k, v in (("reward_scale", reward_scale), ("normalize", normalize)) if v is not None})
    judge = make_judge(judge_spec, template=template, mode=mode, api_base=api_base, api_key_env=api_key_env,
                       cache_dir=cache_dir, **options)
    request = JudgeRequest(prompt, answer_a, answer_b)
    if dry_run:
        if not callable(getattr(judge, "estimate", None)):
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
