"""Instructions per ``get_task`` call, SDK beside raw aiohttp + orjson (issue 27).

Timings of one request on a shared 2-core machine move by 20% from run to run; the
instructions the client executes for it hardly move.  This counts them with
``valgrind --tool=callgrind`` (user-space instructions of the client process only:
the server runs in its own process, the kernel's work is not counted), only inside
the measured loops: the client calls ``os.getppid()`` just before a loop
(``--zero-before=getppid`` zeroes the counters) and ``os.getpgrp()`` just after it
(``--dump-before=getpgrp`` writes what was counted since).  Interpreter start-up,
imports and warm-up are left out.

The client (this file run as a script, under valgrind) warms up the SDK and the raw
twin on the same server, then measures them in turns (SDK, raw, raw, SDK), each loop
``calls`` calls from ``concurrency`` workers, and prints nothing: the figures are
read from callgrind's dumps.  Without valgrind installed the rows say so.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from uuid import UUID

from _launch import ServerProcess
from _measure import Settings, median
from _raw import RawClient, run_workers
from _report import Row

from coder_tasks_async import CoderTasksClient

__all__ = ["bench_instructions", "count_instructions"]

#: The order the loops run in: each side goes first once, so drift hits both alike.
_ORDER = ("sdk", "raw", "raw", "sdk")
_SUMMARY = re.compile(rb"^summary:\s+(\d+)", re.MULTILINE)


def count_instructions(
    srv: ServerProcess, task_id: UUID, *, concurrency: int, calls: int
) -> dict[str, float] | None:
    """Instructions per call of ``get_task`` (``"sdk"``) and GET + ``orjson.loads``
    (``"raw"``) at ``concurrency``: the median of each side's loops; ``None`` without
    valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory(prefix="reqpath-") as tmp:
        out = Path(tmp) / "cg.out"
        args = [
            valgrind,
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--zero-before=getppid",
            "--dump-before=getpgrp",
            sys.executable,
            __file__,
            srv.url,
            srv.token,
            str(task_id),
            str(concurrency),
            str(calls),
        ]
        subprocess.run(args, check=True, capture_output=True)
        counts = [_summary(Path(f"{out}.{i}")) for i in range(1, len(_ORDER) + 1)]
    per_side: dict[str, list[float]] = {"sdk": [], "raw": []}
    for side, count in zip(_ORDER, counts, strict=True):
        per_side[side].append(count / calls)
    return {side: median(values) for side, values in per_side.items()}


def _summary(dump: Path) -> int:
    found = _SUMMARY.search(dump.read_bytes())
    if found is None:
        raise RuntimeError(f"no summary line in callgrind's dump {dump}")
    return int(found.group(1))


def bench_instructions(
    srv: ServerProcess,
    task_id: UUID,
    settings: Settings,
    *,
    concurrency: tuple[int, ...],
    label: str = "",
) -> list[Row]:
    """The rows: instructions per ``get_task`` of ``task_id`` on ``srv`` at each
    ``concurrency``, SDK beside raw (``label`` names the server's kind of body)."""
    rows: list[Row] = []
    for workers in concurrency:
        calls = settings.pick(256, 512)
        counts = count_instructions(srv, task_id, concurrency=workers, calls=calls)
        figure = f"instructions/call c={workers}{label}"
        if counts is None:
            missing = Row(
                bench="get_task",
                figure=figure,
                sdk="n/a",
                baseline="n/a (no valgrind)",
                ratio=None,
                unit="x raw instructions",
            )
            rows.append(missing)
            continue
        sdk, raw = counts["sdk"], counts["raw"]
        rows.append(
            Row(
                bench="get_task",
                figure=figure,
                sdk=f"{sdk:,.0f}",
                baseline=f"{raw:,.0f} (GET + loads)",
                ratio=sdk / raw,
                unit="x raw instructions",
                data={"sdk_instructions": sdk, "raw_instructions": raw, "above_raw": sdk - raw},
            )
        )
    return rows


# -- the client, run under valgrind --------------------------------------------------


async def _client(url: str, token: str, task_id: UUID, concurrency: int, calls: int) -> None:
    async with (
        CoderTasksClient(url, token=token, api="experimental", max_concurrency=64) as sdk,
        RawClient(url, token, limit=64) as raw,
    ):
        ops = {
            "sdk": partial(sdk.get_task, task_id),
            "raw": partial(raw.get_json, f"/me/{task_id}"),
        }
        for op in ops.values():  # connections opened, caches and lazily built hooks warm
            await run_workers(concurrency, max(4 * concurrency, 64), op)
        for side in _ORDER:
            gc.collect()
            os.getppid()  # callgrind: zero the counters here
            await run_workers(concurrency, calls, ops[side])
            os.getpgrp()  # callgrind: dump what was counted since


if __name__ == "__main__":
    url, token, task, concurrency, calls = sys.argv[1:6]
    asyncio.run(_client(url, token, UUID(task), int(concurrency), int(calls)))
