"""Tables for people: ``coder``'s column names for ``-c``, aligned in display cells.

Identity and state columns are never cut.  On a terminal only the flexible column
(the message, or a log entry's content) shrinks to fit; when stdout is not a
terminal (a pipe, a file) nothing is cut at all, so names can be grepped and copied.
Colour is added after the layout, so escape codes never count as width.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._terminal import cells, paint, styled, terminal_width, truncate, write_stdout

if TYPE_CHECKING:
    from coder_tasks_async import Task

__all__ = [
    "LIST_COLUMNS",
    "LOG_COLUMNS",
    "STATUS_COLUMNS",
    "ColumnSet",
    "ago",
    "first_line",
    "print_table",
    "render_table",
]

_BOX_CHARS = "│╭╮╰╯─┃┏┓┗┛━ \t"
_STATE_STYLE = {
    "working": "yellow",
    "idle": "green",
    "complete": "green",
    "completed": "green",
    "failed": "red",
    "failure": "red",
}


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """``coder``'s "state changed" text: a Go duration in whole seconds, then ``ago``."""
    if when is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        text = f"{hours}h{minutes}m{secs}s"
    elif minutes:
        text = f"{minutes}m{secs}s"
    else:
        text = f"{secs}s"
    return f"{sign}{text} ago"


def first_line(content: str, limit: int = 72) -> str:
    """The first meaningful line of ``content`` (box drawing skipped), with ``…`` if cut."""
    lines = content.splitlines()
    for index, raw in enumerate(lines):
        line = raw.strip(_BOX_CHARS)
        if any(ch.isalnum() for ch in line):
            if cells(line) > limit:
                return truncate(line, limit)
            return line + ("…" if index < len(lines) - 1 else "")
    return ""


def rfc3339(when: datetime) -> str:
    """A table's time, as ``coder``'s tables write it (Go's ``time.RFC3339``: no fraction)."""
    text = when.replace(microsecond=0).isoformat()
    return text.removesuffix("+00:00") + "Z" if when.utcoffset() == UTC.utcoffset(None) else text


def _text(value: Any) -> str:
    """A cell's text: nothing for a missing value, plain words otherwise."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return rfc3339(value)
    return " ".join(str(value).split())


def _health(task: Task) -> str:
    health = task.workspace_agent_health
    if health is None:
        return ""
    return "true" if health.healthy else f"false ({health.reason})" if health.reason else "false"


def _healthy(task: Task) -> str:
    """``coder task status``'s HEALTHY: agent healthy and neither starting nor shutting down."""
    health = task.workspace_agent_health
    lifecycle = str(task.workspace_agent_lifecycle or "")
    up = lifecycle not in ("", "created", "starting", "shutting_down")
    return "true" if health is not None and health.healthy and up else "false"


def _message(task: Task) -> str:
    current = task.current_state
    return _text(current.message if current else "")


def _state_changed(task: Task) -> str:
    current = task.current_state
    return ago(current.timestamp) if current else ""


TaskGetter = Callable[["Task"], str]

#: ``coder task list``'s 27 columns, in its order: every one maps to a Task field.
_TASK_COLUMNS: dict[str, TaskGetter] = {
    "id": lambda t: str(t.id),
    "organization id": lambda t: str(t.organization_id),
    "owner id": lambda t: str(t.owner_id),
    "owner name": lambda t: _text(t.owner_name),
    "owner avatar url": lambda t: t.owner_avatar_url,
    "name": lambda t: t.name,
    "display name": lambda t: _text(t.display_name),
    "template id": lambda t: str(t.template_id),
    "template version id": lambda t: _text(t.template_version_id),
    "template name": lambda t: t.template_name,
    "template display name": lambda t: _text(t.template_display_name),
    "template icon": lambda t: t.template_icon,
    "workspace id": lambda t: _text(t.workspace_id),
    "workspace name": lambda t: t.workspace_name,
    "workspace status": lambda t: _text(t.workspace_status),
    "workspace build number": lambda t: str(t.workspace_build_number or ""),
    "workspace agent id": lambda t: _text(t.workspace_agent_id),
    "workspace agent lifecycle": lambda t: _text(t.workspace_agent_lifecycle),
    "workspace agent health": _health,
    "workspace app id": lambda t: _text(t.workspace_app_id),
    "initial prompt": lambda t: _text(t.initial_prompt),
    "status": lambda t: str(t.status),
    "state": lambda t: _text(t.state),
    "message": _message,
    "created at": lambda t: _text(t.created_at),
    "updated at": lambda t: _text(t.updated_at),
    "state changed": _state_changed,
}
#: Shorter names this CLI accepted before it took ``coder``'s; they still work.
_TASK_ALIASES = {
    "owner": "owner name",
    "template": "template name",
    "created": "created at",
    "prompt": "initial prompt",
}


