"""Shared by the in-process CLI tests: a real-time FakeCoder in a thread, and the runner.

Many CLI tests run the typer app in-process (typer's ``CliRunner``) against a real-time
FakeCoder served from a background thread, so they cost milliseconds.  What a user
sees through a pipe, a terminal, a signal or a dying server runs a real
``coder-tasks`` process (:func:`run_cli`, :class:`Running`).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from typer.testing import CliRunner

from coder_tasks_async import CoderTasksClient, PollPolicy, Task
from coder_tasks_async.cli import app
from coder_tasks_async.testing import FakeClock, FakeCoder, Timings

FAST = Timings(pending=0.05, initializing=0.1, chunk_interval=0.05, chunks=2, stop_job=0.05)
POLL = ("--poll-interval", "0.05")
CLI = (sys.executable, "-m", "coder_tasks_async.cli")
LONG = "Refactoring the authentication middleware to use the new session store " * 2


class Served:
    """A FakeCoder running in its own thread's event loop, and helpers to drive it."""

    def __init__(self, portal: BlockingPortal, fake: FakeCoder, tmp: Path) -> None:
        self.portal = portal
        self.fake = fake
        self.env = {
            "CODER_URL": fake.url,
            "CODER_SESSION_TOKEN": fake.token,
            "CODER_CONFIG_DIR": str(tmp / "coderv2"),
            "CODER_TASK_TEMPLATE_VERSION": None,
            "COLUMNS": "80",
            "NO_COLOR": "1",
        }

    def call(self, func: Any, *args: Any) -> Any:
        return self.portal.call(func, *args)

    def make(self, name: str, prompt: str = "", *, held: bool = False) -> Task:
        """A new task, past its start build; ``held``: its start build stays queued (the
        task ``pending``) until ``fake.finish_build``."""

        async def create() -> Task:
            async with CoderTasksClient(self.fake.url, token=self.fake.token) as coder:
                self.fake.hold_builds = held
                try:
                    task = await coder.create_task(
                        prompt or f"Fix {name}",
                        template_version_id=self.fake.template_version_id,
                        name=name,
                    )
                finally:
                    self.fake.hold_builds = False
                if held:
                    return task
                # Past the start build, as a task made by hand would be: Coder refuses
                # a delete (409) while that build runs.
                fast = PollPolicy(initial=0.05, maximum=0.2)
                return await coder.wait_for(
                    task, until=lambda t: t.status != "pending", timeout=20, poll=fast
                )

        return self.call(create)  # type: ignore[no-any-return]

    def cli(self, *args: str, input: str | None = None, **env: str | None) -> Any:
        result = CliRunner().invoke(
            app, list(args), input=input, env={**self.env, **env}, catch_exceptions=False
        )
        return result

    def subprocess_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
        env.update({k: v for k, v in self.env.items() if v is not None})
        return env


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    version = getattr(request, "param", "v2.31.1")
    with start_blocking_portal() as portal:
        fake = FakeCoder(timings=FAST, server_version=version)
        with portal.wrap_async_context_manager(fake):
            yield Served(portal, fake, tmp_path)


def no_python_leaks(text: str) -> None:
    for leak in ("Traceback", "Error(", "Error)", "<class", "ValueError", "[]", "['"):
        assert leak not in text, text


class Running:
    """A ``coder-tasks`` process whose output lines are read as they come (by threads)."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [*CLI, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self._err.extend(self.proc.stderr)

    @property
    def err(self) -> str:
        """What the process printed on stderr so far."""
        return "".join(self._err)

    def until(self, wanted: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        """Lines until one that is ``wanted`` (returned); fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise AssertionError(f"never printed {what}; got {self.seen}") from None
            if line is None:
                self.lines.put(None)
                raise AssertionError(f"ended before printing {what}: {self.finish()}")
            self.seen.append(line)
            if wanted(line):
                return line

    def err_until(self, text: str, timeout: float = 30) -> None:
        """Wait until stderr shows ``text``; fails after ``timeout`` seconds or at the end."""
        deadline = time.monotonic() + timeout
        while text not in self.err:
            if self.proc.poll() is not None:
                self._readers[1].join(timeout)
                assert text in self.err, f"ended without showing {text!r}: {self.err}"
            assert time.monotonic() < deadline, f"stderr never showed {text!r}: {self.err}"
            time.sleep(0.02)

    def json_until(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """Like :meth:`until`, for JSON lines."""
        line = self.until(lambda text: text.startswith("{") and wanted(json.loads(text)), what)
        return json.loads(line)  # type: ignore[no-any-return]

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        """Wait for the end (bounded); ``(exit code, all stdout lines, stderr)``."""
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        while (line := self.lines.get(timeout=timeout)) is not None:
            self.seen.append(line)
        self.lines.put(None)
        return code, "\n".join(self.seen), self.err

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C, then :meth:`finish`."""
        self.proc.send_signal(signal.SIGINT)
        return self.finish()

    def close(self) -> None:
        """Kill the process if it still runs (a failed test), reap it, close its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        for reader in self._readers:
            reader.join(30)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def run_cli(
    env: dict[str, str], *args: str, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """One ``coder-tasks`` process, as a user runs it; its exit code and output."""
    return subprocess.run(
        [*CLI, *args], env=env, input=input, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip


class Frozen(Served):
    """A FakeCoder whose time moves only when the test moves it; the CLI polls in real time.

    What the CLI sees changes exactly when the test says, so a follower can be caught
    mid-reply without racing the fake's timers.
    """

    def __init__(self, portal: BlockingPortal, fake: FakeCoder, clock: FakeClock, tmp: Path):
        super().__init__(portal, fake, tmp)
        self.clock = clock

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (in its own thread: waking its sleepers needs its loop)."""
        self.portal.call(self.clock.advance, seconds)

    def sdk(self, use: Callable[[CoderTasksClient], Awaitable[Any]]) -> Any:
        """Run ``use(coder)`` with a client of the fake, in the fake's thread."""

        async def call() -> Any:
            async with CoderTasksClient(self.fake.url, token=self.fake.token) as coder:
                return await use(coder)

        return self.call(call)

    def create(self, name: str, prompt: str) -> Task:
        """A new task (pending until the clock moves)."""
        tv = self.fake.template_version_id
        return self.sdk(  # type: ignore[no-any-return]
            lambda coder: coder.create_task(prompt, template_version_id=tv, name=name)
        )


#: Frozen-clock lifecycle: pending 1 s, initializing 1 s, replies of 4 one-second chunks.
FROZEN_TIMINGS = Timings(pending=1.0, initializing=1.0, chunk_interval=1.0, chunks=4)


@pytest.fixture
def frozen(tmp_path: Path) -> Iterator[Frozen]:
    clock = FakeClock(autojump=False)
    with start_blocking_portal() as portal:
        fake = FakeCoder(clock=clock, timings=FROZEN_TIMINGS, server_version="v2.32.0")
        with portal.wrap_async_context_manager(fake):
            yield Frozen(portal, fake, clock, tmp_path)
