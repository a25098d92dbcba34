"""Long-lived event streams (Coder's websocket and server-sent-events watches).

Streams live on their own aiohttp session with their own connection budget
(``max_streams``), so a follower holding a stream open for hours never takes
one of the ``max_concurrency`` request slots.  Every stream is closed when its
owner closes it, and all of them when the client closes.

A stream is only a hint to poll now, so it is held to rules as strict as the
request path's, and anything odd ends it rather than its owner:

* no redirect is ever followed (the session's headers carry the token): a 3xx
  answer means "no stream here";
* the handshake (websocket upgrade, or the event stream's response headers) is
  bounded by the client's ``Timeouts.total``, the TCP connect by ``Timeouts.connect``;
* every websocket message, every event-stream line and every accumulated event is
  capped at :data:`MAX_EVENT` bytes;
* any failure to read or decode (bad UTF-8, bad or too deeply nested JSON, an
  oversized frame, whatever aiohttp's reader raises) closes the stream and reads
  as its end (:class:`EOFError`), never as an error of the caller.

This layer knows no tasks: it opens ``path`` as a websocket (``{type, data}``
JSON text messages) or, failing that, as ``text/event-stream``, and hands out
``(type, decoded data)`` pairs.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from collections.abc import Callable, Coroutine, Mapping
from types import SimpleNamespace
from typing import Any, Literal

import aiohttp
import orjson
from yarl import URL

from .._wire.loggers import ROOT, get_logger
from .._wire.settings import Timeouts
from .closing import close_session

__all__ = ["MAX_EVENT", "EventStream", "StreamPool", "StreamUnavailable"]

logger = get_logger(f"{ROOT}.http")

StreamMode = Literal["ws", "sse"]
#: The largest websocket message, event-stream line or event-stream event accepted (bytes).
MAX_EVENT = 1024 * 1024
#: Seconds a websocket's closing handshake may take before the connection is dropped.
_CLOSE_WAIT = 1.0
#: Answers that mean the path is not served here (an older server, a stripping proxy,
#: a redirect elsewhere): with the websocket refused as well, the pool stops asking.
_REFUSALS = frozenset({"refused (404)", "refused (405)", "redirect"})


class StreamUnavailable(Exception):
    """No stream could be opened (refused, unreachable, or the stream budget is used up).

    ``permanent`` is True when the server says the path does not exist (an older
    server or a proxy that strips it) or redirects it elsewhere: asking again soon
    is pointless.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class _Broken(Exception):
    """The stream sent something it should not have: it is dropped (internal)."""


class _RedirectRefused(Exception):
    """A stream request was answered with a redirect (internal, never followed)."""


async def _refuse_redirect(
    session: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestRedirectParams
) -> None:
    # aiohttp would follow it with our headers, token included, to wherever it points
    # (ws_connect has no allow_redirects): stop before the next hop is sent.
    raise _RedirectRefused(params.response.status)


class _Lines:
    """Event-stream lines read from a response body, each at most ``limit`` bytes.

    aiohttp's own ``readline`` raises its ``LineTooLong`` past an internal bound and
    keeps any shorter line whole; this keeps the bound ours.
    """

    __slots__ = ("_buf", "_content", "_limit", "_scanned")

    def __init__(self, content: aiohttp.StreamReader, limit: int) -> None:
        self._content = content
        self._limit = limit
        self._buf = bytearray()
        self._scanned = 0

    async def next(self) -> bytes | None:
        """The next line without its end (``\\n``, ``\\r\\n``); ``None`` at the end of the body."""
        buf = self._buf
        while True:
            end = buf.find(b"\n", self._scanned)
            if end >= 0:
                line = bytes(buf[:end])
                del buf[: end + 1]
                self._scanned = 0
                return line[:-1] if line.endswith(b"\r") else line
            if len(buf) > self._limit:
                raise _Broken("event-stream line too long")
            self._scanned = len(buf)
            chunk = await self._content.readany()
            if not chunk:
                return None
            buf += chunk


