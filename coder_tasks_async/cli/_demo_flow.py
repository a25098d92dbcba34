"""The ``demo`` flow: fan out tasks, tail them merged, answer one, summarize, clean up.

Without ``--url`` it runs against an embedded :class:`FakeCoder` in real time (short
timings, so the whole show takes seconds); with ``--url`` the same flow runs against
a real deployment.  It exercises the SDK the way its users do: ``create_task`` under a
``CapacityLimiter``, one ``follow_logs(settled=True)`` per task in a task group, and
``send_input(wait_ready=True)``.
"""

from __future__ import annotations

import sys
import time
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import anyio
import attrs
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import CoderTasksClient, PollPolicy, Task, TaskLogType, TaskState, TaskStatus, __version__
from ._demo_progress import DemoProgress, make_progress
from ._options import TEMPLATE_VERSION_ENV
from ._runner import EXIT_API
from ._tables import first_line
from ._terminal import print_error, styled

if TYPE_CHECKING:
    from ..testing import Timings

__all__ = ["demo_timings", "run_demo"]


def _console() -> Console:
    """Rich output on stdout, coloured only as the rest of the CLI is (see ``_terminal``)."""
    colour = styled(sys.stdout)
    return Console(
        soft_wrap=True,
        highlight=False,
        no_color=not colour,
        color_system="auto" if colour else None,
    )


def demo_timings(speed: float = 1.0) -> Timings:
    """Fast enough that 20 tasks start, answer and take a follow-up in a few seconds."""
    from ..testing import Timings

    return Timings(
        pending=0.5 / speed, initializing=1.0 / speed, chunk_interval=0.3 / speed, chunks=4
    )


#: States in which the agent waits for input or is done.
_SETTLED = frozenset(
    {TaskState.IDLE, TaskState.COMPLETE, TaskState.COMPLETED, TaskState.FAILED, TaskState.FAILURE}
)
_REAL_POLL = PollPolicy(initial=1.0, maximum=5.0)
_PROMPTS = (
    "Fix the flaky login test in tests/test_auth.py",
    "Add pagination to the /users endpoint",
    "Upgrade the CI image to Python 3.12",
    "Write docs for the billing module",
    "Remove dead code from utils/strings.py",
    "Add type hints to the payments package",
    "Speed up the slow search query",
    "Replace print calls with structured logging",
    "Add a healthcheck endpoint",
    "Bump aiohttp and fix the deprecation warnings",
)
_FOLLOW_UP = "Thanks! Please also add a regression test for that."
_COLORS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")


@attrs.define
class _Run:
    """What the demo tracks about one task."""

    index: int
    prompt: str
    #: Inputs the conversation holds once done: the prompt, plus the follow-up for one task.
    expected_inputs: int
    task: Task | None = None
    created_at: float = 0.0
    time_to_active: float | None = None
    entries: int = 0
    inputs: int = 0
    last_type: TaskLogType | None = None
    latest: Task | None = None
    settled: bool = False

    @property
    def label(self) -> str:
        name = self.task.name if self.task else f"task {self.index}"
        color = _COLORS[self.index % len(_COLORS)]
        return f"[{color}]\\[{escape(name)}][/]"


class _Demo:
    """One demo run: the shared client, limits and progress display for every task."""

    def __init__(
        self,
        coder: CoderTasksClient,
        *,
        template_version: str,
        preset: str | None,
        poll: PollPolicy,
        concurrency: int,
        progress: DemoProgress,
    ) -> None:
        self.coder = coder
        self.template_version = template_version
        self.preset = preset
        self.poll = poll
        self.limiter = anyio.CapacityLimiter(concurrency)
        self.progress = progress

    async def lifecycle(self, run: _Run) -> None:
        """Create one task, then tail it (and, for one task, answer it) until it settles."""
        async with self.limiter:
            run.task = await self.coder.create_task(
                run.prompt,
                template_version_id=self.template_version,
                template_version_preset_id=self.preset,
            )
        run.created_at = time.monotonic()
        self.progress.advance("created")
        async with anyio.create_task_group() as tg:
            if run.expected_inputs > 1:
                tg.start_soon(self.follow_up, run)
            await self.tail(run)

    async def follow_up(self, run: _Run) -> None:
        assert run.task is not None
        await self.coder.send_input(run.task, _FOLLOW_UP, wait_ready=True, poll=self.poll)
        self.progress.log(f"{run.label} [bold]↳ sent a follow-up:[/] {escape(_FOLLOW_UP)}")

    async def tail(self, run: _Run) -> None:
        assert run.task is not None

        def observe(task: Task) -> bool:
            # The follower calls this after every poll: the place to notice "active",
            # and to stop once the agent has answered every input and gone idle.
            run.latest = task
            if run.time_to_active is None and task.status is TaskStatus.ACTIVE:
                run.time_to_active = time.monotonic() - run.created_at
                self.progress.advance("active")
            run.settled = (
                task.status is TaskStatus.ACTIVE
                and task.state in _SETTLED
                and run.inputs >= run.expected_inputs
                and run.last_type is TaskLogType.OUTPUT
            )
            return run.settled

        async with self.coder.follow_logs(
            run.task, settled=True, until=observe, poll=self.poll
        ) as follower:
            async for event in follower:
                entry = event.entry
                if entry is None:
                    self.progress.log(f"{run.label} [dim]── conversation restarted ──[/]")
                    continue
                run.entries += 1
                run.last_type = entry.type
                text = escape(first_line(entry.content))
                if entry.type is TaskLogType.INPUT:
                    run.inputs += 1
                    text = f"[bold]> {text}[/]"
                self.progress.log(f"{run.label} {text}")
        self.progress.advance("settled")


