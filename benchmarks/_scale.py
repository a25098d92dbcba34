"""Scale curves (issue 27): ``follow_many`` and ``create_many`` at growing sizes, each
beside its raw aiohttp + orjson twin, to show how the cost per task grows.

``follow_many`` at 1,000 and 10,000 idle tasks (50,000 with ``--scale-max 50000``: the
fake then serves 57 MB listings and the run takes ~15 minutes).  The server is
``_wake_server.py``: the SDK's ``FakeCoder`` in real time, its agents done with their
first reply half a second after start, one user for the SDK's tasks and one for the
raw twin's, so the fake's request census counts each apart.  Both sides poll at a fixed
``INTERVAL`` (``PollPolicy(initial=INTERVAL, factor=1)``, ``wake="poll"``: streams are
the ``wake`` group's subject) and list their user's tasks once per interval.

The raw twin does by hand what ``follow_many`` decides for idle tasks: one listing per
interval (``orjson.loads``), then the logs of every active task whose agent works or
reports no state, or whose state changed lately (fewer than two quiet intervals), or
every fifth quiet interval, all at once under the connector's limit of 64.  It keeps
one ``(fingerprint, quiet count)`` per task; the SDK keeps a follower per task.

Figures per size, each side measured on its own (SDK and raw take turns):

* CPU per interval: this process's CPU time over a window of 5 intervals (10 at 1,000)
  (counted by the fake as list calls) after 5 intervals of warm-up (the first reads
  of every conversation), divided by them; and the same per task against the
  smallest size, which stays at 1.00x when growth is linear.  Idle tasks' logs are
  read every fifth quiet interval, all in the same interval, so a window of whole
  periods of five sees the same share of those reads on both sides.
* Requests per minute in that window (the fake's census, wall time of the window).
* Heap per task: the smallest ``tracemalloc`` heap seen while the side polls its
  third and fourth interval (between polls: what it holds, not a decode in flight),
  above the heap before the side started, divided by the tasks.  The decoder's caches
  and memos are emptied first, so nothing the follower holds was allocated untraced.

``create_many`` at 1,000 and 10,000: ``client.create_many(prompts, concurrency=64)``
against ``asyncio.gather`` + ``Semaphore(64)`` of raw POSTs on ``_server.py fake``
(zero start-up timings), a fresh server per size; wall and client CPU per create.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from _http import raw_creates, sdk_creates
from _launch import ServerProcess, bench_server
from _measure import Settings, interleaved, median
from _raw import RawClient
from _report import Row, fmt_time

from coder_tasks_async import CoderTasksClient, PollPolicy
from coder_tasks_async._wire import converter

__all__ = ["bench_scale"]

_HERE = Path(__file__).resolve().parent
INTERVAL = 1.0
#: A side: runs until cancelled, against (url, token).
Side = Callable[[str, str], Awaitable[None]]


def sizes(settings: Settings) -> tuple[list[int], list[int]]:
    """(follow_many sizes, create_many sizes) for this run."""
    follow = [n for n in (1_000, 10_000, 50_000) if n <= settings.scale_max]
    create = [n for n in (1_000, 10_000) if n <= settings.scale_max]
    return (follow[:1], create[:1]) if settings.quick else (follow, create)


# -- the two sides of follow_many ----------------------------------------------------------


async def sdk_follow_many(url: str, token: str) -> None:
    policy = PollPolicy(initial=INTERVAL, factor=1.0, maximum=INTERVAL, jitter=0.0)
    async with (
        CoderTasksClient(
            url, token=token, api="experimental", max_concurrency=64, wake="poll"
        ) as client,
        client.follow_many(owner="me", poll=policy) as events,
    ):
        async for event in events:
            del event  # handed out and let go, as a service passing events on would


def _fingerprint(task: dict[str, Any]) -> tuple[Any, ...]:
    health, state = task.get("workspace_agent_health"), task.get("current_state")
    return (
        task.get("status"),
        task.get("workspace_agent_lifecycle"),
        None if health is None else (health.get("healthy"), health.get("reason", "")),
        None if state is None else (state.get("state"), state.get("message", "")),
        None if state is None else state.get("timestamp"),
    )


async def raw_follow_many(url: str, token: str) -> None:
    marks: dict[str, tuple[tuple[Any, ...] | None, int]] = {}
    async with RawClient(url, token, limit=64) as raw:

        async def logs(task_id: str) -> None:
            data = await raw.get_json(f"/me/{task_id}/logs")
            assert isinstance(data["logs"], list)

        while True:
            listing = await raw.get_json("", params={"q": "owner:me"})
            due = []
            for task in listing["tasks"]:
                if task["status"] != "active":
                    continue
                state = task.get("current_state")
                if state is None or state.get("state") == "working":
                    marks[task["id"]] = (None, 0)
                    due.append(task["id"])
                    continue
                mark = _fingerprint(task)
                previous, quiet = marks.get(task["id"], (None, 0))
                quiet = quiet + 1 if mark == previous else 0
                marks[task["id"]] = (mark, quiet)
                if quiet < 2 or quiet % 5 == 0:
                    due.append(task["id"])
            await asyncio.gather(*(logs(task_id) for task_id in due))
            await asyncio.sleep(INTERVAL)


# -- measuring a side ------------------------------------------------------------------


async def _census(control: str, user: str) -> Counter[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(control + "/counts") as resp,
    ):
        data = await resp.json()
    return Counter(data["users"].get(user, {}).get("routes", {}))


async def _until_lists(control: str, user: str, count: int) -> Counter[str]:
    while True:
        routes = await _census(control, user)
        if routes["list"] >= count:
            return routes
        await asyncio.sleep(0.1)


async def _window(
    side: Side, srv: ServerProcess, user: str, warm: int, lists: int
) -> dict[str, float]:
    """CPU per interval and requests per minute of ``side`` over ``lists`` intervals."""
    control = srv.info["CONTROL"]
    before = (await _census(control, user))["list"]
    running = asyncio.ensure_future(side(srv.url, srv.info[f"TOKEN_{user.upper()}"]))
    try:
        start = await _until_lists(control, user, before + warm)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        end = await _until_lists(control, user, start["list"] + lists)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    intervals = end["list"] - start["list"]
    requests = sum(end.values()) - sum(start.values())
    return {
        "cpu_per_interval": cpu / intervals,
        "requests_per_minute": requests * 60 / wall,
        "interval_s": wall / intervals,
        "logs_per_interval": (end["logs"] - start["logs"]) / intervals,
    }


def _forget_decoded() -> None:
    """Empty the decoder's caches and memos, so what a follower holds is allocated (and
    traced) while it runs: objects kept from an earlier phase would go uncounted."""
    for name in (
        "_UUIDS",
        "_TIMES",
        "_ENTRIES",
        "_LISTED",
        "_TASKS",
        "_ENTRY_RUNS",
        "_LISTED_RUNS",
    ):
        memo = getattr(converter, name, None)
        if memo is not None:
            memo.clear()


async def _heap(side: Side, srv: ServerProcess, user: str, tasks: int) -> float:
    """Heap held per task between the side's polls (smallest ``tracemalloc`` reading)."""
    control = srv.info["CONTROL"]
    before = (await _census(control, user))["list"]
    _forget_decoded()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    running = asyncio.ensure_future(side(srv.url, srv.info[f"TOKEN_{user.upper()}"]))
    try:
        await _until_lists(control, user, before + 3)
        lowest = None
        while (await _census(control, user))["list"] < before + 5:
            held = tracemalloc.get_traced_memory()[0] - base
            lowest = held if lowest is None else min(lowest, held)
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        tracemalloc.stop()
    return (lowest or 0) / tasks


