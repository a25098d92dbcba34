"""A fleet answers as fast as one follower: the stream's word reaches every worker.

On a clock that moves only when the test says so.  Only the lister reads the task
list; the others read its roster, which is as old as the lister's last interval
(up to ``lease / 3`` when its own tasks are quiet).  A worker whose task's stream
says the agent finished must read that task itself, or the finished reply waits
for the roster (10 s with ``lease=30``).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest
from helpers import FAST, WAKE_TIMINGS, eventually, tick

from coder_tasks_async import CoderTasksClient, EntryEvent, FleetFollower, SQLiteCursorStore
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

#: The bound of the first phase, in fake seconds (the clock moves in steps of ``STEP``).
BOUND = 60.0
STEP = 0.25


async def test_a_worker_that_does_not_list_hands_out_a_finished_reply_at_once(
    tmp_path: Path,
) -> None:
    clock = FakeClock(autojump=False)
    async with FakeCoder(clock=clock, timings=WAKE_TIMINGS) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=clock, wake="poll") as admin:
            for i in range(2):
                await admin.create_task(f"job {i}", template_version_id=fake.template_version_id)
            clock.advance(10)  # every first reply is finished
            got: dict[str, list[tuple[EntryEvent, float]]] = {"a": [], "b": []}
            fleets: dict[str, FleetFollower] = {}
            clients: dict[str, CoderTasksClient] = {}

            async def consume(name: str) -> None:
                async for event in fleets[name]:
                    if isinstance(event, EntryEvent):
                        got[name].append((event, clock.now()))

            async with AsyncExitStack() as stack:
                for name in got:
                    clients[name] = client = await stack.enter_async_context(
                        CoderTasksClient(fake.url, token=fake.token, clock=clock)
                    )
                    store = SQLiteCursorStore(tmp_path / "fleet.sqlite3", now=clock.now)
                    stack.push_async_callback(store.aclose)
                    fleets[name] = await stack.enter_async_context(
                        client.follow_fleet(store, worker=name, settled=True, lease=30, poll=FAST)
                    )
                async with anyio.create_task_group() as tg:
                    for name in got:
                        tg.start_soon(consume, name)
                    # Each worker comes to hold one task and listens to its stream; every
                    # first turn is delivered.
                    for _ in range(int(BOUND / STEP)):
                        await tick(clock, fake, STEP, pollers=2)
                        shared = all(len(fleet.held) == 1 for fleet in fleets.values())
                        listening = all(c.streams_open == 1 for c in clients.values())
                        if shared and listening and sum(map(len, got.values())) == 6:
                            break
                    # Quiet for a while: the streams' first word is in, and a wake-up is
                    # due at once again (news ends a wait at most once a second).
                    for _ in range(int(2.0 / STEP)):
                        await tick(clock, fake, STEP, pollers=2)
                    (listing,) = [name for name, fleet in fleets.items() if fleet.is_lister]
                    (other,) = set(got) - {listing}
                    (task_id,) = fleets[other].held
                    before = len(got[other])  # the first turn may have come from the other
                    await admin.send_input(task_id, "and the docs")
                    # The stream says the agent works: the input comes out at once.
                    await eventually(lambda: len(got[other]) == before + 1, "the input entry")
                    done = clock.now() + WAKE_TIMINGS.reply_duration
                    while clock.now() < done:
                        await tick(clock, fake, STEP, pollers=2)
                    # The stream says the agent finished: the reply comes out now, as with
                    # one follow_logs, without waiting for the lister's next roster.
                    at = clock.now()
                    await eventually(lambda: len(got[other]) == before + 2, "the finished reply")
                    assert clock.now() == at
                    tg.cancel_scope.cancel()
    reply, handed_at = got[other][-1]
    assert reply.entry.id == 4 and reply.task_id == task_id and handed_at == at
