"""Quiet idle tasks (issue 27): a settled follower idle 60 s with a watch stream.

Two real-time wake servers (``_wake_server.py``, the SDK's fake in its own process):
one serves the websocket, the other refuses it (``--refuse-ws``), so its followers
take the server-sent-events twin.  On each, a settled ``follow_logs`` per task of
group ``idle`` (``wake="auto"``, default ``PollPolicy``), and on the websocket server
one per task of group ``poll`` (``wake="poll"``: the polling-only baseline).  Each
follower first gets the first reply; then every request its client makes in the next
``window`` seconds is counted by the fake (watch stream opens apart: an open stream is
not a request), per task per minute.

The fake keeps both streams alive as coderd does: a websocket ping frame every 15 s
(coderd's ``HeartbeatClose``), an ``event: ping`` every 15 s on the event stream.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import anyio
from _launch import ServerProcess
from _measure import Settings
from _report import Row
from _wake import Bot, _counts, _requests, _task_ids

from coder_tasks_async import CoderTasksClient

__all__ = ["bench_idle"]

_HERE = Path(__file__).resolve().parent
TASKS = 3
TARGET = 1.0


def _server(*, refuse_ws: bool) -> ServerProcess:
    args = [str(_HERE / "_wake_server.py"), "--group", f"idle={TASKS}", "--group", f"poll={TASKS}"]
    if refuse_ws:
        args.append("--refuse-ws")
    return ServerProcess(args, expect=("URL", "CONTROL", "WALL0_NS", "READY"))


async def _idle(srv: ServerProcess, group: str, wake: str, window: float) -> dict[str, Any]:
    """Settled followers of ``group``'s tasks; requests per task per minute once each has
    the first reply, over ``window`` seconds."""
    token = srv.info[f"TOKEN_{group.upper()}"]
    wall0 = int(srv.info["WALL0_NS"])
    async with CoderTasksClient(srv.url, token=token, api="experimental", wake=wake) as client:
        bots = [Bot(client, task_id, wall0) for task_id in await _task_ids(client)]
        async with anyio.create_task_group() as tg:
            for bot in bots:
                tg.start_soon(bot.run)
            for bot in bots:
                await bot.entry(2)  # the first reply, final: from now on the task idles
            before = await _counts(srv)
            t0 = time.monotonic()
            await asyncio.sleep(window)
            after = await _counts(srv)
            elapsed = time.monotonic() - t0
            tg.cancel_scope.cancel()
    requests = _requests(after, group) - _requests(before, group)
    user = after["users"].get(group, {})
    return {
        "tasks": len(bots),
        "window_s": elapsed,
        "requests": requests,
        "per_minute": requests * 60.0 / elapsed / len(bots),
        "routes": user.get("routes", {}),
        "streams_opened": user.get("streams", 0),
    }


def bench_idle(settings: Settings) -> list[Row]:
    window = float(settings.pick(30, 60))
    results: dict[str, dict[str, Any]] = {}

    async def measure(ws: ServerProcess, sse: ServerProcess) -> None:
        async def one(name: str, srv: ServerProcess, group: str, wake: str) -> None:
            results[name] = await _idle(srv, group, wake, window)

        async with anyio.create_task_group() as tg:
            tg.start_soon(one, "websocket", ws, "idle", "auto")
            tg.start_soon(one, "sse", sse, "idle", "auto")
            tg.start_soon(one, "poll", ws, "poll", "poll")

    with _server(refuse_ws=False) as ws, _server(refuse_ws=True) as sse:
        asyncio.run(measure(ws, sse))
    poll = results["poll"]["per_minute"]
    rows = []
    for name in ("websocket", "sse"):
        res = results[name]
        rate = res["per_minute"]
        rows.append(
            Row(
                bench=f"idle: settled follower, {name}",
                figure=f"requests per task per minute, {window:g} s idle ({TASKS} tasks)",
                sdk=f"{rate:.2f}/min ({res['requests']} req, {res['streams_opened']} opens)",
                baseline=f"polling only: {poll:.2f}/min",
                ratio=rate,
                unit="req/min",
                target=f"<= {TARGET:g}/min",
                passed=rate <= TARGET,
                data={name: res, "poll": results["poll"]},
            )
        )
    return rows
