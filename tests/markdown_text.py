"""Test helpers: undo the markdown operator and compare texts up to whitespace."""

import re

_WS = re.compile(r"\s+")


def normalize_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()


def strip_markdown(text: str) -> str:
    """Inverse of the markdown operator up to whitespace: drop header lines, bullet markers
    and bold markers."""
    text = re.sub(r"(?m)^[ \t]*#{1,6}[ \t].*$", "", text)
    text = re.sub(r"(?m)^([ \t]*)[-*] ", r"\1", text)
    return text.replace("**", "")
