"""A bot restarted on a store resumes at the first entry it did not acknowledge.

``follow_logs(store=, key=)`` and ``follow_many(store=)`` on both stores (a real SQLite
file and the session's real PostgreSQL): a first run acknowledges some entries (by
asking for the next one, by ``await event.ack()``) and leaves by an exception; a new
client on a new store handle (a restarted process) follows again and must start at
the first entry not acknowledged, under the key it was given, while another key
starts from the beginning.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import anyio
import pytest
from storekit import PACE, QUICK, MakeStore

from coder_tasks_async import (
    CoderTasksClient,
    CursorStore,
    EntryEvent,
    Task,
    TaskState,
)
from coder_tasks_async.testing import FakeCoder

pytestmark = pytest.mark.anyio

ENTRIES = 5  # two finished turns on the fake (its welcome screen included)
BOUND = 30.0  # seconds: a safety net against a hang, never a pass


class Crash(Exception):
    """The bot falls over in the middle of an event."""


async def two_turns(fake: FakeCoder, prompt: str) -> Task:
    """A task with two finished turns: entries 0-4, all settled."""
    async with CoderTasksClient(fake.url, token=fake.token) as coder:
        task = await coder.create_task(prompt, template_version_id=fake.template_version_id)
        await coder.wait_for(task, until=TaskState.IDLE, timeout=BOUND)
        await coder.send_input(task, "a second turn")
        await coder.wait_for(task, until=TaskState.IDLE, timeout=BOUND)
    assert [e["id"] for e in fake.task(task.id).entries] == list(range(ENTRIES))
    return task


@asynccontextmanager
async def restarted(
    fake: FakeCoder, make_store: MakeStore, namespace: str
) -> AsyncIterator[tuple[CoderTasksClient, CursorStore]]:
    """A new process's client and store handle (on the same namespace)."""
    store = make_store(namespace=namespace)
    try:
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            yield coder, store
    finally:
        await store.aclose()


Seen = list[tuple[UUID, int]]


async def until_crash(follower: Any, crash: Callable[[EntryEvent], Awaitable[bool]]) -> Seen:
    """The entries ``follower`` hands out, each as (task id, entry id), until ``crash``
    says the bot falls over on one (by an exception, acknowledging none but those it
    asked past or acknowledged itself)."""
    seen: Seen = []

    async def run() -> None:
        async with follower as events:
            async for event in events:
                if not isinstance(event, EntryEvent) or event.entry is None:
                    continue
                seen.append((event.task_id, event.entry.id))
                if await crash(event):
                    raise Crash

    with anyio.fail_after(BOUND), pytest.raises(Crash):
        await run()
    return seen


async def first_ids(
    fake: FakeCoder, make_store: MakeStore, namespace: str, task: Task, key: str, n: int
) -> list[int]:
    """The first ``n`` entries a restarted bot gets under ``key`` before it falls over."""
    async with restarted(fake, make_store, namespace) as (coder, store):
        follower = coder.follow_logs(
            task, settled=True, store=store, key=key, poll=PACE, wake="poll"
        )
        count = iter(range(n - 1, -1, -1))

        async def nth(event: EntryEvent) -> bool:
            return next(count) == 0

        return [i for _, i in await until_crash(follower, nth)]


async def test_follow_logs_resumes_under_its_key_at_the_first_entry_not_acknowledged(
    make_store: MakeStore,
) -> None:
    namespace = uuid.uuid4().hex
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        task = await two_turns(fake, "job")
        async with restarted(fake, make_store, namespace) as (coder, store):

            async def acks_1_crashes_at_2(event: EntryEvent) -> bool:
                assert event.entry is not None
                if event.entry.id == 1:
                    await event.ack()  # explicitly (0 was, by asking for 1)
                return event.entry.id == 2  # 2 handed out, never acknowledged

            follower = coder.follow_logs(
                task, settled=True, store=store, key="replies", poll=PACE, wake="poll"
            )
            seen = await until_crash(follower, acks_1_crashes_at_2)
            assert [i for _, i in seen] == [0, 1, 2]
            assert await store.load(str(task.id)) is None  # saved under the key given
            assert await store.load("replies") is not None
        # A new client: the key's cursor resumes at 2, another key starts at 0.
        assert await first_ids(fake, make_store, namespace, task, "replies", 2) == [2, 3]
        # That run asked past 2 (acknowledged), not past 3: it resumes at 3.
        assert await first_ids(fake, make_store, namespace, task, "replies", 1) == [3]
        everything = await first_ids(fake, make_store, namespace, task, "audit", ENTRIES)
        assert everything == list(range(ENTRIES))


async def follow_many_run(
    fake: FakeCoder,
    make_store: MakeStore,
    namespace: str,
    tasks: list[Task],
    crash_at: tuple[UUID, int] | None,
    want: int,
) -> Seen:
    """Entries a (re)started ``follow_many(store=)`` hands out until ``crash_at``, or
    until it had ``want`` of them: then it falls over."""
    async with restarted(fake, make_store, namespace) as (coder, store):
        follower = coder.follow_many(tasks, settled=True, store=store, poll=PACE, wake="poll")
        seen = 0

        async def crash(event: EntryEvent) -> bool:
            nonlocal seen
            seen += 1
            assert event.entry is not None
            return (event.task_id, event.entry.id) == crash_at or seen == want

        return await until_crash(follower, crash)


async def test_follow_many_resumes_each_task_at_its_first_entry_not_acknowledged(
    make_store: MakeStore,
) -> None:
    namespace = uuid.uuid4().hex
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        tasks = [await two_turns(fake, "first"), await two_turns(fake, "second")]
        everything = {(t.id, i) for t in tasks for i in range(ENTRIES)}
        crash_at = (tasks[0].id, 2)
        before = await follow_many_run(fake, make_store, namespace, tasks, crash_at, 99)
        assert before[-1] == crash_at
        acknowledged = set(before[:-1])  # each by asking for the next
        # A new client gets exactly the rest, each once, the crashed-on entry included,
        # and each task in order from its first entry not acknowledged.
        rest = len(everything - acknowledged)
        after = await follow_many_run(fake, make_store, namespace, tasks, None, rest)
        assert sorted(after) == sorted(everything - acknowledged)
        first = [i for task_id, i in after if task_id == tasks[0].id]
        assert first == list(range(2, ENTRIES))
        second = [i for task_id, i in after if task_id == tasks[1].id]
        assert second == sorted(second)
        async with restarted(fake, make_store, namespace) as (_, store):
            saved = await store.load_many([str(t.id) for t in tasks])
            assert str(tasks[0].id) in saved  # under the task's id: follow_many's key
            assert set(saved) <= {str(t.id) for t in tasks}
