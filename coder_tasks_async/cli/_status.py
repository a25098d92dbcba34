"""``status`` (alias ``stat``): one task's status, or each change of it with ``--watch``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ._app import command
from ._connection import Connection, connection_options
from ._json_output import jsonable, print_json, print_json_line
from ._options import (
    OutputFormat,
    OutputOption,
    TaskArg,
    Watching,
    WideOption,
    column_option,
    parse_columns,
    poll_policy,
    watching_options,
)
from ._outage import watched
from ._runner import run, usage_error
from ._tables import STATUS_COLUMNS, print_table
from ._task_lookup import deleted, resolve

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, Task

__all__ = ["status"]

#: Widths ``status --watch`` keeps for its columns, so lines printed over time align:
#: the longest value each can take (``initializing``, ``complete``, ``59m59s ago``).
WATCH_WIDTHS = {"status": 12, "state": 8, "healthy": 5, "state changed": 11}


def watch_done(task: Task) -> bool:
    """Where ``coder task status --watch`` stops: workspace down, or agent up and not working."""
    if str(task.status) == "paused" or str(task.workspace_status or "") in (
        "stopped",
        "failed",
        "canceled",
        "deleted",
    ):
        return True
    health = task.workspace_agent_health
    return (
        str(task.status) == "active"
        and str(task.workspace_agent_lifecycle or "") == "ready"
        and health is not None
        and health.healthy
        and task.state is not None
        and str(task.state) != "working"
    )


async def _watch(
    coder: CoderTasksClient,
    found: Task,
    *,
    columns: list[str] | None,
    output: OutputFormat,
    wide: bool,
    poll_interval: float | None,
) -> None:
    """Print the task, then each change, until :func:`watch_done` (a header only once)."""
    names = columns or list(STATUS_COLUMNS.default)
    first = STATUS_COLUMNS.rows([found], names)[0]
    widths = [max(WATCH_WIDTHS.get(n, 0), len(cell)) for n, cell in zip(names, first, strict=True)]
    printed = 0
    async for snapshot in coder.watch(found.id, until=watch_done, poll=poll_policy(poll_interval)):
        if output is OutputFormat.JSON:
            print_json_line(jsonable(snapshot))
        else:
            print_table(
                STATUS_COLUMNS, [snapshot], names, wide=wide, header=not printed, widths=widths
            )
        printed += 1
    # The watch also ends, quietly, when the task is deleted: say so.
    from coder_tasks_async import NotFoundError

    try:
        await coder.get_task(found.id)
    except NotFoundError:
        raise deleted(found) from None


@command("status")
@connection_options
@watching_options
def status(
    task: TaskArg,
    *,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Print each change until the agent is ready and not working."),
    ] = False,
    column: Annotated[list[str] | None, column_option(STATUS_COLUMNS)] = None,
    wide: WideOption = False,
    watching: Watching,
    output: OutputOption = OutputFormat.TABLE,
    conn: Connection,
) -> None:
    """Show a task's status, agent health, state and message.

    Aliases: stat.  With --watch: one line per change, under one header.

    Example: coder-tasks status fix-login --watch
    """
    if watching.no_watch and not watch:
        usage_error("--no-watch only makes sense with --watch", "add --watch")
    columns = parse_columns(STATUS_COLUMNS, column)
    conn.watch = not watching.no_watch

    async def main() -> None:
        async with conn.open() as coder:
            found = await resolve(coder, task, watching.who)
            if not watch:
                if output is OutputFormat.JSON:
                    print_json(jsonable(found))
                else:
                    print_table(STATUS_COLUMNS, [found], columns, wide=wide)
                return
            await watched(
                coder,
                found.id,
                conn.patience,
                lambda: _watch(
                    coder,
                    found,
                    columns=columns,
                    output=output,
                    wide=wide,
                    poll_interval=watching.poll_interval,
                ),
            )

    run(main, conn=conn, about=f"task {task}")
