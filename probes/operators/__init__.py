"""Perturbation operators, registered by name with their kind (style, substance, judge)."""

from judgeaudit.probes.operators.registry import OPERATORS, Operator, NotApplicable, register
from judgeaudit.probes.operators import judge_facing, style, substance  # noqa: F401  (registers)

__all__ = ["OPERATORS", "Operator", "NotApplicable", "register"]
