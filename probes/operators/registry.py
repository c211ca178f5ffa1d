"""Operator registry: each operator is a small pure function registered by name with its kind.

An operator maps (item, answer, rng) to a variant of `answer`. It is deterministic for the
state of `rng` and raises NotApplicable when it does not fit the item (e.g. unsafe_compliance
on a knowledge item), so callers skip the combination instead of faking it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from judgeaudit.probes.answer_checks import AnswerAssessment
from judgeaudit.vocabulary import OPERATOR_KINDS


Details = dict[str, Any]
Impl = Callable[[Mapping[str, Any], str, random.Random], tuple[str, Details]]


class NotApplicable(Exception):
    """The operator does not fit this item or answer; the reason is the message."""


def _unchanged(before: AnswerAssessment, after: AnswerAssessment) -> bool:
    return before == after


@dataclass(frozen=True)
class Operator:
    name: str
    kind: str
    impl: Impl
    description: str
    # The assessment change this operator is allowed to make (style and judge: none).
    expect: Callable[[AnswerAssessment, AnswerAssessment], bool] = field(default=_unchanged)

    def apply(self, item: Mapping[str, Any], answer: str, rng: random.Random) -> tuple[str, Details]:
        """The variant and what was done (e.g. which fact was changed)."""
        return self.impl(item, answer, rng)

    def __call__(self, item: Mapping[str, Any], answer: str, rng: random.Random) -> str:
        return self.impl(item, answer, rng)[0]


OPERATORS: dict[str, Operator] = {}


def register(name: str, kind: str, description: str,
             expect: Callable[[AnswerAssessment, AnswerAssessment], bool] | None = None) -> Callable[[Impl], Impl]:
    if kind not in OPERATOR_KINDS:
        raise ValueError(f"operator kind must be one of {OPERATOR_KINDS}")

    def deco(impl: Impl) -> Impl:
        if name in OPERATORS:
            raise ValueError(f"operator {name!r} registered twice")
        OPERATORS[name] = Operator(name, kind, impl, description, expect or _unchanged)
        return impl
    return deco


def get_operator(name: str) -> Operator:
    try:
        return OPERATORS[name]
    except KeyError:
        raise KeyError(f"unknown operator {name!r}; known: {', '.join(sorted(OPERATORS))}") from None