def _decode(raw: str | bytes) -> Any:
    """JSON of an event (orjson: at most 1024 levels deep, strict UTF-8)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    raise _Broken("undecodable event")  # outside the except: nothing chained


class EventStream:
    """One open stream; :meth:`next` returns ``(type, data)`` with ``data`` decoded JSON or None."""

    def __init__(
        self,
        pool: StreamPool,
        mode: StreamMode,
        ws: aiohttp.ClientWebSocketResponse | None,
        resp: aiohttp.ClientResponse | None,
    ) -> None:
        self.mode: StreamMode = mode
        self._pool = pool
        self._ws = ws
        self._resp = resp
        self._lines = None if resp is None else _Lines(resp.content, MAX_EVENT)
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once closed by either side."""
        return self._closed

    async def next(self) -> tuple[str, Any]:
        """The next message; raises :class:`EOFError` when the stream ended, broke or
        sent anything it should not have (it is closed then)."""
        if self._closed:
            raise EOFError("stream closed")
        why = ""
        try:
            if self._ws is not None:
                return await self._next_ws(self._ws)
            return await self._next_sse()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure of a hint is its end
            why = type(exc).__name__
        # Dropped at once: a server that sent garbage may never answer a closing
        # handshake.  Raised outside the except block: no aiohttp error is chained.
        self.shut(abort=True)
        raise EOFError(why)

    async def _next_ws(self, ws: aiohttp.ClientWebSocketResponse) -> tuple[str, Any]:
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                obj = _decode(msg.data)
                if isinstance(obj, dict) and isinstance(obj.get("type"), str):
                    return obj["type"], obj.get("data")
                continue  # JSON of another shape: not ours to judge
            if msg.type is aiohttp.WSMsgType.PING:
                # Coder's keep-alive on this socket is a ping frame every 15 s (its
                # HeartbeatClose), never a message: answered here and handed out as a
                # ping, so the owner knows the stream is alive without reading anything.
                await ws.pong(msg.data)
                return "ping", None
            if msg.type is aiohttp.WSMsgType.PONG:
                return "ping", None
            # Closed, closing, binary or an error (a frame over MAX_EVENT among them).
            raise _Broken(f"websocket {msg.type.name.lower()}")

    async def _next_sse(self) -> tuple[str, Any]:
        lines = self._lines
        assert lines is not None
        kind = ""
        data: list[bytes] = []
        size = 0
        while True:
            line = await lines.next()
            if line is None:
                raise _Broken("event stream ended")
            if not line:
                if kind or data:
                    raw = b"\n".join(data)
                    return kind or "message", _decode(raw) if raw else None
                continue
            field, _, value = line.partition(b":")
            value = value.removeprefix(b" ")
            if field == b"event":
                kind = value.decode("utf-8", "replace")
            elif field == b"data":
                size += len(value) + 1
                if size > MAX_EVENT:
                    raise _Broken("event too large")
                data.append(value)

    async def aclose(self) -> None:
        """Close the connection and give back the budget slot.  Idempotent, never raises
        (an error while closing only means the connection is gone already)."""
        rest = self.shut()
        if rest is not None:
            await rest

    def shut(self, *, abort: bool = False) -> Coroutine[Any, Any, None] | None:
        """Start closing without an await: the stream is closed and its budget slot free
        at once.  Returns what is left to await (a websocket's closing handshake), if any;
        ``abort`` drops the connection without one.
        """
        if self._closed:
            return None
        self._closed = True
        self._pool._release(self)
        if self._resp is not None:
            self._resp.close()
        if self._ws is None:
            return None
        if abort:
            _abort_ws(self._ws)
            return None
        return _close_ws(self._ws)


def _log_stream(path: str, what: str, mode: StreamMode | None) -> None:
    # The path names a workspace by its id: no name, no token.
    logger.debug("watch stream %s: %s", path, what, extra={"url": path, "mode": mode})


async def _close_ws(ws: aiohttp.ClientWebSocketResponse) -> None:
    """The closing handshake, bounded in all: aiohttp's own close waits ``ws_close`` for
    each message, so a server that keeps talking would hold it open for ever."""
    try:
        async with asyncio.timeout(_CLOSE_WAIT):
            await ws.close()
    except Exception:  # timed out or broken: the connection goes all the same
        pass
    finally:
        _abort_ws(ws)


