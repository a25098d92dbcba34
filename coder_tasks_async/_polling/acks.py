"""Acknowledgements: a durable follower saves each task's cursor once its caller is done.

A follower given a ``store=`` stamps every event it hands out with the cursor as of
that event (the text ``LogCursor.dumps()`` gives at that moment).  The cursor is
saved when the event is *acknowledged*: explicitly with ``await event.ack()`` (or
``event.ack(connection)``, inside the caller's own transaction), or implicitly when
the caller asks for the next event or leaves the ``async with`` block without an
exception.  So a restarted bot resumes right after the last event it finished with:
at least once across crashes, exactly once with a transactional ack.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from types import TracebackType
from typing import TYPE_CHECKING
from uuid import UUID

import anyio
import attrs

from .._wire.errors import LeaseLostError
from .._wire.loggers import ROOT, get_logger
from .events import LogEvent
from .iterator import Closeable
from .logcursor import LogCursor

if TYPE_CHECKING:
    from .._stores.base import CursorStore

__all__ = ["Acknowledging", "Acks"]

_log = get_logger(f"{ROOT}.polling")


def _no_token(_: UUID) -> int | None:
    return None


class _Stamp:
    """One handed-out event's cursor, waiting to be saved."""

    __slots__ = ("_acks", "cursor", "seq", "task_id", "token")

    def __init__(self, acks: Acks, task_id: UUID, cursor: str, seq: int, token: int | None):
        self._acks = acks
        self.task_id = task_id
        self.cursor = cursor
        self.seq = seq
        self.token = token

    async def ack(self, connection: object = None) -> None:
        await self._acks.save(self, connection)


class Acks:
    """The acknowledgement book of one follower: what was handed out, what is saved.

    ``key_of`` names each task's cursor in the store; ``token_of`` gives the fencing
    token a fleet worker holds for it (``None``: saves are not fenced); ``on_lost``
    hears of a task whose lease was found taken over while acknowledging implicitly.
    ``fenced``: a fleet's book, where a task without a token is one no longer held.
    """

    def __init__(
        self,
        store: CursorStore,
        *,
        key_of: Callable[[UUID], str] = str,
        token_of: Callable[[UUID], int | None] = _no_token,
        on_lost: Callable[[UUID], None] | None = None,
        fenced: bool = False,
    ) -> None:
        self.store = store
        #: Every save must name a token: a task not held (no token) cannot be saved.
        self._fenced = fenced
        self.key_of = key_of
        self._token_of = token_of
        self._on_lost = on_lost
        #: The newest handed-out, unacknowledged stamp of each task.
        self._pending: dict[UUID, _Stamp] = {}
        #: The newest stamp saved for each task (older ones are covered by it).
        self._saved: dict[UUID, int] = {}
        self._seq = 0
        #: Store round trips made for acknowledgements (benchmarks read it).
        self.saves = 0

    async def load(self, task_ids: Collection[UUID]) -> dict[UUID, str]:
        """The saved cursors of ``task_ids`` (one round trip)."""
        keys = {self.key_of(task_id): task_id for task_id in task_ids}
        found = await self.store.load_many(keys) if keys else {}
        return {keys[key]: text for key, text in found.items()}

    def stamp(self, event: LogEvent, cursor: LogCursor) -> LogEvent:
        """``event`` able to ``ack()``: ``cursor`` is its task's cursor right after it."""
        self._seq += 1
        task_id = event.task_id
        stamp = _Stamp(self, task_id, cursor.dumps(), self._seq, self._token_of(task_id))
        self._pending[task_id] = stamp
        return attrs.evolve(event, acker=stamp.ack)

    @property
    def pending(self) -> bool:
        """Events were handed out and not acknowledged yet."""
        return bool(self._pending)

    async def flush(self) -> None:
        """Acknowledge everything handed out (the caller asked for more, or is done).

        A lease found taken over is not an error here: that task is dropped (the new
        holder delivers what was not saved) and ``on_lost`` is told.
        """
        for stamp in list(self._pending.values()):
            try:
                await self.save(stamp, None)
            except LeaseLostError:
                self._pending.pop(stamp.task_id, None)
                _log.info(
                    "lease on task %s was taken over; leaving it",
                    stamp.task_id,
                    extra={"task_id": str(stamp.task_id)},
                )
                if self._on_lost is not None:
                    self._on_lost(stamp.task_id)

    def forget(self, task_id: UUID) -> None:
        """A task is no longer followed here: nothing of it is left to save."""
        self._pending.pop(task_id, None)
        self._saved.pop(task_id, None)

    async def save(self, stamp: _Stamp, connection: object) -> None:
        """Save ``stamp``'s cursor unless a newer one of its task is saved already."""
        task_id = stamp.task_id
        if self._saved.get(task_id, 0) >= stamp.seq:
            return  # an older event: the newer save covers it
        key = self.key_of(task_id)
        if self._fenced and stamp.token is None:
            raise LeaseLostError(key, 0)
        self.saves += 1
        if connection is None:
            # Once sent, a save is seen through: cancelled halfway, the database could
            # have taken it while the caller thinks it did not (and never sees it again).
            with anyio.CancelScope(shield=True):
                await self.store.save(key, stamp.cursor, token=stamp.token)
        else:
            await self.store.save_in(connection, key, stamp.cursor, token=stamp.token)
        self._saved[task_id] = stamp.seq
        if self._pending.get(task_id) is stamp:
            del self._pending[task_id]


class Acknowledging(Closeable):
    """A follower whose ``async with`` block, left without an exception, acknowledges
    the last event handed out (an exception leaves it unacknowledged: delivered again)."""

    _acks: Acks | None = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self._acks is not None:
                await self._acks.flush()
        finally:
            await self.aclose()
