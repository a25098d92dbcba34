"""The shape every poller shares: an async iterator that is also an async context manager."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closeable"]


class Closeable:
    """Async iterator and async context manager whose ``aclose()`` just stops it.

    The pollers run nothing in the background, so closing has nothing to clean up
    and ``break``, cancellation or an exception in the loop body leave nothing behind.
    """

    _done: bool

    def __aiter__(self) -> Self:
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop; the iteration ends."""
        self._done = True
