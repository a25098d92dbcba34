"""Shared followers (issue 27): 50 followers of one task in one client.

What a service re-streaming one conversation to 50 browsers does: one ``follow_logs``
per browser, all in one client.  The server is ``_server.py fake`` with agents that
keep working (every task's last reply grows every ``CHUNK_INTERVAL``), so every
follower polls at its fastest pace all along.  Three groups run at the same time, each
on a task of its own, for the same window, with the default ``PollPolicy`` and
``wake="poll"`` (this server's agents never go idle; wake-ups are the ``idle`` and
``wake`` groups' business):

* the SDK: 50 live followers of one task in one client (they share one poller);
* one follower of a task (the target: the cost of one follower);
* 50 followers of a task in 50 clients, which share nothing: what 50 followers cost
  before followers were shared (and what a client still costs per follower).

Requests are counted by each client's response hook (every attempt, retries included).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
from _launch import ServerProcess
from _measure import Settings
from _report import Row

from coder_tasks_async import CoderTasksClient

__all__ = ["bench_shared"]

FOLLOWERS = 50
#: The target: 50 followers of one task cost at most this much more than one.
TARGET = 1.10


async def _task_ids(srv: ServerProcess) -> list[str]:
    async with CoderTasksClient(srv.url, token=srv.token, api="experimental") as client:
        return sorted(str(t.id) for t in await client.list_tasks())


async def _follow(
    clients: list[CoderTasksClient], task_id: str, followers: int, window: float
) -> dict[str, Any]:
    """``followers`` live followers of ``task_id`` (spread over ``clients``) for ``window``
    seconds; requests per second and the events each follower saw."""
    requests = 0

    def count(status: int, headers: object) -> None:
        nonlocal requests
        requests += 1

    for client in clients:
        client.on_response(count)
    events = [0] * followers

    async def follow(i: int) -> None:
        client = clients[i % len(clients)]
        async with client.follow_logs(task_id) as follower:
            async for _ in follower:
                events[i] += 1

    t0 = time.monotonic()
    async with anyio.create_task_group() as tg:
        for i in range(followers):
            tg.start_soon(follow, i)
        await asyncio.sleep(window)
        tg.cancel_scope.cancel()
    elapsed = time.monotonic() - t0
    return {
        "followers": followers,
        "clients": len(clients),
        "requests": requests,
        "window_s": elapsed,
        "per_s": requests / elapsed,
        "events_min": min(events),
        "events_max": max(events),
    }


def _client(srv: ServerProcess) -> CoderTasksClient:
    return CoderTasksClient(srv.url, token=srv.token, api="experimental", wake="poll")


async def bench_shared(srv: ServerProcess, settings: Settings) -> list[Row]:
    shared_task, one_task, apart_task = (await _task_ids(srv))[:3]
    window = float(settings.pick(8, 20))
    shared = [_client(srv)]
    one = [_client(srv)]
    apart = [_client(srv) for _ in range(FOLLOWERS)]
    results: dict[str, dict[str, Any]] = {}
    try:

        async def run(name: str, clients: list[CoderTasksClient], task: str, n: int) -> None:
            results[name] = await _follow(clients, task, n, window)

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "shared", shared, shared_task, FOLLOWERS)
            tg.start_soon(run, "one", one, one_task, 1)
            tg.start_soon(run, "apart", apart, apart_task, FOLLOWERS)
    finally:
        for client in (*shared, *one, *apart):
            await client.aclose()
    s, o, a = results["shared"]["per_s"], results["one"]["per_s"], results["apart"]["per_s"]
    if results["shared"]["events_min"] == 0:
        raise RuntimeError(f"a shared follower saw nothing: {results['shared']}")
    ratio = s / o
    return [
        Row(
            bench=f"{FOLLOWERS} followers of one task",
            figure=f"requests/s, one client ({window:g} s window)",
            sdk=f"{s:.1f} req/s",
            baseline=f"one follower: {o:.1f} req/s; {FOLLOWERS} clients: {a:.1f} req/s",
            ratio=ratio,
            unit="x one follower",
            target=f"<= {TARGET:.2f}x",
            passed=ratio <= TARGET,
            data=results,
        )
    ]
