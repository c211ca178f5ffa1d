"""Rich tables for the terminal: the probe table, indices, a policy card, a comparison."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from judgeaudit.reports.formatting import interval, num, p_value, percent, signed
from judgeaudit.reports.plots import KIND_LABELS, grouped
from judgeaudit.stats.policy import Check

INDEX_LABELS = {
    "style_sensitivity": ("style sensitivity", "0"),
    "substance_sensitivity": ("substance sensitivity", "0.5"),
    "style_over_substance_rate": ("style-over-substance rate (win rate)", "0"),
    "style_over_substance_strict": ("  styled wrong wins both orders", "0"),
    "accuracy": ("accuracy (substance + crossed)", "1"),
    "pair_accuracy": ("pair accuracy (right in both orders)", "1"),
    "ece": ("calibration error (ECE)", "0"),
    "brier": ("Brier score", "0"),
    "position_consistency": ("position consistency", "1"),
    "first_position_rate": ("first-position rate", "0.5"),
    "first_position_rate_control": ("  on control pairs", "0.5"),
    "strong_share": ("strong share of decisive verdicts", "–"),
    "noise_floor": ("noise floor (control SD)", "0"),
}
POSITION_LABELS = (("consistent", "consistent"), ("biased_first", "biased to first"),
                   ("biased_second", "biased to second"), ("undecided", "undecided/unparsed"))
BASELINE_LABELS = {"always_longer": "always longer", "always_more_markdown": "more markdown",
                   "always_first": "always first", "coin_flip": "coin flip"}
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
                          ("score", "right"), ("1st", "right"), ("acc", "right"), ("longer", "right"),
                          ("MDE", "right"), ("unparsed", "right")]:
        t.add_column(name, justify=justify)
    for kind, members in grouped(results["probes"]):
        for p in members:
            ci = "–" if p.get("ci_low") is None else f"[{p['ci_low']:+.3f}, {p['ci_high']:+.3f}]"
            longer = ((p.get("baselines") or {}).get("always_longer") or {}).get("win_rate")
            t.add_row(p["name"], Text(kind, style=KIND_STYLE.get(kind, "")), str(p["n"]), num(p.get("win_rate")),
                      _delta(p), ci, signed(p.get("cohens_h"), 2), p_value(p.get("p_holm")),
                      num(p.get("mean_score")), num(p.get("first_position_rate"), 2), num(p.get("accuracy"), 2),
                      num(longer, 2), num(p.get("min_detectable_delta"), 2), str(p.get("unparsed", 0)))
        t.add_section()
    t.caption = (f"win = P(perturbed preferred) + 0.5 P(tie), mean over orders then items; delta = win - 0.5 "
                 f"(bold: Holm p < 0.05); CI: {results['method']['ci']}, {results['method']['resamples']} "
                 f"resamples, seed {results['method']['seed']}; h = Cohen's h; score = graded win score "
                 f"(A>B = .75); 1st = first-position rate; acc = accuracy (right answer preferred); longer = "
                 f"the always-longer baseline's win; MDE = smallest delta detectable at 80% power (exact "
                 f"sign test, Holm across the battery)")
    return t


def indices_table(results: dict[str, Any]) -> Table:
    level = percent(results.get("method", {}).get("level", 0.95))
    t = Table(title="Summary indices", title_justify="left")
    for name, justify in [("index", "left"), ("value", "right"), (f"{level} CI", "right"), ("ideal", "right")]:
        t.add_column(name, justify=justify)
    ci = results.get("indices_ci") or {}
    idx = results["indices"]
    for key, (label, ideal) in INDEX_LABELS.items():
        if key in ("ece", "brier") and idx.get(key) is None:
            continue  # hard verdicts: no calibration to show
        t.add_row(label, num(idx.get(key)), interval(ci.get(key)), ideal)
    price = (results.get("style_control") or {}).get("price_of_style")
    if price:
        t.add_row("price of style (OR per SD length)", num(price["odds_ratio"], 2),
                  interval((price["ci_low"], price["ci_high"]), 2), "1")
    return t


def position_table(results: dict[str, Any]) -> Table | None:
    """MT-Bench position classes, all pairs and control pairs."""
    idx = results["indices"]
    rows = [(label, idx.get(key)) for label, key in (("all pairs", "position"), ("control pairs", "position_control"))
            if idx.get(key)]
    if not rows:
        return None
    t = Table(title="Position (shares of pairs)", title_justify="left")
    t.add_column("pairs", justify="left")
    for _, label in POSITION_LABELS:
        t.add_column(label, justify="right")
    t.add_column("n", justify="right")
    for label, shares in rows:
        t.add_row(label, *[num(shares.get(key)) for key, _ in POSITION_LABELS], str(shares.get("n")))
    return t


def baselines_table(results: dict[str, Any]) -> Table | None:
    """The judge beside the content-blind baselines, per probe kind."""
    base = results.get("baselines") or {}
    kinds = base.get("by_kind") or {}
    if not kinds:
        return None
    t = Table(title="Baselines (content-blind, same pairs)", title_justify="left")
    t.add_column("kind", justify="left")
    t.add_column("metric", justify="left")
    t.add_column("judge", justify="right")
    for label in BASELINE_LABELS.values():
        t.add_column(label, justify="right")
    t.add_column("beats longer", justify="left")
    for kind, row in kinds.items():
        t.add_row(Text(kind, style=KIND_STYLE.get(kind, "")), f"{row['metric']} ({row['better']} is better)",
                  num(row["judge"]), *[num(row.get(b)) for b in BASELINE_LABELS],
                  Text("yes", style="green") if row["beats_longer"] else Text("no", style="bold red"))
    return t


def run_tables(results: dict[str, Any]) -> list[Table]:
    """Everything a finished run prints: probes, indices, position, baselines (and a jury's members)."""
    return [t for t in (probe_table(results), indices_table(results), position_table(results),
                        baselines_table(results), members_table(results) if results.get("members") else None)
            if t is not None]


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


def print_judgment_estimate(console: Console, est: dict[str, Any]) -> None:
    """The judgments, API requests and cost lines of a dry run (probe and arena alike)."""
    console.print(f"  judgments: {est['judgments']} (both orders)"
                  + (f", {est['judgments_pending']} not yet in the run directory" if "judgments_pending" in est else ""))
    if "requests" in est:
        console.print(f"  API requests: {est['requests']} ({est.get('cached_requests', 0)} already cached), "
                      f"~{est.get('prompt_tokens_est', 0):,} prompt + ~{est.get('completion_tokens_est', 0):,} "
                      f"completion tokens")
        if est.get("cost_usd_est") is not None:
            console.print(f"  estimated cost: ${est['cost_usd_est']:.2f} (at most ${est['cost_usd_max']:.2f})")
        else:
            console.print("  estimated cost: unknown (no price for this model)")
