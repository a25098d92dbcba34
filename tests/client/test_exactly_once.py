"""The seven ways the follower lost or repeated messages (issue 11), over real HTTP."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from logproxy import LogProxy, replace_logs
from profiles import PAUSE_CAPABLE, fake_at

from coder_tasks_async import (
    CoderDecodeError,
    CoderTasksClient,
    LogEvent,
    LogEventKind,
    PollPolicy,
    Task,
)
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)


def summary(events: list[LogEvent]) -> list[tuple[str, int | None]]:
    return [(e.kind.value, e.entry.id if e.entry else None) for e in events]


async def new_task(fake: FakeCoder, coder: CoderTasksClient, prompt: str, name: str) -> Task:
    task = await coder.create_task(prompt, name=name, template_version_id=fake.template_version_id)
    return task


@pytest.mark.parametrize("version", PAUSE_CAPABLE)
async def test_pause_resume_delivers_the_new_conversation_even_with_the_same_text(
    version: str, fake_clock: FakeClock
) -> None:
    """Bug 1: after pause/resume the new conversation was lost when it looked like the old."""
    async with fake_at(version, fake_clock) as (fake, coder):
        task = await new_task(fake, coder, "same text", "same-text")
        events: list[LogEvent] = []
        with anyio.fail_after(60):  # a safety net against a hang, not a timing assertion
            follower = coder.follow_logs("same-text", settled=True, poll=FAST, idle_timeout=30)
            async with follower:
                async for event in follower:
                    events.append(event)
                    if len(events) == 3:
                        await coder.pause_task(task)
                    elif event.kind is LogEventKind.PAUSED:
                        await coder.resume_task(task)
                        await coder.send_input(task, "same text", wait_ready=True, poll=FAST)
        assert summary(events) == [
            ("new", 0),
            ("new", 1),
            ("new", 2),
            ("paused", None),
            ("reset", None),
            ("new", 0),
            ("new", 1),
            ("new", 2),
        ]
        first, second = events[:3], events[5:]
        assert [e.entry.content for e in second if e.entry][1] == "same text"
        # Deterministic agent: the new reply's text equals the old one, and still comes.
        assert [e.entry.content for e in first if e.entry][1:] == [
            e.entry.content for e in second if e.entry
        ][1:]


def _same(body: dict[str, Any]) -> dict[str, Any]:
    return body


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param([_same, replace_logs([])], id="bug2-one-empty-answer"),
        pytest.param(["first4", "first2"], id="bug3-stale-shorter-answer"),
    ],
)
async def test_an_odd_answer_between_normal_ones_repeats_nothing(
    odd: list[Any], fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    """Bugs 2 and 3: an empty or stale shorter answer re-delivered the conversation."""
    events = await _odd_answers(fake_coder, fake_clock, odd)
    assert summary(events) == [("new", i) for i in range(5)]


async def _odd_answers(fake: FakeCoder, clock: FakeClock, odd: list[Any]) -> list[LogEvent]:
    """Follow a finished 5-entry conversation whose first answers are rewritten by ``odd``
    (``"firstN"``: only its first N entries), then a few normal ones."""
    async with (
        CoderTasksClient(fake.url, token=fake.token, clock=clock) as direct,
        LogProxy(fake.url).running() as proxy,
        CoderTasksClient(proxy.url, token=fake.token, clock=clock) as coder,
    ):
        task = await direct.create_task("Fix it", template_version_id=fake.template_version_id)
        await direct.send_input(task, "and more", wait_ready=True, poll=FAST)
        await direct.wait_for(task, until="idle", poll=FAST)
        entries = fake.task(task.id).entries
        assert len(entries) == 5
        for item in odd:
            if isinstance(item, str):
                proxy.rewrites.append(replace_logs(entries[: int(item.removeprefix("first"))]))
            else:
                proxy.rewrites.append(item)
        polls = 0

        def stop(_: Task) -> bool:
            nonlocal polls
            polls += 1
            return polls > len(odd) + 3

        async with coder.follow_logs(task, poll=FAST, until=stop) as follower:
            return [event async for event in follower]


async def test_duplicate_and_negative_ids_are_not_repeated(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    """Bug 4: a duplicate id was delivered twice, a negative id on every poll."""

    def odd(body: dict[str, Any]) -> dict[str, Any]:
        logs = body["logs"]
        negative = {**logs[0], "id": -1, "content": "negative"}
        return {**body, "logs": [*logs, logs[-1], negative]}

    events = await _odd_answers(fake_coder, fake_clock, [odd, odd, odd])
    assert summary(events) == [("new", i) for i in range(5)]


async def test_a_cursor_of_another_task_is_refused_before_any_event(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    """Bug 5: a cursor carried no task identity and silently swallowed another task's entries."""
    first = await new_task(fake_coder, coder, "Fix it", "first")
    async with coder.follow_logs(first, settled=True, poll=FAST, idle_timeout=10) as follower:
        async for _ in follower:
            pass
    saved = follower.cursor.dumps()
    await coder.delete_task(first)
    # A new task reusing the old one's name and prompt: same conversation text.
    second = await new_task(fake_coder, coder, "Fix it", "first")
    events: list[LogEvent] = []

    async def resume() -> None:
        async with coder.follow_logs("first", cursor=saved, poll=FAST) as resumed:
            events.extend([event async for event in resumed])

    with pytest.raises(ValueError, match=str(first.id)) as info:
        await resume()
    assert str(second.id) in str(info.value)
    assert events == []


