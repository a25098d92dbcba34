"""``delete`` (alias ``rm``): asks first unless ``-y``, reports each task, exit 1 if any failed."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import command
from ._connection import Connection, connection_options
from ._error_messages import CliError, Subject, describe
from ._options import OwnerOption, UserAlias, owner_of
from ._runner import run
from ._task_lookup import display, resolve
from ._terminal import print_error, print_notice, write_stdout

if TYPE_CHECKING:
    from coder_tasks_async import Task

__all__ = ["delete"]


def _confirm(question: str) -> bool:
    """Ask on the terminal; no answer (stdin closed or empty) is a usage error naming -y.

    Without a terminal the answer is read from stdin unprompted (``yes | coder-tasks
    delete x`` works), so a script never shows a question nobody will see.
    """
    refused = CliError(
        "no confirmation: "
        + ("no answer given" if sys.stdin.isatty() else "stdin is not a terminal"),
        "pass -y to delete without asking",
        code=2,
    )
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line.strip():
            raise refused
        return line.strip().lower() in ("y", "yes")
    try:
        return typer.confirm(question, err=True)
    except (typer.Abort, EOFError):
        raise refused from None


@command("delete")
@connection_options
def delete(
    tasks: Annotated[
        list[str],
        typer.Argument(help="Tasks to delete: UUIDs, names or owner/name.", metavar="TASK..."),
    ],
    *,
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")] = False,
    owner: OwnerOption = "me",
    user: UserAlias = None,
    conn: Connection,
) -> None:
    """Delete tasks (asks first unless -y); reports each one, exit 1 if any failed.

    Aliases: rm.

    Example: coder-tasks delete fix-login old-task -y
    """
    who = owner_of(owner, user)

    async def main() -> None:
        import asyncio

        failed = 0
        async with conn.open() as coder:
            found: list[Task] = []
            for ref in tasks:
                try:
                    found.append(await resolve(coder, ref, who))
                except CliError as exc:
                    failed += 1
                    print_error(exc.message)
            if found and not yes:
                names = ", ".join(display(t) for t in found)
                if not await asyncio.to_thread(_confirm, f"Delete {names}?"):
                    print_notice("Nothing deleted.")
                    raise typer.Exit(1)
            for t in found:
                try:
                    await coder.delete_task(t.id)
                except Exception as exc:
                    failed += 1
                    message, _ = describe(exc, Subject(f"task {display(t)}", conn.resolved_url))
                    print_error(message)
                else:
                    write_stdout(f"Deleted task {display(t)}.")
        if failed:
            raise typer.Exit(1)

    run(main, conn=conn)
