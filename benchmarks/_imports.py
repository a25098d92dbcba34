"""Cold starts: importing the package, its client, and ``coder-tasks --help`` vs ``import aiohttp``;
and what the ``otel`` extra costs the client's import by being installed.

Each figure is the median wall time of fresh interpreter processes (``python -c``),
interleaved with the baseline so that load on the machine hits both alike.  The
interpreter's own start-up is included on both sides, as a user feels it.

Both sides import from bytecode, as an installed package does (pip compiles it):
the processes run with their own ``PYTHONPYCACHEPREFIX``, filled by the warm-up
runs, and without ``PYTHONDONTWRITEBYTECODE``.  With that variable set (CI and
sandboxes often set it) a source checkout is compiled on every import while
aiohttp loads its installed bytecode, and the figure measured the compiler.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import Settings, median
from _report import Row, fmt_time

__all__ = ["bench_imports"]

IMPORT_TARGET = 1.12  # x import aiohttp
HELP_TARGET = 0.50

_BASELINE = [sys.executable, "-c", "import aiohttp"]
_IMPORT = [sys.executable, "-c", "import coder_tasks_async"]
# The package root loads its names on first use: this is what a program pays.
_CLIENT = [sys.executable, "-c", "from coder_tasks_async import CoderTasksClient"]
# The same import with OpenTelemetry made unimportable (``None`` in ``sys.modules`` makes
# ``import opentelemetry...`` raise ImportError), as if the ``otel`` extra were not installed.
_CLIENT_NO_OTEL = [
    sys.executable,
    "-c",
    "import sys; sys.modules['opentelemetry'] = None\n"
    "from coder_tasks_async import CoderTasksClient",
]
OTEL_TARGET = 1.05  # x the same import without OpenTelemetry: noise only
# The console script itself, as a user runs it (it lives beside the interpreter).
_SCRIPT = Path(sys.executable).with_name("coder-tasks")
_HELP = (
    [str(_SCRIPT), "--help"]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from coder_tasks_async.cli import main; main()", "--help"]
)


def _once(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def _compare(
    cmd: list[str], runs: int, env: dict[str, str], baseline: list[str] = _BASELINE
) -> tuple[float, float]:
    for _ in range(2):  # warm the OS file cache and bytecode caches
        _once(cmd, env)
        _once(baseline, env)
    mine: list[float] = []
    base: list[float] = []
    for i in range(runs):
        pair = [(mine, cmd), (base, baseline)]
        for samples, c in pair if i % 2 == 0 else reversed(pair):
            samples.append(_once(c, env))
    return median(mine), median(base)


def _bytecode_env(cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def bench_imports(settings: Settings) -> list[Row]:
    runs = settings.pick(7, 21)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = _bytecode_env(cache)
        for bench, cmd, target in (
            ("import coder_tasks_async", _IMPORT, IMPORT_TARGET),
            ("import CoderTasksClient", _CLIENT, IMPORT_TARGET),
            ("coder-tasks --help", _HELP, HELP_TARGET),
        ):
            rows.append(_row(bench, target, *_compare(cmd, runs, env), runs))
        if importlib.util.find_spec("opentelemetry") is not None:
            loaded = _otel_modules_loaded(env)
            rows.append(_otel_row(*_compare(_CLIENT, runs, env, _CLIENT_NO_OTEL), runs, loaded))
    return rows


def _otel_modules_loaded(env: dict[str, str]) -> int:
    """How many ``opentelemetry`` modules the client's import loads (installed): the
    timing's structural twin, which no load on the machine blurs."""
    count = "print(sum(m.split('.')[0] == 'opentelemetry' for m in sys.modules))"
    probe = f"{_CLIENT[2]}\nimport sys\n{count}"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, env=env)
    return int(out.stdout)


def _otel_row(mine: float, base: float, runs: int, loaded: int) -> Row:
    """The client's import with the ``otel`` extra installed vs made unimportable."""
    ratio = mine / base
    return Row(
        bench="import CoderTasksClient, otel installed",
        figure="fresh process, wall (median)",
        sdk=f"{fmt_time(mine)} ({loaded} opentelemetry modules)",
        baseline=fmt_time(base) + " (opentelemetry unimportable)",
        ratio=ratio,
        unit="x without opentelemetry",
        target=f"<= {OTEL_TARGET:.2f}x",
        passed=ratio <= OTEL_TARGET and loaded == 0,
        data={
            "sdk_s": mine,
            "no_otel_s": base,
            "runs": runs,
            "bytecode": True,
            "opentelemetry_modules": loaded,
        },
    )


def _row(
    bench: str,
    target: float,
    mine: float,
    base: float,
    runs: int,
    figure: str = "fresh process, wall (median)",
) -> Row:
    ratio = mine / base
    return Row(
        bench=bench,
        figure=figure,
        sdk=fmt_time(mine),
        baseline=fmt_time(base) + " (import aiohttp)",
        ratio=ratio,
        unit="x import aiohttp",
        target=f"<= {target:.2f}x",
        passed=ratio <= target,
        data={"sdk_s": mine, "aiohttp_s": base, "runs": runs, "bytecode": True},
    )
