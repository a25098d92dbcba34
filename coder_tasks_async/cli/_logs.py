"""``logs``: print a task's conversation once, or follow it (live or settled), resumably."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .. import CoderTasksClient, LogEvent, LogEventKind, PollPolicy
from . import _output as out
from ._app import (
    OutputFormat,
    OutputOption,
    PollOption,
    TokenOption,
    UrlOption,
    app,
    connect,
    poll_policy,
    run,
    usage_error,
)
from ._commands import TaskArg, UserOption

__all__ = ["logs"]


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


class _TextPrinter:
    """Human output for followed events; an update prints only the lines that changed."""

    def __init__(self) -> None:
        # Only the newest entry can change, so remembering one keeps memory bounded.
        self._last: tuple[int, list[str]] | None = None

    def __call__(self, event: LogEvent) -> None:
        out.console.print(out.entry_header(event), highlight=False)
        entry = event.entry
        if entry is None:
            self._last = None
            return
        lines = entry.content.splitlines()
        shown = lines
        if event.kind is LogEventKind.UPDATE and self._last and self._last[0] == entry.id:
            before = self._last[1]
            common = 0
            while common < min(len(before), len(lines)) and before[common] == lines[common]:
                common += 1
            shown = lines[common:]
        self._last = (entry.id, lines)
        if shown:
            out.console.print(escape("\n".join(shown)), highlight=False)


async def _follow(
    coder: CoderTasksClient,
    task: str,
    *,
    user: str,
    settled: bool,
    cursor_file: Path | None,
    until: list[str] | None,
    until_terminal: bool,
    idle_timeout: float | None,
    poll: PollPolicy | None,
    output: OutputFormat,
) -> None:
    stop = until or None  # status or state names; the SDK turns them into a test
    cursor = _load_cursor(cursor_file) if cursor_file else None
    show = _TextPrinter()
    follower = coder.follow_logs(
        task,
        owner=user,
        settled=settled,
        cursor=cursor,
        until=stop,
        until_terminal=until_terminal,
        idle_timeout=idle_timeout,
        poll=poll,
    )
    async with follower:
        async for event in follower:
            if output is OutputFormat.JSON:
                out.print_json_line(out.event_json(event))
            else:
                show(event)
            if cursor_file:
                _save_cursor(cursor_file, follower.cursor.dumps())
    if cursor_file:
        # Entries recognised after a restart are skipped silently but still advance it.
        _save_cursor(cursor_file, follower.cursor.dumps())


@app.command()
def logs(
    task: TaskArg,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new messages as they come.")
    ] = False,
    settled: Annotated[
        bool,
        typer.Option("--settled", help="With --follow: print each message once, when it is final."),
    ] = False,
    cursor_file: Annotated[
        Path | None,
        typer.Option(
            "--cursor-file",
            help="With --follow: resume after the position saved in this file, and keep it "
            "updated after each message.",
            dir_okay=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="With --follow: stop once the task reaches these status(es)/state(s), "
            "comma-separated (e.g. idle,complete).",
        ),
    ] = None,
    until_terminal: Annotated[
        bool,
        typer.Option(
            "--until-terminal", help="With --follow: stop when complete, failed or paused."
        ),
    ] = False,
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            "--idle-timeout",
            help="With --follow: stop after this many seconds without a change while the "
            "agent is not working.",
            min=0,
        ),
    ] = None,
    user: UserOption = "me",
    poll_interval: PollOption = None,
    output: OutputOption = OutputFormat.TABLE,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Print a task's conversation (JSON lines with --follow -o json)."""
    follow_only = {
        "--settled": settled,
        "--cursor-file": cursor_file is not None,
        "--until": until is not None,
        "--until-terminal": until_terminal,
        "--idle-timeout": idle_timeout is not None,
    }
    misplaced = [flag for flag, used in follow_only.items() if used]
    if misplaced and not follow:
        usage_error(f"{', '.join(misplaced)} only make(s) sense with --follow")
    wanted = [p.strip() for p in until.split(",") if p.strip()] if until is not None else None

    async def main() -> None:
        async with connect(url, token) as coder:
            if follow:
                await _follow(
                    coder,
                    task,
                    user=user,
                    settled=settled,
                    cursor_file=cursor_file,
                    until=wanted,
                    until_terminal=until_terminal,
                    idle_timeout=idle_timeout,
                    poll=poll_policy(poll_interval),
                    output=output,
                )
                return
            conversation = await coder.get_logs(task, owner=user)
        if output is OutputFormat.JSON:
            out.print_json(out.jsonable(conversation))
        else:
            out.console.print(out.logs_table(conversation))

    run(main)
