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
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from judgeaudit.runstore import write_json_atomic


def check_api_base(base_url: str) -> str:
    """The URL when it can name an HTTP endpoint, else a JudgeauditError at once (no retries)."""
    from judgeaudit.errors import JudgeauditError

    shown = public_endpoint(base_url) if "://" in str(base_url) else str(base_url)[:80]
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError as exc:
        raise JudgeauditError(f"--api-base {shown!r}: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise JudgeauditError(f"--api-base {shown!r}: expected an http:// or https:// URL, "
                              f"e.g. http://localhost:8000/v1")
    if not parts.hostname:
        raise JudgeauditError(f"--api-base {shown!r}: the URL names no host")
    return base_url


def url_secrets(base_url: str | None) -> list[str]:
    """Credentials a URL carries (user, password, query values), to scrub from anything written."""
    if not base_url:
        return []
    import base64

    parts = urlsplit(base_url)
    found = [unquote(s) for s in [parts.username, parts.password] + [v for _, v in parse_qsl(parts.query)] if s]
    if parts.username is not None:  # HTTP clients send user:password from the URL as Basic auth
        basic = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        found.append(base64.b64encode(basic.encode()).decode())
    return [s for s in found if len(s) >= 4]


def public_endpoint(base_url: str | None) -> str:
    """The endpoint with any user:password, query string and fragment removed."""
    if not base_url:
        return "openai"
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        host = f"{host}:{port}"
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
