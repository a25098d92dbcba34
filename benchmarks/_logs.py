"""A 10,000-entry conversation: ``get_logs`` and one follower poll where the last entry changed.

The server (``_server.py logs``) rewrites the last entry on every request, so each
follower poll sees exactly one ``UPDATE``.  The follower's per-poll core is
measured as the follower runs it: ``client.get_logs_raw`` (GET + ``orjson.loads``),
``ConversationTracker.observe`` (which structures the changed entry only), then ``take``.
"""

from __future__ import annotations

from uuid import UUID

import orjson
from _launch import ServerProcess
from _measure import Sample, Settings, interleaved, median, micro
from _raw import RawClient
from _report import Row, fmt_time

from coder_tasks_async import CoderTasksClient, ConversationTracker, Task
from coder_tasks_async._wire import converter
from coder_tasks_async._wire.models import TaskLogs

__all__ = ["bench_logs"]

POLL_TARGET = 1.5
LOGS_CPU_TARGET = 1.4  # x raw client CPU for a whole get_logs call (issue 15)


def _wall(samples: list[Sample]) -> float:
    return median([s.wall_per_op for s in samples])


def _cpu(samples: list[Sample]) -> float:
    return median([s.cpu_per_op for s in samples])


def poll_core(tracker: ConversationTracker, task: Task, raw_logs: list[object], snap: bool) -> int:
    """``observe`` (structures what changed) + ``take``: the follower's work after the GET."""
    tracker.observe(task, raw_logs, snap)
    changed = 0
    while tracker.take() is not None:
        changed += 1
    return changed


async def _get_logs_samples(
    sdk: CoderTasksClient, raw: RawClient, ref: UUID, entries: int, settings: Settings
) -> tuple[list[Sample], list[Sample]]:
    """Interleaved rounds of ``get_logs`` against GET + ``orjson.loads`` of the same path."""
    path = f"/me/{ref}/logs"
    calls = settings.pick(3, 10)

    async def sdk_get_logs() -> int:
        for _ in range(calls):
            logs = await sdk.get_logs(ref)
            assert len(logs.logs) == entries
        return calls

    async def raw_get_logs() -> int:
        for _ in range(calls):
            data = await raw.get_json(path)
            assert len(data["logs"]) == entries
        return calls

    await sdk_get_logs()
    await raw_get_logs()
    return await interleaved(settings.rounds, sdk_get_logs, raw_get_logs)


def _get_logs_rows(
    bench: str, gs: list[Sample], gr: list[Sample], body: bytes, per: dict[str, float]
) -> list[Row]:
    """Wall and CPU per ``get_logs`` call against raw, and the decode alone against loads."""
    size = f"{len(body) / 1e6:.1f} MB"
    cpu_ratio = _cpu(gs) / _cpu(gr)
    return [
        Row(
            bench=bench,
            figure=f"wall per call ({size})",
            sdk=fmt_time(_wall(gs)),
            baseline=fmt_time(_wall(gr)) + " (GET + loads)",
            ratio=_wall(gs) / _wall(gr),
            unit="x raw time",
            data={"sdk_s": _wall(gs), "raw_s": _wall(gr), "body_bytes": len(body)},
        ),
        Row(
            bench=bench,
            figure="client CPU per call",
            sdk=fmt_time(_cpu(gs)),
            baseline=fmt_time(_cpu(gr)) + " (GET + loads)",
            ratio=cpu_ratio,
            unit="x raw CPU",
            target=f"<= {LOGS_CPU_TARGET:.1f}x",
            passed=cpu_ratio <= LOGS_CPU_TARGET,
            data={"sdk_cpu_s": _cpu(gs), "raw_cpu_s": _cpu(gr)},
        ),
        Row(
            bench=bench,
            figure="decode+structure, no HTTP",
            sdk=fmt_time(per["decode"]),
            baseline=fmt_time(per["orjson"]) + " (loads)",
            ratio=per["decode"] / per["orjson"],
            unit="x orjson.loads",
            data={"sdk_s": per["decode"], "orjson_s": per["orjson"]},
        ),
    ]


