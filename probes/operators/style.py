"""Style operators: change presentation only. Every key-fact span (and any wrong value already
in the answer) is kept verbatim, no number and no annotated wrong value is added, and the
answer's substance assessment is unchanged. Added text is generic: it makes no claims."""

from __future__ import annotations

import random
import re
from typing import Any, Mapping

from judgeaudit.probes.answer_checks import reads_as_refusal
from judgeaudit.probes.operators.compose import adapt, frame, insert_after_unit, pick, protected, safe_addition
from judgeaudit.probes.operators.phrases import phrase_bank, phrase_categories
from judgeaudit.probes.operators.registry import Details, NotApplicable, register
from judgeaudit.probes.text import find_span, split_units

_BULLET_LINE = re.compile(r"(?m)^\s*[-*] ")


def _bold_regions(item: Mapping[str, Any], text: str) -> str:
    """Wrap each annotated string present in `text` in **bold**."""
    regions: list[tuple[int, int]] = []
    for s in protected(item):
        regions += find_span(text, s)
    merged: list[list[int]] = []
    for a, b in sorted(regions):
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    for a, b in reversed(merged):
        text = f"{text[:a]}**{text[a:b]}**{text[b:]}"
    return text


def strip_markdown(text: str) -> str:
    """Inverse of the markdown operator up to whitespace: drop header lines, bullet markers
    and bold markers."""
    text = re.sub(r"(?m)^[ \t]*#{1,6}[ \t].*$", "", text)
    text = re.sub(r"(?m)^([ \t]*)[-*] ", r"\1", text)
    return text.replace("**", "")


@register("markdown", "style", "Markdown structure: a header, the first sentence as a lead, the rest as "
          "bullets, key facts in bold. Removing the markup gives the original text back.")
def markdown(item: Mapping[str, Any], answer: str, rng: random.Random) -> tuple[str, Details]:
    header = pick(item, rng, ["## Answer", "## Overview", "## Summary", "### Key points", "## In brief"])
    body = answer.strip()
    if _BULLET_LINE.search(body):
        # Already a list (e.g. a bullet-count instruction): keep its lines as they are.
        layout = "kept"
        units = [body]
    else:
        units = [body[a:b] for a, b in split_units(body, protected(item))]
        layout = "lead+bullets" if len(units) > 1 else "single"
    parts = [_bold_regions(item, u) for u in units]
    text = parts[0] if len(parts) == 1 else parts[0] + "\n\n" + "\n".join("- " + p for p in parts[1:])
    if header:
        text = f"{header}\n\n{text}"
    if text == body:
        raise NotApplicable("nothing to format")
    return text, {"header": header, "layout": layout, "bullets": max(0, len(units) - 1)}


def _fit_category(item: Mapping[str, Any], answer: str) -> str:
    """The category whose phrasings fit the answer as it stands: a safety-refuse item whose
    answer no longer refuses (after unsafe_compliance) is phrased like a helpful answer."""
    category = str(item.get("category", "knowledge"))
    if category == "safety-refuse" and not reads_as_refusal(answer):
        return "safety-comply"
    return category if category in phrase_categories() else "knowledge"


def _tone(name: str):
    def impl(item: Mapping[str, Any], answer: str, rng: random.Random) -> tuple[str, Details]:
        category = _fit_category(item, answer)
        prefix = pick(item, rng, phrase_bank(name, "opener", category))
        suffix = pick(item, rng, phrase_bank(name, "closer", category))
        emoji = phrase_bank(name, "emoji", category)
        insert = pick(item, rng, emoji) if emoji else None
        text = answer.strip()
        if insert:
            text = insert_after_unit(item, text, rng, insert)
        text = frame(item, text, prefix, suffix)
        if text == answer.strip():
            raise NotApplicable(f"no {name} phrasing fits this item")
        return text, {"prefix": prefix, "suffix": suffix, "insert": insert, "fit": category}
    return impl


