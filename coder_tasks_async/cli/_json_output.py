"""JSON for programs: the wire's field names and order, times in RFC 3339 as Coder writes them.

``coder`` (Go) writes times with ``Z`` for UTC and only the fractional digits it
needs (``2025-01-02T03:04:05.5Z``); so does this module, so a script's ``jq``
filter or date parsing works on both.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from coder_tasks_async import LogEvent

__all__ = ["event_json", "jsonable", "print_json", "print_json_line", "rfc3339"]


def rfc3339(when: datetime, *, fraction: bool = True) -> str:
    """``when`` as Go's ``time.RFC3339Nano`` (``fraction=False``: ``time.RFC3339``)."""
    offset = when.utcoffset()
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction and when.microsecond:
        text += f".{when.microsecond:06d}".rstrip("0")
    if offset is None or offset == timedelta(0):
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _serialize(_: Any, __: Any, value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Enum):
        return value.value
    return value


def jsonable(model: Any) -> Any:
    """An attrs model as JSON-ready data: attribute order, wire names, RFC 3339 times."""
    import attrs

    return attrs.asdict(model, value_serializer=_serialize)


def event_json(event: LogEvent) -> dict[str, Any]:
    """One followed-log event as a JSON line's object."""
    return {
        "kind": event.kind.value,
        "task_id": None if event.task_id is None else str(event.task_id),
        "task_name": event.task_name,
        "snapshot": event.snapshot,
        "entry": None if event.entry is None else jsonable(event.entry),
    }


def print_json(data: Any) -> None:
    """One JSON document on stdout, indented by two spaces as ``coder -o json`` does."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_json_line(data: Any) -> None:
    """One compact JSON line on stdout, flushed (a consumer may be reading live)."""
    import json

    sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()
