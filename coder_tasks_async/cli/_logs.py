"""``logs``: a task's conversation once (``-o json``: an entry array, as ``coder``), or ``-f``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import command
from ._completion import STATES, STATUSES, values
from ._connection import Connection, connection_options
from ._follow import BacklogFilter, Follow, backlog_kept, check_cursor_dir, entry_header, follow
from ._json_output import jsonable, print_json
from ._options import (
    OutputFormat,
    OutputOption,
    TaskArg,
    Watching,
    WideOption,
    column_option,
    parse_columns,
    parse_until,
    poll_policy,
    watching_options,
)
from ._outage import watched
from ._runner import run, usage_error
from ._tables import LOG_COLUMNS, print_table
from ._task_lookup import display, resolve
from ._terminal import print_notice, print_warning, write_stdout
from ._waiting import Goal, being_paused

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, Task, TaskLogEntry, TaskLogs

__all__ = ["logs", "parse_since"]

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


async def _conversation(coder: CoderTasksClient, task: Task, *, quiet: bool) -> TaskLogs | None:
    """The conversation so far; ``None`` while the task has none to show (said unless quiet)."""
    from coder_tasks_async import TaskNotActiveError

    try:
        return await coder.get_logs(task.id)
    except TaskNotActiveError as exc:
        status = exc.task_status or task.status
        if status not in ("pending", "initializing"):
            # Coder refuses logs while a stop build runs ("unknown") or in "error";
            # `coder task logs` fails there too.
            raise
        if not quiet:
            print_warning(f"Task is {status}: it has no conversation yet.")
        return None


def _snapshot_warning(task: Task, conversation: TaskLogs, count: int) -> None:
    """``coder task logs``'s warnings for a conversation stored at pause.

    *count* is the number of messages shown: ``coder`` has no ``--tail``/``--since``
    and shows the whole snapshot, so its count is the snapshot's; ours is what is
    left after those filters, so that the warning states what the user sees.
    """
    if not conversation.snapshot:
        return
    if conversation.snapshot_at is None:
        print_warning(
            f"Task is {task.status}. No snapshot available (snapshot may have failed during "
            "pause, resume your task to view logs)."
        )
    if count:
        messages = "1 message" if count == 1 else f"{count} messages"
        print_warning(f"Task is {task.status}. Showing last {messages} from snapshot.")


def _print_conversation(entries: list[TaskLogEntry]) -> None:
    """A conversation for people: a rule above each entry, then its whole text."""
    for entry in entries:
        write_stdout(entry_header(entry))
        write_stdout(entry.content)


@command("logs")
@connection_options
@watching_options
def logs(
    task: TaskArg,
    *,
    follow_: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new messages as they come.")
    ] = False,
    tail: Annotated[
        int | None,
        typer.Option(
            "--tail",
            help="Show only the last N messages of the conversation so far.",
            min=0,
            metavar="N",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Show only messages of the conversation so far newer than a duration "
            "(30s, 10m, 2h) or an ISO time.",
            metavar="WHEN",
        ),
    ] = None,
    column: Annotated[list[str] | None, column_option(LOG_COLUMNS)] = None,
    wide: WideOption = False,
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
            help="With --follow: stop once the task reaches these status(es) or agent "
            f"state(s), comma-separated. Statuses: {', '.join(STATUSES)}; states: "
            f"{', '.join(STATES)}.",
            metavar="VALUES",
            autocompletion=values(STATUSES + STATES),
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
    watching: Watching,
    output: OutputOption = OutputFormat.TABLE,
    conn: Connection,
) -> None:
    """Print a task's conversation (-o json: an array of entries; with -f, JSON lines).

    --tail and --since pick from the conversation so far; with -f everything that
    comes later is printed.

    Example: coder-tasks logs fix-login -f --tail 5
    """
    follow_only = {
        "--settled": settled,
        "--cursor-file": cursor_file is not None,
        "--until": until is not None,
        "--until-terminal": until_terminal,
        "--idle-timeout": idle_timeout is not None,
        "--no-watch": watching.no_watch,
    }
    misplaced = [flag for flag, used in follow_only.items() if used]
    if misplaced and not follow_:
        usage_error(f"{', '.join(misplaced)} only make(s) sense with --follow", "add -f")
    if column and follow_:
        usage_error("-c/--column shows a table of the conversation so far, not with --follow")
    how = Follow(
        settled=settled,
        cursor_file=cursor_file,
        until=Goal.of(parse_until("--until", until)) if until is not None else None,
        until_terminal=until_terminal,
        idle_timeout=idle_timeout,
        poll=poll_policy(watching.poll_interval),
        output=output,
    )
    if cursor_file is not None:
        check_cursor_dir(cursor_file)
    since_at = parse_since(since) if since is not None else None
    columns = parse_columns(LOG_COLUMNS, column)
    conn.watch = not watching.no_watch

    async def main() -> None:
        async with conn.open() as coder:
            found = await resolve(coder, task, watching.who)
            if follow_:
                if being_paused(found):
                    print_notice(
                        f"task {display(found)} is being paused (its stop build runs): its "
                        "stored conversation follows once the stop ends"
                    )
                if tail is not None or since_at is not None:
                    backlog = await _conversation(coder, found, quiet=True)
                    entries = list(backlog.logs) if backlog else []
                    how.backlog = BacklogFilter(entries, tail, since_at)
                await watched(coder, found.id, conn.patience, lambda: follow(coder, found, how))
                return
            conversation = await _conversation(coder, found, quiet=False)
        entries = backlog_kept(conversation.logs if conversation else [], tail, since_at)
        if conversation is not None:
            _snapshot_warning(found, conversation, len(entries))
        if not entries:
            print_notice("No task logs found.")
        elif output is OutputFormat.JSON:
            print_json([jsonable(e) for e in entries])
        elif columns:
            print_table(LOG_COLUMNS, entries, columns, wide=wide)
        else:
            _print_conversation(entries)

    run(main, conn=conn, about=f"task {task}")
