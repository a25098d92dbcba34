"""``TaskEndpoints``: one short method per endpoint of Coder's Tasks API.

How a call is sent (route tree, release, names, errors, decoding) is
:mod:`.calls`' business; a method here says which endpoint, with what, and what
comes back.  ``CoderTasksClient`` (in ``_client``) builds on it with following,
watching and fan-out.
"""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

import aiohttp

from .._http.clock import Clock, SystemClock
from .._http.closing import AsyncClosing
from .._http.hooks import ResponseHook
from .._http.telemetry import Telemetry
from .._http.transport import RawResponse, Transport, configure_debug_logging
from .._wire import converter, protocol
from .._wire.deployment import validate_base_url, validate_token
from .._wire.deprecation import owner_from
from .._wire.errors import (
    NotFoundError,
)
from .._wire.models import (
    BUILD_ACTIVE_STATUSES,
    Task,
    TaskList,
    TaskLogs,
    TaskStatus,
    WorkspaceBuild,
)
from .._wire.protocol import ApiTree, TaskRef
from .._wire.settings import PollPolicy, RetryPolicy, Timeouts, Wake, check_wake
from .calls import ApiCalls, ApiChoice, logger
from .create import create_once
from .releases import LOGS, TaskTarget
from .resources import ResourceEndpoints

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

__all__ = ["DELETE_WAITS_FOR_BUILD", "SEND_TIMEOUTS", "ApiChoice", "TaskEndpoints"]


def _decode_logs(body: bytes) -> TaskLogs:
    return converter.decode(body, TaskLogs)


_DEFAULT_MAX_BODY = 64 * 1024 * 1024
#: How long ``delete_task`` waits by default for a workspace build that is still running.
DELETE_WAITS_FOR_BUILD = 300.0
#: ``send_input`` may be held by the server for tens of seconds while the agent takes the input.
SEND_TIMEOUTS = Timeouts(connect=10.0, read=120.0, total=150.0)


