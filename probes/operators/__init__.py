"""Perturbation operators, registered by name with their kind (style, substance, judge)."""

from judgeaudit.probes.operators.registry import OPERATORS, Operator, NotApplicable, get_operator, register
from judgeaudit.probes.operators import judge_facing, style, substance  # noqa: F401  (registers)
from judgeaudit.probes.operators.style import strip_markdown

__all__ = ["OPERATORS", "Operator", "NotApplicable", "get_operator", "register", "strip_markdown"]
