"""From a difference of two scores to a distribution over the five verdicts.

Pointwise judges (reward models, a language model's likelihood) give each answer a
number; the pair's verdict comes from the difference d = score(A) - score(B) through an
ordered logistic link (a cumulative logit with four cut points):

    x = d / scale
    P(verdict at least as good for A as v) = sigmoid(x - c_v)
    cut points c: A>>B | A>B at +STRONG, A>B | A=B at +TIE, A=B | B>A at -TIE, B>A | B>>A at -STRONG

with TIE = 0.5 and STRONG = 2.0 logits. So at d = 0 the distribution is symmetric around
A=B (win score 0.5), and it moves smoothly to A>>B as d grows; ``scale`` is the score
difference worth one logit. Swapping A and B negates d and mirrors the distribution
exactly, so a pointwise judge has no position bias by construction.

With scale 1 and a reward model's scores this is the Bradley-Terry model reward models are
trained under, read on the five-point scale.
"""

from __future__ import annotations

import math

from judgeaudit.judges.protocol import VERDICTS

TIE_CUT = 0.5
STRONG_CUT = 2.0
LINK_DESCRIPTION = (f"ordered logistic link on x = (score A - score B) / scale: P(A>>B) = sigmoid(x - {STRONG_CUT:g}), "
                    f"P(A>B or better) = sigmoid(x - {TIE_CUT:g}), P(A=B or better) = sigmoid(x + {TIE_CUT:g}), "
                    f"P(B>A or better) = sigmoid(x + {STRONG_CUT:g})")


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def difference_to_probs(difference: float, scale: float = 1.0) -> dict[str, float]:
    """The five-verdict distribution for score(A) - score(B) = ``difference``."""
    if not scale > 0 or not math.isfinite(scale):
        raise ValueError(f"scale must be a positive number, got {scale}")
    if not math.isfinite(difference):
        raise ValueError(f"score difference must be finite, got {difference}")
    x = difference / scale
    at_least = [_sigmoid(x - STRONG_CUT), _sigmoid(x - TIE_CUT), _sigmoid(x + TIE_CUT), _sigmoid(x + STRONG_CUT), 1.0]
    probs = [at_least[0]] + [at_least[i] - at_least[i - 1] for i in range(1, len(at_least))]
    # Differences of nearly equal sigmoids can round a hair below zero.
    probs = [max(p, 0.0) for p in probs]
    total = sum(probs)
    return {v: p / total for v, p in zip(VERDICTS, probs)}


def check_scale(scale: float | str | None, what: str) -> float | None:
    """A user-given scale as a float (None stays None), with one clear error."""
    if scale is None:
        return None
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: scale must be a positive number, got {scale!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{what}: scale must be a positive number, got {scale!r}")
    return value
