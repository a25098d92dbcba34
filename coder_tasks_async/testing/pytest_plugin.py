"""pytest plugin (registered as the ``coder_tasks_async`` pytest11 entry point).

Fixtures:

* ``fake_clock`` — a :class:`FakeClock` with ``autojump=True``.
* ``fake_coder`` — a started :class:`FakeCoder` on that clock (async; use with
  anyio's pytest plugin, e.g. ``@pytest.mark.anyio``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ._clock import FakeClock
from ._server import FakeCoder

__all__ = ["fake_clock", "fake_coder"]


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fake clock that jumps forward whenever something sleeps on it."""
    return FakeClock(autojump=True)


@pytest.fixture
async def fake_coder(fake_clock: FakeClock) -> AsyncIterator[FakeCoder]:
    """A running :class:`FakeCoder` driven by ``fake_clock``."""
    async with FakeCoder(clock=fake_clock) as fake:
        yield fake
