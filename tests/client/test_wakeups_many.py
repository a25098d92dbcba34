"""Wake-ups for many tasks and for waits: follow_many, watch_many, watch and wait_for."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from helpers import FAST, eventually, tick

from coder_tasks_async import CoderTasksClient, LogEvent, Task, TaskState
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio


async def idle_tasks(
    fake: FakeCoder, clock: FakeClock, client: CoderTasksClient, n: int
) -> list[Task]:
    """``n`` tasks whose first reply is finished (their agents idle)."""
    tasks = [
        await client.create_task(f"fix {i}", template_version_id=fake.template_version_id)
        for i in range(n)
    ]
    clock.advance(10)
    return tasks


def polls(fake: FakeCoder) -> int:
    """Requests a poller makes (the watch streams are not counted: they stay open)."""
    return sum(1 for r in fake.requests if r.route in ("list", "get", "logs"))


async def test_follow_many_over_idle_tasks_asks_the_server_little_with_streams(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, client = manual
    tasks = await idle_tasks(fake, clock, client, 5)
    counts: dict[str, int] = {}
    for wake in ("poll", "auto"):
        got: list[LogEvent] = []
        async with client.follow_many(tasks, settled=True, wake=wake) as many:  # type: ignore[arg-type]

            async def consume(
                events: AsyncIterator[LogEvent] = many, out: list[LogEvent] = got
            ) -> None:
                async for event in events:
                    out.append(event)

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                while len(got) < 15:  # the settled rule needs quiet polls: let time pass
                    await tick(clock, fake, 0.5)
                if wake == "auto":
                    await eventually(lambda: client.streams_open == 5, "a stream per task")
                for _ in range(10):  # the polls that confirm the last delivery
                    await tick(clock, fake, 1)
                before = polls(fake)
                for _ in range(300):  # five idle minutes in one-second steps
                    await tick(clock, fake, 1)
                counts[wake] = polls(fake) - before
                tg.cancel_scope.cancel()
        assert client.streams_open == 0
    assert counts["poll"] >= 30  # a list call every 10 s at most, plus logs
    assert counts["auto"] <= 3, counts  # one list call per 150 s, no logs


async def test_follow_many_listens_to_at_most_max_streams_and_polls_the_rest(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tasks = [
        await coder.create_task(f"t{i}", template_version_id=fake_coder.template_version_id)
        for i in range(5)
    ]
    seen: dict[str, list[int]] = {}
    async with coder.follow_many(
        tasks, settled=True, max_streams=2, poll=FAST, idle_timeout=20
    ) as many:
        async for event in many:
            assert event.entry is not None
            seen.setdefault(event.task_name, []).append(event.entry.id)
            assert coder.streams_open <= 2
    assert seen == {t.name: [0, 1, 2] for t in tasks}
    assert fake_coder.watch.opened["ws"] == 2
    assert coder.streams_open == 0
    with pytest.raises(ValueError, match="max_streams"):
        coder.follow_many(tasks, max_streams=-1)
    for bad in (
        lambda: coder.follow_many(tasks, wake="sometimes"),  # type: ignore[arg-type]
        lambda: coder.watch_many(tasks, wake="sometimes"),  # type: ignore[arg-type]
        lambda: coder.watch(tasks[0], wake="sometimes"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match="wake must be 'auto' or 'poll'"):
            bad()


async def test_follow_many_hears_an_input_at_once(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, client = manual
    tasks = await idle_tasks(fake, clock, client, 3)
    got: list[LogEvent] = []
    async with client.follow_many(tasks, poll=FAST) as many:

        async def consume() -> None:
            async for event in many:
                got.append(event)

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await eventually(lambda: len(got) == 9 and client.streams_open == 3, "streams open")
            for _ in range(60):  # a quiet minute: the list call slows down
                await tick(clock, fake, 1)
            async with CoderTasksClient(
                fake.url, token=fake.token, clock=clock, wake="poll"
            ) as other:
                await other.send_input(tasks[1], "and the tests")
            # No clock move: only the watch event can make the follower poll now.
            at = clock.now()
            await eventually(lambda: len(got) >= 10, "the input entry")
            assert clock.now() == at
            tg.cancel_scope.cancel()
    assert got[9].task_id == tasks[1].id
    assert got[9].entry is not None and got[9].entry.content == "and the tests"


async def test_wait_for_and_watch_return_on_an_event_without_the_clock_moving(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, client = manual
    (task,) = await idle_tasks(fake, clock, client, 1)
    results: list[Task] = []

    async def wait() -> None:
        results.append(await client.wait_for(task, until=TaskState.WORKING, timeout=600))

    async def watch() -> None:
        async with client.watch(task) as watcher:
            async for snapshot in watcher:
                if snapshot.state is TaskState.WORKING:
                    results.append(snapshot)
                    return

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        tg.start_soon(watch)
        # One task in one client: the wait and the watch share its poller and stream.
        await eventually(lambda: client.streams_open == 1, "the shared stream open")
        clock.advance(30)  # long enough for the pace to slow
        async with CoderTasksClient(fake.url, token=fake.token, clock=clock, wake="poll") as other:
            await other.send_input(task, "more")
        at = clock.now()
        await eventually(lambda: len(results) == 2, "both saw the agent work")
        assert clock.now() == at
    assert all(t.state is TaskState.WORKING for t in results)
    assert client.streams_open == 0


async def test_watchers_close_their_streams_on_every_exit(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("hi", template_version_id=fake_coder.template_version_id)
    async for _ in coder.watch(task, poll=FAST, until=TaskState.IDLE):
        pass
    async for _ in coder.watch_many([task], poll=FAST, until=TaskState.IDLE):
        pass
    async for _ in coder.watch(task, poll=FAST, until=lambda t: coder.streams_open > 0):
        pass  # ends on the poll after the stream opened
    assert fake_coder.watch.opened["ws"] >= 1
    assert coder.streams_open == 0
    await eventually(lambda: fake_coder.watch.open_streams == 0, "the fake saw every close")
