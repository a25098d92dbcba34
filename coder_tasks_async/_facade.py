"""``CoderTasksClient``: the facade users hold.

It is the endpoint client (``_endpoints``) plus the helpers of the layers above
it: following, watching and waiting (``_polling``) and fan-out (``_fanout``).
Each helper method is thin: it builds the helper object or calls the function
that holds the logic, passing the client in.  Nothing below imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Self
from uuid import UUID

from ._config import settings_from_env
from ._endpoints.tasks import TaskEndpoints
from ._fanout import bounded as _fanout
from ._fanout.bounded import Outcome, Progress, TaskRequest
from ._fanout.ratelimit import RateLimiter
from ._polling import watch as _watch
from ._polling.follow import LogFollower
from ._polling.logcursor import LogCursor
from ._polling.many import ManyFollower, ManyWatcher
from ._polling.watch import TaskWatcher, Until
from ._wire import protocol
from ._wire.models import Task
from ._wire.protocol import TaskRef, as_uuid
from ._wire.settings import PollPolicy, RetryPolicy, Timeouts, Wake, positive_seconds

__all__ = ["CoderTasksClient"]


def _task_id(task: Task | UUID | str) -> UUID:
    if isinstance(task, Task):
        return task.id
    if isinstance(task, UUID):
        return task
    try:
        return as_uuid(task, "task")
    except (TypeError, ValueError):
        raise ValueError(
            f"follow_many/watch_many take Tasks or task ids, not {task!r}; "
            "resolve names with get_task() first"
        ) from None


class CoderTasksClient(TaskEndpoints):
    """Async client for Coder's AI Tasks API.

    Example::

        async with CoderTasksClient("https://coder.example.com", token=token) as coder:
            task = await coder.create_task("Fix the flaky test", template_version_id=tv_id)
            for t in await coder.list_tasks(status="active"):
                print(t.name, t.status)

    ``api`` picks the route tree: ``"experimental"`` (``/api/experimental/tasks``,
    every server since v2.26), ``"v2"`` (``/api/v2/tasks``, v2.29+), or ``"auto"``
    (the default): try ``/api/v2`` and fall back to the experimental tree the first
    time the server says the route does not exist, then remember.

    A caller-supplied ``session`` is used as is and never closed.  Otherwise the
    client creates its session on first use and closes it in :meth:`aclose`.

    ``poll`` sets the default pace of every polling helper (``follow_logs``,
    ``watch``, ``wait_for``, ``follow_many``, ...); each also takes its own ``poll=``.
    ``clock`` replaces the real clock (tests pass ``FakeClock`` from
    ``coder_tasks_async.testing``).
    """

    @classmethod
    def from_env(cls, **kwargs: object) -> Self:
        """Build a client from ``CODER_URL`` / ``CODER_SESSION_TOKEN``, falling back to the
        ``url`` and ``session`` files of the Coder CLI's config dir (``CODER_CONFIG_DIR``).

        Other keyword arguments go to the constructor.
        """
        settings = settings_from_env()
        return cls(settings.url, token=settings.token, **kwargs)  # type: ignore[arg-type]

    async def send_input(
        self,
        ref: TaskRef,
        input: str,
        *,
        user: str | UUID = "me",
        wait_ready: bool = False,
        resume: bool = False,
        ready_timeout: float | None = 600.0,
        poll: PollPolicy | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Send ``input`` to the task's agent, exactly once.

        The server refuses input while the agent is busy (``ServerError`` 502 on
        older servers, ``ConflictError`` 409 on newer ones) and while the task is
        not active.  With ``wait_ready=True`` the client first waits (up to
        ``ready_timeout`` seconds) until the task is active and its agent is not
        working, as ``coder task send`` does, and waits again when the server says
        the agent is busy; those refusals mean nothing was delivered.  With
        ``resume=True`` as well, a paused task is resumed first (as the newer
        ``coder task send`` does); otherwise waiting for a paused task raises
        :class:`TaskNotReadyError`.

        A failure after the input may have been delivered raises
        :class:`AmbiguousRequestError` and is never re-sent.

        A name is resolved through the task list first on servers before v2.29;
        servers before v2.27 cannot send input (:class:`UnsupportedByServer`).  On
        v2.27 a task has no task status: ``wait_ready`` then goes by the running
        workspace and the server's refusals (docs/compatibility.md §2).  Coder
        refuses only an empty string (whitespace reaches the agent); this client
        refuses blank input too.

        Example::

            await coder.send_input("fix-login", "Also update the CHANGELOG", wait_ready=True)
        """
        positive_seconds(
            "send_input", "ready_timeout", ready_timeout, allow_none=True, allow_zero=True
        )
        send_once = super().send_input
        if not wait_ready:
            await send_once(ref, input, user=user, timeouts=timeouts, retry=retry)
            return
        protocol.validate_input(input)  # before any waiting

        async def send() -> None:
            await send_once(ref, input, user=user, timeouts=timeouts, retry=retry)

        await _watch.send_when_ready(
            self, ref, send, timeout=ready_timeout, user=user, poll=poll, resume=resume
        )

    def follow_logs(
        self,
        ref: TaskRef,
        *,
        user: str | UUID = "me",
        settled: bool = False,
        cursor: LogCursor | str | None = None,
        poll: PollPolicy | None = None,
        until: Callable[[Task], bool] | None = None,
        until_terminal: bool = False,
        idle_timeout: float | None = None,
        wake: Wake | None = None,
    ) -> LogFollower:
        """Follow a task's conversation as it happens: an async iterator of :class:`LogEvent`.

        Live mode (the default) yields each new entry, then an ``UPDATE`` each time
        the agent's newest reply changes.  ``settled=True`` yields every entry exactly
        once, when it can no longer change.  A new run of the agent (resume) is one
        ``ResetEvent`` followed by all of its entries; a pause is one ``PausedEvent``.
        Pass ``cursor=`` (a saved ``follower.cursor.dumps()``) to resume without
        repeats; a cursor of another task is a ``ValueError``.  A name is resolved
        once; ``follower.end_reason`` says why the stream ended.

        The stream ends when the task is deleted, or when a stop condition holds:
        ``until_terminal`` (complete, failed or paused), ``idle_timeout`` seconds
        without change while the agent is not working, or ``until(task)``.
        Transient errors and a task that is not active yet are waited out.

        ``wake`` (default: the client's ``wake``): ``"auto"`` also listens to the
        task's workspace watch stream, whose events wake the follower at once and let
        it poll slowly while the agent is idle; ``"poll"`` only polls.

        Example::

            async with coder.follow_logs(task, settled=True, until_terminal=True) as follower:
                async for event in follower:
                    print(event.entry.content if event.entry else "-- conversation restarted --")
        """
        positive_seconds("follow_logs", "idle_timeout", idle_timeout, allow_none=True)
        return LogFollower(
            self,
            ref,
            user=user,
            settled=settled,
            cursor=cursor,
            poll=poll,
            until=until,
            until_terminal=until_terminal,
            idle_timeout=idle_timeout,
            wake=wake,
        )

    async def create_many(
        self,
        requests: Iterable[TaskRequest],
        *,
        template_version_id: UUID | str | None = None,
        concurrency: int = _fanout.DEFAULT_CONCURRENCY,
        fail_fast: bool = False,
        progress: Progress[TaskRequest, Task] | None = None,
        rate_limit: bool | RateLimiter = False,
    ) -> list[Outcome[TaskRequest, Task]]:
        """Create many tasks concurrently; results in input order, one :class:`Outcome` each.

        A request is a prompt or a dict of :meth:`create_task` arguments.  See
        :func:`coder_tasks_async.create_many`.

        Example::

            outcomes = await coder.create_many(prompts, template_version_id=tv, rate_limit=True)
            failed = [o for o in outcomes if not o.ok]
        """
        return await _fanout.create_many(
            self,
            requests,
            template_version_id=template_version_id,
            concurrency=concurrency,
            fail_fast=fail_fast,
            progress=progress,
            rate_limit=rate_limit,
        )

    async def get_many(
        self,
        refs: Iterable[TaskRef],
        *,
        user: str | UUID = "me",
        concurrency: int = _fanout.DEFAULT_CONCURRENCY,
        fail_fast: bool = False,
        progress: Progress[TaskRef, Task] | None = None,
        rate_limit: bool | RateLimiter = False,
    ) -> list[Outcome[TaskRef, Task]]:
        """Fetch many tasks concurrently; see :func:`coder_tasks_async.get_many`."""
        return await _fanout.get_many(
            self,
            refs,
            user=user,
            concurrency=concurrency,
            fail_fast=fail_fast,
            progress=progress,
            rate_limit=rate_limit,
        )

    async def delete_many(
        self,
        refs: Iterable[TaskRef],
        *,
        user: str | UUID = "me",
        concurrency: int = _fanout.DEFAULT_CONCURRENCY,
        fail_fast: bool = False,
        progress: Progress[TaskRef, None] | None = None,
        rate_limit: bool | RateLimiter = False,
    ) -> list[Outcome[TaskRef, None]]:
        """Delete many tasks concurrently; see :func:`coder_tasks_async.delete_many`."""
        return await _fanout.delete_many(
            self,
            refs,
            user=user,
            concurrency=concurrency,
            fail_fast=fail_fast,
            progress=progress,
            rate_limit=rate_limit,
        )

    def follow_many(
        self,
        tasks: Iterable[Task | UUID | str] | None = None,
        *,
        owner: str | UUID | None = "me",
        settled: bool = False,
        cursors: Mapping[UUID, LogCursor | str] | None = None,
        poll: PollPolicy | None = None,
        until: Callable[[Task], bool] | None = None,
        until_terminal: bool = False,
        idle_timeout: float | None = None,
    ) -> ManyFollower:
        """Follow many conversations as one stream of :class:`LogEvent` (tagged with
        ``event.task_id`` / ``event.task_name``).

        One ``list_tasks(owner=...)`` call per interval learns every status; logs are
        fetched only for tasks whose agent is working or whose state just changed.
        ``tasks=None`` follows every task of ``owner``, including new ones, until
        closed; with explicit tasks (``Task``, ``UUID`` or UUID string) the stream ends
        once each of them ended (deleted, or a stop condition as in :meth:`follow_logs`).

        Example::

            async with coder.follow_many(created, settled=True, until_terminal=True) as events:
                async for event in events:
                    print(f"[{event.task_name}] {event.entry.content if event.entry else '--'}")
        """
        positive_seconds("follow_many", "idle_timeout", idle_timeout, allow_none=True)
        ids = None if tasks is None else [_task_id(t) for t in tasks]
        return ManyFollower(
            self,
            ids,
            owner=owner,
            settled=settled,
            cursors=cursors,
            poll=poll,
            until=until,
            until_terminal=until_terminal,
            idle_timeout=idle_timeout,
        )

    def watch_many(
        self,
        tasks: Iterable[Task | UUID | str] | None = None,
        *,
        owner: str | UUID | None = "me",
        poll: PollPolicy | None = None,
        until: Callable[[Task], bool] | None = None,
        until_terminal: bool = False,
    ) -> ManyWatcher:
        """Watch many tasks with one list call per interval: yields each :class:`Task`
        whose status, agent health, state or message changed.

        Example::

            async for task in coder.watch_many(created, until=lambda t: t.state == "idle"):
                print(task.name, task.status, task.state)
        """
        ids = None if tasks is None else [_task_id(t) for t in tasks]
        return ManyWatcher(
            self, ids, owner=owner, poll=poll, until=until, until_terminal=until_terminal
        )

    async def wait_for(
        self,
        ref: TaskRef,
        *,
        until: Until,
        timeout: float | None = None,
        user: str | UUID = "me",
        poll: PollPolicy | None = None,
    ) -> Task:
        """Poll the task until ``until`` holds and return it.

        ``until`` is a :class:`TaskStatus` (``"active"``), a :class:`TaskState`
        (``"idle"``), a collection of them (any matches), or a predicate on the
        :class:`Task`.  Raises :class:`WaitTimeoutError` after ``timeout`` seconds,
        :class:`NotFoundError` if the task is deleted meanwhile.

        Example::

            task = await coder.wait_for(task, until=[TaskState.IDLE, TaskState.COMPLETE],
                                        timeout=600)
        """
        positive_seconds("wait_for", "timeout", timeout, allow_none=True, allow_zero=True)
        return await _watch.wait_for(self, ref, until=until, timeout=timeout, user=user, poll=poll)

    def watch(
        self,
        ref: TaskRef,
        *,
        user: str | UUID = "me",
        poll: PollPolicy | None = None,
        until: Callable[[Task], bool] | None = None,
        until_terminal: bool = False,
    ) -> TaskWatcher:
        """An async iterator of :class:`Task` snapshots, one per change of status, agent
        health, state or state message (like ``coder task status --watch``).

        Example::

            async for task in coder.watch("fix-login", until_terminal=True):
                print(task.status, task.state, task.current_state and task.current_state.message)
        """
        return TaskWatcher(
            self, ref, user=user, poll=poll, until=until, until_terminal=until_terminal
        )
