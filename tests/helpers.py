"""Small helpers shared by the tests (imported as ``helpers``; pytest puts tests/ on the path)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from coder_tasks_async import CoderTasksClient


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[int]:
    """Serve a one-off aiohttp app on a loopback port for the duration of a test."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


def acquired(client: CoderTasksClient) -> int:
    """Connections the client's connector still holds (0 = nothing leaked)."""
    session = client._transport._session
    assert session is not None
    return len(session.connector._acquired)  # type: ignore[union-attr]
