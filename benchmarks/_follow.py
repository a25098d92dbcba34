"""Following 1,000 active tasks from one client (issue 3).

The server (``_server.py fake``) holds 1,000 active tasks whose agents keep working:
each task's last reply grows every ``CHUNK_INTERVAL`` seconds.  1,000 followers
(``client.follow_logs`` with a short fixed ``PollPolicy``) each run a fixed number
of polls; a poll is ``GET task`` + ``GET logs`` (the follower checks the task's
status before every logs fetch), so requests = 2 x polls.

The baseline is 1,000 raw pollers doing the same two GETs with ``orjson.loads`` and
the same pause, over a session with the same connector limit (64), run the same way
(one ``asyncio.gather``).  It is a lower bound, not a correct follower: it never looks
at the entries, so it finds nothing new, dedupes nothing, keeps no cursor and builds
no typed task or event.  The SDK does all of that on every poll (the conversation
tracker alone is ~8 us of a poll that hands out one changed entry of three, growing
with the changed reply's length: ~17 us for a 4-6K-character reply, whose digest for
the saved cursor is a pass over its text), and the row's ratio includes it.

Memory per followed task: in a separate, slower phase under ``tracemalloc`` (over
a subset of the tasks, as tracemalloc slows everything), the Python heap this
process holds above a warmed-up client at the moment every followed task has
been polled at least twice, divided by the number of tasks.  RSS deltas were
not used: a long-lived process reuses freed memory, so they depend on run order.
The SDK's followers only poll (``wake="poll"``), like the raw pollers: the watch
streams are measured by the ``wake`` group.  With the default ``wake="auto"`` each
follower also holds a stream while it sleeps (up to ``max_streams``, 256), about
54 KiB of heap each (21.9 KiB per task here with 256 of 1,000 open, 8 KiB without).
Neither side keeps log entries between polls (the SDK loop lets each event go,
the raw loop never keeps the logs body): the replies grow all along the run, and
an entry held by the loop would make the figure depend on when it was measured.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import Any

import anyio
from _launch import ServerProcess
from _measure import Sample, Settings, interleaved, median
from _raw import RawClient
from _report import Row, fmt_time

from coder_tasks_async import CoderTasksClient, PollPolicy, Task

__all__ = ["CHUNK_INTERVAL", "bench_follow"]

CHUNK_INTERVAL = 0.5
INTERVAL = 0.05
#: Targets: client CPU per poll against raw (issue 27's row), and heap held per task
#: (issue 15's).
CPU_TARGET = 1.10
HEAP_TARGET_KIB = 12.0


async def _task_ids(srv: ServerProcess) -> list[str]:
    async with RawClient(srv.url, srv.token) as raw:
        data = await raw.get_json("", params={"q": ""})
    return [t["id"] for t in data["tasks"]]


def _policy() -> PollPolicy:
    return PollPolicy(initial=INTERVAL, factor=1.0, maximum=INTERVAL, jitter=0.0)


async def sdk_followers(srv: ServerProcess, ids: list[str], polls: int) -> tuple[int, int]:
    """Run one follower per task for ``polls`` polls; returns (polls done, events seen)."""
    done = 0
    events = 0
    policy = _policy()  # immutable: one for all, as a caller would write it
    async with CoderTasksClient(
        srv.url, token=srv.token, api="experimental", max_concurrency=64, wake="poll"
    ) as client:

        async def follow(ref: str) -> None:
            nonlocal done, events
            mine = 0

            def until(_: Task) -> bool:
                nonlocal mine, done
                mine += 1
                done += 1
                return mine >= polls

            async with client.follow_logs(ref, poll=policy, until=until) as follower:
                async for _ in follower:
                    events += 1

        # The same way of running 1,000 coroutines as the raw pollers (an anyio task
        # group costs more per task than a gather, which is not the SDK's doing).
        await asyncio.gather(*(follow(ref) for ref in ids))
    return done, events


async def raw_pollers(srv: ServerProcess, ids: list[str], polls: int) -> int:
    """The same load by hand: GET task, GET logs if active, pause; ``polls`` times each."""
    done = 0
    async with RawClient(srv.url, srv.token, limit=64) as raw:

        async def poll(ref: str) -> None:
            nonlocal done
            for i in range(polls):
                if i:
                    await asyncio.sleep(INTERVAL)
                task = await raw.get_json(f"/me/{ref}")
                if task["status"] == "active":
                    await raw.get_json(f"/me/{ref}/logs")
                done += 1

        await asyncio.gather(*(poll(ref) for ref in ids))
    return done


class _Census:
    """Counts polls per task; fires once every task has polled twice; then says stop."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.polled: dict[str, int] = {}
        self.everyone_twice = anyio.Event()
        self.stop = False

    def poll(self, ref: str) -> bool:
        self.polled[ref] = self.polled.get(ref, 0) + 1
        if len(self.polled) == len(self.ids) and min(self.polled.values()) >= 2:
            self.everyone_twice.set()
        return self.stop


