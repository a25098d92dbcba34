"""``FakeCoder``: the fake Coder Tasks server on a loopback aiohttp socket.

This module is the socket side: routing the raw path, authentication, rate
limiting, fault injection, recording.  Endpoint logic lives in
:mod:`._handlers`, state and lifecycle in :mod:`._state`.
"""

from __future__ import annotations

import asyncio
import gzip
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import attrs
from aiohttp import web
from aiohttp.web_request import BaseRequest

from ._clock import MonotonicClock, WallClock, with_wall
from ._controls import Controls
from ._conversation import Timings
from ._faults import Fault, FaultSet
from ._handlers import Api, Call, Delivery
from ._jsonio import JSON_CONTENT_TYPE, Reply, dumps, error
from ._profile import NEWEST, Profile
from ._ratelimit import ServerRateLimit, limited_message
from ._resources import Stream
from ._routes import Match, match_route
from ._state import FakeTask, FakeUser, State
from ._templates import TemplateCatalog
from ._watch import WatchHub

if TYPE_CHECKING:
    from coder_tasks_async import Clock

__all__ = ["FakeCoder", "RecordedRequest"]

_SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
_COOKIE = "coder_session_token"
_HTML = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@attrs.define(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake saw it: ``path`` raw (percent-encoded), ``query`` the first
    value per key, ``route`` the route table's name (``None`` for an unknown path) and
    ``status`` the answer's status."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    route: str | None
    status: int


class FakeCoder(Controls):
    """An in-process fake of Coder's AI Tasks REST API on loopback HTTP (docs/compatibility.md).

    Use as ``async with FakeCoder(clock=FakeClock()) as fake:`` and point a client
    at ``fake.url`` with ``fake.token``.  Everything is deterministic for a given
    ``seed`` and sequence of requests.

    ``server_version`` picks the release to imitate: a profile from
    :data:`~coder_tasks_async.testing.PROFILES` (``"v2.26"`` … ``"latest"``) or a
    release version such as ``"v2.30.2"``; anything else is a ``ValueError``.
    The default is the newest profile (``latest``).

    Builds take time, as Coder's do (:class:`Timings`): a task's start job runs
    while it initializes (pause and delete answer 409 then), a pause is a stop job
    during which the task is ``unknown`` and its logs answer 409.  A test can hold a
    build (:meth:`hold_build`, :attr:`hold_builds`), end it as it likes
    (:meth:`finish_build`) and choose what the agent reports (:meth:`report_state`).

    Example::

        async with FakeCoder(clock=FakeClock()) as fake:
            fake.hold_builds = True  # every build waits for finish_build()
            ...
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        server_version: str = NEWEST,
        rate_limit: int | None = None,
        timings: Timings | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        record_requests: bool = True,
        max_recorded: int = 100_000,
    ) -> None:
        #: The clock every lifecycle step and timestamp of the fake follows (the SDK's
        #: ``Clock`` plus ``wall()``; a clock without ``wall()`` is wrapped).
        self.clock: WallClock = with_wall(clock if clock is not None else MonotonicClock())
        self.profile: Profile = Profile.parse(server_version)
        #: What ``X-Coder-Build-Version`` announces (a profile name becomes its version).
        self.server_version: str = self.profile.version
        self.timings: Timings = timings if timings is not None else Timings()
        self.state: State = State(self.clock, self.clock.wall(), self.timings, self.profile, seed)
        self.user: FakeUser = self.state.add_user("alice")
        #: Fault rules for the answered routes; ``faults.injected`` logs what was injected.
        self.faults: FaultSet = FaultSet(seed)
        self.rate_limit = rate_limit
        self.record_requests = record_requests
        #: Recent requests, oldest first (bounded so long benchmarks stay cheap).  Each is a
        #: :class:`RecordedRequest`; ``route`` is the route table's name (``"get"``, ...).
        self.requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        #: Called on the server's event loop with each request once it is answered:
        #: a test can act at an exact point of a conversation (say, delete the task
        #: after its third poll) without watching the clock.
        self.request_observers: list[Callable[[RecordedRequest], None]] = []
        #: ``(task_id, input, wall time)`` of every input actually delivered by ``/send``.
        self.deliveries: list[Delivery] = []
        self._api = Api(self.state, self.deliveries, self._wall_at)
        #: The workspace watch streams (``fake.watch.faults`` injects their faults).
        self.watch: WatchHub = WatchHub(self.state)
        self._limiter = (
            ServerRateLimit(rate_limit, lambda t: self.state.wall_ns(t) / 1e9)
            if rate_limit
            else None
        )
        self._host = host
        self._port = port
        self._runner: web.ServerRunner | None = None
        self._url: str | None = None
        self._routes: dict[tuple[str, str], Match | Reply] = {}
        self._date_second = -1
        self._date_text = ""
        self._base_headers = {
            "X-Coder-Build-Version": self.profile.version,
            "X-Content-Type-Options": "nosniff",
        }

    # -- facts for tests -----------------------------------------------------
    @property
    def url(self) -> str:
        """``http://host:port`` without a trailing slash (after :meth:`start`)."""
        if self._url is None:
            raise RuntimeError("FakeCoder is not started")
        return self._url

    @property
    def token(self) -> str:
        """Session token of the default user ``alice``."""
        return self.user.token

    @property
    def templates(self) -> TemplateCatalog:
        """The templates tasks are created from (``templates.add(...)`` adds one)."""
        return self.state.templates

    @property
    def organization_id(self) -> uuid.UUID:
        """The default organization's id."""
        return self.state.organization_id

    @property
    def organization_name(self) -> str:
        """The default organization's name (``coder``)."""
        return self.state.organization_name

    @property
    def template_version_id(self) -> uuid.UUID:
        """A template version with a ``coder_ai_task`` resource (create succeeds)."""
        return self.state.template_version_id

    @property
    def template_version_id_no_ai(self) -> uuid.UUID:
        """A template version without ``coder_ai_task`` (create → 400)."""
        return self.state.template_version_id_no_ai

    @property
    def preset_id(self) -> uuid.UUID:
        """The preset ``Default`` of :attr:`template_version_id`."""
        return self.state.preset_id

    @property
    def created(self) -> list[uuid.UUID]:
        """Task ids in creation order (including deleted ones)."""
        return self.state.created

    def _wall_at(self, t: float) -> datetime:
        return datetime.fromtimestamp(self.state.wall_ns(t) / 1e9, UTC)

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one)."""
        server = web.Server(self._handle, access_log=None)
        # Short shutdown: a test closing the fake must not wait on a hung 'latency' fault.
        runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self.watch.reopen()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Stop listening and drop open connections."""
        if self._runner is not None:
            self.watch.shutdown()
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def restart(self) -> None:
        """Stop and start again on the same port, keeping every task, user and build (a
        deployment restarting): open connections and watch streams drop, new ones work."""
        if self._url is not None:
            self._port = int(self._url.rsplit(":", 1)[1])
        await self.close()
        await self.start()

    async def __aenter__(self) -> FakeCoder:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"FakeCoder(url={self._url!r}, server_version={self.server_version!r})"

    # -- request path --------------------------------------------------------
    async def _handle(self, request: BaseRequest) -> web.StreamResponse:
        path = request.raw_path.partition("?")[0]
        query_all: dict[str, list[str]] = {}
        if request.query_string:
            for k in request.query:
                query_all[k] = list(request.query.getall(k))
        query = {k: v[0] for k, v in query_all.items()}
        key = (request.method, path)
        m = self._routes.get(key)
        if m is None:
            m = match_route([unquote(s) for s in path.split("/")[1:]], request.method, self.profile)
            # Benchmarks poll the same few paths; bound the cache against path scans.
            if len(self._routes) >= 4096:
                self._routes.clear()
            self._routes[key] = m
        if isinstance(m, Reply):
            resp: web.StreamResponse = self._response(m)
            self._record(
                RecordedRequest(
                    request.method, path, query, dict(request.headers), None, resp.status
                )
            )
            return resp
        route = m.route
        if route.stream:
            return await self._serve_watch(request, m, path, query)
        fault = self.faults.pick(route.name) if len(self.faults) else None
        if fault is None:
            resp = self._response(await self._serve(request, m, query, query_all))
        else:
            resp = await self._faulty(request, m, query, query_all, fault)
        if request.method != "GET":
            self.watch.poke()
        self._record(
            RecordedRequest(
                request.method, path, query, dict(request.headers), route.name, resp.status
            )
        )
        return resp

    async def _serve_watch(
        self, request: BaseRequest, m: Match, path: str, query: dict[str, str]
    ) -> web.StreamResponse:
        """The workspace watch streams (see :mod:`._watch`): authenticated, own rate-limit key."""
        mode = "ws" if m.route.name == "watch_ws" else "sse"
        faults = self.watch.faults
        answer: Reply | Stream
        if faults.refuse or (mode == "ws" and faults.refuse_ws):
            answer = error(404, "Route not found.")
        else:
            answer = self._watch_access(request, query, path, m, mode)
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if isinstance(answer, Stream) and mode == "ws" and not upgrade:
            answer = error(400, "Expected a websocket upgrade.")
        headers = dict(request.headers)
        if isinstance(answer, Stream):
            status = 101 if mode == "ws" else 200
            self._record(
                RecordedRequest(request.method, path, query, headers, m.route.name, status)
            )
            return await self.watch.serve(request, answer.task, mode)
        self._record(
            RecordedRequest(request.method, path, query, headers, m.route.name, answer.status)
        )
        return self._response(answer)

    def _watch_access(
        self, request: BaseRequest, query: dict[str, str], path: str, m: Match, mode: str
    ) -> Reply | Stream:
        actor = self._authenticate(request, query)
        if isinstance(actor, Reply):
            return actor
        if self._limiter is not None:
            # Each workspace's watch path is its own rate-limit key, as in coderd.
            decision = self._limiter.hit((actor.username, "GET", path), self.clock.now())
            if not decision.allowed:
                return error(429, limited_message(self._limiter.limit), headers=decision.headers())
        return self._api.watch(Call(actor, {**m.params, "mode": mode}, query, b""))

    def _record(self, recorded: RecordedRequest) -> None:
        if self.record_requests:
            self.requests.append(recorded)
        for observer in self.request_observers:
            observer(recorded)

    async def _serve(
        self,
        request: BaseRequest,
        m: Match,
        query: dict[str, str],
        query_all: dict[str, list[str]],
    ) -> Reply:
        # The task routes' limiter runs before authentication, so it cannot know the
        # user: its key is the client address plus the URL path, and the bypass
        # header is never looked at (docs/compatibility.md §4).
        limit_headers: tuple[tuple[str, str], ...] = ()
        if self._limiter is not None and m.route.tree == "tasks":
            path = request.raw_path.partition("?")[0]
            decision = self._limiter.hit((request.remote or "", path), self.clock.now())
            limit_headers = decision.headers()
            if not decision.allowed:
                return error(429, limited_message(self._limiter.limit), headers=limit_headers)
        body = b"" if request.method == "GET" else await request.read()
        if m.route.auth == "agent":
            agent = self._authenticate_agent(request)
            if isinstance(agent, Reply):
                return agent
            call = Call(None, m.params, query, body, agent_task=agent, query_all=query_all)
        else:
            actor = self._authenticate(request, query)
            if isinstance(actor, Reply):
                return actor
            call = Call(actor, m.params, query, body, query_all=query_all)
        reply = getattr(self._api, m.route.handler)(call)
        assert isinstance(reply, Reply)
        if limit_headers:
            reply = attrs.evolve(reply, headers=reply.headers + limit_headers)
        return reply

    def _authenticate_agent(self, request: BaseRequest) -> FakeTask | Reply:
        """A workspace agent's token (``Coder-Session-Token``), as coderd's agent routes read it."""
        token = request.headers.get("Coder-Session-Token", "")
        if not token:
            return error(401, f'Cookie "{_COOKIE}" must be provided.')
        try:
            uuid.UUID(token)
        except ValueError:
            detail = f"An agent token must be a valid UUIDv4. (len {len(token)})"
            return error(401, "Workspace agent token invalid.", detail)
        task = self.state.by_agent_token.get(token)
        if task is None:
            return error(
                401,
                "Workspace agent not authorized.",
                "The agent cannot authenticate until the workspace provision job has been "
                "completed. If the job is no longer running, this agent is invalid.",
            )
        return task

    def _authenticate(self, request: BaseRequest, query: dict[str, str]) -> FakeUser | Reply:
        headers = request.headers
        # Same precedence as coderd's APITokenFromRequest: cookie, query, header, bearer.
        token = (
            (request.cookies.get(_COOKIE) if "Cookie" in headers else None)
            or query.get(_COOKIE)
            or headers.get("Coder-Session-Token")
        )
        if not token and headers.get("Authorization", "").startswith("Bearer "):
            token = headers["Authorization"].removeprefix("Bearer ").strip()
        if not token:
            detail = f'Cookie "{_COOKIE}" or query parameter must be provided.'
            return error(401, _SIGNED_OUT, detail)
        user = self.state.by_token.get(token)
        if user is not None:
            return user
        parts = token.split("-")
        if len(parts) != 2:
            why = f"incorrect amount of API key parts, expected 2 got {len(parts)}"
        elif len(parts[0]) != 10:
            why = f"invalid API key ID length, expected 10 got {len(parts[0])}"
        elif len(parts[1]) != 22:
            why = f"invalid API key secret length, expected 22 got {len(parts[1])}"
        else:
            known = any(u.token.startswith(parts[0] + "-") for u in self.state.users.values())
            return error(
                401, _SIGNED_OUT, "API key secret is invalid." if known else "API key is invalid."
            )
        return error(401, _SIGNED_OUT, f"Invalid API key format: {why}")

    def _date(self) -> str:
        # The HTTP Date follows the fake's clock, as coderd's follows the host's:
        # clients compare it with created_at (reconcile-by-name).  Cached per second.
        second = self.state.wall_ns(self.clock.now()) // 1_000_000_000
        if second != self._date_second:
            self._date_second = second
            self._date_text = formatdate(second, usegmt=True)
        return self._date_text

    def _headers(self, reply: Reply) -> dict[str, str]:
        headers = dict(self._base_headers)
        headers["Date"] = self._date()
        if reply.content_type:
            headers["Content-Type"] = reply.content_type
        headers.update(reply.headers)
        return headers

    def _response(self, reply: Reply) -> web.Response:
        return web.Response(status=reply.status, body=reply.body, headers=self._headers(reply))

    # -- faults --------------------------------------------------------------
    async def _faulty(
        self,
        request: BaseRequest,
        m: Match,
        query: dict[str, str],
        query_all: dict[str, list[str]],
        fault: Fault,
    ) -> web.StreamResponse:
        kind = fault.kind
        status = fault.effective_status
        if kind == "status":
            phrase = _phrase(status)
            return self._response(error(status, f"{phrase}.", "fault injected by FakeCoder"))
        if kind == "html":
            page = _HTML.format(code=status, phrase=_phrase(status)).encode()
            return web.Response(status=status, body=page, headers={"Content-Type": "text/html"})
        if kind == "rate_limit":
            body: dict[str, Any] = {"message": limited_message(self.rate_limit or 512)}
            headers = (("Retry-After", str(fault.retry_after)),)
            return self._response(Reply(429, dumps(body), JSON_CONTENT_TYPE, headers))
        if kind == "gzip_bomb":
            # Not handled: a small gzip body that inflates to ``fault.size`` bytes.
            bomb = _gzip_bomb(fault.size)
            bomb_headers = self._headers(Reply(200, b"", JSON_CONTENT_TYPE))
            bomb_headers["Content-Encoding"] = "gzip"
            return web.Response(status=200, body=bomb, headers=bomb_headers)
        if kind == "reset":
            # Not handled: the connection dies mid-body before the server did anything.
            fake_body = dumps({"message": "x" * 200})
            return await self._cut(request, Reply(200, fake_body), len(fake_body) // 2)
        if kind == "latency":
            await asyncio.sleep(fault.delay)  # wall time on purpose: it trips client timeouts
            return self._response(await self._serve(request, m, query, query_all))
        reply = await self._serve(request, m, query, query_all)
        if kind == "lost_response":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=reply.status)
        if kind == "truncated_json":
            full = reply.body or dumps({"message": "The response was cut short by FakeCoder."})
            cut = full[: max(1, len(full) // 2)]
            return self._response(Reply(200, cut, JSON_CONTENT_TYPE, reply.headers))
        # slow_body
        return await self._slow(request, reply, fault.delay)

    async def _cut(self, request: BaseRequest, reply: Reply, keep: int) -> web.StreamResponse:
        body = reply.body or b""
        resp = web.StreamResponse(status=reply.status, headers=self._headers(reply))
        resp.content_length = len(body)
        await resp.prepare(request)
        await resp.write(body[:keep])
        if request.transport is not None:
            request.transport.close()  # close, not abort: let the partial body reach the client
        return resp

    async def _slow(self, request: BaseRequest, reply: Reply, delay: float) -> web.StreamResponse:
        body = reply.body or b""
        resp = web.StreamResponse(status=reply.status, headers=self._headers(reply))
        resp.content_length = len(body)
        await resp.prepare(request)
        step = max(1, -(-len(body) // 8))
        for i in range(0, len(body), step):
            if i:
                await asyncio.sleep(delay)
            await resp.write(body[i : i + step])
        await resp.write_eof()
        return resp


def _gzip_bomb(size: int) -> bytes:
    """``{"logs": [` followed by ``size`` spaces, gzipped (about 1 KB per MB)."""
    return _BOMBS.get(size) or _BOMBS.setdefault(
        size, gzip.compress(b'{"logs": [' + b" " * size, compresslevel=9)
    )


_BOMBS: dict[int, bytes] = {}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
