"""The concurrency cap over real HTTP: calls queue for a slot in order, a call cancelled
while it queues is never sent, and no slot is lost to it."""

from __future__ import annotations

import anyio
import pytest
from aiohttp import web
from helpers import acquired, serve_app

from coder_tasks_async import CoderTasksClient

pytestmark = pytest.mark.anyio

TOKEN = "slots0000-abcdefghijklmnopqrstuv"


async def test_a_call_cancelled_while_queued_is_not_sent_and_frees_nothing_twice() -> None:
    seen: list[str] = []
    arrived = anyio.Event()
    release = anyio.Event()

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.query.get("q", ""))
        arrived.set()
        await release.wait()
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    order: list[str] = []
    async with serve_app(app) as port:
        async with CoderTasksClient(
            f"http://127.0.0.1:{port}", token=TOKEN, api="v2", max_concurrency=1
        ) as coder:

            async def call(label: str) -> None:
                await coder.list_tasks(query=label)
                order.append(label)

            with anyio.fail_after(10):  # a lost slot would hang the later calls
                async with anyio.create_task_group() as tg:
                    tg.start_soon(call, "first")  # holds the only slot
                    await arrived.wait()
                    async with anyio.create_task_group() as queued:
                        queued.start_soon(call, "cancelled")
                        await anyio.wait_all_tasks_blocked()
                        queued.cancel_scope.cancel()
                    tg.start_soon(call, "second")
                    await anyio.wait_all_tasks_blocked()
                    tg.start_soon(call, "third")
                    await anyio.wait_all_tasks_blocked()
                    release.set()
                await call("after")
            assert acquired(coder) == 0
    assert order == ["first", "second", "third", "after"]
    assert not any("cancelled" in q for q in seen), seen
    assert len(seen) == 4