class ColumnSet:
    """The columns one command offers: names for ``-c``, its default, and the flexible one."""

    def __init__(
        self,
        getters: dict[str, Callable[[Any], str]],
        default: Sequence[str],
        *,
        flexible: str,
        aliases: dict[str, str] | None = None,
    ) -> None:
        self.getters = getters
        self.default = tuple(default)
        self.flexible = flexible
        self.aliases = aliases or {}

    def names(self) -> list[str]:
        """Every column name, as ``-c`` accepts and help lists them."""
        return list(self.getters)

    def parse(self, spec: Sequence[str]) -> list[str]:
        """``-c name,status -c "state changed"`` as column names; ``ValueError`` names valid ones.

        Names are matched without regard to case, and ``-`` or ``_`` stand for a space.
        """
        chosen = []
        for part in (p for item in spec for p in item.split(",")):
            name = " ".join(part.strip().lower().replace("-", " ").replace("_", " ").split())
            if not name:
                continue
            name = self.aliases.get(name, name)
            if name not in self.getters:
                valid = ", ".join(self.getters)
                raise ValueError(f"unknown column {part.strip()!r}; columns: {valid}")
            chosen.append(name)
        return chosen

    def rows(self, items: Sequence[Any], columns: Sequence[str]) -> list[list[str]]:
        """One row of cell texts per item."""
        getters = [self.getters[name] for name in columns]
        return [[get(item) for get in getters] for item in items]


LIST_COLUMNS = ColumnSet(
    _TASK_COLUMNS,
    ("name", "status", "state", "state changed", "message"),
    flexible="message",
    aliases=_TASK_ALIASES,
)
STATUS_COLUMNS = ColumnSet(
    {**_TASK_COLUMNS, "healthy": _healthy},
    ("state changed", "status", "healthy", "state", "message"),
    flexible="message",
    aliases=_TASK_ALIASES,
)
LOG_COLUMNS = ColumnSet(
    {
        "id": lambda e: str(e.id),
        "content": lambda e: _text(e.content),
        "type": lambda e: str(e.type),
        "time": lambda e: _text(e.time),
    },
    ("type", "content"),
    flexible="content",
)


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None,
    flexible: str = "MESSAGE",
    widths: Sequence[int] | None = None,
    paint_cell: Callable[[str, str], str] | None = None,
) -> list[str]:
    """Rows as lines aligned in display cells; only the ``flexible`` column is cut.

    ``width``: the terminal's columns (``None``: never cut).  ``widths``: minimum
    column widths (``status --watch`` keeps its columns still from line to line).
    Other columns keep their full text even if the line then exceeds ``width``.
    ``paint_cell(header, text)`` styles a data cell after the layout, so escape codes
    never count as width.
    """
    sizes = [max(cells(h), *(cells(row[i]) for row in rows)) for i, h in enumerate(headers)]
    if widths:
        sizes = [max(size, minimum) for size, minimum in zip(sizes, widths, strict=False)]
    flex = headers.index(flexible) if flexible in headers else -1
    if width is not None and flex >= 0:
        fixed = sum(w for i, w in enumerate(sizes) if i != flex) + 2 * (len(headers) - 1)
        sizes[flex] = min(sizes[flex], max(width - fixed, cells(flexible), 10))
    lines = []
    for number, row in enumerate([list(headers), *rows]):
        parts = []
        for i, cell in enumerate(row):
            text = truncate(cell, sizes[i]) if i == flex else cell
            pad = " " * (sizes[i] - cells(text))
            if number and paint_cell is not None:
                text = paint_cell(headers[i], text)
            parts.append(text + pad)
        lines.append("  ".join(parts).rstrip())
    return lines


def _paint_state(header: str, text: str) -> str:
    style = _STATE_STYLE.get(text) if header == "STATE" else None
    return paint(text, style, stream=sys.stdout) if style else text


def print_table(
    columns: ColumnSet,
    items: Sequence[Any],
    chosen: Sequence[str] | None,
    *,
    wide: bool = False,
    header: bool = True,
    widths: Sequence[int] | None = None,
) -> None:
    """Print ``items`` as a table of ``chosen`` (default: the set's default) columns."""
    names = list(chosen or columns.default)
    headers = [name.upper() for name in names]
    colour = styled(sys.stdout)
    lines = render_table(
        headers,
        columns.rows(items, names),
        width=None if wide else terminal_width(),
        flexible=columns.flexible.upper(),
        widths=widths,
        paint_cell=_paint_state if colour else None,
    )
    if header:
        write_stdout(paint(lines[0], "bold", stream=sys.stdout) if colour else lines[0])
    for line in lines[1:]:
        write_stdout(line)
