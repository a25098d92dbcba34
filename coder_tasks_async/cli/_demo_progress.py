"""The demo's progress display: rich progress bars on a terminal, plain lines elsewhere.

Both print the merged conversation lines; on a terminal they scroll above the bars.
"""

from __future__ import annotations

import time
from typing import Protocol, Self

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["STAGES", "DemoProgress", "make_progress"]

#: The milestones every task passes, in order.
STAGES = ("created", "active", "settled")


class DemoProgress(Protocol):
    """What the demo reports to."""

    def advance(self, stage: str) -> None:
        """One more task reached ``stage`` (one of :data:`STAGES`)."""

    def log(self, markup: str) -> None:
        """Print one line of rich markup."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


class _Bars:
    """Live progress bars (one per stage) with the log scrolling above them."""

    def __init__(self, console: Console, total: int) -> None:
        self._progress = Progress(
            TextColumn("{task.description:>8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._ids = {stage: self._progress.add_task(stage, total=total) for stage in STAGES}

    def advance(self, stage: str) -> None:
        self._progress.advance(self._ids[stage])

    def log(self, markup: str) -> None:
        self._progress.console.print(markup, highlight=False, soft_wrap=True)

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()


class _Lines:
    """For pipes and CI logs: a line when every task has passed a stage, no redraws."""

    def __init__(self, console: Console, total: int) -> None:
        self._console = console
        self._total = total
        self._counts = dict.fromkeys(STAGES, 0)
        self._started = time.monotonic()

    def advance(self, stage: str) -> None:
        self._counts[stage] += 1
        if self._counts[stage] == self._total:
            elapsed = time.monotonic() - self._started
            self._console.print(
                f"[bold]✓ {self._total}/{self._total} {stage}[/] after {elapsed:.1f}s",
                highlight=False,
            )

    def log(self, markup: str) -> None:
        self._console.print(markup, highlight=False, soft_wrap=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


def make_progress(console: Console, total: int) -> DemoProgress:
    """Bars when ``console`` is an interactive terminal, plain lines otherwise."""
    if console.is_terminal and not console.is_dumb_terminal:
        return _Bars(console, total)
    return _Lines(console, total)
