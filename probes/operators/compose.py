"""Helpers shared by the operators: picking added text that is safe for an item, and placing
it around or inside an answer without touching the annotated spans."""

from __future__ import annotations

import random
import re
from typing import Any, Mapping, Sequence

from judgeaudit.probes.answer_checks import reads_as_refusal
from judgeaudit.probes.text import count_span, has_word, split_units


def protected(item: Mapping[str, Any]) -> list[str]:
    """Every annotated string: the key-fact spans and their wrong values."""
    out: list[str] = []
    for fact in item.get("key_facts") or []:
        out += [fact["span"], fact["wrong"]]
    return out


def adapt(item: Mapping[str, Any], text: str) -> str:
    """Shape added text to the item's format constraint, so styling alone does not break it."""
    constraint = item.get("constraint") or {}
    if constraint.get("type") == "all_lowercase":
        text = text.lower()
    if constraint.get("type") == "no_commas":
        text = re.sub(r"\s*,\s*", " ", text).strip()
    return text


def safe_addition(item: Mapping[str, Any], text: str) -> bool:
    """Added text must not carry a number, an annotated span or wrong value, a refusal, or
    a word the item's constraint forbids: it changes style only."""
    if not text.strip() or re.search(r"\d", text) or reads_as_refusal(text):
        return False
    if any(count_span(text, s) for s in protected(item)):
        return False
    constraint = item.get("constraint") or {}
    if constraint.get("type") == "avoid_word" and has_word(text, constraint["value"]):
        return False
    return True


def pick(item: Mapping[str, Any], rng: random.Random, candidates: Sequence[str]) -> str | None:
    """A random candidate (adapted to the item) that is safe to add; None if none is."""
    order = list(candidates)
    rng.shuffle(order)
    for text in order:
        text = adapt(item, text)
        if safe_addition(item, text):
            return text
    return None


def ending(item: Mapping[str, Any]) -> str | None:
    constraint = item.get("constraint") or {}
    return constraint.get("value") if constraint.get("type") == "end_with" else None


def frame(item: Mapping[str, Any], answer: str, prefix: str | None, suffix: str | None,
          sep: str = " ") -> str:
    """prefix + answer + suffix; a suffix goes before a required ending, never after it."""
    body = answer.strip()
    header = ""
    if "\n" in body:
        # Structured (markdown or list) answer: added sentences become their own paragraphs,
        # and a leading header line stays first.
        sep = "\n\n"
        if body.startswith("#"):
            header, _, body = body.partition("\n")
            header, body = header + "\n\n", body.strip()
    if suffix:
        end = ending(item)
        if end and body.endswith(end) and len(body) > len(end):
            head = body[: -len(end)].rstrip()
            body = f"{head}{sep}{suffix}{sep}{end}"
        else:
            body = f"{body}{sep}{suffix}"
    if prefix:
        body = f"{prefix}{sep}{body}"
    return header + body


def insert_after_unit(item: Mapping[str, Any], answer: str, rng: random.Random, text: str) -> str:
    """Insert `text` after a randomly chosen sentence other than the last one (no-op for a
    one-sentence answer)."""
    units = split_units(answer, protected(item))
    # Any sentence but the last; never a markdown header line.
    options = [k for k in range(len(units) - 1) if not answer[units[k][0]:units[k][1]].startswith("#")]
    if not options:
        return answer
    end = units[rng.choice(options)][1]
    return f"{answer[:end]} {text}{answer[end:]}"


def remove_unit(answer: str, units: list[tuple[int, int]], k: int) -> str:
    start, end = units[k]
    if k + 1 < len(units):
        return answer[:start] + answer[units[k + 1][0]:]
    return answer[: units[k - 1][1]] + answer[end:] if k > 0 else answer[end:]
