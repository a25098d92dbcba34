"""Chaos: thousands of mixed operations through injected faults, then the server's own records.

Seeded and deterministic in what it injects; the fake clock keeps it fast.  Proves:
no duplicated task, no prompt delivered twice, every log entry seen by followers exactly
once and in order, no leaked connection, and the token in no log line or error -- also
while a broken proxy sends absurd or malformed Retry-After and compression bombs, and
while a second client is closed under its callers (who only ever see ClientClosedError).
"""

from __future__ import annotations

import logging
import os
import random
import tracemalloc
from collections import Counter
from collections.abc import Iterable
from contextlib import AsyncExitStack
from typing import Literal
from uuid import UUID

import anyio
import anyio.lowlevel
import pytest
from helpers import eventually
from streamproxy import MODES, StreamProxy

from coder_tasks_async import (
    AmbiguousRequestError,
    CoderError,
    CoderTasksClient,
    NotFoundError,
    PollPolicy,
    Task,
    TaskState,
    TaskStatus,
)
from coder_tasks_async._polling.wake import EVENT_BURST, EVENT_GAP, TURN_CREDIT
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault, RecordedRequest, Timings

pytestmark = pytest.mark.anyio

#: CHAOS_LONG=1 runs ten times as many operations, and measures memory in the hostile run.
LONG = os.environ.get("CHAOS_LONG", "") not in ("", "0")
OPERATIONS = 20_000 if LONG else 2_000
WORKERS = 8
BODY_LIMIT = 256 * 1024
FAULTS = [
    # Rules are tried in turn, each with its own chance: about 25% of requests in all.
    Fault(route="*", kind="status", status=503, rate=0.06),
    Fault(route="*", kind="html", rate=0.04),
    Fault(route="*", kind="rate_limit", rate=0.03, retry_after=1),
    Fault(route="*", kind="reset", rate=0.035),
    Fault(route="*", kind="lost_response", rate=0.035),
    Fault(route="*", kind="truncated_json", rate=0.025),
    # A broken proxy: malformed advice and compression bombs everywhere...
    Fault(route="*", kind="rate_limit", rate=0.008, retry_after="nan"),
    Fault(route="*", kind="rate_limit", rate=0.008, retry_after="-5"),
    Fault(route="*", kind="gzip_bomb", rate=0.01, size=4 * 1024 * 1024),
    # ...and absurd advice (capped to 60 s) on every route a run uses, the followers'
    # task and log reads too: a follower honouring a 60 s wait jumps the shared fake
    # clock a whole minute at once, in the middle of other followers' poll pairs.  (Until
    # 2026-12-08 the followers' routes were left out for a race in settled mode's last
    # poll that the follower has since lost; 18 runs over six seeds found nothing.)
    *[
        Fault(route=route, kind="rate_limit", rate=0.02, retry_after=advice)
        for route in ("create", "list", "delete", "send", "get", "logs")
        for advice in ("1000000000", "Fri, 31 Dec 9999 23:59:59 GMT")
    ],
]
#: Live tasks the run keeps at most: the listing of ~1 KiB per task stays under BODY_LIMIT
#: (a long run grew it past the limit, and every list_tasks failed from then on).
LIVE_TASKS = 120
#: Operations after which the short-lived second client is closed mid-traffic.
CLOSE_AFTER = 600
CHAOS_PACE = PollPolicy(initial=0.5, maximum=2.0, error_maximum=4.0)
#: The routes that read one task: its own path each (the collection path is not one task's).
PER_TASK = ("get", "logs")
#: The documented cap on a storm (README, Wake-ups): a stream ends a poller's wait at most
#: once per EVENT_GAP, after a burst of EVENT_BURST that a turn's end may overdraw by
#: TURN_CREDIT, so one task's path is read at most this often per minute on its account.
STORM_CAP = 60 / EVENT_GAP + EVENT_BURST + TURN_CREDIT


