"""Every watch stream is closed when its poller ends, however it ends: a cancel scope
(``move_on_after``, ``fail_after``), a server that never answers the close, many at once."""

from __future__ import annotations

import asyncio
import gc

import anyio
import pytest
from helpers import FAST, WAKE_TIMINGS, eventually
from streamproxy import StreamProxy

from coder_tasks_async import CoderTasksClient, LogEvent
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio


async def turns(n: int) -> None:
    """Event-loop turns (a count, not wall time)."""
    for _ in range(n):
        await asyncio.sleep(0)


@pytest.mark.parametrize("how", ["cancel_scope", "move_on_after"])
async def test_follow_many_left_through_a_cancel_scope_closes_every_stream(how: str) -> None:
    """Regression: ``follow_many`` left through an anyio cancel scope closed its streams
    one at a time, and the first close cancelled by the scope skipped the rest: 8 of
    10 stayed open.  Now they are all closed, shielded, even inside a cancelled scope
    (here against a server slow to answer the close, as a real one over a network is)."""
    clock = FakeClock(autojump=False)
    async with (
        FakeCoder(clock=clock, timings=WAKE_TIMINGS) as fake,
        StreamProxy(fake.url, ["silent"]).running() as streams,
        CoderTasksClient(streams.url, token=fake.token, clock=clock) as client,
    ):
        tasks = [
            await client.create_task(f"t{i}", template_version_id=fake.template_version_id)
            for i in range(10)
        ]
        clock.advance(10)
        got: list[LogEvent] = []
        with anyio.CancelScope() as scope:
            async with client.follow_many(tasks, poll=FAST) as many:
                async with anyio.create_task_group() as tg:

                    async def stop_when_all_open() -> None:
                        await eventually(
                            lambda: streams.open == client.streams_open == 10, "ten streams"
                        )
                        if how == "cancel_scope":
                            scope.cancel()
                        else:
                            scope.deadline = anyio.current_time()  # as move_on_after does

                    tg.start_soon(stop_when_all_open)
                    async for event in many:
                        got.append(event)
        assert scope.cancelled_caught
        assert len(got) >= 10
        assert client.streams_open == 0
        await eventually(lambda: streams.open == 0, "the server saw every stream closed")


async def test_closing_never_waits_on_a_server_that_ignores_the_close() -> None:
    """A server storming on without answering the close frame held aiohttp's close open
    for as long as it talked (its timeout is per message).  The close is bounded in all;
    here three such streams close together, inside a cancelled scope."""
    clock = FakeClock()
    async with (
        FakeCoder(clock=clock, timings=WAKE_TIMINGS) as fake,
        StreamProxy(fake.url, ["storm"], deaf=True).running() as streams,
        CoderTasksClient(streams.url, token=fake.token, clock=clock) as client,
    ):
        tasks = [
            await client.create_task(f"t{i}", template_version_id=fake.template_version_id)
            for i in range(3)
        ]
        # The guard: this close used to wait as long as the server talked, for ever.
        with anyio.fail_after(30), anyio.CancelScope() as scope:
            async with client.follow_many(tasks, poll=FAST) as many:
                async with anyio.create_task_group() as tg:

                    async def stop_in_the_storm() -> None:
                        await eventually(lambda: streams.open == 3, "three streams")
                        await eventually(lambda: streams.events > 1_000, "the storm is on")
                        scope.cancel()

                    tg.start_soon(stop_in_the_storm)
                    async for _ in many:
                        pass
        assert client.streams_open == 0
        await eventually(lambda: streams.open == 0, "every connection dropped")


async def test_a_client_left_through_a_cancelled_scope_closes_its_session() -> None:
    """Regression: ``async with CoderTasksClient(...)`` left because a deadline around it
    expired (here while a wait listened on a watch stream) closed the streams, shielded,
    then re-raised the cancellation before closing the HTTP session, which stayed open
    ("Unclosed client session" when collected; seen after a docs test hit its bound).
    Now the session is closed too, and the cancellation still ends the scope."""
    clock = FakeClock()

    async def cancelled_while_listening(fake: FakeCoder) -> tuple[bool, bool]:
        with anyio.CancelScope() as scope:
            async with CoderTasksClient(fake.url, token=fake.token, clock=clock) as client:
                task = await client.create_task("t", template_version_id=fake.template_version_id)
                async with anyio.create_task_group() as tg:

                    async def cancel_once_listening() -> None:
                        await eventually(lambda: client.streams_open == 1, "a watch stream")
                        scope.cancel()

                    tg.start_soon(cancel_once_listening)
                    await client.wait_for(task, until=lambda t: False, timeout=3600)
        return scope.cancelled_caught, client.closed

    async with FakeCoder(clock=clock, timings=WAKE_TIMINGS) as fake:
        assert await cancelled_while_listening(fake) == (True, True)
        # An aiohttp session still marked open warns as it is collected (the client is
        # gone now): the suite turns that warning into this test's failure.
        gc.collect()


async def test_a_cancellation_landing_in_the_close_stays_in_its_scope() -> None:
    """A scope cancelled just before ``async with`` ends: the cancellation lands in the
    session's close, which completes, and the cancellation is still the scope's own (it
    ended the scope; a re-raised copy without anyio's message escaped it, cancelling the
    caller's task)."""
    clock = FakeClock()

    async def cancelled_at_the_close(fake: FakeCoder) -> bool:
        with anyio.CancelScope() as scope:
            async with CoderTasksClient(fake.url, token=fake.token, clock=clock) as client:
                await client.list_tasks()  # a pooled connection for the close to drop
                scope.cancel()
        return client.closed

    async with FakeCoder(clock=clock) as fake:
        assert await cancelled_at_the_close(fake)
        await anyio.lowlevel.checkpoint()  # this task was not cancelled: it passes
        gc.collect()  # no "Unclosed client session" (the suite fails on one)
