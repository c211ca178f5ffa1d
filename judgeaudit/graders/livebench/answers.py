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


# LiveBench's own boxed-answer reading, which differs from the MATH one: the box is
# returned with "$" removed and \fbox renamed \boxed, and unboxing anything that is not
# "\boxed{...}" or "\boxed ..." is an error (None here).

def livebench_last_boxed(text: str) -> str | None:
    boxed = last_boxed(text)
    if boxed is None or boxed.startswith("\\boxed "):
        return boxed
    return boxed.replace("$", "").replace("fbox", "boxed")


def livebench_unbox(boxed: str | None) -> str | None:
    if boxed is None:
        return None
    if "\\boxed " in boxed:
        return boxed[len("\\boxed "):] if boxed.startswith("\\boxed ") else None
    if boxed.startswith("\\boxed{") and boxed.endswith("}"):
        return boxed[len("\\boxed{"):-1]
    return None


def livebench_boxed(text: str) -> str | None:
    """The content of the last box as LiveBench reads it, or None."""
    return livebench_unbox(livebench_last_boxed(text))


def solution_tag_plain(text: str) -> list[str]:
    """<solution>...</solution> contents on one line each (no DOTALL, no typo fallback),
    the form most LiveBench scorers read."""
    return re.findall(r"<solution>(.*?)</solution>", text)
