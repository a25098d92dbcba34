"""``TaskEndpoints``: one short method per endpoint, composing protocol and transport.

``CoderTasksClient`` (in ``_facade``) builds on it with following, watching and fan-out.
"""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from uuid import UUID

import aiohttp

from .._http.clock import Clock, SystemClock
from .._http.hooks import ResponseHook
from .._http.transport import RawResponse, Transport, configure_debug_logging
from .._wire import converter, protocol
from .._wire.deployment import validate_base_url, validate_token
from .._wire.deprecation import owner_from
from .._wire.errors import (
    AmbiguousRequestError,
    CoderDecodeError,
    ConflictError,
    NotFoundError,
    ServerError,
    UnsupportedByServer,
)
from .._wire.models import Task, TaskLogs, TasksList, TaskStatus, WorkspaceBuild
from .._wire.protocol import API_ROOTS, ApiTree, TaskRef
from .._wire.settings import PollPolicy, RetryPolicy, Timeouts

__all__ = ["SEND_TIMEOUTS", "ApiChoice", "TaskEndpoints"]


def _decode_list(body: bytes) -> TasksList:
    return converter.decode(body, TasksList)


def _decode_logs(body: bytes) -> TaskLogs:
    return converter.decode(body, TaskLogs)


def _may_have_created(exc: Exception, *, first_attempt: bool) -> bool:
    """Whether a failed create might nevertheless have created the task."""
    if isinstance(exc, ServerError):
        return exc.status in (502, 503, 504)  # a gateway may have lost a handled request
    if isinstance(exc, ConflictError):
        # On a retry, "name already in use" is most likely our own earlier attempt.
        return not first_attempt
    return True  # ambiguous transport failure, or an unreadable 201 body


ApiChoice = Literal["auto", "experimental", "v2"]
T = TypeVar("T")
_DEFAULT_MAX_BODY = 64 * 1024 * 1024
#: Statuses that prove the tree we asked exists (the request reached a tasks handler).
_TREE_EXISTS = frozenset({200, 201, 202, 204, 400, 404, 409})
#: ``send_input`` may be held by the server for tens of seconds while the agent takes the input.
SEND_TIMEOUTS = Timeouts(connect=10.0, read=120.0, total=150.0)


