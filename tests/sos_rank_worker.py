"""One rank of a multi-process SOS run with a deterministic stand-in scorer (for torchrun in tests).

    torchrun --nproc-per-node 2 tests/sos_rank_worker.py OUT TASKS [--kill-rank R --kill-after K]

Rank R kills itself with SIGKILL before its K-th scoring call (a crash mid-run). Each rank
writes how many documents it scored to OUT/scored.rank<R>.
"""

from __future__ import annotations

import argparse
import os
import signal
import zlib
from pathlib import Path
from types import SimpleNamespace

from judgeaudit.engine import distributed
from judgeaudit.sos.data import DataSource
from judgeaudit.sos.document_scoring import SosOptions
from judgeaudit.sos.pipeline import run_sos

LM = SimpleNamespace(name="stand-in", dtype="float32")


class HashScorer:
    def __init__(self, kill_after: int | None):
        self.calls = 0
        self.kill_after = kill_after

    def loglikelihood(self, requests, desc=""):
        if self.kill_after is not None and self.calls >= self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        self.calls += 1
        return [SimpleNamespace(logprob=-(zlib.crc32((c + "|" + x).encode()) % 1000) / 100.0, is_greedy=False)
                for c, x in requests]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("tasks")
    parser.add_argument("--kill-rank", type=int, default=None)
    parser.add_argument("--kill-after", type=int, default=None)
    args = parser.parse_args()
    ranks = distributed.init("cpu")
    kill = args.kill_after if args.kill_rank == ranks.rank else None
    options = SosOptions(source=DataSource("fixtures"), n_resamples=200, chunk_docs=2)
    run = run_sos(LM, args.out, tasks=args.tasks, options=options, scorer=HashScorer(kill), progress=False,
                  report=lambda s: None, ranks=ranks)
    distributed.finish(ranks)
    Path(args.out, f"scored.rank{ranks.rank}").write_text(str(run.scored_now))

if __name__ == "__main__":
    main()
