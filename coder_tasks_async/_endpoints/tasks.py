"""``TaskEndpoints``: one short method per endpoint, composing protocol and transport.

``CoderTasksClient`` (in ``_facade``) builds on it with following, watching and fan-out.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, cast
from uuid import UUID

import aiohttp

from .._http.budget import RetryBudget
from .._http.clock import Clock, SystemClock, wall_time
from .._http.hooks import ResponseHook
from .._http.streams import EventStream, StreamUnavailable
from .._http.transport import RawResponse, Transport, configure_debug_logging
from .._wire import converter, protocol
from .._wire.deployment import validate_base_url, validate_token
from .._wire.deprecation import owner_from
from .._wire.errors import (
    AmbiguousRequestError,
    CoderDecodeError,
    CoderError,
    ConflictError,
    NotFoundError,
    ServerError,
    UnsupportedByServerError,
)
from .._wire.models import (
    BUILD_ACTIVE_STATUSES,
    Task,
    TaskList,
    TaskLogs,
    TasksList,
    TaskStatus,
    WorkspaceBuild,
)
from .._wire.protocol import API_ROOTS, ApiTree, TaskRef
from .._wire.settings import PollPolicy, RetryPolicy, Timeouts, Wake, check_wake
from . import releases
from .reconcile import may_have_created, this_calls_task
from .releases import TaskTarget
from .resources import ResourceEndpoints

__all__ = ["DELETE_WAITS_FOR_BUILD", "SEND_TIMEOUTS", "ApiChoice", "TaskEndpoints"]


def _decode_list(body: bytes) -> TasksList:
    return converter.decode(body, TasksList)


def _decode_logs(body: bytes) -> TaskLogs:
    return converter.decode(body, TaskLogs)


ApiChoice = Literal["auto", "experimental", "v2"]
T = TypeVar("T")
_DEFAULT_MAX_BODY = 64 * 1024 * 1024
#: Statuses that prove the tree we asked exists (the request reached a tasks handler).
_TREE_EXISTS = frozenset({200, 201, 202, 204, 400, 404, 409})
#: How long ``delete_task`` waits by default for a workspace build that is still running.
DELETE_WAITS_FOR_BUILD = 300.0
#: ``send_input`` may be held by the server for tens of seconds while the agent takes the input.
SEND_TIMEOUTS = Timeouts(connect=10.0, read=120.0, total=150.0)


class TaskEndpoints(ResourceEndpoints):
    """The endpoint methods of :class:`~coder_tasks_async.CoderTasksClient`.

    One short method per endpoint of Coder's Tasks API, the route-tree probe
    (``api="auto"``), and create's reconcile-by-name.  It holds the client-wide
    settings (timeouts, retry, poll pace, clock) the upper layers read.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str,
        api: ApiChoice = "auto",
        session: aiohttp.ClientSession | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 64,
        clock: Clock | None = None,
        user_agent: str | None = None,
        ssl: ssl_module.SSLContext | bool | None = None,
        max_body_size: int = _DEFAULT_MAX_BODY,
        poll: PollPolicy | None = None,
        wake: Wake = "auto",
        max_streams: int = 256,
    ) -> None:
        configure_debug_logging()
        check_wake(wake)
        if api not in ("auto", "experimental", "v2"):
            raise ValueError(f"api must be 'auto', 'experimental' or 'v2', not {api!r}")
        self._tree: ApiTree | None = None if api == "auto" else api
        # One probe per client: concurrent first calls wait for it instead of each
        # asking /api/v2 again.
        # asyncio's lock, not anyio's: importing anyio costs the package ~10% of its
        # import time, and the SDK runs on asyncio only (aiohttp does).
        self._probe_lock = asyncio.Lock()
        self._server_version: str | None = None
        self._takes_names: bool | None = None  # what the version says, parsed once
        #: The polling pace of follow_logs, watch, wait_for and friends unless a call
        #: passes its own ``poll=``.
        self.poll: PollPolicy = poll or PollPolicy()
        self._transport = Transport(
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
        )
        #: How pollers learn about changes unless a call says otherwise: ``"auto"`` opens
        #: the workspace watch stream (where the server has one) as a reason to poll now,
        #: ``"poll"`` only polls.
        self.wake: Wake = wake
        #: Long-lived watch streams; their own connections, never request slots.
        self._streams = self._transport.stream_pool(max_streams)
        self._transport.hooks.add(self._learn_version)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self._transport.public_base!r}, api={self.api or 'auto'!r})"

    @property
    def url(self) -> str:
        """The deployment URL (without any userinfo)."""
        return self._transport.public_base

    @property
    def api(self) -> ApiTree | None:
        """The route tree in use; ``None`` while ``api="auto"`` has not probed yet."""
        return self._tree

    @property
    def server_version(self) -> str | None:
        """The server's release (``X-Coder-Build-Version`` of the first response), e.g.
        ``"v2.28.0"``; ``None`` until the client has had an answer.

        Read-only.  Learnt once and kept for the life of the client, like the route
        tree of ``api="auto"``; the client uses it to pick the create body's prompt
        field and to know whether the server takes task names in paths.
        """
        return self._server_version

    def on_response(self, hook: ResponseHook) -> Callable[[], None]:
        """Call ``hook(status, headers)`` for every response this client receives
        (each attempt's, retries included); returns a function that removes the hook.

        For metrics or logging; a hook must not block or raise.

        Example::

            remove = coder.on_response(lambda status, headers: statuses.append(status))
        """
        return self._transport.hooks.add(hook)

    @property
    def clock(self) -> Clock:
        """The clock every wait of this client uses."""
        return self._transport.clock

    @property
    def connections_in_use(self) -> int:
        """Pooled connections currently held by requests: 0 between calls means nothing
        leaked (for tests and debugging)."""
        return self._transport.connections_in_use

    @property
    def streams_open(self) -> int:
        """Workspace watch streams open right now (their own connections, never request
        slots); 0 once every follower and watcher ended means none leaked."""
        return self._streams.open_count

    @property
    def closed(self) -> bool:
        """True after :meth:`aclose`."""
        return self._transport.closed

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
        """Release the HTTP session (unless the caller supplied it).  Safe to call twice."""
        await self._streams.aclose()
        await self._transport.aclose()

    async def _open_workspace_watch(self, workspace_id: UUID) -> EventStream:
        """Open the workspace's watch stream (websocket, else events); StreamUnavailable if not."""
        if self._transport.closed:
            raise StreamUnavailable("client closed")
        return await self._streams.open(f"/api/v2/workspaces/{workspace_id}/watch-ws")

    # -- plumbing ---------------------------------------------------------------

    def _budget(self, retry: RetryPolicy | None) -> RetryBudget:
        """The retry budget of one public call (see :class:`RetryPolicy`)."""
        transport = self._transport
        return RetryBudget(retry or transport.retry, transport.clock, transport.rand)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts | None = None,
        budget: RetryBudget | None = None,
        parse: Callable[[bytes], object] | None = None,
        probe: bool = True,
    ) -> RawResponse:
        """Send ``path`` (relative to the tasks tree) to the current tree.

        ``budget`` is the public call's retry budget: everything this call sends
        draws on it.  In auto mode the first answers teach the client which tree
        the server has.  ``probe=False`` is for endpoints only some servers have in
        both trees (pause/resume): their 404 says nothing about the tree as a
        whole, but they are still tried under the experimental tree when /api/v2
        lacks them.
        """
        if budget is None:
            budget = self._budget(None)
        if probe and self._tree is None:
            async with self._probe_lock:
                if self._tree is None:
                    return await self._send_to_tree(
                        method, path, params, body, timeouts, budget, parse, probe=True
                    )
        return await self._send_to_tree(
            method, path, params, body, timeouts, budget, parse, probe=probe
        )

    async def _send_to_tree(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: bytes | None,
        timeouts: Timeouts | None,
        budget: RetryBudget,
        parse: Callable[[bytes], object] | None,
        *,
        probe: bool,
    ) -> RawResponse:
        # Decide on what this call saw when it started: a concurrent call may settle
        # the tree while this one is in flight, and this call still sent to /api/v2.
        probing = probe and self._tree is None
        tree = self._tree or "v2"
        request = self._transport.request
        response = await request(
            method,
            API_ROOTS[tree] + path,
            params=params,
            body=body,
            timeouts=timeouts,
            budget=budget,
            parse=parse,
        )
        missing = protocol.is_route_not_found(response.status, response.headers, response.body)
        if missing and tree == "v2" and (probing or not probe):
            # The 404 came from the router: nothing was handled, so asking the
            # experimental tree is safe, POST included.
            budget.refund()
            fallback = await request(
                method,
                API_ROOTS["experimental"] + path,
                params=params,
                body=body,
                timeouts=timeouts,
                budget=budget,
                parse=parse,
            )
            if probing and not protocol.is_route_not_found(
                fallback.status, fallback.headers, fallback.body
            ):
                self._tree = "experimental"  # a server before v2.29: no /api/v2 tasks tree
            return fallback
        if probing and response.status in _TREE_EXISTS:
            self._tree = tree
        return response

    def _learn_version(self, status: int, headers: Mapping[str, str]) -> None:
        # A response hook: the first response that names the release settles it.
        if self._server_version is None:
            self._server_version = headers.get("X-Coder-Build-Version") or None
            self._takes_names = protocol.server_takes_names(self._server_version)

    async def _read(
        self,
        path: str | TaskTarget,
        decode: Callable[[bytes], T],
        *,
        params: dict[str, str] | None = None,
        timeouts: Timeouts | None = None,
        budget: RetryBudget,
    ) -> T:
        """GET and decode; a body that is not JSON at all (cut short) is fetched again
        within the same budget.  A body of the wrong *shape* is not retried: that will
        not heal.  ``path`` may be a task target, whose name is resolved on servers
        that need it.
        """
        if isinstance(path, TaskTarget):
            response = await self._call_task(
                "GET", path, timeouts=timeouts, budget=budget, parse=decode
            )
        else:
            response = await self._call(
                "GET", path, params=params, timeouts=timeouts, budget=budget, parse=decode
            )
        self._raise_for(response, budget)
        return cast(T, response.parsed)

    def _decoded(self, decode: Callable[[], T]) -> T:
        """``decode()``, with the token scrubbed from any decode error (it quotes the body)."""
        try:
            return decode()
        except CoderDecodeError as exc:
            raise self._transport.redactor.error(exc) from None

    def _raise_for(self, response: RawResponse, budget: RetryBudget | None = None) -> None:
        if response.status >= 300:
            policy = budget.policy if budget is not None else self._transport.retry
            error = protocol.error_from_response(
                response.status,
                response.headers,
                response.body,
                method=response.method,
                url=response.url,
                max_retry_after=policy.max_retry_after,
                redact=self._transport.redactor.text,
            )
            raise self._transport.redactor.error(error)

    async def _get_api(
        self,
        path: str,
        decode: Callable[[bytes], T],
        *,
        params: dict[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> T:
        """GET ``path`` below the deployment URL (outside the tasks trees) and decode it."""
        budget = self._budget(retry)
        response = await self._transport.request(
            "GET", path, params=params, timeouts=timeouts, budget=budget, parse=decode
        )
        self._raise_for(response, budget)
        return cast(T, response.parsed)

    async def _call_task(
        self,
        method: str,
        target: TaskTarget,
        *,
        body: bytes | None = None,
        timeouts: Timeouts | None = None,
        budget: RetryBudget | None = None,
        parse: Callable[[bytes], object] | None = None,
    ) -> RawResponse:
        """Call an endpoint of one task, looking a name up first where the server needs it.

        Servers before v2.29 take only a UUID in ``{task}``.  When the version says
        so, a name is resolved through the list before the call; when the version is
        not known yet, the name is tried and the server's 400 ``Invalid UUID`` (a
        refusal: nothing was handled, so it costs no retry) leads to the lookup and
        one more attempt.
        """
        if budget is None:
            budget = self._budget(None)
        named = protocol.name_ref(target.ref, target.owner)
        ref: TaskRef = target.ref
        if named is not None and self._takes_names is False:
            ref = await self._resolve_name(*named)
        response = await self._call_path(method, target, ref, body, timeouts, budget, parse)
        if (
            named is not None
            and ref is target.ref
            and protocol.is_invalid_uuid(response.status, response.body)
        ):
            ref = await self._resolve_name(*named)
            budget.refund()
            response = await self._call_path(method, target, ref, body, timeouts, budget, parse)
        return response

    async def _call_path(
        self,
        method: str,
        target: TaskTarget,
        ref: TaskRef,
        body: bytes | None,
        timeouts: Timeouts | None,
        budget: RetryBudget,
        parse: Callable[[bytes], object] | None,
    ) -> RawResponse:
        path = target.path(ref)
        if target.newer is not None:
            feature, minimum = target.newer
            return await self._call_newer(
                method, path, feature, minimum, body, timeouts, budget, parse
            )
        return await self._call(
            method, path, body=body, timeouts=timeouts, budget=budget, parse=parse
        )

    async def _resolve_name(self, owner: str | UUID, name: str) -> Task:
        return await releases.find_by_name(
            lambda who: self.list_tasks(owner=who), owner, name, url=self.url
        )

    # -- endpoints ----------------------------------------------------------------

    async def list_tasks(
        self,
        owner: str | UUID | None = "me",
        organization: str | UUID | None = None,
        status: TaskStatus | str | None = None,
        query: str | None = None,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> TaskList:
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
        if owner is not None and owner != "":
            owner = protocol.validate_owner(owner)  # inside q, as in a path: Coder's rules
        q = protocol.build_query(owner=owner, organization=organization, status=status, query=query)
        listing = await self._read(
            "", _decode_list, params={"q": q}, timeouts=timeouts, budget=self._budget(retry)
        )
        return TaskList(listing.tasks, listing.count)

    async def create_task(
        self,
        input: str,
        *,
        template_version_id: UUID | str,
        name: str | None = None,
        display_name: str | None = None,
        template_version_preset_id: UUID | str | None = None,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> Task:
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
        protocol.validate_input(input)
        tv_id = protocol.as_uuid(template_version_id, "template_version_id")
        preset = (
            protocol.as_uuid(template_version_preset_id, "template_version_preset_id")
            if template_version_preset_id is not None
            else None
        )
        if name is not None:
            protocol.validate_task_name(name)
        if display_name is not None:
            protocol.validate_display_name(display_name)
        body = protocol.create_body(
            input=input,
            template_version_id=tv_id,
            name=name,
            display_name=display_name,
            template_version_preset_id=preset,
            server_version=self.server_version,
        )
        budget = self._budget(retry)
        path = protocol.owner_path(owner)
        first = True
        while True:
            try:
                response = await self._call(
                    "POST",
                    path,
                    body=body,
                    timeouts=timeouts,
                    budget=budget,
                    parse=converter.decode_task,
                )
                self._raise_for(response, budget)
                return cast(Task, response.parsed)
            except (AmbiguousRequestError, ServerError, ConflictError, CoderDecodeError) as exc:
                if not may_have_created(exc, first_attempt=first):
                    raise
                if not name:
                    if isinstance(exc, CoderDecodeError):
                        raise  # 201 came back: the task exists, its body was unreadable
                    raise AmbiguousRequestError(
                        f"create_task may or may not have created the task ({exc}); it was "
                        "not re-sent. Pass name= to let the client reconcile, or check "
                        "list_tasks()",
                        method="POST",
                        url=self.url,
                    ) from exc
                existing = await self._reconcile(exc, name, input, owner, budget)
                if existing is not None:
                    return existing  # an earlier attempt of this call landed
                delay = budget.backoff()
                if isinstance(exc, ConflictError | CoderDecodeError) or not budget.fits(delay):
                    raise
                # Not created, and the unique name makes a second attempt duplicate-safe.
                await self.clock.sleep(delay)
                first = False

    async def _reconcile(
        self, exc: CoderError, name: str, input: str, owner: str | UUID, budget: RetryBudget
    ) -> Task | None:
        """After a create that may have landed: the task this call created, or ``None``
        when there is no task of that name (so sending again is safe).

        See :func:`.reconcile.this_calls_task` for when a task found by name
        counts as this call's.
        """
        try:
            # Servers before v2.29 take no names in paths: the lookup goes through
            # the task list there (docs/compatibility.md §9).
            response = await self._call_task(
                "GET", TaskTarget(name, owner), budget=budget, parse=converter.decode_task
            )
            if response.status == 404:
                return None
            self._raise_for(response, budget)
        except NotFoundError:
            return None  # the list has no task of that name
        except CoderError as lookup:
            raise AmbiguousRequestError(
                f"create_task may or may not have created the task ({exc}); looking it up "
                f"by name failed too ({lookup})",
                method="POST",
                url=self.url,
            ) from exc
        return this_calls_task(
            cast(Task, response.parsed),
            exc,
            name=name,
            input=input,
            date=response.headers.get("Date"),
            elapsed=self.clock.now() - budget.started,
            url=self.url,
            local_time=wall_time(self.clock),
        )

    async def get_task(
        self,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> Task:
        """Fetch one task by ``Task``, ``UUID``, UUID string, ``name`` or ``"owner/name"``.

        Servers before v2.29 accept only a UUID in the path: there a name is first
        looked up through :meth:`list_tasks` (filtered by owner), then the task is
        fetched by its id.  The lookup is never cached.
        """
        owner = owner_from(owner, user)
        budget = self._budget(retry)
        if protocol.name_ref(ref, owner) is None:
            # An id: every release takes it in the path, so there is nothing to look up.
            path = protocol.task_path(ref, owner)
            return await self._get_task_at(path, timeouts=timeouts, budget=budget)
        target = TaskTarget(ref, owner)
        return await self._read(target, converter.decode_task, timeouts=timeouts, budget=budget)

    async def delete_task(
        self,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        wait_build: float = DELETE_WAITS_FOR_BUILD,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
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
        target = TaskTarget(ref, owner, newer=releases.DELETE)
        deadline = self.clock.now() + wait_build
        while True:
            budget = self._budget(retry)
            response = await self._call_task("DELETE", target, timeouts=timeouts, budget=budget)
            status, headers, body = response.status, response.headers, response.body
            if (
                status == 404
                and response.may_have_landed
                and not protocol.is_route_not_found(status, headers, body)
            ):
                return  # an earlier attempt landed before its response was lost
            if not protocol.is_build_active(response.status, response.body):
                self._raise_for(response, budget)
                return
            outcome = await self._wait_build_end(ref, owner, deadline)
            if outcome == "gone":
                return  # deleted elsewhere while this call waited
            if outcome == "timeout":
                self._raise_for(response, budget)

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
        self,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> TaskLogs:
        """The task's whole conversation (``.logs``), oldest first.

        Names are resolved on servers before v2.29 as in :meth:`get_task`.  Servers
        before v2.27 have no logs endpoint: :class:`UnsupportedByServerError`.
        """
        owner = owner_from(owner, user)
        target = TaskTarget(ref, owner, "/logs", releases.LOGS)
        return await self._read(target, _decode_logs, timeouts=timeouts, budget=self._budget(retry))

    async def get_logs_raw(
        self, ref: TaskRef, *, owner: str | UUID = "me"
    ) -> tuple[list[Any], bool]:
        """The conversation as decoded JSON: ``(entries, snapshot)``.

        Low level, for code that structures only what changed (the log followers do);
        :meth:`get_logs` is the typed form.  The body's shape is checked, not each entry.
        """
        target = TaskTarget(ref, owner, "/logs", releases.LOGS)
        response = await self._call_task("GET", target, parse=converter.loads)
        return self._raw_logs(response)

    async def _get_task_at(
        self, path: str, *, timeouts: Timeouts | None = None, budget: RetryBudget | None = None
    ) -> Task:
        """:meth:`get_task` of a task whose path is known (:func:`protocol.task_path`).

        For pollers (they resolve their task once, not on every poll) and for
        :meth:`get_task` of an id.  Once the route tree is known this goes straight
        to the transport (nothing left to probe: the tree's answer is the answer).
        """
        if budget is None:
            budget = self._budget(None)
        tree = self._tree
        if tree is None:
            return await self._read(path, converter.decode_task, timeouts=timeouts, budget=budget)
        response = await self._transport.request(
            "GET",
            API_ROOTS[tree] + path,
            timeouts=timeouts,
            budget=budget,
            parse=converter.decode_task,
        )
        self._raise_for(response, budget)
        return cast(Task, response.parsed)

    async def _get_logs_raw_at(self, path: str) -> tuple[list[Any], bool]:
        """:meth:`get_logs_raw` of a task whose path is known; ``path`` ends in ``/logs``."""
        feature, minimum = releases.LOGS
        budget = self._budget(None)
        tree = self._tree
        if tree is None:
            response = await self._call_newer(
                "GET", path, feature, minimum, None, None, budget, converter.loads
            )
        else:
            response = await self._transport.request(
                "GET", API_ROOTS[tree] + path, budget=budget, parse=converter.loads
            )
            if response.status == 405 or protocol.is_route_not_found(
                response.status, response.headers, response.body
            ):
                raise UnsupportedByServerError(
                    feature, minimum_version=minimum, server_version=self.server_version
                )
        return self._raw_logs(response)

    def _raw_logs(self, response: RawResponse) -> tuple[list[Any], bool]:
        self._raise_for(response)
        data = response.parsed
        logs = data.get("logs") if isinstance(data, dict) else None
        snapshot = data.get("snapshot", False) if isinstance(data, dict) else None
        if not isinstance(logs, list) or not isinstance(snapshot, bool):
            # Let the full structuring explain exactly what is wrong.
            self._decoded(lambda: converter.decode(response.body, TaskLogs))
            snippet = response.body[:200].decode("utf-8", "replace")
            raise self._transport.redactor.error(
                CoderDecodeError("unexpected logs body", snippet=snippet)
            )
        return logs, snapshot

    async def send_input(
        self,
        ref: TaskRef,
        input: str,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Send ``input`` to the task's agent: one POST, never re-sent once it may have landed.

        ``CoderTasksClient.send_input`` adds waiting until the agent is ready.

        A name is resolved through the task list first on servers before v2.29 (see
        :meth:`get_task`); servers before v2.27 cannot send input
        (:class:`UnsupportedByServerError`).  Only an empty string is refused by Coder
        (whitespace reaches the agent); this client refuses blank input too.
        """
        owner = owner_from(owner, user)
        protocol.validate_input(input)
        target = TaskTarget(ref, owner, "/send", releases.SEND)
        budget = self._budget(retry)
        response = await self._call_task(
            "POST",
            target,
            body=protocol.input_body(input),
            timeouts=timeouts or SEND_TIMEOUTS,
            budget=budget,
        )
        self._raise_for(response, budget)

    async def update_input(
        self,
        ref: TaskRef,
        input: str,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Replace a paused task's initial prompt (Coder v2.29+; ``PATCH .../input``).

        Servers before v2.29 raise :class:`UnsupportedByServerError`; a task that is not
        paused raises :class:`ConflictError`.  Before v2.31.1 a task is paused by
        stopping its workspace.
        """
        owner = owner_from(owner, user)
        protocol.validate_input(input)
        target = TaskTarget(ref, owner, "/input", releases.UPDATE_INPUT)
        budget = self._budget(retry)
        body = protocol.input_body(input)
        response = await self._call_task(
            "PATCH", target, body=body, timeouts=timeouts, budget=budget
        )
        self._raise_for(response, budget)

    async def pause_task(
        self,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> WorkspaceBuild:
        """Pause a task: stop its workspace, keeping a snapshot of the conversation
        (Coder v2.31.1+).  Returns the stop build the server started.

        A task whose build is still running (e.g. just created) is refused with
        :class:`ConflictError`; pausing a paused task starts another stop build.

        Example::

            build = await coder.pause_task("fix-login")
            await coder.wait_for("fix-login", until="paused")
        """
        owner = owner_from(owner, user)
        return await self._transition(ref, "pause", owner, timeouts, retry)

    async def resume_task(
        self,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> WorkspaceBuild:
        """Resume a paused task: start its workspace again (Coder v2.31.1+).

        A task whose workspace runs is refused with :class:`ConflictError`
        (``Task workspace is already running.``); a task in ``error`` can be resumed.

        The agent restarts, so its conversation starts over; a follower reports
        that as a reset.
        """
        owner = owner_from(owner, user)
        return await self._transition(ref, "resume", owner, timeouts, retry)

    async def _transition(
        self,
        ref: TaskRef,
        action: str,
        owner: str | UUID,
        timeouts: Timeouts | None,
        retry: RetryPolicy | None,
    ) -> WorkspaceBuild:
        newer = releases.PAUSE if action == "pause" else releases.RESUME
        target = TaskTarget(ref, owner, f"/{action}", newer)
        budget = self._budget(retry)
        response = await self._call_task("POST", target, timeouts=timeouts, budget=budget)
        self._raise_for(response, budget)
        data = self._decoded(lambda: converter.loads(response.body))
        if isinstance(data, dict) and "workspace_build" in data:
            build = data["workspace_build"]
            return self._decoded(lambda: converter.structure(build, WorkspaceBuild))
        if isinstance(data, dict) and "workspace_build_id" in data:
            build_id = data["workspace_build_id"]
            return WorkspaceBuild(id=self._decoded(lambda: converter.parse_uuid(build_id)))
        snippet = response.body[:200].decode("utf-8", "replace")
        raise self._transport.redactor.error(
            CoderDecodeError(f"unexpected {action} response", snippet=snippet)
        )

    async def _call_newer(
        self,
        method: str,
        path: str,
        feature: str,
        minimum: str,
        body: bytes | None,
        timeouts: Timeouts | None,
        budget: RetryBudget,
        parse: Callable[[bytes], object] | None = None,
    ) -> RawResponse:
        """Call an endpoint some releases lack; a missing route becomes UnsupportedByServerError.

        Delete, send and logs exist in both trees from v2.27 on, so their answers
        may settle the tree.  The rest (update input, pause, resume) may not: pause
        and resume lived only under /api/experimental for a while (until coder PR
        #22544), which ``_call(probe=False)`` covers.  A 405 is how a release that
        has the path for another method (v2.26's get, not delete) says so.
        """
        response = await self._call(
            method,
            path,
            body=body,
            timeouts=timeouts,
            budget=budget,
            parse=parse,
            probe=feature in releases.IN_EVERY_TREE,
        )
        if response.status == 405 or protocol.is_route_not_found(
            response.status, response.headers, response.body
        ):
            raise UnsupportedByServerError(
                feature, minimum_version=minimum, server_version=self.server_version
            )
        return response
