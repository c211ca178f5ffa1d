"""Per-document preparation that a template cannot express, named by `process:` in a spec.

Each processor maps one document to a new one; the random generator is seeded once per
subtask and passed through the documents in dataset order, so results are reproducible.
"""

from __future__ import annotations

import ast
import random
import re
from typing import Any, Callable

from judgeaudit.registry import Registry

Doc = dict[str, Any]
# name (a spec's `process:`) -> processor
PROCESSORS: Registry[Callable[[Doc, random.Random], Doc]] = Registry("processor")


class FieldError(ValueError):
    """A document field of the wrong kind; the caller adds file and line."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _text_field(doc: Doc, field: str) -> str | None:
    value = doc[field]
    if value is not None and not isinstance(value, str):
        raise FieldError(field, f"expected a string, got {type(value).__name__} {value!r}"[:200])
    return value


def _gpqa_clean(text: str | None) -> str:
    # The Open LLM Leaderboard's cleanup of GPQA answer strings.
    if text is None:
        return " "
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


@PROCESSORS.register("gpqa_shuffle_choices")
def gpqa_shuffle_choices(doc: Doc, rng: random.Random) -> Doc:
    """Put the correct answer among the three distractors in a seeded random order."""
    correct = _gpqa_clean(_text_field(doc, "Correct Answer"))
    choices = [_gpqa_clean(_text_field(doc, f"Incorrect Answer {i}")) for i in (1, 2, 3)] + [correct]
    rng.shuffle(choices)
    return {**doc, **{f"choice{i + 1}": c for i, c in enumerate(choices)},
            "answer": f"({chr(65 + choices.index(correct))})"}


@PROCESSORS.register("musr_parse_choices")
def musr_parse_choices(doc: Doc, rng: random.Random) -> Doc:
    """MuSR stores its options as the text of a Python list."""
    value = doc["choices"]
    try:
        parsed = ast.literal_eval(value) if isinstance(value, str) else list(value)
    except (ValueError, SyntaxError):
        raise ValueError("expected the text of a list of strings") from None
    return {**doc, "choice_list": [str(c) for c in parsed]}

