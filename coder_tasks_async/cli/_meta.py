"""``version`` (the CLI's and the server's) and ``completion`` (shell completion scripts)."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from .. import __version__
from . import _output as out
from ._app import Conn, HeaderOption, TokenOption, UrlOption, VerboseOption, app, run

__all__ = ["COMPLETE_VAR", "completion", "version"]

#: The variable the shell sets when it asks for completions.
COMPLETE_VAR = "_CODER_TASKS_COMPLETE"


@app.command()
def version(
    client_only: Annotated[
        bool, typer.Option("--client", help="Only the CLI's version (no request).")
    ] = False,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Show the CLI's version and the server's (from its X-Coder-Build-Version header).

    Example: coder-tasks version
    """
    out.write_stdout(f"Client: coder-tasks {__version__}")
    if client_only:
        return
    conn = Conn(url, token, header, verbose)

    async def main() -> None:
        async with conn.client() as coder:
            await coder.list_tasks()
            out.write_stdout(f"Server: {coder.url} (Coder {coder.server_version or 'unknown'})")

    run(main, verbose=verbose)


class Shell(enum.StrEnum):
    """Shells with completion support."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


_INSTALL = {
    Shell.BASH: 'eval "$(coder-tasks completion bash)"  # in ~/.bashrc',
    Shell.ZSH: 'eval "$(coder-tasks completion zsh)"  # in ~/.zshrc',
    Shell.FISH: "coder-tasks completion fish > ~/.config/fish/completions/coder-tasks.fish",
}


@app.command()
def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", metavar="SHELL")],
) -> None:
    """Print the shell completion script for SHELL.

    Install it with one of:
      eval "$(coder-tasks completion bash)"   (in ~/.bashrc)
      eval "$(coder-tasks completion zsh)"    (in ~/.zshrc)
      coder-tasks completion fish > ~/.config/fish/completions/coder-tasks.fish

    Example: coder-tasks completion bash >> ~/.bashrc
    """
    from typer._completion_shared import get_completion_script

    script = get_completion_script(
        prog_name="coder-tasks", complete_var=COMPLETE_VAR, shell=shell.value
    )
    out.write_stdout(script)
    out.print_notice(f"[dim]install with: {_INSTALL[shell]}[/]")
