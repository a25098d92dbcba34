"""Long-lived event streams (Coder's websocket and server-sent-events watches).

Streams live on their own aiohttp session with their own connection budget
(``max_streams``), so a follower holding a stream open for hours never takes
one of the ``max_concurrency`` request slots.  Every stream is closed when its
owner closes it, and all of them when the client closes.

This layer knows no tasks: it opens ``path`` as a websocket (``{type, data}``
JSON text messages) or, failing that, as ``text/event-stream``, and hands out
``(type, raw data)`` pairs.
"""

from __future__ import annotations

import json
import ssl as ssl_module
from collections.abc import Mapping
from typing import Any, Literal

import aiohttp
from yarl import URL

__all__ = ["EventStream", "StreamPool", "StreamUnavailable"]

StreamMode = Literal["ws", "sse"]
_MAX_MESSAGE = 4 * 1024 * 1024


class StreamUnavailable(Exception):
    """No stream could be opened (refused, unreachable, or the stream budget is used up).

    ``permanent`` is True when the server says the path does not exist (an older
    server or a proxy that strips it): asking again soon is pointless.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class EventStream:
    """One open stream; :meth:`next` returns ``(type, data)`` with ``data`` raw JSON or None."""

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
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once closed by either side."""
        return self._closed

    async def next(self) -> tuple[str, Any]:
        """The next message; raises :class:`EOFError` when the stream ended or broke."""
        if self._closed:
            raise EOFError("stream closed")
        try:
            if self._ws is not None:
                return await self._next_ws(self._ws)
            assert self._resp is not None
            return await self._next_sse(self._resp)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            await self.aclose()
            raise EOFError(type(exc).__name__) from None

    async def _next_ws(self, ws: aiohttp.ClientWebSocketResponse) -> tuple[str, Any]:
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                try:
                    obj = json.loads(msg.data)
                except ValueError:
                    continue  # noise: not ours to judge
                if isinstance(obj, dict) and isinstance(obj.get("type"), str):
                    return obj["type"], obj.get("data")
                continue
            if msg.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG):
                continue
            await self.aclose()
            raise EOFError("websocket closed")

    async def _next_sse(self, resp: aiohttp.ClientResponse) -> tuple[str, Any]:
        kind = ""
        data: list[str] = []
        while True:
            line = await resp.content.readline()
            if not line:
                await self.aclose()
                raise EOFError("event stream ended")
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if text == "":
                if kind or data:
                    raw = "\n".join(data)
                    try:
                        value = json.loads(raw) if raw else None
                    except ValueError:
                        value = None
                    return kind or "message", value
                continue
            field, _, value_text = text.partition(":")
            value_text = value_text.removeprefix(" ")
            if field == "event":
                kind = value_text
            elif field == "data":
                data.append(value_text)

    async def aclose(self) -> None:
        """Close the connection and give back the budget slot.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._pool._release(self)
        if self._ws is not None:
            await self._ws.close()
        if self._resp is not None:
            self._resp.close()


class StreamPool:
    """Opens :class:`EventStream` s on a session of their own, at most ``max_streams`` at once."""

    def __init__(
        self,
        base_url: URL,
        headers: Mapping[str, str],
        *,
        max_streams: int,
        ssl: ssl_module.SSLContext | bool | None,
        connect_timeout: float,
    ) -> None:
        if max_streams < 0:
            raise ValueError("max_streams must not be negative")
        self.max_streams = max_streams
        self._base_url = base_url
        self._base_path = base_url.path.rstrip("/")
        self._headers = {k: v for k, v in headers.items() if k.lower() != "accept"}
        self._ssl = ssl
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._open: set[EventStream] = set()
        self._opening = 0
        self._closed = False

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
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                # No total timeout: the stream lives as long as its follower wants.
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self._connect_timeout, sock_connect=self._connect_timeout
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def open(self, path: str, *, websocket: bool = True) -> EventStream:
        """Open ``path`` as a websocket, else as an event stream (``path`` + sse suffix rules).

        ``path`` is the websocket path; the event-stream twin is ``path`` without
        its ``-ws`` suffix.  Raises :class:`StreamUnavailable`.
        """
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
        refused = 0
        if websocket:
            try:
                ws = await session.ws_connect(
                    url,
                    autoping=True,
                    heartbeat=None,
                    max_msg_size=_MAX_MESSAGE,
                    # Closing must not hang on a server that never answers the close frame.
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0),
                )
            except aiohttp.WSServerHandshakeError as exc:
                refused += exc.status in (404, 405)
            except Exception:
                # Refused, unreachable, or the client closed the session under it
                # (aiohttp then raises RuntimeError or AssertionError): see below.
                pass
            else:
                return await self._track(EventStream(self, "ws", ws, None))
        if self._closed:
            raise StreamUnavailable("client closed")
        sse_url = url.with_path(url.path.removesuffix("-ws"), encoded=True)
        try:
            resp = await session.get(sse_url, headers={"Accept": "text/event-stream"})
        except Exception as exc:
            if self._closed:
                raise StreamUnavailable("client closed") from None  # closed while connecting
            if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
                raise StreamUnavailable(f"event stream: {type(exc).__name__}") from None
            raise
        ctype = resp.headers.get("Content-Type", "")
        if resp.status != 200 or not ctype.startswith("text/event-stream"):
            status = resp.status
            resp.release()
            raise StreamUnavailable(
                f"event stream refused ({status})", permanent=status in (404, 405) and refused > 0
            )
        return await self._track(EventStream(self, "sse", None, resp))

    async def _track(self, stream: EventStream) -> EventStream:
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
        for stream in list(self._open):
            await stream.aclose()
        session, self._session = self._session, None
        if session is not None:
            await session.close()
