"""A lone follower on the real clock (the system clock's sleep is asyncio's own)."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from coder_tasks_async import CoderTasksClient, EntryEvent, LogEvent, PollPolicy, Task, TaskState
from coder_tasks_async._polling.shared import pollers_of
from coder_tasks_async.testing import FakeCoder, Timings

pytestmark = pytest.mark.anyio

#: Fast enough for a test in real time; only events are waited on, never a duration.
TIMINGS = Timings(pending=0.0, initializing=0.0, chunk_interval=0.02, chunks=3)
QUICK = PollPolicy(initial=0.005, factor=1.0, maximum=0.005, jitter=0.0)


async def test_a_lone_follower_sleeps_on_asyncio_and_hands_out_each_entry_once() -> None:
    got: list[LogEvent] = []
    async with (
        FakeCoder(timings=TIMINGS) as fake,
        CoderTasksClient(fake.url, token=fake.token, wake="poll") as client,
    ):
        task = await client.create_task("hi", template_version_id=fake.template_version_id)
        chosen = []  # the sleep the poller chose (looked at once, then counted)
        slept: list[float] = []  # sleeps taken through it
        polls = 0

        async def counted(seconds: float) -> None:
            slept.append(seconds)
            await asyncio.sleep(seconds)

        def done(t: Task) -> bool:
            nonlocal polls
            polls += 1
            (poller,) = pollers_of(client).values()
            if poller._lone_sleep is not counted:
                chosen.append(poller._lone_sleep)
                poller._lone_sleep = counted
            return t.state is TaskState.IDLE and len(got) >= 3

        with anyio.fail_after(30):  # a bound, not a timing: it ends when the reply is done
            async with client.follow_logs(task, settled=True, poll=QUICK, until=done) as f:
                async for event in f:
                    got.append(event)
        assert pollers_of(client) == {}
    assert chosen == [asyncio.sleep]  # one poller, which chose asyncio's own sleep
    assert polls >= 2  # settled mode ends on two polls agreeing: a sleep between
    assert slept  # and the poller slept through the one it chose
    ids = [e.entry.id for e in got if isinstance(e, EntryEvent)]
    assert ids == sorted(set(ids)) == [0, 1, 2]  # settled: each entry once, in order
