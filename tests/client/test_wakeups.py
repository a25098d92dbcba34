"""Wake-ups: followers listen to the workspace watch stream; polling stays the source of truth."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import anyio
import pytest
from helpers import FAST, eventually, tick
from helpers import WAKE_TIMINGS as TIMINGS

from coder_tasks_async import CoderTasksClient, LogEvent, PollPolicy, Task, TaskState
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault, Timings

pytestmark = pytest.mark.anyio


async def started(fake: FakeCoder, clock: FakeClock, client: CoderTasksClient) -> Task:
    """A task whose first reply is finished (the agent idles)."""
    task = await client.create_task("fix the login", template_version_id=fake.template_version_id)
    clock.advance(10)
    return task


def task_gets(fake: FakeCoder, task: Task) -> int:
    return sum(1 for r in fake.requests if r.route == "get" and str(task.id) in r.path)


@pytest.mark.parametrize(
    ("refuse_ws", "refuse", "mode"),
    [(False, False, "ws"), (True, False, "sse"), (True, True, "poll")],
)
async def test_follower_takes_websocket_else_event_stream_else_polls_and_logs_its_mode(
    fake_coder: FakeCoder,
    coder: CoderTasksClient,
    caplog: pytest.LogCaptureFixture,
    refuse_ws: bool,
    refuse: bool,
    mode: str,
) -> None:
    fake_coder.watch.faults.refuse_ws = refuse_ws
    fake_coder.watch.faults.refuse = refuse
    task = await coder.create_task("hi", template_version_id=fake_coder.template_version_id)
    with caplog.at_level(logging.DEBUG, logger="coder_tasks_async"):
        async with coder.follow_logs(task, settled=True, until_terminal=True, idle_timeout=30) as f:
            events = [e async for e in f]
    assert [e.entry.id for e in events if e.entry] == [0, 1, 2]
    assert f"wake mode {mode}" in caplog.text
    expected = {"ws": {"ws": 1, "sse": 0}, "sse": {"ws": 0, "sse": 1}, "poll": {"ws": 0, "sse": 0}}
    assert fake_coder.watch.opened == expected[mode]
    assert coder.streams_open == 0


async def test_wake_poll_opens_no_stream_per_call_and_per_client(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    clock = fake_clock
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=clock, wake="poll"
    ) as client:
        task = await client.create_task("hi", template_version_id=fake_coder.template_version_id)
        async with client.follow_logs(task, settled=True, idle_timeout=20) as f:
            assert [e.entry.id async for e in f if e.entry] == [0, 1, 2]
        async with client.follow_logs(task, wake="auto", idle_timeout=20) as f:
            [e async for e in f]
    assert fake_coder.watch.opened["ws"] == 1  # only the call that asked for it
    with pytest.raises(ValueError, match="wake"):
        CoderTasksClient(fake_coder.url, token=fake_coder.token, wake="sometimes")  # type: ignore[arg-type]


async def second_reply(
    fake: FakeCoder, clock: FakeClock, client: CoderTasksClient, *, reply: float, pause: float
) -> list[LogEvent]:
    """A settled follower's events up to the reply to a second input, sent ``pause`` s
    after the first reply and followed by ``pause`` s more (0: the "working" event alone
    makes the follower read the input).  Once the reply is done (``reply`` s), the clock
    stands still: only the idle event can make the follower poll."""
    task = await started(fake, clock, client)
    got: list[LogEvent] = []
    async with client.follow_logs(task, settled=True, poll=FAST) as follower:

        async def consume() -> None:
            async for event in follower:
                got.append(event)

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await eventually(lambda: len(got) == 3, "the first three entries")
            await eventually(lambda: fake.watch.open_streams == 1, "the stream is open")
            clock.advance(pause)
            other = CoderTasksClient(fake.url, token=fake.token, clock=clock, wake="poll")
            async with other:
                await other.send_input(task, "and the tests")
            clock.advance(pause * 6)  # the reply grows: polled at the normal pace
            await eventually(lambda: len(got) == 4, "the input entry")
            at = clock.now()
            clock.advance(reply)  # the reply is done: the agent reports idle
            await eventually(lambda: len(got) == 5, "the settled reply, on the idle event")
            assert clock.now() == at + reply
            tg.cancel_scope.cancel()
    assert got[4].entry is not None and got[4].entry.content.endswith("and the tests")
    assert [e.entry.id for e in got if e.entry] == [0, 1, 2, 3, 4]
    assert client.streams_open == 0
    return got


async def test_idle_event_settles_the_reply_after_one_poll_without_the_clock_moving(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, client = manual
    await second_reply(fake, clock, client, reply=TIMINGS.reply_duration, pause=0.5)


async def test_a_quick_reply_is_heard_on_its_idle_event_right_after_the_working_one() -> None:
    """Regression: the reply of an agent turn shorter than a second waited for the rest
    of that second.  A quick exchange is three events close together (the state the
    stream opens with, "working" as the input lands, "idle" as the reply is done);
    wake-ups were coalesced to one per second, so the "idle" one, the one a bot waits
    for, was held back (a bot heard a quick reply 0.5-1.5 s late in the wake
    benchmark, against 0.01 s before the coalescing)."""
    clock = FakeClock(autojump=False)
    quick = Timings(pending=1.0, initializing=1.0, chunk_interval=0.1, chunks=4)
    async with (
        FakeCoder(clock=clock, timings=quick) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=clock) as client,
    ):
        await second_reply(fake, clock, client, reply=0.4, pause=0.0)


async def test_idle_follower_polls_about_once_a_minute_with_the_stream(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, client = manual
    task = await started(fake, clock, client)
    counts: dict[str, int] = {}
    for wake in ("poll", "auto"):
        got: list[LogEvent] = []
        follower = client.follow_logs(task, settled=True, wake=wake)  # type: ignore[arg-type]
        async with follower:

            async def consume(f: object = follower, out: list[LogEvent] = got) -> None:
                async for event in follower:  # noqa: B023 (one follower per loop turn)
                    out.append(event)

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                while len(got) < 3:  # the settled rule needs quiet polls: let time pass
                    await tick(clock, fake, 0.5)
                before = task_gets(fake, task)
                for _ in range(300):  # five idle minutes in one-second steps
                    await tick(clock, fake, 1)
                counts[wake] = task_gets(fake, task) - before
                tg.cancel_scope.cancel()
    assert counts["poll"] >= 20  # today: every 10 s at most
    assert counts["auto"] <= 5, counts


async def test_stream_never_takes_a_request_slot(
    manual: tuple[FakeCoder, FakeClock, CoderTasksClient],
) -> None:
    fake, clock, _ = manual
    async with CoderTasksClient(
        fake.url, token=fake.token, clock=clock, max_concurrency=1
    ) as client:
        task = await client.create_task("hi", template_version_id=fake.template_version_id)
        clock.advance(10)
        async with client.follow_logs(task, poll=FAST) as follower, anyio.create_task_group() as tg:

            async def consume() -> None:
                async for _ in follower:
                    pass

            tg.start_soon(consume)
            await eventually(lambda: client.streams_open == 1, "the stream is open")
            # The only request slot is free while the stream stays open.
            with anyio.fail_after(10):
                assert (await client.get_task(task)).id == task.id
            assert client.connections_in_use == 0 and client.streams_open == 1
            tg.cancel_scope.cancel()
        assert client.streams_open == 0


@pytest.mark.parametrize("how", ["break", "cancel", "error"])
async def test_stream_is_closed_on_exit_cancellation_and_errors(
    fake_coder: FakeCoder, coder: CoderTasksClient, how: str
) -> None:
    task = await coder.create_task("hi", template_version_id=fake_coder.template_version_id)
    follower = coder.follow_logs(task, settled=True, poll=FAST)
    with anyio.move_on_after(30):
        try:
            async with follower:
                async for _ in follower:
                    if coder.streams_open == 0:
                        continue
                    if how == "cancel":
                        raise asyncio.CancelledError
                    if how == "error":
                        raise KeyError("boom")
                    break
        except (KeyError, asyncio.CancelledError):
            pass
    assert fake_coder.watch.opened["ws"] >= 1
    assert coder.streams_open == 0
    await eventually(lambda: fake_coder.watch.open_streams == 0, "the fake saw the close")


@pytest.mark.parametrize("stream", ["on", "off", "flapping", "noisy", "stalled"])
async def test_no_entry_lost_or_repeated_with_the_stream_on_off_or_flapping(
    stream: Literal["on", "off", "flapping", "noisy", "stalled"],
) -> None:
    clock = FakeClock()
    async with FakeCoder(clock=clock, timings=TIMINGS, seed=3) as fake:
        faults = fake.watch.faults
        faults.refuse = stream == "off"
        faults.drop_after = 1 if stream == "flapping" else None
        faults.duplicate = faults.noise = stream == "noisy"
        faults.stall = stream == "stalled"
        fake.faults.add(Fault("get", "status", rate=0.1))
        async with CoderTasksClient(fake.url, token=fake.token, clock=clock) as client:
            task = await client.create_task("go", template_version_id=fake.template_version_id)
            seen: list[tuple[int, str]] = []

            async def bot() -> None:
                async with client.follow_logs(
                    task, settled=True, poll=FAST, idle_timeout=40
                ) as follower:
                    async for event in follower:
                        assert event.entry is not None
                        seen.append((event.entry.id, event.entry.content))

            async def sender() -> None:
                for i in range(4):
                    await client.wait_for(task, until=TaskState.IDLE, timeout=120)
                    await client.send_input(task, f"step {i}")
                    await clock.sleep(1)

            async with anyio.create_task_group() as tg:
                tg.start_soon(bot)
                tg.start_soon(sender)
            truth = [(e["id"], e["content"]) for e in fake.task(task.id).entries]
            assert seen == truth
            assert len(seen) == 3 + 2 * 4
            assert client.streams_open == 0


async def test_stale_idle_never_hands_out_a_growing_reply_as_final(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    """Regression: the last poll paired a stale "idle" task read with a newer, growing reply."""
    async with CoderTasksClient(
        fake_coder.url, token=fake_coder.token, clock=fake_clock, wake="poll"
    ) as client:
        task = await client.create_task("hi", template_version_id=fake_coder.template_version_id)
        await client.wait_for(task, until=TaskState.IDLE)
        # The logs read is held back on the wire; meanwhile another client sends input.
        fake_coder.faults.add(Fault("logs", "latency", delay=0.3, times=1))
        got: list[LogEvent] = []

        async def follow() -> None:
            async with client.follow_logs(
                task, settled=True, cursor=None, until=lambda t: t.state is TaskState.IDLE
            ) as follower:
                async for event in follower:
                    got.append(event)

        n0 = len(fake_coder.requests)
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow)
            await eventually(
                lambda: any(r.route == "get" for r in list(fake_coder.requests)[n0:]),
                "the follower read the idle task",
            )
            fake_coder.state.send_input(fake_coder.task(task.id), "more", fake_clock.now())
        ids = [e.entry.id for e in got if e.entry]
        assert ids[:3] == [0, 1, 2]
        # Whatever was handed out is final: the new reply never as the part that had grown.
        fake_clock.advance(60)
        truth = {e["id"]: e["content"] for e in fake_coder.task(task.id).entries}
        assert all(e.entry.content == truth[e.entry.id] for e in got if e.entry)


async def test_idle_timeout_fires_on_time_while_the_stream_slows_polling(
    fake_coder: FakeCoder, coder: CoderTasksClient, fake_clock: FakeClock
) -> None:
    """Regression: the slow idle pace (150 s) outlived a 5 s ``idle_timeout``."""
    task = await coder.create_task("hi", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until=TaskState.IDLE, wake="poll")
    start = fake_clock.now()
    async with coder.follow_logs(task, idle_timeout=5, poll=FAST) as follower:
        ids = [e.entry.id async for e in follower if e.entry]
    assert ids == [0, 1, 2]
    assert fake_coder.watch.opened["ws"] == 1  # the stream was on (and said idle)
    assert fake_clock.now() - start <= 5 + FAST.maximum


async def test_until_on_the_callers_own_state_is_checked_at_the_normal_pace(
    fake_coder: FakeCoder, coder: CoderTasksClient, fake_clock: FakeClock
) -> None:
    """Regression: the poll after a delivery came at the idle pace, so an ``until`` that
    reads what the caller has received (the demo's) waited 150 s to see it."""
    task = await coder.create_task("hi", template_version_id=fake_coder.template_version_id)
    received: list[int] = []
    async with coder.follow_logs(
        task, settled=True, poll=FAST, until=lambda t: len(received) == 3
    ) as follower:
        async for event in follower:
            assert event.entry is not None
            received.append(event.entry.id)
            if len(received) == 3:
                done_at = fake_clock.now()
    assert received == [0, 1, 2]
    assert fake_coder.watch.opened["ws"] == 1
    assert fake_clock.now() - done_at <= FAST.maximum


async def test_a_bots_quick_turns_are_each_heard_on_their_idle_event() -> None:
    """Regression: a bot trading quick turns with the agent (send, a reply of 0.4 s,
    send again) drained the wake-up budget in two turns (each costs a "working" and an
    "idle" event), so from the third on the "idle" one waited up to a second for the
    bucket (the wake benchmark's active bot: 0.73 s median, 1.49 s max).  An event that
    reports the end of a turn the last poll has not seen is the news a follower holds
    a reply for: it may draw on a reserve, and is heard even behind a "working" event
    the gate still holds back.  The clock stands still once each reply is done, so
    only that event can make the follower read."""
    clock = FakeClock(autojump=False)
    quick = Timings(pending=1.0, initializing=1.0, chunk_interval=0.1, chunks=4)
    async with (
        FakeCoder(clock=clock, timings=quick) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=clock) as client,
        CoderTasksClient(fake.url, token=fake.token, clock=clock, wake="poll") as sender,
    ):
        task = await started(fake, clock, client)
        got: list[LogEvent] = []
        policy = PollPolicy(jitter=0.0)  # 1 s while the agent works: longer than a turn
        async with (
            client.follow_logs(task, settled=True, poll=policy) as follower,
            anyio.create_task_group() as tg,
        ):

            async def consume() -> None:
                async for event in follower:
                    got.append(event)

            tg.start_soon(consume)
            await eventually(lambda: len(got) == 3, "the first three entries")
            await eventually(lambda: fake.watch.open_streams == 1, "the stream is open")
            for turn in range(10):
                sent = fake.watch.sent
                await sender.send_input(task, f"turn {turn}")
                await eventually(
                    lambda: fake.watch.sent > sent and fake.watch.caught_up,  # noqa: B023
                    "the working event is out",
                )
                for _ in range(2_000):  # the follower reads it (loop turns, not wall time)
                    await asyncio.sleep(0)
                clock.advance(0.5)  # the reply (0.4 s) is done: the agent reports idle
                at, want = clock.now(), 5 + 2 * turn
                await eventually(lambda: len(got) == want, f"turn {turn}'s reply")  # noqa: B023
                assert clock.now() == at
                clock.advance(0.1)  # the bot reads the reply and answers
            tg.cancel_scope.cancel()
    ids = [e.entry.id for e in got if e.entry]
    assert ids == list(range(3 + 2 * 10))
    assert got[-1].entry is not None and got[-1].entry.content.endswith("turn 9")
