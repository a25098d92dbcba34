"""Rendering: rich tables for people, stable JSON for programs, and readable errors.

JSON goes to stdout with plain ``print`` (no rich markup, wrapping or colour) so it
can be piped; tables and messages go through rich consoles; errors go to stderr.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

import attrs
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import (
    CoderAPIError,
    CoderError,
    LogEvent,
    LogEventKind,
    Task,
    TaskLogEntry,
    TaskLogs,
    TaskLogType,
    TaskState,
)

__all__ = [
    "console",
    "err_console",
    "event_json",
    "first_line",
    "jsonable",
    "logs_table",
    "print_error",
    "print_exception",
    "print_json",
    "print_json_line",
    "task_line",
    "tasks_table",
]

#: Tables and messages.
console = Console()
#: Errors and progress notes, so stdout stays parseable.
err_console = Console(stderr=True, soft_wrap=True)

_STATE_STYLE = {
    TaskState.WORKING: "yellow",
    TaskState.IDLE: "green",
    TaskState.COMPLETE: "green",
    TaskState.COMPLETED: "green",
    TaskState.FAILED: "red",
    TaskState.FAILURE: "red",
}
_BOX_CHARS = "│╭╮╰╯─┃┏┓┗┛━ \t"


def _serialize(_: Any, __: Any, value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def jsonable(model: Any) -> Any:
    """An attrs model as JSON-ready data: attribute order, wire names, ISO timestamps."""
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
    """One indented JSON document on stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False), flush=True)


def print_json_line(data: Any) -> None:
    """One compact JSON line on stdout, flushed (a consumer may be reading live)."""
    print(json.dumps(data, ensure_ascii=False, separators=(",", ":")), flush=True)


def first_line(content: str, limit: int = 72) -> str:
    """The first meaningful line of ``content`` (box drawing skipped), with ``…`` if cut."""
    lines = content.splitlines()
    for index, raw in enumerate(lines):
        line = raw.strip(_BOX_CHARS)
        if any(ch.isalnum() for ch in line):
            more = index < len(lines) - 1 or len(line) > limit
            return line[: limit - 1] + "…" if len(line) > limit else line + ("…" if more else "")
    return ""


def _ago(when: datetime | None) -> str:
    if when is None:
        return "-"
    seconds = int((datetime.now(UTC) - when).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def _state_cell(task: Task, width: int = 0) -> str:
    """The state, coloured; ``width`` pads the plain text (markup has no width)."""
    state = task.state
    text = "-" if state is None else str(state)
    style = _STATE_STYLE.get(state, "") if state is not None else ""
    padded = escape(text) + " " * max(width - len(text), 0)
    return f"[{style}]{padded}[/]" if style else padded


def tasks_table(tasks: list[Task], *, owner: bool = False) -> Table:
    """Coder's ``task list`` columns: name, status, state, state changed, message."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    if owner:
        table.add_column("OWNER", no_wrap=True)
    table.add_column("NAME", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("STATE", no_wrap=True)
    table.add_column("STATE CHANGED", no_wrap=True)
    table.add_column("MESSAGE", overflow="ellipsis", no_wrap=True)
    for task in tasks:
        current = task.current_state
        row = [
            escape(task.name),
            escape(task.status),
            _state_cell(task),
            _ago(current.timestamp if current else None),
            escape(current.message if current else ""),
        ]
        table.add_row(*([escape(task.owner_name)] if owner else []), *row)
    return table


def task_line(task: Task) -> str:
    """One rich-markup line for ``status --watch``: time, status, state, message."""
    current = task.current_state
    message = escape(current.message) if current and current.message else ""
    now = datetime.now().astimezone().strftime("%H:%M:%S")
    return f"[dim]{now}[/] {escape(f'{task.status:<12}')} {_state_cell(task, 8)} {message}"


def logs_table(logs: TaskLogs) -> Table:
    """The conversation as a table: id, type, time, content."""
    table = Table(box=None, header_style="bold", pad_edge=False, show_lines=False)
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("TYPE", no_wrap=True)
    table.add_column("TIME", no_wrap=True)
    table.add_column("CONTENT")
    for entry in logs.logs:
        table.add_row(str(entry.id), _type_cell(entry), _clock(entry), escape(entry.content))
    return table


def _type_cell(entry: TaskLogEntry) -> str:
    return "[cyan]input[/]" if entry.type is TaskLogType.INPUT else escape(entry.type)


def _clock(entry: TaskLogEntry) -> str:
    return entry.time.astimezone().strftime("%H:%M:%S")


def entry_header(event: LogEvent) -> str:
    """The rule printed above an entry when following in table mode."""
    if event.entry is None:
        return "[magenta]── conversation restarted ──[/]"
    entry = event.entry
    note = " (updated)" if event.kind is LogEventKind.UPDATE else ""
    return f"[dim]── #{entry.id}[/] {_type_cell(entry)} [dim]{_clock(entry)}{note} ──[/]"


def print_error(message: str) -> None:
    """A one-line error on stderr."""
    err_console.print(f"[red]{escape(message)}[/]", highlight=False)


def print_exception(exc: BaseException) -> None:
    """Everything useful about an SDK error on one screen: message, detail, validations."""
    if isinstance(exc, CoderAPIError):
        err_console.print(f"[bold red]Error:[/] {escape(exc.message)}", highlight=False)
        if exc.helper:
            err_console.print(f"  {escape(exc.helper)}", highlight=False)
        if exc.detail:
            err_console.print(f"  [bold]Detail:[/] {escape(exc.detail)}", highlight=False)
        for v in exc.validations:
            err_console.print(
                f"  [bold]Invalid {escape(v.field)}:[/] {escape(v.detail)}", highlight=False
            )
        err_console.print(
            f"  [dim]{exc.status} {escape(exc.method)} {escape(exc.url)}[/]", highlight=False
        )
    elif isinstance(exc, CoderError):
        name = type(exc).__name__
        err_console.print(f"[bold red]Error:[/] {escape(str(exc))} [dim]({name})[/]")
    else:  # a usage error the SDK refused before sending anything
        err_console.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False)


def write_stdout(text: str) -> None:
    """Raw text to stdout (for ``-q`` ids), flushed."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
