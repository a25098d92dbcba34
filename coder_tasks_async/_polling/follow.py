"""Following a task's conversation: ``client.follow_logs(...)``.

A :class:`LogFollower` polls the task and its logs, feeds each poll through a
:class:`~coder_tasks_async.LogCursor`, and hands out :class:`LogEvent` objects.
It is an async iterator and an async context manager; it starts no background
task, so ``break``, cancellation or an exception in the loop body leave nothing
behind, and the cursor always reflects exactly the events already handed out.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import TYPE_CHECKING, Any
from uuid import UUID

from attrs import define

from .._wire.converter import structure
from .._wire.errors import CoderDecodeError, CoderError
from .._wire.models import Task, TaskLogEntry
from .._wire.settings import PollPolicy
from .backoff import Backoff
from .conditions import (
    StopConditions,
    agent_working,
    ready_for_input,
    serves_logs,
    stop_requested,
)
from .iterator import Closeable
from .logcursor import LogCursor, Step, StepKind, digest, entry_fields
from .verdict import Verdict, judge

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints as CoderTasksClient
    from .._wire.protocol import TaskRef

__all__ = ["LogEvent", "LogEventKind", "LogFollower"]

_MAX_DECODE_ERRORS = 3
_NO_STOP = StopConditions()


class LogEventKind(enum.Enum):
    """What happened to the conversation."""

    #: An entry with an id not seen before in this conversation.
    NEW = "new"
    #: A known entry whose content changed (the agent's reply growing or being rewritten).
    UPDATE = "update"
    #: The conversation restarted (agent restart, pause/resume); ``entry`` is ``None``.
    RESET = "reset"


@define(frozen=True, kw_only=True)
class LogEvent:
    """One change in a followed conversation.

    Example::

        async with coder.follow_logs("fix-login") as follower:
            async for event in follower:
                if event.entry is not None:
                    print(event.kind.value, event.entry.id, event.entry.content[-80:])
    """

    kind: LogEventKind
    entry: TaskLogEntry | None
    task_id: UUID | None = None
    task_name: str = ""
    #: True when the server answered from a stored snapshot (paused task, newer servers).
    snapshot: bool = False


class LogFollower(Closeable):
    """Async iterator of :class:`LogEvent` for one task.  Create with ``client.follow_logs``."""

    def __init__(
        self,
        client: CoderTasksClient,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        settled: bool = False,
        cursor: LogCursor | str | None = None,
        poll: PollPolicy | None = None,
        stop: StopConditions = _NO_STOP,
    ) -> None:
        self._client = client
        self._ref = ref
        self._owner = owner
        self._settled_mode = settled
        if isinstance(cursor, str):
            cursor = LogCursor.loads(cursor)
        self._cursor = cursor if cursor is not None else LogCursor()
        self._backoff = Backoff(poll or client.poll)
        self._until = stop.until
        self._until_terminal = stop.until_terminal
        self._idle_timeout = stop.idle_timeout
        self._pending: deque[tuple[Step, LogEvent | None]] = deque()
        self._done = False
        self._polled = False
        self._idle_since: float | None = None
        self._quiet_before = False
        self._newest_before: tuple[int, str] | None = None
        self._decode_errors = 0
        self._next_delay = 0.0
        #: The task as of the latest poll (``None`` before the first one).
        self.task: Task | None = None
        #: Settled mode: the newest entry is being held back until it settles.
        self.holding: bool = False
        #: The latest poll found something to hand out.
        self.produced: bool = False

    @property
    def cursor(self) -> LogCursor:
        """Where this follower is; ``cursor.dumps()`` saves it for ``follow_logs(cursor=...)``."""
        return self._cursor

    @property
    def closed(self) -> bool:
        """True once the stream ended or :meth:`aclose` was called."""
        return self._done and not self._pending

    async def aclose(self) -> None:
        """Stop following.  Events not yet handed out are dropped (the cursor excludes them)."""
        self._done = True
        self._pending.clear()

    async def __anext__(self) -> LogEvent:
        while True:
            event = self._take()
            if event is not None:
                return event
            if self._done:
                raise StopAsyncIteration
            if self._polled:
                await self._client.clock.sleep(self._next_delay)
            await self._poll()

    def _take(self) -> LogEvent | None:
        """Hand out the next queued event, committing the cursor as it goes."""
        while self._pending:
            step, event = self._pending.popleft()
            self._cursor.commit(step)
            if event is not None:
                return event
        return None

    async def _poll(self) -> None:
        self._polled = True
        try:
            task = await self._client.get_task(self._ref, owner=self._owner)
        except CoderError as exc:
            self._handle_error(exc)
            return
        if await self._observe(task):
            self._next_delay = self._backoff.after_poll(changed=bool(self._pending))

    async def _observe(self, task: Task, *, fetch_logs: bool = True) -> bool:
        """Take in a fresh snapshot of the task and, when useful, poll its logs.

        Returns False when an error was handled (and the backoff already chosen).
        """
        self.task = task
        try:
            # Paused tasks answer from a stored snapshot on newer servers; a pre-v2.31.1
            # server refuses, which is handled as "not ready".
            if fetch_logs and serves_logs(task):
                await self._poll_logs(task)
            else:
                self._ends(task)
            self._decode_errors = 0
        except CoderError as exc:
            self._handle_error(exc)
            return False
        return True

    async def _poll_logs(self, task: Task) -> None:
        try:
            raw_logs, snapshot = await self._client.get_logs_raw(task, owner=self._owner)
        except CoderError as exc:
            if judge(exc) is not Verdict.NOT_READY:
                raise
            self._ends(task)
            return
        try:
            settled = self._newest_settled(task, raw_logs) if self._settled_mode else None
            steps = self._cursor.plan(raw_logs, snapshot, settled=settled)
            if self._ends_after(task, steps) and settled is False and not agent_working(task):
                # The last poll: the agent is not working, so hand out its final reply too.
                steps = self._cursor.plan(raw_logs, snapshot, settled=True)
        except ValueError as exc:  # a malformed entry
            raise CoderDecodeError(str(exc)) from None
        for step in steps:
            self._pending.append((step, self._event(step, task)))
        self.holding = settled is False and bool(raw_logs) and not self._done
        self.produced = any(event is not None for _, event in self._pending)

    def _ends_after(self, task: Task, steps: list[Step]) -> bool:
        if any(step.kind is not StepKind.SKIP for step in steps):
            self._idle_since = None  # something happened: the idle grace starts over
        return self._ends(task)

    def _newest_settled(self, task: Task, raw_logs: list[Any]) -> bool:
        """Whether the newest entry can no longer change.

        The task and its logs are two requests, so one poll can pair a stale "idle"
        with a reply that just started.  The newest entry counts as settled only
        when two polls in a row saw the agent not working and the entry unchanged.
        """
        quiet = not agent_working(task)
        newest = None
        if raw_logs:
            entry_id, _, content = entry_fields(raw_logs[-1])
            newest = (entry_id, digest(content))
        settled = quiet and self._quiet_before and newest == self._newest_before
        self._quiet_before, self._newest_before = quiet, newest
        return settled

    def _event(self, step: Step, task: Task) -> LogEvent | None:
        if step.kind is StepKind.SKIP:
            return None
        entry = None
        if step.kind is not StepKind.RESET:
            entry = structure(step.raw, TaskLogEntry, path=f"logs[id={step.id}]")
        return LogEvent(
            kind=LogEventKind(step.kind.value),
            entry=entry,
            task_id=task.id,
            task_name=task.name,
            snapshot=step.snapshot,
        )

    def _ends(self, task: Task) -> bool:
        """Decide whether this poll was the last one (events already queued still go out)."""
        stop = stop_requested(task, self._until_terminal, self._until)
        if self._idle_timeout is not None:
            # Idle means: active, agent not working, and no new events.  A task that
            # is still starting is not idle, however long it takes.
            if ready_for_input(task):
                now = self._client.clock.now()
                if self._idle_since is None:
                    self._idle_since = now
                stop = stop or now - self._idle_since >= self._idle_timeout
            else:
                self._idle_since = None
        if stop:
            self._done = True
        return stop

    def _handle_error(self, exc: CoderError) -> None:
        verdict = judge(exc)
        if verdict is Verdict.GONE:
            if self.task is None and self._cursor.last_id is None:
                raise exc  # never found: a wrong name or id, not a deleted task
            self._done = True
            return
        if verdict is Verdict.RAISE:
            raise exc
        if isinstance(exc, CoderDecodeError):
            self._decode_errors += 1
            if self._decode_errors >= _MAX_DECODE_ERRORS:
                raise exc
        if verdict is Verdict.NOT_READY:
            self._next_delay = self._backoff.after_poll(changed=False)
        else:
            self._next_delay = self._backoff.after_failure(exc)

    def __repr__(self) -> str:
        state: Any = "closed" if self.closed else "open"
        return f"<LogFollower {self._ref!s} {state} last_id={self._cursor.last_id}>"
