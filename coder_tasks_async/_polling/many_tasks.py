"""Following and watching many tasks at once: ``follow_many`` and ``watch_many``.

One ``list_tasks`` call per interval learns every task's status (instead of one
``get_task`` per task), and logs are fetched only for tasks that can have new
output: active ones whose agent is working, whose state just changed, whose
conversation just changed, or whose newest entry is still being held back in
settled mode.  The logs polls of one interval run concurrently under the
client's concurrency cap.  Events from all tasks come out of one async
iterator, tagged with their task.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

import anyio

from .._wire.errors import CoderError
from .._wire.models import Task, TaskState
from .._wire.settings import PollPolicy, Wake
from .acks import Acknowledging, Acks
from .backoff import Backoff
from .conditions import StopConditions, serves_logs, stop_requested
from .error_policy import Verdict, judge
from .follow import EndReason, LogEvent, LogFollower
from .iterator import Closeable
from .logcursor import LogCursor
from .report import FollowReport
from .wake import WakeResult, WakerPool
from .watch import fingerprint

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints as CoderTasksClient
    from .._stores.base import CursorStore

__all__ = ["ManyFollower", "ManyWatcher"]

T = TypeVar("T")

#: Polls of a quiet task's logs after its last change (settled mode needs two).
_QUIET_POLLS = 2
#: A quiet task's logs are still fetched every this many intervals.
_FLOOR_POLLS = 5
_NO_STOP = StopConditions()


class _Lister:
    """The shared part: one list call per interval, restricted to the tasks asked for.

    Tasks asked for by id but missing from the listing (another owner, or a task
    the list has not caught up with yet) are fetched one by one; only a 404 means
    they are gone.
    """

    def __init__(
        self,
        client: CoderTasksClient,
        ids: Collection[UUID] | None,
        owner: str | UUID | None,
        poll: PollPolicy | None,
        names: Collection[str] = (),
        *,
        wake: Wake | None = None, max_streams: int | None = None,
    ) -> None:  # fmt: skip
        self.client = client
        #: One workspace watch per task (up to ``max_streams``); their events wake the poll.
        self.wakers = WakerPool(client, wake, max_streams)
        #: Tasks whose stream spoke during the last wait: poll them now.
        self.woken: set[UUID] = set()
        self.ids = None if ids is None and not names else set(ids or ())
        #: Tasks asked for by name, turned into ids by the first poll.
        self.names = list(names)
        self.owner = owner
        self.backoff = Backoff(poll or client.poll)
        self.delay: float | None = None
        #: Ids the server answered 404 for.
        self.gone: set[UUID] = set()

    async def poll_tasks(self) -> dict[UUID, Task] | None:
        """The tasks of interest by id, or ``None`` after a transient error."""
        await self.wait_turn()
        try:
            await self._resolve_names()
            listed = await self.client.list_tasks(owner=self.owner)
        except CoderError as exc:
            if judge(exc) in (Verdict.RAISE, Verdict.GONE):
                raise
            self.delay = self.backoff.after_failure(exc)
            return None
        tasks = {t.id: t for t in listed if self.ids is None or t.id in self.ids}
        if self.ids is not None:
            missing = self.ids - tasks.keys() - self.gone
            if missing:
                errors: list[BaseException] = []
                async with anyio.create_task_group() as tg:
                    for task_id in missing:
                        tg.start_soon(self._fetch, task_id, tasks, errors, tg.cancel_scope)
                if errors:
                    raise errors[0]  # the error itself, not an ExceptionGroup
        return tasks

    async def wait_turn(self) -> None:
        """Sleep until the next interval is due (the first one is at once); a watch stream
        that speaks ends the sleep early and restarts the fast pace (:attr:`woken`: whose)."""
        self.woken = set()
        if self.delay is not None:
            result, self.woken = await self.wakers.sleep(self.delay)
            if result is WakeResult.EVENT:
                self.backoff.restart()

    async def _resolve_names(self) -> None:
        """Look up the tasks asked for by name, once; a name that does not exist raises."""
        owner = "me" if self.owner is None else self.owner
        while self.names and self.ids is not None:
            task = await self.client.get_task(self.names[0], owner=owner)
            self.ids.add(task.id)
            self.names.pop(0)

    async def _fetch(
        self,
        task_id: UUID,
        into: dict[UUID, Task],
        errors: list[BaseException],
        scope: anyio.CancelScope,
    ) -> None:
        try:
            into[task_id] = await self.client.get_task(task_id)
        except CoderError as exc:
            verdict = judge(exc)
            if verdict is Verdict.GONE:
                self.gone.add(task_id)
            elif verdict is Verdict.RAISE:
                errors.append(exc)
                scope.cancel()
            # Otherwise transient: the task is simply not part of this interval.

    def paced(self, changed: bool, slow: Callable[[float], float]) -> None:
        """Set the next wait; after a quiet interval ``slow`` may stretch it (streams on)."""
        delay = self.backoff.after_poll(changed)
        self.delay = delay if changed else slow(delay)


class _ManyTasks(Generic[T]):
    """What both many-task pollers share: one lister, the queue of what is ready to hand
    out, and the end (``aclose``, or an error: no watch stream outlives the iteration)."""

    _lister: _Lister
    _ready: deque[Any]
    _done: bool
    #: The name of this iteration's span and log records.
    _operation = "follow_many"

    def _listen(
        self,
        client: CoderTasksClient,
        ids: Collection[UUID] | None,
        names: Collection[str],
        owner: str | UUID | None,
        poll: PollPolicy | None,
        wake: Wake | None, max_streams: int | None,
    ) -> None:  # fmt: skip
        self._lister = _Lister(client, ids, owner, poll, names, wake=wake, max_streams=max_streams)
        self._done = False
        self._ids = self._lister.ids  # grows as names are resolved
        count = None if ids is None else len(ids) + len(names)
        self._report = FollowReport(
            client, self._operation, "every task" if count is None else f"{count} tasks"
        )

    async def aclose(self) -> None:
        """Stop; what was not handed out yet is dropped (a follower's cursors exclude it)."""
        self._done = True
        self._ready.clear()
        self._report.end(EndReason.CLOSED.value)
        await self._lister.wakers.aclose()

    async def __anext__(self) -> T:
        report = self._report
        try:
            with report.step():
                item = await self._next()
        except BaseException as exc:
            # The end, an error or cancellation: no watch stream outlives the iteration.
            report.end(EndReason.STOPPED.value if self._done else None, exc)
            await self._lister.wakers.aclose()
            raise
        report.handed_out(item)
        return item

    async def _next(self) -> T:
        raise NotImplementedError


class ManyFollower(_ManyTasks[LogEvent], Acknowledging):
    """Async iterator of :data:`LogEvent` for many tasks.  Create with ``client.follow_many``.

    Follows the given task ids, or with ``ids=None`` every task ``owner`` has,
    including tasks created later.  ``cursors`` (task id to :class:`LogCursor` or
    its saved string) resumes each task without repeats; :attr:`cursors` saves them.
    """

    def __init__(
        self, client: CoderTasksClient, ids: Collection[UUID] | None = None, *,
        names: Collection[str] = (),
        owner: str | UUID | None = "me",
        settled: bool = False,
        cursors: Mapping[UUID, LogCursor | str] | None = None,
        poll: PollPolicy | None = None,
        stop: StopConditions = _NO_STOP,
        wake: Wake | None = None, max_streams: int | None = None,
        store: CursorStore | None = None,
    ) -> None:  # fmt: skip
        self._listen(client, ids, names, owner, poll, wake, max_streams)
        #: With a store: each task's cursor is loaded when first seen, saved when acked.
        self._acks = None if store is None else Acks(store)
        self._settled = settled
        self._poll_policy = poll
        self._stop = stop
        self._saved = dict(cursors or {})
        self._followers: dict[UUID, LogFollower] = {}
        self._marks: dict[UUID, tuple[Any, int]] = {}
        self._ready: deque[LogFollower] = deque()

    @property
    def cursors(self) -> dict[UUID, LogCursor]:
        """Each followed task's cursor (save ``cursor.dumps()`` per task to resume later)."""
        saved = {
            task_id: c if isinstance(c, LogCursor) else LogCursor.loads(c)
            for task_id, c in self._saved.items()
        }
        return saved | {task_id: f.cursor for task_id, f in self._followers.items()}

    @property
    def active(self) -> int:
        """How many tasks are still being followed."""
        return sum(1 for f in self._followers.values() if not f.finished)

    def _follower(self, task: Task) -> LogFollower:
        follower = self._followers.get(task.id)
        if follower is None:
            follower = LogFollower(
                self._lister.client,
                task,
                cursor=self._saved.get(task.id),
                settled=self._settled,
                poll=self._poll_policy,
                stop=self._stop,
                waker=self._lister.wakers.get(task),
            )
            self._followers[task.id] = follower
        return follower

    async def _next(self) -> LogEvent:
        if self._acks is not None:
            await self._acks.flush()  # asking for more acknowledges what was handed out
        while True:
            while self._ready:
                event = self._ready[0].take()
                if event is not None:
                    if self._acks is not None:
                        return self._acks.stamp(event, self._ready[0].cursor)
                    return event
                self._ready.popleft()
            if self._done:
                raise StopAsyncIteration
            await self._poll()

    async def _poll(self) -> None:
        """One interval: one list call, then the logs of the tasks worth a look, at once."""
        tasks = await self._lister.poll_tasks()
        if tasks is None:
            return
        if self._acks is not None:  # resume tasks seen for the first time from the store
            self._saved.update(await self._acks.load(tasks.keys() - self._followers.keys()))
        await self._drop_missing(tasks)
        due: list[tuple[LogFollower, Task]] = []
        for task in tasks.values():
            follower = self._follower(task)
            if not follower.finished:
                await follower.waker.attach(task)
                due.append((follower, task))
        await self._observe_all(due)
        for follower, _ in due:
            if follower.finished and follower.task is not None:
                await self._lister.wakers.drop(follower.task.id)  # its slot is free again
        self._lister.paced(bool(self._ready), self._slow_pace)
        if self._ids is not None:  # following everything (ids=None) goes on until aclose()
            self._done = all(self._ended(task_id) for task_id in self._ids)

    async def _drop_missing(self, tasks: dict[UUID, Task]) -> None:
        """Followed tasks the listing no longer shows: following every task, a deleted
        one is forgotten (its memory released); followed by id, it ends once it is gone."""
        for task_id in list(self._followers):
            if task_id in tasks:
                continue
            if self._ids is None:
                del self._followers[task_id]
                if self._acks is not None:
                    self._acks.forget(task_id)
                self._marks.pop(task_id, None)
                await self._lister.wakers.drop(task_id)
            elif task_id in self._lister.gone:
                self._followers[task_id].end(EndReason.DELETED)

    async def _observe_all(self, due: list[tuple[LogFollower, Task]]) -> None:
        """Hand each follower its task's snapshot (fetching the logs worth fetching), all
        at once; the first error is raised as itself once the others stopped."""
        errors: list[BaseException] = []
        try:
            async with anyio.create_task_group() as tg:
                for follower, task in due:
                    fetch = self._worth_polling(follower, task)
                    tg.start_soon(_observe, follower, task, fetch, errors, tg.cancel_scope)
        finally:
            # Whatever the polls that finished queued is handed out, even if this
            # interval was cancelled or another poll failed: planned again later from
            # the same cursor, it would come out twice.
            for follower, _ in due:
                if follower.tracker.pending:
                    self._ready.append(follower)
        if errors:
            raise errors[0]  # as follow_logs would: the error itself, not an ExceptionGroup

    def _ended(self, task_id: UUID) -> bool:
        """A task followed by id is done with: deleted, or its follower finished."""
        if task_id in self._lister.gone:
            return True
        follower = self._followers.get(task_id)
        return follower is not None and follower.finished

    def _slow_pace(self, delay: float) -> float:
        """Slow only while every followed task is quiet on its stream (and no
        ``idle_timeout`` is due sooner); one task polled as today keeps today's pace."""
        return min(
            (f.paced(delay) for f in self._followers.values() if not f.finished),
            default=delay,
        )

    def _worth_polling(self, follower: LogFollower, task: Task) -> bool:
        """Logs can have news: the agent works, its state or conversation changed lately,
        its stream just spoke, or settled mode still holds its newest entry back."""
        if not serves_logs(task):
            return False
        if task.id in self._lister.woken:
            return True
        if task.state in (TaskState.WORKING, None) or follower.holding or follower.produced:
            # Working, or an agent that reports no state (no signal to go by).
            self._marks[task.id] = (None, 0)
            return True
        mark = fingerprint(task), task.current_state.timestamp if task.current_state else None
        previous, quiet = self._marks.get(task.id, (None, 0))
        quiet = quiet + 1 if mark == previous else 0
        self._marks[task.id] = (mark, quiet)
        if follower.waker.quiet(task):
            # The stream and the poll agree the agent idles, and nothing is held back:
            # new output needs the agent to work, which the stream publishes first.
            return False
        # Quiet tasks are still looked at every few intervals: output can appear
        # without the agent reporting a new state.
        return quiet < _QUIET_POLLS or quiet % _FLOOR_POLLS == 0


async def _observe(
    follower: LogFollower,
    task: Task,
    fetch_logs: bool,
    errors: list[BaseException],
    scope: anyio.CancelScope,
) -> None:
    try:
        await follower.observe(task, fetch_logs=fetch_logs)
    except Exception as exc:
        errors.append(exc)
        scope.cancel()  # the other polls of this interval stop; the error is raised once


class ManyWatcher(_ManyTasks[Task], Closeable):
    """Async iterator of :class:`Task` snapshots of many tasks, one per change.

    Create with ``client.watch_many``; one list call per interval.  A task that
    disappears (deleted) is dropped; with explicit ids the iteration ends when
    none is left, or when each reached ``until``/terminal.
    """

    _operation = "watch_many"

    def __init__(
        self, client: CoderTasksClient, ids: Collection[UUID] | None = None, *,
        names: Collection[str] = (),
        owner: str | UUID | None = "me",
        poll: PollPolicy | None = None,
        stop: StopConditions = _NO_STOP,
        wake: Wake | None = None, max_streams: int | None = None,
    ) -> None:  # fmt: skip
        self._listen(client, ids, names, owner, poll, wake, max_streams)
        self._tasks: dict[UUID, Task] = {}
        self._until = stop.until
        self._until_terminal = stop.until_terminal
        self._marks: dict[UUID, tuple[Any, ...]] = {}
        self._finished: set[UUID] = set()
        self._ready: deque[Task] = deque()

    async def _next(self) -> Task:
        while not self._ready:
            if self._done:
                raise StopAsyncIteration
            await self._poll()
        return self._ready.popleft()

    async def _poll(self) -> None:
        tasks = await self._lister.poll_tasks()
        if tasks is None:
            return
        for task in tasks.values():
            if task.id in self._finished:
                continue
            await self._lister.wakers.get(task).attach(task)
            mark = fingerprint(task)
            ended = stop_requested(task, self._until_terminal, self._until)
            if ended:
                self._finished.add(task.id)
                await self._lister.wakers.drop(task.id)
            if ended or mark != self._marks.get(task.id):
                self._marks[task.id] = mark
                self._ready.append(task)
        if self._ids is None:
            for task_id in self._marks.keys() - tasks.keys():
                del self._marks[task_id]  # deleted: forget it
                await self._lister.wakers.drop(task_id)
        self._tasks = tasks
        self._lister.paced(bool(self._ready), self._slow_pace)
        if self._ids is not None:
            self._done = self._ids <= self._finished | self._lister.gone

    def _slow_pace(self, delay: float) -> float:
        """Slow only while every watched task is quiet on its stream."""
        wakers = self._lister.wakers
        return min(
            (
                wakers.get(task).pace(delay, task)
                for task in self._tasks.values()
                if task.id not in self._finished
            ),
            default=delay,
        )
