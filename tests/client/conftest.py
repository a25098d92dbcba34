"""Fixtures of the client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from helpers import WAKE_TIMINGS

from coder_tasks_async import CoderTasksClient
from coder_tasks_async.testing import FakeClock, FakeCoder


@pytest.fixture
async def manual() -> AsyncIterator[tuple[FakeCoder, FakeClock, CoderTasksClient]]:
    """A FakeCoder and a client on a clock that moves only when the test says so."""
    clock = FakeClock(autojump=False)
    async with FakeCoder(clock=clock, timings=WAKE_TIMINGS) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=clock) as client:
            yield fake, clock, client
