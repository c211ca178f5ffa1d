"""Phrase banks for the tone operators, read from `data/tone_phrases.yaml`.

Banks are data so that phrasings can be added without touching code. Each bank is a list of
groups `{fits: [categories], phrases: [...]}`; an item draws from every group that fits its
category. Loading checks the file and names the field of the first problem.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import yaml

from judgeaudit.errors import InputError
from judgeaudit.probes.answer_checks import reads_as_refusal

PHRASE_FILE = "judgeaudit.probes/data/tone_phrases.yaml"
MIN_PHRASES = 20
# Banks every tone operator draws an opening and a closing from; others (emoji) are optional.
REQUIRED_SLOTS = ("opener", "closer")


def parse_phrase_banks(doc: Any, where: str = PHRASE_FILE) -> dict[str, dict[str, dict[str, tuple[str, ...]]]]:
    """{operator: {slot: {category: phrasings}}} from a parsed YAML document; InputError on a bad one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("categories"), list) or not doc["categories"]:
        raise InputError(where, "expected a mapping with a non-empty 'categories' list", field="categories")
    categories = [str(c) for c in doc["categories"]]
    banks: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {}
    for op, slots in doc.items():
        if op == "categories":
            continue
        if not isinstance(slots, dict):
            raise InputError(where, "expected a mapping of banks (opener, closer, ...)", field=op)
        banks[op] = {}
        for slot, groups in slots.items():
            field = f"{op}.{slot}"
            if not isinstance(groups, list) or not groups:
                raise InputError(where, "expected a non-empty list of {fits, phrases} groups", field=field)
            pools: dict[str, list[str]] = {c: [] for c in categories}
            for g, group in enumerate(groups):
                gfield = f"{field}[{g}]"
                fits, phrases = (group.get("fits"), group.get("phrases")) if isinstance(group, dict) else (None, None)
                if not isinstance(fits, list) or not fits or any(c not in categories for c in fits):
                    raise InputError(where, "fits must list categories from " + ", ".join(categories),
                                     field=f"{gfield}.fits")
                if not isinstance(phrases, list) or not phrases:
                    raise InputError(where, "expected a non-empty list of phrasings", field=f"{gfield}.phrases")
                for k, phrase in enumerate(phrases):
                    pfield = f"{gfield}.phrases[{k}]"
                    if not isinstance(phrase, str) or not phrase.strip():
                        raise InputError(where, "expected a non-empty string", field=pfield)
                    if re.search(r"\d", phrase):
                        raise InputError(where, f"{phrase!r} carries a number; phrasings make no claims", field=pfield)
                    if reads_as_refusal(phrase):
                        raise InputError(where, f"{phrase!r} reads as a refusal and would change the substance "
                                         "assessment", field=pfield)
                    for c in fits:
                        if phrase in pools[c]:
                            raise InputError(where, f"{phrase!r} is listed twice for {c}", field=pfield)
                        pools[c].append(phrase)
            if slot in REQUIRED_SLOTS:
                for c, pool in pools.items():
                    if len(pool) < MIN_PHRASES:
                        raise InputError(where, f"{c} items get only {len(pool)} phrasings; at least "
                                         f"{MIN_PHRASES} are needed so that phrases rarely repeat", field=field)
            banks[op][slot] = {c: tuple(p) for c, p in pools.items()}
        missing = [s for s in REQUIRED_SLOTS if s not in banks[op]]
        if missing:
            raise InputError(where, f"missing bank(s) {missing}", field=op)
    return banks


@functools.lru_cache(maxsize=1)
def _banks() -> tuple[tuple[str, ...], dict[str, dict[str, dict[str, tuple[str, ...]]]]]:
    text = (resources.files("judgeaudit.probes") / "data" / "tone_phrases.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    return tuple(doc["categories"]), parse_phrase_banks(doc)


def phrase_categories() -> tuple[str, ...]:
    return _banks()[0]


def phrase_bank(operator: str, slot: str, category: str) -> tuple[str, ...]:
    """The phrasings of one operator's bank that fit `category` (empty if it has no such bank)."""
    return _banks()[1].get(operator, {}).get(slot, {}).get(category, ())
