"""Rendering: aligned tables for people, stable JSON for programs, and one-line errors.

Results go to stdout, progress, notices and errors to stderr.  Tables never cut
identity or state columns: on a terminal only the message column shrinks, and when
stdout is not a terminal (a pipe, a file) nothing is cut at all, so names can be
grepped and copied.  Consoles are made per call: a test runner swaps ``sys.stdout``.

rich (and ``json``) load on the first output, not at import: ``--help`` and argument
errors never print through rich, and importing it costs more than they do.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from rich.console import Console

    from coder_tasks_async import LogEvent, Task, TaskLogEntry, TaskLogs

__all__ = [
    "TASK_COLUMNS",
    "console",
    "entry_header",
    "err_console",
    "escape",
    "event_json",
    "first_line",
    "jsonable",
    "logs_text",
    "parse_columns",
    "print_detail",
    "print_error",
    "print_json",
    "print_json_line",
    "print_notice",
    "print_warning",
    "render_table",
    "task_line",
    "tasks_table",
    "write_stdout",
]

_BOX_CHARS = "│╭╮╰╯─┃┏┓┗┛━ \t"
_STATE_COLOR = {
    "working": "33",
    "idle": "32",
    "complete": "32",
    "completed": "32",
    "failed": "31",
    "failure": "31",
}


@cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class _Console(Console):
        """A rich console that leaves a closed pipe to the CLI's policy (exit 0, not rich's 1)."""

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return _Console


def console() -> Console:
    """Results (stdout), never soft-wrapped or highlighted."""
    return _console_class()(soft_wrap=True, highlight=False)


def err_console() -> Console:
    """Errors, progress and notices (stderr), so stdout stays parseable."""
    return _console_class()(stderr=True, soft_wrap=True, highlight=False)


def escape(text: str) -> str:
    """``text`` with rich markup characters escaped, so it prints literally."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


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
    """One indented JSON document on stdout."""
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False), flush=True)


def print_json_line(data: Any) -> None:
    """One compact JSON line on stdout, flushed (a consumer may be reading live)."""
    import json

    print(json.dumps(data, ensure_ascii=False, separators=(",", ":")), flush=True)


def write_stdout(text: str) -> None:
    """Raw text to stdout (ids, table lines), flushed."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


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


def _message(task: Task) -> str:
    current = task.current_state
    return " ".join((current.message if current else "").split())


def _changed(task: Task) -> str:
    current = task.current_state
    return _ago(current.timestamp if current else None)


#: Column name → value, in ``-c`` order; lower-case names, ``-`` or space accepted.
TASK_COLUMNS: dict[str, Callable[[Task], str]] = {
    "id": lambda t: str(t.id),
    "owner": lambda t: t.owner_name if t.owner_name is not None else str(t.owner_id),
    "name": lambda t: t.name,
    "status": lambda t: str(t.status),
    "state": lambda t: "-" if t.state is None else str(t.state),
    "state changed": _changed,
    "created": lambda t: _ago(t.created_at),
    "template": lambda t: t.template_name or "-",
    "message": _message,
}
DEFAULT_COLUMNS = ("name", "status", "state", "state changed", "message")


def parse_columns(spec: Sequence[str]) -> list[str]:
    """``-c name,status -c message`` as column names; raises ``ValueError`` naming valid ones."""
    names = []
    for part in (p for item in spec for p in item.split(",")):
        name = part.strip().lower().replace("-", " ").replace("_", " ")
        if not name:
            continue
        if name not in TASK_COLUMNS:
            valid = ", ".join(n.replace(" ", "-") for n in TASK_COLUMNS)
            raise ValueError(f"unknown column {part.strip()!r}; valid columns: {valid}")
        names.append(name)
    return names


def _terminal_width() -> int | None:
    """The width to fit on, or ``None`` when stdout is not a terminal (never cut then)."""
    try:
        if not sys.stdout.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns


def _colour() -> bool:
    return _terminal_width() is not None and "NO_COLOR" not in os.environ


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None,
    flexible: str = "MESSAGE",
) -> list[str]:
    """Rows as aligned lines; only the ``flexible`` column is cut (with ``…``) to fit ``width``.

    Other columns keep their full text even if the line then exceeds ``width``.
    """
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    flex = headers.index(flexible) if flexible in headers else -1
    if width is not None and flex >= 0:
        fixed = sum(w for i, w in enumerate(widths) if i != flex) + 2 * (len(headers) - 1)
        widths[flex] = min(widths[flex], max(width - fixed, len(flexible), 10))
    lines = []
    for row in [list(headers), *[list(r) for r in rows]]:
        cells = []
        for i, cell in enumerate(row):
            text = cell
            if i == flex and len(text) > widths[i]:
                text = text[: widths[i] - 1] + "…"
            cells.append(text.ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    return lines


def tasks_table(
    tasks: Sequence[Task],
    *,
    owner: bool = False,
    columns: Sequence[str] | None = None,
    wide: bool = False,
) -> None:
    """Print Coder's ``task list`` columns (or ``columns``) to stdout."""
    names = list(columns or (("owner", *DEFAULT_COLUMNS) if owner else DEFAULT_COLUMNS))
    headers = [n.upper() for n in names]
    rows = [[TASK_COLUMNS[n](t) for n in names] for t in tasks]
    lines = render_table(headers, rows, width=None if wide else _terminal_width())
    colour = _colour()
    if colour and "STATE" in headers:
        # Colour after layout: escape codes have no width.
        at = lines[0].index("STATE")
        for i, task in enumerate(tasks, start=1):
            state = str(task.state) if task.state is not None else ""
            code = _STATE_COLOR.get(state)
            if code and lines[i][at : at + len(state)] == state:
                lines[i] = f"{lines[i][:at]}\x1b[{code}m{state}\x1b[0m{lines[i][at + len(state) :]}"
    if colour:
        lines[0] = f"\x1b[1m{lines[0]}\x1b[0m"
    for line in lines:
        write_stdout(line)


