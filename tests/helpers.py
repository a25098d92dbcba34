"""Small helpers shared by the tests (imported as ``helpers``; pytest puts tests/ on the path)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from aiohttp import web

from coder_tasks_async import CoderTasksClient, LogEvent, LogFollower, PollPolicy, RetryPolicy
from coder_tasks_async.testing import FakeClock, FakeCoder, Timings

#: The tests folder (fixture bodies live in ``TESTS / "fixtures" / <server era>``).
TESTS = Path(__file__).resolve().parent


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[int]:
    """Serve a one-off aiohttp app on a loopback port for the duration of a test."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@asynccontextmanager
async def redirect_loop(**options: Any) -> AsyncIterator[tuple[CoderTasksClient, list[str]]]:
    """A server whose task route redirects to another task for ever, and a client of it
    (API v2, no retries, ``options`` added): the client, and the paths the server was
    asked for, one per request."""
    asked: list[str] = []

    async def loop(request: web.Request) -> web.Response:
        asked.append(request.path)
        raise web.HTTPTemporaryRedirect(f"/api/v2/tasks/me/{uuid.UUID(int=len(asked) + 1)}")

    app = web.Application()
    app.router.add_get("/api/v2/tasks/{user}/{task}", loop)
    async with serve_app(app) as port:
        token = "abcdefghij-" + "s" * 22
        url = f"http://127.0.0.1:{port}"
        async with CoderTasksClient(
            url,
            token=token,
            api="v2",
            retry=RetryPolicy.none(),
            **options,
        ) as client:
            yield client, asked


def acquired(client: CoderTasksClient) -> int:
    """Connections the client still holds (0 = nothing leaked)."""
    return client.connections_in_use


#: A fast polling pace for tests on the fake clock (no jitter: runs repeat exactly).
FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)


async def eventually(cond: Callable[[], bool], what: str) -> None:
    """Let real IO run until ``cond()`` holds (the fake and the client talk over loopback).

    For tests on a manual fake clock, where only socket traffic is left to happen: it
    spins on event-loop turns (each one polls the sockets), never on wall time, and gives
    up after a bound no loopback exchange comes near.
    """
    for _ in range(_TURNS):
        if cond():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


_TURNS = 500_000


@asynccontextmanager
async def collecting(follower: LogFollower) -> AsyncIterator[list[LogEvent]]:
    """Read ``follower`` in the background for the block: its events, as they come, in
    the list yielded; the follower is closed when the block ends."""
    got: list[LogEvent] = []
    async with follower, anyio.create_task_group() as tg:

        async def consume() -> None:
            async for event in follower:
                got.append(event)

        tg.start_soon(consume)
        yield got
        tg.cancel_scope.cancel()


async def tick(clock: FakeClock, fake: FakeCoder, seconds: float, pollers: int = 1) -> None:
    """Move the manual clock, then let everything run until the fake's watch streams have
    sent what the new time calls for and ``pollers`` client pollers sleep on the clock
    again (with the fake's stream loops, which sleep on it too)."""
    clock.advance(seconds)
    await eventually(
        lambda: fake.watch.caught_up and clock.sleepers >= pollers + fake.watch.open_streams,
        f"asleep again at t={clock.now()}",
    )


#: The task lifecycle of the wake-up tests: a reply of four chunks, half a second apart.
WAKE_TIMINGS = Timings(pending=1.0, initializing=1.0, chunk_interval=0.5, chunks=4)