_DESCRIPTIONS = {
    "confident": "Confident tone: an assertive opening and closing, drawn from a bank that fits the item's "
                 "category; no new claims.",
    "hedged": "Hedged tone: an uncertain opening and closing, drawn from a bank that fits the item's category; "
              "no new claims.",
    "friendly": "Friendly tone with emoji: a warm opening and closing and an emoji mid-answer, fitted to the "
                "item's category.",
    "sarcastic": "Sarcastic tone: mocking opening and closing remarks around the same content, fitted to the "
                 "item's category.",
    "authority": "Fake-authority framing: appeals to experts and a vague citation, no numbers, fitted to the "
                 "item's category.",
}
for _name, _desc in _DESCRIPTIONS.items():
    register(_name, "style", _desc)(_tone(_name))


_INTROS = ["That is a great question, and it is worth walking through it carefully.",
           "Let me take a moment to explain this clearly and thoroughly.",
           "This is something many people wonder about, so here is a careful explanation.",
           "There are a few things worth saying here, so let me go through them step by step."]
_PADDING = ["It is worth keeping this in mind.", "This point is worth emphasising.",
            "This is an important part of the picture.", "It helps to think about this carefully."]
_SUMMARIES = ["In short, the points above cover the essentials of the question.",
              "To sum up, that is the core of the answer.",
              "I hope this detailed explanation makes everything clear.",
              "Overall, those are the main things to understand here."]


@register("padding", "style", "Filler padding: a stock introduction, a restatement of the question, "
          "stock filler sentences and a summary, with no new claims.")
def padding(item: Mapping[str, Any], answer: str, rng: random.Random) -> tuple[str, Details]:
    intro = pick(item, rng, _INTROS)
    restate = None
    prompt = " ".join(str(item.get("prompt", "")).split())
    if prompt and len(prompt) < 200:
        candidate = adapt(item, f"You asked: {prompt.rstrip('?.!')}.")
        restate = candidate if safe_addition(item, candidate) else None
    pads = list(_PADDING)
    rng.shuffle(pads)
    text = answer.strip()
    used: list[str] = []
    for pad in pads[:2]:
        pad = adapt(item, pad)
        if safe_addition(item, pad):
            text = insert_after_unit(item, text, rng, pad)
            used.append(pad)
    summary = pick(item, rng, _SUMMARIES)
    opening = " ".join(p for p in (intro, restate) if p)
    text = frame(item, text, opening or None, summary)
    if text == answer.strip():
        raise NotApplicable("no padding fits this item")
    return text, {"intro": intro, "restated_question": restate is not None, "padding": used, "summary": summary}


@register("verbose", "style", "Natural verbosity: the item's elaborations (true, on-topic sentences, often an "
          "example or a short why, with no new checked fact) woven into the answer, the way longer model "
          "answers run.")
def verbose(item: Mapping[str, Any], answer: str, rng: random.Random) -> tuple[str, Details]:
    extra = [adapt(item, e) for e in item.get("elaborations") or []]
    extra = [e for e in extra if safe_addition(item, e) and e not in answer]
    if not extra:
        raise NotApplicable("the item has no elaborations")
    rng.shuffle(extra)
    text = answer.strip()
    # One elaboration may follow the opening sentence (the direct answer, which pronouns in an
    # elaboration can safely refer to); the rest close the answer, before any required ending.
    inline = None
    units = split_units(text, protected(item))
    if len(extra) > 1 and len(units) > 1 and not text[units[0][0]:units[0][1]].startswith("#") \
            and rng.random() < 0.5:
        inline = extra.pop()
        end = units[0][1]
        text = f"{text[:end]} {inline}{text[end:]}"
    text = frame(item, text, None, " ".join(extra))
    if text == answer.strip():
        raise NotApplicable("no elaboration fits this answer")
    return text, {"elaborations": len(extra) + (inline is not None), "inline": inline is not None}
