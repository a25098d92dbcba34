"""Chaos: 4 worker processes follow a changing FakeCoder while being killed with SIGKILL.

Real processes (tests/stores/fleet_worker.py), real time, a real SQLite file and a
real PostgreSQL.  While conversations grow and tasks are paused, resumed, deleted
and created, workers are killed at random moments and restarted under new names.
Then, against what the server showed (each conversation's entries, a paused one's
as its snapshot):

* no entry is lost (every entry of every task still there is delivered);
* with a transactional ack (tasks whose id is even) none is delivered twice;
* with a plain ack, a task gets at most one re-delivery per kill;
* after each kill, once the dead worker's leases ran out (checked before the next
  kill, and at the end): every task still there is held by a live worker (one lease
  row per task: exactly one), and no live lease is a dead worker's.

The default is the CI size (150 tasks, 3 kills, 60 operations per store);
``CODER_TASKS_CHAOS=full`` runs the issue's size (1,000 tasks, 8 kills, 400 operations).  Every wait
is on a condition, with a bound; nothing passes by sleeping.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import anyio.abc
import orjson
import pytest
from storekit import KINDS, wait_until

from coder_tasks_async import (
    CoderError,
    CoderTasksClient,
    PostgresCursorStore,
    SQLiteCursorStore,
    Task,
    TaskStatus,
)
from coder_tasks_async.testing import FakeCoder, Timings

pytestmark = pytest.mark.anyio

FULL = os.environ.get("CODER_TASKS_CHAOS") == "full"
TASKS = 1000 if FULL else 150
KILLS = 8 if FULL else 3
OPERATIONS = 400 if FULL else 60
WORKERS = 4
QUICK = Timings(pending=0.05, initializing=0.05, chunk_interval=0.05, chunks=2)
WORKER = Path(__file__).with_name("fleet_worker.py")
BOUND = 600.0 if FULL else 120.0  # seconds: a safety net against a hang, never a pass


def key_of(task_id: UUID, run: str, entry_id: int) -> str:
    return f"{task_id}/{run}/{entry_id}"


class Chaos:
    def __init__(self, fake: FakeCoder, coder: CoderTasksClient, where: str, tmp: Path) -> None:
        self.fake = fake
        self.coder = coder
        self.where = where
        self.tmp = tmp
        self.rng = random.Random(24)
        self.procs: dict[str, anyio.abc.Process] = {}
        self.generation = 0
        self.kills = 0
        #: Times every task was found held by live workers only (before each kill, and
        #: at the end).
        self.takeovers = 0
        #: Per task: the conversations that ended in a pause, as (run, [(id, content)]).
        self.paused: dict[UUID, list[tuple[str, list[tuple[int, str]]]]] = {}
        self.deleted: set[UUID] = set()

    # -- workers --------------------------------------------------------------------

    async def start_worker(self) -> None:
        self.generation += 1
        name = f"worker-{self.generation}"
        args = [sys.executable, str(WORKER), self.fake.url, self.fake.token, self.where, name]
        args.append(str(self.tmp / f"{name}.jsonl"))
        proc = await anyio.open_process(args, stdin=subprocess.DEVNULL, stderr=None)
        assert proc.stdout is not None
        with anyio.fail_after(60):
            line = await proc.stdout.receive()
        assert b"ready" in line, line
        self.procs[name] = proc

    async def kill_one(self) -> None:
        await self.taken_over()  # the previous kill's tasks went to live workers
        name = self.rng.choice(sorted(self.procs))
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        self.kills += 1
        await self.start_worker()

    async def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            await proc.aclose()
        self.procs.clear()

    def live_tasks(self) -> set[str]:
        return {str(t) for t in self.fake.created if t not in self.deleted}

    async def taken_over(self, *, exact: bool = False) -> None:
        """Wait (bounded) until every task still there is held by a live worker and no
        live lease is a dead worker's: a killed worker's leases stay live until they
        run out (LEASE after its last renewal).  ``exact``: and no deleted task's lease
        is left (the lister forgets those a lease after they are gone)."""
        alive = set(self.procs)

        async def held() -> bool:
            leases = await holders(self.where)
            keys = {lease.key for lease in leases}
            live = self.live_tasks()
            covered = keys == live if exact else live <= keys
            return covered and {lease.holder for lease in leases} <= alive

        await wait_until(held, every=0.1, bound=BOUND)
        self.takeovers += 1

    # -- what the server showed, what the workers recorded ------------------------

    def expected(self) -> dict[str, str]:
        """Every entry the server showed of the tasks still there: key -> content."""
        want: dict[str, str] = {}
        for task_id in self.fake.created:
            if task_id in self.deleted:
                continue
            for run, entries in self.paused.get(task_id, []):
                want.update((key_of(task_id, run, i), c) for i, c in entries)
            task = self.fake.task(task_id)
            if task.latest_build.transition == "start":  # live: not paused or stopping
                run = f"{task.build_number}.{task.agent_id}"
                want.update((key_of(task_id, run, e["id"]), e["content"]) for e in task.entries)
        return want

    def deliveries(self) -> list[tuple[str, str, str]]:
        """(key, worker, content) of every recorded delivery, both kinds."""
        rows: list[tuple[str, str, str]] = []
        for log in self.tmp.glob("worker-*.jsonl"):
            for line in log.read_bytes().splitlines():
                rows.append(tuple(orjson.loads(line)))  # type: ignore[arg-type]
        return rows + self.transactional()

    def transactional(self) -> list[tuple[str, str, str]]:
        kind, _, target = self.where.partition(":")
        if kind == "sqlite":
            if not Path(target).exists():
                return []
            db = sqlite3.connect(target, timeout=30)
            try:
                return list(db.execute("SELECT key, worker, content FROM chaos_deliveries"))
            except sqlite3.OperationalError:
                return []  # no worker created the table yet
            finally:
                db.close()
        return _pg_rows(target)

    async def caught_up(self, keys: set[str]) -> None:
        """Wait until every one of ``keys`` was delivered (bounded)."""

        async def delivered() -> bool:
            return keys <= {row[0] for row in await anyio.to_thread.run_sync(self.deliveries)}

        await wait_until(delivered, every=0.2, bound=BOUND)

    # -- the chaos itself -----------------------------------------------------------

    async def operate(self) -> None:
        live = [t for t in self.fake.created if t not in self.deleted]
        task_id = self.rng.choice(live)
        task = await self.coder.get_task(task_id)
        roll = self.rng.random()
        try:
            if roll < 0.5 and task.status is TaskStatus.ACTIVE and task.state == "idle":
                if len(self.fake.task(task_id).entries) < 7:  # a snapshot keeps 10
                    await self.coder.send_input(task, f"more work {self.rng.random():.4f}")
            elif roll < 0.65 and task.status is TaskStatus.ACTIVE:
                await self.pause(task)
            elif roll < 0.8 and task.status is TaskStatus.PAUSED:
                await self.coder.resume_task(task)
            elif roll < 0.9:
                await self.coder.delete_task(task)
                self.deleted.add(task_id)
            else:
                await self.coder.create_task(
                    "a new job", template_version_id=self.fake.template_version_id
                )
        except CoderError:
            pass  # the task moved on in between (busy, not active): the next operation

    async def pause(self, task: Task) -> None:
        fake_task = self.fake.task(task.id)
        run = f"{fake_task.build_number}.{fake_task.agent_id}"
        # The live run must be seen before it is paused, or its entries could only be
        # known from the snapshot (as a conversation of an unknown run).
        live = {key_of(task.id, run, e["id"]) for e in fake_task.entries}
        if not live:
            return
        await self.caught_up(set(list(live)[:1]))
        await self.coder.pause_task(task)
        snapshot = fake_task.snapshot or []
        self.paused.setdefault(task.id, []).append(
            (run, [(e["id"], e["content"]) for e in snapshot])
        )
        # Resumed only once the snapshot was delivered: what no follower saw while it
        # was paused is gone after a resume (a documented limit, not this test's).
        await self.caught_up({key_of(task.id, run, e["id"]) for e in snapshot})


def _pg_rows(dsn: str) -> list[tuple[str, str, str]]:
    import asyncpg

    async def fetch() -> list[tuple[str, str, str]]:
        conn = await asyncpg.connect(dsn)
        try:
            exists = await conn.fetchval("SELECT to_regclass('chaos_deliveries')")
            if exists is None:
                return []
            rows = await conn.fetch("SELECT key, worker, content FROM chaos_deliveries")
            return [(r[0], r[1], r[2]) for r in rows]
        finally:
            await conn.close()

    return anyio.run(fetch)


async def holders(where: str) -> list[Any]:
    kind, _, target = where.partition(":")
    store = (
        SQLiteCursorStore(target, namespace="chaos")
        if kind == "sqlite"
        else PostgresCursorStore(target, namespace="chaos")
    )
    try:
        return [lease for lease in await store.leases() if not lease.key.startswith("~")]
    finally:
        await store.aclose()


async def where_for(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The worker's ``STORE`` argument: a SQLite file, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:{tmp_path / 'fleet.sqlite3'}"
    import asyncpg

    dsn = request.getfixturevalue("postgres_dsn")
    database = f"chaos_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE DATABASE {database}")
    await admin.close()
    return "postgres:" + dsn.rsplit("/", 1)[0] + "/" + database


async def run_chaos(chaos: Chaos) -> dict[str, str]:
    """Start the workers, operate with kills in between, wait until all is delivered and
    held by live workers; return what the server showed (as ``Chaos.expected``)."""
    with anyio.fail_after(BOUND):
        for _ in range(WORKERS):
            await chaos.start_worker()
        kill_at = set(chaos.rng.sample(range(OPERATIONS), KILLS))
        for step in range(OPERATIONS):
            if step in kill_at:
                await chaos.kill_one()
            await chaos.operate()

    # Quiet now: every task still there finishes its turn and is delivered.
    async def quiet() -> bool:
        return not any(
            t.status is TaskStatus.ACTIVE and t.state == "working"
            for t in await chaos.coder.list_tasks(owner=None)
        )

    await wait_until(quiet, every=0.2, bound=BOUND)
    want = chaos.expected()
    await chaos.caught_up(set(want))
    await chaos.taken_over(exact=True)  # the last kill's takeover, and nothing left over
    return want


@pytest.mark.parametrize("kind", KINDS)
async def test_a_fleet_killed_at_random_loses_nothing_and_repeats_nothing_it_committed(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    where = await where_for(kind, tmp_path, request)
    started = time.monotonic()
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            await coder.create_many(
                [f"job {i}" for i in range(TASKS)],
                template_version_id=fake.template_version_id,
            )
            chaos = Chaos(fake, coder, where, tmp_path)
            try:
                want = await run_chaos(chaos)
            finally:
                await chaos.stop_all()
    rows = await anyio.to_thread.run_sync(chaos.deliveries)
    counts = Counter(key for key, _, _ in rows)
    content = {key: text for key, _, text in rows}
    assert set(want) <= set(counts)  # nothing lost
    assert all(content[key] == text for key, text in want.items())  # final content
    transactional = {k: n for k, n in counts.items() if UUID(k.split("/")[0]).int % 2 == 0}
    assert max(transactional.values()) == 1  # exactly once with a transactional ack
    repeats = Counter(k.split("/")[0] for k, n in counts.items() for _ in range(n - 1))
    assert all(n <= chaos.kills for n in repeats.values()), repeats
    # Each kill's takeover was checked (before the next kill, the last one at the end).
    assert chaos.takeovers == chaos.kills + 1
    print(
        f"\nchaos {kind}: {TASKS} tasks, {chaos.kills} kills, {len(rows)} deliveries of "
        f"{len(want)} entries, 0 lost, "
        f"{sum(n - 1 for n in transactional.values())} duplicates with transactional ack, "
        f"{sum(repeats.values())} plain re-deliveries, {time.monotonic() - started:.0f} s"
    )
