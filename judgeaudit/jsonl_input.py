"""Reading user-supplied text, JSON and JSONL files: one UTF-8 reader (a byte-order mark is
accepted), each bad byte or line reported by file, line and field."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from judgeaudit.errors import InputError


def read_text(path: str | os.PathLike) -> str:
    """The whole file as text: UTF-8, a leading byte-order mark dropped; InputError otherwise."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, expected a file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); "
                               f"save the file as UTF-8", line=line) from None


def read_lines(path: str | os.PathLike) -> list[str]:
    """The file's lines (see read_text), line endings removed."""
    return read_text(path).split("\n")


def read_json(path: str | os.PathLike) -> Any:
    """One JSON document (see read_text); InputError naming the line on invalid JSON."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON ({exc.msg} at column {exc.colno})", line=exc.lineno) from None


def iter_jsonl_objects(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; InputError on the first bad one."""
    if not os.path.exists(path):
        raise InputError(path, "no such file")
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"invalid JSON ({exc.msg} at column {exc.colno})", line=lineno) from None
        if not isinstance(obj, dict):
            raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", line=lineno)
        yield lineno, obj


def require_field(path: str | os.PathLike, lineno: int, obj: dict, field: str, kind: type | tuple[type, ...] = str,
                  check: Callable[[Any], bool] | None = None, expect: str | None = None) -> Any:
    """Return obj[field], or raise InputError naming file, line and field."""
    if field not in obj:
        raise InputError(path, "missing", line=lineno, field=field)
    value = obj[field]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = "/".join(t.__name__ for t in kinds)
        raise InputError(path, f"expected {names}, got {type(value).__name__}", line=lineno, field=field)
    if check is not None and not check(value):
        raise InputError(path, f"expected {expect or 'a valid value'}, got {value!r}"[:300], line=lineno, field=field)
    return value