async def test_following_by_name_pins_the_task_and_ends_when_it_is_deleted(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    """Bug 6: the name was resolved on every poll; a new task with the name took over."""
    from coder_tasks_async import EndReason

    first = await new_task(fake_coder, coder, "Fix it", "pinned")
    events: list[LogEvent] = []
    with anyio.fail_after(60):
        async with coder.follow_logs("pinned", settled=True, poll=FAST) as follower:
            async for event in follower:
                events.append(event)
                if len(events) == 3:
                    await coder.delete_task(first)
                    await new_task(fake_coder, coder, "Something else", "pinned")
    assert summary(events) == [("new", 0), ("new", 1), ("new", 2)]
    assert all(e.task_id == first.id for e in events)
    assert follower.end_reason is EndReason.DELETED


async def test_a_deeply_nested_field_is_a_decode_error(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    """Bug 7: a very deeply nested field escaped as a raw TypeError."""
    nested: Any = "x"
    for _ in range(600):
        nested = [nested]

    def odd(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "logs": [{**body["logs"][0], "time": nested}]}

    with pytest.raises(CoderDecodeError):
        await _odd_answers(fake_coder, fake_clock, [odd] * 4)


@pytest.mark.parametrize("version", PAUSE_CAPABLE)
async def test_follow_many_sees_one_pause_and_one_restart_per_cycle(
    version: str, fake_clock: FakeClock
) -> None:
    """The many-follower drives the same tracker: a pause/resume cycle of one task is one
    PAUSED and one RESET, and its new conversation arrives whole; the others are untouched."""
    async with fake_at(version, fake_clock) as (fake, coder):
        tasks = [
            await coder.create_task("same text", template_version_id=fake.template_version_id)
            for _ in range(3)
        ]
        cycled = tasks[0]
        seen: dict[object, list[tuple[str, int | None]]] = {t.id: [] for t in tasks}
        with anyio.fail_after(60):  # a safety net against a hang, not a timing assertion
            follower = coder.follow_many(
                [t.id for t in tasks], settled=True, poll=FAST, idle_timeout=20
            )
            async with follower:
                async for event in follower:
                    seen[event.task_id].append(
                        (event.kind.value, event.entry.id if event.entry else None)
                    )
                    if event.task_id != cycled.id:
                        continue
                    if len(seen[cycled.id]) == 3:
                        await coder.pause_task(cycled)
                    elif event.kind is LogEventKind.PAUSED:
                        await coder.send_input(
                            cycled, "same text", wait_ready=True, resume=True, poll=FAST
                        )
        once = [("new", 0), ("new", 1), ("new", 2)]
        assert seen[cycled.id] == [*once, ("paused", None), ("reset", None), *once]
        assert seen[tasks[1].id] == once and seen[tasks[2].id] == once
