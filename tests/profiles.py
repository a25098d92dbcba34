"""FakeCoder release profiles by capability, for tests that need a given behaviour.

Add a release here when FakeCoder learns it; names it cannot parse are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from coder_tasks_async import CoderTasksClient
from coder_tasks_async.testing import FakeClock, FakeCoder
from coder_tasks_async.testing._profile import Profile

_RELEASES = ("v2.31.1", "v2.32.0", "latest")


def _pauses(version: str) -> bool:
    try:
        return Profile.parse(version).pause_resume
    except ValueError:
        return False


#: Releases whose tasks can be paused and answer logs from a stored snapshot.
PAUSE_CAPABLE: tuple[str, ...] = tuple(v for v in _RELEASES if _pauses(v))


@asynccontextmanager
async def fake_at(
    version: str, clock: FakeClock
) -> AsyncIterator[tuple[FakeCoder, CoderTasksClient]]:
    """A FakeCoder at ``version`` and a client of it, both on ``clock``."""
    async with (
        FakeCoder(clock=clock, server_version=version) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=clock) as client,
    ):
        yield fake, client
