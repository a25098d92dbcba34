"""How one endpoint call is sent: the request plumbing under the endpoint methods.

One :class:`ApiCalls` per client.  It owns the transport and the watch streams, and
it keeps what the server taught it:

* **the route tree** (``api="auto"``): the first answers tell ``/api/v2/tasks`` from
  the experimental tree (a 404 from the router, not from a handler, means the tree is
  missing); one probe per client, under a lock, then remembered;
* **the server's release** (``X-Coder-Build-Version`` of the first response), and so
  whether it takes task names in paths (v2.29+); before that, a name is looked up
  through the task list first (:func:`.releases.find_by_name`);
* **which endpoints a release lacks**: a missing route (or a 405) of an endpoint that
  some releases lack is :class:`UnsupportedByServerError`, with the release that added
  it (from the one release table, :data:`coder_tasks_async._wire.releases.RELEASES`).

A status of 300 or more becomes its typed error (:meth:`ApiCalls.raise_for`), with the
token scrubbed; a 2xx body becomes a model through the request's ``parse``.

The endpoint methods use :meth:`ApiCalls.fetch` and :meth:`ApiCalls.send` (a line
each); the few that need the raw answer (create's reconcile, delete's wait for a
running build) use :meth:`ApiCalls.call` and :meth:`ApiCalls.call_task`.  The polling
layer reads a task it has resolved through :mod:`.pinned`, never through this class.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from uuid import UUID

from .._http.budget import RetryBudget
from .._http.transport import RawResponse, Transport
from .._wire import converter, protocol
from .._wire.errors import CoderDecodeError
from .._wire.loggers import ROOT, get_logger
from .._wire.models import Task, TaskLogs, TasksList, TaskStatus
from .._wire.protocol import API_ROOTS, ApiTree, TaskRef
from .._wire.settings import RetryPolicy, Timeouts
from . import releases
from .releases import TaskTarget

if TYPE_CHECKING:
    from .._http.streams import EventStream, StreamPool

__all__ = ["ApiCalls", "ApiChoice"]

logger = get_logger(f"{ROOT}.endpoints")

ApiChoice = Literal["auto", "experimental", "v2"]
T = TypeVar("T")
#: Statuses that prove the tree we asked exists (the request reached a tasks handler).
_TREE_EXISTS = frozenset({200, 201, 202, 204, 400, 404, 409})
_LOGS_ROUTE = protocol.TASK_ROUTE + "/logs"
#: The whole route templates of the reads every poll makes, per tree (built once).
_TASK_ROUTES = {tree: root + protocol.TASK_ROUTE for tree, root in API_ROOTS.items()}
_LOGS_ROUTES = {tree: root + _LOGS_ROUTE for tree, root in API_ROOTS.items()}


def _decode_list(body: bytes) -> TasksList:
    return converter.decode(body, TasksList)


class ApiCalls:
    """The request plumbing of one client: route tree, release, names, errors, decoding.

    Everything a call sends goes through :attr:`transport` within the call's
    :class:`RetryBudget` (one per public call, see :meth:`budget`).
    """

    def __init__(self, transport: Transport, api: ApiChoice, *, max_streams: int) -> None:
        if api not in ("auto", "experimental", "v2"):
            raise ValueError(f"api must be 'auto', 'experimental' or 'v2', not {api!r}")
        self.transport = transport
        #: The route tree in use; ``None`` while ``api="auto"`` has not probed yet.
        self.tree: ApiTree | None = None if api == "auto" else api
        # One probe per client: concurrent first calls wait for it instead of each
        # asking /api/v2 again.
        # asyncio's lock, not anyio's: importing anyio costs the package ~10% of its
        # import time, and the SDK runs on asyncio only (aiohttp does).
        self._probe_lock = asyncio.Lock()
        #: The server's release, learnt from the first response that names it.
        self.server_version: str | None = None
        self._takes_names: bool | None = None  # what the version says, parsed once
        self._max_streams = max_streams
        self._streams: StreamPool | None = None
        self._stop_learning = transport.hooks.add(self._learn_version)

    @property
    def url(self) -> str:
        """The deployment URL (without any userinfo), as errors show it."""
        return self.transport.public_base

    @property
    def streams(self) -> StreamPool:
        """Long-lived watch streams: their own connections, never request slots.

        Made on first use: a program that never follows a task never loads the
        websocket and event-stream code (~0.5 ms of every ``import``).
        """
        if self._streams is None:
            self._streams = self.transport.stream_pool(self._max_streams)
        return self._streams

    @property
    def streams_open(self) -> int:
        """Watch streams open right now."""
        return 0 if self._streams is None else self._streams.open_count

    async def aclose(self) -> None:
        """Close the watch streams, then the session (unless the caller supplied it)."""
        try:
            if self._streams is not None:
                await self._streams.aclose()  # may re-raise a cancellation, once closed
        finally:
            await self.transport.aclose()

    def _learn_version(self, status: int, headers: Mapping[str, str]) -> None:
        # A response hook: the first response that names the release settles it, and
        # the hook goes (one call less for every later response).
        if self.server_version is None:
            self.server_version = headers.get("X-Coder-Build-Version") or None
            self._takes_names = protocol.server_takes_names(self.server_version)
            if self.server_version is not None:
                self._stop_learning()
                logger.info(
                    "%s runs Coder %s",
                    self.url,
                    self.server_version,
                    extra={"server_version": self.server_version},
                )

    def budget(self, retry: RetryPolicy | None) -> RetryBudget:
        """The retry budget of one public call (see :class:`RetryPolicy`)."""
        transport = self.transport
        return RetryBudget(retry or transport.retry, transport.clock, transport.rand)

    # -- what the endpoint methods use ----------------------------------------------

    async def fetch(
        self, path: str | TaskTarget, decode: Callable[[bytes], T], *,
        params: dict[str, str] | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
        route: str | None = None,
    ) -> T:  # fmt: skip
        """GET and decode, as one public call (a budget of its own): :meth:`read`."""
        return await self.read(
            path, decode, params=params, timeouts=timeouts, budget=self.budget(retry), route=route
        )

    async def send(
        self, method: str, target: TaskTarget, *,
        body: bytes | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> RawResponse:  # fmt: skip
        """Call one task's endpoint as one public call; its 2xx answer, or the typed error."""
        budget = self.budget(retry)
        response = await self.call_task(method, target, body=body, timeouts=timeouts, budget=budget)
        self.raise_for(response, budget)
        return response

    async def get_api(
        self, path: str, decode: Callable[[bytes], T], *,
        route: str,
        params: dict[str, str] | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> T:  # fmt: skip
        """GET ``path`` below the deployment URL (outside the tasks trees) and decode it;
        ``route`` is its template (``/api/v2/workspacebuilds/{workspacebuild}``)."""
        budget = self.budget(retry)
        response = await self.transport.request(
            "GET", path, params=params, timeouts=timeouts, budget=budget, parse=decode, route=route
        )
        self.raise_for(response, budget)
        return cast(T, response.parsed)

    async def read(
        self, path: str | TaskTarget, decode: Callable[[bytes], T], *,
        params: dict[str, str] | None = None,
        timeouts: Timeouts | None = None,
        budget: RetryBudget,
        route: str | None = None,
    ) -> T:  # fmt: skip
        """GET and decode; a body that is not JSON at all (cut short) is fetched again
        within the same budget.  A body of the wrong *shape* is not retried: that will
        not heal.  ``path`` may be a task target, whose name is resolved on servers
        that need it; a plain path's route template below the tree is ``route``.
        """
        if isinstance(path, TaskTarget):
            response = await self.call_task(
                "GET", path, timeouts=timeouts, budget=budget, parse=decode
            )
        else:
            response = await self.call(
                "GET", path, params=params, timeouts=timeouts, budget=budget, parse=decode,
                route=route,
            )  # fmt: skip
        self.raise_for(response, budget)
        return cast(T, response.parsed)

    def raise_for(self, response: RawResponse, budget: RetryBudget | None = None) -> None:
        """Raise the typed error of a status of 300 or more (the token scrubbed from it)."""
        if response.status >= 300:
            transport = self.transport
            policy = budget.policy if budget is not None else transport.retry
            error = protocol.error_from_response(
                response.status,
                response.headers,
                response.body,
                method=response.method,
                url=response.url,
                max_retry_after=policy.max_retry_after,
                redact=transport.redactor.text,
            )
            raise transport.redactor.error(error)

    def decoded(self, decode: Callable[[], T]) -> T:
        """``decode()``, with the token scrubbed from any decode error (it quotes the body)."""
        try:
            return decode()
        except CoderDecodeError as exc:
            raise self.transport.redactor.error(exc) from None

    def misfit(self, what: str, response: RawResponse) -> CoderDecodeError:
        """The decode error of a 2xx body of an unexpected shape (token scrubbed)."""
        snippet = response.body[:200].decode("utf-8", "replace")
        return self.transport.redactor.error(CoderDecodeError(what, snippet=snippet))

    # -- the route tree ---------------------------------------------------------------

    async def call(
        self, method: str, path: str, *,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts | None = None,
        budget: RetryBudget | None = None,
        parse: Callable[[bytes], object] | None = None,
        probe: bool = True,
        route: str | None = None,
        task_id: str | None = None,
    ) -> RawResponse:  # fmt: skip
        """Send ``path`` (relative to the tasks tree) to the current tree; any status.

        ``budget`` is the public call's retry budget: everything this call sends
        draws on it.  In auto mode the first answers teach the client which tree
        the server has.  ``probe=False`` is for endpoints only some servers have in
        both trees (pause/resume): their 404 says nothing about the tree as a
        whole, but they are still tried under the experimental tree when /api/v2
        lacks them.  ``route`` is the path's template below the tree (``/{user}``),
        ``task_id`` the task it names, if known: both name the request in spans and logs.
        """
        if budget is None:
            budget = self.budget(None)
        label = (route, task_id)
        if probe and self.tree is None:
            async with self._probe_lock:
                if self.tree is None:
                    return await self._send_to_tree(
                        method, path, params, body, timeouts, budget, parse, label, probe=True
                    )
        return await self._send_to_tree(
            method, path, params, body, timeouts, budget, parse, label, probe=probe
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
        label: tuple[str | None, str | None],
        *,
        probe: bool,
    ) -> RawResponse:
        # Decide on what this call saw when it started: a concurrent call may settle
        # the tree while this one is in flight, and this call still sent to /api/v2.
        probing = probe and self.tree is None
        tree = self.tree or "v2"
        route, task_id = label

        async def send_to(root: ApiTree) -> RawResponse:
            return await self.transport.request(
                method,
                API_ROOTS[root] + path,
                params=params,
                body=body,
                timeouts=timeouts,
                budget=budget,
                parse=parse,
                route=None if route is None else API_ROOTS[root] + route,
                task_id=task_id,
            )

        response = await send_to(tree)
        if tree == "v2" and (probing or not probe) and _route_missing(response):
            # The 404 came from the router: nothing was handled, so asking the
            # experimental tree is safe, POST included.
            budget.refund()
            fallback = await send_to("experimental")
            if probing and not _route_missing(fallback):
                self._settle("experimental")  # a server before v2.29: no /api/v2 tasks tree
            return fallback
        if probing and response.status in _TREE_EXISTS:
            self._settle(tree)
        return response

    def _settle(self, tree: ApiTree) -> None:
        """``api="auto"`` learnt the route tree: kept for the life of the client."""
        self.tree = tree
        logger.info("%s: tasks API at %s", self.url, API_ROOTS[tree], extra={"api": tree})

    # -- one task's endpoints -----------------------------------------------------------

    async def call_task(
        self, method: str, target: TaskTarget, *,
        body: bytes | None = None,
        timeouts: Timeouts | None = None,
        budget: RetryBudget | None = None,
        parse: Callable[[bytes], object] | None = None,
    ) -> RawResponse:  # fmt: skip
        """Call an endpoint of one task, looking a name up first where the server needs it.

        Servers before v2.29 take only a UUID in ``{task}``.  When the version says
        so, a name is resolved through the list before the call; when the version is
        not known yet, the name is tried and the server's 400 ``Invalid UUID`` (a
        refusal: nothing was handled, so it costs no retry) leads to the lookup and
        one more attempt.
        """
        if budget is None:
            budget = self.budget(None)
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
        route, task_id = target.route, protocol.task_id(ref)
        if target.since is None:
            return await self.call(
                method, path, body=body, timeouts=timeouts, budget=budget, parse=parse,
                route=route, task_id=task_id,
            )  # fmt: skip
        # Delete, send and logs exist in both trees from v2.27 on, so their answers
        # may settle the tree.  The rest (update input, pause, resume) may not: pause
        # and resume lived only under /api/experimental for a while (until coder PR
        # #22544), which ``call(probe=False)`` covers.
        probe = target.since in releases.IN_EVERY_TREE
        response = await self.call(
            method, path, body=body, timeouts=timeouts, budget=budget, parse=parse, probe=probe,
            route=route, task_id=task_id,
        )  # fmt: skip
        self._check_supported(response, target.since)
        return response

    def _check_supported(self, response: RawResponse, feature: str) -> None:
        """A missing route of an endpoint some releases lack: :class:`UnsupportedByServerError`.

        A 405 is how a release that has the path for another method (v2.26's get, not
        delete) says so.
        """
        if response.status == 405 or _route_missing(response):
            raise releases.unsupported(feature, self.server_version)

    async def _resolve_name(self, owner: str | UUID, name: str) -> Task:
        async def owned_by(who: str | UUID) -> list[Task]:
            return (await self.list_tasks(who)).tasks

        logger.debug(
            "task %r of %s: looked up through the task list (Coder %s takes ids only)",
            name,
            owner,
            self.server_version or "before v2.29",
        )
        task = await releases.find_by_name(owned_by, owner, name, url=self.url)
        logger.debug("task %r is %s", name, task.id, extra={"task_id": str(task.id)})
        return task

    async def list_tasks(
        self,
        owner: str | UUID | None,
        organization: str | UUID | None = None,
        status: TaskStatus | str | None = None,
        query: str | None = None,
        *,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> TasksList:  # fmt: skip
        """``GET`` the tasks tree with Coder's ``q`` built from the arguments (see
        ``list_tasks``); also the list a name is looked up in on older releases."""
        if owner is not None and owner != "":
            owner = protocol.validate_owner(owner)  # inside q, as in a path: Coder's rules
        q = protocol.build_query(owner=owner, organization=organization, status=status, query=query)
        return await self.fetch(
            "", _decode_list, params={"q": q}, timeouts=timeouts, retry=retry, route=""
        )

    # -- what pinned tasks read (see .pinned) ---------------------------------------

    async def get_task_at(
        self, path: str, *,
        task_id: str | None = None,
        timeouts: Timeouts | None = None, budget: RetryBudget | None = None,
    ) -> Task:  # fmt: skip
        """The task at ``path`` (:func:`protocol.task_path` of its id, ``task_id``).

        For pollers (they resolve their task once, not on every poll) and for
        ``get_task`` of an id.  Once the route tree is known this goes straight to
        the transport (nothing left to probe: the tree's answer is the answer).
        """
        # Without a budget the transport makes one (the client's policy): one call less.
        tree = self.tree
        if tree is None:
            response = await self.call(
                "GET", path, timeouts=timeouts, budget=budget, parse=converter.decode_task,
                route=protocol.TASK_ROUTE, task_id=task_id,
            )  # fmt: skip
            self.raise_for(response, budget)
            return cast(Task, response.parsed)
        response = await self.transport.request(
            "GET",
            API_ROOTS[tree] + path,
            timeouts=timeouts,
            budget=budget,
            parse=converter.decode_task,
            route=_TASK_ROUTES[tree],
            task_id=task_id,
        )
        if response.status >= 300:
            self.raise_for(response, budget)
        return cast(Task, response.parsed)

    async def get_logs_raw_at(
        self, path: str, *, task_id: str | None = None
    ) -> tuple[list[Any], bool]:
        """The conversation at ``path`` (a task's path plus ``/logs``) as decoded JSON."""
        budget = self.budget(None)
        tree = self.tree
        if tree is None:
            response = await self.call(
                "GET", path, budget=budget, parse=converter.loads,
                route=_LOGS_ROUTE, task_id=task_id,
            )  # fmt: skip
        else:
            response = await self.transport.request(
                "GET", API_ROOTS[tree] + path, budget=budget, parse=converter.loads,
                route=_LOGS_ROUTES[tree], task_id=task_id,
            )  # fmt: skip
        self._check_supported(response, releases.LOGS)
        return self.raw_logs(response)

    def raw_logs(self, response: RawResponse) -> tuple[list[Any], bool]:
        """``(entries, snapshot)`` of a logs answer; its shape is checked, not each entry."""
        self.raise_for(response)
        data = response.parsed
        logs = data.get("logs") if isinstance(data, dict) else None
        snapshot = data.get("snapshot", False) if isinstance(data, dict) else None
        if not isinstance(logs, list) or not isinstance(snapshot, bool):
            # Let the full structuring explain exactly what is wrong.
            self.decoded(lambda: converter.decode(response.body, TaskLogs))
            raise self.misfit("unexpected logs body", response)
        return logs, snapshot

    async def open_workspace_watch(self, workspace_id: UUID) -> EventStream:
        """Open the workspace's watch stream (websocket, else events); StreamUnavailable if not."""
        from .._http.streams import StreamUnavailable

        if self.transport.closed:
            raise StreamUnavailable("client closed")
        return await self.streams.open(f"/api/v2/workspaces/{workspace_id}/watch-ws")


def _route_missing(response: RawResponse) -> bool:
    """The router's 404: the path does not exist there (nothing was handled)."""
    return protocol.is_route_not_found(response.status, response.headers, response.body)
