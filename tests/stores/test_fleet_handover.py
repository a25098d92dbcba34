"""A task that changes hands and comes back: the worker follows it from the store.

Regressions of the full-size chaos run (tests/stores/test_fleet_chaos.py), on both
stores: a worker that lost a task (its ack refused) and claimed it again went on
from the cursor it kept in memory, past the entry whose ack had failed (lost), or
behind what another worker had acknowledged meanwhile (delivered twice); and a
worker handing out a long batch let its leases run out under it.  Another worker
here is a second store handle on the same namespace (claims, saves and releases as
a worker does), and lease expiry goes by a clock the test moves.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
from storekit import PACE, QUICK, MakeStore

from coder_tasks_async import (
    CoderTasksClient,
    EntryEvent,
    FleetFollower,
    LeaseLostError,
    LogEvent,
    Task,
    TaskState,
)
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

LEASE = 30.0


def shifted() -> tuple[list[float], Callable[[], float]]:
    """A store clock: the wall clock plus an offset the test moves past a lease."""
    offset = [0.0]
    return offset, lambda: time.time() + offset[0]


def two_handles(make_store: MakeStore, now: Callable[[], float]) -> tuple[Any, Any]:
    """This worker's store and another worker's handle on the same namespace."""
    namespace = uuid.uuid4().hex
    return make_store(now=now, namespace=namespace), make_store(now=now, namespace=namespace)


@attrs.define
class OneTask:
    """A worker alone with one task whose first turn is finished, another worker's
    handle on the store, and the store clock's offset."""

    coder: CoderTasksClient
    task: Task
    fleet: FleetFollower
    other: Any
    offset: list[float]

    @property
    def key(self) -> str:
        return str(self.task.id)


@asynccontextmanager
async def one_task(make_store: MakeStore) -> AsyncIterator[OneTask]:
    offset, now = shifted()
    store, other = two_handles(make_store, now)
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            task = await coder.create_task("job", template_version_id=fake.template_version_id)
            await coder.wait_for(task, until=TaskState.IDLE, timeout=30)
            fleet = coder.follow_fleet(
                store, worker="a", settled=True, lease=LEASE, poll=PACE, wake="poll"
            )
            async with fleet:
                yield OneTask(coder, task, fleet, other, offset)
    await store.aclose()
    await other.aclose()


def entry_id(event: LogEvent) -> int:
    assert isinstance(event, EntryEvent)
    return event.entry.id


async def test_an_entry_whose_ack_was_refused_comes_again_when_the_task_comes_back(
    make_store: MakeStore,
) -> None:
    async with one_task(make_store) as one:
        first = await anext(one.fleet)
        assert entry_id(first) == 0
        # The worker stalls past its lease; another takes the task and hands it back
        # without saving anything (it was closed before it got that far).
        one.offset[0] += LEASE + 1
        assert await one.other.claim([one.key], "b", LEASE) == {one.key: 2}
        await one.other.release([one.key], "b")
        with pytest.raises(LeaseLostError):
            await first.ack()
        again = await anext(one.fleet)  # the task is free: claimed again, token 3
        assert one.fleet.held == {one.task.id}
    # Its ack never committed, so entry 0 is delivered again (it was skipped).
    assert again.idempotency_key == first.idempotency_key


async def test_a_task_held_again_resumes_from_what_the_other_worker_acknowledged(
    make_store: MakeStore,
) -> None:
    async with one_task(make_store) as one:
        coder, task, fleet = one.coder, one.task, one.fleet
        for want in (0, 1, 2):
            event = await anext(fleet)
            assert entry_id(event) == want
            await event.ack()
        # While the worker stalls past its lease, another one takes the task, delivers
        # the next turn (entries 3 and 4), acknowledges it and hands the task back.
        await coder.send_input(task, "next turn")
        await coder.wait_for(task, until=TaskState.IDLE, timeout=30)
        cursor = fleet.cursors[task.id].dumps()
        async with coder.follow_logs(
            task, settled=True, cursor=cursor, poll=PACE, wake="poll"
        ) as elsewhere:
            seen = [entry_id(await anext(elsewhere)) for _ in range(2)]
            assert seen == [3, 4]
            moved = elsewhere.cursor.dumps()
        one.offset[0] += LEASE + 1
        assert await one.other.claim([one.key], "b", LEASE) == {one.key: 2}
        await one.other.save(one.key, moved, token=2)
        await one.other.release([one.key], "b")
        await coder.send_input(task, "and one more")
        # The worker's renewal gets the task back under token 3: it follows on from the
        # other worker's cursor, not from its own (at entry 2).
        event = await anext(fleet)
        assert entry_id(event) == 5


async def test_leases_are_renewed_under_a_long_batch_of_events(make_store: MakeStore) -> None:
    clock = FakeClock(autojump=False)
    store, other = two_handles(make_store, clock.now)
    lease = 10.0
    async with FakeCoder(clock=clock, timings=QUICK, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=clock) as coder:
            tasks = [
                await coder.create_task(f"job {i}", template_version_id=fake.template_version_id)
                for i in range(3)
            ]
            clock.advance(10)  # every first reply is finished
            keys = [str(t.id) for t in tasks]
            fleet = coder.follow_fleet(store, worker="a", settled=True, lease=lease, wake="poll")
            handed = 0
            async with fleet:
                # The first poll queues two entries of each task (each newest one waits
                # to settle): one batch of six, handled slowly, half a lease per event.
                while handed < 6:
                    await anext(fleet)
                    handed += 1
                    assert fleet.held == {t.id for t in tasks}
                    clock.advance(lease / 2)
                    # The leases never run out: no other worker can take a task.
                    assert await other.claim(keys, "b", lease) == {}
    await store.aclose()
    await other.aclose()
