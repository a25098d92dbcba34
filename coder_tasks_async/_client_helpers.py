"""The helper methods of ``CoderTasksClient``: following, watching, waiting, fan-out.

They are thin: each builds the helper object or calls the function that holds the
logic (``_follow``, ``_many``, ``_watch``, ``_fanout``).  Kept apart from the
endpoint methods in ``_client.py`` so each file stays readable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, cast
from uuid import UUID

from . import _fanout, _watch
from ._fanout import Outcome, Progress, TaskRequest
from ._follow import LogFollower
from ._logcursor import LogCursor
from ._many import ManyFollower, ManyWatcher
from ._models import Task
from ._polling import PollPolicy
from ._protocol import TaskRef, as_uuid
from ._ratelimit import RateLimiter
from ._watch import TaskWatcher, Until

if TYPE_CHECKING:
    from ._client import CoderTasksClient

__all__ = ["HelperMethods"]


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


class HelperMethods:
    """Mixed into :class:`CoderTasksClient`; see each method."""

    @property
    def _client(self) -> CoderTasksClient:
        return cast("CoderTasksClient", self)

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
    ) -> LogFollower:
        """Follow a task's conversation as it happens: an async iterator of :class:`LogEvent`.

        Live mode (the default) yields each new entry, then an ``UPDATE`` each time
        the agent's newest reply changes.  ``settled=True`` yields every entry exactly
        once, when it can no longer change.  Pass ``cursor=`` (a saved
        ``follower.cursor.dumps()``) to resume without repeats.

        The stream ends when the task is deleted, or when a stop condition holds:
        ``until_terminal`` (complete, failed or paused), ``idle_timeout`` seconds
        without change while the agent is not working, or ``until(task)``.
        Transient errors and a task that is not active yet are waited out.

        Example::

            async with coder.follow_logs(task, settled=True, until_terminal=True) as follower:
                async for event in follower:
                    print(event.entry.content if event.entry else "-- conversation restarted --")
        """
        return LogFollower(
            self._client,
            ref,
            user=user,
            settled=settled,
            cursor=cursor,
            poll=poll,
            until=until,
            until_terminal=until_terminal,
            idle_timeout=idle_timeout,
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
            self._client,
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
            self._client,
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
            self._client,
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
        ids = None if tasks is None else [_task_id(t) for t in tasks]
        return ManyFollower(
            self._client,
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
            self._client, ids, owner=owner, poll=poll, until=until, until_terminal=until_terminal
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
        return await _watch.wait_for(
            self._client, ref, until=until, timeout=timeout, user=user, poll=poll
        )

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
            self._client, ref, user=user, poll=poll, until=until, until_terminal=until_terminal
        )
