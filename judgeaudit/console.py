"""The one terminal console and the one progress bar of the project (both rich).

Commands print results to ``console()`` (stdout); progress and status lines go to
``console(stderr=True)``, so a command's own output stays clean when piped.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


# Piped output (logs, CI, test runners) gets a width wide tables fit in instead of rich's 80.
PIPED_WIDTH = 150


def console(stderr: bool = False) -> "Console":
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, width=None if stream.isatty() else PIPED_WIDTH)


@contextlib.contextmanager
def progress_bar(desc: str, total: int, enabled: bool = True, *, done: int = 0,
                 info: Callable[[], str] | None = None) -> Iterator[Callable[[int], None]]:
    """A bar on stderr; yields ``advance(n=1)``. ``info`` adds a live status text after the bar."""
    if not enabled or total == 0:
        yield lambda n=1: None
        return
    # Imported here: the engine must load where only torch, triton and transformers exist.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
    if info is not None:
        columns.append(TextColumn("{task.fields[info]}"))
    with Progress(*columns, console=console(stderr=True), transient=False) as bar:
        task = bar.add_task(desc, total=total, completed=done, info=info() if info else "")

        def advance(n: int = 1) -> None:
            bar.update(task, advance=n, **({"info": info()} if info else {}))

        yield advance
