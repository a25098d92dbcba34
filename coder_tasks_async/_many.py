"""Following and watching many tasks at once: ``follow_many`` and ``watch_many``.

One ``list_tasks`` call per interval learns every task's status (instead of one
``get_task`` per task), and logs are fetched only for tasks that can have new
output: active ones whose agent is working, or whose state just changed.  The
logs polls of one interval run concurrently under the client's concurrency cap.
Events from all tasks come out of one async iterator, tagged with their task.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

import anyio

from ._errors import CoderError, RateLimitError
from ._follow import LogEvent, LogFollower, is_terminal
from ._logcursor import LogCursor
from ._models import Task, TaskState, TaskStatus
from ._polling import Backoff, PollPolicy, Verdict, judge
from ._watch import fingerprint

if TYPE_CHECKING:
    from ._client import CoderTasksClient

__all__ = ["ManyFollower", "ManyWatcher"]

#: Quiet polls of a task's logs after its last change (settled mode needs two).
_QUIET_POLLS = 2


class _Lister:
    """The shared part: one list call per interval, restricted to the tasks asked for."""

    def __init__(
        self,
        client: CoderTasksClient,
        ids: Collection[UUID] | None,
        owner: str | UUID | None,
        poll: PollPolicy | None,
    ) -> None:
        self.client = client
        self.ids = None if ids is None else set(ids)
        self.owner = owner
        self.backoff = Backoff(poll or PollPolicy())
        self.delay: float | None = None

    async def list(self) -> dict[UUID, Task] | None:
        """The tasks of interest by id, or ``None`` after a transient error."""
        if self.delay is not None:
            await self.client.clock.sleep(self.delay)
        try:
            tasks = await self.client.list_tasks(owner=self.owner)
        except CoderError as exc:
            if judge(exc) in (Verdict.RAISE, Verdict.GONE):
                raise
            advised = exc.retry_after if isinstance(exc, RateLimitError) else None
            self.delay = self.backoff.after_error(advised)
            return None
        return {t.id: t for t in tasks if self.ids is None or t.id in self.ids}

    def paced(self, changed: bool) -> None:
        self.delay = self.backoff.after_poll(changed)


class _Aiter:
    _done: bool

    def __aiter__(self) -> Self:
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop; nothing runs in the background, so nothing is left behind."""
        self._done = True


