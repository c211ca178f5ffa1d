"""Audit policies: thresholds over results.json, checked into a pass/fail report card.

A policy is a TOML file with one ``[policy]`` table (see default_policy.toml for every key).
A key left out is not checked; an unknown key or a value of the wrong type is an input
error naming the file and the key.
"""

from __future__ import annotations

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
    "name": (str, "policy name shown on the report card"),
    "max_style_over_substance_rate": (float, "indices.style_over_substance_rate <= value"),
    "min_position_consistency": (float, "indices.position_consistency >= value"),
    "substance_ci_below_zero": (bool, "every substance probe has ci_high < 0"),
    "max_style_sensitivity": (float, "indices.style_sensitivity <= value"),
    "max_judge_probe_delta": (float, "every judge-facing probe has ci_high <= value"),
    "max_unparsed_share": (float, "unparsed judgments / all judgments <= value"),
    "min_substance_sensitivity": (float, "indices.substance_sensitivity >= value"),
}


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
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
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
