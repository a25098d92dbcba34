"""The shape every poller shares: an async iterator that is also an async context manager."""

from __future__ import annotations

from typing import Self

from .._http.closing import AsyncClosing

__all__ = ["Closeable"]


class Closeable(AsyncClosing):
    """Async iterator and async context manager whose ``aclose()`` just stops it.

    The pollers run nothing in the background, so closing has nothing to clean up
    and ``break``, cancellation or an exception in the loop body leave nothing behind.
    """

    _done: bool

    def __aiter__(self) -> Self:
        return self

    async def aclose(self) -> None:
        """Stop; the iteration ends."""
        self._done = True
