"""Shared pytest configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pgserver import postgres_server

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


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """One PostgreSQL server for the whole session (the store tests and the docs' examples
    share it), on loopback, in a temporary directory; started on first use."""
    with postgres_server() as dsn:
        yield dsn
