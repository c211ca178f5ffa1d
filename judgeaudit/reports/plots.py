"""Report figures (matplotlib, Agg backend), returned as data: URIs for a self-contained page."""

from __future__ import annotations

import base64
import io
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from judgeaudit.vocabulary import PROBE_KINDS as KIND_ORDER  # noqa: E402

KIND_COLORS = {"style": "#4C72B0", "substance": "#C44E52", "crossed": "#8172B2", "judge": "#DD8452",
               "control": "#7F7F7F"}
KIND_LABELS = {"style": "Style only", "substance": "Substance only", "crossed": "Crossed (styled wrong vs plain right)",
               "judge": "Judge-facing", "control": "Control (identical answers)"}


def to_data_uri(fig: Figure, fmt: str = "png", dpi: int = 110) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def grouped(probes: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups = []
    for kind in KIND_ORDER + tuple(sorted({p["kind"] for p in probes} - set(KIND_ORDER))):
        members = [p for p in probes if p["kind"] == kind]
        if members:
            groups.append((kind, members))
    return groups


def forest_plot(results: dict[str, Any]) -> Figure:
    """Delta and CI per probe, grouped by kind; 0 = the judge ignores the perturbation."""
    groups = grouped(results["probes"])
    rows: list[tuple[str, dict[str, Any] | None, str]] = []
    for kind, members in groups:
        rows.append((KIND_LABELS.get(kind, kind), None, kind))
        rows += [(p["name"], p, kind) for p in members]
    height = 0.9 + 0.32 * len(rows)
    fig, ax = plt.subplots(figsize=(8.5, height))
    control = next((p for p in results["probes"] if p["kind"] == "control" and p.get("ci_low") is not None), None)
    if control is not None and control["ci_high"] > control["ci_low"]:
        ax.axvspan(control["ci_low"], control["ci_high"], color="#BBBBBB", alpha=0.35, lw=0,
                   label="control CI (noise)")
    ax.axvline(0, color="black", lw=1)
    labels = []
    for y, (label, p, kind) in enumerate(rows):
        if p is None:
            labels.append(label)
            continue
        labels.append(f"  {label} (n={p['n']})")
        if p.get("delta") is None:
            ax.text(0, y, "no parsed pairs", va="center", ha="center", fontsize=8, color="#999999")
            continue
        color = KIND_COLORS.get(kind, "black")
        if p.get("ci_low") is not None:
            ax.hlines(y, p["ci_low"], p["ci_high"], color=color, lw=2.2)
        significant = p.get("p_holm") is not None and p["p_holm"] < 0.05
        ax.plot(p["delta"], y, "o", color=color, ms=7, mfc=color if significant else "white", mew=1.8)
    ax.set_yticks(range(len(rows)), labels)
    for tick, (_, p, _) in zip(ax.get_yticklabels(), rows):
        if p is None:
            tick.set_fontweight("bold")
    ax.invert_yaxis()
    ax.set_xlim(-0.55, 0.55)
    ax.set_xlabel("delta = win score of the perturbed answer - 0.5   (filled: Holm p < 0.05)")
    ax.set_title("Effect of each perturbation on the judge (95% CI, bootstrap over items)", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    if control is not None and control["ci_high"] > control["ci_low"]:
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def quadrant_plot(runs: Sequence[dict[str, Any]]) -> Figure:
    """Style sensitivity (x, ideal 0) against substance sensitivity (y, ideal 0.5), one point per judge."""
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    xs, ys = [0.0], [0.5]
    ax.axhline(0.25, color="#CCCCCC", lw=1, ls="--")
    ax.axvline(0.1, color="#CCCCCC", lw=1, ls="--")
    ax.fill_between([0, 0.1], 0.25, 0.55, color="#55A868", alpha=0.12, lw=0)
    ax.plot(0, 0.5, marker="*", ms=22, color="#55A868", mec="black", zorder=5)
    ax.annotate("ideal judge", (0, 0.5), xytext=(12, -4), textcoords="offset points", fontsize=9,
                color="#2F6B3F")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, res in enumerate(runs):
        idx, ci = res.get("indices", {}), res.get("indices_ci") or {}
        x, y = idx.get("style_sensitivity"), idx.get("substance_sensitivity")
        if x is None or y is None:
            continue
        xerr = _err(x, ci.get("style_sensitivity"))
        yerr = _err(y, ci.get("substance_sensitivity"))
        color = colors[i % len(colors)]
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="o", ms=9, color=color, capsize=3, zorder=6,
                    label=res.get("judge", f"run {i + 1}"))
        ax.annotate(res.get("judge", ""), (x, y), xytext=(8, 6), textcoords="offset points", fontsize=9)
        xs.append(x)
        ys.append(y)
    ax.set_xlim(-0.02, max(0.5, max(xs) + 0.05))
    ax.set_ylim(min(-0.05, min(ys) - 0.08), 0.56)
    corner = dict(fontsize=8, color="#666666")
    ax.text(0.99, 0.98, "sensitive to both", transform=ax.transAxes, ha="right", va="top", **corner)
    ax.text(0.99, 0.02, "rewards style,\nblind to substance", transform=ax.transAxes, ha="right", va="bottom",
            **corner)
    ax.text(0.01, 0.02, "indifferent to everything", transform=ax.transAxes, ha="left", va="bottom", **corner)
    ax.set_xlabel("style sensitivity: mean |delta| over style probes (ideal 0)")
    ax.set_ylabel("substance sensitivity: mean -delta over substance probes (ideal 0.5)")
    ax.set_title("Style vs substance", fontsize=11)
    ax.grid(alpha=0.25)
    if len(runs) > 1:
        ax.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 0.92))
    fig.tight_layout()
    return fig


