"""Audit policies: thresholds over results.json, checked into a pass/fail report card.

A policy is a TOML file with one ``[policy]`` table (see default_policy.toml for every key).
A key left out is not checked; an unknown key or a value of the wrong type is an input
error naming the file and the key.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from judgeaudit.reports.formatting import num as _format_num
from judgeaudit.errors import InputError

# key -> (type, what it checks)
POLICY_KEYS: dict[str, tuple[type, str]] = {
    "max_first_position_rate_dev": (float, "|indices.first_position_rate - 0.5| <= value"),
    "min_accuracy": (float, "indices.accuracy (substance and crossed pairs) >= value"),
    "max_ece": (float, "indices.ece <= value (distribution judges; hard verdicts are not scored)"),
    "name": (str, "policy name shown on the report card"),
    "max_style_over_substance_rate": (float, "indices.style_over_substance_rate <= value"),
    "min_position_consistency": (float, "indices.position_consistency >= value"),
    "substance_ci_below_zero": (bool, "every substance probe has ci_high < 0"),
    "max_style_sensitivity": (float, "indices.style_sensitivity <= value"),
    "max_judge_probe_delta": (float, "every judge-facing probe has ci_high <= value"),
    "max_unparsed_share": (float, "unparsed judgments / all judgments <= value"),
    "min_substance_sensitivity": (float, "indices.substance_sensitivity >= value"),
}


# The values a number key can take: shares and rates lie in [0, 1], deltas and deviations of
# win rates in [-0.5, 0.5] or [0, 0.5]; a value outside its range (or nan, inf) is refused.
POLICY_RANGES: dict[str, tuple[float, float]] = {
    "max_style_over_substance_rate": (0.0, 1.0), "min_position_consistency": (0.0, 1.0),
    "max_style_sensitivity": (0.0, 0.5), "max_judge_probe_delta": (-0.5, 0.5), "max_unparsed_share": (0.0, 1.0),
    "min_substance_sensitivity": (-0.5, 0.5), "max_first_position_rate_dev": (0.0, 0.5),
    "min_accuracy": (0.0, 1.0), "max_ece": (0.0, 1.0),
}
assert set(POLICY_RANGES) == {k for k, (kind, _) in POLICY_KEYS.items() if kind is float}  # noqa: S101


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: str
    requirement: str
    detail: str = ""


@dataclass(frozen=True)
class Policy:
    name: str
    rules: dict[str, Any]
    source: str


def default_policy_text() -> str:
    return resources.files("judgeaudit.stats").joinpath("default_policy.toml").read_text(encoding="utf-8")


def load_policy(path: str | os.PathLike | None = None) -> Policy:
    """Read a policy file (the packaged default when ``path`` is None)."""
    if path is None:
        text, source = default_policy_text(), "default_policy.toml"
    else:
        source = str(path)
        if not os.path.exists(path):
            raise InputError(path, "no such file")
        from judgeaudit.jsonl_input import read_text

        text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(source, f"invalid TOML ({str(exc).split(' (at')[0]})",
                         line=int(m.group(1)) if m else None) from None
    table = data.get("policy")
    if not isinstance(table, dict):
        raise InputError(source, "expected a [policy] table", field="policy")
    unknown = set(data) - {"policy"}
    if unknown:
        raise InputError(source, "unknown table (only [policy] is read)", field=sorted(unknown)[0])
    rules: dict[str, Any] = {}
    for key, value in table.items():
        if key not in POLICY_KEYS:
            raise InputError(source, f"unknown key; expected one of {', '.join(POLICY_KEYS)}", field=f"policy.{key}")
        kind = POLICY_KEYS[key][0]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is float and isinstance(value, bool)):
            raise InputError(source, f"expected {kind.__name__}, got {type(value).__name__}", field=f"policy.{key}")
        if key in POLICY_RANGES:
            low, high = POLICY_RANGES[key]
            if not (math.isfinite(value) and low <= value <= high):
                raise InputError(source, f"expected a number in [{low:g}, {high:g}], got {value!r}",
                                 field=f"policy.{key}")
        rules[key] = value
    return Policy(name=str(rules.pop("name", os.path.basename(source))), rules=rules, source=source)


def evaluate(policy: Policy, results: dict[str, Any]) -> list[Check]:
    """One check per rule; a rule whose value is missing from the results fails."""
    idx = results.get("indices", {})
    probes = results.get("probes", [])
    checks: list[Check] = []

    def bound(key: str, metric: str, upper: bool) -> None:
        limit = policy.rules[key]
        value = idx.get(metric)
        ok = value is not None and (value <= limit if upper else value >= limit)
        checks.append(Check(metric, ok, _format_num(value, missing='n/a'), f"{'<=' if upper else '>='} {limit:g}",
                            "" if value is not None else "not measured"))

    r = policy.rules
    if "max_style_over_substance_rate" in r:
        bound("max_style_over_substance_rate", "style_over_substance_rate", True)
    if "min_position_consistency" in r:
        bound("min_position_consistency", "position_consistency", False)
    if "max_style_sensitivity" in r:
        bound("max_style_sensitivity", "style_sensitivity", True)
    if "min_substance_sensitivity" in r:
        bound("min_substance_sensitivity", "substance_sensitivity", False)
    if "max_first_position_rate_dev" in r:
        limit = r["max_first_position_rate_dev"]
        rate = idx.get("first_position_rate")
        dev = abs(rate - 0.5) if rate is not None else None
        checks.append(Check("first_position_rate", dev is not None and dev <= limit + 1e-12,
                            _format_num(rate, missing="n/a"), f"within 0.5 ± {limit:g}",
                            "" if rate is not None else "not measured"))
    if "min_accuracy" in r:
        bound("min_accuracy", "accuracy", False)
    if "max_ece" in r:
        if idx.get("ece") is None:
            checks.append(Check("ece", True, "n/a", f"<= {r['max_ece']:g}",
                                "not applicable: the judge gives hard verdicts, not a distribution"))
        else:
            bound("max_ece", "ece", True)
    if r.get("substance_ci_below_zero"):
        sub = [p for p in probes if p["kind"] == "substance"]
        bad = [p["name"] for p in sub if p.get("ci_high") is None or p["ci_high"] >= 0]
        worst = max((p["ci_high"] for p in sub if p.get("ci_high") is not None), default=None)
        checks.append(Check("substance probes detected", bool(sub) and not bad,
                            f"max ci_high {_format_num(worst, missing='n/a')}", "every substance CI < 0",
                            ("failing: " + ", ".join(bad)) if bad else ("" if sub else "no substance probes")))
    if "max_judge_probe_delta" in r:
        limit = r["max_judge_probe_delta"]
        jp = [p for p in probes if p["kind"] == "judge"]
        bad = [p["name"] for p in jp if p.get("ci_high") is None or p["ci_high"] > limit]
        worst = max((p["ci_high"] for p in jp if p.get("ci_high") is not None), default=None)
        checks.append(Check("judge-facing probes", bool(jp) and not bad, f"max ci_high {_format_num(worst, missing='n/a')}",
                            f"every ci_high <= {limit:g}",
                            ("failing: " + ", ".join(bad)) if bad else ("" if jp else "no judge-facing probes")))
    if "max_unparsed_share" in r:
        limit = r["max_unparsed_share"]
        total = results.get("n_judgments") or sum(p.get("n_judgments", 0) for p in probes)
        unparsed = results.get("unparsed", sum(p.get("unparsed", 0) for p in probes))
        share = unparsed / total if total else None
        checks.append(Check("unparsed share", share is not None and share <= limit, _format_num(share, missing='n/a'), f"<= {limit:g}",
                            f"{unparsed} of {total} judgments"))
    return checks


def passed(checks: list[Check]) -> bool:
    return all(c.passed for c in checks)
