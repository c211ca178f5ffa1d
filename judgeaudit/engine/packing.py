"""Prefix sharing: a cached common prefix per cluster, and token tries packed into rows.

Every request is the token sequence ``prefix + continuation[:-1]`` (what the model
reads). Sorted lexicographically, requests that share a beginning sit next to each
other, which gives two levels of sharing:

1. A *cluster* is a run of sorted requests whose neighbours share at least
   ``min_shared`` tokens. Their common beginning (a judge's instructions, a task's
   few-shot examples) is run once and its key/value cache reused for every row of the
   cluster.
2. Within a cluster, the rest of each request is inserted into a token trie, filled
   row by row up to a token budget. Inserting sorted sequences appends nodes in
   depth-first preorder, so a node's subtree is the contiguous range
   [k, k + size[k]) and "q may attend to k" is simply ``k <= q < k + size[k]``: a
   tree-shaped attention mask in which every token sees exactly its own prefix. The
   position id of a node is its depth, so each path is computed exactly as if it were
   the only sequence in the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from judgeaudit.engine.requests import EncodedRequest


def common_prefix_len(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def model_input(e: EncodedRequest) -> tuple[int, ...]:
    return e.prefix + e.continuation[:-1]


@dataclass
class TrieRow:
    """Trie nodes in preorder, plus where each request's continuation is predicted."""

    offset: int  # tokens of the cluster prefix before this row (held in the KV cache)
    tokens: list[int] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)  # depth below the cluster prefix
    # (row node, target token, request index) for every continuation token
    predictions: list[tuple[int, int, int]] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    _path: list[int] = field(default_factory=list)  # node ids of the last inserted sequence
    _last: tuple[int, ...] = ()

    @property
    def length(self) -> int:
        return len(self.tokens)

    def cost(self, seq: tuple[int, ...]) -> int:
        """New nodes that inserting ``seq`` (sorted after the last one) would add."""
        return len(seq) - common_prefix_len(seq, self._last)

    def insert(self, request: int, e: EncodedRequest) -> None:
        seq = model_input(e)[self.offset:]
        shared = common_prefix_len(seq, self._last)
        path = self._path[:shared]
        for depth in range(shared, len(seq)):
            path.append(len(self.tokens))
            self.tokens.append(seq[depth])
            self.depths.append(depth)
        self._path, self._last = path, seq
        # The last prefix token predicts continuation[0]; continuation[j] is predicted
        # at the node holding continuation[j-1].
        first = len(e.prefix) - 1 - self.offset
        for j, target in enumerate(e.continuation):
            self.predictions.append((path[first + j], target, request))
        self.requests.append(request)

    def subtree_sizes(self) -> list[int]:
        sizes = [1] * len(self.tokens)
        stack: list[int] = []
        for k, d in enumerate(self.depths):
            while stack and self.depths[stack[-1]] >= d:
                top = stack.pop()
                sizes[top] = k - top
            stack.append(k)
        for top in stack:
            sizes[top] = len(self.tokens) - top
        return sizes


@dataclass
class Cluster:
    prefix: tuple[int, ...]  # run once; its KV cache is shared by the rows
    rows: list[TrieRow]


def shared_prefix_runs(seqs: dict[int, tuple[int, ...]], max_shared: dict[int, int], min_shared: int
                       ) -> list[tuple[int, list[int]]]:
    """Sorted runs of sequences whose neighbours share >= ``min_shared`` leading tokens.

    Returns (shared length, indices) per run, in sorted order; the shared length is the
    run's common beginning, at most ``max_shared[i]`` for each member (what must stay
    outside the shared part), and 0 for a run of one. Runs sharing less than
    ``min_shared`` are not worth a cache: callers treat them as loose.
    """
    order = sorted(seqs, key=lambda i: seqs[i])
    runs: list[list[int]] = []
    for i in order:
        if runs and common_prefix_len(seqs[runs[-1][-1]], seqs[i]) >= min_shared:
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for run in runs:
        shared = common_prefix_len(seqs[run[0]], seqs[run[-1]]) if len(run) > 1 else 0
        out.append((max(0, min([shared] + [max_shared[i] for i in run])), run))
    return out


def build_clusters(encoded: Sequence[EncodedRequest], indices: Sequence[int], max_row_tokens: int,
                   min_shared: int = 32, share_prefix: bool = True) -> list[Cluster]:
    """Pack the requests ``indices`` into clusters of trie rows.

    With ``share_prefix=False`` every request gets a row of its own and nothing is
    cached: the plain one-sequence-per-row computation, kept as a reference.
    """
    if not share_prefix:
        rows = []
        for i in indices:
            row = TrieRow(offset=0)
            row.insert(i, encoded[i])
            rows.append(row)
        return [Cluster((), rows)]
    seqs = {i: model_input(encoded[i]) for i in indices}
    # Each request keeps its last prefix token in the row: it predicts continuation[0].
    keep = {i: len(encoded[i].prefix) - 1 for i in indices}
    clusters: list[Cluster] = []
    loose = Cluster((), [])  # requests that share too little to be worth a cache
    for shared, run in shared_prefix_runs(seqs, keep, min_shared):
        target = loose if shared < min_shared else Cluster(seqs[run[0]][:shared], [])
        # Loose requests keep filling the same rows (they may still share a little).
        row = target.rows[-1] if target is loose and loose.rows else None
        for i in run:
            seq = seqs[i][len(target.prefix):]
            if row is None or (row.length and row.length + row.cost(seq) > max_row_tokens):
                row = TrieRow(offset=len(target.prefix))
                target.rows.append(row)
            row.insert(i, encoded[i])
        if target is not loose:
            clusters.append(target)
    if loose.rows:
        clusters.append(loose)
    return clusters


def batch_rows(rows: list[TrieRow], max_batch_tokens: int) -> list[list[TrieRow]]:
    """Longest rows first; a batch holds rows while rows x longest row fits the budget."""
    ordered = sorted(rows, key=lambda r: r.length, reverse=True)
    batches: list[list[TrieRow]] = []
    current: list[TrieRow] = []
    for row in ordered:
        width = current[0].length if current else row.length
        if current and (len(current) + 1) * width > max_batch_tokens:
            batches.append(current)
            current = []
        current.append(row)
    if current:
        batches.append(current)
    return batches
