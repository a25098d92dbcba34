"""``logs``: print a task's conversation once, or follow it (live or settled), resumably."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import _output as out
from ._app import (
    Conn,
    HeaderOption,
    NoWatchOption,
    OutputFormat,
    OutputOption,
    OwnerOption,
    PollOption,
    TokenOption,
    UrlOption,
    UserAlias,
    VerboseOption,
    app,
    owner_of,
    poll_policy,
    run,
    usage_error,
)
from ._common import TaskArg, deleted, owner_kw, parse_until, resolve

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, LogEvent, Task, TaskLogEntry, TaskLogs

__all__ = ["follow_until_settled", "logs", "parse_since"]


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


def _check_cursor_dir(path: Path) -> None:
    """Fail before the first request when the cursor file could never be written."""
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        usage_error(f"--cursor-file: directory {folder} does not exist")
    if not os.access(folder, os.W_OK):
        usage_error(f"--cursor-file: directory {folder} is not writable")
    if path.is_dir():
        usage_error(f"--cursor-file: {path} is a directory")


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``--since 10m`` / ``2h`` / ``30s`` / ``1d``, or an ISO 8601 time, as an aware datetime."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text.strip().lower())
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        usage_error(
            f"--since: cannot read {text!r}",
            "use a duration like 30s, 10m, 2h, 1d or a time like 2026-01-31T12:00:00Z",
        )
    return when if when.tzinfo else when.astimezone()


class _TextPrinter:
    """Human output for followed events; an update prints only the lines that changed."""

    def __init__(self) -> None:
        # Only the newest entry can change, so remembering one keeps memory bounded.
        self._last: tuple[int, list[str]] | None = None
        self._console = out.console()

    def __call__(self, event: LogEvent) -> None:
        if event.kind.value == "paused":
            # What follows (if anything) was stored at pause; nothing is printed twice.
            name = out.escape(event.task_name)
            self._console.print(
                f"[yellow]── task {name} is paused: what follows is its stored snapshot ──[/]"
            )
            return
        self._console.print(out.entry_header(event))
        entry = event.entry
        if entry is None:
            self._last = None
            return
        lines = entry.content.splitlines()
        shown = lines
        if event.kind.value == "update" and self._last and self._last[0] == entry.id:
            before = self._last[1]
            common = 0
            while common < min(len(before), len(lines)) and before[common] == lines[common]:
                common += 1
            shown = lines[common:]
        self._last = (entry.id, lines)
        if shown:
            self._console.print(out.escape("\n".join(shown)))


async def _conversation(coder: CoderTasksClient, task: Task, owner: str) -> TaskLogs | None:
    """The conversation so far; ``None`` (with a note) while the task has none to show."""
    from coder_tasks_async import TaskNotActiveError

    try:
        return await coder.get_logs(task.id, **owner_kw(owner))
    except TaskNotActiveError as exc:
        status = exc.task_status or str(task.status)
        out.print_notice(f"[dim]task {task.ref} is {status}: no conversation yet[/]")
        return None


def _skip_ids(entries: list[TaskLogEntry], tail: int | None, since: datetime | None) -> set[int]:
    """Ids of the backlog entries ``--tail``/``--since`` leave out."""
    keep = entries
    if since is not None:
        keep = [e for e in keep if e.time >= since]
    if tail is not None:
        keep = keep[-tail:] if tail else []
    kept = {e.id for e in keep}
    return {e.id for e in entries if e.id not in kept}


async def _follow(
    coder: CoderTasksClient,
    task: Task,
    *,
    settled: bool,
    cursor_file: Path | None,
    until: list[str] | None,
    until_terminal: bool,
    idle_timeout: float | None,
    poll: Any,
    output: OutputFormat,
    skip: set[int] | None = None,
) -> None:
    from coder_tasks_async import EndReason

    wanted = set(until or ())

    def stop(snapshot: Task) -> bool:
        return snapshot.status in wanted or (
            snapshot.state is not None and snapshot.state in wanted
        )

    cursor = _load_cursor(cursor_file) if cursor_file else None
    show = _TextPrinter()
    try:
        follower = coder.follow_logs(
            task,
            settled=settled,
            cursor=cursor,
            until=stop if wanted else None,
            until_terminal=until_terminal,
            idle_timeout=idle_timeout,
            poll=poll,
        )
    except ValueError as exc:
        # A cursor file of another task (or not a cursor at all): refused before any
        # request, and the file is left as it was.
        usage_error(f"--cursor-file {cursor_file}: {exc}" if cursor_file else str(exc))
    skipping = set(skip or ())
    async with follower:
        async for event in follower:
            if event.entry is not None and event.entry.id in skipping:
                continue
            if output is OutputFormat.JSON:
                out.print_json_line(out.event_json(event))
            else:
                show(event)
            if cursor_file:
                _save_cursor(cursor_file, follower.cursor.dumps())
    if cursor_file:
        # The cursor also learns the task and run it belongs to, without an event.
        _save_cursor(cursor_file, follower.cursor.dumps())
    # The stream also ends, quietly, when the task is deleted: say so.
    if follower.end_reason is EndReason.DELETED:
        raise deleted(task)


async def follow_until_settled(
    coder: CoderTasksClient, task: Task, *, poll: Any, output: OutputFormat
) -> None:
    """``create --follow``: the conversation as it happens, until the agent is idle or done."""
    await _follow(
        coder,
        task,
        settled=False,
        cursor_file=None,
        until=["idle", "complete", "failed"],
        until_terminal=True,
        idle_timeout=None,
        poll=poll,
        output=output,
    )


@app.command()
def logs(
    task: TaskArg,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new messages as they come.")
    ] = False,
    tail: Annotated[
        int | None,
        typer.Option("--tail", help="Show only the last N messages first.", min=0, metavar="N"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Show only messages newer than a duration (30s, 10m, 2h) or an ISO time.",
            metavar="WHEN",
        ),
    ] = None,
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
            metavar="PATH",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="With --follow: stop once the task reaches these status(es)/state(s), "
            "comma-separated, any case (e.g. idle,complete).",
            metavar="VALUES",
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
            metavar="SECONDS",
        ),
    ] = None,
    owner: OwnerOption = "me",
    user: UserAlias = None,
    poll_interval: PollOption = None,
    no_watch: NoWatchOption = False,
    output: OutputOption = OutputFormat.TABLE,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Print a task's conversation (JSON lines with --follow -o json).

    Example: coder-tasks logs fix-login -f --tail 5
    """
    follow_only = {
        "--settled": settled,
        "--cursor-file": cursor_file is not None,
        "--until": until is not None,
        "--until-terminal": until_terminal,
        "--idle-timeout": idle_timeout is not None,
        "--no-watch": no_watch,
    }
    misplaced = [flag for flag, used in follow_only.items() if used]
    if misplaced and not follow:
        usage_error(f"{', '.join(misplaced)} only make(s) sense with --follow", "add -f")
    wanted = parse_until("--until", until) if until is not None else None
    if cursor_file is not None:
        _check_cursor_dir(cursor_file)
    since_at = parse_since(since) if since is not None else None
    who = owner_of(owner, user)
    conn = Conn(url, token, header, verbose, watch=not no_watch)

    async def main() -> None:
        async with conn.client() as coder:
            found = await resolve(coder, task, who)
            entries: list[TaskLogEntry] = []
            data: Any = {"logs": []}
            if not follow or tail is not None or since_at is not None:
                conversation = await _conversation(coder, found, who)
                if conversation is not None:
                    entries, data = list(conversation.logs), out.jsonable(conversation)
            skip = _skip_ids(entries, tail, since_at)
            if follow:
                await _follow(
                    coder,
                    found,
                    settled=settled,
                    cursor_file=cursor_file,
                    until=wanted,
                    until_terminal=until_terminal,
                    idle_timeout=idle_timeout,
                    poll=poll_policy(poll_interval),
                    output=output,
                    skip=skip,
                )
                return
        entries = [e for e in entries if e.id not in skip]
        if output is OutputFormat.JSON:
            data["logs"] = [out.jsonable(e) for e in entries]
            out.print_json(data)
        else:
            out.logs_text(entries)

    run(main, subject=f"task {task}", verbose=verbose)