def _err(value: float, interval: Sequence[float] | None):
    if not interval:
        return None
    return [[max(value - interval[0], 0.0)], [max(interval[1] - value, 0.0)]]


def position_plot(results: dict[str, Any], threshold: float | None = 0.8) -> Figure:
    """Share of items whose two orders agree, per probe and overall."""
    probes = [p for _, members in grouped(results["probes"]) for p in members]
    overall = results.get("indices", {}).get("position_consistency")
    names = [p["name"] for p in probes] + ["ALL PAIRS"]
    values = [p.get("position_consistency") for p in probes] + [overall]
    intervals = [p.get("position_consistency_ci") for p in probes] + [(results.get("indices_ci") or {}).get(
        "position_consistency")]
    colors = [KIND_COLORS.get(p["kind"], "black") for p in probes] + ["black"]
    fig, ax = plt.subplots(figsize=(8.5, 0.9 + 0.3 * len(names)))
    for y, (v, ci, c) in enumerate(zip(values, intervals, colors)):
        if v is None:
            continue
        ax.barh(y, v, color=c, alpha=0.8, height=0.65)
        if ci:
            ax.errorbar(v, y, xerr=_err(v, ci), color="black", capsize=3, lw=1)
        ax.text(min(v + 0.01, 0.93), y, f"{v:.2f}", va="center", fontsize=8)
    if threshold is not None:
        ax.axvline(threshold, color="#C44E52", ls="--", lw=1, label=f"default policy minimum ({threshold:g})")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("position consistency: share of items with the same preference in both orders")
    ax.set_title("Position consistency (95% CI)", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def criteria_plot(weights: dict[str, Any]) -> Figure:
    """Relative weight of each criterion in the overall verdict (factor-wise judges)."""
    names = weights["criteria"]
    values = [weights["weights"].get(n) or 0.0 for n in names]
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    ax.barh(names, values, color=["#55A868" if v >= 0 else "#C44E52" for v in values])
    ax.axvline(0, color="black", lw=1)
    ax.invert_yaxis()
    ax.set_xlabel("share of the overall verdict explained (signed, |weights| sum to 1)")
    ax.set_title("What drives the overall verdict", fontsize=11)
    fig.tight_layout()
    return fig
