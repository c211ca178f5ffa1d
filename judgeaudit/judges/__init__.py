"""Judges: local open-weight models, OpenAI-compatible APIs, synthetic references and plugins."""

from judgeaudit.judges.factory import judge_kind, make_judge
from judgeaudit.judges.protocol import (
    CRITERIA,
    VERDICTS,
    WIN_VALUES,
    Judge,
    Judgment,
    JudgeRequest,
    normalize,
    point_mass,
    swap,
    win_score,
)
from judgeaudit.judges.pair_judging import ORDERS, estimate_judgments, run_judgments

__all__ = [
    "CRITERIA", "VERDICTS", "WIN_VALUES", "ORDERS", "Judge", "Judgment", "JudgeRequest", "make_judge", "judge_kind",
    "normalize", "point_mass", "swap", "win_score", "run_judgments", "estimate_judgments",
]
