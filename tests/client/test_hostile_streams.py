"""Hostile watch streams: a stream is only a hint, and nothing it does can hurt a poller.

A proxy in front of FakeCoder forwards every request and serves misbehaving watch
streams (tests/streamproxy.py): malformed, oversized, stalled, redirecting, storming.
Every poller still ends as it would by polling alone, no wait is stretched, the token
never follows a redirect, a storm costs a bounded number of reads, and every stream the
client opened is closed again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import anyio
import pytest
from helpers import FAST, WAKE_TIMINGS, eventually, tick
from streamproxy import StreamProxy

from coder_tasks_async import (
    CoderTasksClient,
    LogEvent,
    LogFollower,
    ManyFollower,
    PollPolicy,
    Task,
    TaskState,
    WaitTimeoutError,
)
from coder_tasks_async._polling.wake import EVENT_BURST, TURN_CREDIT
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def hostile(
    modes: list[str], *, clock: FakeClock | None = None, **proxy: int
) -> AsyncIterator[tuple[FakeCoder, StreamProxy, CoderTasksClient, FakeClock]]:
    clock = clock or FakeClock()
    async with (
        FakeCoder(clock=clock, timings=WAKE_TIMINGS) as fake,
        StreamProxy(fake.url, modes, **proxy).running() as streams,
        CoderTasksClient(streams.url, token=fake.token, clock=clock) as client,
    ):
        yield fake, streams, client, clock


async def created(fake: FakeCoder, client: CoderTasksClient) -> Task:
    return await client.create_task("fix it", template_version_id=fake.template_version_id)


def reads(fake: FakeCoder, task: Task, route: str) -> int:
    return sum(1 for r in fake.requests if r.route == route and str(task.id) in r.path)


# -- one bad message never kills a poller ------------------------------------------------


class Drops(logging.Handler):
    """Counts the streams the client dropped (its debug line says so)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "watch stream dropped" in record.getMessage()

    def after(self, n: int) -> Callable[[Task], bool]:
        """A stop condition: the client dropped ``n`` more streams than now, and the
        agent idles (its reply is whole)."""
        target = self.count + n
        return lambda task: self.count >= target and task.state is TaskState.IDLE


