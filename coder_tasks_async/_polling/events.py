"""The events a log follower hands out: one class per kind, so types narrow."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Literal, TypeAlias
from uuid import UUID

from attrs import define, field

from .._wire.models import TaskLogEntry
from .logcursor import digest

#: Saves the cursor as of one event: ``None``, or the caller's own connection.
Acker: TypeAlias = Callable[[object], Awaitable[None]]

__all__ = ["EntryEvent", "LogEvent", "LogEventKind", "PausedEvent", "ResetEvent", "entry_event"]


class LogEventKind(enum.Enum):
    """What happened to the conversation."""

    #: An entry handed out for the first time in this conversation.
    NEW = "new"
    #: A known entry whose content changed (live mode: the agent's reply growing).
    UPDATE = "update"
    #: The conversation restarted (a new run of the agent); its entries follow.
    RESET = "reset"
    #: The task was paused; what follows comes from the snapshot stored at pause.
    PAUSED = "paused"


class _Acknowledged:
    """What every event offers a durable follower's caller: ``ack`` and an idempotency key."""

    __slots__ = ()
    task_id: UUID
    conversation: str
    _acker: Acker | None

    async def ack(self, connection: object = None) -> None:
        """Tell the follower you are done with this event: its cursor is saved now.

        Only a follower given a ``store=`` saves anything (elsewhere this does nothing);
        asking for the next event acknowledges this one too.  With ``connection`` (your
        own asyncpg connection, or sqlite3 connection to the store's file) the cursor is
        saved inside your open transaction, so your write and the cursor commit
        together: exactly once.  A fleet worker whose lease on the task was taken over
        gets :class:`~coder_tasks_async.LeaseLostError` (your transaction rolls back;
        the new holder delivers the event).

        Example::

            async with conn.transaction():
                await conn.execute("INSERT INTO replies VALUES ($1)", event.idempotency_key)
                await event.ack(conn)
        """
        if self._acker is not None:
            await self._acker(connection)

    @property
    def idempotency_key(self) -> str:
        """Stable across re-deliveries: ``task id/conversation/entry id`` (and for an
        ``UPDATE`` the content's digest; ``paused``, then ``paused#2`` ... for each
        pause of the task).  Use it to make a handler idempotent."""
        return f"{self.task_id}/{self.conversation}/{self._what()}"

    def _what(self) -> str:
        raise NotImplementedError


@define(frozen=True, kw_only=True)
class EntryEvent(_Acknowledged):
    """A ``NEW`` or ``UPDATE`` of one entry.

    ``interrupted`` is True for the last entry of a snapshot taken while the agent
    was working: a reply cut off by the pause, not a finished one.

    Example::

        match event:
            case EntryEvent(entry=entry, interrupted=False):
                print(entry.id, entry.content)
    """

    kind: Literal[LogEventKind.NEW, LogEventKind.UPDATE]
    entry: TaskLogEntry
    task_id: UUID
    task_name: str = ""
    #: The server answered from the snapshot stored when the task was paused.
    snapshot: bool = False
    interrupted: bool = False
    #: The conversation it belongs to: the run that served it (``"build.agent"``; ``"-n"``
    #: for one known only from the snapshot the task showed at build ``n``).
    conversation: str = ""
    _acker: Acker | None = field(default=None, eq=False, repr=False, alias="acker")

    def _what(self) -> str:
        if self.kind is LogEventKind.UPDATE:
            return f"{self.entry.id}@{digest(self.entry.content)}"
        return str(self.entry.id)


#: Each field's slot of :class:`EntryEvent` (see :func:`entry_event`).
_FIELDS = ("kind", "entry", "task_id", "task_name", "snapshot", "interrupted", "conversation")
(_set_kind, _set_entry, _set_task_id, _set_task_name, _set_snapshot, _set_interrupted,
 _set_conversation, _set_acker) = (
    EntryEvent.__dict__[name].__set__ for name in (*_FIELDS, "_acker")
)  # fmt: skip
_new_event = object.__new__


def entry_event(
    kind: LogEventKind,
    entry: TaskLogEntry,
    task_id: UUID,
    task_name: str,
    snapshot: bool,
    interrupted: bool,
    conversation: str,
) -> EntryEvent:
    """``EntryEvent(kind=kind, entry=entry, ...)`` (no ``acker``; ``kind`` is ``NEW`` or
    ``UPDATE``), at half the cost.

    A follower makes one per entry it hands out, and a frozen attrs class sets each field
    through ``object.__setattr__`` (method lookups per field); this fills the slots
    directly.  EntryEvent has no validators, converters or post-init; a test checks
    that both ways make equal events with the same fields.
    """
    event = _new_event(EntryEvent)
    _set_kind(event, kind)
    _set_entry(event, entry)
    _set_task_id(event, task_id)
    _set_task_name(event, task_name)
    _set_snapshot(event, snapshot)
    _set_interrupted(event, interrupted)
    _set_conversation(event, conversation)
    _set_acker(event, None)
    return event


@define(frozen=True, kw_only=True)
class ResetEvent(_Acknowledged):
    """The conversation restarted: entries that follow belong to a new conversation."""

    kind: Literal[LogEventKind.RESET] = LogEventKind.RESET
    entry: None = None
    task_id: UUID
    task_name: str = ""
    snapshot: bool = False
    interrupted: Literal[False] = False
    #: The new conversation.
    conversation: str = ""
    _acker: Acker | None = field(default=None, eq=False, repr=False, alias="acker")

    def _what(self) -> str:
        return "reset"


@define(frozen=True, kw_only=True)
class PausedEvent(_Acknowledged):
    """The task is paused: entries that follow come from its stored snapshot."""

    kind: Literal[LogEventKind.PAUSED] = LogEventKind.PAUSED
    entry: None = None
    task_id: UUID
    task_name: str = ""
    snapshot: bool = True
    interrupted: Literal[False] = False
    #: The conversation that was paused.
    conversation: str = ""
    #: Which pause of the task this is, as its cursor counts them (1: the first).
    pause: int = 1
    _acker: Acker | None = field(default=None, eq=False, repr=False, alias="acker")

    def _what(self) -> str:
        # The first pause keeps the key it always had; a later one (the same
        # conversation can be paused again) is numbered.
        return "paused" if self.pause <= 1 else f"paused#{self.pause}"


#: One change in a followed conversation; ``kind``, ``match`` or ``isinstance`` narrow it.
LogEvent: TypeAlias = EntryEvent | ResetEvent | PausedEvent
