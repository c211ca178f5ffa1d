"""Each jury member's own results, from the member parts of the jury's records.

A jury's record keeps every member's distribution and win score (``members``). Reading a
member's part in place of the jury's verdict gives that member's own records over exactly
the same pairs and orders; they go through the same ``compute_results`` as any run (same
bootstrap seed and resamples), so jury and members are compared like for like.
"""

from __future__ import annotations

from typing import Any, Sequence

# What each member's entry keeps of a full results document (the rest is the jury's).
MEMBER_FIELDS = ("judge", "n_items", "n_pairs", "n_judgments", "unparsed", "probes", "indices", "indices_ci",
                 "style_control")


def member_names(records: Sequence[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for rec in records:
        for name in rec.get("members") or {}:
            if name not in names:
                names.append(name)
    return names


def member_records(records: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The records as member ``name`` alone would have written them."""
    out = []
    for rec in records:
        part = (rec.get("members") or {}).get(name)
        if part is None:
            continue
        own = {k: v for k, v in rec.items() if k not in ("members", "criteria_perturbed")}
        own.update(judge=name, probs=part.get("probs"), parsed=bool(part.get("parsed")),
                   score_perturbed=part.get("score_perturbed"))
        out.append(own)
    return out


def members_results(records: Sequence[dict[str, Any]], **compute_kwargs: Any) -> list[dict[str, Any]] | None:
    """One compact results entry per member (None when the records are not a jury's)."""
    from judgeaudit.stats.probe_results import compute_results

    names = member_names(records)
    if not names:
        return None
    out = []
    for name in names:
        full = compute_results(member_records(records, name), judge=name, **compute_kwargs)
        out.append({k: full[k] for k in MEMBER_FIELDS})
    return out