class ManyFollower(_Aiter):
    """Async iterator of :class:`LogEvent` for many tasks.  Create with ``client.follow_many``.

    Follows the given task ids, or with ``ids=None`` every task ``owner`` has,
    including tasks created later.  ``cursors`` (task id to :class:`LogCursor` or
    its saved string) resumes each task without repeats; :attr:`cursors` saves them.
    """

    def __init__(
        self,
        client: CoderTasksClient,
        ids: Collection[UUID] | None = None,
        *,
        owner: str | UUID | None = "me",
        settled: bool = False,
        cursors: Mapping[UUID, LogCursor | str] | None = None,
        poll: PollPolicy | None = None,
        until: Callable[[Task], bool] | None = None,
        until_terminal: bool = False,
        idle_timeout: float | None = None,
    ) -> None:
        self._lister = _Lister(client, ids, owner, poll)
        self._options: dict[str, Any] = {
            "settled": settled,
            "poll": poll,
            "until": until,
            "until_terminal": until_terminal,
            "idle_timeout": idle_timeout,
        }
        self._saved = dict(cursors or {})
        self._followers: dict[UUID, LogFollower] = {}
        self._marks: dict[UUID, tuple[Any, int]] = {}
        self._ready: deque[LogFollower] = deque()
        self._done = False
        self._ids = None if ids is None else list(ids)

    @property
    def cursors(self) -> dict[UUID, LogCursor]:
        """Each followed task's cursor (save ``cursor.dumps()`` per task to resume later)."""
        return {task_id: f.cursor for task_id, f in self._followers.items()}

    @property
    def active(self) -> int:
        """How many tasks are still being followed."""
        return sum(1 for f in self._followers.values() if not f._done)

    def _follower(self, task: Task) -> LogFollower:
        follower = self._followers.get(task.id)
        if follower is None:
            follower = LogFollower(
                self._lister.client, task, cursor=self._saved.get(task.id), **self._options
            )
            self._followers[task.id] = follower
        return follower

    async def __anext__(self) -> LogEvent:
        while True:
            while self._ready:
                event = self._ready[0]._take()
                if event is not None:
                    return event
                self._ready.popleft()
            if self._done:
                raise StopAsyncIteration
            await self._poll()

    async def _poll(self) -> None:
        tasks = await self._lister.list()
        if tasks is None:
            return
        if self._ids is not None:
            for task_id in self._ids:
                if task_id not in tasks and task_id not in self._followers:
                    # Asked for, but not in the listing: deleted, or not visible.
                    self._followers[task_id] = LogFollower(self._lister.client, task_id)
                    self._followers[task_id]._done = True
        for task_id, follower in self._followers.items():
            if task_id not in tasks:
                follower._done = True  # deleted: its stream ends
        due: list[tuple[LogFollower, Task]] = []
        for task in tasks.values():
            follower = self._follower(task)
            if not follower._done:
                due.append((follower, task))
        async with anyio.create_task_group() as tg:
            for follower, task in due:
                tg.start_soon(_observe, follower, task, self._worth_polling(task))
        changed = False
        for follower, _ in due:
            if follower._pending:
                self._ready.append(follower)
                changed = True
        self._lister.paced(changed)
        if self._ids is not None:  # following everything (ids=None) goes on until aclose()
            self._done = all(f._done for f in self._followers.values())

    def _worth_polling(self, task: Task) -> bool:
        """Logs can have news: the agent works, or its state changed lately."""
        if task.status not in (TaskStatus.ACTIVE, TaskStatus.PAUSED):
            return False
        mark = fingerprint(task), task.current_state.timestamp if task.current_state else None
        previous, quiet = self._marks.get(task.id, (None, 0))
        quiet = quiet + 1 if mark == previous else 0
        self._marks[task.id] = (mark, quiet)
        return task.state is TaskState.WORKING or quiet < _QUIET_POLLS


async def _observe(follower: LogFollower, task: Task, fetch_logs: bool) -> None:
    await follower._observe(task, fetch_logs=fetch_logs)


class ManyWatcher(_Aiter):
    """Async iterator of :class:`Task` snapshots of many tasks, one per change.

    Create with ``client.watch_many``; one list call per interval.  A task that
    disappears from the listing (deleted) is dropped; with explicit ids the
    iteration ends when none is left, or when each reached ``until``/terminal.
    """

    def __init__(
        self,
        client: CoderTasksClient,
        ids: Collection[UUID] | None = None,
        *,
        owner: str | UUID | None = "me",
        poll: PollPolicy | None = None,
        until: Callable[[Task], bool] | None = None,
        until_terminal: bool = False,
    ) -> None:
        self._lister = _Lister(client, ids, owner, poll)
        self._until = until
        self._until_terminal = until_terminal
        self._marks: dict[UUID, tuple[Any, ...]] = {}
        self._finished: set[UUID] = set()
        self._ready: deque[Task] = deque()
        self._done = False
        self._ids = None if ids is None else set(ids)

    async def __anext__(self) -> Task:
        while not self._ready:
            if self._done:
                raise StopAsyncIteration
            await self._poll()
        return self._ready.popleft()

    async def _poll(self) -> None:
        tasks = await self._lister.list()
        if tasks is None:
            return
        for task in tasks.values():
            if task.id in self._finished:
                continue
            mark = fingerprint(task)
            ended = (self._until_terminal and is_terminal(task)) or (
                self._until is not None and self._until(task)
            )
            if ended:
                self._finished.add(task.id)
            if ended or mark != self._marks.get(task.id):
                self._marks[task.id] = mark
                self._ready.append(task)
        self._lister.paced(bool(self._ready))
        if self._ids is not None:
            gone = self._ids - tasks.keys()
            self._done = self._ids <= self._finished | gone
