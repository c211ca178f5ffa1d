"""On-disk cache of API responses, one JSON file per request.

The key is a hash of what determines the answer (model, endpoint without credentials,
messages, sampling parameters); the file holds the response text, token log-probs and
usage. Nothing about authentication is ever part of a key or a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from judgeaudit.runstore import write_json_atomic


def public_endpoint(base_url: str | None) -> str:
    """The endpoint with any user:password, query string and fragment removed."""
    if not base_url:
        return "openai"
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


class RequestCache:
    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            with open(path, encoding="utf-8") as fh:
                value = json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # a damaged entry is a miss; it is rewritten after the request
        return value if isinstance(value, dict) else None

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    def put(self, key: str, value: dict[str, Any]) -> None:
        write_json_atomic(self._path(key), value)
