"""The engine benchmark's table and comparison lines (`judgeaudit bench` and perf/ print these)."""

from __future__ import annotations

from typing import Any, Mapping

from rich.table import Table


def bench_table(title: str, sides: Mapping[str, Any]) -> Table:
    """One row per scorer: seconds, requests/s and peak RSS (each side a BenchSide)."""
    table = Table(title=title)
    for col in ("scorer", "seconds", "requests/s", "peak RSS (MiB)"):
        table.add_column(col, justify="right" if col != "scorer" else "left")
    for side, r in sides.items():
        table.add_row(side, f"{r.seconds:.1f}", f"{r.requests_per_s:.2f}", f"{r.peak_rss_mb:.0f}")
    return table


def comparison_line(baseline: str, c: Mapping[str, Any]) -> str:
    """The engine against one baseline, from engine.bench.compare."""
    return (f"judgeaudit vs {baseline}: {c['throughput_ratio']:.2f}x throughput, {c['memory_ratio']:.2f}x less peak "
            f"memory, same predictions on {c['same_predictions']}/{c['questions']} questions, "
            f"max |logprob diff| {c['max_abs_logprob_diff']:.2e}")