def _scale_server(tasks: int) -> ServerProcess:
    args = [str(_HERE / "_wake_server.py"), "--group", f"sdk={tasks}", "--group", f"raw={tasks}"]
    return ServerProcess(args, expect=("URL", "CONTROL", "READY"))


async def _follow_size(srv: ServerProcess, tasks: int, settings: Settings) -> dict[str, Any]:
    small = tasks <= 1_000
    rounds = settings.pick(1, 2 if small else 1)
    # Idle tasks' logs are read every fifth quiet interval, all in the same interval:
    # windows of whole periods of five see the same share of those reads on both sides.
    lists = settings.pick(5, 10 if small else 5)
    sdk: list[dict[str, float]] = []
    raw: list[dict[str, float]] = []
    await asyncio.sleep(1.0)  # every agent has finished its first reply: idle tasks
    for i in range(rounds):
        order = [(sdk, sdk_follow_many, "sdk"), (raw, raw_follow_many, "raw")]
        for samples, side, user in order if i % 2 == 0 else order[::-1]:
            samples.append(await _window(side, srv, user, warm=5, lists=lists))
    heap_sdk = await _heap(sdk_follow_many, srv, "sdk", tasks)
    heap_raw = await _heap(raw_follow_many, srv, "raw", tasks)

    def med(samples: list[dict[str, float]], key: str) -> float:
        return median([s[key] for s in samples])

    out: dict[str, Any] = {"tasks": tasks, "heap_sdk": heap_sdk, "heap_raw": heap_raw}
    for key in ("cpu_per_interval", "requests_per_minute", "interval_s", "logs_per_interval"):
        out[f"{key}_sdk"], out[f"{key}_raw"] = med(sdk, key), med(raw, key)
    return out