class TaskEndpoints(ResourceEndpoints, AsyncClosing):
    """The endpoint methods of :class:`~coder_tasks_async.CoderTasksClient`.

    One short method per endpoint of Coder's Tasks API.  It holds the client-wide
    settings (timeouts, retry, poll pace, clock) the upper layers read; the request
    plumbing is ``_calls``.
    """

    def __init__(
        self, url: str, *,
        token: str,
        api: ApiChoice = "auto",
        session: aiohttp.ClientSession | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
        max_concurrency: int = 64,
        clock: Clock | None = None,
        user_agent: str | None = None,
        ssl: ssl_module.SSLContext | bool | None = None,
        max_body_size: int = _DEFAULT_MAX_BODY,
        poll: PollPolicy | None = None,
        wake: Wake = "auto",
        max_streams: int = 256,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:  # fmt: skip
        configure_debug_logging()
        check_wake(wake)
        transport = Transport(
            validate_base_url(url),
            validate_token(token),
            session=session,
            timeouts=timeouts or Timeouts(),
            retry=retry or RetryPolicy(),
            max_concurrency=max_concurrency,
            clock=clock or SystemClock(),
            user_agent=user_agent,
            ssl=ssl,
            max_body_size=max_body_size,
            telemetry=Telemetry(tracer_provider, meter_provider),
        )
        #: How every call is sent (see :mod:`.calls`); pollers reach it through :mod:`.pinned`.
        self._calls = ApiCalls(transport, api, max_streams=max_streams)
        #: The polling pace of follow_logs, watch, wait_for and friends unless a call
        #: passes its own ``poll=``.
        self.poll: PollPolicy = poll or PollPolicy()
        #: How pollers learn about changes unless a call says otherwise: ``"auto"`` opens
        #: the workspace watch stream (where the server has one) as a reason to poll now,
        #: ``"poll"`` only polls.
        self.wake: Wake = wake

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, api={self.api or 'auto'!r})"

    @property
    def url(self) -> str:
        """The deployment URL (without any userinfo)."""
        return self._calls.url

    @property
    def api(self) -> ApiTree | None:
        """The route tree in use; ``None`` while ``api="auto"`` has not probed yet."""
        return self._calls.tree

    @property
    def server_version(self) -> str | None:
        """The server's release (``X-Coder-Build-Version`` of the first response), e.g.
        ``"v2.28.0"``; ``None`` until the client has had an answer.

        Read-only.  Learnt once and kept for the life of the client, like the route
        tree of ``api="auto"``; the client uses it to pick the create body's prompt
        field and to know whether the server takes task names in paths.
        """
        return self._calls.server_version

    def on_response(self, hook: ResponseHook) -> Callable[[], None]:
        """Call ``hook(status, headers)`` for every response this client receives
        (each attempt's, retries included); returns a function that removes the hook.

        For metrics or logging; a hook must not block or raise.

        Example::

            statuses: list[int] = []
            remove = coder.on_response(lambda status, headers: statuses.append(status))
        """
        return self._calls.transport.hooks.add(hook)

    @property
    def clock(self) -> Clock:
        """The clock every wait of this client uses."""
        return self._calls.transport.clock

    @property
    def connections_in_use(self) -> int:
        """Pooled connections currently held by requests: 0 between calls means nothing
        leaked (for tests and debugging)."""
        return self._calls.transport.connections_in_use

    @property
    def streams_open(self) -> int:
        """Workspace watch streams open right now (their own connections, never request
        slots); 0 once every follower and watcher ended means none leaked."""
        return self._calls.streams_open

    @property
    def closed(self) -> bool:
        """True after :meth:`aclose`."""
        return self._calls.transport.closed

    async def aclose(self) -> None:
        """Release the HTTP session (unless the caller supplied it).  Safe to call twice."""
        await self._calls.aclose()

    # -- endpoints ----------------------------------------------------------------

    async def list_tasks(
        self,
        owner: str | UUID | None = "me",
        organization: str | UUID | None = None,
        status: TaskStatus | str | None = None,
        query: str | None = None,
        *,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> TaskList:  # fmt: skip
        """Tasks visible to you, newest first, as a :class:`TaskList` (a ``list`` whose
        ``total`` is Coder's ``count``).  ``owner=None`` lists every owner you may see.

        ``owner`` is ``"me"``, a UUID or a username, checked by Coder's username rules
        before any request (``ValueError``).  ``status`` must be a known
        :class:`TaskStatus`.  ``query`` is Coder's search syntax (``owner:``,
        ``organization:``, ``status:``; bare words are an owner); it is merged with the
        arguments so Coder never sees a key twice: an owner named in ``query`` replaces
        the default ``owner="me"``, and a key given both ways is a ``ValueError`` before
        any request.

        Example::

            active = await coder.list_tasks(status=TaskStatus.ACTIVE)
            print(active.total, [t.name for t in active])
            bobs = await coder.list_tasks(query="bob")  # owner bob, not "me"
        """
        listing = await self._calls.list_tasks(
            owner, organization, status, query, timeouts=timeouts, retry=retry
        )
        return TaskList(listing.tasks, listing.count)

    async def create_task(
        self, input: str, *,
        template_version_id: UUID | str,
        name: str | None = None,
        display_name: str | None = None,
        template_version_preset_id: UUID | str | None = None,
        owner: str | UUID = "me", user: str | UUID | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> Task:  # fmt: skip
        """Create a task running ``input`` on a template version; returns it ``pending``.

        Never creates a duplicate: the request is re-sent only when it provably did
        not reach the server.  When it may have (a timeout after sending, a lost
        connection, a gateway error) and you gave a ``name``, the client looks the
        task up by name: it returns the task if its prompt matches, and otherwise
        sends again (the server refuses a second task with the same name, so this
        is safe).  A task of that name created before this call started (by the
        server's ``Date``, with 5 s of tolerance) is never returned as created.
        Without a name it raises :class:`AmbiguousRequestError`.

        Example::

            task = await coder.create_task(
                "Fix the flaky TestLogin", template_version_id=tv_id, name="fix-login"
            )
        """
        owner = owner_from(owner, user)
        body = protocol.create_body(
            input=input,
            template_version_id=template_version_id,
            name=name,
            display_name=display_name,
            template_version_preset_id=template_version_preset_id,
            server_version=self.server_version,
        )
        calls = self._calls
        return await create_once(calls, owner, body, name, input, timeouts, calls.budget(retry))

    async def get_task(
        self, ref: TaskRef, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> Task:  # fmt: skip
        """Fetch one task by ``Task``, ``UUID``, UUID string, ``name`` or ``"owner/name"``.

        Servers before v2.29 accept only a UUID in the path: there a name is first
        looked up through :meth:`list_tasks` (filtered by owner), then the task is
        fetched by its id.  The lookup is never cached.
        """
        if user is not None:
            owner = owner_from(owner, user)
        calls = self._calls
        by_id = protocol.id_path(ref, owner)
        if by_id is not None:
            # An id: every release takes it in the path, so there is nothing to look up.
            path, task_id = by_id
            budget = None if retry is None else calls.budget(retry)  # None: the client's policy
            return await calls.get_task_at(path, task_id=task_id, timeouts=timeouts, budget=budget)
        target = TaskTarget(ref, owner)
        return await calls.fetch(target, converter.decode_task, timeouts=timeouts, retry=retry)

    async def delete_task(
        self, ref: TaskRef, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        wait_build: float = DELETE_WAITS_FOR_BUILD,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> None:  # fmt: skip
        """Delete a task (the server tears its workspace down in the background).

        A delete is a workspace build, and Coder refuses it while another build runs
        (409 ``A workspace build is already active.``): right after create or resume,
        and while a pause stops the workspace.  That refusal only says "not yet", so by
        default the client waits for the running build to end (up to ``wait_build``
        seconds, 300, on the client's clock) and deletes then; a task deleted elsewhere
        meanwhile counts as deleted.  ``wait_build=0`` raises the :class:`ConflictError`
        at once.

        A name is resolved through the task list first on servers before v2.29 (see
        :meth:`get_task`).  Servers before v2.27 cannot delete tasks:
        :class:`UnsupportedByServerError`.

        Example::

            await coder.delete_task("fix-login")  # even right after create_task
        """
        owner = owner_from(owner, user)
        if not wait_build >= 0:
            raise ValueError(f"wait_build must be a number of seconds >= 0, not {wait_build!r}")
        calls = self._calls
        target = TaskTarget(ref, owner, since="delete_task")
        deadline = self.clock.now() + wait_build
        while True:
            budget = calls.budget(retry)
            response = await calls.call_task("DELETE", target, timeouts=timeouts, budget=budget)
            if _landed_before(response):
                return  # an earlier attempt landed before its response was lost
            if not protocol.is_build_active(response.status, response.body):
                calls.raise_for(response, budget)
                return
            logger.debug(
                "delete_task %s: a workspace build runs, deleting once it ends",
                ref if isinstance(ref, str) else protocol.task_id(ref),
                extra={"task_id": protocol.task_id(ref)},
            )
            outcome = await self._wait_build_end(ref, owner, deadline)
            if outcome == "gone":
                return  # deleted elsewhere while this call waited
            if outcome == "timeout":
                calls.raise_for(response, budget)

    async def _wait_build_end(self, ref: TaskRef, owner: str | UUID, deadline: float) -> str:
        """Poll the task until its workspace has no build running: ``"ended"``, ``"gone"``
        (404) or ``"timeout"`` (``deadline`` on the client's clock passed first)."""
        clock = self.clock
        delay = self.poll.initial
        while True:
            left = deadline - clock.now()
            if left <= 0:
                return "timeout"
            await clock.sleep(min(delay, left))
            delay = min(delay * 2, self.poll.maximum)
            try:
                task = await self.get_task(ref, owner=owner)
            except NotFoundError:
                return "gone"
            if task.workspace_status not in BUILD_ACTIVE_STATUSES:
                return "ended"

    async def get_logs(
        self, ref: TaskRef, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> TaskLogs:  # fmt: skip
        """The task's whole conversation (``.logs``), oldest first.

        Names are resolved on servers before v2.29 as in :meth:`get_task`.  Servers
        before v2.27 have no logs endpoint: :class:`UnsupportedByServerError`.
        """
        target = TaskTarget(ref, owner_from(owner, user), "/logs", since=LOGS)
        return await self._calls.fetch(target, _decode_logs, timeouts=timeouts, retry=retry)

    async def get_logs_raw(
        self, ref: TaskRef, *, owner: str | UUID = "me"
    ) -> tuple[list[Any], bool]:
        """The conversation as decoded JSON: ``(entries, snapshot)``.

        Low level, for code that structures only what changed (the log followers do);
        :meth:`get_logs` is the typed form.  The body's shape is checked, not each entry.
        """
        target = TaskTarget(ref, owner, "/logs", since=LOGS)
        response = await self._calls.call_task("GET", target, parse=converter.loads)
        return self._calls.raw_logs(response)

    async def send_input(
        self, ref: TaskRef, input: str, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> None:  # fmt: skip
        """Send ``input`` to the task's agent: one POST, never re-sent once it may have landed.

        ``CoderTasksClient.send_input`` adds waiting until the agent is ready.

        A name is resolved through the task list first on servers before v2.29 (see
        :meth:`get_task`); servers before v2.27 cannot send input
        (:class:`UnsupportedByServerError`).  Only an empty string is refused by Coder
        (whitespace reaches the agent); this client refuses blank input too.
        """
        target = TaskTarget(ref, owner_from(owner, user), "/send", since="send_input")
        body = protocol.input_body(protocol.validate_input(input))
        await self._calls.send(
            "POST", target, body=body, timeouts=timeouts or SEND_TIMEOUTS, retry=retry
        )

    async def update_input(
        self, ref: TaskRef, input: str, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> None:  # fmt: skip
        """Replace a paused task's initial prompt (Coder v2.29+; ``PATCH .../input``).

        Servers before v2.29 raise :class:`UnsupportedByServerError`; a task that is not
        paused raises :class:`ConflictError`.  Before v2.31.1 a task is paused by
        stopping its workspace.
        """
        target = TaskTarget(ref, owner_from(owner, user), "/input", since="update_input")
        body = protocol.input_body(protocol.validate_input(input))
        await self._calls.send("PATCH", target, body=body, timeouts=timeouts, retry=retry)

    async def pause_task(
        self, ref: TaskRef, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> WorkspaceBuild:  # fmt: skip
        """Pause a task: stop its workspace, keeping a snapshot of the conversation
        (Coder v2.31.1+).  Returns the stop build the server started.

        A task whose build is still running (e.g. just created) is refused with
        :class:`ConflictError`; pausing a paused task starts another stop build.

        Example::

            build = await coder.pause_task("fix-login")
            await coder.wait_for("fix-login", until="paused")
        """
        target = TaskTarget(ref, owner_from(owner, user), "/pause", since="pause_task")
        response = await self._calls.send("POST", target, timeouts=timeouts, retry=retry)
        return self._build_of(response, "pause")

    async def resume_task(
        self, ref: TaskRef, *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> WorkspaceBuild:  # fmt: skip
        """Resume a paused task: start its workspace again (Coder v2.31.1+).

        A task whose workspace runs is refused with :class:`ConflictError`
        (``Task workspace is already running.``); a task in ``error`` can be resumed.

        The agent restarts, so its conversation starts over; a follower reports
        that as a reset.
        """
        target = TaskTarget(ref, owner_from(owner, user), "/resume", since="resume_task")
        response = await self._calls.send("POST", target, timeouts=timeouts, retry=retry)
        return self._build_of(response, "resume")

    def _build_of(self, response: RawResponse, action: str) -> WorkspaceBuild:
        """The workspace build a pause or resume started, from its 2xx answer: the whole
        build (v2.32+), or only its id (``workspace_build_id``, before)."""
        decoded = self._calls.decoded
        data = decoded(lambda: converter.loads(response.body))
        if isinstance(data, dict) and "workspace_build" in data:
            build = data["workspace_build"]
            return decoded(lambda: converter.structure(build, WorkspaceBuild))
        if isinstance(data, dict) and "workspace_build_id" in data:
            build_id = data["workspace_build_id"]
            return WorkspaceBuild(id=decoded(lambda: converter.parse_uuid(build_id)))
        raise self._calls.misfit(f"unexpected {action} response", response)


def _landed_before(response: RawResponse) -> bool:
    """A delete's 404 from the handler after an attempt that may have landed: that
    earlier attempt deleted the task (its answer was lost)."""
    return (
        response.status == 404
        and response.may_have_landed
        and not protocol.is_route_not_found(response.status, response.headers, response.body)
    )
