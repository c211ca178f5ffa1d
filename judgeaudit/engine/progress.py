"""A rich progress bar that callers advance by a count; silent when disabled or not a TTY."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator


@contextlib.contextmanager
def progress_bar(desc: str, total: int, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    if not enabled or total == 0:
        yield lambda n=1: None
        return
    # Imported here: the engine must load where only torch, triton and transformers exist.
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(desc, total=total)
        yield lambda n=1: bar.advance(task, n)
