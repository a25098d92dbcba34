"""pytest plugin (registered as the ``coder_tasks_async`` pytest11 entry point).

Fixtures:

* ``fake_clock`` — a :class:`FakeClock` with ``autojump=True``.
* ``fake_coder`` — a started :class:`FakeCoder` on that clock (async; use with
  anyio's pytest plugin, e.g. ``@pytest.mark.anyio``).

Marker:

* ``@pytest.mark.coder_profile("v2.26")`` — the release ``fake_coder`` imitates
  (one of :data:`~coder_tasks_async.testing.PROFILES`; default the newest, ``latest``).  To
  run a test on every release::

      @pytest.mark.parametrize(
          "profile", [pytest.param(p, marks=pytest.mark.coder_profile(p)) for p in PROFILES]
      )
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ._clock import FakeClock
from ._profile import NEWEST
from ._server import FakeCoder

__all__ = ["fake_clock", "fake_coder", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``coder_profile`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers", "coder_profile(name): the Coder release the fake_coder fixture imitates"
    )


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fake clock that jumps forward whenever something sleeps on it."""
    return FakeClock(autojump=True)


@pytest.fixture
async def fake_coder(
    fake_clock: FakeClock, request: pytest.FixtureRequest
) -> AsyncIterator[FakeCoder]:
    """A running :class:`FakeCoder` driven by ``fake_clock``, imitating the release the
    ``coder_profile`` marker names (the newest without one)."""
    marker = request.node.get_closest_marker("coder_profile")
    profile = str(marker.args[0]) if marker is not None and marker.args else NEWEST
    async with FakeCoder(clock=fake_clock, server_version=profile) as fake:
        yield fake
