"""Shared pytest configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from coder_tasks_async import CoderTasksClient
from coder_tasks_async.testing import FakeClock, FakeCoder


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio (aiohttp needs it)."""
    return "asyncio"


@pytest.fixture
async def coder(fake_coder: FakeCoder, fake_clock: FakeClock) -> AsyncIterator[CoderTasksClient]:
    """A client of the ``fake_coder`` fixture, on its clock."""
    async with CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=fake_clock) as client:
        yield client
