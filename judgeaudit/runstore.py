"""A run directory: config.json, append-only records.jsonl, results.json, report.html.

Every finished unit of work is one line in records.jsonl, keyed by a content hash of
what was computed, so a run that is interrupted (even by SIGKILL mid-write) resumes
without redoing or duplicating anything: a torn last line is cut off on open, and
keys already present are skipped by the caller.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

from judgeaudit.errors import InputError, JudgeauditError


def content_hash(obj: Any) -> str:
    """Stable sha256 of a JSON-serialisable object (key order does not matter)."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _umask() -> int:
    # Read from /proc where possible: os.umask() can only be read by setting it, which races threads.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a whole file or nothing: write to a temporary sibling, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600 files; every run file gets what open() gives (0666 less the umask).
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_writable(path: str | os.PathLike, *, directory: bool = False) -> Path:
    """Make sure ``path`` (a file, or with ``directory`` a folder) can be written, before any work.

    Creates missing parent folders; raises JudgeauditError with one line when it cannot.
    """
    path = Path(path)
    folder = path if directory else path.parent
    if not directory and path.is_dir():
        raise JudgeauditError(f"{path}: is a directory; give a file path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(folder)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check.")
        os.close(fd)
        os.unlink(probe)
    except (FileExistsError, NotADirectoryError):
        raise JudgeauditError(f"{path}: cannot write there: a file stands where a folder is needed") from None
    except OSError as exc:
        raise JudgeauditError(f"{path}: cannot write there ({exc.strerror or exc})") from None
    return path


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


class RunLocked(JudgeauditError):
    """Another process holds the run directory."""


def read_records(path: str | os.PathLike) -> tuple[list[dict[str, Any]], bool]:
    """(records, torn): every line of a records.jsonl, each an object with a string ``key``.

    A last line cut short by a killed writer is left out and reported as ``torn``; any other
    bad line raises InputError naming file, line and field.
    """
    from judgeaudit.jsonl_input import read_lines

    path = Path(path)
    if not path.exists():
        return [], False
    lines = read_lines(path)
    records: list[dict[str, Any]] = []
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            if i == last:
                return records, True
            raise InputError(path, f"invalid JSON ({exc.msg if hasattr(exc, 'msg') else exc}); the file is "
                                   f"damaged in the middle, not by an interrupted run", line=i + 1) from None
        if not isinstance(obj, dict):
            raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", line=i + 1)
        if not isinstance(obj.get("key"), str) or not obj["key"]:
            raise InputError(path, "missing" if "key" not in obj else "expected a non-empty string",
                             line=i + 1, field="key")
        records.append(obj)
    return records, False


LOCK_FILE = ".lock"


@contextlib.contextmanager
def locked(directory: str | os.PathLike) -> Iterator[Path]:
    """Hold a run directory for one process; a second one gets RunLocked at once.

    Taken before the store is opened (opening repairs a torn last line, which must not
    happen under a live writer). An advisory lock (flock) on ``.lock``: the kernel drops
    it when the holder dies, even by SIGKILL, so a killed run never leaves it locked.
    """
    import fcntl

    folder = check_writable(directory, directory=True)
    fh = open(folder / LOCK_FILE, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"{folder}: another judgeaudit process is running in this directory; "
                            f"wait for it to finish or use another --out") from None
        yield folder
    finally:
        fh.close()  # closing releases the lock


class RunStore:
    """One run directory. Records are dicts with a string field ``key``."""

    CONFIG = "config.json"
    RECORDS = "records.jsonl"
    RESULTS = "results.json"
    REPORT = "report.html"

    def __init__(self, directory: str | os.PathLike, *, readonly: bool = False):
        """``readonly`` (report, dry runs): records.jsonl is read as it is, never repaired or appended to."""
        self.readonly = readonly
        self.dir = Path(directory) if readonly else check_writable(directory, directory=True)
        self.records_path = self.dir / self.RECORDS
        if not readonly:
            self._repair_tail()
        self._key_set: set[str] | None = None  # read on first use: rendering a report reads no records

    @property
    def _keys(self) -> set[str]:
        if self._key_set is None:
            self._key_set = {r["key"] for r in self.iter_records()}
        return self._key_set

    # -- config -------------------------------------------------------------------
    def init_config(self, config: dict[str, Any], identity_keys: Iterable[str] | None = None) -> dict:
        """Write config.json, or check it against an existing one when resuming.

        ``identity_keys`` names the fields that must match for a resume to be valid
        (default: all of them); other fields (limits, concurrency) may change.
        """
        path = self.dir / self.CONFIG
        # A run with no records yet has judged nothing: a corrected rerun may start it afresh.
        if path.exists() and self._keys:
            old = self.config()
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
        from judgeaudit.jsonl_input import read_json

        path = self.dir / self.CONFIG
        if not path.exists():
            return {}
        config = read_json(path)
        if not isinstance(config, dict):
            raise InputError(path, f"expected a JSON object, got {type(config).__name__}; "
                                   f"not a judgeaudit run configuration")
        return config

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
        """Each record; a bad line (other than a torn last one, which is skipped) is an InputError."""
        yield from read_records(self.records_path)[0]

    @property
    def torn_tail(self) -> bool:
        """records.jsonl ends in a line cut short (a killed writer); repaired when opened for writing."""
        return read_records(self.records_path)[1]

    def records(self) -> list[dict[str, Any]]:
        return list(self.iter_records())

    def has(self, key: str) -> bool:
        return key in self._keys

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self._keys)

    def append(self, record: dict[str, Any]) -> bool:
        """Append one finished record; returns False (and writes nothing) if its key is present."""
        if self.readonly:
            raise RuntimeError(f"{self.dir}: opened read-only")
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
