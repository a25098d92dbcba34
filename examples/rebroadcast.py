"""Re-stream one task's conversation to many browsers, without a hub of your own.

An aiohttp.web server with one server-sent-events endpoint per task.  Each browser that
connects gets its own ``follow_logs``: its own cursor and mode, the conversation so far
when it joins late, and a resume from ``Last-Event-ID`` (the cursor) when it reconnects.
The SDK shares the polling: every follower of one task in one client rides one poller and
one watch stream, so 20 browsers cost Coder what one follower costs.

    python examples/rebroadcast.py

Then, against your own deployment, ``curl -N localhost:PORT/tasks/<task id>/events``.
"""

from __future__ import annotations

import json
from uuid import UUID

import aiohttp
import anyio
from _connect import connect
from aiohttp import web

from coder_tasks_async import CoderTasksClient, EntryEvent, TaskLogType

BROWSERS = 20
#: Seconds the demo may take before it gives up with ``TimeoutError``.
BOUND = 60.0


def app_for(coder: CoderTasksClient) -> web.Application:
    """The web app: ``GET /tasks/{task_id}/events`` streams that task's conversation."""

    async def events(request: web.Request) -> web.StreamResponse:
        task_id = UUID(request.match_info["task_id"])
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        # A reconnecting browser sends back the id of the last event it got: its cursor.
        cursor = request.headers.get("Last-Event-ID") or None
        try:
            async with coder.follow_logs(task_id, settled=True, cursor=cursor) as follower:
                async for event in follower:
                    if isinstance(event, EntryEvent):
                        data = {"id": event.entry.id, "type": event.entry.type.value}
                        data["content"] = event.entry.content
                    else:
                        data = {"event": event.kind.value}
                    line = f"id: {follower.cursor.dumps()}\ndata: {json.dumps(data)}\n\n"
                    await response.write(line.encode())
        except ConnectionResetError:
            pass  # the browser left: its follower ends, the others go on
        return response

    app = web.Application()
    app.router.add_get("/tasks/{task_id}/events", events)
    return app


async def browser(url: str, replies: list[str]) -> None:
    """One browser: reads the stream until the agent's first reply arrives."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        async for line in response.content:
            if line.startswith(b"data: "):
                data = json.loads(line[6:])
                if data.get("type") == TaskLogType.OUTPUT.value:
                    replies.append(data["content"])
                    return


async def main() -> None:
    with anyio.fail_after(BOUND):
        async with connect() as (coder, template_version):
            requests = 0

            def count(status: int, headers: object) -> None:
                nonlocal requests
                requests += 1

            task = await coder.create_task(
                "Summarise the open issues", template_version_id=template_version
            )
            runner = web.AppRunner(app_for(coder), handler_cancellation=True)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            url = f"http://127.0.0.1:{port}/tasks/{task.id}/events"
            print(f"serving {url}")
            coder.on_response(count)
            replies: list[str] = []
            try:
                async with anyio.create_task_group() as tg:
                    for _ in range(BROWSERS):
                        tg.start_soon(browser, url, replies)
            finally:
                await runner.cleanup()
            print(f"{len(replies)} browsers got the agent's reply ({len(replies[0])} characters)")
            print(f"{requests} requests to Coder for {BROWSERS} browsers")
            await coder.delete_task(task)


if __name__ == "__main__":
    anyio.run(main)
