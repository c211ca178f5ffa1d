"""Rich tables for arena and logs runs: the leaderboard and the price of style."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text


def _f(x: Any, fmt: str = ".3f") -> str:
    return "–" if x is None else format(x, fmt)


def _ci(lo: Any, hi: Any) -> str:
    return "–" if lo is None or hi is None else f"[{lo:.3f}, {hi:.3f}]"


def leaderboard_table(results: dict[str, Any]) -> Table:
    m = results["method"]
    level = int(round(100 * m["bootstrap"]["level"]))
    title = f"{m['judge']}" + (f" vs baseline {m['baseline']}" if m.get("baseline") else "") + \
        f" ({m['bootstrap']['n_questions']} questions, {m['judgments']['total']} judgments, " \
        f"{m['judgments']['unparsed']} unparsed, {m['judgments']['missing']} missing)"
    t = Table(title=title, title_justify="left")
    for name in ("rank", "model", "n", "score", f"{level}% CI", "BT", "controlled", f"{level}% CI", "ctrl rank",
                 "words"):
        t.add_column(name, justify="left" if name == "model" else "right")
    for x in results["models"]:
        change = ""
        if x["rank"] is not None and x["controlled_rank"] is not None and x["rank"] != x["controlled_rank"]:
            d = x["rank"] - x["controlled_rank"]
            change = f" ({d:+d})"
        t.add_row(_f(x["rank"], "d"), x["name"] + (" (baseline)" if x["name"] == m.get("baseline") else ""),
                  str(x["n"]), _f(x["score"]), _ci(x["ci_low"], x["ci_high"]), _f(x["bt_score"]),
                  _f(x["controlled_score"]), _ci(x["controlled_ci_low"], x["controlled_ci_high"]),
                  Text(_f(x["controlled_rank"], "d") + change,
                       style="bold" if change else ""), _f(x["mean_words"], ".1f"))
    return t


def style_table(results: dict[str, Any]) -> Table:
    level = int(round(100 * results["method"]["bootstrap"]["level"]))
    t = Table(title="Price of style (models' strengths held fixed)", title_justify="left")
    for name in ("feature", "coef", f"{level}% CI", "p", "definition"):
        t.add_column(name, justify="left" if name in ("feature", "definition") else "right")
    for name, s in results["style"].items():
        significant = s["ci_low"] is not None and (s["ci_low"] > 0 or s["ci_high"] < 0)
        p = "–" if s["p_value"] is None else ("<0.001" if s["p_value"] < 0.001 else f"{s['p_value']:.3f}")
        t.add_row(name, Text(_f(s["coef"]), style="bold" if significant else ""), _ci(s["ci_low"], s["ci_high"]), p,
                  s["definition"] + (f" ({s['note']})" if s.get("note") else ""))
    return t
