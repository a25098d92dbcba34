"""Cold starts: importing the package, its client, and ``coder-tasks --help`` vs ``import aiohttp``.

Each figure is the median wall time of fresh interpreter processes (``python -c``),
interleaved with the baseline so that load on the machine hits both alike.  The
interpreter's own start-up is included on both sides, as a user feels it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from _measure import Settings, median
from _report import Row, fmt_time

__all__ = ["bench_imports"]

IMPORT_TARGET = 1.12  # x import aiohttp
HELP_TARGET = 0.60

_BASELINE = [sys.executable, "-c", "import aiohttp"]
_IMPORT = [sys.executable, "-c", "import coder_tasks_async"]
# The package root loads its names on first use: this is what a program pays.
_CLIENT = [sys.executable, "-c", "from coder_tasks_async import CoderTasksClient"]
# The console script itself, as a user runs it (it lives beside the interpreter).
_SCRIPT = Path(sys.executable).with_name("coder-tasks")
_HELP = (
    [str(_SCRIPT), "--help"]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from coder_tasks_async.cli import main; main()", "--help"]
)


def _once(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _compare(cmd: list[str], runs: int) -> tuple[float, float]:
    for _ in range(2):  # warm the OS file cache and bytecode caches
        _once(cmd)
        _once(_BASELINE)
    mine: list[float] = []
    base: list[float] = []
    for i in range(runs):
        pair = [(mine, cmd), (base, _BASELINE)]
        for samples, c in pair if i % 2 == 0 else reversed(pair):
            samples.append(_once(c))
    return median(mine), median(base)


def bench_imports(settings: Settings) -> list[Row]:
    runs = settings.pick(7, 21)
    rows = []
    for bench, cmd, target in (
        ("import coder_tasks_async", _IMPORT, IMPORT_TARGET),
        ("import CoderTasksClient", _CLIENT, IMPORT_TARGET),
        ("coder-tasks --help", _HELP, HELP_TARGET),
    ):
        mine, base = _compare(cmd, runs)
        ratio = mine / base
        rows.append(
            Row(
                bench=bench,
                figure="fresh process, wall (median)",
                sdk=fmt_time(mine),
                baseline=fmt_time(base) + " (import aiohttp)",
                ratio=ratio,
                unit="x import aiohttp",
                target=f"<= {target:.2f}x",
                passed=ratio <= target,
                data={"sdk_s": mine, "aiohttp_s": base, "runs": runs},
            )
        )
    return rows
