"""Surface style features of an answer: what a style-biased judge might be reacting to.

Counts only, no judgement of content; used to describe pairs and as covariates in the
style-controlled regression."""

from __future__ import annotations

import re

_HEADER = re.compile(r"(?m)^[ \t]*#{1,6}[ \t]")
_BULLET = re.compile(r"(?m)^[ \t]*(?:[-*+]|\d+[.)])[ \t]")
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
# Further markdown structure: quotes, table rows, code fences; inline code and links.
_OTHER_LINE = re.compile(r"(?m)^[ \t]*(?:>[ \t]|\|.*\|[ \t]*$|```)")
_OTHER_INLINE = re.compile(r"`[^`\n]+`|\[[^\]\n]+\]\([^)\n]+\)")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\U0001F000-\U0001F2FF]")
_HEDGES = re.compile(r"\b(?:I think|I believe|I'm not (?:entirely |fully |completely )?(?:sure|certain)|"
                     r"may be wrong|might be wrong|could be mistaken|not fully sure|as far as I can tell|"
                     r"if I remember correctly|perhaps|possibly|probably)\b", re.IGNORECASE)
_BOOSTERS = re.compile(r"\b(?:definitely|definitively|certainly|without (?:a )?(?:doubt|question)|no doubt|"
                       r"clearly|undoubtedly|rely on this completely|simply mistaken|settled)\b", re.IGNORECASE)
_AUTHORITY = re.compile(r"\b(?:experts?|peer-reviewed|literature|authorities|encyclopaedias?|"
                        r"encyclopedias?|textbooks?|source:|according to)\b", re.IGNORECASE)


def style_features(text: str) -> dict[str, float]:
    """words, chars, headers, bullets, bold, markdown (their sum), emoji, exclamations,
    hedges, boosters, authority."""
    headers, bullets, bold = len(_HEADER.findall(text)), len(_BULLET.findall(text)), len(_BOLD.findall(text))
    return {
        "words": float(len(text.split())),
        "chars": float(len(text)),
        "headers": float(headers),
        "bullets": float(bullets),
        "bold": float(bold),
        "markdown": float(headers + bullets + bold),
        "emoji": float(len(_EMOJI.findall(text))),
        "exclamations": float(text.count("!")),
        "hedges": float(len(_HEDGES.findall(text))),
        "boosters": float(len(_BOOSTERS.findall(text))),
        "authority": float(len(_AUTHORITY.findall(text))),
    }


def markdown_marks(text: str) -> int:
    """How many markdown structures (headers, list items, quotes, tables, bold, code, links) a text has."""
    return sum(len(p.findall(text)) for p in (_HEADER, _BULLET, _BOLD, _OTHER_LINE, _OTHER_INLINE))
