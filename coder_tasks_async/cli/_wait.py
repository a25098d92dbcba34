"""``wait``: until a task reaches a status or an agent state (not in ``coder task``)."""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import command
from ._completion import STATES, STATUSES, values
from ._connection import Connection, connection_options
from ._json_output import jsonable, print_json
from ._options import (
    OutputFormat,
    OutputOption,
    TaskArg,
    Watching,
    parse_until,
    watching_options,
)
from ._outage import watched
from ._runner import run
from ._tables import STATUS_COLUMNS, print_table
from ._task_lookup import resolve
from ._waiting import DEFAULT_WAIT_TIMEOUT, Goal, wait_until

__all__ = ["wait"]


@command("wait")
@connection_options
@watching_options
def wait(
    task: TaskArg,
    *,
    until: Annotated[
        str,
        typer.Option(
            "--until",
            help=f"Status(es) or agent state(s) to wait for, comma-separated, any case. "
            f"Statuses: {', '.join(STATUSES)}; states: {', '.join(STATES)} (states count "
            "only while the task is active).",
            show_default=False,
            metavar="VALUES",
            autocompletion=values(STATUSES + STATES),
        ),
    ],
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Give up after this many seconds (0: wait forever).",
            min=0,
            metavar="SECONDS",
        ),
    ] = DEFAULT_WAIT_TIMEOUT,
    watching: Watching,
    output: OutputOption = OutputFormat.TABLE,
    conn: Connection,
) -> None:
    """Wait until a task reaches a status or state, then show it (exit 1 on timeout).

    Example: coder-tasks wait fix-login --until idle,complete --timeout 300
    """
    goal = Goal.of(parse_until("--until", until))
    conn.watch = not watching.no_watch

    async def main() -> None:
        async with conn.open() as coder:
            found = await resolve(coder, task, watching.who)
            done = await watched(
                coder,
                found.id,
                conn.patience,
                lambda: wait_until(coder, found, goal, timeout or None, watching.poll_interval),
            )
        if output is OutputFormat.JSON:
            print_json(jsonable(done))
        else:
            print_table(STATUS_COLUMNS, [done], None)

    run(main, conn=conn, about=f"task {task}")
