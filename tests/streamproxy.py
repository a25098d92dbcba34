"""A loopback proxy in front of FakeCoder whose workspace watch streams are hostile.

Every request but the watch streams is forwarded to the fake unchanged, so tasks live
and answer as usual; each watch connection (``/watch-ws``, ``/watch``) gets one of the
behaviours below, in turn from ``modes``:

* ``stall``: never answers the websocket upgrade or the event stream's headers;
* ``silent``: connects, then says nothing (not even a ping);
* ``storm``: data events as fast as the loop allows, each different;
* ``flip``: a storm whose events say the agent went idle, then working, in turn, each
  a new report (the end of a turn a poller has not seen, every other event);
* ``deep``: one JSON event nested 100,000 levels deep;
* ``garbage``: text that is not JSON, then a binary frame / bytes that are not UTF-8;
* ``long_line``: an event-stream line of 600 KiB (the websocket is refused: 404);
* ``pile``: event-stream ``data:`` lines without the blank line that ends an event;
* ``huge``: one websocket message of 5 MiB;
* ``redirect``: 302 to another loopback origin, :attr:`StreamProxy.elsewhere`, which
  records what reaches it.

With ``deaf=True`` a websocket never answers the client's close frame.

It counts what it serves, so tests can check what reached the server, what it managed
to send, and that every stream the client opened was closed again.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from helpers import serve_app

MODES = (
    "stall", "silent", "storm", "flip", "deep", "garbage", "long_line", "pile", "huge", "redirect",
)  # fmt: skip
_WATCH = "/api/v2/workspaces/"


class Elsewhere:
    """The other origin a redirect points to: records every request (and its headers)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        return web.Response(status=404)


