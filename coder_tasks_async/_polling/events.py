"""The events a log follower hands out: one class per kind, so types narrow."""

from __future__ import annotations

import enum
from typing import Literal, TypeAlias
from uuid import UUID

from attrs import define

from .._wire.models import TaskLogEntry

__all__ = ["EntryEvent", "LogEvent", "LogEventKind", "PausedEvent", "ResetEvent"]


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


@define(frozen=True, kw_only=True)
class EntryEvent:
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


@define(frozen=True, kw_only=True)
class ResetEvent:
    """The conversation restarted: entries that follow belong to a new conversation."""

    kind: Literal[LogEventKind.RESET] = LogEventKind.RESET
    entry: None = None
    task_id: UUID
    task_name: str = ""
    snapshot: bool = False
    interrupted: Literal[False] = False


@define(frozen=True, kw_only=True)
class PausedEvent:
    """The task is paused: entries that follow come from its stored snapshot."""

    kind: Literal[LogEventKind.PAUSED] = LogEventKind.PAUSED
    entry: None = None
    task_id: UUID
    task_name: str = ""
    snapshot: bool = True
    interrupted: Literal[False] = False


#: One change in a followed conversation; ``kind``, ``match`` or ``isinstance`` narrow it.
LogEvent: TypeAlias = EntryEvent | ResetEvent | PausedEvent
