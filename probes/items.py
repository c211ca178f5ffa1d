"""Probe seed items: schema, validation and loading.

An item is a plain dict (it travels inside every Pair and record). `validate_item` checks one
line against the schema and the invariants the operators rely on, and raises an InputError
naming file, line and field for the first problem.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

from judgeaudit.errors import InputError
from judgeaudit.jsonl_input import iter_jsonl_objects, require_field
from judgeaudit.probes.answer_checks import CONSTRAINT_TYPES, assess_answer, constraint_satisfied, reads_as_refusal
from judgeaudit.probes.text import count_span, find_span, split_units

CATEGORIES = ("knowledge", "reasoning", "instruction", "safety-refuse", "safety-comply")
DOMAINS = ("science", "geography", "history", "arithmetic", "units-dates", "how-to", "instruction", "safety")
MIN_ELABORATIONS = 2
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\U0001F000-\U0001F2FF]")


def _fail(path, line, field, message):
    raise InputError(path, message, line=line, field=field)


def validate_item(obj: dict[str, Any], path: str | os.PathLike = "<item>", line: int | None = None) -> dict[str, Any]:
    """Check one item; return it with `constraint` defaulted to None. Raises InputError."""
    req = lambda field, kind=str, check=None, expect=None: require_field(  # noqa: E731
        path, line, obj, field, kind, check, expect)
    req("id", str, lambda v: bool(_ID.match(v)), "an id such as geo-001 (letters, digits, '-', '_', '.')")
    category = req("category", str, lambda v: v in CATEGORIES, "one of " + ", ".join(CATEGORIES))
    req("domain", str, lambda v: bool(v.strip()), "a non-empty domain")
    req("prompt", str, lambda v: bool(v.strip()), "a non-empty prompt")
    answer = req("answer", str, lambda v: bool(v.strip()), "a non-empty answer")
    facts = req("key_facts", list, lambda v: 1 <= len(v) <= 3, "a list of 1 to 3 key facts")
    constraint = obj.get("constraint")

    if "**" in answer or re.search(r"(?m)^\s*#", answer) or _EMOJI.search(answer):
        _fail(path, line, "answer", "must be plain prose (no markdown headers, bold or emoji)")
    if re.search(r"(?m)^\s*[-*] ", answer) and not (constraint and constraint.get("type") == "bullet_count"):
        _fail(path, line, "answer", "must not use bullet lines unless the constraint asks for them")

    spans: list[str] = []
    regions: list[tuple[int, int, int]] = []
    for i, fact in enumerate(facts):
        where = f"key_facts[{i}]"
        if not isinstance(fact, dict):
            _fail(path, line, where, f"expected an object with 'span' and 'wrong', got {type(fact).__name__}")
        for key in ("span", "wrong"):
            if not isinstance(fact.get(key), str) or not fact[key].strip():
                _fail(path, line, f"{where}.{key}", "expected a non-empty string")
        span, wrong = fact["span"], fact["wrong"]
        hits = find_span(answer, span)
        if len(hits) != 1:
            _fail(path, line, f"{where}.span", f"{span!r} must occur exactly once in answer as whole word(s) "
                  f"(found {len(hits)})")
        if wrong == span:
            _fail(path, line, f"{where}.wrong", "must differ from the span")
        if count_span(answer, wrong):
            _fail(path, line, f"{where}.wrong", f"{wrong!r} must not occur in answer")
        start, end = hits[0]
        for j, (a, b, _) in enumerate(regions):
            if start < b and a < end:
                _fail(path, line, f"{where}.span", f"overlaps key_facts[{j}].span")
        regions.append((start, end, i))
        spans.append(span)
    for i, f in enumerate(facts):
        for j, g in enumerate(facts):
            if count_span(g["wrong"], f["span"]) or (i != j and count_span(g["wrong"], f["wrong"])):
                _fail(path, line, f"key_facts[{j}].wrong", f"contains key_facts[{i}]'s span or wrong value")
    units = split_units(answer, spans + [f["wrong"] for f in facts])
    for a, b in units:
        inside = [i for s, e, i in regions if a <= s and e <= b]
        if len(inside) > 1:
            _fail(path, line, f"key_facts[{inside[1]}].span", f"shares a sentence with key_facts[{inside[0]}]")

    if category == "instruction":
        if not isinstance(constraint, dict):
            _fail(path, line, "constraint", "instruction items need one constraint object")
    elif constraint is not None:
        _fail(path, line, "constraint", f"must be null for {category} items")
    if isinstance(constraint, dict):
        ctype = constraint.get("type")
        if not isinstance(ctype, str) or ctype not in CONSTRAINT_TYPES:
            _fail(path, line, "constraint.type", "expected one of " + ", ".join(CONSTRAINT_TYPES))
        vtype = CONSTRAINT_TYPES[ctype]
        if vtype is not None:
            value = constraint.get("value")
            if not isinstance(value, vtype) or isinstance(value, bool) or (vtype is int and value < 0) or \
                    (vtype is str and not value.strip()):
                _fail(path, line, "constraint.value", f"expected a {'non-negative integer' if vtype is int else 'non-empty string'} for {ctype}")
        extra = set(constraint) - {"type", "value"}
        if extra:
            _fail(path, line, "constraint", f"unknown keys {sorted(extra)}")

    if category == "safety-refuse" and len(facts) != 1:
        _fail(path, line, "key_facts", "safety-refuse items have exactly one key fact (the helpful redirect)")
    refuses = reads_as_refusal(answer)
    if category == "safety-refuse" and not refuses:
        _fail(path, line, "answer", "a safety-refuse answer must read as a refusal (e.g. \"I can't help with that\")")
    if category != "safety-refuse" and refuses:
        _fail(path, line, "answer", "reads as a refusal, but only safety-refuse answers refuse")
    if constraint is not None and assess_answer({**obj, "constraint": constraint}, answer).constraint_ok is False:
        _fail(path, line, "constraint", "the reference answer does not satisfy it")
    _check_elaborations(obj, constraint, path, line)
    return {**obj, "constraint": constraint}


# Constraints on form that an added sentence must respect by itself; length and sentence-count
# constraints are the pair builder's business (a longer answer may break them, and is skipped).
_FORM_CONSTRAINTS = ("all_lowercase", "no_commas", "avoid_word")


def _check_elaborations(obj: dict[str, Any], constraint: dict[str, Any] | None, path, line) -> None:
    """`elaborations`: 2+ true, on-topic sentences that add no checked fact. Each is checked like
    a style step: no number, no key-fact span or wrong value (in any case), no refusal, plain prose
    in the constraint's form, and the answer with all of them keeps its substance assessment."""
    elabs = obj.get("elaborations")
    if not isinstance(elabs, list) or len(elabs) < MIN_ELABORATIONS:
        _fail(path, line, "elaborations", f"expected a list of at least {MIN_ELABORATIONS} sentences that "
              "add no checked fact")
    answer = obj["answer"]
    # Upper-casing before folding also matches letters whose case mapping is lossy (ı -> I -> i).
    folded = [(f"key_facts[{i}].{k}", f[k].upper().casefold()) for i, f in enumerate(obj["key_facts"])
              for k in ("span", "wrong")]
    for j, text in enumerate(elabs):
        where = f"elaborations[{j}]"
        if not isinstance(text, str) or not text.strip():
            _fail(path, line, where, "expected a non-empty string")
        if "\n" in text or not re.search(r"\w", text) or text.strip()[-1] not in ".!?":
            _fail(path, line, where, "expected one or more whole sentences on one line, ending in . ! or ?")
        if re.search(r"\d", text):
            _fail(path, line, where, "must not contain a number (it would be a new, unchecked fact)")
        for field, value in folded:
            if count_span(text.upper().casefold(), value):
                _fail(path, line, where, f"must not contain {field} ({value!r}), in any case")
        if reads_as_refusal(text):
            _fail(path, line, where, "must not read as a refusal")
        if "**" in text or text.lstrip().startswith(("#", "- ", "* ")) or _EMOJI.search(text):
            _fail(path, line, where, "must be plain prose (no markdown or emoji)")
        if text.strip() in answer or elabs.index(text) != j:
            _fail(path, line, where, "repeats the answer or another elaboration")
        if constraint and constraint.get("type") in _FORM_CONSTRAINTS and not constraint_satisfied(constraint, text):
            _fail(path, line, where, f"breaks the item's {constraint['type']} constraint on its own")
    before = assess_answer({**obj, "constraint": None}, answer)
    after = assess_answer({**obj, "constraint": None}, answer + " " + " ".join(elabs))
    if before != after:
        _fail(path, line, "elaborations", "adding them changes the answer's substance assessment")


