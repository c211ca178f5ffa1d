"""A run directory: config.json, append-only records.jsonl, results.json, report.html.

Every finished unit of work is one line in records.jsonl, keyed by a content hash of
what was computed, so a run that is interrupted (even by SIGKILL mid-write) resumes
without redoing or duplicating anything: a torn last line is cut off on open, and
keys already present are skipped by the caller.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

from judgeaudit.errors import JudgeauditError


def content_hash(obj: Any) -> str:
    """Stable sha256 of a JSON-serialisable object (key order does not matter)."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a whole file or nothing: write to a temporary sibling, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


RUNS_ROOT = Path("runs")


def slug(text: str) -> str:
    """A file-name-safe form of a judge or model spec."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "run"


def default_run_dir(name: str, *, prefix: str = "", suffix: str = "", timestamped: bool = True,
                    root: str | os.PathLike = RUNS_ROOT) -> Path:
    """runs/<timestamp>-<slug> (a fresh directory per run) or runs/<prefix><slug><suffix> (resumed by name)."""
    stamp = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-" if timestamped else ""
    return Path(root) / f"{stamp}{prefix}{slug(name)}{suffix}"


class ConfigMismatch(JudgeauditError):
    """A run directory was started with a different configuration."""


class RunStore:
    """One run directory. Records are dicts with a string field ``key``."""

    CONFIG = "config.json"
    RECORDS = "records.jsonl"
    RESULTS = "results.json"
    REPORT = "report.html"

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.records_path = self.dir / self.RECORDS
        self._repair_tail()
        self._keys: set[str] = {r["key"] for r in self.iter_records()}

    # -- config -------------------------------------------------------------------
    def init_config(self, config: dict[str, Any], identity_keys: Iterable[str] | None = None) -> dict:
        """Write config.json, or check it against an existing one when resuming.

        ``identity_keys`` names the fields that must match for a resume to be valid
        (default: all of them); other fields (limits, concurrency) may change.
        """
        path = self.dir / self.CONFIG
        if path.exists():
            old = json.loads(path.read_text(encoding="utf-8"))
            keys = list(identity_keys) if identity_keys is not None else list(config)
            diff = [k for k in keys if old.get(k) != config.get(k)]
            if diff:
                raise ConfigMismatch(
                    f"{path}: run was started with different {', '.join(diff)}; "
                    f"use a new --out directory or the original settings"
                )
            merged = {**old, **config}
        else:
            merged = config
        write_json_atomic(path, merged)
        return merged

    def config(self) -> dict[str, Any]:
        path = self.dir / self.CONFIG
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    # -- records ------------------------------------------------------------------
    def _repair_tail(self) -> None:
        """Drop a torn final line left by a process killed mid-write."""
        p = self.records_path
        if not p.exists() or p.stat().st_size == 0:
            return
        with open(p, "rb+") as fh:
            data = fh.read()
            if data.endswith(b"\n"):
                last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
                try:
                    json.loads(last)
                    return
                except ValueError:
                    cut = len(data.rstrip(b"\n")) - len(last)
            else:
                cut = data.rfind(b"\n") + 1
            fh.truncate(cut)

    def iter_records(self) -> Iterator[dict[str, Any]]:
        if not self.records_path.exists():
            return
        with open(self.records_path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    yield json.loads(line)

    def records(self) -> list[dict[str, Any]]:
        return list(self.iter_records())

    def has(self, key: str) -> bool:
        return key in self._keys

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self._keys)

    def append(self, record: dict[str, Any]) -> bool:
        """Append one finished record; returns False (and writes nothing) if its key is present."""
        key = record.get("key")
        if not isinstance(key, str) or not key:
            raise ValueError("record needs a non-empty string 'key'")
        if key in self._keys:
            return False
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        # One write call per line, flushed and synced: a kill leaves at most one torn line.
        with open(self.records_path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        self._keys.add(key)
        return True

    def extend(self, records: Iterable[dict[str, Any]]) -> int:
        return sum(self.append(r) for r in records)

    # -- outputs ------------------------------------------------------------------
    def write_results(self, results: dict[str, Any]) -> Path:
        path = self.dir / self.RESULTS
        write_json_atomic(path, results)
        return path

    def write_report(self, html: str) -> Path:
        path = self.dir / self.REPORT
        write_atomic(path, html)
        return path
