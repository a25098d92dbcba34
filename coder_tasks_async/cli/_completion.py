"""Shell completion: the values an option takes, and the names of your tasks.

Typer asks these functions when the shell does (``coder-tasks completion bash``
installs the hook).  Value lists are plain tuples; task names cost one request,
bounded to two seconds without retries, and nothing at all when the deployment is
not configured, so a TAB never hangs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Annotated

import typer

from ._app import command
from ._terminal import print_notice, write_stdout

__all__ = [
    "COMPLETE_VAR",
    "OUTPUT_FORMATS",
    "STATES",
    "STATUSES",
    "complete_task",
    "completion",
    "values",
]

#: ``coder``'s task statuses (``codersdk.AllTaskStatuses``) and agent states.
STATUSES = ("pending", "initializing", "active", "paused", "error", "unknown")
STATES = ("working", "idle", "complete", "failed")
OUTPUT_FORMATS = ("table", "json")
#: How long a completion may wait for the server.
COMPLETION_TIMEOUT = 2.0


def values(choices: Sequence[str]) -> Callable[[str], list[str]]:
    """A completion function offering ``choices`` (after the last comma, for lists)."""

    def complete(incomplete: str) -> list[str]:
        head, comma, last = incomplete.rpartition(",")
        prefix = head + comma
        return [prefix + c for c in choices if c.startswith(last.lower())]

    return complete


def complete_task(ctx: typer.Context, incomplete: str) -> list[str]:
    """Names of your tasks (``owner/name`` once a ``/`` is typed) that start with ``incomplete``."""
    import asyncio

    from coder_tasks_async import CoderTasksClient, RetryPolicy, Timeouts

    async def names() -> list[str]:
        limit = Timeouts(
            connect=COMPLETION_TIMEOUT, read=COMPLETION_TIMEOUT, total=COMPLETION_TIMEOUT
        )
        owner = None if "/" in incomplete else "me"
        given = ctx.params  # what the command line says so far (--url, --token)
        async with CoderTasksClient.from_env(
            url=given.get("url"), token=given.get("token"), timeouts=limit, retry=RetryPolicy.none()
        ) as coder:
            tasks = await coder.list_tasks(owner=owner)
        if owner is None:
            return [f"{t.owner_name}/{t.name}" for t in tasks if t.owner_name]
        return [t.name for t in tasks]

    try:
        found = asyncio.run(asyncio.wait_for(names(), COMPLETION_TIMEOUT * 2))
    except Exception:  # not configured, unreachable, refused: offer nothing
        return []
    return sorted(name for name in found if name.startswith(incomplete))


# -- the `completion` command ------------------------------------------------------------

#: The variable the shell sets when it asks for completions.
COMPLETE_VAR = "_CODER_TASKS_COMPLETE"


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


@command("completion")
def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", metavar="SHELL")],
) -> None:
    """Print the shell completion script for SHELL (it completes commands, flags,
    their values and your task names).

    Install it with one of:
      eval "$(coder-tasks completion bash)"   (in ~/.bashrc)
      eval "$(coder-tasks completion zsh)"    (in ~/.zshrc)
      coder-tasks completion fish > ~/.config/fish/completions/coder-tasks.fish

    Example: coder-tasks completion bash >> ~/.bashrc
    """
    # typer.completion is typer's public completion module; it does not list its names.
    from typer.completion import get_completion_script  # type: ignore[attr-defined]

    script = get_completion_script(
        prog_name="coder-tasks", complete_var=COMPLETE_VAR, shell=shell.value
    )
    write_stdout(script)
    print_notice(f"install with: {_INSTALL[shell]}", "dim")