async def bench_logs_short(srv: ServerProcess, settings: Settings) -> list[Row]:
    """``get_logs`` of a conversation of short entries (``_server.py logs --content-chars``)."""
    ref = UUID(srv.info["TASK_ID"])
    entries = int(srv.info["ENTRIES"])
    async with (
        CoderTasksClient(srv.url, token=srv.token, api="experimental") as sdk,
        RawClient(srv.url, srv.token) as raw,
    ):
        gs, gr = await _get_logs_samples(sdk, raw, ref, entries, settings)
        body = await raw.get_body(f"/me/{ref}/logs")
    per = micro(
        {
            "orjson": lambda: orjson.loads(body),
            "decode": lambda: converter.decode(body, TaskLogs),
        },
        number=settings.pick(5, 20),
        repeat=settings.pick(5, 9),
    )
    return _get_logs_rows(f"get_logs {entries // 1000}k short", gs, gr, body, per)


async def bench_logs(srv: ServerProcess, settings: Settings) -> list[Row]:
    ref = UUID(srv.info["TASK_ID"])
    entries = int(srv.info["ENTRIES"])
    path = f"/me/{ref}/logs"
    polls = settings.pick(5, 20)
    async with (
        CoderTasksClient(srv.url, token=srv.token, api="experimental") as sdk,
        RawClient(srv.url, srv.token) as raw,
    ):
        gs, gr = await _get_logs_samples(sdk, raw, ref, entries, settings)

        task = await sdk.get_task(ref)
        tracker = ConversationTracker()
        first, snapshot = await sdk.get_logs_raw(ref, owner="me")
        poll_core(tracker, task, first, snapshot)

        async def sdk_poll() -> int:
            for _ in range(polls):
                raw_logs, snap = await sdk.get_logs_raw(ref, owner="me")
                changed = poll_core(tracker, task, raw_logs, snap)
                assert changed == 1, changed
            return polls

        async def raw_poll() -> int:
            for _ in range(polls):
                data = await raw.get_json(path)
                assert len(data["logs"]) == entries
            return polls

        await raw_poll()
        ps, pr = await interleaved(settings.rounds, sdk_poll, raw_poll)
        body_a = await raw.get_body(path)
        body_b = await raw.get_body(path)

    # The same poll core without HTTP: decode + observe + structure vs decode alone.
    base = ConversationTracker()
    poll_core(base, task, orjson.loads(body_a)["logs"], False)
    saved = base.cursor.dumps()

    def core() -> None:
        restored = ConversationTracker(cursor=saved)
        data = converter.loads(body_b)
        assert poll_core(restored, task, data["logs"], data.get("snapshot", False)) == 1

    per = micro(
        {
            "core": core,
            "orjson": lambda: orjson.loads(body_b),
            "cursor_loads": lambda: ConversationTracker(cursor=saved),
            "decode": lambda: converter.decode(body_b, TaskLogs),
        },
        number=settings.pick(5, 20),
        repeat=settings.pick(5, 9),
    )
    core_s = per["core"] - per["cursor_loads"]  # restoring the cursor is not part of a poll
    poll_ratio = _wall(ps) / _wall(pr)
    return [
        *_get_logs_rows(f"get_logs {entries // 1000}k", gs, gr, body_b, per),
        Row(
            bench="follower poll 10k",
            figure="wall per poll, 1 change",
            sdk=fmt_time(_wall(ps)),
            baseline=fmt_time(_wall(pr)),
            ratio=poll_ratio,
            unit="x raw GET+loads",
            target=f"<= {POLL_TARGET:.1f}x",
            passed=poll_ratio <= POLL_TARGET,
            data={"sdk_s": _wall(ps), "raw_s": _wall(pr)},
        ),
        Row(
            bench="follower poll 10k",
            figure="client CPU per poll",
            sdk=fmt_time(_cpu(ps)),
            baseline=fmt_time(_cpu(pr)),
            ratio=_cpu(ps) / _cpu(pr),
            unit="x raw CPU",
            data={"sdk_cpu_s": _cpu(ps), "raw_cpu_s": _cpu(pr)},
        ),
        Row(
            bench="follower poll 10k",
            figure="loads+observe+structure, no HTTP",
            sdk=fmt_time(core_s),
            baseline=fmt_time(per["orjson"]) + " (loads)",
            ratio=core_s / per["orjson"],
            unit="x orjson.loads",
            data={"sdk_s": core_s, "orjson_s": per["orjson"]},
        ),
    ]
