"""Followers of one task in one client share one poller and one watch stream (issue 27).

Each follower keeps its own cursor, mode and pace; N of them cost one follower's
requests; a late one gets the conversation so far; cancelling one disturbs no other;
the last one out closes the stream and nothing is left running.  The property-based
proof (followers joining and leaving at random) is in test_shared_properties.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import anyio
import pytest
from helpers import FAST, eventually, tick

from coder_tasks_async import CoderTasksClient, LogEvent, Task, TaskState
from coder_tasks_async._polling.shared import pollers_of
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio


def reads(fake: FakeCoder, task: Task) -> Counter[str]:
    """Requests about ``task`` by route (``get`` and ``logs``)."""
    return Counter(r.route or "" for r in fake.requests if str(task.id) in r.path)


def entries(events: list[LogEvent]) -> list[tuple[int, str]]:
    return [(e.entry.id, e.entry.content) for e in events if e.entry is not None]


async def follow_together(
    fake: FakeCoder, clock: FakeClock, client: CoderTasksClient, task: Task, n: int
) -> list[list[LogEvent]]:
    """``n`` settled followers of ``task`` for the whole first reply and 30 s of idling."""
    got: list[list[LogEvent]] = [[] for _ in range(n)]

    async def follow(out: list[LogEvent]) -> None:
        async with client.follow_logs(task, settled=True, poll=FAST) as follower:
            async for event in follower:
                out.append(event)

    async with anyio.create_task_group() as tg:
        for out in got:
            tg.start_soon(follow, out)
        for _ in range(80):
            await tick(clock, fake, 0.5, pollers=n)
        tg.cancel_scope.cancel()
    return got


@pytest.mark.parametrize("wake", ["poll", "auto"])
async def test_five_followers_cost_one_followers_requests_and_see_the_same(wake: str) -> None:
    counts = []
    seen = []
    for n in (1, 5):
        clock = FakeClock(autojump=False)
        async with (
            FakeCoder(clock=clock) as fake,
            CoderTasksClient(fake.url, token=fake.token, clock=clock, wake=wake) as client,  # type: ignore[arg-type]
        ):
            task = await client.create_task("hi", template_version_id=fake.template_version_id)
            got = await follow_together(fake, clock, client, task, n)
            counts.append(reads(fake, task))
            seen.append([entries(events) for events in got])
            assert fake.watch.opened["ws"] == (wake == "auto")
            assert pollers_of(client) == {}  # everyone left: the poller is gone
            assert client.streams_open == 0
    solo, five = counts
    if wake == "poll":
        assert five == solo, (solo, five)
    else:
        # On a manual clock a watch event lands a tick apart from one run to the other,
        # which can move one read; never more than that.
        assert five["logs"] == solo["logs"] and five["get"] <= solo["get"] + 1, (solo, five)
    final = seen[0][0]
    assert [e[0] for e in final] == [0, 1, 2]
    assert all(one == final for one in seen[1])  # each exactly what the solo follower saw


async def test_a_late_follower_gets_the_conversation_so_far_and_its_own_mode(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, client = manual
    task = await client.create_task("hi", template_version_id=fake.template_version_id)
    first: list[LogEvent] = []
    late: list[LogEvent] = []

    async def follow(out: list[LogEvent], settled: bool) -> None:
        async with client.follow_logs(task, settled=settled, poll=FAST) as follower:
            async for event in follower:
                out.append(event)

    async with anyio.create_task_group() as tg:
        tg.start_soon(follow, first, True)
        while len(first) < 3:  # the whole first reply, settled
            await tick(clock, fake, 0.5)
        before = reads(fake, task)
        tg.start_soon(follow, late, False)
        await eventually(lambda: len(late) == 3, "the late follower caught up")
        assert reads(fake, task) - before == Counter(get=1, logs=1)  # one read for it
        tg.cancel_scope.cancel()
    assert entries(late) == entries(first)  # live mode: each entry NEW once, final already
    assert all(e.kind.value == "new" for e in late)


async def test_cancelling_one_follower_mid_read_disturbs_no_other(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("hi", template_version_id=fake_coder.template_version_id)
    survivor: list[LogEvent] = []
    cancelled = 0

    async def follow_until_cancelled(scope: anyio.CancelScope) -> None:
        nonlocal cancelled
        with scope:
            async with coder.follow_logs(task, settled=True, poll=FAST) as follower:
                async for _ in follower:
                    pass
        cancelled += scope.cancel_called

    async def survive() -> None:
        async with coder.follow_logs(task, settled=True, poll=FAST, idle_timeout=30) as f:
            async for event in f:
                survivor.append(event)

    async with anyio.create_task_group() as tg:
        tg.start_soon(survive)
        for _ in range(20):  # followers come and go, each cancelled in mid read
            scope = anyio.CancelScope()
            tg.start_soon(follow_until_cancelled, scope)
            for _ in range(3):
                await asyncio.sleep(0)
            scope.cancel()
            await fake_clock.sleep(0.3)
    assert cancelled == 20
    assert [e.entry.id for e in survivor if e.entry] == [0, 1, 2]
    assert pollers_of(coder) == {}
    assert coder.streams_open == 0


async def test_nothing_is_left_running_once_every_follower_left(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, client = manual
    task = await client.create_task("hi", template_version_id=fake.template_version_id)
    before = asyncio.all_tasks()
    got: list[LogEvent] = []

    async def follow() -> None:
        async with client.follow_logs(task, settled=True, poll=FAST) as follower:
            async for event in follower:
                got.append(event)

    async def watch() -> None:
        async with client.watch(task) as watcher:
            async for _ in watcher:
                pass

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(follow)
        tg.start_soon(watch)
        while len(got) < 9:
            await tick(clock, fake, 0.5, pollers=4)
        assert len(pollers_of(client)) == 1
        assert client.streams_open == 1
        tg.cancel_scope.cancel()
    await eventually(lambda: fake.watch.open_streams == 0, "the stream closed")
    assert pollers_of(client) == {}
    assert client.streams_open == 0

    def left() -> list[asyncio.Task[object]]:
        return [
            t
            for t in asyncio.all_tasks() - before - {asyncio.current_task()}
            if "RequestHandler" not in repr(t)  # the fake server's own connections
        ]

    await eventually(lambda: not left(), "every task of the followers finished")


async def test_wait_for_a_followed_task_rides_its_poller() -> None:
    counts: list[list[str | None]] = []
    for waits in (False, True):
        clock = FakeClock(autojump=False)
        async with (
            FakeCoder(clock=clock) as fake,
            CoderTasksClient(fake.url, token=fake.token, clock=clock, wake="poll") as client,
        ):
            task = await client.create_task("hi", template_version_id=fake.template_version_id)
            done: list[Task] = []

            async def follow(c: CoderTasksClient = client, t: Task = task) -> None:
                async with c.follow_logs(t, settled=True, poll=FAST) as follower:
                    async for _ in follower:
                        pass

            async def wait(
                c: CoderTasksClient = client, t: Task = task, done: list[Task] = done
            ) -> None:
                done.append(await c.wait_for(t, until=TaskState.IDLE, poll=FAST, timeout=60))

            async with anyio.create_task_group() as tg:
                tg.start_soon(follow)
                await tick(clock, fake, 0.5)
                if waits:
                    tg.start_soon(wait)
                    await eventually(lambda c=client: len(pollers_of(c)) == 1, "one poller")
                for _ in range(30):
                    await tick(clock, fake, 0.5, pollers=1 + (waits and not done))
                tg.cancel_scope.cancel()
            assert done or not waits
            counts.append([r.route for r in fake.requests if str(task.id) in r.path])
    alone, with_wait = counts

    def split(routes: list[str | None]) -> tuple[int, list[str | None]]:
        """Task reads while the task starts; the reads once it serves its conversation."""
        first = routes.index("logs") - 1
        return first, routes[first:]

    (starting, serving), (starting_too, serving_too) = split(alone), split(with_wait)
    # The wait's first read is a fresh one of its own, and while the task starts it asks
    # at its own (faster) pace; once the follower reads the conversation the wait rides
    # its polls: not one read more.
    assert serving_too == serving
    assert starting_too <= starting + 2, (alone, with_wait)
