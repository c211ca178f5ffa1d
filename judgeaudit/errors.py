"""The library's errors: plain exceptions a user can act on.

Library code raises these; the command line (``judgeaudit.cli``) turns each into one
``Error: <message>`` line and the exception's ``exit_code``, never a traceback.
"""

from __future__ import annotations

import os


class JudgeauditError(Exception):
    """Base class of every error the user can act on."""

    exit_code = 1

    @property
    def message(self) -> str:
        return str(self)


class InputError(JudgeauditError):
    """Bad user input, located as precisely as possible: file, line, field."""

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field = str(path), line, field
        where = self.path + (f":{line}" if line is not None else "")
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}: {what}{message}")


class ModelUnavailable(JudgeauditError):
    """A model spec that cannot be resolved offline."""
