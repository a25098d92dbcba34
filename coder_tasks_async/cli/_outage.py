"""Saying it aloud when the server stops answering under a long-running command.

The SDK's pollers (``follow_logs``, ``watch``, ``wait_for``) wait out transient
errors for as long as they run, silently: right for a service, wrong for a person
watching ``logs -f`` on a dead server.  :func:`watched` runs a command body beside a
small watchdog that uses only the public client:

* every response the client receives is heard (``coder.on_response``);
* after a quiet spell the watchdog asks the server itself (one ``get_task``, no
  retries); a quiet spell that ends in an answer lets it ask less often next time,
  so an idle follower costs about one extra request a minute;
* when that fails it says so on stderr (``cannot reach …, retrying for 30 s``),
  asks again every second or two, says when the server is back, and gives up
  after ``--retry-for`` seconds with an error (exit 1).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ._error_messages import CliError, reason
from ._terminal import print_notice, print_warning

if TYPE_CHECKING:
    from uuid import UUID

    from coder_tasks_async import CoderTasksClient

__all__ = ["watched"]

T = TypeVar("T")

#: The longest quiet spell before the watchdog asks the server itself.
MAX_QUIET = 60.0


class _Watchdog:
    """Hears the client's responses and, when they stop, asks the server itself."""

    def __init__(self, coder: CoderTasksClient, task_id: UUID, limit: float | None) -> None:
        self.coder = coder
        self.task_id = task_id
        self.limit = limit
        #: First quiet spell that makes it ask: short when the user wants to know fast.
        self.first_quiet = min(max((limit or 20.0) / 2, 0.5), 10.0)
        self.quiet = self.first_quiet
        self.interval = min(max((limit or 8.0) / 4, 0.25), 2.0)
        self.heard = time.monotonic()
        self.responses = 0

    def hear(self, status: int, _: object) -> None:
        # A 502/503/504 is a proxy speaking for a server that is not there.
        if status < 500:
            self.heard = time.monotonic()
            self.responses += 1

    async def ask(self) -> BaseException | None:
        """One question to the server; the failure that says it is unreachable, if any."""
        from coder_tasks_async import CoderTransportError, RetryPolicy, ServerError, Timeouts

        try:
            await self.coder.get_task(
                self.task_id,
                retry=RetryPolicy.none(),
                timeouts=Timeouts(connect=5.0, read=10.0, total=10.0),
            )
        except (CoderTransportError, ServerError) as exc:
            return exc
        except Exception:
            return None  # it answered (a 404 is the follower's business)
        return None

    async def run(self) -> None:
        import asyncio

        while True:
            await asyncio.sleep(max(self.heard + self.quiet - time.monotonic(), 0.05))
            if time.monotonic() - self.heard < self.quiet:
                continue
            before = self.responses
            failure = await self.ask()
            if failure is not None:
                await self._outage(failure)
                self.quiet = self.first_quiet
            elif self.responses == before + 1:
                # Only our own question was answered: the command is idle, ask less often.
                self.quiet = min(self.quiet * 2, MAX_QUIET)
            else:
                self.quiet = self.first_quiet

    async def _outage(self, failure: BaseException) -> None:
        """Ask again until the server answers or the limit is reached (then raise)."""
        import asyncio

        where = self.coder.url
        started = time.monotonic()
        limit = f"retrying for {self.limit:g} s" if self.limit else "retrying until it answers"
        print_warning(f"cannot reach {where} ({_why(failure)}); {limit}")
        while True:
            if self.limit is not None and time.monotonic() - started >= self.limit:
                raise CliError(
                    f"cannot reach {where}: no answer for {self.limit:g} s ({_why(failure)})",
                    "check the server, or raise --retry-for (0 keeps trying)",
                )
            await asyncio.sleep(self.interval)
            again = await self.ask()
            if again is None:
                print_notice(f"{where} answers again.", "dim")
                return
            failure = again


def _why(failure: BaseException) -> str:
    status = getattr(failure, "status", None)
    return f"HTTP {status}" if status else reason(failure)


async def watched(
    coder: CoderTasksClient,
    task_id: UUID,
    limit: float | None,
    body: Callable[[], Awaitable[T]],
) -> T:
    """``await body()`` with the watchdog beside it; ``limit``: ``--retry-for`` (None: forever).

    asyncio is imported here, not with the module: ``--help`` must not load it.
    """
    import asyncio

    dog = _Watchdog(coder, task_id, limit)
    remove = coder.on_response(dog.hear)
    try:
        async with asyncio.TaskGroup() as group:
            watchdog = group.create_task(dog.run())
            try:
                return await body()
            finally:
                watchdog.cancel()
    finally:
        remove()
