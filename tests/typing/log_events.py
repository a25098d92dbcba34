"""Checked by mypy --strict in CI: every way a caller narrows a LogEvent gets a typed entry."""

from __future__ import annotations

from typing import assert_type
from uuid import UUID

from coder_tasks_async import (
    EntryEvent,
    LogEvent,
    LogEventKind,
    PausedEvent,
    ResetEvent,
    TaskLogEntry,
)


def by_kind(event: LogEvent) -> None:
    assert_type(event.task_id, UUID)
    if event.kind is LogEventKind.NEW or event.kind is LogEventKind.UPDATE:
        assert_type(event, EntryEvent)
        assert_type(event.entry, TaskLogEntry)
    if event.kind == LogEventKind.RESET:
        assert_type(event, ResetEvent)


def by_match(event: LogEvent) -> str:
    match event:
        case EntryEvent(entry=entry):
            assert_type(entry, TaskLogEntry)
            return entry.content
        case ResetEvent():
            return "reset"
        case PausedEvent():
            return "paused"


def by_isinstance(event: LogEvent) -> str:
    if isinstance(event, EntryEvent):
        return event.entry.content
    assert_type(event, ResetEvent | PausedEvent)
    return ""
