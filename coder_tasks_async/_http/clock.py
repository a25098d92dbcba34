"""Time, as the SDK sees it: one seam so tests can drive every wait.

Everything in the SDK that waits (retry backoff, log polling, ``wait_for``) asks
a :class:`Clock` instead of calling ``time``/``anyio.sleep`` directly.  The real
clock is the default; ``coder_tasks_async.testing.FakeClock`` implements the same
protocol so lifecycle tests run instantly and never flake.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "wall_time"]


@runtime_checkable
class Clock(Protocol):
    """Monotonic time plus an async sleep.

    A clock may also have ``wall()``, an aware ``datetime`` of the wall time consistent
    with ``now()`` (``FakeClock`` has): the SDK then takes it as this machine's wall
    clock (see :func:`wall_time`).

    Example::

        class Instant:
            def __init__(self) -> None:
                self.t = 0.0

            def now(self) -> float:
                return self.t

            async def sleep(self, seconds: float) -> None:
                self.t += max(seconds, 0.0)
    """

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences matter)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock's scale."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    __slots__ = ()

    #: ``time.monotonic()`` itself (no Python frame of its own: every request asks it twice).
    now: staticmethod[[], float] = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep(seconds)``; negative or NaN means zero (a yield), never an error.

        asyncio's own: the SDK runs on asyncio only (aiohttp does), anyio's cancel
        scopes cancel it like any other await, and ``anyio.sleep`` first looks up
        the running backend, which cost a follower ~3 us per poll.
        """
        await asyncio.sleep(seconds if seconds > 0 and not math.isnan(seconds) else 0.0)

    def __repr__(self) -> str:
        return "SystemClock()"


def wall_time(clock: Clock) -> float:
    """This machine's wall time as a Unix timestamp: ``clock.wall()`` where the clock
    has one (a test's fake time), else the system's."""
    wall = getattr(clock, "wall", None)
    if callable(wall):
        return float(wall().timestamp())
    return time.time()
