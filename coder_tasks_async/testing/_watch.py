"""The workspace watch streams: ``GET /api/v2/workspaces/{id}/watch-ws`` and ``/watch``.

Coder pushes the whole workspace on connect and again whenever its build, agent,
app health or app status (the agent's state report, the task's ``current_state``)
changes; a new conversation message publishes nothing.  ``/watch-ws`` is a one-way
websocket of ``{"type": ..., "data": ...}`` text messages, kept alive by a websocket
ping frame every 15 s (coderd's ``httpapi.HeartbeatClose``, ``HeartbeatInterval`` 15 s,
coderd/httpapi/websocket.go at v2.31.9: never a message); ``/watch`` is the
older server-sent-events twin (``event: ping`` on connect, ``event: data`` with the
workspace JSON, an ``event: ping`` every 15 s).  Both exist on every release the fake
imitates.

The stream only reads the fake's state; it is woken by :meth:`WatchHub.poke`
(any request that changed something) or by the clock reaching the next moment
the task's view changes by time alone.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
import attrs
from aiohttp import web
from aiohttp.web_request import BaseRequest

if TYPE_CHECKING:
    from ._state import FakeTask, State

__all__ = ["WatchFaults", "WatchHub", "workspace_json"]

#: Seconds of clock time between pings, as coderd's event sender.
PING_INTERVAL = 15.0


@attrs.define(slots=True)
class WatchFaults:
    """Misbehaviour of the watch streams, for tests (all off by default).

    ``refuse``: both paths answer 404 (an old server or a proxy that strips them).
    ``refuse_ws``: only the websocket is refused (a proxy without upgrades).
    ``drop_after``: close each stream after this many data events.
    ``stall``: after the connect snapshot, send nothing at all (no pings either).
    ``duplicate``: every data event is sent twice.
    ``noise``: unknown event types and unknown fields are mixed in.
    """

    refuse: bool = False
    refuse_ws: bool = False
    drop_after: int | None = None
    stall: bool = False
    duplicate: bool = False
    noise: bool = False


def _app_status(task: FakeTask, cs: dict[str, Any] | None) -> dict[str, Any] | None:
    if cs is None:
        return None
    return {
        "id": str(uuid.uuid5(task.app_id, str(cs["timestamp"]))),
        "created_at": cs["timestamp"],
        "workspace_id": str(task.workspace_id),
        "agent_id": str(task.agent_id),
        "app_id": str(task.app_id),
        "state": cs["state"],
        "message": cs["message"],
        "uri": cs.get("uri", ""),
        "needs_user_attention": False,
    }


def workspace_json(state: State, task: FakeTask, now: float) -> dict[str, Any]:
    """A ``codersdk.Workspace`` object whose build, agent and app status agree with the task."""
    wire = state.view.wire(task, now)
    status = wire["status"]
    build = task.latest_build
    agents: list[dict[str, Any]] = []
    if wire["workspace_agent_id"] is not None:
        agents.append(
            {
                "id": wire["workspace_agent_id"],
                "name": "main",
                "status": "connected",
                "lifecycle_state": wire["workspace_agent_lifecycle"],
                "health": wire["workspace_agent_health"],
                "apps": [
                    {
                        "id": str(task.app_id),
                        "slug": "claude-code",
                        "health": "unhealthy" if status == "error" else "healthy",
                    }
                ],
            }
        )
    latest = build.json(
        now,
        db_time=state.db_time,
        workspace_id=task.workspace_id,
        workspace_name=task.name,
        owner=task.owner,
        organization_id=task.template.organization_id,
    )
    latest["resources"] = [{"name": "dev", "type": "docker_container", "agents": agents}]
    return {
        "id": str(task.workspace_id),
        "created_at": wire["created_at"],
        "updated_at": wire["updated_at"],
        "owner_id": wire["owner_id"],
        "owner_name": task.owner.username,
        "organization_id": wire["organization_id"],
        "template_id": wire["template_id"],
        "template_name": wire["template_name"],
        "name": task.name,
        "latest_build": latest,
        "latest_app_status": _app_status(task, state.view.app_status(task, now)),
        "outdated": False,
        "health": {"healthy": status != "error", "failing_agents": []},
        "task_id": str(task.id),
    }


def _signature(ws: dict[str, Any]) -> tuple[Any, ...]:
    """What an event is published for: build, agent, app health and app status."""
    build = ws["latest_build"]
    agents = build["resources"][0]["agents"]
    app = ws["latest_app_status"]
    return (
        build["build_number"],
        build["transition"],
        build["job"]["status"],
        json.dumps(agents, sort_keys=True),
        None if app is None else (app["state"], app["message"], app["created_at"]),
    )


class WatchHub:
    """Serves the watch streams of one :class:`FakeCoder` and tracks them for shutdown."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.faults: WatchFaults = WatchFaults()
        #: Streams open right now (tests assert the SDK closes its side).
        self.open_streams: int = 0
        #: Streams opened in total, by mode (``"ws"`` or ``"sse"``).
        self.opened: dict[str, int] = {"ws": 0, "sse": 0}
        #: Messages sent on all streams (events, event-stream pings, noise): a test reads
        #: exactly this many instead of waiting some time for more.
        self.sent: int = 0
        #: Websocket ping frames sent (the websocket's keep-alive; not messages).
        self.ping_frames: int = 0
        #: Per running stream loop: the clock time it next looks at the task.
        self._looks: dict[object, float] = {}
        self._changed = asyncio.Event()
        self._closing = False

    @property
    def caught_up(self) -> bool:
        """Every stream loop has sent what the clock's present calls for (for tests on a
        manual clock: after ``advance``, wait for this instead of for wall time)."""
        now = self.state.clock.now()
        return all(look > now for look in self._looks.values())

    def poke(self) -> None:
        """Something may have changed: every stream looks again."""
        ev, self._changed = self._changed, asyncio.Event()
        ev.set()

    def shutdown(self) -> None:
        """Make every open stream end now (the server is closing)."""
        self._closing = True
        self.poke()

    def reopen(self) -> None:
        """Serve streams again (the server started again after :meth:`shutdown`)."""
        self._closing = False

    async def serve(self, request: BaseRequest, task: FakeTask, mode: str) -> web.StreamResponse:
        """Run one stream until the client leaves, a fault drops it or the server closes."""
        send: Callable[[str, Any], Awaitable[None]]
        gone: asyncio.Future[Any] | None = None
        if mode == "ws":
            ws = web.WebSocketResponse(autoping=True)
            await ws.prepare(request)
            resp: web.StreamResponse = ws
            # The socket is one-way: anything the client sends back is its close.
            gone = asyncio.ensure_future(ws.receive())

            async def send(kind: str, data: Any) -> None:
                if kind == "ping":  # coderd pings the socket itself; no message
                    await ws.ping()
                    self.ping_frames += 1
                    return
                await ws.send_str(json.dumps({"type": kind, "data": data}))

        else:
            resp = web.StreamResponse(
                headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
            )
            await resp.prepare(request)

            async def send(kind: str, data: Any) -> None:
                text = f"event: {kind}\n"
                if data is not None:
                    text += f"data: {json.dumps(data)}\n"
                await resp.write((text + "\n").encode())

        self.open_streams += 1
        self.opened[mode] += 1
        me = object()  # this stream's key in ``_looks``
        try:
            await self._run(request, task, mode, send, gone, me)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass  # the client went away
        finally:
            self.open_streams -= 1
            self._looks.pop(me, None)
            if gone is not None:
                gone.cancel()
            if isinstance(resp, web.WebSocketResponse):
                await resp.close()
        return resp

    async def _run(
        self,
        request: BaseRequest,
        task: FakeTask,
        mode: str,
        raw_send: Callable[[str, Any], Awaitable[None]],
        gone: asyncio.Future[Any] | None,
        me: object,
    ) -> None:
        clock = self.state.clock
        faults = self.faults

        async def send(kind: str, data: Any) -> None:
            await raw_send(kind, data)
            self.sent += mode == "sse" or kind != "ping"  # a ping frame is no message

        if mode == "sse":
            await send("ping", None)
        last_sig: tuple[Any, ...] | None = None
        last_ping = clock.now()
        sent = 0
        while not self._closing:
            changed = self._changed
            now = clock.now()
            if task.deleted:
                return
            ws = workspace_json(self.state, task, now)
            sig = _signature(ws)
            if sig != last_sig and not (faults.stall and last_sig is not None):
                last_sig = sig
                if faults.noise:
                    await send("telemetry", {"note": "not for you"})
                    ws = {**ws, "surprise_field": [1, 2, 3]}
                for _ in range(2 if faults.duplicate else 1):
                    await send("data", ws)
                sent += 1
                if faults.drop_after is not None and sent >= faults.drop_after:
                    if request.transport is not None:
                        request.transport.abort()
                    return
            if now - last_ping >= PING_INTERVAL - 1e-9 and not faults.stall:
                await send("ping", None)
                last_ping = now
            if request.transport is None or request.transport.is_closing():
                return
            if gone is not None and gone.done():
                return
            until = self.state.view.stable_until(task, now)
            wait = min(until, last_ping + PING_INTERVAL) - now
            self._looks[me] = now + max(wait, 0.001)
            await self._wait(changed, max(wait, 0.001), gone)

    async def _wait(
        self, changed: asyncio.Event, seconds: float, gone: asyncio.Future[Any] | None
    ) -> None:
        """Until ``changed`` is set or ``seconds`` of clock time passed."""
        clock = self.state.clock
        if getattr(clock, "autojump", False):
            # The stream must never move an autojumping clock itself; it looks
            # again soon in real time instead.
            timer: Awaitable[Any] = anyio.sleep(0.005)
        elif math.isinf(seconds):
            timer = asyncio.Event().wait()
        else:
            timer = clock.sleep(seconds)
        tasks = {asyncio.ensure_future(changed.wait()), asyncio.ensure_future(timer)}
        try:
            await asyncio.wait(
                tasks if gone is None else tasks | {gone}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for t in tasks:  # never ``gone``: it is watched until the stream ends
                t.cancel()
