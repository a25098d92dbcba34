"""Wake-ups from the workspace watch stream (issue 16): ``wake="auto"`` beside ``wake="poll"``.

One real-time FakeCoder (``_wake_server.py``, a separate process, agent replies of
0.5 s) and clients with the DEFAULT ``PollPolicy``; every figure is measured for
both modes in the same run, at the same time, on tasks of their own (one user per
group, so each client's requests are counted apart).

When a reply is finished is the fake's own record: the final entry's ``time`` is
the moment the fake completes the reply (its agent state flips to idle then).
The fake's clock is ``time.monotonic`` and it announces its wall clock at
monotonic 0, so that timestamp maps onto this process's monotonic clock; the bot
notes ``time.monotonic()`` when its ``follow_logs(settled=True)`` hands the entry
out.  Latency is the difference.

Phases (both modes side by side in each):

1. Active bot: bots on ``active_tasks`` tasks each get the first reply, then
   another client sends input at once; ``active_rounds`` times per task.
2. After idling: bots on ``idle_tasks`` tasks get the first reply, keep following
   for ``idle_seconds`` (plus an offset spread over one longest poll interval, so
   the inputs meet every phase of the bots' pace), then another client sends input
   (one trial per task, all tasks at once, so the idle wait is paid once).
3. Requests per idle task: ``singles`` tasks each followed by one settled
   ``follow_logs`` from the start; requests counted from ``warmup`` seconds in
   until the end of phase 4 (the watch stream opens are counted apart).
4. ``follow_many`` over ``many_tasks`` idle tasks (mode from the client's
   ``wake=``): requests counted over ``window`` seconds after ``warmup``.

Phase 1 alone, with the full run's sizes (about ten seconds; ``--rounds`` inputs
per task, default the full run's): ``python benchmarks/_wake.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import attrs
from _launch import ServerProcess
from _measure import Settings
from _report import Row
from _wake_server import REPLY_SECONDS

from coder_tasks_async import CoderTasksClient, PollPolicy, TaskLogEntry

__all__ = ["bench_wake", "wake_server"]

_HERE = Path(__file__).resolve().parent
#: Client-level ``wake=`` per group suffix.
MODES = {"wake": "auto", "poll": "poll"}
_WAKE_TARGET_MEDIAN = 0.5
_WAKE_TARGET_MAX = 1.0
_IDLE_TASK_TARGET = 1.0
_MANY_TARGET = 20.0


@attrs.define(frozen=True, kw_only=True)
class Plan:
    """Sizes and windows of one run."""

    active_tasks: int
    active_rounds: int
    idle_tasks: int
    idle_seconds: float
    singles: int
    many_tasks: int
    warmup: float
    window: float

    def groups(self) -> dict[str, int]:
        """Users (one per phase and mode) and how many tasks each owns."""
        sizes = {
            "active": self.active_tasks,
            "idle": self.idle_tasks,
            "single": self.singles,
            "many": self.many_tasks,
        }
        return {f"{phase}{mode}": n for phase, n in sizes.items() for mode in MODES}


def plan_for(settings: Settings) -> Plan:
    if settings.quick:
        return Plan(
            active_tasks=3,
            active_rounds=1,
            idle_tasks=4,
            idle_seconds=20.0,
            singles=2,
            many_tasks=200,
            warmup=10.0,
            window=25.0,
        )
    return Plan(
        active_tasks=5,
        active_rounds=2,
        idle_tasks=10,
        idle_seconds=60.0,
        singles=3,
        many_tasks=200,
        warmup=20.0,
        # Longer than the slow pace (150 s) of a poller whose streams all report idle,
        # so the window sees at least one of its list calls.
        window=160.0,
    )


def wake_server(plan: Plan) -> ServerProcess:
    """The fake of ``_wake_server.py`` with one user per group of ``plan``."""
    args = [str(_HERE / "_wake_server.py")]
    for name, count in plan.groups().items():
        args += ["--group", f"{name}={count}"]
    return ServerProcess(args, expect=("URL", "CONTROL", "WALL0_NS", "READY"))


def _client(srv: ServerProcess, group: str, wake: str) -> CoderTasksClient:
    token = srv.info[f"TOKEN_{group.upper()}"]
    return CoderTasksClient(srv.url, token=token, api="experimental", wake=wake)


async def _counts(srv: ServerProcess) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(srv.info["CONTROL"] + "/counts") as resp,
    ):
        return dict(await resp.json())


def _requests(counts: dict[str, Any], group: str) -> int:
    return int(counts["users"].get(group, {}).get("requests", 0))


class Bot:
    """A settled ``follow_logs`` that notes when each entry is handed out (monotonic)."""

    def __init__(self, client: CoderTasksClient, task_id: Any, wall0_ns: int) -> None:
        self.client = client
        self.task_id = task_id
        self.wall0_s = wall0_ns / 1e9
        self.got: dict[int, tuple[float, TaskLogEntry]] = {}
        self._arrived = asyncio.Event()

    async def run(self) -> None:
        async with self.client.follow_logs(self.task_id, settled=True) as follower:
            async for event in follower:
                entry = getattr(event, "entry", None)
                if entry is None:
                    raise RuntimeError(f"unexpected {event!r}: the benchmark restarts nothing")
                self.got[entry.id] = (time.monotonic(), entry)
                self._arrived.set()
                self._arrived = asyncio.Event()

    async def entry(self, entry_id: int) -> tuple[float, TaskLogEntry]:
        while entry_id not in self.got:
            await self._arrived.wait()
        return self.got[entry_id]

    async def latency(self, entry_id: int, sent: float) -> float:
        """Seconds from the fake finishing reply ``entry_id`` to this bot handing it out.

        ``sent``: this process's monotonic time just before the input went out; the
        reply cannot finish earlier than that plus its duration, a check that the
        fake's timestamp really maps onto this clock.
        """
        received, entry = await self.entry(entry_id)
        if entry.type != "output" or "● Done:" not in entry.content:
            raise RuntimeError(f"entry {entry_id} handed out unfinished: {entry.content!r}")
        finished = entry.time.timestamp() - self.wall0_s  # the fake's monotonic time
        if finished < sent + REPLY_SECONDS - 0.01:
            raise RuntimeError(f"reply finished {sent + REPLY_SECONDS - finished:.3f} s too early")
        return received - finished


async def _task_ids(client: CoderTasksClient) -> list[Any]:
    return sorted((t.id for t in await client.list_tasks()), key=str)


async def _with_bots(
    srv: ServerProcess,
    group: str,
    wake: str,
    trial: Callable[[Bot, CoderTasksClient], Awaitable[list[float]]],
) -> list[float]:
    """One bot per task of ``group``; ``trial`` runs per bot; all latencies, then stop."""
    out: list[float] = []
    wall0 = int(srv.info["WALL0_NS"])
    async with _client(srv, group, wake) as client, _client(srv, group, "poll") as sender:
        ids = await _task_ids(client)
        bots = [Bot(client, i, wall0) for i in ids]
        async with anyio.create_task_group() as tg:
            for bot in bots:
                tg.start_soon(bot.run)

            async def one(bot: Bot) -> None:
                out.extend(await trial(bot, sender))

            async with anyio.create_task_group() as trials:
                for bot in bots:
                    trials.start_soon(one, bot)
            tg.cancel_scope.cancel()
    return out


def _active_trial(rounds: int) -> Callable[[Bot, CoderTasksClient], Awaitable[list[float]]]:
    async def trial(bot: Bot, sender: CoderTasksClient) -> list[float]:
        await bot.entry(2)  # the first reply: the bot is active now
        out = []
        for r in range(rounds):
            sent = time.monotonic()
            await sender.send_input(bot.task_id, f"Round {r}: now fix TestLogout too.")
            out.append(await bot.latency(2 + 2 * (r + 1), sent))
        return out

    return trial


def _idle_trial(
    seconds: float, tasks: int
) -> Callable[[Bot, CoderTasksClient], Awaitable[list[float]]]:
    # The bots start together, so their polls stay nearly in step: the inputs go out
    # spread evenly over one longest poll interval, at every phase of the pace.
    spread = PollPolicy().maximum / tasks
    turn = iter(range(tasks))

    async def trial(bot: Bot, sender: CoderTasksClient) -> list[float]:
        offset = next(turn) * spread
        await bot.entry(2)
        await asyncio.sleep(seconds + offset)  # the bot keeps following: its pace backs off
        sent = time.monotonic()
        await sender.send_input(bot.task_id, "Back from lunch: open the pull request.")
        return [await bot.latency(4, sent)]

    return trial


async def _both(
    run: Callable[[str], Awaitable[list[float]]],
) -> dict[str, list[float]]:
    """``run(suffix)`` for every mode at the same time."""
    results: dict[str, list[float]] = {}

    async def one(suffix: str) -> None:
        results[suffix] = await run(suffix)

    async with anyio.create_task_group() as tg:
        for suffix in MODES:
            tg.start_soon(one, suffix)
    return results


async def _singles(srv: ServerProcess, suffix: str, stop: anyio.Event) -> None:
    """One settled follower per task of ``single<suffix>`` until ``stop``."""
    wall0 = int(srv.info["WALL0_NS"])
    async with _client(srv, f"single{suffix}", MODES[suffix]) as client:
        bots = [Bot(client, i, wall0) for i in await _task_ids(client)]
        async with anyio.create_task_group() as tg:
            for bot in bots:
                tg.start_soon(bot.run)
            await stop.wait()
            tg.cancel_scope.cancel()


async def _many(srv: ServerProcess, suffix: str, plan: Plan) -> dict[str, Any]:
    """``follow_many`` over the idle tasks of ``many<suffix>``; requests in the window."""
    group = f"many{suffix}"
    seen = 0
    async with _client(srv, group, MODES[suffix]) as client:
        ids = await _task_ids(client)
        async with anyio.create_task_group() as tg:

            async def follow() -> None:
                nonlocal seen
                async with client.follow_many(ids, settled=True) as events:
                    async for _ in events:
                        seen += 1

            tg.start_soon(follow)
            await asyncio.sleep(plan.warmup)
            before = await _counts(srv)
            t0 = time.monotonic()
            await asyncio.sleep(plan.window)
            after = await _counts(srv)
            elapsed = time.monotonic() - t0
            tg.cancel_scope.cancel()
    requests = _requests(after, group) - _requests(before, group)
    return {
        "tasks": len(ids),
        "events": seen,
        "window_s": elapsed,
        "requests": requests,
        "per_minute": requests * 60.0 / elapsed,
        "routes": after["users"].get(group, {}).get("routes", {}),
        "streams_opened": after["users"].get(group, {}).get("streams", 0),
    }


def _latency_rows(bench: str, lat: dict[str, list[float]]) -> list[Row]:
    wake, poll = lat["wake"], lat["poll"]
    data = {"wake_s": wake, "poll_s": poll, "trials": len(wake)}
    rows = []
    for what, fn, target in (
        ("median", statistics.median, _WAKE_TARGET_MEDIAN),
        ("max", max, _WAKE_TARGET_MAX),
    ):
        value = fn(wake)
        rows.append(
            Row(
                bench=bench,
                figure=f"reply done -> bot has it, {what} ({len(wake)} trials)",
                sdk=f"wake: {value:.2f} s",
                baseline=f"poll: {fn(poll):.2f} s",
                ratio=value,
                unit="s (wake)",
                target=f"<= {target:g} s",
                passed=value <= target,
                data=data if what == "median" else {},
            )
        )
    return rows


def _rate_row(bench: str, figure: str, res: dict[str, dict[str, Any]], target: float) -> Row:
    wake, poll = res["wake"]["per_minute"], res["poll"]["per_minute"]
    return Row(
        bench=bench,
        figure=figure,
        sdk=f"wake: {wake:.2f}/min ({res['wake']['requests']} req)",
        baseline=f"poll: {poll:.2f}/min ({res['poll']['requests']} req)",
        ratio=wake,
        unit="req/min (wake)",
        target=f"<= {target:g}/min",
        passed=wake <= target,
        data=res,
    )


async def bench_wake(srv: ServerProcess, settings: Settings) -> list[Row]:
    plan = plan_for(settings)
    stop_singles = anyio.Event()
    singles: dict[str, dict[str, Any]] = {}
    async with anyio.create_task_group() as tg:
        for suffix in MODES:
            tg.start_soon(_singles, srv, suffix, stop_singles)
        started = time.monotonic()

        def idle(suffix: str) -> Awaitable[list[float]]:
            trial = _idle_trial(plan.idle_seconds, plan.idle_tasks)
            return _with_bots(srv, f"idle{suffix}", MODES[suffix], trial)

        active_lat = await _active_only(srv, plan)
        # The singles' window opens after their warm-up (phase 1 may be shorter).
        await asyncio.sleep(max(0.0, started + plan.warmup - time.monotonic()))
        singles_before = await _counts(srv)
        singles_t0 = time.monotonic()
        idle_lat = await _both(idle)
        many: dict[str, dict[str, Any]] = {}

        async def many_one(suffix: str) -> list[float]:
            many[suffix] = await _many(srv, suffix, plan)
            return []

        await _both(many_one)
        singles_after = await _counts(srv)
        elapsed = time.monotonic() - singles_t0
        stop_singles.set()
    for suffix in MODES:
        group = f"single{suffix}"
        requests = _requests(singles_after, group) - _requests(singles_before, group)
        singles[suffix] = {
            "tasks": plan.singles,
            "window_s": elapsed,
            "requests": requests,
            "per_minute": requests * 60.0 / elapsed / plan.singles,
            "routes": singles_after["users"].get(group, {}).get("routes", {}),
            "streams_opened": singles_after["users"].get(group, {}).get("streams", 0),
        }
    unknown = singles_after["users"].get("unknown")
    if unknown:
        singles["unattributed"] = unknown
    return [
        *_latency_rows("wake: active bot", active_lat),
        *_latency_rows(f"wake: after {plan.idle_seconds:g} s idle", idle_lat),
        _rate_row(
            "wake: idle follow_logs",
            f"requests per idle task per minute ({elapsed:.0f} s window, {plan.singles} tasks)",
            singles,
            _IDLE_TASK_TARGET,
        ),
        _rate_row(
            f"wake: follow_many {plan.many_tasks}",
            f"requests per minute, all tasks ({plan.window:g} s window)",
            many,
            _MANY_TARGET,
        ),
    ]


async def _active_only(srv: ServerProcess, plan: Plan) -> dict[str, list[float]]:
    def active(suffix: str) -> Awaitable[list[float]]:
        trial = _active_trial(plan.active_rounds)
        return _with_bots(srv, f"active{suffix}", MODES[suffix], trial)

    return await _both(active)


def main() -> None:
    """Phase 1 (the active bot) alone, with the full run's sizes."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    full = plan_for(Settings())
    parser.add_argument("--rounds", type=int, default=full.active_rounds, help="inputs per task")
    plan = attrs.evolve(full, active_rounds=parser.parse_args().rounds)
    with wake_server(plan) as srv:
        lat = asyncio.run(_active_only(srv, plan))
    for row in _latency_rows("wake: active bot", lat):
        print(f"{row.figure}: {row.sdk} ({row.baseline}), target {row.target}")


if __name__ == "__main__":
    main()
