"""Clocks for the fake server: a test-driven one and a real monotonic one.

Both implement the SDK's :class:`coder_tasks_async.Clock` protocol
(``now()`` and ``async sleep()``) and add ``wall()``, which the fake uses to
turn clock seconds into the timestamps it puts on the wire (:class:`WallClock`).
A plain ``Clock`` given to ``FakeCoder`` is wrapped into one (:func:`with_wall`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import anyio
import anyio.lowlevel

if TYPE_CHECKING:
    from coder_tasks_async import Clock

__all__ = ["EPOCH", "FakeClock", "MonotonicClock", "WallClock", "with_wall"]


@runtime_checkable
class WallClock(Protocol):
    """The SDK's ``Clock`` (``now()``, ``async sleep()``) plus ``wall()``: the aware UTC
    time that clock time ``now()`` stands for.  ``FakeCoder.clock`` is one."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock's scale."""
        ...

    def wall(self) -> datetime:
        """Aware UTC wall time consistent with :meth:`now`."""
        ...


class _Walled:
    """A ``Clock`` without ``wall()``: wall time is the real time at wrapping plus its
    seconds since.  Everything else (``advance``, ``autojump``, ...) is the clock's own."""

    __slots__ = ("_clock", "_t0", "_wall0")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._t0 = clock.now()
        self._wall0 = datetime.now(UTC)

    def now(self) -> float:
        return self._clock.now()

    async def sleep(self, seconds: float) -> None:
        await self._clock.sleep(seconds)

    def wall(self) -> datetime:
        return self._wall0 + timedelta(seconds=self._clock.now() - self._t0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._clock, name)

    def __repr__(self) -> str:
        return f"with_wall({self._clock!r})"


def with_wall(clock: Clock) -> WallClock:
    """``clock`` itself when it has ``wall()``, else a wrapper that adds one."""
    return clock if isinstance(clock, WallClock) else _Walled(clock)


#: Wall time that ``FakeClock`` time 0 maps to; matches the fixtures' era so
#: timestamps look like the ones in ``api/fixtures``.
EPOCH = datetime(2025, 10, 27, 14, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to (or, with ``autojump``, when slept on).

    ``autojump=True``: ``sleep(s)`` moves time forward to ``now_at_call + s``
    immediately and yields once, so code that polls or backs off runs at full
    speed and deterministically.

    ``autojump=False``: ``sleep(s)`` blocks until :meth:`advance` or :meth:`set`
    moves time past the target; tests then control every step explicitly.
    """

    __slots__ = ("_autojump", "_now", "_waiters")

    def __init__(self, start: float = 0.0, *, autojump: bool = True) -> None:
        self._now = float(start)
        self._autojump = autojump
        # (target, event) pairs; a list is fine because tests have few sleepers.
        self._waiters: list[tuple[float, anyio.Event]] = []

    @property
    def autojump(self) -> bool:
        """Whether ``sleep`` advances time by itself."""
        return self._autojump

    def now(self) -> float:
        """Current fake time in seconds."""
        return self._now

    def wall(self) -> datetime:
        """Aware UTC wall time: :data:`EPOCH` plus :meth:`now` seconds."""
        return EPOCH + timedelta(seconds=self._now)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of fake time (see the class docstring)."""
        target = self._now + max(float(seconds), 0.0)
        if self._autojump:
            self._now = max(self._now, target)
            # Yield once so other tasks get to observe the new time.
            await anyio.lowlevel.checkpoint()
            return
        if target <= self._now:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        self._waiters.append((target, event))
        try:
            await event.wait()
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not event]

    @property
    def sleepers(self) -> int:
        """Sleeps still waiting for a later time: a test knows its pollers are asleep (done
        with their I/O) once this many are, and only then moves the clock on."""
        return sum(1 for target, _ in self._waiters if target > self._now)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake sleepers whose target passed."""
        if seconds < 0:
            raise ValueError("cannot advance a clock backwards")
        self.set(self._now + seconds)

    def set(self, t: float) -> None:
        """Jump to absolute time ``t`` and wake sleepers whose target passed."""
        self._now = float(t)
        for target, event in list(self._waiters):
            if target <= self._now:
                event.set()

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r}, autojump={self._autojump!r})"


class MonotonicClock:
    """Real time: ``time.monotonic`` plus the real wall clock, for the standalone server."""

    __slots__ = ("_mono0", "_wall0")

    def __init__(self) -> None:
        # Pin wall time to the monotonic scale once so timestamps never jump
        # backwards when the system clock is adjusted.
        self._mono0 = time.monotonic()
        self._wall0 = datetime.now(UTC)

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def wall(self) -> datetime:
        """Aware UTC wall time consistent with :meth:`now`."""
        return self._wall0 + timedelta(seconds=time.monotonic() - self._mono0)

    async def sleep(self, seconds: float) -> None:
        """Really sleep."""
        await anyio.sleep(max(seconds, 0.0))

    def __repr__(self) -> str:
        return "MonotonicClock()"
