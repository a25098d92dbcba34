"""``list`` (alias ``ls``): tasks as ``coder task list`` shows them."""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import command
from ._connection import Connection, connection_options
from ._json_output import jsonable, print_json
from ._options import (
    OutputFormat,
    OutputOption,
    QuietOption,
    StatusOption,
    WideOption,
    column_option,
    parse_columns,
    parse_status,
)
from ._runner import run, usage_error
from ._tables import LIST_COLUMNS, print_table
from ._terminal import print_notice, write_stdout

__all__ = ["list_tasks"]


@command("list")
@connection_options
def list_tasks(
    *,
    status: StatusOption = None,
    all_users: Annotated[
        bool, typer.Option("-a", "--all", help="Tasks of every user you can see.")
    ] = False,
    owner: Annotated[
        str | None,
        typer.Option("--user", "--owner", help="Tasks of this user (default: me).", metavar="USER"),
    ] = None,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Only tasks in this organization (name or id).", metavar="ORG"),
    ] = None,
    quiet: QuietOption = False,
    column: Annotated[list[str] | None, column_option(LIST_COLUMNS)] = None,
    wide: WideOption = False,
    output: OutputOption = OutputFormat.TABLE,
    conn: Connection,
) -> None:
    """List tasks (default: yours), sorted by name as `coder task list` does.

    Aliases: ls.  With -q only the ids (a JSON array of them with -o json).

    Example: coder-tasks list -a --status active -c owner,name,state
    """
    if all_users and owner:
        usage_error("--all and --user cannot be combined")
    who = None if all_users else (owner or "me").strip() or "me"
    wanted = parse_status(status)
    columns = parse_columns(LIST_COLUMNS, column)

    async def main() -> None:
        async with conn.open() as coder:
            tasks = await coder.list_tasks(owner=who, organization=org, status=wanted)
        if quiet and output is OutputFormat.JSON:
            print_json([str(t.id) for t in tasks])
        elif quiet:
            for task in tasks:
                write_stdout(str(task.id))
        elif output is OutputFormat.JSON:
            print_json([jsonable(t) for t in tasks])
        elif not tasks:
            print_notice("No tasks found.")
        else:
            print_table(LIST_COLUMNS, sorted(tasks, key=lambda t: t.name), columns, wide=wide)

    run(main, conn=conn)
