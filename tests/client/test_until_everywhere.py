"""``until=`` means the same everywhere: a status, a state, several, or a test."""

from __future__ import annotations

import pytest
from helpers import FAST

from coder_tasks_async import CoderTasksClient, TaskState, TaskStatus
from coder_tasks_async.testing import FakeCoder

pytestmark = pytest.mark.anyio


async def test_follow_logs_and_watch_take_state_names_like_wait_for(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("hello", template_version_id=fake_coder.template_version_id)
    async with coder.follow_logs(task, until="idle", settled=True, poll=FAST) as follower:
        events = [e async for e in follower]
    assert events
    assert follower.task is not None and follower.task.state is TaskState.IDLE
    seen = [t async for t in coder.watch(task, until=[TaskStatus.ACTIVE], poll=FAST)]
    assert seen[-1].status is TaskStatus.ACTIVE
    with pytest.raises(ValueError, match="neither a TaskStatus nor a TaskState"):
        coder.follow_logs(task, until="snoozing")


def test_from_env_lets_explicit_values_beat_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODER_URL", "https://env.example.com")
    monkeypatch.setenv("CODER_SESSION_TOKEN", "from-env")
    assert CoderTasksClient.from_env().url == "https://env.example.com"
    client = CoderTasksClient.from_env(url="https://flag.example.com", user_agent="x/1")
    assert client.url == "https://flag.example.com"
