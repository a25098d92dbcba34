"""Small helpers shared by the tests (imported as ``helpers``; pytest puts tests/ on the path)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from coder_tasks_async import CoderTasksClient, PollPolicy

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


def acquired(client: CoderTasksClient) -> int:
    """Connections the client still holds (0 = nothing leaked)."""
    return client.connections_in_use


#: A fast polling pace for tests on the fake clock (no jitter: runs repeat exactly).
FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)
