"""A client closed while its followers open watch streams: they end with ClientClosedError."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from coder_tasks_async import ClientClosedError, CoderTasksClient, PollPolicy
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)


@pytest.mark.parametrize("yields", range(0, 240, 4))
async def test_closing_the_client_while_streams_open_raises_only_client_closed(
    fake_coder: FakeCoder, fake_clock: FakeClock, yields: int
) -> None:
    """Regression: a stream opened as the client closed raised RuntimeError('Session is
    closed') out of the follower.  Each case closes the client after a few more loop turns,
    to land at different points of the stream's opening."""
    client = CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=fake_clock)
    task = await client.create_task("hi", template_version_id=fake_coder.template_version_id)
    errors: list[BaseException] = []

    async def follow() -> None:
        try:
            async with client.follow_logs(task, poll=FAST) as follower:
                async for _ in follower:
                    pass
        except ClientClosedError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(follow)
        for _ in range(yields):
            await asyncio.sleep(0)  # loop turns, not time: lets the followers get going
        await client.aclose()
    assert len(errors) == 4
    assert client.streams_open == 0