class TaskEndpoints:
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
    ) -> None:
        configure_debug_logging()
        if api not in ("auto", "experimental", "v2"):
            raise ValueError(f"api must be 'auto', 'experimental' or 'v2', not {api!r}")
        self._tree: ApiTree | None = None if api == "auto" else api
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
        self._server_version: str | None = None
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
        """``X-Coder-Build-Version`` from the latest response that carried it."""
        return self._server_version

    def _learn_version(self, status: int, headers: Mapping[str, str]) -> None:
        version = headers.get("X-Coder-Build-Version")
        if version is not None:
            self._server_version = version

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
        await self._transport.aclose()

    # -- plumbing ---------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        probe: bool = True,
    ) -> RawResponse:
        """Send ``path`` (relative to the tasks tree) to the current tree.

        In auto mode the first answers teach the client which tree the server has.
        ``probe=False`` is for endpoints only some servers have in both trees
        (pause/resume): their 404 says nothing about the tree as a whole, but they
        are still tried under the experimental tree when /api/v2 lacks them.
        """
        # Decide on what this call saw when it started: a concurrent call may settle
        # the tree while this one is in flight, and this call still sent to /api/v2.
        probing = probe and self._tree is None
        tree = self._tree or "v2"
        request = self._transport.request
        response = await request(
            method, API_ROOTS[tree] + path, params=params, body=body, timeouts=timeouts, retry=retry
        )
        missing = protocol.is_route_not_found(response.status, response.headers, response.body)
        if missing and tree == "v2" and (probing or not probe):
            # The 404 came from the router: nothing was handled, so asking the
            # experimental tree is safe, POST included.
            fallback = await request(
                method,
                API_ROOTS["experimental"] + path,
                params=params,
                body=body,
                timeouts=timeouts,
                retry=retry,
            )
            if probing and not protocol.is_route_not_found(
                fallback.status, fallback.headers, fallback.body
            ):
                self._tree = "experimental"  # a server before v2.29: no /api/v2 tasks tree
            return fallback
        if probing and response.status in _TREE_EXISTS:
            self._tree = tree
        return response

    async def _read(
        self,
        path: str,
        decode: Callable[[bytes], T],
        *,
        params: dict[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> T:
        """GET and decode; a body that is not JSON at all (cut short) is fetched again.

        A body of the wrong *shape* is not retried: that will not heal.
        """
        policy = retry or self._transport.retry
        started = self.clock.now()
        attempt = 0
        while True:
            attempt += 1
            response = await self._call("GET", path, params=params, timeouts=timeouts, retry=retry)
            self._raise_for(response)
            try:
                return decode(response.body)
            except CoderDecodeError as exc:
                delay = policy.backoff(attempt - 1)
                elapsed = self.clock.now() - started
                if not exc.invalid_json or not policy.has_budget(attempt, elapsed, delay):
                    raise
            await self.clock.sleep(delay)

    def _raise_for(self, response: RawResponse) -> None:
        if response.status >= 300:
            raise protocol.error_from_response(
                response.status,
                response.headers,
                response.body,
                method=response.method,
                url=response.url,
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
    ) -> list[Task]:
        """Tasks visible to you, newest first.  ``owner=None`` lists every owner you may see.

        ``status`` must be a known :class:`TaskStatus`; ``query`` is appended raw to
        Coder's search query.

        Example::

            active = await coder.list_tasks(status=TaskStatus.ACTIVE)
        """
        q = protocol.build_query(owner=owner, organization=organization, status=status, query=query)
        listing = await self._read(
            "", _decode_list, params={"q": q}, timeouts=timeouts, retry=retry
        )
        return listing.tasks

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
        is safe).  Without a name it raises :class:`AmbiguousRequestError`.

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
        if display_name is not None and len(display_name) > 64:
            raise ValueError("display_name must be 64 characters or less")
        body = protocol.create_body(
            input=input,
            template_version_id=tv_id,
            name=name,
            display_name=display_name,
            template_version_preset_id=preset,
        )
        policy = retry or self._transport.retry
        started = self.clock.now()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._call(
                    "POST",
                    protocol.owner_path(owner),
                    body=body,
                    timeouts=timeouts,
                    retry=retry,
                )
                self._raise_for(response)
                return converter.decode_task(response.body)
            except (AmbiguousRequestError, ServerError, ConflictError, CoderDecodeError) as exc:
                if not _may_have_created(exc, first_attempt=attempt == 1):
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
                existing = await self._task_named(name, owner)
                if existing is not None:
                    if existing.initial_prompt == input:
                        return existing  # an earlier attempt landed
                    raise AmbiguousRequestError(
                        f"create_task failed ({exc}); a task named {name!r} already exists "
                        "with a different prompt",
                        method="POST",
                        url=self.url,
                    ) from exc
                delay = policy.backoff(attempt - 1)
                elapsed = self.clock.now() - started
                if isinstance(exc, ConflictError | CoderDecodeError) or not policy.has_budget(
                    attempt, elapsed, delay
                ):
                    raise
                # Not created, and the unique name makes a second attempt duplicate-safe.
                await self.clock.sleep(delay)

    async def _task_named(self, name: str, owner: str | UUID) -> Task | None:
        try:
            return await self.get_task(name, owner=owner)
        except NotFoundError:
            return None

    async def get_task(
        self,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> Task:
        """Fetch one task by ``Task``, ``UUID``, UUID string, ``name`` or ``"owner/name"``."""
        owner = owner_from(owner, user)
        path = protocol.task_path(ref, owner)
        return await self._read(path, converter.decode_task, timeouts=timeouts, retry=retry)

    async def delete_task(
        self,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Delete a task (the server tears its workspace down in the background)."""
        owner = owner_from(owner, user)
        path = protocol.task_path(ref, owner)
        response = await self._call("DELETE", path, timeouts=timeouts, retry=retry)
        if (
            response.status == 404
            and response.may_have_landed
            and not protocol.is_route_not_found(response.status, response.headers, response.body)
        ):
            return  # an earlier attempt landed before its response was lost
        self._raise_for(response)

    async def get_logs(
        self,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        user: str | UUID | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> TaskLogs:
        """The task's whole conversation (``.logs``), oldest first."""
        owner = owner_from(owner, user)
        path = protocol.task_path(ref, owner, "/logs")
        return await self._read(path, _decode_logs, timeouts=timeouts, retry=retry)

    async def get_logs_raw(
        self, ref: TaskRef, *, owner: str | UUID = "me"
    ) -> tuple[list[Any], bool]:
        """The conversation as decoded JSON: ``(entries, snapshot)``.

        Low level, for code that structures only what changed (the log followers do);
        :meth:`get_logs` is the typed form.  The body's shape is checked, not each entry.
        """
        path = protocol.task_path(ref, owner, "/logs")
        response = await self._call("GET", path)
        self._raise_for(response)
        data = converter.loads(response.body)
        logs = data.get("logs") if isinstance(data, dict) else None
        snapshot = data.get("snapshot", False) if isinstance(data, dict) else None
        if not isinstance(logs, list) or not isinstance(snapshot, bool):
            # Let the full structuring explain exactly what is wrong.
            converter.decode(response.body, TaskLogs)
            snippet = response.body[:200].decode("utf-8", "replace")
            raise CoderDecodeError("unexpected logs body", snippet=snippet)
        return logs, snapshot

    #: The former private name, kept while branches that call it are merged.
    _get_logs_raw = get_logs_raw

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
        """
        owner = owner_from(owner, user)
        protocol.validate_input(input)
        path = protocol.task_path(ref, owner, "/send")
        response = await self._call(
            "POST",
            path,
            body=protocol.input_body(input),
            timeouts=timeouts or SEND_TIMEOUTS,
            retry=retry,
        )
        self._raise_for(response)

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

        Servers before v2.29 raise :class:`UnsupportedByServer`; a task that is not
        paused raises :class:`ConflictError`.
        """
        owner = owner_from(owner, user)
        protocol.validate_input(input)
        path = protocol.task_path(ref, owner, "/input")
        response = await self._call_newer(
            "PATCH", path, "update_input", "v2.29", protocol.input_body(input), timeouts, retry
        )
        self._raise_for(response)

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
        (Coder v2.31+).  Returns the stop build the server started.

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
        """Resume a paused task: start its workspace again (Coder v2.31+).

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
        path = protocol.task_path(ref, owner, f"/{action}")
        response = await self._call_newer("POST", path, action, "v2.31", None, timeouts, retry)
        self._raise_for(response)
        data = converter.loads(response.body)
        if isinstance(data, dict) and "workspace_build" in data:
            return converter.structure(data["workspace_build"], WorkspaceBuild)
        if isinstance(data, dict) and "workspace_build_id" in data:
            return WorkspaceBuild(id=converter.parse_uuid(data["workspace_build_id"]))
        snippet = response.body[:200].decode("utf-8", "replace")
        raise CoderDecodeError(f"unexpected {action} response", snippet=snippet)

    async def _call_newer(
        self,
        method: str,
        path: str,
        feature: str,
        minimum: str,
        body: bytes | None,
        timeouts: Timeouts | None,
        retry: RetryPolicy | None,
    ) -> RawResponse:
        """Call an endpoint newer servers added; a missing route becomes UnsupportedByServer.

        Pause/resume lived only under /api/experimental for a while (until coder
        PR #22544), which ``_call(probe=False)`` covers.
        """
        response = await self._call(
            method, path, body=body, timeouts=timeouts, retry=retry, probe=False
        )
        if protocol.is_route_not_found(response.status, response.headers, response.body):
            raise UnsupportedByServer(
                feature, minimum_version=minimum, server_version=self.server_version
            )
        return response