async def _heap_held(srv: ServerProcess, ids: list[str], *, sdk: bool) -> float:
    """Python heap held per followed task while all of them are mid-stream (tracemalloc)."""
    census = _Census(ids)
    held = 0
    tracemalloc.start()
    try:
        async with (
            CoderTasksClient(
                srv.url, token=srv.token, api="experimental", max_concurrency=64, wake="poll"
            ) as client,
            RawClient(srv.url, srv.token, limit=64) as raw,
        ):
            # Sessions, connectors and converters warmed up before the baseline.
            await client.get_task(ids[0])
            await raw.get_json(f"/me/{ids[0]}")
            base = tracemalloc.get_traced_memory()[0]

            async def follow(ref: str) -> None:
                policy = PollPolicy(initial=1.0, factor=1.0, maximum=1.0, jitter=0.0)
                until = lambda _: census.poll(ref)  # noqa: E731
                async with client.follow_logs(ref, poll=policy, until=until) as follower:
                    async for event in follower:
                        del event  # handled: not held while the follower waits

            async def poll(ref: str) -> None:
                while True:
                    task = await raw.get_json(f"/me/{ref}")
                    if task["status"] == "active":
                        await raw.get_json(f"/me/{ref}/logs")
                    if census.poll(ref):
                        return
                    await asyncio.sleep(1.0)

            async def measure() -> None:
                nonlocal held
                await census.everyone_twice.wait()
                held = tracemalloc.get_traced_memory()[0] - base
                census.stop = True

            async with anyio.create_task_group() as tg:
                tg.start_soon(measure)
                for ref in ids:
                    tg.start_soon(follow if sdk else poll, ref)
    finally:
        tracemalloc.stop()
    return held / len(ids)


async def bench_follow(srv: ServerProcess, settings: Settings) -> list[Row]:
    ids = await _task_ids(srv)
    polls = settings.pick(3, 8)
    events: list[int] = []

    async def sdk_run() -> int:
        done, seen = await sdk_followers(srv, ids, polls)
        events.append(seen)
        return done

    async def raw_run() -> int:
        return await raw_pollers(srv, ids, polls)

    await raw_pollers(srv, ids, 1)  # warm the server's per-task caches
    s, r = await interleaved(settings.pick(1, 3), sdk_run, raw_run)
    # tracemalloc slows everything several-fold: a subset is enough for a per-task figure.
    sample = ids[: settings.pick(100, 300)]
    sdk_heap = await _heap_held(srv, sample, sdk=True)
    raw_heap = await _heap_held(srv, sample, sdk=False)

    def rps(samples: list[Sample]) -> float:
        return median([2 * x.ops / x.wall for x in samples])

    def cpu(samples: list[Sample]) -> float:
        return median([x.cpu_per_op for x in samples])

    n = len(ids)
    data: dict[str, Any] = {
        "followers": n,
        "polls_each": polls,
        "events": events,
        "heap_sample_tasks": len(sample),
    }
    return [
        Row(
            bench=f"follow {n} tasks",
            figure="requests/s (2 per poll)",
            sdk=f"{rps(s):,.0f} req/s",
            baseline=f"{rps(r):,.0f} req/s",
            ratio=rps(s) / rps(r),
            unit="x raw req/s",
            data={**data, "sdk_rps": rps(s), "raw_rps": rps(r)},
        ),
        Row(
            bench=f"follow {n} tasks",
            figure="client CPU per poll",
            sdk=fmt_time(cpu(s)),
            baseline=fmt_time(cpu(r)),
            ratio=cpu(s) / cpu(r),
            unit="x raw CPU",
            target=f"<= {CPU_TARGET:.2f}x",
            passed=cpu(s) / cpu(r) <= CPU_TARGET,
            data={"sdk_cpu_s": cpu(s), "raw_cpu_s": cpu(r)},
        ),
        Row(
            bench=f"follow {n} tasks",
            figure="heap held per task",
            sdk=f"{sdk_heap / 1024:.1f} KiB",
            baseline=f"{raw_heap / 1024:.1f} KiB",
            ratio=sdk_heap / raw_heap if raw_heap > 0 else None,
            unit="x raw heap",
            target=f"<= {HEAP_TARGET_KIB:.0f} KiB",
            passed=sdk_heap / 1024 <= HEAP_TARGET_KIB,
            data={"sdk_heap_bytes": sdk_heap, "raw_heap_bytes": raw_heap},
        ),
    ]