class Driver:
    def __init__(
        self,
        fake: FakeCoder,
        client: CoderTasksClient,
        doomed: CoderTasksClient,
        clock: FakeClock,
    ) -> None:
        self.fake = fake
        self.main = client
        #: A second client that is closed while calls through it are in flight.
        self.doomed = doomed
        self.clock = clock
        self.rand = random.Random(1234)
        self.done = 0
        self.ops: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.messages: list[str] = []
        self.tasks: dict[UUID, Task] = {}
        self.names = 0
        self.sends = 0
        self.followed: list[tuple[UUID, list[tuple[int, str]]]] = []

    @property
    def client(self) -> CoderTasksClient:
        # Every third operation goes through the doomed client while it lives, and
        # keeps trying it after it is closed (each of those calls must raise
        # ClientClosedError, nothing else).
        if self.done % 3 == 0 and self.done < CLOSE_AFTER + 150:
            return self.doomed
        return self.main

    async def worker(self) -> None:
        while self.done < OPERATIONS:
            self.done += 1
            op = self.pick()
            self.ops[op] += 1
            try:
                await getattr(self, op)()
            except CoderError as exc:
                self.errors[type(exc).__name__] += 1
                self.messages += [str(exc), repr(exc)]

    async def closer(self) -> None:
        while self.done < CLOSE_AFTER:
            await anyio.lowlevel.checkpoint()
        await self.doomed.aclose()

    def pick(self) -> str:
        if len(self.tasks) < 5:
            return "create"
        if len(self.tasks) >= LIVE_TASKS:
            return "delete"
        return self.rand.choices(
            ["create", "get", "list", "logs", "send", "delete", "follow"],
            weights=[12, 30, 15, 20, 12, 6, 5],
        )[0]

    def some_task(self) -> Task:
        return self.rand.choice(list(self.tasks.values()))

    async def create(self) -> None:
        self.names += 1
        name = f"chaos-{self.names}"
        task = await self.client.create_task(
            f"prompt for {name}", template_version_id=self.fake.template_version_id, name=name
        )
        assert task.name == name
        self.tasks[task.id] = task

    async def get(self) -> None:
        task = self.some_task()
        try:
            await self.client.get_task(task)
        except NotFoundError:
            self.tasks.pop(task.id, None)

    async def list(self) -> None:
        await self.client.list_tasks()

    async def logs(self) -> None:
        task = self.some_task()
        if self.fake.task(task.id).status == "active":
            await self.client.get_logs(task)

    async def send(self) -> None:
        task = self.some_task()
        fake_task = self.fake.task(task.id)
        if fake_task.status != "active" or fake_task.state == "working":
            return
        self.sends += 1
        try:
            await self.client.send_input(task, f"input {self.sends}")
        except AmbiguousRequestError:
            self.errors["send may have landed"] += 1  # and it is never sent again

    async def delete(self) -> None:
        task = self.some_task()
        self.tasks.pop(task.id, None)
        try:
            await self.client.delete_task(task)
        except CoderError:
            # Perhaps not deleted: keep it (a later get forgets it if it went), so that failed
            # deletes do not pile up tasks nobody deletes again.
            self.tasks[task.id] = task
            raise

    async def follow(self) -> None:
        task = self.some_task()
        start = self.clock.now()
        seen: list[tuple[int, str]] = []
        follower = self.client.follow_logs(
            task,
            settled=True,
            poll=CHAOS_PACE,
            idle_timeout=3,
            until=lambda t: self.clock.now() - start > 60,
        )
        async with follower:
            async for event in follower:
                assert event.entry is not None, "no restarts happen in this run"
                seen.append((event.entry.id, event.entry.content))
        self.followed.append((task.id, seen))