def _iter_items(path: str | os.PathLike) -> Iterable[tuple[int, dict[str, Any]]]:
    for lineno, obj in iter_jsonl_objects(path):
        yield lineno, validate_item(obj, path, lineno)


def packaged_item_files() -> list[Path]:
    data = resources.files("judgeaudit.probes") / "data"
    if not data.is_dir():
        return []
    return sorted(Path(str(p)) for p in data.iterdir() if p.name.startswith("items_") and p.name.endswith(".jsonl"))


def load_items(path: str | os.PathLike | Sequence[str | os.PathLike] | None = None, *,
               sort: bool = True) -> list[dict[str, Any]]:
    """Items from a file, a directory of `items_*.jsonl`, a list of files, or (None) the
    packaged seed items; validated, ids unique across files, sorted by id."""
    if path is None:
        files: Iterable[Path] = packaged_item_files()
    elif isinstance(path, (str, os.PathLike)):
        p = Path(path)
        files = sorted(p.glob("items_*.jsonl")) if p.is_dir() else [p]
    else:
        files = [Path(p) for p in path]
    items: list[dict[str, Any]] = []
    where: dict[str, str] = {}
    for f in files:
        count = 0
        for lineno, item in _iter_items(f):
            if item["id"] in where:
                raise InputError(f, f"duplicate id {item['id']!r} (first at {where[item['id']]})", line=lineno,
                                 field="id")
            where[item["id"]] = f"{f}:{lineno}"
            items.append(item)
            count += 1
        if not count:
            raise InputError(f, "no items")
    if not items:
        raise InputError(path or "judgeaudit.probes/data", "no items files found")
    return sorted(items, key=lambda it: it["id"]) if sort else items
