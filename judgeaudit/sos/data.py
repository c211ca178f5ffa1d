"""Where a subtask's documents come from: the Hugging Face hub (or its local cache), a
directory of local exports, or the small fixture sets shipped with the package.

Local exports and fixtures share one layout, in each dataset's own schema:
``<dir>/<subtask>.jsonl`` (or ``.parquet``) for the scored split and
``<dir>/<subtask>.fewshot.jsonl`` (or ``.parquet``) for the few-shot split, when the task
draws its examples from one. A subtask whose data cannot be had raises DataUnavailable
(the run reports it missing and goes on); malformed data raises InputError.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judgeaudit.errors import InputError
from judgeaudit.jsonl_input import iter_jsonl_objects
from judgeaudit.sos.spec import SubtaskSpec


class DataUnavailable(Exception):
    """The data of one subtask cannot be had; the message is one line."""


@dataclass
class DocSet:
    """Documents plus where each came from (file and line), for error messages."""

    docs: list[dict[str, Any]]
    origin: str
    lines: list[int | None] = field(default_factory=list)

    def where(self, i: int) -> tuple[str, int | None]:
        return self.origin, (self.lines[i] if i < len(self.lines) else None)


@dataclass
class SubtaskData:
    test: DocSet
    fewshot: DocSet | None = None


@dataclass(frozen=True)
class DataSource:
    """kind: "hub", "dir" or "fixtures"; ``directory`` for "dir"."""

    kind: str = "hub"
    directory: str | None = None

    def describe(self) -> str:
        return {"hub": "Hugging Face datasets", "fixtures": "built-in fixtures"}.get(self.kind, f"{self.directory}")


def fixtures_dir() -> Path:
    return Path(str(importlib.resources.files("judgeaudit.benchmarks"))) / "fixtures"


def _plain(obj: Any) -> Any:
    """JSON-safe copy of a dataset row (hub rows may hold numpy or datetime values)."""
    return json.loads(json.dumps(obj, default=str, ensure_ascii=False))


def _read_local(folder: Path, stem: str) -> DocSet | None:
    jsonl, parquet = folder / f"{stem}.jsonl", folder / f"{stem}.parquet"
    if jsonl.exists():
        docs, lines = [], []
        for lineno, obj in iter_jsonl_objects(jsonl):
            docs.append(obj)
            lines.append(lineno)
        return DocSet(docs, str(jsonl), lines)
    if parquet.exists():
        import pyarrow.parquet as pq

        try:
            rows = pq.read_table(parquet).to_pylist()
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise InputError(parquet, f"cannot read parquet: {exc}".splitlines()[0]) from None
        return DocSet([_plain(r) for r in rows], str(parquet), [i + 1 for i in range(len(rows))])
    return None


def _needs_fewshot_split(sub: SubtaskSpec) -> bool:
    return sub.fewshot.n > 0 and not sub.fewshot.samples


def _load_local(sub: SubtaskSpec, folder: Path, label: str) -> SubtaskData:
    test = _read_local(folder, sub.name)
    if test is None:
        raise DataUnavailable(f"no {sub.name}.jsonl or {sub.name}.parquet in {label}")
    if not test.docs:
        raise DataUnavailable(f"{test.origin} holds no items")
    fewshot = None
    if _needs_fewshot_split(sub):
        if sub.fewshot.split == sub.dataset.split:
            fewshot = test
        else:
            fewshot = _read_local(folder, f"{sub.name}.fewshot")
            if fewshot is None:
                raise DataUnavailable(f"{sub.fewshot.n}-shot prompts need {sub.name}.fewshot.jsonl in {label}")
    return SubtaskData(test, fewshot)


def _load_hub_split(sub: SubtaskSpec, split: str) -> DocSet:
    import datasets

    ref = sub.dataset
    label = ref.path + (f"/{ref.name}" if ref.name else "") + f" [{split}]"
    try:
        ds = datasets.load_dataset(ref.path, ref.name, split=split)
    except Exception as exc:  # offline, gated, missing config: all mean "not available here"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataUnavailable(f"{label}: {type(exc).__name__}: {reason}"[:300]) from None
    return DocSet([_plain(r) for r in ds], label, [])


def load_subtask_data(sub: SubtaskSpec, source: DataSource) -> SubtaskData:
    if source.kind == "fixtures":
        folder = fixtures_dir()
        if sub.output_type == "generate_until" and (folder / "generative").is_dir():
            folder = folder / "generative"  # generative benchmarks keep their fixtures apart
        return _load_local(sub, folder, "the built-in fixtures")
    if source.kind == "dir":
        folder = Path(source.directory or ".")
        if not folder.is_dir():
            raise InputError(folder, "--data-dir is not a directory")
        return _load_local(sub, folder, str(folder))
    test = _load_hub_split(sub, sub.dataset.split)
    fewshot = None
    if _needs_fewshot_split(sub):
        fewshot = test if sub.fewshot.split == sub.dataset.split else _load_hub_split(sub, sub.fewshot.split)
    return SubtaskData(test, fewshot)
