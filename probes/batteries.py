"""Probe batteries: named lists of probes, defined as data in `batteries.yaml`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from judgeaudit.errors import InputError
from judgeaudit.probes.operators import OPERATORS
from judgeaudit.vocabulary import PROBE_KINDS



@dataclass(frozen=True)
class Probe:
    name: str
    kind: str
    ops: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Battery:
    name: str
    description: str
    probes: tuple[Probe, ...]

    def probe(self, name: str) -> Probe:
        for p in self.probes:
            if p.name == name:
                return p
        raise KeyError(f"battery {self.name!r} has no probe {name!r}")


def _check_probe(path: str, name: str, spec: Any) -> Probe:
    where = f"probes.{name}"
    if not isinstance(spec, dict):
        raise InputError(path, "expected a mapping with kind and ops", field=where)
    kind, ops = spec.get("kind"), spec.get("ops")
    if kind not in PROBE_KINDS:
        raise InputError(path, f"kind must be one of {', '.join(PROBE_KINDS)}", field=f"{where}.kind")
    if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
        raise InputError(path, "expected a list of operator names", field=f"{where}.ops")
    unknown = [o for o in ops if o not in OPERATORS]
    if unknown:
        raise InputError(path, f"unknown operator(s) {unknown}; known: {', '.join(sorted(OPERATORS))}",
                         field=f"{where}.ops")
    kinds = [OPERATORS[o].kind for o in ops]
    ok = {
        "control": not ops,
        "style": bool(ops) and all(k == "style" for k in kinds),
        "judge": bool(ops) and all(k in ("judge", "style") for k in kinds) and "judge" in kinds,
        "substance": kinds == ["substance"],
        "crossed": len(kinds) >= 2 and kinds[0] == "substance" and all(k == "style" for k in kinds[1:]),
    }[kind]
    if not ok:
        rule = {"control": "no operators", "style": "style operators only",
                "judge": "at least one judge operator (plus optional style ones)",
                "substance": "exactly one substance operator",
                "crossed": "one substance operator followed by one or more style operators"}[kind]
        raise InputError(path, f"a {kind} probe needs {rule}, got {ops}", field=f"{where}.ops")
    description = spec.get("description") or " Then: ".join(OPERATORS[o].description for o in ops)
    return Probe(name, kind, tuple(ops), str(description))


def load_batteries(path: str | os.PathLike | None = None) -> dict[str, Battery]:
    """All batteries in a YAML file (default: the packaged `batteries.yaml`)."""
    if path is None:
        source = resources.files("judgeaudit.probes") / "batteries.yaml"
        where, text = "judgeaudit.probes/batteries.yaml", source.read_text(encoding="utf-8")
    else:
        where = str(path)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise InputError(path, exc.strerror or "cannot read") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(where, f"invalid YAML ({getattr(exc, 'problem', exc)})",
                         line=mark.line + 1 if mark else None) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("probes"), dict) or not isinstance(doc.get("batteries"), dict):
        raise InputError(where, "expected top-level mappings 'probes' and 'batteries'")
    probes = {name: _check_probe(where, name, spec) for name, spec in doc["probes"].items()}
    batteries: dict[str, Battery] = {}
    for name, spec in doc["batteries"].items():
        field = f"batteries.{name}.probes"
        names = spec.get("probes") if isinstance(spec, dict) else None
        if not isinstance(names, list) or not names:
            raise InputError(where, "expected a non-empty list of probe names", field=field)
        missing = [n for n in names if n not in probes]
        if missing:
            raise InputError(where, f"unknown probe(s) {missing}", field=field)
        if len(set(names)) != len(names):
            raise InputError(where, "lists a probe twice", field=field)
        batteries[name] = Battery(name, str(spec.get("description", "")), tuple(probes[n] for n in names))
    return batteries


def get_battery(name: str = "default", path: str | os.PathLike | None = None) -> Battery:
    batteries = load_batteries(path)
    if name not in batteries:
        raise InputError(path or "judgeaudit.probes/batteries.yaml",
                         f"no battery {name!r}; known: {', '.join(batteries)}", field="batteries")
    return batteries[name]
