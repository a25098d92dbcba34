"""Sending exactly once: a send that meets a pause, and settling an ambiguous send."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from coder_tasks_async import (
    AmbiguousRequestError,
    CoderTasksClient,
    LogCursor,
    SendOutcome,
    Task,
    TaskNotReadyError,
    TaskPausedError,
    TaskState,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio


async def idle_task(fake: FakeCoder, client: CoderTasksClient) -> Task:
    task = await client.create_task("fix it", template_version_id=fake.template_version_id)
    return await client.wait_for(task, until=TaskState.IDLE)


def delivered(fake: FakeCoder, text: str) -> int:
    return sum(1 for _, sent, _ in fake.deliveries if sent == text)


# -- a send that meets a pause ------------------------------------------------------------


@pytest.mark.coder_profile("latest")  # pause and resume: v2.31.1+
@pytest.mark.parametrize("resumed_at_once", [False, True])
@pytest.mark.parametrize("resume", [False, True])
async def test_a_send_meeting_a_pause_does_not_depend_on_timing(
    fake_coder: FakeCoder, fake_clock: FakeClock, resume: bool, resumed_at_once: bool
) -> None:
    """Regression: ``send_input(wait_ready=True)`` whose POST met 409 "Task is paused."
    delivered the input into the new conversation if the task was resumed before the
    next poll, and raised TaskNotReadyError after a longer pause.  Now, without
    ``resume=True`` it raises TaskPausedError whatever the timing; with it, the task is
    resumed and the input sent exactly once, into the new conversation."""
    fake = fake_coder
    async with CoderTasksClient(
        fake.url, token=fake.token, clock=fake_clock, wake="poll"
    ) as client:
        task = await idle_task(fake, client)
        build = fake.task(task.id).build_number
        armed = True

        def pause_between_ready_and_send(status: int, headers: Mapping[str, str]) -> None:
            # Seen ready: pause before the POST arrives; answer its 409 by resuming at
            # once (someone else resumed it) when the case says so.
            nonlocal armed
            route = fake.requests[-1].route
            if armed and route == "get" and status == 200:
                armed = False
                fake.stop_out_of_band(task.id)
                fake_clock.advance(5)  # the stop build is over: the task reads paused
            elif route == "send" and status == 409 and resumed_at_once:
                fake.start_out_of_band(task.id)

        client.on_response(pause_between_ready_and_send)
        if resume:
            await client.send_input(task, "go on", wait_ready=True, resume=True)
            assert delivered(fake, "go on") == 1
            assert fake.task(task.id).build_number > build + 1  # a new run took it
        else:
            with pytest.raises(TaskPausedError) as info:
                await client.send_input(task, "go on", wait_ready=True)
            assert isinstance(info.value, TaskNotReadyError)
            assert "nothing was delivered" in str(info.value)
            fake_clock.advance(120)  # whatever happens next, nothing is sent later
            assert delivered(fake, "go on") == 0


# -- settling an ambiguous send ------------------------------------------------------------


async def ambiguous_send(client: CoderTasksClient, task: Task, text: str) -> None:
    with pytest.raises(AmbiguousRequestError):
        await client.send_input(task, text)


async def saved_cursor_then_a_lost_send(
    fake: FakeCoder, coder: CoderTasksClient, task: Task
) -> str:
    """A bot's saved cursor (the whole first reply), then a send of "and the tests" that
    never reached the server although its answer was lost: AmbiguousRequestError."""
    async with coder.follow_logs(
        task, settled=True, until=lambda t: t.state is TaskState.IDLE
    ) as follower:
        [e async for e in follower]
    fake.faults.add(Fault("send", "reset", times=1))  # never handled, answer broken
    await ambiguous_send(coder, task, "and the tests")
    return follower.cursor.dumps()


async def test_settle_send_finds_a_delivered_input(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await idle_task(fake_coder, coder)
    before = (await coder.get_logs(task)).logs[-1].id
    fake_coder.faults.add(Fault("send", "lost_response", times=1))  # handled, then lost
    await ambiguous_send(coder, task, "and the tests")
    assert await coder.settle_send(task, "and the tests", since=before) is SendOutcome.DELIVERED
    assert delivered(fake_coder, "and the tests") == 1


async def test_settle_send_says_not_delivered_so_sending_again_delivers_once(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await idle_task(fake_coder, coder)
    saved = await saved_cursor_then_a_lost_send(fake_coder, coder, task)
    outcome = await coder.settle_send(task, "and the tests", since=saved)
    assert outcome is SendOutcome.NOT_DELIVERED
    await coder.send_input(task, "and the tests")
    assert delivered(fake_coder, "and the tests") == 1
    # Now it is there: the same question answers DELIVERED (an id works as well).
    assert await coder.settle_send(task, "and the tests", since=saved) is SendOutcome.DELIVERED
    last = LogCursor.loads(saved).last_id
    assert last is not None
    assert await coder.settle_send(task, "and the tests", since=last) is SendOutcome.DELIVERED


@pytest.mark.coder_profile("latest")  # snapshots of a paused task: v2.31.1+
@pytest.mark.parametrize("what", ["pausing", "paused", "restarted", "working"])
async def test_settle_send_says_unknown_when_it_cannot_tell(
    fake_coder: FakeCoder, coder: CoderTasksClient, fake_clock: FakeClock, what: str
) -> None:
    """No conversation to read (a stop build), a stored snapshot, a conversation
    restarted since, or an agent at work (it may be taking the input right now):
    UNKNOWN, never a guess."""
    task = await idle_task(fake_coder, coder)
    saved = await saved_cursor_then_a_lost_send(fake_coder, coder, task)
    if what in ("pausing", "paused"):
        fake_coder.stop_out_of_band(task.id)  # a stop build: no logs, then a snapshot
        fake_clock.advance(0 if what == "pausing" else 5)
    elif what == "restarted":
        fake_coder.restart_agent(task.id)
        fake_clock.advance(30)  # the new conversation is written and the agent idles
    else:
        fake_coder.state.send_input(fake_coder.task(task.id), "another", fake_clock.now())
    outcome = await coder.settle_send(task, "and the tests", since=saved)
    assert outcome is SendOutcome.UNKNOWN


async def test_settle_send_refuses_a_cursor_of_another_task(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    one, other = await idle_task(fake_coder, coder), await idle_task(fake_coder, coder)
    async with coder.follow_logs(one, until=lambda t: t.state is TaskState.IDLE) as f:
        [e async for e in f]
    with pytest.raises(ValueError, match="cursor of task"):
        await coder.settle_send(other, "hi", since=f.cursor.dumps())
    with pytest.raises(TypeError, match="since"):
        await coder.settle_send(other, "hi", since=1.5)  # type: ignore[arg-type]
