"""Response hooks: the rate limiter and ``server_version`` hear exactly their responses."""

from __future__ import annotations

import anyio
import pytest
from aiohttp import web
from helpers import serve_app

from coder_tasks_async import CoderTasksClient, RateLimiter
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio


def _listing_app() -> web.Application:
    """Lists nothing; answers for ``owner:limited`` carry a tiny rate limit, and only
    ``owner:versioned`` carries a build version."""

    async def tasks(request: web.Request) -> web.Response:
        query = request.query.get("q", "")
        headers = {}
        if 'owner:"limited"' in query:
            headers = {"X-RateLimit-Limit": "7", "X-RateLimit-Remaining": "6"}
        if 'owner:"versioned"' in query:
            headers = {"X-Coder-Build-Version": "v2.30.0"}
        return web.json_response({"tasks": [], "count": 0}, headers=headers)

    app = web.Application()
    app.router.add_get("/api/v2/tasks", tasks)
    return app


async def test_the_limiter_learns_only_from_the_call_it_ran() -> None:
    async with serve_app(_listing_app()) as port:
        async with CoderTasksClient(f"http://127.0.0.1:{port}", token="t") as client:
            limiter = RateLimiter(client)
            called, go = anyio.Event(), anyio.Event()

            async def paced() -> None:
                await client.list_tasks(owner="plain")  # no rate-limit headers
                called.set()
                await go.wait()

            async with anyio.create_task_group() as tg:
                tg.start_soon(limiter.run, paced)
                await called.wait()
                # A concurrent call elsewhere answers with a small limit before the
                # paced call ends: that is another endpoint's budget, not this one's.
                await client.list_tasks(owner="limited")
                go.set()
            assert limiter.limit == 512

            await limiter.run(client.list_tasks, owner="limited")
            assert limiter.limit == 7


async def test_server_version_keeps_the_version_seen_and_hooks_hear_every_response() -> None:
    async with serve_app(_listing_app()) as port:
        async with CoderTasksClient(f"http://127.0.0.1:{port}", token="t") as client:
            heard: list[int] = []
            remove = client.on_response(lambda status, headers: heard.append(status))
            assert client.server_version is None
            await client.list_tasks(owner="versioned")
            await client.list_tasks(owner="plain")  # answers without the header
            assert client.server_version == "v2.30.0"
            assert heard == [200, 200]
            remove()
            await client.list_tasks()
            assert heard == [200, 200]


async def test_hooks_hear_each_attempt_of_a_retried_call(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    from coder_tasks_async.testing import Fault

    fake_coder.faults.add(Fault("list", "status", times=2, status=503))
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=fake_clock, api="experimental"
    ) as c:
        heard: list[int] = []
        c.on_response(lambda status, headers: heard.append(status))
        await c.list_tasks()
    assert heard == [503, 503, 200]
