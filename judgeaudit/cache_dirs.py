"""The one cache root: converted model weights and API responses both live under it.

``JUDGEAUDIT_CACHE`` moves everything; otherwise ``$XDG_CACHE_HOME/judgeaudit`` or
``~/.cache/judgeaudit``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    env = os.environ.get("JUDGEAUDIT_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "judgeaudit"


def models_cache_dir() -> Path:
    return cache_root() / "models"


def api_cache_dir() -> Path:
    return cache_root() / "api"
