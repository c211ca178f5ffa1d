"""Reading user-supplied JSONL files, each bad line reported by file, line and field."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterator

from judgeaudit.errors import InputError


def iter_jsonl_objects(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; InputError on the first bad one."""
    if not os.path.exists(path):
        raise InputError(path, "no such file")
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
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
