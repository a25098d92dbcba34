"""FakeCoder's workspace watch streams (``/watch-ws`` and ``/watch``): formats, events, faults."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from helpers import eventually

from coder_tasks_async.testing import FakeClock, FakeCoder, Timings

#: What v2.29+ makes up as the task's state while it initializes (no agent report yet).
SYNTHESIZED = ("Workspace is pending", "Workspace is starting", "Agent is starting")

pytestmark = pytest.mark.anyio

TIMINGS = Timings(pending=1.0, initializing=2.0, chunk_interval=0.5, chunks=4)


@pytest.fixture
async def setup() -> AsyncIterator[tuple[FakeCoder, FakeClock, aiohttp.ClientSession]]:
    clock = FakeClock(autojump=False)
    async with FakeCoder(clock=clock, timings=TIMINGS) as fake:
        headers = {"Coder-Session-Token": fake.token}
        async with aiohttp.ClientSession(headers=headers) as session:
            yield fake, clock, session


async def create(fake: FakeCoder, session: aiohttp.ClientSession) -> dict[str, Any]:
    body = {"input": "fix the login", "template_version_id": str(fake.template_version_id)}
    async with session.post(fake.url + "/api/experimental/tasks/me", json=body) as r:
        assert r.status == 201
        task: dict[str, Any] = await r.json()
        return task


async def get_task(fake: FakeCoder, session: aiohttp.ClientSession, tid: str) -> dict[str, Any]:
    async with session.get(f"{fake.url}/api/experimental/tasks/me/{tid}") as r:
        task: dict[str, Any] = await r.json()
        return task


#: Messages each websocket has read so far (``drain`` reads up to the fake's count).
_read: Counter[aiohttp.ClientWebSocketResponse] = Counter()


async def next_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), 10)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    _read[ws] += 1
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def settle(fake: FakeCoder) -> None:
    """After a clock move: until the fake's stream loops sent what the present calls for."""
    await eventually(lambda: fake.watch.caught_up, "the stream loop caught up")


async def drain(
    ws: aiohttp.ClientWebSocketResponse, fake: FakeCoder, before: int
) -> list[dict[str, Any]]:
    """Every message the fake sent on ``ws`` that the test has not read yet: ``ws`` is the
    only stream open since the fake had sent ``before`` messages in all."""
    out = []
    while _read[ws] < fake.watch.sent - before:
        out.append(await next_json(ws))
    return out


def agrees(ws: dict[str, Any], task: dict[str, Any]) -> None:
    """The workspace fields the SDK reads agree with the task view."""
    build = ws["latest_build"]
    assert build["status"] == task["workspace_status"]
    stopped = task["workspace_status"] in ("stopping", "stopped")
    assert build["transition"] == ("stop" if stopped else "start")
    assert build["build_number"] == task.get("workspace_build_number", build["build_number"])
    agents = build["resources"][0]["agents"]
    if task["workspace_agent_id"] is None:
        assert agents == []
    else:
        assert agents[0]["id"] == task["workspace_agent_id"]
        assert agents[0]["lifecycle_state"] == task["workspace_agent_lifecycle"]
        assert agents[0]["health"] == task["workspace_agent_health"]
    app = ws["latest_app_status"]
    cs = task["current_state"]
    if app is None:  # no report yet; the task's state may be made up while initializing
        assert cs is None or cs["message"] in SYNTHESIZED
    else:
        assert (app["state"], app["message"], app["created_at"]) == (
            cs["state"],
            cs["message"],
            cs["timestamp"],
        )


async def test_websocket_sends_snapshot_then_one_event_per_change_none_per_chunk(
    setup: tuple[FakeCoder, FakeClock, aiohttp.ClientSession],
) -> None:
    fake, clock, session = setup
    task = await create(fake, session)
    url = f"{fake.url}/api/v2/workspaces/{task['workspace_id']}/watch-ws"
    before = fake.watch.sent
    async with session.ws_connect(url) as ws:
        first = await next_json(ws)
        assert first["type"] == "data"
        agrees(first["data"], await get_task(fake, session, task["id"]))
        seen = [first]
        for _ in range(40):  # 10 s of fake time: start, the whole first reply, idle
            clock.advance(0.25)
            await settle(fake)
            events = await drain(ws, fake, before)
            now = await get_task(fake, session, task["id"])
            for event in events:
                assert event["type"] == "data"
                agrees(event["data"], now)  # the newest event shows what a poll shows now
            seen += events
        states = [
            (
                e["data"]["latest_build"]["status"],
                (e["data"]["latest_app_status"] or {}).get("state"),
            )
            for e in seen
        ]
        # The start job queued, then running, the agent starting, working, idle; the 4
        # reply chunks publish nothing.
        assert states == [
            ("pending", None),
            ("starting", None),
            ("running", None),
            ("running", "working"),
            ("running", "idle"),
        ]
        assert fake.watch.open_streams == 1
    await settle(fake)
    assert fake.watch.open_streams == 0


