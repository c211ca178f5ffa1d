"""Data parallel in one machine with ``torch.distributed``: ``torchrun --nproc-per-node N -m judgeaudit ...``.

torchrun starts N copies of the command with RANK / WORLD_SIZE / LOCAL_RANK set. Each
rank loads its own model (on ``cuda:LOCAL_RANK`` when GPUs are present, else on CPU with
the gloo backend), works on every N-th unit of work, and appends what it finishes to its
own records shard (``records.rank<R>.jsonl``), so ranks never write one file together.
When all ranks are done, rank 0 merges the shards into ``records.jsonl`` in the order a
single process would have written them, and aggregates. A rank killed mid-run leaves its
shard behind; the next run counts those records as done and shares out only the rest.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence, TypeVar

from judgeaudit.runstore import RunStore

T = TypeVar("T")
SHARD_PATTERN = re.compile(r"^records\.rank(\d+)\.jsonl$")


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, units: Sequence[T]) -> list[T]:
        """Every ``world``-th unit starting at ``rank``: a deterministic, balanced split."""
        return list(units[self.rank::self.world])


def ranks_from_env() -> Ranks:
    """What torchrun (or any launcher setting RANK and WORLD_SIZE) says this process is."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    rank = int(os.environ.get("RANK", "0") or 0)
    local = int(os.environ.get("LOCAL_RANK", str(rank)) or 0)
    return Ranks(rank, world, local)


def init(device: str = "auto") -> Ranks:
    """Join the process group when launched with several ranks; returns this process's place."""
    ranks = ranks_from_env()
    if not ranks.distributed:
        return ranks
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        use_nccl = device != "cpu" and torch.cuda.is_available() and torch.cuda.device_count() > ranks.local_rank
        if use_nccl:
            torch.cuda.set_device(ranks.local_rank)
        dist.init_process_group("nccl" if use_nccl else "gloo")
    return ranks


def rank_device(device: str, ranks: Ranks) -> str:
    """``auto`` on a multi-GPU launch means this rank's own GPU."""
    if device == "auto" and ranks.distributed:
        import torch

        if torch.cuda.is_available() and torch.cuda.device_count() > ranks.local_rank:
            return f"cuda:{ranks.local_rank}"
    return device


def barrier(ranks: Ranks) -> None:
    if ranks.distributed:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()


def finish(ranks: Ranks) -> None:
    if ranks.distributed:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


class ShardStore(RunStore):
    """One rank's append-only records file inside a run directory."""

    def __init__(self, directory: str | os.PathLike, rank: int):
        self.RECORDS = f"records.rank{int(rank)}.jsonl"
        super().__init__(directory)


def shard_paths(directory: str | os.PathLike) -> list[Path]:
    found = [(int(m.group(1)), p) for p in Path(directory).glob("records.rank*.jsonl")
             if (m := SHARD_PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def shard_stores(directory: str | os.PathLike) -> list[ShardStore]:
    """Every shard left in the run directory (by any earlier or current rank)."""
    return [ShardStore(directory, int(SHARD_PATTERN.match(p.name).group(1))) for p in shard_paths(directory)]


def read_keys(path: str | os.PathLike) -> set[str]:
    """Keys of a records file, read without changing it (another rank may be appending: a torn
    last line is skipped, never cut off)."""
    keys: set[str] = set()
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("key"), str):
                    keys.add(record["key"])
    except FileNotFoundError:
        pass
    return keys


def done_keys(store: RunStore) -> set[str]:
    """Keys finished in the merged records or in any shard (read only: safe while ranks write)."""
    keys = set(store.keys)
    for path in shard_paths(store.dir):
        keys |= read_keys(path)
    return keys


def merge_shards(store: RunStore, order: Iterable[str]) -> int:
    """Append every shard's records to ``store`` (keys in ``order`` first, in that order), then remove the shards.

    Safe to repeat after a crash: keys already merged are skipped, and a shard is removed
    only once all its records are in the merged file.
    """
    shards = shard_stores(store.dir)
    if not shards:
        return 0
    by_key: dict[str, dict[str, Any]] = {}
    for shard in shards:
        for record in shard.iter_records():
            by_key.setdefault(record["key"], record)
    added = 0
    for key in order:
        record = by_key.pop(key, None)
        if record is not None:
            added += store.append(record)
    for record in by_key.values():  # records of units outside this run's plan (other tasks earlier)
        added += store.append(record)
    for shard in shards:
        shard.records_path.unlink(missing_ok=True)
    return added
