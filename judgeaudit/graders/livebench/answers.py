"""Answer-locating helpers shared by the LiveBench task graders."""

from __future__ import annotations

import re

from judgeaudit.graders.math_answers import last_boxed, unbox

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


def drop_reasoning(text: str) -> str:
    """Remove <think>...</think> blocks, which LiveBench never grades."""
    return _THINK.sub("", text)


def solution_tags(text: str, *, join_lines: bool = False) -> list[str]:
    """Contents of every <solution>...</solution> (also the common typo </solution>...</solution>)."""
    src = text.replace("\n", "") if join_lines else text
    found = re.findall(r"<solution>(.*?)</solution>", src, flags=re.DOTALL)
    if not found:
        found = re.findall(r"</solution>(.*?)</solution>", src, flags=re.DOTALL)
    return found


def boxed_plain(text: str) -> str | None:
    """Last boxed answer with \\text{...} wrappers, braces and backslashes removed."""
    inner = unbox(last_boxed(text.replace("\\fbox{", "\\boxed{")))
    if inner is None:
        return None
    return inner.replace("\\text{", "").replace("\\textbf{", "").replace("}", "").replace("{", "").replace("\\", "")


def bold_spans(text: str) -> list[str]:
    return re.findall(r"\*\*([^*]+?)\*\*", text)


def levenshtein(a, b) -> int:
    """Edit distance between two sequences (strings or lists)."""
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        prev = cur
    return prev[-1]