@pytest.mark.parametrize("wake", ["auto", "poll", "hostile"])
async def test_chaos_loses_nothing_and_duplicates_nothing(
    caplog: pytest.LogCaptureFixture, wake: Literal["auto", "poll", "hostile"]
) -> None:
    """``hostile``: the watch streams go through a proxy that stalls, storms, redirects,
    sends garbage, oversized and endless events (tests/streamproxy.py), in turn."""
    clock = FakeClock()
    timings = Timings(pending=1.0, initializing=1.0, chunk_interval=0.5, chunks=3)
    measure = LONG and wake == "hostile"
    if measure:
        tracemalloc.start()
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeCoder(clock=clock, timings=timings, seed=7))
        url, streams = fake.url, None
        if wake == "hostile":
            streams = await stack.enter_async_context(StreamProxy(fake.url, pile=2 << 20).running())
            url = streams.url
        seen_at: list[tuple[float, str, str | None, bool]] = []

        def observe(r: RecordedRequest) -> None:
            storming = (
                streams is not None
                and r.route in PER_TASK
                and streams.storming[str(_workspace(fake, r.path))] > 0
            )
            seen_at.append((clock.now(), r.path, r.route, storming))

        fake.request_observers.append(observe)
        for fault in FAULTS:
            fake.faults.add(fault)
        mode: Literal["auto", "poll"] = "poll" if wake == "poll" else "auto"
        with caplog.at_level(logging.DEBUG, logger="coder_tasks_async"):
            async with (
                CoderTasksClient(
                    url, token=fake.token, clock=clock, max_body_size=BODY_LIMIT, wake=mode
                ) as client,
                CoderTasksClient(
                    url, token=fake.token, clock=clock, max_body_size=BODY_LIMIT, wake=mode
                ) as doomed,
            ):
                driver = Driver(fake, client, doomed, clock)
                async with anyio.create_task_group() as tg:
                    for _ in range(WORKERS):
                        tg.start_soon(driver.worker)
                    tg.start_soon(driver.closer)
                leaked = client.connections_in_use + client.streams_open + doomed.streams_open
                retained = _sdk_memory() if measure else 0
                assert doomed.closed
            if streams is not None:
                await eventually(lambda: streams.open == 0, "the proxy saw every stream closed")
        peak = tracemalloc.get_traced_memory()[1] if measure else 0
        if measure:
            tracemalloc.stop()

    injected = Counter(kind for _, kind in fake.faults.injected)
    created_names = [fake.task(task_id).name for task_id in fake.created]
    delivered = [text for _, text, _ in fake.deliveries]
    entries_checked = lost = 0
    for task_id, seen in driver.followed:
        truth = [(e["id"], e["content"]) for e in fake.task(task_id).entries]
        lost += seen != truth[: len(seen)]  # a missing, changed or repeated entry
        entries_checked += len(seen)
    leaks = sum(fake.token in record.getMessage() for record in caplog.records)
    leaks += sum(fake.token in text for text in driver.messages)
    if streams is not None:
        leaks += len(streams.elsewhere.requests)  # anything at all sent after a redirect
    duplicates = len(created_names) - len(set(created_names))
    duplicates += len(delivered) - len(set(delivered))
    busiest = _busiest_minute((at, path) for at, path, _, _ in seen_at)
    per_task = [(at, path, storming) for at, path, route, storming in seen_at if route in PER_TASK]
    busiest_per_task = _busiest_minute((at, path) for at, path, _ in per_task)
    under_storm = [(at, path) for at, path, storming in per_task if storming]
    busiest_under_storm = _busiest_minute(under_storm)
    report = (
        f"wake={wake} operations={sum(driver.ops.values())} {dict(driver.ops)} "
        f"faults_injected={sum(injected.values())} {dict(injected)} "
        f"requests={len(fake.requests)} errors_surfaced={dict(driver.errors)} "
        f"tasks_created={len(fake.created)} inputs_delivered={len(delivered)} "
        f"followers={len(driver.followed)} entries_checked={entries_checked} "
        f"followers_with_lost_or_repeated_entries={lost} "
        f"leaked={leaked} fake_seconds={clock.now():.0f} duplicates={duplicates} "
        f"token_leaks={leaks} busiest_path_requests_per_minute={busiest} "
        f"busiest_per_task_path_requests_per_minute={busiest_per_task}"
    )
    if streams is not None:
        report += (
            f" streams_served={dict(streams.served)} storm_events={streams.events}"
            f" per_task_reads_under_storm={len(under_storm)}"
            f" busiest_per_task_path_under_storm_per_minute={busiest_under_storm}"
            f" (cap {STORM_CAP:.0f})"
        )
    if measure:
        report += (
            f" peak_traced_memory_mib={peak / 2**20:.1f} (the whole process: fake, proxy, logs)"
            f" sdk_retained_mib={retained / 2**20:.1f}"
        )
    print(report)

    assert sum(driver.ops.values()) >= OPERATIONS
    assert sum(injected.values()) >= 0.18 * len(fake.requests)
    assert len(created_names) == len(set(created_names)), "a task was created twice"
    assert len(delivered) == len(set(delivered)), "an input was delivered twice"
    assert lost == 0, "a follower lost, changed or repeated entries"
    assert entries_checked > 100
    assert leaked == 0
    assert driver.errors["ClientClosedError"] > 0, "the close raced no call"
    assert injected["gzip_bomb"] > 0 and injected["rate_limit"] > 0
    # Absurd Retry-After is capped at 60 s: thousands of operations in fake hours, not years.
    assert clock.now() < 6 * 3600
    assert all(fake.token not in record.getMessage() for record in caplog.records)
    assert all(fake.token not in text for text in driver.messages)
    assert leaks == 0
    assert busiest < 512, "Coder's limit per client and path"
    assert driver.ops["follow"] > 10
    if streams is not None:
        assert {m: streams.served[m] for m in MODES if not streams.served[m]} == {}, streams.served
        assert streams.events > 10_000, "the storms stormed"
        assert len(under_storm) > 0, "no follower read a task while its stream stormed"
        # A ceiling, not the detector: the autojumping clock gives a storm only milliseconds
        # of real time per fake second, so this held even with the gate removed.
        # test_hostile_streams.py's storm test is the one that catches a missing gate.
        assert busiest_under_storm <= STORM_CAP, "a storm cost more reads than documented"
    statuses = {t.status for t in driver.tasks.values()}
    assert statuses <= set(TaskStatus)
    assert TaskState.IDLE.value == "idle"


def _sdk_memory() -> int:
    """Bytes held now by objects the SDK's own modules allocated (not the fake's)."""
    snapshot = tracemalloc.take_snapshot()
    return sum(
        stat.size
        for stat in snapshot.statistics("filename")
        if "coder_tasks_async/_" in stat.traceback[0].filename
    )


def _workspace(fake: FakeCoder, path: str) -> UUID | None:
    """The workspace of the task a per-task path names (/api/v2/tasks/{user}/{task}...)."""
    try:
        return fake.task(path.split("/")[5]).workspace_id
    except (IndexError, KeyError):
        return None


def _busiest_minute(seen: Iterable[tuple[float, str]]) -> int:
    """The most requests one path had within any minute of the fake clock."""
    by_path: dict[str, list[float]] = {}
    for at, path in seen:
        by_path.setdefault(path, []).append(at)
    busiest = 0
    for times in by_path.values():
        start = 0
        for end, at in enumerate(times):
            while times[start] <= at - 60:
                start += 1
            busiest = max(busiest, end - start + 1)
    return busiest
