"""The `judgeaudit` command line: a thin layer over the library.

Subcommands live in their own modules and are imported only when invoked, so
`judgeaudit --help` stays fast (importing torch takes seconds).
"""

from __future__ import annotations

import importlib

import click

from judgeaudit import __version__
from judgeaudit.errors import JudgeauditError

# name -> (module, attribute, one-line help shown by `judgeaudit --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "models": ("judgeaudit.cli.engine_cmds", "models", "Show what a model spec resolves to, and the weight cache."),
    "score": ("judgeaudit.cli.engine_cmds", "score", "Score (context, continuation) requests by log-likelihood."),
    "generate": ("judgeaudit.cli.engine_cmds", "generate", "Greedy generation until stop strings (generate_until)."),
    "bench": ("judgeaudit.cli.engine_cmds", "bench", "Measure the scoring engine against a full-logits baseline."),
    "probes": ("judgeaudit.cli.probes_cmds", "probes", "List, show and validate probe batteries and items."),
    "judges": ("judgeaudit.cli.judges_cmds", "judges", "List judges and try one on a single pair."),
    "probe": ("judgeaudit.cli.audit_cmds", "probe", "Run a probe battery against a judge and report bias effect sizes."),
    "audit": ("judgeaudit.cli.audit_cmds", "audit", "Probe a judge, apply a policy, print a pass/fail report card."),
    "report": ("judgeaudit.cli.audit_cmds", "report", "Re-render the report of a finished run."),
    "compare": ("judgeaudit.cli.audit_cmds", "compare", "Tabulate several finished runs side by side."),
    "sos": ("judgeaudit.cli.sos_cmds", "sos", "Score a model on the SOS-Bench ground-truth benchmarks."),
    "correlate": ("judgeaudit.cli.sos_cmds", "correlate", "Correlate SOS factor scores with judge scores across models."),
    "arena": ("judgeaudit.cli.arena_cmds", "arena", "Rank models with a judge against a baseline (Bradley-Terry, style control)."),
    "logs": ("judgeaudit.cli.arena_cmds", "logs", "Audit existing judgment logs: position, price of style, scores."),
}


class UserError(click.ClickException):
    """A library error shown as one `Error: ...` line with the error's exit code."""

    def __init__(self, exc: JudgeauditError, exit_code: int | None = None):
        super().__init__(str(exc))
        self.exit_code = exc.exit_code if exit_code is None else exit_code


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except JudgeauditError as exc:
            raise UserError(exc) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attr, _ = COMMANDS[name]
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="judgeaudit")
def main() -> None:
    """Audit an LLM judge before you trust it: does it reward substance or style?"""
