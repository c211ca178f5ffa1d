"""Small text primitives shared by the answer checks, the operators and item validation.

Matching is whitespace-insensitive and whole-word at alphanumeric edges, so a span "12"
is not found inside "120" and a line break inserted by a formatting operator does not
hide a span that contains a space.
"""

from __future__ import annotations

import re
from typing import Iterable

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Sentence units end at . ! ? followed by whitespace, or at a line break.
_UNIT_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")
_WORD = re.compile(r"\w", re.UNICODE)


def _span_pattern(span: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in span.split()]
    body = r"\s+".join(parts) if parts else re.escape(span)
    lead = r"(?<!\w)" if span[:1].isalnum() else ""
    tail = r"(?!\w)" if span[-1:].isalnum() else ""
    return re.compile(lead + body + tail)


def find_span(text: str, span: str) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) occurrences of `span` in `text`, whole-word at alphanumeric edges."""
    if not span.strip():
        return []
    return [(m.start(), m.end()) for m in _span_pattern(span).finditer(text)]


def count_span(text: str, span: str) -> int:
    return len(find_span(text, span))


def numbers(text: str) -> list[str]:
    """Sorted multiset of the numbers written in `text`."""
    return sorted(NUMBER.findall(text))


def count_words(text: str) -> int:
    """Words are whitespace-separated tokens."""
    return len(text.split())


def has_word(text: str, word: str) -> bool:
    """Whole-word, case-insensitive match."""
    return re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, re.IGNORECASE) is not None


def sentence_count(text: str) -> int:
    return sum(1 for piece in re.split(r"(?<=[.!?])\s+", text.strip()) if _WORD.search(piece))


def protected_regions(text: str, strings: Iterable[str]) -> list[tuple[int, int]]:
    regions: list[tuple[int, int]] = []
    for s in strings:
        if s and s.strip():
            regions.extend(find_span(text, s))
    return sorted(regions)


def split_units(text: str, protect: Iterable[str] = ()) -> list[tuple[int, int]]:
    """Sentence/line units of `text` as (start, end) offsets, never cutting a protected string.

    The text between two consecutive units is their separator (whitespace only).
    """
    regions = protected_regions(text, protect)
    cuts: list[tuple[int, int]] = []
    for m in _UNIT_END.finditer(text):
        if m.start() == 0 or m.end() == len(text):
            continue
        if any(a < m.end() and m.start() < b for a, b in regions):
            continue
        cuts.append((m.start(), m.end()))
    stripped_start = len(text) - len(text.lstrip())
    stripped_end = len(text.rstrip())
    units: list[tuple[int, int]] = []
    pos = stripped_start
    for a, b in cuts:
        if a > pos:
            units.append((pos, a))
        pos = b
    if stripped_end > pos:
        units.append((pos, stripped_end))
    return units
