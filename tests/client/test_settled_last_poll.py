"""Settled mode's last poll never hands out an unfinished reply.

The task and its logs are two requests.  When a stop condition held on the task
(here ``until`` idle), the follower used to hand out the held-back newest entry
at once, trusting that task.  An input sent between the two requests left the
logs showing a reply that had only just started next to a task read as idle, and
that unfinished reply went out as final.  Now the stop waits one more poll: the
held entry goes out only when two polls in a row agree it is finished.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from logproxy import LogProxy

from coder_tasks_async import (
    CoderTasksClient,
    EntryEvent,
    LogEvent,
    PollPolicy,
    Task,
    TaskState,
)
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)


class SendBetweenTaskAndLogs(LogProxy):
    """Runs ``hook`` once, between a task answer showing the agent idle and the next
    logs request: an input sent by someone else at the worst moment."""

    def __init__(self, upstream: str, hook: Callable[[], Awaitable[None]]) -> None:
        super().__init__(upstream)
        self.hook = hook
        self.armed = False
        self.fired = False

    async def _handle(self, request: web.Request) -> web.Response:
        if request.path.endswith("/logs") and self.armed:
            self.armed, self.fired = False, True
            await self.hook()
        response = await super()._handle(request)
        if not self.fired and request.method == "GET" and not request.path.endswith("/logs"):
            assert isinstance(response.body, bytes)
            body = json.loads(response.body)
            state = (body.get("current_state") or {}).get("state")
            self.armed = body.get("status") == "active" and state == "idle"
        return response


async def test_a_send_between_task_and_logs_polls_is_not_flushed_unfinished(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    fake = fake_coder
    async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as direct:
        task = await direct.create_task("Fix it", template_version_id=fake.template_version_id)
        await direct.wait_for(task, until="idle", poll=FAST)

        async def someone_sends() -> None:
            await direct.send_input(task, "Go on.")

        idle: Callable[[Task], bool] = lambda t: t.state is TaskState.IDLE  # noqa: E731
        async with (
            SendBetweenTaskAndLogs(fake.url, someone_sends).running() as proxy,
            CoderTasksClient(proxy.url, token=fake.token, clock=fake_clock) as coder,
            coder.follow_logs(task, settled=True, poll=FAST, until=idle) as follower,
        ):
            events: list[LogEvent] = [event async for event in follower]
        assert proxy.fired  # the send really landed between the two requests
    entries = [e.entry for e in events if isinstance(e, EntryEvent)]
    assert [e.id for e in entries] == list(range(len(entries)))  # each once, in order
    for entry in entries:
        assert "Working…" not in entry.content, f"unfinished reply handed out: {entry}"
    assert entries[-1].content.endswith("● Done: Go on.")  # the reply, once finished
