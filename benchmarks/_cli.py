"""Everyday ``coder-tasks`` commands against the standalone fake, beside ``import aiohttp``.

A person runs ``coder-tasks list`` many times a day: each run is a fresh interpreter
that imports the CLI, the SDK and aiohttp, asks the server once and prints a
table.  Measured as in ``_imports``: median wall time of fresh processes, interleaved
with ``python -c "import aiohttp"``, from bytecode.  The fake runs in its own process
and holds a few tasks, so ``list`` prints a real table.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from _imports import _SCRIPT, _bytecode_env, _compare, _row
from _launch import standalone_fake
from _measure import Settings
from _report import Row

__all__ = ["bench_cli"]

#: Issue 23: ``coder-tasks list`` at most 1.5x ``import aiohttp`` (it was 0.47 s).
CLI_TARGET = 1.5

_FIGURE = "fresh process against the fake, wall (median)"
_CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "coder_tasks_async.cli"]
_COMMANDS = {
    "coder-tasks list": ["list"],
    "coder-tasks version": ["version"],
}


def bench_cli(settings: Settings) -> list[Row]:
    runs = settings.pick(7, 21)
    rows = []
    with standalone_fake() as srv, tempfile.TemporaryDirectory(prefix="bench-cli-") as cache:
        env = _bytecode_env(cache)
        env = {k: v for k, v in env.items() if not k.startswith("CODER_")}
        env.update(
            CODER_URL=srv.url,
            CODER_SESSION_TOKEN=srv.token,
            CODER_CONFIG_DIR=os.path.join(cache, "coderv2"),
        )
        for name in ("fix-login", "add-tests", "bump-deps"):
            subprocess.run(
                [*_CLI, "create", f"Benchmark task {name}", "--name", name, "-q"],
                env=env, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        for bench, args in _COMMANDS.items():
            mine, base = _compare([*_CLI, *args], runs, env)
            rows.append(_row(bench, CLI_TARGET, mine, base, runs, _FIGURE))
    return rows
