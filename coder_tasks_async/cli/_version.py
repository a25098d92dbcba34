"""``version``: the CLI's version and the server's."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from ._app import command
from ._connection import Connection, connection_options
from ._runner import run
from ._terminal import write_stdout

__all__ = ["version"]


@command("version")
@connection_options
def version(
    *,
    client_only: Annotated[
        bool, typer.Option("--client", help="Only the CLI's version (no request).")
    ] = False,
    conn: Connection,
) -> None:
    """Show the CLI's version and the server's (from its X-Coder-Build-Version header).

    Example: coder-tasks version
    """
    write_stdout(f"Client: coder-tasks {__version__}")
    if client_only:
        return

    async def main() -> None:
        async with conn.open() as coder:
            await coder.list_tasks()
            write_stdout(f"Server: {coder.url} (Coder {coder.server_version or 'unknown'})")

    run(main, conn=conn)
