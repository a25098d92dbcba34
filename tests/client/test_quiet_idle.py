"""Quiet idle tasks (issue 27): with a watch stream open, an idle task is read only when
the stream says something changed, plus a slow safety read of the task alone.

The stream's keep-alive is not a read: coderd pings a websocket with ping frames (never
messages) and an event stream with ``event: ping``; both keep the stream alive, so an
idle stream is never taken for a stalled one and reopened.
"""

from __future__ import annotations

from collections import Counter

import anyio
import pytest
from helpers import eventually, tick

from coder_tasks_async import CoderTasksClient, LogEvent, Task
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

IDLE_MINUTES = 10


def reads(fake: FakeCoder, task: Task) -> Counter[str]:
    return Counter(r.route or "" for r in fake.requests if str(task.id) in r.path)


@pytest.mark.parametrize("mode", ["ws", "sse"])
async def test_an_idle_settled_follower_reads_the_task_alone_at_most_once_a_minute(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient], mode: str
) -> None:
    fake, clock, client = manual
    fake.watch.faults.refuse_ws = mode == "sse"
    task = await client.create_task("fix the login", template_version_id=fake.template_version_id)
    clock.advance(10)  # the first reply is done: the agent idles
    got: list[LogEvent] = []
    async with client.follow_logs(task, settled=True) as follower:

        async def consume() -> None:
            async for event in follower:
                got.append(event)

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            while len(got) < 3:
                await tick(clock, fake, 0.5)
            # The stream's connect snapshot is in (on a manual clock the test could
            # otherwise move time on faster than loopback delivers it).
            await eventually(lambda: follower.waker.signal is not None, "the snapshot")
            before = reads(fake, task)
            pings = fake.watch.ping_frames
            for _ in range(IDLE_MINUTES * 60):
                await tick(clock, fake, 1)
            idle = reads(fake, task) - before
            tg.cancel_scope.cancel()
    assert fake.watch.opened == {"ws": mode == "ws", "sse": mode == "sse"}  # never reopened
    if mode == "ws":
        assert fake.watch.ping_frames - pings >= IDLE_MINUTES * 60 // 15 - 1  # kept alive
    assert idle["logs"] == 0, idle  # nothing changed: the conversation is not read again
    assert 1 <= idle["get"] <= IDLE_MINUTES, idle  # a safety read, at most one a minute
