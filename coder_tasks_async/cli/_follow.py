"""``logs -f``: the conversation as it happens (live or settled), resumable with a cursor file.

``--tail N`` and ``--since`` choose what of the *starting backlog* is shown; they
never hide what happens later.  The SDK's follower hands out each entry of the
conversation once (:class:`EntryEvent`) and a :class:`ResetEvent` when the agent
starts a new conversation, whose ids start again at 0.  So the filter here hides
an entry only while it is the one the backlog held: same conversation (no reset
since), same id, same text.  A reply that was still being written when the command
started is shown once it has changed, whole; after a restart everything is shown.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._json_output import event_json, print_json_line
from ._options import OutputFormat
from ._runner import usage_error
from ._task_lookup import deleted
from ._terminal import paint, write_stdout
from ._waiting import Goal

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, LogEvent, PollPolicy, Task, TaskLogEntry

__all__ = [
    "BacklogFilter",
    "Follow",
    "check_cursor_dir",
    "entry_header",
    "follow",
    "follow_until_settled",
]


def backlog_kept(
    entries: list[TaskLogEntry], tail: int | None, since: datetime | None
) -> list[TaskLogEntry]:
    """The entries ``--tail``/``--since`` keep of a conversation, oldest first."""
    kept = [e for e in entries if e.time >= since] if since is not None else list(entries)
    if tail is not None:
        kept = kept[-tail:] if tail else []
    return kept


class BacklogFilter:
    """Hides the starting backlog's entries that ``--tail``/``--since`` left out."""

    def __init__(self, entries: list[TaskLogEntry], tail: int | None, since: datetime | None):
        kept = {e.id for e in backlog_kept(entries, tail, since)}
        #: id → hash of the text the backlog held (in-process only: never saved).
        self._hidden = {e.id: hash(e.content) for e in entries if e.id not in kept}

    def judge(self, event: LogEvent) -> str:
        """``"skip"``, ``"show"``, or ``"whole"`` (changed since the start: show all of it)."""
        if event.kind.value == "reset":
            self._hidden.clear()  # a new conversation: nothing of it was in the backlog
            return "show"
        entry = event.entry
        if entry is None or entry.id not in self._hidden:
            return "show"
        if hash(entry.content) == self._hidden[entry.id]:
            return "skip"
        del self._hidden[entry.id]
        return "whole"


def _type_cell(entry: TaskLogEntry, stream: Any) -> str:
    text = str(entry.type)
    return paint(text, "cyan", stream=stream) if text == "input" else text


def entry_header(entry: TaskLogEntry, note: str = "") -> str:
    """The rule printed above an entry: ``── #3 output 12:04:05 ──``."""
    out = sys.stdout
    clock = entry.time.astimezone().strftime("%H:%M:%S")
    return (
        f"{paint(f'── #{entry.id}', 'dim', stream=out)} {_type_cell(entry, out)} "
        f"{paint(f'{clock}{note} ──', 'dim', stream=out)}"
    )


class _TextPrinter:
    """Human output for followed events; an update prints only the lines that changed."""

    def __init__(self) -> None:
        # Only the newest entry can change, so remembering one keeps memory bounded.
        self._last: tuple[int, list[str]] | None = None

    def __call__(self, event: LogEvent, whole: bool = False) -> None:
        out = sys.stdout
        kind = event.kind.value
        if kind == "paused":
            # What follows (if anything) was stored at pause; nothing is printed twice.
            write_stdout(
                paint(f"── task {event.task_name} is paused: what follows is its stored "
                      "snapshot ──", "yellow", stream=out)
            )  # fmt: skip
            return
        entry = event.entry
        if entry is None:
            self._last = None
            write_stdout(paint("── conversation restarted ──", "magenta", stream=out))
            return
        updating = kind == "update" and not whole
        write_stdout(entry_header(entry, " (updated)" if updating else ""))
        lines = entry.content.splitlines()
        shown = lines
        if updating and self._last and self._last[0] == entry.id:
            before = self._last[1]
            common = 0
            while common < min(len(before), len(lines)) and before[common] == lines[common]:
                common += 1
            shown = lines[common:]
        self._last = (entry.id, lines)
        if shown:
            write_stdout("\n".join(shown))


def _save_cursor(path: Path, text: str) -> None:
    """Replace the cursor file atomically: a crash mid-write must not lose the old cursor."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _load_cursor(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def check_cursor_dir(path: Path) -> None:
    """Fail before the first request when the cursor file could never be written."""
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        usage_error(f"--cursor-file: directory {folder} does not exist")
    if not os.access(folder, os.W_OK):
        usage_error(f"--cursor-file: directory {folder} is not writable")
    if path.is_dir():
        usage_error(f"--cursor-file: {path} is a directory")


@dataclasses.dataclass
class Follow:
    """How ``logs -f`` follows: the follow-only flags, and the backlog filter."""

    settled: bool = False
    cursor_file: Path | None = None
    until: Goal | None = None
    until_terminal: bool = False
    idle_timeout: float | None = None
    poll: PollPolicy | None = None
    output: OutputFormat = OutputFormat.TABLE
    backlog: BacklogFilter | None = None


def _show(event: LogEvent, verdict: str, output: OutputFormat, printer: _TextPrinter) -> None:
    if output is OutputFormat.JSON:
        data = event_json(event)
        if verdict == "whole":
            data["kind"] = "new"  # the reader never saw it: it is new to them
        print_json_line(data)
    else:
        printer(event, whole=verdict == "whole")


async def follow(coder: CoderTasksClient, task: Task, how: Follow) -> None:
    """Print the conversation of ``task`` as it happens, until a stop condition or deletion."""
    from coder_tasks_async import EndReason

    cursor_file = how.cursor_file
    try:
        follower = coder.follow_logs(
            task,
            settled=how.settled,
            cursor=_load_cursor(cursor_file) if cursor_file else None,
            until=how.until.reached if how.until else None,
            until_terminal=how.until_terminal,
            idle_timeout=how.idle_timeout,
            poll=how.poll,
        )
    except ValueError as exc:
        # A cursor file of another task (or not a cursor at all): refused before any
        # request, and the file is left as it was.
        usage_error(f"--cursor-file {cursor_file}: {exc}" if cursor_file else str(exc))
    printer = _TextPrinter()
    async with follower:
        async for event in follower:
            verdict = how.backlog.judge(event) if how.backlog else "show"
            if verdict != "skip":
                _show(event, verdict, how.output, printer)
            if cursor_file:
                _save_cursor(cursor_file, follower.cursor.dumps())
    if cursor_file:
        # The cursor also learns the task and run it belongs to, without an event.
        _save_cursor(cursor_file, follower.cursor.dumps())
    # The stream also ends, quietly, when the task is deleted: say so.
    if follower.end_reason is EndReason.DELETED:
        raise deleted(task)


async def follow_until_settled(
    coder: CoderTasksClient, task: Task, *, poll: PollPolicy | None, output: OutputFormat
) -> None:
    """``create --follow``: the conversation as it happens, until the agent is idle or done."""
    how = Follow(
        until=Goal.of(["idle", "complete", "failed"]),
        until_terminal=True,
        poll=poll,
        output=output,
    )
    await follow(coder, task, how)
