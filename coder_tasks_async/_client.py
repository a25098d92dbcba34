"""``CoderTasksClient``: the client users hold.

It is the endpoints (``_endpoints``) with the fan-out methods (``_fanout``'s
``FanOutMethods``, a subclass of them), plus the helpers of the polling layer:
following, watching and waiting (``_polling``).  Each of those methods is thin: it
builds the helper object or calls the function that holds the logic, passing the
client in.  Nothing below imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Self
from uuid import UUID

from ._fanout.client_methods import FanOutMethods
from ._wire import protocol
from ._wire.deprecation import owner_from
from ._wire.models import Task, WorkspaceBuild
from ._wire.protocol import TaskRef, as_uuid
from ._wire.settings import PollPolicy, RetryPolicy, Timeouts, Wake, positive_seconds

# The polling and fan-out layers are imported by the methods that use them: a
# program that only lists or creates tasks does not pay for them at import
# (about a third of the package's import time).
if TYPE_CHECKING:
    from ._polling.fleet import FleetFollower
    from ._polling.follow import LogFollower
    from ._polling.logcursor import LogCursor
    from ._polling.many_tasks import ManyFollower, ManyWatcher
    from ._polling.settle import SendOutcome
    from ._polling.watch import TaskWatcher, Until
    from ._stores.base import CursorStore

__all__ = ["CoderTasksClient"]


def _test(until: Until | None) -> Callable[[Task], bool] | None:
    from ._polling.conditions import predicate

    return None if until is None else predicate(until)


def _ids_and_names(tasks: Iterable[TaskRef]) -> tuple[list[UUID], list[str]]:
    """Split what ``follow_many``/``watch_many`` were given into ids and names to look up."""
    ids: list[UUID] = []
    names: list[str] = []
    for task in tasks:
        if isinstance(task, Task):
            ids.append(task.id)
        elif isinstance(task, UUID):
            ids.append(task)
        else:
            try:
                ids.append(as_uuid(task, "task"))
            except (TypeError, ValueError):
                protocol.task_path(task, "me")  # a malformed reference fails here, typed
                names.append(task)
    return ids, names


def _check_store_key(key: str) -> str:
    """A store key or worker name: a non-empty string without NUL (refused before any I/O)."""
    if not isinstance(key, str) or not key or "\x00" in key or len(key) > 512:
        raise ValueError(f"expected a non-empty name of at most 512 characters, got {key!r}")
    return key


class CoderTasksClient(FanOutMethods):
    """Async client for Coder's AI Tasks API.

    Example::

        # url = "https://coder.example.com", token = a session token
        async with CoderTasksClient(url, token=token) as coder:
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
    ``wake`` does the same for how they learn of changes: ``"auto"`` (the default)
    also listens to each task's workspace watch stream, whose events end a poller's
    wait at once; ``"poll"`` only polls.  Streams use connections of their own, never
    ``max_concurrency`` slots, at most ``max_streams`` (256) at once.
    ``clock`` replaces the real clock (tests pass ``FakeClock`` from
    ``coder_tasks_async.testing``).

    OpenTelemetry (``pip install 'coder-tasks-async[otel]'``): once the application
    uses it, every request is a client span and a ``http.client.request.duration``
    measurement, and each follow or fan-out a parent span, on the global providers;
    ``tracer_provider``/``meter_provider`` send them elsewhere.  Logging: one logger
    per layer under ``coder_tasks_async`` (README, "Observability").

    Every method that names a task takes ``owner=`` (default ``"me"``; an
    ``"owner/name"`` reference carries its own); ``user=`` is its deprecated spelling.
    """

    @classmethod
    def from_env(
        cls, *, url: str | None = None, token: str | None = None, **kwargs: object
    ) -> Self:
        """Build a client from ``CODER_URL`` / ``CODER_SESSION_TOKEN``, falling back to the
        ``url`` and ``session`` files of the Coder CLI's config dir (``CODER_CONFIG_DIR``).

        ``url``/``token``, when given, beat both (as command-line flags would).  Other
        keyword arguments go to the constructor.  A missing URL or token raises
        ``ValueError`` naming every place that was looked at.
        """
        # Loaded here: a client built from arguments never needs it (~1 ms of import).
        from ._environment import TOKEN_ENV, URL_ENV, settings_from_env

        env = dict(os.environ)
        if url:
            env[URL_ENV] = url
        if token:
            env[TOKEN_ENV] = token
        settings = settings_from_env(env)
        return cls(settings.url, token=settings.token, **kwargs)  # type: ignore[arg-type]

    async def send_input(
        self, ref: TaskRef, input: str, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        wait_ready: bool = False,
        resume: bool = False,
        ready_timeout: float | None = 600.0,
        poll: PollPolicy | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> None:  # fmt: skip
        """Send ``input`` to the task's agent, exactly once.

        The server refuses input while the agent is busy (``ServerError`` 502 on
        older servers, ``ConflictError`` 409 on newer ones) and while the task is
        not active.  With ``wait_ready=True`` the client first waits (up to
        ``ready_timeout`` seconds) until the task is active and its agent is not
        working, as ``coder task send`` does, and waits again when the server says
        the agent is busy; those refusals mean nothing was delivered.  With
        ``resume=True`` as well, a paused task is resumed first (as the newer
        ``coder task send`` does) and the input sent once, into the new
        conversation; otherwise a paused task raises :class:`TaskPausedError` (a
        :class:`TaskNotReadyError`), whether it was paused before the wait or as the
        input was sent: the outcome never depends on timing.

        A failure after the input may have been delivered raises
        :class:`AmbiguousRequestError` and is never re-sent; :meth:`settle_send`
        tells whether it arrived.

        A name is resolved through the task list first on servers before v2.29;
        servers before v2.27 cannot send input (:class:`UnsupportedByServerError`).  On
        v2.27 a task has no task status: ``wait_ready`` then goes by the running
        workspace and the server's refusals (docs/compatibility.md §2).  Coder
        refuses only an empty string (whitespace reaches the agent); this client
        refuses blank input too.

        Example::

            await coder.send_input("fix-login", "Also update the CHANGELOG", wait_ready=True)
        """
        from ._polling import watch

        owner = owner_from(owner, user)
        positive_seconds(
            "send_input", "ready_timeout", ready_timeout, allow_none=True, allow_zero=True
        )
        send_once = super().send_input
        if not wait_ready:
            await send_once(ref, input, owner=owner, timeouts=timeouts, retry=retry)
            return
        protocol.validate_input(input)  # before any waiting

        async def send() -> None:
            await send_once(ref, input, owner=owner, timeouts=timeouts, retry=retry)

        await watch.send_when_ready(
            self, ref, send, timeout=ready_timeout, owner=owner, poll=poll, resume=resume
        )

    async def settle_send(
        self,
        ref: TaskRef,
        input: str,
        *,
        since: LogCursor | str | int,
        owner: str | UUID = "me",
    ) -> SendOutcome:
        """After :class:`AmbiguousRequestError` from ``send_input``: did ``input`` arrive?

        Looks for ``input`` as an ``input`` entry of the conversation after ``since``,
        what you knew of it before sending: a log cursor as it was then (its saved
        string, e.g. the ``follower.cursor.dumps()`` a bot saves before answering), or
        the id of the newest entry you had seen (``-1``: none).  A cursor also tells a
        conversation restarted since (its digests of what was seen); a bare id cannot
        when the restart kept the same run.  A live ``follower.cursor`` moves on as
        entries arrive, so pass what it was, not it.

        Returns :attr:`SendOutcome.DELIVERED`, :attr:`SendOutcome.NOT_DELIVERED` (the
        same live conversation, the agent not working, no such input: sending again
        delivers it once), or :attr:`SendOutcome.UNKNOWN` when it cannot tell: a stored
        snapshot (paused task) or no conversation to read (a task being paused or
        starting), a conversation restarted or replaced since, or an
        agent at work (it may be taking the input right now; ask again later).
        Three requests: the task, its conversation, the task again.

        Example::

            saved = follower.cursor.dumps()
            try:
                await coder.send_input(task, answer)
            except AmbiguousRequestError:
                outcome = await coder.settle_send(task, answer, since=saved)
                if outcome is SendOutcome.NOT_DELIVERED:
                    await coder.send_input(task, answer)
        """
        from ._polling.settle import settle_send

        return await settle_send(self, ref, input, since=since, owner=owner)

    # -- following and watching (the polling layer) ------------------------------

    def follow_logs(
        self, ref: TaskRef, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        settled: bool = False,
        cursor: LogCursor | str | None = None,
        poll: PollPolicy | None = None,
        until: Until | None = None, until_terminal: bool = False,
        idle_timeout: float | None = None,
        wake: Wake | None = None,
        store: CursorStore | None = None, key: str | None = None,
    ) -> LogFollower:  # fmt: skip
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
        without change while the agent is not working, or ``until`` (a status, a
        state, a collection of them, or a test on the task, as in :meth:`wait_for`).
        Transient errors and a task that is not active yet are waited out.

        ``wake`` (default: the client's ``wake``): ``"auto"`` also listens to the
        task's workspace watch stream, whose events wake the follower at once and let
        it poll slowly while the agent is idle; ``"poll"`` only polls.

        ``store`` (a :class:`SQLiteCursorStore` or :class:`PostgresCursorStore`) makes
        the cursor durable: it is loaded from ``key`` (default: the task's id) at the
        start, winning over ``cursor=``, and saved as each event is acknowledged
        (``await event.ack()``, asking for the next event, or leaving the ``async with``
        block without an exception), so a restarted bot resumes after the last event it
        finished with.  ``event.ack(connection)`` saves it inside your own transaction.

        Example::

            async with coder.follow_logs(task, settled=True, until_terminal=True) as follower:
                async for event in follower:
                    print(event.entry.content if event.entry else "-- conversation restarted --")
        """
        from ._polling.conditions import StopConditions
        from ._polling.follow import LogFollower

        positive_seconds("follow_logs", "idle_timeout", idle_timeout, allow_none=True)
        stop = StopConditions(
            until=_test(until), until_terminal=until_terminal, idle_timeout=idle_timeout
        )
        if key is not None:
            _check_store_key(key)
        return LogFollower(
            self,
            ref,
            owner=owner_from(owner, user),
            settled=settled,
            cursor=cursor,
            poll=poll,
            stop=stop,
            wake=wake,
            store=store,
            key=key,
        )

    def follow_many(
        self, tasks: Iterable[TaskRef] | None = None, *,
        owner: str | UUID | None = "me",
        settled: bool = False,
        cursors: Mapping[UUID, LogCursor | str] | None = None,
        poll: PollPolicy | None = None,
        until: Until | None = None, until_terminal: bool = False,
        idle_timeout: float | None = None,
        wake: Wake | None = None, max_streams: int | None = None,
        store: CursorStore | None = None,
    ) -> ManyFollower:  # fmt: skip
        """Follow many conversations as one stream of :class:`LogEvent` (tagged with
        ``event.task_id`` / ``event.task_name``).

        One ``list_tasks(owner=...)`` call per interval learns every status; logs are
        fetched only for tasks whose agent is working or whose state just changed.
        ``tasks=None`` follows every task of ``owner``, including new ones, until
        closed; with explicit tasks (anything :meth:`get_task` accepts: names are
        looked up on the first poll) the stream ends once each of them ended
        (deleted, or a stop condition as in :meth:`follow_logs`).

        ``wake`` as in :meth:`follow_logs`: each task's workspace watch stream wakes
        the poll, and while every stream reports its agent idle the list call slows
        to a safety net.  At most ``max_streams`` tasks listen (default: the client's
        ``max_streams``); the rest are polled as without streams.

        ``store`` as in :meth:`follow_logs`, one cursor per task under the task's id:
        loaded when a task is first seen, saved as its events are acknowledged.

        Example::

            async with coder.follow_many(created, settled=True, until_terminal=True) as events:
                async for event in events:
                    print(f"[{event.task_name}] {event.entry.content if event.entry else '--'}")
        """
        from ._polling.conditions import StopConditions
        from ._polling.many_tasks import ManyFollower

        positive_seconds("follow_many", "idle_timeout", idle_timeout, allow_none=True)
        ids, names = (None, []) if tasks is None else _ids_and_names(tasks)
        stop = StopConditions(
            until=_test(until), until_terminal=until_terminal, idle_timeout=idle_timeout
        )
        return ManyFollower(
            self,
            ids,
            names=names,
            owner=owner,
            settled=settled,
            cursors=cursors,
            poll=poll,
            stop=stop,
            wake=wake,
            max_streams=max_streams,
            store=store,
        )

    def follow_fleet(
        self, store: CursorStore, *,
        worker: str | None = None,
        owner: str | UUID | None = "me",
        filter: Callable[[Task], bool] | None = None,
        lease: float = 30.0,
        settled: bool = False,
        poll: PollPolicy | None = None,
        wake: Wake | None = None, max_streams: int | None = None,
    ) -> FleetFollower:  # fmt: skip
        """Be one worker of a fleet that shares ``owner``'s tasks through ``store``.

        Every worker claims tasks through leases in the store (each at most its fair
        share, ``ceil(tasks / workers)``), renews them while it runs and follows only
        what it holds, as :meth:`follow_many` would: one stream of :class:`LogEvent`,
        acknowledged as with ``store=`` there.  One worker at a time lists the tasks
        for the whole fleet (one list call per interval, not one per worker).  A
        worker that dies loses its leases after ``lease`` seconds and the others take
        its tasks over from their saved cursors; a graceful close (leaving the ``async
        with`` block) hands them over at once.  Every takeover raises the task's fencing
        token, and a worker whose lease was taken over can no longer save its cursor
        (:class:`LeaseLostError`), so with ``event.ack(connection)`` in your own
        transaction each event has its effect exactly once.

        ``worker`` names this worker (default: host, pid and a random suffix); names
        must differ between live workers.  ``filter`` keeps the tasks to follow
        (applied by whichever worker lists).  Handle each event well within ``lease``
        seconds: leases are renewed between events, every ``lease / 3`` seconds.  The
        rows of a task the server deleted are removed from the store (``forget``).

        Example::

            store = SQLiteCursorStore("fleet.sqlite3")
            async with coder.follow_fleet(store, worker="bot-1", settled=True) as events:
                async for event in events:
                    if event.entry is not None and event.entry.type == "output":
                        await post(event.idempotency_key, event.entry.content)
        """
        from ._polling.conditions import StopConditions
        from ._polling.fleet import FleetFollower, default_worker_name

        positive_seconds("follow_fleet", "lease", lease)
        name = default_worker_name() if worker is None else _check_store_key(worker)
        return FleetFollower(
            self,
            store,
            worker=name,
            owner=owner,
            accept=filter,
            lease=lease,
            settled=settled,
            poll=poll,
            stop=StopConditions(),
            wake=wake,
            max_streams=max_streams,
        )

    def watch_many(
        self, tasks: Iterable[TaskRef] | None = None, *,
        owner: str | UUID | None = "me",
        poll: PollPolicy | None = None,
        until: Until | None = None, until_terminal: bool = False,
        wake: Wake | None = None, max_streams: int | None = None,
    ) -> ManyWatcher:  # fmt: skip
        """Watch many tasks with one list call per interval: yields each :class:`Task`
        whose status, agent health, state or message changed.  ``tasks``, ``wake``
        and ``max_streams`` as in :meth:`follow_many`.

        Example::

            async for task in coder.watch_many(created, until=lambda t: t.state == "idle"):
                print(task.name, task.status, task.state)
        """
        from ._polling.conditions import StopConditions
        from ._polling.many_tasks import ManyWatcher

        ids, names = (None, []) if tasks is None else _ids_and_names(tasks)
        stop = StopConditions(until=_test(until), until_terminal=until_terminal)
        return ManyWatcher(
            self,
            ids,
            names=names,
            owner=owner,
            poll=poll,
            stop=stop,
            wake=wake,
            max_streams=max_streams,
        )

    async def wait_for(
        self, ref: TaskRef, *,
        until: Until,
        timeout: float | None = None,
        owner: str | UUID = "me", user: str | UUID | None = None,
        poll: PollPolicy | None = None,
        wake: Wake | None = None,
    ) -> Task:  # fmt: skip
        """Poll the task until ``until`` holds and return it.

        ``until`` is a :class:`TaskStatus` (``"active"``), a :class:`TaskState`
        (``"idle"``), a collection of them (any matches), or a predicate on the
        :class:`Task`.  Raises :class:`WaitTimeoutError` after ``timeout`` seconds,
        :class:`NotFoundError` if the task is deleted meanwhile.  ``wake`` as in
        :meth:`follow_logs`: the workspace watch stream's events end a wait early.

        Example::

            task = await coder.wait_for(task, until=[TaskState.IDLE, TaskState.COMPLETE],
                                        timeout=600)
        """
        from ._polling import watch

        positive_seconds("wait_for", "timeout", timeout, allow_none=True, allow_zero=True)
        return await watch.wait_for(
            self,
            ref,
            until=until,
            timeout=timeout,
            owner=owner_from(owner, user),
            poll=poll,
            wake=wake,
        )

    async def wait_for_build(
        self, build: WorkspaceBuild | UUID | str, *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
    ) -> WorkspaceBuild:  # fmt: skip
        """Poll a workspace build (``GET /api/v2/workspacebuilds/{id}``) until its job ends
        and return it, e.g. the build ``pause_task`` or ``resume_task`` started.

        Raises :class:`BuildFailedError` when the job failed or was canceled (``build``
        on the error, ``build.job.error`` says why) and :class:`WaitTimeoutError` after
        ``timeout`` seconds on the client's clock (``None``: no limit).

        Example::

            build = await coder.pause_task("fix-login")
            await coder.wait_for_build(build, timeout=300)  # now the task is paused
        """
        from ._polling import builds

        positive_seconds("wait_for_build", "timeout", timeout, allow_none=True, allow_zero=True)
        return await builds.wait_for_build(self, build, timeout=timeout, poll=poll)

    def watch(
        self, ref: TaskRef, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        poll: PollPolicy | None = None,
        until: Until | None = None, until_terminal: bool = False,
        wake: Wake | None = None,
    ) -> TaskWatcher:  # fmt: skip
        """An async iterator of :class:`Task` snapshots, one per change of status, agent
        health, state or state message (like ``coder task status --watch``).
        ``wake`` as in :meth:`follow_logs`.

        Example::

            async for task in coder.watch("fix-login", until_terminal=True):
                print(task.status, task.state, task.current_state and task.current_state.message)
        """
        from ._polling.conditions import StopConditions
        from ._polling.watch import TaskWatcher

        stop = StopConditions(until=_test(until), until_terminal=until_terminal)
        return TaskWatcher(
            self, ref, owner=owner_from(owner, user), poll=poll, stop=stop, wake=wake
        )
