"""follow_many / watch_many: one list call per interval, logs only where news can be."""

from __future__ import annotations

from collections import Counter

import anyio
import pytest
from helpers import FAST

from coder_tasks_async import (
    CoderTasksClient,
    LogCursor,
    LogEvent,
    NotFoundError,
    PermissionDeniedError,
    Task,
    TaskState,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio


async def create(fake: FakeCoder, coder: CoderTasksClient, n: int) -> list[Task]:
    return [
        await coder.create_task(f"job {i}", template_version_id=fake.template_version_id)
        for i in range(n)
    ]


async def test_follow_many_merges_streams_with_one_list_call_per_interval(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tasks = await create(fake_coder, coder, 5)
    events: list[LogEvent] = []
    # Polling only: with the watch streams, an idle event may also cost one confirming
    # read of its task (test_wakeups.py::test_idle_event_settles_the_reply_after_one_poll_
    # without_the_clock_moving), depending on when the event arrives.
    async with coder.follow_many(
        tasks, settled=True, poll=FAST, idle_timeout=4, wake="poll"
    ) as stream:
        async for event in stream:
            events.append(event)
    by_task: dict[str, list[str]] = {}
    for event in events:
        assert event.entry is not None
        by_task.setdefault(event.task_name, []).append(event.entry.content)
    for task in tasks:
        truth = [e["content"] for e in fake_coder.task(task.id).entries]
        assert by_task[task.name] == truth  # every entry once, in order, per task
    routes = Counter(r.route for r in fake_coder.requests)
    assert routes["get"] == 0  # statuses come from the list, never one get per task
    assert routes["list"] >= 5
    # Logs were not fetched for every task on every interval: quiet tasks are skipped.
    assert routes["logs"] < routes["list"] * len(tasks)


async def test_follow_many_resumes_each_task_from_saved_cursors(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    tasks = await create(fake_coder, coder, 3)
    first: list[LogEvent] = []
    async with coder.follow_many(tasks, settled=True, poll=FAST) as stream:
        async for event in stream:
            first.append(event)
            if len(first) == 4:
                break
        saved = {task_id: c.dumps() for task_id, c in stream.cursors.items()}
    rest: list[LogEvent] = []
    async with coder.follow_many(
        tasks, settled=True, cursors=saved, poll=FAST, idle_timeout=4
    ) as stream:
        rest = [event async for event in stream]
    seen = Counter((e.task_id, e.entry.id) for e in first + rest if e.entry)
    assert set(seen.values()) == {1}
    assert sum(len(fake_coder.task(t.id).entries) for t in tasks) == len(seen)


async def test_follow_many_ends_a_deleted_task(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tasks = await create(fake_coder, coder, 2)
    names: set[str] = set()
    async with coder.follow_many(tasks, poll=FAST, idle_timeout=4) as stream:
        async for event in stream:
            names.add(event.task_name)
            if event.task_name == tasks[0].name and not fake_coder.task(tasks[0].id).deleted:
                fake_coder.delete_out_of_band(tasks[0].id)
    assert names == {t.name for t in tasks}


async def test_watch_many_yields_changes_of_all_tasks(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tasks = await create(fake_coder, coder, 3)
    seen = [
        t
        async for t in coder.watch_many(tasks, poll=FAST, until=lambda t: t.state is TaskState.IDLE)
    ]
    for task in tasks:
        mine = [
            (
                t.status.value,
                t.state.value if t.state else None,
                t.current_state and t.current_state.message,
            )
            for t in seen
            if t.id == task.id
        ]
        assert mine[0] == ("pending", None, None)
        assert mine[-1][:2] == ("active", "idle")
        assert len(mine) == len(set(mine))  # one snapshot per change, none repeated
    assert Counter(r.route for r in fake_coder.requests)["get"] == 0


async def test_follow_many_and_watch_many_take_names_like_every_other_method(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tasks = await create(fake_coder, coder, 2)
    refs = [tasks[0].name, f"{tasks[1].owner_name}/{tasks[1].name}"]
    events = [e async for e in coder.follow_many(refs, settled=True, poll=FAST, idle_timeout=4)]
    assert {e.task_id for e in events} == {t.id for t in tasks}
    watched = [
        t
        async for t in coder.watch_many(refs, poll=FAST, until=lambda t: t.state is TaskState.IDLE)
    ]
    assert {t.id for t in watched} == {t.id for t in tasks}
    with pytest.raises(NotFoundError):
        async for _ in coder.follow_many(["no-such-task"], poll=FAST):
            pass
    with pytest.raises(ValueError, match="task reference"):
        coder.follow_many(["a/b/c"])


async def test_follow_many_raises_the_error_itself(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    tasks = await create(fake_coder, coder, 2)
    fake_coder.faults.add(Fault(route="logs", kind="status", status=403))

    async def consume() -> None:
        async with coder.follow_many(tasks, poll=FAST) as stream:
            async for _ in stream:
                pass

    with pytest.raises(PermissionDeniedError):
        await consume()


async def test_follow_many_follows_tasks_outside_the_listing(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    bob = fake_coder.add_user("bob")
    admin = fake_coder.add_user("root", owner=True)
    async with (
        CoderTasksClient(fake_coder.url, token=bob.token, clock=fake_clock) as bob_client,
        CoderTasksClient(fake_coder.url, token=admin.token, clock=fake_clock) as admin_client,
    ):
        task = await bob_client.create_task("x", template_version_id=fake_coder.template_version_id)
        # The admin lists their own tasks ("me"), so bob's task is fetched by id.
        async with admin_client.follow_many([task], settled=True, poll=FAST, idle_timeout=4) as s:
            events = [e async for e in s]
        assert [e.entry.id for e in events if e.entry] == [0, 1, 2]


async def test_follow_logs_of_a_wrong_name_raises(coder: CoderTasksClient) -> None:
    with pytest.raises(NotFoundError):
        async for _ in coder.follow_logs("no-such-task", poll=FAST):
            pass


async def test_an_empty_cursor_passed_in_is_the_one_that_advances(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    (task,) = await create(fake_coder, coder, 1)
    cursor = LogCursor()
    async with coder.follow_logs(task, cursor=cursor, poll=FAST) as follower:
        async for _ in follower:
            break
    assert follower.cursor is cursor
    assert cursor.last_id == 0


@pytest.mark.parametrize("fault", ["latency", "forbidden"])
async def test_an_interrupted_interval_neither_loses_nor_repeats_events(
    fake_coder: FakeCoder, coder: CoderTasksClient, fault: str
) -> None:
    tasks = await create(fake_coder, coder, 2)
    await coder.wait_for(tasks[1], until="idle", poll=FAST)
    if fault == "latency":  # one logs poll hangs; the caller gives up on that interval
        fake_coder.faults.add(Fault(route="logs", kind="latency", delay=2.0, times=1))
    else:  # one logs poll fails; the caller catches it and goes on
        fake_coder.faults.add(Fault(route="logs", kind="status", status=403, times=1))
    seen: list[tuple[object, int]] = []
    stream = coder.follow_many(tasks, settled=True, poll=FAST, idle_timeout=4)
    with anyio.move_on_after(0.5):  # real time: the hung request is on the server
        try:
            async for event in stream:
                assert event.entry is not None
                seen.append((event.task_id, event.entry.id))
        except PermissionDeniedError:
            pass
    async with stream:
        seen += [(e.task_id, e.entry.id) async for e in stream if e.entry is not None]
    expected = {(t.id, e["id"]) for t in tasks for e in fake_coder.task(t.id).entries}
    assert sorted(seen, key=str) == sorted(expected, key=str)  # each exactly once


async def test_missing_id_errors_are_raised_plainly(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    bob = fake_coder.add_user("bob")
    async with CoderTasksClient(fake_coder.url, token=bob.token, clock=fake_clock) as bob_client:
        task = await bob_client.create_task("x", template_version_id=fake_coder.template_version_id)
    # Not in alice's listing, so fetched by id: that fetch is refused.
    fake_coder.faults.add(Fault(route="get", kind="status", status=403))

    async def first_event() -> None:
        async with coder.follow_many([task], poll=FAST) as stream:
            await anext(aiter(stream))

    with pytest.raises(PermissionDeniedError):
        await first_event()