@pytest.fixture
def drops() -> Iterator[Drops]:
    logger = logging.getLogger("coder_tasks_async")
    handler, level = Drops(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.mark.parametrize("mode", ["deep", "garbage", "long_line", "pile", "huge"])
async def test_a_bad_stream_message_never_kills_any_poller(mode: str, drops: Drops) -> None:
    """Regression: JSON 100,000 deep raised RecursionError and a 600 KiB event-stream
    line aiohttp's LineTooLong out of every poller.  Now the stream is dropped and the
    poller polls on.  Each of the five pollers runs until its hostile stream was read
    and dropped, and hands out what polling alone would."""
    async with hostile([mode], pile=4 << 20) as (fake, streams, client, _):
        task = await created(fake, client)
        with anyio.fail_after(60):  # a guard (a pile used to stall the poller), not a measure
            await client.wait_for(task, until=drops.after(1), poll=FAST)
        async with client.follow_logs(task, settled=True, poll=FAST, until=drops.after(1)) as f:
            ids = [e.entry.id async for e in f if e.entry]
        async with client.watch(task, poll=FAST, until=drops.after(1)) as w:
            watched = [t async for t in w]
        async with client.follow_many([task], poll=FAST, until=drops.after(1)) as many:
            many_ids = [e.entry.id async for e in many if e.entry]
        async with client.watch_many([task], poll=FAST, until=drops.after(1)) as wm:
            watched_many = [t async for t in wm]
        assert ids == many_ids == [0, 1, 2]
        assert watched[-1].state is watched_many[-1].state is TaskState.IDLE
        assert streams.served[mode] >= 5, "every poller met the hostile stream"
        assert drops.count >= 5
        assert client.streams_open == 0
        await eventually(lambda: streams.open == 0, "every stream closed")


async def test_an_event_that_never_ends_is_cut_at_the_cap() -> None:
    """Regression: ``data:`` lines without the blank line that ends an event piled up
    without limit (128 MB held for 120 MB sent).  The client drops the stream once an
    event passes 1 MiB, so the server cannot send much more than that."""
    async with hostile(["pile"], pile=32 << 20) as (fake, streams, client, _):
        task = await created(fake, client)
        await client.wait_for(task, until=TaskState.IDLE, poll=FAST)
        await eventually(lambda: streams.open == 0, "the stream was dropped")
    # 1 MiB read, plus what the socket buffers held when the client stopped reading.
    assert streams.served["pile"] >= 1
    assert streams.pile_sent < 8 << 20, streams.pile_sent


# -- redirects, stalls ------------------------------------------------------------------


async def test_a_stream_redirect_is_never_followed_and_the_token_stays_home() -> None:
    """Regression: stream requests followed redirects on a session whose headers carry
    the token, so the token reached another host.  Now a redirect means "no stream",
    asked once, and the poller polls."""
    async with hostile(["redirect"]) as (fake, streams, client, _):
        task = await created(fake, client)
        async with client.follow_logs(task, settled=True, poll=FAST, idle_timeout=60) as f:
            ids = [e.entry.id async for e in f if e.entry]
    assert ids == [0, 1, 2]
    assert streams.elsewhere.requests == []  # nothing (no token) went to the other origin
    # Both paths redirect: no stream here, so not asked again in a minute of polling.
    assert streams.served["ws"] == streams.served["sse"] == 1


@pytest.mark.parametrize("timeout", [1.0, 7.5])
async def test_a_stream_that_never_answers_cannot_stretch_a_wait(timeout: float) -> None:
    """Regression: a server that never answered the websocket upgrade froze every
    poller (the sleep waited for the stream before starting its own timer):
    ``wait_for(timeout=1.0)`` still ran after 8 s.  Now the deadline is fixed first,
    on the client's clock, and the pending connect is closed with the poller."""
    async with hostile(["stall"]) as (fake, streams, client, clock):
        task = await created(fake, client)
        start = clock.now()
        with anyio.fail_after(30), pytest.raises(WaitTimeoutError):  # a guard, not a measure
            await client.wait_for(task, until=lambda t: False, timeout=timeout, poll=FAST)
        assert clock.now() - start == pytest.approx(timeout)
        assert streams.served["stall"] >= 1
        assert client.streams_open == 0
        await eventually(lambda: streams.open == 0, "the stalled connect was abandoned")


async def test_a_stalled_upgrade_does_not_delay_a_follower_on_a_manual_clock() -> None:
    """The clock moves only when the test says so: the follower's polls come on time
    while its stream hangs in the upgrade."""
    clock = FakeClock(autojump=False)
    async with hostile(["stall"], clock=clock) as (fake, streams, client, _):
        task = await created(fake, client)
        clock.advance(10)
        got: list[LogEvent] = []
        async with client.follow_logs(task, poll=FAST) as follower:

            async def consume() -> None:
                async for event in follower:
                    got.append(event)

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                await eventually(lambda: streams.open == 1, "the upgrade hangs")
                before = reads(fake, task, "get")
                for _ in range(8):
                    await tick(clock, fake, FAST.maximum)
                assert reads(fake, task, "get") - before >= 8
                tg.cancel_scope.cancel()
        assert [e.entry.id for e in got if e.entry] == [0, 1, 2]
        await eventually(lambda: streams.open == 0, "the hanging connect was closed")


# -- storms -----------------------------------------------------------------------------

DEFAULT = PollPolicy(jitter=0.0)
STORM_SECONDS = 60
#: Event-loop turns after each step of the clock: far more than a poll over loopback
#: takes, so whatever a step allows has happened (a count of turns, not wall time).
TURNS = 3_000


async def turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def storm_reads(many: bool, mode: str = "storm") -> tuple[dict[str, float], StreamProxy]:
    """Follow idle tasks through a storm on a clock that moves only when told: first
    frozen (nothing but the stream can make the poller read), then a second at a time
    for a minute.  Returns the reads per task and route, frozen and per minute."""
    clock = FakeClock(autojump=False)
    async with hostile([mode], clock=clock) as (fake, streams, client, _):
        tasks = [await created(fake, client) for _ in range(3 if many else 1)]
        clock.advance(10)

        def count(since: int, route: str) -> float:
            window = list(fake.requests)[since:]
            return sum(1 for r in window if r.route == route) / len(tasks)

        routes = ("list", "logs") if many else ("get", "logs")
        result: dict[str, float] = {}
        follower: ManyFollower | LogFollower = (
            client.follow_many(tasks, poll=DEFAULT) if many else client.follow_logs(tasks[0])
        )
        async with follower, anyio.create_task_group() as tg:

            async def consume() -> None:
                async for _ in follower:
                    pass

            tg.start_soon(consume)
            await eventually(lambda: streams.open == len(tasks), "a stream per task")
            await eventually(lambda: streams.events > 1_000, "the storm is on")
            # The burst of early wakes is allowed at once (a turn's end overdraws it).
            await turns((EVENT_BURST + TURN_CREDIT * (mode == "flip")) * TURNS)
            n0 = len(fake.requests)
            await turns(5 * TURNS)
            result |= {f"frozen {r}": count(n0, r) for r in routes}
            n0 = len(fake.requests)
            for _ in range(STORM_SECONDS):
                clock.advance(1)
                await turns(TURNS)
            result |= {f"{r}/min": count(n0, r) * 60 / STORM_SECONDS for r in routes}
            result["events"] = streams.events
            tg.cancel_scope.cancel()
        assert client.streams_open == 0
    return result, streams


@pytest.mark.parametrize("mode", ["storm", "flip"])
@pytest.mark.parametrize("many", [False, True])
async def test_an_event_storm_costs_at_most_one_read_per_task_per_second(
    many: bool, mode: str
) -> None:
    """Regression: 10,000 events/s became ~600 task and ~600 logs reads per second.
    Wake-ups are coalesced: a stream ends a poller's wait at most ``EVENT_BURST`` times
    at once, then once a second of its clock, so whatever the event rate a task is read
    at most about once a second: at most ~60 a minute per path, far under Coder's 512
    per minute.  While the clock stands still, once the burst is spent, a storm makes
    it read nothing at all.  ``flip``: every other event reports the end of a turn the
    poller has not seen, which may overdraw the burst by ``TURN_CREDIT``, no more."""
    figures, streams = await storm_reads(many, mode)
    print(f"{mode} {many=}: {figures}")
    assert streams.events > 2_000, "the stream stormed"
    assert all(figures[k] == 0 for k in figures if k.startswith("frozen")), figures
    assert all(figures[k] <= STORM_SECONDS + 1 for k in figures if k.endswith("/min")), figures
    assert streams.open == 0