def _abort_ws(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Drop a websocket's connection now, without the closing handshake.

    aiohttp offers no public abort; closing the upgraded response is what its own
    ``close()`` does last (and what it does on a broken ping).  Read in this one place.
    """
    response = getattr(ws, "_response", None)
    if response is not None:
        response.close()


class StreamPool:
    """Opens :class:`EventStream` s on a session of their own, at most ``max_streams`` at once."""

    def __init__(
        self,
        base_url: URL,
        headers: Mapping[str, str],
        *,
        max_streams: int,
        ssl: ssl_module.SSLContext | bool | None,
        timeouts: Timeouts,
        check_loop: Callable[[], None] = lambda: None,
        proxy: tuple[URL | None, aiohttp.BasicAuth | None] = (None, None),
    ) -> None:
        if max_streams < 0:
            raise ValueError("max_streams must not be negative")
        self.max_streams = max_streams
        self._base_url = base_url
        self._base_path = base_url.path.rstrip("/")
        self._headers = {k: v for k, v in headers.items() if k.lower() != "accept"}
        self._ssl = ssl
        self._timeouts = timeouts
        self._check_loop = check_loop
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._open: set[EventStream] = set()
        self._opening = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"StreamPool(open={len(self._open)}, max_streams={self.max_streams})"

    @property
    def open_count(self) -> int:
        """Streams open right now."""
        return len(self._open)

    def _session_or_open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=max(self.max_streams, 1),
                limit_per_host=0,
                ssl=self._ssl if self._ssl is not None else True,
                enable_cleanup_closed=True,
            )
            trace = aiohttp.TraceConfig()
            trace.on_request_redirect.append(_refuse_redirect)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                # No total timeout: the stream lives as long as its follower wants; the
                # handshake is bounded in open(), silence by the follower's stall rule.
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._timeouts.connect),
                cookie_jar=aiohttp.DummyCookieJar(),
                trace_configs=[trace],
                # The environment's proxy, as for requests (read once, by the transport).
                proxy=self._proxy[0],
                proxy_auth=self._proxy[1],
            )
        return self._session

    async def open(self, path: str, *, websocket: bool = True) -> EventStream:
        """Open ``path`` as a websocket, else as an event stream.

        ``path`` is the websocket path; the event-stream twin is ``path`` without
        its ``-ws`` suffix.  Each attempt's handshake is bounded by ``Timeouts.total``.
        Raises :class:`StreamUnavailable` (and ``RuntimeError`` from another event loop).
        """
        self._check_loop()
        if self._closed:
            raise StreamUnavailable("client closed")
        if len(self._open) + self._opening >= self.max_streams:
            raise StreamUnavailable("stream budget used up")
        self._opening += 1
        try:
            return await self._open_stream(path, websocket)
        finally:
            self._opening -= 1

    async def _open_stream(self, path: str, websocket: bool) -> EventStream:
        session = self._session_or_open()
        url = self._base_url.with_path(self._base_path + path, encoded=True)
        refused = False
        if websocket:
            ws, refused = await self._open_ws(session, url)
            if ws is not None:
                _log_stream(path, "opened as a websocket", "ws")
                return await self._track(EventStream(self, "ws", ws, None))
        if self._closed:
            raise StreamUnavailable("client closed")
        sse_url = url.with_path(url.path.removesuffix("-ws"), encoded=True)
        resp, why = await self._open_sse(session, sse_url)
        if resp is None:
            if self._closed:
                raise StreamUnavailable("client closed")  # closed while connecting
            _log_stream(path, f"not opened ({why})", None)
            raise StreamUnavailable(f"event stream: {why}", permanent=refused and why in _REFUSALS)
        _log_stream(path, "opened as server-sent events", "sse")
        return await self._track(EventStream(self, "sse", None, resp))

    async def _open_ws(
        self, session: aiohttp.ClientSession, url: URL
    ) -> tuple[aiohttp.ClientWebSocketResponse | None, bool]:
        """The websocket, or ``None`` and whether the server refused the path outright."""
        try:
            async with asyncio.timeout(self._timeouts.total):
                ws = await session.ws_connect(
                    url,
                    # Pings are answered by _next_ws, which also reports them: aiohttp's
                    # autoping would answer them out of sight.
                    autoping=False,
                    heartbeat=None,
                    max_msg_size=MAX_EVENT,
                    # See _close_ws: a close is bounded in all, not only per message.
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=_CLOSE_WAIT),
                )
            return ws, False
        except asyncio.CancelledError:
            raise
        except aiohttp.WSServerHandshakeError as exc:
            return None, exc.status in (404, 405)
        except _RedirectRefused:
            return None, True
        except Exception:
            # Refused, unreachable, too slow, or the client closed the session under
            # it (aiohttp then raises RuntimeError or AssertionError): try the events.
            return None, False

    async def _open_sse(
        self, session: aiohttp.ClientSession, url: URL
    ) -> tuple[aiohttp.ClientResponse | None, str]:
        """The event-stream response, or ``None`` and why not (no exception is chained)."""
        why = ""
        try:
            async with asyncio.timeout(self._timeouts.total):
                resp = await session.get(
                    url, headers={"Accept": "text/event-stream"}, allow_redirects=False
                )
        except asyncio.CancelledError:
            raise
        except _RedirectRefused:
            why = "redirect"
        except Exception as exc:
            why = type(exc).__name__
        if why:
            return None, why
        ctype = resp.headers.get("Content-Type", "")
        if resp.status != 200 or not ctype.startswith("text/event-stream"):
            status = resp.status
            resp.release()
            return None, "redirect" if 300 <= status < 400 else f"refused ({status})"
        return resp, ""

    async def _track(self, stream: EventStream) -> EventStream:
        # No await unless closed: once connected, the stream reaches its owner in the
        # same step, so a cancellation cannot strand it open.
        self._open.add(stream)
        if self._closed:  # the client closed while this one was connecting
            await stream.aclose()
            raise StreamUnavailable("client closed")
        return stream

    def _release(self, stream: EventStream) -> None:
        self._open.discard(stream)

    async def aclose(self) -> None:
        """Close every open stream and the session.  Idempotent."""
        self._closed = True
        streams = list(self._open)
        try:
            await asyncio.gather(*(s.aclose() for s in streams), return_exceptions=True)
        finally:
            session, self._session = self._session, None
            if session is not None:
                await close_session(session)
