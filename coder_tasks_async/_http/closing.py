"""``async with`` for anything that holds connections and has an ``aclose()``."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncClosing"]

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