async def test_event_stream_pings_on_connect_and_every_15_seconds(
    setup: tuple[FakeCoder, FakeClock, aiohttp.ClientSession],
) -> None:
    fake, clock, session = setup
    task = await create(fake, session)
    clock.advance(20)  # idle: no more changes
    url = f"{fake.url}/api/v2/workspaces/{task['workspace_id']}/watch"
    async with session.get(url) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/event-stream"
        assert await r.content.readline() == b"event: ping\n"
        assert await r.content.readline() == b"\n"
        assert await r.content.readline() == b"event: data\n"
        line = await r.content.readline()
        assert line.startswith(b"data: {")
        agrees(json.loads(line[6:]), await get_task(fake, session, task["id"]))
        assert await r.content.readline() == b"\n"
        clock.advance(15)
        await settle(fake)
        assert await asyncio.wait_for(r.content.readline(), 5) == b"event: ping\n"


async def test_input_publishes_working_then_idle(
    setup: tuple[FakeCoder, FakeClock, aiohttp.ClientSession],
) -> None:
    fake, clock, session = setup
    task = await create(fake, session)
    clock.advance(20)
    before = fake.watch.sent
    async with session.ws_connect(
        f"{fake.url}/api/v2/workspaces/{task['workspace_id']}/watch-ws"
    ) as ws:
        assert (await next_json(ws))["data"]["latest_app_status"]["state"] == "idle"
        url = f"{fake.url}/api/experimental/tasks/me/{task['id']}/send"
        async with session.post(url, json={"input": "again"}) as r:
            assert r.status == 204
        event = await next_json(ws)
        assert event["data"]["latest_app_status"]["state"] == "working"
        clock.advance(10)
        await settle(fake)
        assert [e["data"]["latest_app_status"]["state"] for e in await drain(ws, fake, before)] == [
            "idle"
        ]


async def test_streams_are_authenticated_and_scoped_to_visible_workspaces(
    setup: tuple[FakeCoder, FakeClock, aiohttp.ClientSession],
) -> None:
    fake, _, session = setup
    task = await create(fake, session)
    url = f"{fake.url}/api/v2/workspaces/{task['workspace_id']}/watch"
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as r:
        assert r.status == 401
    bob = fake.add_user("bob")
    async with (
        aiohttp.ClientSession(headers={"Coder-Session-Token": bob.token}) as other,
        other.get(url) as r,
    ):
        assert r.status == 404
    async with session.get(f"{fake.url}/api/v2/workspaces/not-a-uuid/watch") as r:
        assert r.status == 404
    async with session.get(f"{fake.url}/api/v2/workspaces/{task['workspace_id']}/watch-ws") as r:
        assert r.status == 400  # a plain GET on the websocket path


async def test_each_workspace_path_is_its_own_rate_limit_key() -> None:
    clock = FakeClock(autojump=False)
    async with FakeCoder(clock=clock, rate_limit=2) as fake:
        async with aiohttp.ClientSession(headers={"Coder-Session-Token": fake.token}) as session:
            a = await create(fake, session)
            b = await create(fake, session)
            statuses = []
            for wid in (a["workspace_id"], a["workspace_id"], a["workspace_id"], b["workspace_id"]):
                async with session.get(f"{fake.url}/api/v2/workspaces/{wid}/watch") as r:
                    statuses.append(r.status)
            assert statuses == [200, 200, 429, 200]


async def test_faults_refuse_drop_duplicate_noise(
    setup: tuple[FakeCoder, FakeClock, aiohttp.ClientSession],
) -> None:
    fake, clock, session = setup
    task = await create(fake, session)
    base = f"{fake.url}/api/v2/workspaces/{task['workspace_id']}"
    fake.watch.faults.refuse = True
    for path in ("/watch", "/watch-ws"):
        async with session.get(base + path) as r:
            assert r.status == 404
    fake.watch.faults.refuse = False
    fake.watch.faults.refuse_ws = True
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await session.ws_connect(base + "/watch-ws")
    fake.watch.faults.refuse_ws = False

    fake.watch.faults.duplicate = True
    fake.watch.faults.noise = True
    async with session.ws_connect(base + "/watch-ws") as ws:
        got = [await next_json(ws) for _ in range(3)]
        assert [g["type"] for g in got] == ["telemetry", "data", "data"]
        assert got[1] == got[2] and got[1]["data"]["surprise_field"] == [1, 2, 3]
    fake.watch.faults.duplicate = fake.watch.faults.noise = False

    fake.watch.faults.drop_after = 1
    async with session.ws_connect(base + "/watch-ws") as ws:
        assert (await next_json(ws))["type"] == "data"
        msg = await asyncio.wait_for(ws.receive(), 10)
        assert msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        )
    fake.watch.faults.drop_after = None

    fake.watch.faults.stall = True
    before = fake.watch.sent
    async with session.ws_connect(base + "/watch-ws") as ws:
        assert (await next_json(ws))["type"] == "data"
        clock.advance(30)  # state changes and two ping intervals: nothing comes
        await settle(fake)
        assert await drain(ws, fake, before) == []
