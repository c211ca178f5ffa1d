"""Errors a user can act on, each printed by the CLI as one line (no traceback)."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterator

try:
    from click import ClickException as _ErrorBase
except ImportError:  # The GPU path (engine, kernels, local judge) also runs where only torch,
    # triton and transformers are installed (perf/gpu_check.sh); there nothing prints these errors.
    class _ErrorBase(Exception):  # type: ignore[no-redef]
        exit_code = 1

        def __init__(self, message: str):
            super().__init__(message)
            self.message = message

        def format_message(self) -> str:
            return self.message


class JudgeauditError(_ErrorBase):
    """Base class: click prints `Error: <message>` and exits with code 1."""


class InputError(JudgeauditError):
    """Bad user input, located as precisely as possible: file, line, field."""

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field = str(path), line, field
        where = self.path + (f":{line}" if line is not None else "")
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}: {what}{message}")


class ModelUnavailable(JudgeauditError):
    """A model spec that cannot be resolved offline."""


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
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool) and bool not in _as_tuple(kind)):
        names = "/".join(t.__name__ for t in _as_tuple(kind))
        raise InputError(path, f"expected {names}, got {type(value).__name__}", line=lineno, field=field)
    if check is not None and not check(value):
        raise InputError(path, f"expected {expect or 'a valid value'}, got {value!r}"[:300], line=lineno, field=field)
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