def task_line(task: Task) -> str:
    """One plain line for ``status --watch``: time, name, status, state, message."""
    now = datetime.now().astimezone().strftime("%H:%M:%S")
    state = "-" if task.state is None else str(task.state)
    return f"{now}  {task.name}  {task.status}  {state}  {_message(task)}".rstrip()


def _type_cell(entry: TaskLogEntry) -> str:
    return "[cyan]input[/]" if entry.type == "input" else escape(str(entry.type))


def _clock(entry: TaskLogEntry) -> str:
    return entry.time.astimezone().strftime("%H:%M:%S")


def entry_header(event: LogEvent) -> str:
    """The rule printed above an entry when following in table mode."""
    if event.entry is None:
        return "[magenta]── conversation restarted ──[/]"
    entry = event.entry
    note = " (updated)" if event.kind.value == "update" else ""
    return f"[dim]── #{entry.id}[/] {_type_cell(entry)} [dim]{_clock(entry)}{note} ──[/]"


def logs_text(logs: TaskLogs | Sequence[TaskLogEntry]) -> None:
    """A conversation on stdout: a header line per entry, then its full content."""
    entries = logs if isinstance(logs, Sequence) else logs.logs
    out = console()
    for entry in entries:
        out.print(
            f"[dim]── #{entry.id}[/] {_type_cell(entry)} [dim]{_clock(entry)} ──[/]",
        )
        out.print(escape(entry.content))


def print_error(message: str, hint: str | None = None) -> None:
    """``error: message`` (and ``hint: …``) on stderr: the one error style of the CLI."""
    err = err_console()
    err.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        err.print(f"[dim]hint: {escape(hint)}[/]")


def print_warning(message: str) -> None:
    """``warning: message`` on stderr."""
    err_console().print(f"[yellow]warning:[/] {escape(message)}")


def print_notice(markup: str) -> None:
    """Progress or a note for people, on stderr."""
    err_console().print(markup)


def print_detail(exc: BaseException) -> None:
    """Under ``-v``: what the server sent back, for the curious and for bug reports."""
    err = err_console()
    for attr in ("method", "url", "status", "detail", "snippet"):
        value = getattr(exc, attr, None)
        if value:
            err.print(f"[dim]  {attr}: {escape(str(value))}[/]")
    from coder_tasks_async import CoderError

    from ._errors import CliError

    if not isinstance(exc, CoderError | CliError | ValueError | OSError):
        # Not an error the CLI expects: show where it came from (a bug to report).
        import traceback

        err.print(escape("".join(traceback.format_exception(exc)).rstrip()))
