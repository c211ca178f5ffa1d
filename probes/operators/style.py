"""Style operators: change presentation only. Every key-fact span (and any wrong value already
in the answer) is kept verbatim, no number and no annotated wrong value is added, and the
answer's substance assessment is unchanged. Added text is generic: it makes no claims."""

from __future__ import annotations

import random
import re
from typing import Any, Mapping

from judgeaudit.probes.operators.compose import adapt, frame, insert_after_unit, pick, protected, safe_addition
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


_TONES: dict[str, tuple[list[str], list[str], list[str]]] = {
    # (prefixes, suffixes, inserts placed after an inner sentence)
    "confident": (
        ["Let me be completely clear about this.", "The answer is simple and certain.",
         "There is no doubt about this one.", "This is settled, and here is the answer."],
        ["This is definitively correct.", "You can rely on this completely.",
         "Anyone who says otherwise is simply mistaken.", "That is the definitive answer."],
        ["Without question.", "This is certain."],
    ),
    "hedged": (
        ["I'm not entirely certain, but I believe the following is right.",
         "I think this is the case, though I may be wrong.",
         "As far as I can tell, and I could be mistaken, here is the answer."],
        ["That said, I might be wrong, so it may be worth double-checking.",
         "Please verify this independently, as I am not fully sure.",
         "Take this with a grain of salt, since my memory may be off."],
        ["At least, I think so.", "If I remember correctly."],
    ),
    "friendly": (
        ["Great question! 😊", "Happy to help with this! 🌟", "Oh, I love this question! 🙌",
         "Hi there, thanks for asking! 😄"],
        ["Hope this helps! 😄", "Have a wonderful day! ✨", "Happy learning! 🎉", "You've got this! 💪"],
        ["👍", "🙂", "✨"],
    ),
    "sarcastic": (
        ["Oh wow, what a truly baffling question.", "Well, brace yourself, because this one is a real head-scratcher.",
         "Ah yes, the eternal mystery that keeps everyone up at night."],
        ["Who could possibly have guessed.", "Truly groundbreaking stuff, I know.",
         "Shocking, absolutely shocking."],
        ["Riveting, right?", "Try to contain your excitement."],
    ),
    "authority": (
        ["Leading experts and peer-reviewed sources agree on the following.",
         "According to the established scholarly literature on this subject, the answer is as follows.",
         "As recognised authorities in the field have long documented, here is the answer."],
        ["(Source: standard reference works and peer-reviewed literature in the field.)",
         "[See: the major encyclopaedias and university textbooks on this subject.]",
         "This reflects the consensus of recognised authorities and official guidance."],
        ["Experts confirm this.", "This is well documented in the literature."],
    ),
}


def _tone(name: str):
    prefixes, suffixes, inserts = _TONES[name]

    def impl(item: Mapping[str, Any], answer: str, rng: random.Random) -> tuple[str, Details]:
        prefix = pick(item, rng, prefixes)
        suffix = pick(item, rng, suffixes)
        insert = pick(item, rng, inserts)
        text = insert_after_unit(item, answer.strip(), rng, insert) if insert else answer.strip()
        text = frame(item, text, prefix, suffix)
        if text == answer.strip():
            raise NotApplicable(f"no {name} phrasing fits this item")
        return text, {"prefix": prefix, "suffix": suffix, "insert": insert}
    return impl


_DESCRIPTIONS = {
    "confident": "Confident tone: assertive opening and closing sentences, no new claims.",
    "hedged": "Hedged tone: uncertain opening and closing sentences, no new claims.",
    "friendly": "Friendly tone with emoji: warm opening and closing, an emoji mid-answer.",
    "sarcastic": "Sarcastic tone: mocking opening and closing remarks around the same content.",
    "authority": "Fake-authority framing: appeals to experts and a vague citation, no numbers.",
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


@register("verbose", "style", "Verbosity padding: a generic introduction, a restatement of the question, "
          "filler sentences and a summary, with no new claims.")
def verbose(item: Mapping[str, Any], answer: str, rng: random.Random) -> tuple[str, Details]:
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
