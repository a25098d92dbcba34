"""Fleets in one process, in real time on a quick FakeCoder, on both stores.

Proves: the tasks are spread at most ceil(tasks / workers) each and every task has
exactly one holder; only the elected lister calls the list endpoint; a worker that
stops renewing (as a dead one does) loses its tasks to the others, which resume
from its saved cursors without repeating what it acknowledged.  Waits are bounded
and wait on conditions, never on the clock.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import anyio
import pytest
from storekit import MakeStore, wait_until

from coder_tasks_async import CoderTasksClient, EntryEvent, FleetFollower, PollPolicy
from coder_tasks_async.testing import FakeCoder, RecordedRequest, Timings

pytestmark = pytest.mark.anyio

QUICK = Timings(pending=0.05, initializing=0.05, chunk_interval=0.05, chunks=2)
PACE = PollPolicy(initial=0.1, maximum=0.3, jitter=0.0)
LEASE = 1.5
BOUND = 60.0  # seconds: a safety net against a hang, never a pass condition
TASKS = 10


@asynccontextmanager
async def fleet_fixture() -> AsyncIterator[tuple[FakeCoder, list[UUID]]]:
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token) as admin:
            tasks = [
                await admin.create_task(f"job {i}", template_version_id=fake.template_version_id)
                for i in range(TASKS)
            ]
        yield fake, [t.id for t in tasks]


class Worker:
    """One fleet worker on a client of its own (a user of its own, to count its calls)."""

    def __init__(self, fake: FakeCoder, store_of: Callable[[], object], name: str) -> None:
        self.name = name
        self.user = fake.add_user(name, owner=True)
        self.fake = fake
        self.store = store_of()
        self.delivered: Counter[str] = Counter()
        self.fleet: FleetFollower | None = None
        self.acked = 0

    async def run(self, *, until: Callable[[], bool], abandon: bool = False) -> None:
        async with CoderTasksClient(self.fake.url, token=self.user.token) as coder:
            fleet = coder.follow_fleet(
                self.store,  # type: ignore[arg-type]
                worker=self.name,
                owner="alice",
                settled=True,
                lease=LEASE,
                poll=PACE,
                wake="poll",
            )
            self.fleet = fleet
            try:
                async with anyio.create_task_group() as tg:

                    async def consume() -> None:
                        async for event in fleet:
                            await event.ack()
                            # Counted once acknowledged: a cancelled ack is not.
                            if isinstance(event, EntryEvent):
                                self.delivered[event.idempotency_key] += 1
                            self.acked += 1
                            if until():
                                tg.cancel_scope.cancel()

                    tg.start_soon(consume)

                    async def stopped() -> bool:
                        return until()  # may depend on other workers, not only on this one

                    await wait_until(stopped, every=0.05, bound=BOUND)
                    tg.cancel_scope.cancel()
            finally:
                if not abandon:
                    await fleet.aclose()


def expected_keys(fake: FakeCoder, ids: list[UUID]) -> set[str]:
    keys = set()
    for task_id in ids:
        task = fake.task(task_id)
        for entry in task.entries:
            keys.add(f"{task_id}/{task.build_number}.{task.agent_id}/{entry['id']}")
    return keys


def one_namespace(
    make_store: MakeStore, now: Callable[[], float] | None = None
) -> Callable[[], object]:
    """Stores that all see one fleet: the same (fresh) namespace (and lease clock)."""
    namespace = uuid.uuid4().hex
    return lambda: make_store(namespace=namespace, now=now)


async def test_tasks_are_shared_fairly_and_only_the_lister_lists(make_store: MakeStore) -> None:
    # Leases on a stopped clock: none runs out, so the one lister stays the lister even
    # when a loaded machine holds up its renewals past LEASE (a handover then is right,
    # and is tested where a worker stops renewing; renewal itself on a moving clock in
    # test_fleet_handover.py::test_leases_are_renewed_under_a_long_batch_of_events).
    make_store = one_namespace(make_store, now=lambda: 0.0)
    async with fleet_fixture() as (fake, ids):
        workers = [Worker(fake, make_store, f"w{i}") for i in range(3)]
        shared: Any = make_store()  # another connection: what the store says, from outside
        lists: Counter[str] = Counter()
        by_token = {w.user.token: w.name for w in workers}

        def count(request: RecordedRequest) -> None:
            if request.route == "list":
                lists[by_token.get(request.headers.get("Coder-Session-Token", ""), "?")] += 1

        fake.request_observers.append(count)
        want: set[str] = set()
        done = anyio.Event()
        spread: list[int] = []

        def finished() -> bool:
            return done.is_set()

        with anyio.fail_after(BOUND):
            async with anyio.create_task_group() as tg:
                for worker in workers:
                    tg.start_soon(lambda w=worker: w.run(until=finished))
                while True:
                    await anyio.sleep(0.1)
                    leases = [
                        lease for lease in await shared.leases() if not lease.key.startswith("~")
                    ]
                    per_worker = Counter(lease.holder for lease in leases)
                    delivered = set().union(*(w.delivered for w in workers))
                    want = expected_keys(fake, ids)
                    if len(leases) == TASKS and len(per_worker) == 3 and delivered >= want:
                        spread = sorted(per_worker.values())
                        assert len({lease.key for lease in leases}) == TASKS
                        done.set()
                        break
        await shared.aclose()
        assert max(spread) <= math.ceil(TASKS / 3)
        total = Counter[str]()
        for worker in workers:
            total.update(worker.delivered)
        assert set(total) == want and max(total.values()) == 1
        listers = [name for name, calls in lists.items() if calls]
        assert len(listers) == 1 and listers[0] != "?", lists
        for worker in workers:
            await worker.store.aclose()  # type: ignore[attr-defined]


async def test_a_silent_worker_loses_its_tasks_and_nothing_acked_comes_again(
    make_store: MakeStore,
) -> None:
    make_store = one_namespace(make_store)
    async with fleet_fixture() as (fake, ids):
        first = Worker(fake, make_store, "first")
        with anyio.fail_after(BOUND):
            # Alone, the first worker holds every task; it goes silent (no renewals,
            # no goodbye) once it has acknowledged about half of the entries.
            await first.run(until=lambda: first.acked >= 12, abandon=True)
            assert first.fleet is not None and len(first.fleet.held) == TASKS
            second = Worker(fake, make_store, "second")

            def caught_up() -> bool:
                return set(first.delivered) | set(second.delivered) >= expected_keys(fake, ids)

            await second.run(until=caught_up)
        assert not set(first.delivered) & set(second.delivered)  # nothing acked came again
        assert max((first.delivered + second.delivered).values()) == 1
        assert set(first.delivered) | set(second.delivered) == expected_keys(fake, ids)
        for worker in (first, second):
            await worker.store.aclose()  # type: ignore[attr-defined]


async def test_a_deleted_task_s_rows_are_forgotten_and_a_closed_worker_s_presence_too(
    make_store: MakeStore,
) -> None:
    make_store = one_namespace(make_store)
    async with fleet_fixture() as (fake, ids):
        store, other = make_store(), make_store()
        gone, kept = str(ids[0]), str(ids[1])
        lease = 0.6  # a worker alone: nobody takes over if a round is late
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            fleet = coder.follow_fleet(
                store, worker="solo", settled=True, lease=lease, poll=PACE, wake="poll"
            )
            with anyio.fail_after(BOUND):
                async with anyio.create_task_group() as tg:

                    async def consume() -> None:
                        async for _ in fleet:
                            pass  # acknowledged by asking for the next one

                    tg.start_soon(consume)

                    async def saved() -> bool:
                        return len(await other.load_many([gone, kept])) == 2

                    await wait_until(saved, every=0.05, bound=BOUND)
                    await coder.delete_task(ids[0])

                    async def forgotten() -> bool:
                        return gone not in await other.load_many([gone, kept])

                    # After a lease without it in the listing, and the server's 404.
                    await wait_until(forgotten, every=0.05, bound=BOUND)
                    tg.cancel_scope.cancel()
            await fleet.aclose()
        assert await other.load(kept) is not None  # the rest is kept
        # Their lease rows are gone too: a claim starts a new row at token 1 (a row
        # that was only released would hand out token 2).
        presence = "~worker/solo"
        assert await other.claim([gone, presence], "x", lease) == {gone: 1, presence: 1}
        await store.aclose()  # type: ignore[attr-defined]
        await other.aclose()  # type: ignore[attr-defined]
