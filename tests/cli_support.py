"""Shared by the in-process CLI tests: a real-time FakeCoder in a thread, and the runner.

Most CLI tests run the typer app in-process (typer's ``CliRunner``) against a real-time
FakeCoder served from a background thread, so they cost milliseconds.  Only what needs
a real pipe, a signal or a fresh interpreter runs a subprocess.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from typer.testing import CliRunner

from coder_tasks_async import CoderTasksClient, PollPolicy, Task
from coder_tasks_async.cli import app
from coder_tasks_async.testing import FakeCoder, Timings

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

    def make(self, name: str, prompt: str = "") -> Task:
        async def create() -> Task:
            async with CoderTasksClient(self.fake.url, token=self.fake.token) as coder:
                task = await coder.create_task(
                    prompt or f"Fix {name}",
                    template_version_id=self.fake.template_version_id,
                    name=name,
                )
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