def _follow_rows(points: list[dict[str, Any]]) -> list[Row]:
    rows = []
    first = points[0]
    for p in points:
        n = p["tasks"]
        bench = f"scale follow_many {n:,}"
        sdk_cpu, raw_cpu = p["cpu_per_interval_sdk"], p["cpu_per_interval_raw"]
        # Growth: CPU per interval per task against the smallest size (1.00 = linear).
        growth_sdk = (sdk_cpu / n) / (first["cpu_per_interval_sdk"] / first["tasks"])
        growth_raw = (raw_cpu / n) / (first["cpu_per_interval_raw"] / first["tasks"])
        rows += [
            Row(
                bench=bench,
                figure="client CPU per interval",
                sdk=fmt_time(sdk_cpu),
                baseline=fmt_time(raw_cpu) + " (raw twin)",
                ratio=sdk_cpu / raw_cpu,
                unit="x raw CPU",
                data=p,
            ),
            Row(
                bench=bench,
                figure="CPU per interval per task, vs smallest",
                sdk=f"{sdk_cpu / n * 1e6:.1f} us ({growth_sdk:.2f}x)",
                baseline=f"{raw_cpu / n * 1e6:.1f} us ({growth_raw:.2f}x)",
                ratio=growth_sdk,
                unit="x per-task CPU at smallest",
            ),
            Row(
                bench=bench,
                figure="requests per minute",
                sdk=f"{p['requests_per_minute_sdk']:,.0f}/min",
                baseline=f"{p['requests_per_minute_raw']:,.0f}/min",
                ratio=p["requests_per_minute_sdk"] / p["requests_per_minute_raw"],
                unit="x raw requests",
            ),
            Row(
                bench=bench,
                figure="heap held per task",
                sdk=f"{p['heap_sdk'] / 1024:.1f} KiB",
                baseline=f"{p['heap_raw'] / 1024:.1f} KiB",
                ratio=p["heap_sdk"] / p["heap_raw"] if p["heap_raw"] > 0 else None,
                unit="x raw heap",
            ),
        ]
    return rows


# -- create_many -------------------------------------------------------------------------


async def _create_size(srv: ServerProcess, count: int, settings: Settings) -> dict[str, Any]:
    tv = srv.info["TEMPLATE_VERSION_ID"]
    rounds = settings.pick(1, 3 if count <= 1_000 else 1)
    s, r = await interleaved(
        rounds, partial(sdk_creates, srv, count, tv), partial(raw_creates, srv, count, tv)
    )
    out: dict[str, Any] = {"count": count}
    for name, samples in (("sdk", s), ("raw", r)):
        out[f"wall_{name}"] = median([x.wall_per_op for x in samples])
        out[f"cpu_{name}"] = median([x.cpu_per_op for x in samples])
    return out


def _create_rows(points: list[dict[str, Any]]) -> list[Row]:
    rows = []
    first = points[0]
    for p in points:
        bench = f"scale create_many {p['count']:,}"
        growth_sdk, growth_raw = p["cpu_sdk"] / first["cpu_sdk"], p["cpu_raw"] / first["cpu_raw"]
        rows += [
            Row(
                bench=bench,
                figure="wall per create, c=64",
                sdk=fmt_time(p["wall_sdk"]),
                baseline=fmt_time(p["wall_raw"]),
                ratio=p["wall_sdk"] / p["wall_raw"],
                unit="x raw time",
                data=p,
            ),
            Row(
                bench=bench,
                figure="client CPU per create, vs smallest",
                sdk=f"{fmt_time(p['cpu_sdk'])} ({growth_sdk:.2f}x)",
                baseline=f"{fmt_time(p['cpu_raw'])} ({growth_raw:.2f}x)",
                ratio=p["cpu_sdk"] / p["cpu_raw"],
                unit="x raw CPU",
            ),
        ]
    return rows


def bench_scale(settings: Settings) -> list[Row]:
    follow_sizes, create_sizes = sizes(settings)
    follow: list[dict[str, Any]] = []
    for tasks in follow_sizes:
        with _scale_server(tasks) as srv:
            follow.append(asyncio.run(_follow_size(srv, tasks, settings)))
    create: list[dict[str, Any]] = []
    for count in create_sizes:
        with bench_server("fake", "--tasks", "0") as srv:
            create.append(asyncio.run(_create_size(srv, count, settings)))
    return _follow_rows(follow) + _create_rows(create)
