"""``list``, ``status``, ``wait``, ``pause``/``resume`` and ``delete``.

The SDK is imported inside command bodies, so ``--help`` never loads aiohttp.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

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
from ._errors import CliError

if TYPE_CHECKING:
    from coder_tasks_async import Task

from ._common import (
    DEFAULT_WAIT_TIMEOUT,
    ColumnOption,
    TaskArg,
    WideOption,
    deleted,
    owner_kw,
    parse_status,
    parse_until,
    resolve,
    show_task,
    table_columns,
    wait_until,
)

__all__ = ["delete", "list_tasks", "pause", "resume", "status", "wait"]


@app.command("list")
def list_tasks(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only tasks in this status (pending, initializing, active, paused, error, "
            "unknown); any case.",
            metavar="STATUS",
        ),
    ] = None,
    all_users: Annotated[bool, typer.Option("-a", "--all", help="Tasks of every user.")] = False,
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Tasks of this user (default: me).", metavar="USER"),
    ] = None,
    user: UserAlias = None,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Only tasks in this organization (name or id).", metavar="ORG"),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only task ids.")] = False,
    column: ColumnOption = None,
    wide: WideOption = False,
    output: OutputOption = OutputFormat.TABLE,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """List tasks (default: yours, newest first).

    Example: coder-tasks list -a --status active -c owner,name,state
    """
    who = owner_of(owner or "me", user) if (owner or user) else None
    if all_users and who:
        usage_error("--all and --owner cannot be combined")
    who = None if all_users else who or "me"
    wanted = parse_status(status)
    columns = table_columns(column)
    conn = Conn(url, token, header, verbose)

    async def main() -> None:
        async with conn.client() as coder:
            tasks = await coder.list_tasks(owner=who, organization=org, status=wanted)
        if quiet:
            for task in tasks:
                out.write_stdout(str(task.id))
        elif output is OutputFormat.JSON:
            out.print_json([out.jsonable(t) for t in tasks])
        elif not tasks:
            out.print_notice("No tasks found.")
        else:
            out.tasks_table(tasks, owner=all_users, columns=columns, wide=wide)

    run(main, verbose=verbose)


def _watch_done(task: Task) -> bool:
    """Where ``coder task status --watch`` stops: workspace down, or agent up and not working."""
    from coder_tasks_async import TaskState, TaskStatus, WorkspaceAgentLifecycle, WorkspaceStatus

    if task.status is TaskStatus.PAUSED or task.workspace_status in (
        WorkspaceStatus.STOPPED,
        WorkspaceStatus.FAILED,
        WorkspaceStatus.CANCELED,
        WorkspaceStatus.DELETED,
    ):
        return True
    health = task.workspace_agent_health
    return (
        task.status is TaskStatus.ACTIVE
        and task.workspace_agent_lifecycle is WorkspaceAgentLifecycle.READY
        and health is not None
        and health.healthy
        and task.state is not None
        and task.state is not TaskState.WORKING
    )


@app.command()
def status(
    task: TaskArg,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Print each change until the agent is ready and not working."),
    ] = False,
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
    """Show a task's status, state and message.

    Example: coder-tasks status fix-login --watch
    """
    if no_watch and not watch:
        usage_error("--no-watch only makes sense with --watch", "add --watch")
    who = owner_of(owner, user)
    conn = Conn(url, token, header, verbose, watch=not no_watch)

    async def main() -> None:
        from coder_tasks_async import NotFoundError

        async with conn.client() as coder:
            found = await resolve(coder, task, who)
            if not watch:
                show_task(found, output)
                return
            try:
                async for snapshot in coder.watch(
                    found.id, until=_watch_done, poll=poll_policy(poll_interval), **owner_kw(who)
                ):
                    if output is OutputFormat.JSON:
                        out.print_json_line(out.jsonable(snapshot))
                    else:
                        out.write_stdout(out.task_line(snapshot))
                # The watch also ends, quietly, when the task is deleted: say so.
                await coder.get_task(found.id)
            except NotFoundError:
                raise deleted(found) from None

    run(main, subject=f"task {task}", verbose=verbose)


def _transition(action: str, task: str, who: str, conn: Conn) -> None:
    async def main() -> None:
        async with conn.client() as coder:
            found = await resolve(coder, task, who)
            if action == "pause":
                await coder.pause_task(found)
            else:
                await coder.resume_task(found)
        verb = "Pausing" if action == "pause" else "Resuming"
        out.write_stdout(f"{verb} task {found.ref}.")

    run(main, subject=f"task {task}", verbose=conn.verbose)


@app.command()
def pause(
    task: TaskArg,
    owner: OwnerOption = "me",
    user: UserAlias = None,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Pause a task: stop its workspace, keeping the conversation (Coder v2.31+).

    Example: coder-tasks pause fix-login
    """
    _transition("pause", task, owner_of(owner, user), Conn(url, token, header, verbose))


@app.command()
def resume(
    task: TaskArg,
    owner: OwnerOption = "me",
    user: UserAlias = None,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Resume a paused task; its agent starts a new conversation (Coder v2.31+).

    Example: coder-tasks resume fix-login
    """
    _transition("resume", task, owner_of(owner, user), Conn(url, token, header, verbose))


@app.command()
def delete(
    tasks: Annotated[
        list[str],
        typer.Argument(help="Tasks to delete: UUIDs, names or owner/name.", metavar="TASK..."),
    ],
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")] = False,
    owner: OwnerOption = "me",
    user: UserAlias = None,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Delete tasks (asks first unless -y); reports each one, exit 1 if any failed.

    Example: coder-tasks delete fix-login old-task -y
    """
    who = owner_of(owner, user)
    conn = Conn(url, token, header, verbose)

    async def main() -> None:
        import anyio

        from ._errors import describe

        failed = 0
        async with conn.client() as coder:
            found: list[Task] = []
            for ref in tasks:
                try:
                    found.append(await resolve(coder, ref, who))
                except CliError as exc:
                    failed += 1
                    out.print_error(exc.message)
            if found and not yes:
                names = ", ".join(t.ref for t in found)
                if not await anyio.to_thread.run_sync(_confirm, f"Delete {names}?"):
                    out.print_notice("Nothing deleted.")
                    raise typer.Exit(1)
            for t in found:
                try:
                    await coder.delete_task(t.id, **owner_kw(who))
                except Exception as exc:
                    failed += 1
                    message, _ = describe(exc, subject=f"task {t.ref}")
                    out.print_error(message)
                else:
                    out.write_stdout(f"Deleted task {t.ref}.")
        if failed:
            raise typer.Exit(1)

    run(main, verbose=verbose)


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


@app.command()
def wait(
    task: TaskArg,
    until: Annotated[
        str,
        typer.Option(
            "--until",
            help="Status(es) or state(s) to wait for, comma-separated, any case "
            "(e.g. idle,complete).",
            show_default=False,
            metavar="VALUES",
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
    """Wait until a task reaches a status or state, then show it (exit 1 on timeout).

    Example: coder-tasks wait fix-login --until idle,complete --timeout 300
    """
    wanted = parse_until("--until", until)
    who = owner_of(owner, user)
    conn = Conn(url, token, header, verbose, watch=not no_watch)

    async def main() -> None:
        async with conn.client() as coder:
            found = await resolve(coder, task, who)
            done = await wait_until(coder, found, wanted, timeout or None, poll_interval)
            show_task(done, output)

    run(main, subject=f"task {task}", verbose=verbose)
