"""The one number formatter of every report: terminal tables, HTML pages and policy lines."""

from __future__ import annotations

from typing import Any

MISSING = "–"


def num(x: Any, digits: int = 3, missing: str = MISSING) -> str:
    if x is None:
        return missing
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def signed(x: float | None, digits: int = 3, missing: str = MISSING) -> str:
    return missing if x is None else f"{x:+.{digits}f}"


def p_value(x: float | None, missing: str = MISSING) -> str:
    if x is None:
        return missing
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def interval(ci: Any, digits: int = 3, *, plus: bool = False, missing: str = MISSING) -> str:
    """[low, high] of a (low, high) pair; ``plus`` shows the sign of positive ends too."""
    if ci is None or ci[0] is None or ci[1] is None:
        return missing
    spec = f"+.{digits}f" if plus else f".{digits}f"
    return f"[{format(ci[0], spec)}, {format(ci[1], spec)}]"


def percent(level: float) -> str:
    """A CI level as a column heading: 0.95 -> '95%'."""
    return f"{int(round(level * 100))}%"
