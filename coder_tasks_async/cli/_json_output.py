"""JSON for programs: the models' own ``to_dict()`` (wire names, RFC 3339 times with ``Z``).

``coder`` (Go) writes times with ``Z`` for UTC; so does the SDK's serialization, so a
script's ``jq`` filter or date parsing works on both.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coder_tasks_async import LogEvent

__all__ = ["event_json", "jsonable", "print_json", "print_json_line"]


def jsonable(model: Any) -> Any:
    """A model as JSON-ready data (``model.to_dict()``: one serialization for SDK and CLI)."""
    return model.to_dict()


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
