"""Testing your own code against FakeCoder, with the pytest plugin this package installs.

The ``fake_coder`` fixture is a running FakeCoder on ``fake_clock``, a FakeClock that
jumps ahead whenever something sleeps on it: give your client ``clock=fake_clock`` and
waits of minutes take no real time.  Run with:

    pytest examples/testing_with_fakecoder.py
"""

from __future__ import annotations

import pytest

from coder_tasks_async import CoderTasksClient, NotFoundError, TaskState, TaskStatus
from coder_tasks_async.testing import FakeClock, FakeCoder


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiohttp runs on asyncio only


async def last_line_of_reply(coder: CoderTasksClient, task_name: str) -> str:
    """The code under test: wait for the agent, return the last line it wrote."""
    task = await coder.wait_for(task_name, until=TaskState.IDLE, timeout=600)
    logs = await coder.get_logs(task)
    return logs.logs[-1].content.splitlines()[-1]


@pytest.mark.anyio
async def test_last_line_of_reply(fake_coder: FakeCoder, fake_clock: FakeClock) -> None:
    async with CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=fake_clock) as coder:
        task = await coder.create_task(
            "Fix the bug", template_version_id=fake_coder.template_version_id, name="fix-bug"
        )
        assert task.status is TaskStatus.PENDING

        assert await last_line_of_reply(coder, "fix-bug") == "● Done: Fix the bug"
        assert fake_clock.now() < 60  # fake seconds; the test itself took milliseconds


@pytest.mark.anyio
async def test_task_deleted_elsewhere(fake_coder: FakeCoder, fake_clock: FakeClock) -> None:
    async with CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=fake_clock) as coder:
        task = await coder.create_task("Hi", template_version_id=fake_coder.template_version_id)
        fake_coder.delete_out_of_band(task.id)
        with pytest.raises(NotFoundError):
            await coder.get_task(task)
