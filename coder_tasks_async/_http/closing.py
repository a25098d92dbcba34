"""``async with`` for anything that holds connections and has an ``aclose()``, and the
one way to close an aiohttp session."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AsyncClosing", "close_session"]

#: Seconds closing a session may take (its connections are dropped at once).
CLOSE_BOUND = 5.0

#: ``__aexit__``'s third argument.
Traceback = TracebackType | None


class AsyncClosing:
    """A mixin: ``async with thing:`` hands ``thing`` out and awaits ``thing.aclose()`` on
    the way out, however the block ends (``aclose`` is the one place to clean up)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Traceback
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release what this object holds.  Safe to call twice."""
        raise NotImplementedError


async def close_session(session: aiohttp.ClientSession) -> None:
    """Close ``session``, also inside a cancelled scope (a deadline around ``async with``
    that expired): aiohttp drops the connections at once, then awaits their closing, and
    a close cancelled there left the session marked open.  A cancellation is honoured
    once the session is closed, or after :data:`CLOSE_BOUND` (a TLS goodbye may go
    unanswered)."""
    loop = asyncio.get_running_loop()
    closing = asyncio.ensure_future(session.close())
    closing.add_done_callback(_retrieve)  # a close failing after the bound is not news
    deadline = loop.time() + CLOSE_BOUND
    cancel: asyncio.CancelledError | None = None
    with _shield():
        while not closing.done() and (left := deadline - loop.time()) > 0:
            try:
                await asyncio.wait((closing,), timeout=left)
            except asyncio.CancelledError as exc:  # a plain asyncio cancel: comes once
                cancel = exc
    if cancel is not None:
        raise cancel  # the very exception: anyio knows its own cancellations by it
    if closing.done():
        closing.result()  # a close that failed says so


def _shield() -> contextlib.AbstractContextManager[Any]:
    """An anyio scope re-delivers its cancellation on every loop turn (a busy wait here):
    shielded from it when anyio is in use, i.e. loaded (the CLI's short commands do not
    load it, and need not)."""
    anyio = sys.modules.get("anyio")
    return contextlib.nullcontext() if anyio is None else anyio.CancelScope(shield=True)


def _retrieve(closing: asyncio.Future[None]) -> None:
    if not closing.cancelled():
        closing.exception()