def _summary(runs: list[_Run]) -> Table:
    table = Table(title="Summary", header_style="bold", title_justify="left")
    table.add_column("TASK", no_wrap=True)
    table.add_column("STATUS")
    table.add_column("STATE")
    table.add_column("ENTRIES", justify="right")
    table.add_column("TIME TO ACTIVE", justify="right")
    for one in runs:
        task = one.latest or one.task
        tta = "-" if one.time_to_active is None else f"{one.time_to_active:.1f}s"
        table.add_row(
            escape(task.name) if task else "-",
            escape(task.status) if task else "-",
            escape(task.state or "-") if task else "-",
            str(one.entries),
            tta,
        )
    return table


async def _delete_all(coder: CoderTasksClient, runs: list[_Run]) -> int:
    created = [one.task for one in runs if one.task is not None]
    async with anyio.create_task_group() as tg:
        for task in created:
            tg.start_soon(coder.delete_task, task)
    return len(created)


async def run_demo(
    *,
    url: str | None,
    token: str | None,
    template_version: str | None,
    preset: str | None,
    tasks: int,
    concurrency: int,
    timeout: float,
    speed: float = 1.0,
) -> None:
    """The whole demo; raises on the first failure (after deleting what it created)."""
    started = time.monotonic()
    async with AsyncExitStack() as stack:
        if url is None:
            # Imported here: the fake server's modules would slow every other command's start.
            from ..testing import FakeCoder

            fake = await stack.enter_async_context(FakeCoder(timings=demo_timings(speed)))
            coder = CoderTasksClient(fake.url, token=fake.token)
            # The fake changes every 0.3 s; the default policy (1 s, up to 10 s) would lag.
            poll = PollPolicy(initial=0.25 / speed, maximum=1.0 / speed)
            template_version = str(fake.template_version_id)
            where = f"an embedded FakeCoder ({fake.server_version}) at {fake.url}"
        else:
            if not template_version:
                raise ValueError(f"--template-version (or ${TEMPLATE_VERSION_ENV}) is required")
            coder = CoderTasksClient.from_env(
                url=url, token=token, user_agent=f"coder-tasks-cli/{__version__}"
            )
            poll, where = _REAL_POLL, url
        await stack.enter_async_context(coder)
        # One call before the burst: it checks the token, and with api="auto" it lets the
        # client learn the server's route tree once instead of racing 20 probes.
        await coder.list_tasks()
        _console().print(
            f"[bold]coder-tasks demo[/]: {tasks} tasks on {escape(where)}",
            highlight=False,
            soft_wrap=True,
        )
        runs = [_Run(i, _PROMPTS[i % len(_PROMPTS)], 2 if i == 0 else 1) for i in range(tasks)]
        try:
            with make_progress(_console(), tasks) as progress, anyio.fail_after(timeout):
                demo = _Demo(
                    coder,
                    template_version=template_version,
                    preset=preset,
                    poll=poll,
                    concurrency=concurrency,
                    progress=progress,
                )
                async with anyio.create_task_group() as tg:
                    for one in runs:
                        tg.start_soon(demo.lifecycle, one)
        except TimeoutError:
            settled = sum(one.settled for one in runs)
            print_error(f"only {settled} of {tasks} tasks settled within {timeout:g}s")
            raise typer.Exit(EXIT_API) from None
        else:
            elapsed = time.monotonic() - started
            _console().print(_summary(runs))
            entries = sum(one.entries for one in runs)
            _console().print(
                f"[bold green]Done:[/] {tasks} tasks, 1 follow-up, {entries} settled log entries "
                f"in [bold]{elapsed:.1f}s[/] wall time.",
                highlight=False,
            )
        finally:
            # Shielded so Ctrl-C or a failure still cleans up a real deployment.
            with anyio.CancelScope(shield=True), anyio.move_on_after(30):
                deleted = await _delete_all(coder, runs)
                _console().print(f"Deleted {deleted} tasks.", highlight=False)
