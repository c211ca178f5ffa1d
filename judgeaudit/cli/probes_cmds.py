"""`judgeaudit probes`: read what a battery does before spending money on a judge."""

from __future__ import annotations

from collections import Counter

import click
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from judgeaudit.console import console as make_console
from judgeaudit.probes.batteries import get_battery, load_batteries
from judgeaudit.probes.items import load_items
from judgeaudit.probes.operators import OPERATORS
from judgeaudit.probes.pairs import Pair, apply_probe, make_pairs, spread_order

_items_option = click.option("--items", "items_path", type=click.Path(dir_okay=True), default=None,
                             help="Items file or directory of items_*.jsonl (default: the packaged seed items).")
_batteries_option = click.option("--batteries-file", type=click.Path(dir_okay=False), default=None,
                                 help="A batteries YAML file (default: the packaged one).")


@click.group("probes")
def probes() -> None:
    """List, show and validate probe batteries and items."""


@probes.command("list")
@click.option("--battery", default=None, help="Only this battery.")
@_batteries_option
@_items_option
@click.option("--seed", default=0, show_default=True, type=int)
def list_cmd(battery: str | None, batteries_file: str | None, items_path: str | None, seed: int) -> None:
    """Print each battery's probes, what they do, and how many pairs they give on the items."""
    console = make_console()
    batteries = load_batteries(batteries_file)
    names = [battery] if battery else list(batteries)
    items = load_items(items_path)
    for name in names:
        bat = get_battery(name, batteries_file)
        built = make_pairs(items, bat, seed)
        per_probe = Counter(p.probe for p in built.pairs)
        table = Table(title=f"battery '{bat.name}': {bat.description}", title_justify="left")
        for col in ("probe", "kind", "operators", "pairs", "what it does"):
            table.add_column(col, overflow="fold")
        for probe in bat.probes:
            table.add_row(probe.name, probe.kind, " -> ".join(probe.ops) or "-", str(per_probe[probe.name]),
                          probe.description)
        console.print(table)
        console.print(f"{len(built.pairs)} pairs from {len(items)} items, {len(built.skipped)} item/probe "
                      f"combinations skipped (operator not applicable, or it would change more than it names).")
    ops = Table(title="operators", title_justify="left")
    for col in ("operator", "kind", "description"):
        ops.add_column(col, overflow="fold")
    for op in OPERATORS.values():
        ops.add_row(op.name, op.kind, op.description)
    console.print(ops)


def _print_pair(console: Console, pair: Pair) -> None:
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    grid.add_row(Panel(pair.base, title="base (reference)", border_style="green"),
                 Panel(pair.perturbed, title=f"perturbed ({pair.probe})", border_style="yellow"))
    steps = "; ".join(", ".join(f"{k}={v!r}" for k, v in step.items() if k != "kind") for step in pair.meta["ops"])
    console.rule(f"{pair.pair_id}  [{pair.kind}, {pair.category}]")
    console.print(f"[bold]prompt:[/bold] {pair.prompt}")
    console.print(grid)
    console.print(f"substance score: base {pair.meta['base_score']:.2f}, perturbed {pair.meta['perturbed_score']:.2f}"
                  + (f"\nsteps: {steps}" if steps else ""))


@probes.command("show")
@click.argument("name")
@click.option("--n", "n", default=3, show_default=True, type=click.IntRange(min=1), help="Number of sample pairs.")
@click.option("--battery", default="default", show_default=True)
@_batteries_option
@_items_option
@click.option("--seed", default=0, show_default=True, type=int)
def show_cmd(name: str, n: int, battery: str, batteries_file: str | None, items_path: str | None, seed: int) -> None:
    """Print N sample pairs of probe NAME, spread over item categories."""
    bat = get_battery(battery, batteries_file)
    try:
        probe = bat.probe(name)
    except KeyError:
        raise click.BadParameter(f"battery {bat.name!r} has no probe {name!r}; probes: "
                                 f"{', '.join(p.name for p in bat.probes)}", param_hint="NAME") from None
    console = make_console()
    items = load_items(items_path)
    shown = 0
    for item in spread_order(items):
        result = apply_probe(item, probe, seed, bat.name)
        if isinstance(result, Pair):
            _print_pair(console, result)
            shown += 1
            if shown == n:
                break
    if not shown:
        raise click.ClickException(f"probe {name!r} applies to none of the {len(items)} items")


@probes.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def validate_cmd(file: str) -> None:
    """Check an items file against the item schema; print a summary, or one error line."""
    items = load_items(file)
    table = Table()
    for col in ("category", "domain", "items", "key facts", "elaborations", "with constraint"):
        table.add_column(col)
    groups = Counter((it["category"], it["domain"]) for it in items)
    for (cat, dom), count in sorted(groups.items()):
        members = [it for it in items if it["category"] == cat and it["domain"] == dom]
        table.add_row(cat, dom, str(count), str(sum(len(it["key_facts"]) for it in members)),
                      str(sum(len(it["elaborations"]) for it in members)),
                      str(sum(1 for it in members if it["constraint"])))
    out = make_console()
    # A title would wrap to the table's width and split a long path; a line of its own does not.
    out.print(f"{file}: {len(items)} valid items", markup=False, soft_wrap=True)
    out.print(table)
