"""Following, watching and waiting against FakeCoder on a fake clock (no wall-clock sleeps)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import pytest
from helpers import FAST, acquired

from coder_tasks_async import (
    AuthenticationError,
    CoderTasksClient,
    LogCursor,
    LogEvent,
    LogEventKind,
    PollPolicy,
    Task,
    TaskState,
    TaskStatus,
    WaitTimeoutError,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault, Timings

pytestmark = pytest.mark.anyio


async def collect(follower: AsyncIterator[LogEvent]) -> list[LogEvent]:
    return [event async for event in follower]


def summary(events: list[LogEvent]) -> list[tuple[str, int | None]]:
    return [(e.kind.value, e.entry.id if e.entry else None) for e in events]


async def new_task(fake: FakeCoder, coder: CoderTasksClient, prompt: str = "Fix it") -> Task:
    return await coder.create_task(prompt, template_version_id=fake.template_version_id)


async def test_live_follow_yields_new_entries_then_updates_of_the_growing_reply(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    async with coder.follow_logs(task, poll=FAST, until=lambda t: t.state is TaskState.IDLE) as f:
        events = await collect(f)
    kinds = summary(events)
    assert kinds[:3] == [("new", 0), ("new", 1), ("new", 2)]
    assert kinds[3:] and all(k == ("update", 2) for k in kinds[3:])
    contents = [e.entry.content for e in events if e.entry and e.entry.id == 2]
    assert len(set(contents)) == len(contents)  # an unchanged entry is never emitted twice
    final = fake_coder.task(task.id).entries[2]["content"]
    assert contents[-1] == final
    assert events[0].task_id == task.id
    assert events[0].task_name == task.name


async def test_settled_mode_yields_each_entry_exactly_once(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    async with coder.follow_logs(task, settled=True, poll=FAST, idle_timeout=5) as follower:
        events = await collect(follower)
    assert summary(events) == [("new", 0), ("new", 1), ("new", 2)]
    entries = fake_coder.task(task.id).entries
    assert [e.entry.content for e in events if e.entry] == [e["content"] for e in entries]


async def test_cursor_resumes_in_a_new_client_without_repeats_or_gaps(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    seen: list[tuple[int, str]] = []
    async with coder.follow_logs(task, settled=True, poll=FAST) as follower:
        async for event in follower:
            assert event.entry is not None
            seen.append((event.entry.id, event.entry.content))
            if event.entry.id == 1:
                break
    saved = follower.cursor.dumps()
    await coder.aclose()
    fake_clock.advance(30)  # the agent finishes its reply meanwhile
    async with CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=fake_clock) as again:
        await again.send_input(task, "And the docs", wait_ready=True)
        resumed = again.follow_logs(task, settled=True, cursor=saved, poll=FAST, idle_timeout=5)
        async with resumed:
            seen += [(e.entry.id, e.entry.content) async for e in resumed if e.entry]
    entries = fake_coder.task(task.id).entries
    assert seen == [(e["id"], e["content"]) for e in entries]
    assert LogCursor.loads(resumed.cursor.dumps()).last_id == entries[-1]["id"]


async def test_restart_of_the_agent_is_a_reset_without_repeats(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    events: list[LogEvent] = []
    with anyio.fail_after(30):  # a safety net against a hang, not a timing assertion
        async with coder.follow_logs(task, settled=True, poll=FAST) as follower:
            async for event in follower:
                events.append(event)
                if len(events) == 3:
                    fake_coder.restart_agent(task.id)
                if event.kind is LogEventKind.RESET:
                    break
            # The restarted agent's welcome screen is the first entry of a new
            # conversation: handed out again, even though its text is the same.
            await coder.send_input(task, "hello again", wait_ready=True, poll=FAST)
            async for event in follower:
                events.append(event)
                if event.entry is not None and event.entry.id == 1:
                    break
    assert summary(events) == [
        ("new", 0),
        ("new", 1),
        ("new", 2),
        ("reset", None),
        ("new", 0),
        ("new", 1),
    ]
    assert events[4].entry is not None and events[5].entry is not None
    assert events[4].entry.content == events[0].entry.content  # type: ignore[union-attr]
    assert events[5].entry.content == "hello again"


async def test_429_and_502_mid_follow_lose_nothing(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    fake_coder.faults.add(Fault(route="logs", kind="rate_limit", rate=0.3, retry_after=2))
    fake_coder.faults.add(Fault(route="logs", kind="html", rate=0.3))
    fake_coder.faults.add(Fault(route="get", kind="status", status=502, rate=0.2))
    async with coder.follow_logs(task, settled=True, poll=FAST, idle_timeout=8) as follower:
        events = await collect(follower)
    injected = {kind for _, kind in fake_coder.faults.injected}
    assert {"rate_limit", "html", "status"} <= injected
    entries = fake_coder.task(task.id).entries
    assert [e.entry.content for e in events if e.entry] == [e["content"] for e in entries]


async def test_break_and_cancel_mid_poll_leave_the_client_usable(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    async for _ in coder.follow_logs(task, poll=FAST):
        break
    assert acquired(coder) == 0
    slow = fake_coder.faults.add(Fault(route="logs", kind="latency", delay=5.0))
    with anyio.move_on_after(0.2) as scope:  # real time: the request is stuck in the server
        async with coder.follow_logs(task, poll=FAST) as follower:
            await collect(follower)
    assert scope.cancelled_caught
    assert acquired(coder) == 0
    fake_coder.faults.remove(slow)
    assert (await coder.get_task(task)).id == task.id
    with contextlib.suppress(RuntimeError):
        async with coder.follow_logs(task, poll=FAST) as follower:
            async for _ in follower:
                raise RuntimeError("the consumer's loop body failed")
    assert follower.closed
    assert acquired(coder) == 0
    assert (await coder.get_task(task)).id == task.id


async def test_following_a_deleted_task_ends_the_stream(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    events = []
    async with coder.follow_logs(task, poll=FAST) as follower:
        async for event in follower:
            events.append(event)
            if len(events) == 2:
                fake_coder.delete_out_of_band(task.id)
    assert len(events) >= 2
    assert follower.closed


async def test_auth_failure_raises_instead_of_retrying(fake_coder: FakeCoder) -> None:
    async with CoderTasksClient(fake_coder.url, token="AbCdEfGhIj-xxxxxxxxxxxxxxxxxxxxxx") as bad:
        with pytest.raises(AuthenticationError):
            await collect(bad.follow_logs("anything", poll=FAST))


async def test_until_terminal_stops_on_pause_like_states(
    fake_clock: FakeClock,
) -> None:
    async with FakeCoder(clock=fake_clock, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("x", template_version_id=fake.template_version_id)
            fake_clock.advance(20)
            fake.stop_out_of_band(task.id)  # the stop job runs ("unknown") before "paused"
            async with client.follow_logs(task, poll=FAST, until_terminal=True) as follower:
                events = await collect(follower)
            assert follower.task is not None
            assert follower.task.status is TaskStatus.PAUSED
            assert events  # the stored snapshot was read before stopping
            assert all(e.snapshot for e in events)


async def test_wait_for_status_and_timeout(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    active = await coder.wait_for(task, until="active", timeout=60, poll=FAST)
    assert active.status is TaskStatus.ACTIVE
    idle = await coder.wait_for(task, until=[TaskState.IDLE, TaskState.COMPLETE], poll=FAST)
    assert idle.state is TaskState.IDLE
    start = fake_clock.now()
    with pytest.raises(WaitTimeoutError) as info:
        await coder.wait_for(task, until=lambda t: False, timeout=7, poll=FAST)
    assert isinstance(info.value, TimeoutError)
    assert info.value.task is not None
    assert 7 <= fake_clock.now() - start < 9
    with pytest.raises(ValueError, match="neither"):
        await coder.wait_for(task, until="running")


async def test_watch_yields_only_changes(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    task = await new_task(fake_coder, coder)
    seen = [
        t async for t in coder.watch(task, poll=FAST, until=lambda t: t.state is TaskState.IDLE)
    ]
    statuses = [(t.status.value, t.state.value if t.state else None) for t in seen]
    assert statuses[0] == ("pending", None)
    # While initializing, v2.29+ makes up a "working" state: first the start job runs,
    # then the agent starts; each is a change.
    messages = [t.current_state.message for t in seen if t.status == "initializing"]
    assert messages == ["Workspace is starting", "Agent is starting"]
    assert ("active", "working") in statuses
    assert statuses[-1] == ("active", "idle")
    marks = [(t.status, t.state, t.current_state and t.current_state.message) for t in seen]
    assert len(marks) == len(set(marks))


async def test_send_input_wait_ready_sends_once_after_the_agent_idles(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    await coder.send_input(task, "Now write tests", wait_ready=True, poll=FAST)
    assert [text for _, text, _ in fake_coder.deliveries] == ["Now write tests"]
    sends = [r for r in fake_coder.requests if r.route == "send"]
    assert len(sends) == 1  # waited for readiness instead of hammering a busy agent
    assert (await coder.get_task(task)).state is TaskState.WORKING


async def test_send_input_wait_ready_retries_only_proven_refusals(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    await coder.wait_for(task, until="idle", poll=FAST)
    # Two senders see the same idle agent; the second send is refused as busy
    # (nothing delivered), so that client waits for the agent and sends again.  Two
    # clients: in one client both waits would share one poller, and the second wait's
    # fresh read would already see the first input's agent at work.
    async with (
        CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=fake_clock) as other,
        anyio.create_task_group() as tg,
    ):
        for client, text in ((coder, "first"), (other, "second")):
            tg.start_soon(
                lambda c=client, t=text: c.send_input(task, t, wait_ready=True, poll=FAST)
            )
    assert sorted(text for _, text, _ in fake_coder.deliveries) == ["first", "second"]
    busy = 409 if fake_coder.profile.has("busy_is_conflict") else 502
    refused = [r for r in fake_coder.requests if r.route == "send" and r.status == busy]
    assert len(refused) >= 1


async def test_slow_start_is_waited_out_by_the_follower(fake_clock: FakeClock) -> None:
    timings = Timings(pending=20, initializing=20)
    async with FakeCoder(clock=fake_clock, timings=timings) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("x", template_version_id=fake.template_version_id)
            async with client.follow_logs(task, settled=True, poll=FAST, idle_timeout=5) as f:
                events = await collect(f)
            assert summary(events) == [("new", 0), ("new", 1), ("new", 2)]
            assert fake_clock.now() >= 40


async def test_client_wide_poll_policy_is_the_default(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    slow = PollPolicy(initial=7.0, maximum=7.0, jitter=0.0)
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=fake_clock, poll=slow
    ) as client:
        task = await client.create_task("x", template_version_id=fake_coder.template_version_id)
        start = fake_clock.now()
        await client.wait_for(task, until="active")
        # Polls at 0 and 7 s: the task turned active at 3 s and was seen at the second poll.
        assert fake_clock.now() - start == pytest.approx(7.0)


async def test_resuming_a_task_deleted_meanwhile_ends_cleanly(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await new_task(fake_coder, coder)
    async with coder.follow_logs(task, poll=FAST) as follower:
        async for _ in follower:
            break
    saved = follower.cursor.dumps()
    await coder.delete_task(task)
    resumed = coder.follow_logs(task, cursor=saved, poll=FAST)
    assert [event async for event in resumed] == []
    assert resumed.closed
