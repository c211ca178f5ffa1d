"""Rich tables for the terminal: the probe table, indices, a policy card, a comparison."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from judgeaudit.reports.formatting import interval, num, p_value, signed
from judgeaudit.reports.plots import KIND_LABELS, grouped
from judgeaudit.stats.policy import Check

INDEX_LABELS = {
    "style_sensitivity": ("style sensitivity", "0"),
    "substance_sensitivity": ("substance sensitivity", "0.5"),
    "style_over_substance_rate": ("style-over-substance rate", "0"),
    "position_consistency": ("position consistency", "1"),
    "noise_floor": ("noise floor (control SD)", "0"),
}
KIND_STYLE = {"style": "blue", "substance": "red", "crossed": "magenta", "judge": "yellow", "control": "dim"}


def _delta(p: dict[str, Any]) -> Text:
    if p.get("delta") is None:
        return Text("–")
    significant = p.get("p_holm") is not None and p["p_holm"] < 0.05
    return Text(f"{p['delta']:+.3f}", style="bold" if significant else "")


def probe_table(results: dict[str, Any]) -> Table:
    level = int(round(100 * results["method"]["level"]))
    t = Table(title=f"{results['judge']} on battery '{results['battery']}' ({results['n_items']} items, "
                    f"seed {results['seed']})", title_justify="left")
    for name, justify in [("probe", "left"), ("kind", "left"), ("n", "right"), ("win", "right"),
                          ("delta", "right"), (f"{level}% CI", "right"), ("h", "right"), ("p Holm", "right"),
                          ("flip", "right"), ("unparsed", "right")]:
        t.add_column(name, justify=justify)
    for kind, members in grouped(results["probes"]):
        for p in members:
            ci = "–" if p.get("ci_low") is None else f"[{p['ci_low']:+.3f}, {p['ci_high']:+.3f}]"
            t.add_row(p["name"], Text(kind, style=KIND_STYLE.get(kind, "")), str(p["n"]), num(p.get("win_rate")),
                      _delta(p), ci, signed(p.get("cohens_h"), 2), p_value(p.get("p_holm")),
                      num(p.get("flip_rate"), 2), str(p.get("unparsed", 0)))
        t.add_section()
    t.caption = (f"delta = win score of the perturbed answer - 0.5 (bold: Holm p < 0.05); CI: "
                 f"{results['method']['ci']}, {results['method']['resamples']} resamples, seed "
                 f"{results['method']['seed']}; h = Cohen's h; flip = orders disagree")
    return t


def indices_table(results: dict[str, Any]) -> Table:
    t = Table(title="Summary indices", title_justify="left")
    for name, justify in [("index", "left"), ("value", "right"), ("95% CI", "right"), ("ideal", "right")]:
        t.add_column(name, justify=justify)
    ci = results.get("indices_ci") or {}
    for key, (label, ideal) in INDEX_LABELS.items():
        t.add_row(label, num(results["indices"].get(key)), interval(ci.get(key)), ideal)
    price = (results.get("style_control") or {}).get("price_of_style")
    if price:
        t.add_row("price of style (OR per SD length)", num(price["odds_ratio"], 2),
                  interval((price["ci_low"], price["ci_high"]), 2), "1")
    return t


def members_table(results: dict[str, Any]) -> Table:
    """A jury's indices beside each member's own (same pairs, same statistics)."""
    members = results.get("members") or []
    t = Table(title="Jury and members: indices (95% CI)", title_justify="left")
    t.add_column("index (ideal)", justify="left")
    for r in [results, *members]:
        t.add_column(r["judge"] if r is not results else "jury", justify="right")
    for key, (label, ideal) in INDEX_LABELS.items():
        cells = []
        for r in [results, *members]:
            ci = (r.get("indices_ci") or {}).get(key)
            cells.append(num(r["indices"].get(key)) + (f" {interval(ci)}" if ci else ""))
        t.add_row(f"{label} ({ideal})", *cells)
    t.caption = "each member's indices from its own verdicts on the jury's pairs and orders"
    return t


def policy_card(checks: Sequence[Check], policy_name: str, judge: str) -> Panel:
    ok = all(c.passed for c in checks)
    t = Table(show_edge=False)
    for name, justify in [("check", "left"), ("value", "right"), ("requirement", "right"), ("result", "left"),
                          ("detail", "left")]:
        t.add_column(name, justify=justify)
    for c in checks:
        t.add_row(c.name, c.value, c.requirement,
                  Text("pass", style="bold green") if c.passed else Text("FAIL", style="bold red"), c.detail)
    head = Text(f"{judge}: ", style="bold") + (Text("PASS", style="bold green") if ok else Text("FAIL", style="bold red"))
    return Panel(Group(head, t), title=f"policy: {policy_name}", expand=False)


def compare_table(runs: Sequence[dict[str, Any]]) -> Table:
    """One column per run: indices, then each probe's delta."""
    t = Table(title="Judges compared", title_justify="left")
    t.add_column("", justify="left")
    for r in runs:
        t.add_column(f"{r['judge']}\n({r['battery']}, n={r['n_items']})", justify="right")
    for key, (label, ideal) in INDEX_LABELS.items():
        t.add_row(f"{label} (ideal {ideal})", *[num(r["indices"].get(key)) for r in runs])
    t.add_row("price of style (OR)", *[num(((r.get("style_control") or {}).get("price_of_style") or {})
                                          .get("odds_ratio"), 2) for r in runs])
    t.add_section()
    names: list[tuple[str, str]] = []
    for r in runs:
        for kind, members in grouped(r["probes"]):
            for p in members:
                if (kind, p["name"]) not in names:
                    names.append((kind, p["name"]))
    for kind, name in names:
        cells = []
        for r in runs:
            p = next((p for p in r["probes"] if p["name"] == name), None)
            if p is None or p.get("delta") is None:
                cells.append(Text("–"))
            else:
                ci = "" if p.get("ci_low") is None else f" [{p['ci_low']:+.2f},{p['ci_high']:+.2f}]"
                cells.append(Text(f"{p['delta']:+.3f}{ci}", style=""))
        t.add_row(Text(f"delta {name}", style=KIND_STYLE.get(kind, "")), *cells)
    t.caption = "delta with its 95% CI per probe; " + ", ".join(f"{k}: {v}" for k, v in KIND_LABELS.items())
    return t