class StreamProxy:
    """Forwards every request to ``upstream``; watch streams misbehave (see the module)."""

    def __init__(
        self,
        upstream: str,
        modes: Sequence[str] = MODES,
        *,
        pile: int = 32 << 20,
        deaf: bool = False,
    ) -> None:
        assert all(m in MODES for m in modes), modes
        self.upstream = upstream
        self.modes = list(modes)
        self.pile = pile
        #: Websockets never read, so a client's close frame goes unanswered.
        self.deaf = deaf
        self.url = ""
        self.elsewhere = Elsewhere()
        #: Watch connections per mode, and per path kind ("ws"/"sse").
        self.served: Counter[str] = Counter()
        #: Watch handlers still running (the client has not closed their connection).
        self.open = 0
        #: Data events sent by storms; the most body bytes one ``pile`` stream sent (it
        #: offers ``pile`` each).
        self.events = 0
        self.pile_sent = 0
        #: Storm and flip streams open right now, per workspace id (as in the path).
        self.storming: Counter[str] = Counter()
        self._turn = 0
        self._closing = False
        self._session: aiohttp.ClientSession | None = None

    def _next_mode(self) -> str:
        mode = self.modes[self._turn % len(self.modes)]
        self._turn += 1
        return mode

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith(_WATCH) and request.path.rsplit("/", 1)[-1] in (
            "watch",
            "watch-ws",
        ):
            return await self._watch(request)
        assert self._session is not None
        body = await request.read()
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            data=body,
            allow_redirects=False,
        ) as upstream:
            data = await upstream.read()
            headers = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
            }
            return web.Response(status=upstream.status, body=data, headers=headers)

    async def _watch(self, request: web.Request) -> web.StreamResponse:
        kind = "ws" if request.path.endswith("-ws") else "sse"
        # A websocket and its event-stream fallback are one stream: one mode for both.
        mode = self._next_mode() if kind == "ws" else self._sse_mode
        self._sse_mode = mode
        self.served[mode] += 1
        self.served[kind] += 1
        self.open += 1
        # /api/v2/workspaces/{workspace}/watch-ws
        storm = request.path.split("/")[4] if mode in ("storm", "flip") else None
        if storm is not None:
            self.storming[storm] += 1
        try:
            return await self._serve(request, kind, mode)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            return web.Response(status=499)  # the client went away
        finally:
            self.open -= 1
            if storm is not None:
                self.storming[storm] -= 1

    _sse_mode = "stall"

    async def _serve(self, request: web.Request, kind: str, mode: str) -> web.StreamResponse:
        if mode == "redirect":
            raise web.HTTPFound(self.elsewhere.url + request.path_qs)
        if mode == "stall":
            await self._until_gone(request)
            return web.Response(status=499)
        if mode in ("long_line", "pile") and kind == "ws":
            return web.Response(status=404, text='{"message": "Route not found."}')
        if kind == "ws":
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            # Reading is what answers the client's close frame (unless ``deaf``).
            heard = None if self.deaf else asyncio.ensure_future(ws.receive())
            try:
                await self._ws_misbehave(ws, mode, heard)
                await self._until_gone(request, heard)
            finally:
                if heard is not None:
                    heard.cancel()
            return ws
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"event: ping\n\n")
        await self._sse_misbehave(resp, mode)
        await self._until_gone(request)
        return resp

    async def _ws_misbehave(
        self, ws: web.WebSocketResponse, mode: str, heard: asyncio.Future[Any] | None
    ) -> None:
        if mode in ("storm", "flip"):
            await self._storm(
                lambda data: ws.send_str(json.dumps({"type": "data", "data": data})),
                heard,
                flip=mode == "flip",
            )
        elif mode == "deep":
            depth = 100_000
            await ws.send_str('{"type": "data", "data": ' + "[" * depth + "]" * depth + "}")
        elif mode == "garbage":
            await ws.send_str("this is {not json")
            await ws.send_bytes(b"\xff\xfe\x00binary")
        elif mode == "huge":
            await ws.send_str(json.dumps({"type": "data", "data": "x" * (5 << 20)}))

    async def _sse_misbehave(self, resp: web.StreamResponse, mode: str) -> None:
        if mode in ("storm", "flip"):

            async def send(data: Any) -> None:
                await resp.write(f"event: data\ndata: {json.dumps(data)}\n\n".encode())

            await self._storm(send, None, flip=mode == "flip")
        elif mode == "deep":
            depth = 100_000
            await resp.write(b"event: data\ndata: " + b"[" * depth + b"]" * depth + b"\n\n")
        elif mode == "garbage":
            await resp.write(b"event: data\ndata: \xff\xfe not json\n\n")
        elif mode == "long_line":
            await resp.write(b"event: data\ndata: " + b"x" * (600 << 10) + b"\n\n")
        elif mode == "huge":
            await resp.write(b"event: data\ndata: " + b"x" * (5 << 20) + b"\n\n")
        elif mode == "pile":
            line = b"data: " + b"x" * 1000 + b"\n"
            chunk = line * 64
            resp.enable_chunked_encoding()
            sent = 0
            while sent < self.pile and not self._closing:
                await resp.write(chunk)  # waits while the client does not read
                sent += len(chunk)
                self.pile_sent = max(self.pile_sent, sent)

    async def _storm(
        self, send: Any, heard: asyncio.Future[Any] | None, *, flip: bool = False
    ) -> None:
        n = 0
        while not self._closing and not (heard is not None and heard.done()):
            n += 1
            if flip:
                at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=n)
                state = "idle" if n % 2 else "working"
                await send({"latest_app_status": {"state": state, "created_at": at.isoformat()}})
            else:
                await send({"latest_build": {"build_number": n, "status": "running"}})
            self.events += 1
            if n % 50 == 0:
                await asyncio.sleep(0)  # one loop serves both sides: let the client run

    async def _until_gone(
        self, request: web.Request, heard: asyncio.Future[Any] | None = None
    ) -> None:
        # Polls the connection (a server loop, not a test's wait): a client that gives
        # up closes it, which is what ends this handler.
        while not self._closing and not (heard is not None and heard.done()):
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            await asyncio.sleep(0.005)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[StreamProxy]:
        """Serve on loopback ports (the proxy and :attr:`elsewhere`); ``url`` is set."""
        async with AsyncExitStack() as stack:
            other = web.Application()
            other.router.add_route("*", "/{tail:.*}", self.elsewhere._handle)
            other_port = await stack.enter_async_context(serve_app(other))
            self.elsewhere.url = f"http://127.0.0.1:{other_port}"
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._forward)
            port = await stack.enter_async_context(serve_app(app))
            self.url = f"http://127.0.0.1:{port}"
            self._session = await stack.enter_async_context(aiohttp.ClientSession())
            try:
                yield self
            finally:
                self._closing = True
