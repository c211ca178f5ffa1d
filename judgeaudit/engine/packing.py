"""Prefix-shared packing and token-budget batching of encoded requests.

Requests that share a prefix (the choices of one question) are packed into one row:
the prefix once, then every continuation (minus its last token) as a branch that sees
the prefix and its own earlier tokens only: a tree-shaped attention mask. Position ids
restart at len(prefix) for each branch, so each branch is computed exactly as if it
followed the prefix alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from judgeaudit.engine.requests import EncodedRequest


@dataclass
class Branch:
    request: int  # index of the request in the caller's list
    continuation: tuple[int, ...]


@dataclass
class PackedRow:
    prefix: tuple[int, ...]
    branches: list[Branch] = field(default_factory=list)

    @property
    def length(self) -> int:
        return len(self.prefix) + sum(len(b.continuation) - 1 for b in self.branches)

    def tokens(self) -> list[int]:
        out = list(self.prefix)
        for b in self.branches:
            out.extend(b.continuation[:-1])
        return out

    def layout(self) -> tuple[list[int], list[int]]:
        """(position ids, segment ids): segment 0 is the prefix, branch k is segment k+1."""
        n = len(self.prefix)
        positions, segments = list(range(n)), [0] * n
        for k, b in enumerate(self.branches, start=1):
            m = len(b.continuation) - 1
            positions.extend(range(n, n + m))
            segments.extend([k] * m)
        return positions, segments

    def predictions(self) -> Iterable[tuple[int, int, int]]:
        """(row position, target token, request index) for every continuation token."""
        last_prefix = len(self.prefix) - 1
        offset = len(self.prefix)
        for b in self.branches:
            cont = b.continuation
            if cont:
                yield last_prefix, cont[0], b.request
            for j in range(1, len(cont)):
                yield offset + j - 1, cont[j], b.request
            offset += len(cont) - 1


def pack_rows(encoded: Sequence[EncodedRequest], indices: Iterable[int], max_row_tokens: int,
              share_prefix: bool = True) -> list[PackedRow]:
    """Group requests by identical prefix and pack each group into rows of at most
    ``max_row_tokens`` tokens (a row always takes at least one branch). Identical
    (prefix, continuation) requests are packed once by the caller, not here."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i in indices:
        key = encoded[i].prefix if share_prefix else (i,)
        groups.setdefault(key, []).append(i)
    rows: list[PackedRow] = []
    for members in groups.values():
        prefix = encoded[members[0]].prefix
        row = PackedRow(prefix)
        for i in members:
            cost = len(encoded[i].continuation) - 1
            if row.branches and row.length + cost > max_row_tokens:
                rows.append(row)
                row = PackedRow(prefix)
            row.branches.append(Branch(i, encoded[i].continuation))
        rows.append(row)
    return rows


def batch_rows(rows: list[PackedRow], max_batch_tokens: int) -> list[list[PackedRow]]:
    """Longest rows first; a batch holds rows while rows x longest row fits the budget."""
    ordered = sorted(rows, key=lambda r: r.length, reverse=True)
    batches: list[list[PackedRow]] = []
    current: list[PackedRow] = []
    for row in ordered:
        width = current[0].length if current else row.length
        if current and (len(current) + 1) * width > max_batch_tokens:
            batches.append(current)
            current = []
        current.append(row)
    if current:
        batches.append(current)
    return batches
