"""Offline sentence, word and token splitting for the instruction checkers.

The reference IFEval checkers count sentences and capitalised words with NLTK's Punkt
models, which must be downloaded at run time. These regular-expression splitters need
no data files and agree with Punkt on ordinary prose: a sentence ends at ., ! or ?
(optionally followed by closing quotes or brackets) before whitespace and a character
that is not a lowercase letter, except after common abbreviations, initials and inside
numbers; line breaks alone do not end a sentence.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "inc", "ltd", "co", "corp",
    "e.g", "i.e", "cf", "al", "approx", "dept", "est", "fig", "gen", "gov", "no", "vol", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "capt", "lt", "col", "sgt",
    "rev", "u.s", "u.k", "a.m", "p.m", "ph.d", "b.c", "a.d",
}

_BOUNDARY = re.compile(r"""([.!?…]+["'”’)\]]*)(\s+)(?=\S)""")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; empty or whitespace-only text has none."""
    text = text.strip()
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end(1)
        following = text[match.end():match.end() + 1]
        if following.islower():
            continue
        before = text[start:match.start(1)]
        punct = match.group(1)
        if punct.startswith(".") and not punct.startswith(".."):
            word = _LAST_WORD.search(before)
            if word:
                token = word.group(1).lower()
                if token in _ABBREVIATIONS or len(token) == 1:
                    continue  # "Dr. Smith", "J. R. Tolkien"
        sentences.append(text[start:end].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


_WORD = re.compile(r"\w+")


def count_words(text: str) -> int:
    """Runs of word characters, as the reference counts words (so "don't" is two)."""
    return len(_WORD.findall(text))


# Word-level tokens close to the Penn Treebank convention: contractions split off
# ("DON'T" -> "DON", "'T"), hyphenated and dotted words kept whole ("U.S", "WELL-KNOWN").
_TOKEN = re.compile(r"'(?:s|re|ve|ll|d|m|t)\b|[^\W_](?:[\w.\-]*[^\W_])?", re.IGNORECASE)


def word_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)
