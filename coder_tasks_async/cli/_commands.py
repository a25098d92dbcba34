"""``list``, ``create``, ``status``, ``send``, ``pause``/``resume``, ``delete``, ``wait``.

Only typer and the CLI's own helpers are imported here; the SDK is imported inside
command bodies, so ``--help`` and argument errors never load aiohttp.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import _output as out
from ._app import (
    Conn,
    HeaderOption,
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
    from coder_tasks_async import CoderTasksClient, Task

__all__ = [
    "create",
    "delete",
    "list_tasks",
    "owner_kw",
    "parse_until",
    "pause",
    "resume",
    "send",
    "status",
    "wait",
]

TEMPLATE_VERSION_ENV = "CODER_TASK_TEMPLATE_VERSION"
#: ``wait``'s default patience; ``--timeout 0`` waits forever.
DEFAULT_WAIT_TIMEOUT = 600.0

TaskArg = Annotated[
    str, typer.Argument(help="Task: UUID, name, or owner/name.", show_default=False, metavar="TASK")
]
StdinOption = Annotated[bool, typer.Option("--stdin", help="Read the input from stdin.")]
ColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "-c",
        "--column",
        help="Columns to show, comma-separated or repeated: id, owner, name, status, state, "
        "state-changed, created, template, message.",
        show_default=False,
        metavar="COLUMNS",
    ),
]
WideOption = Annotated[
    bool,
    typer.Option(
        "-w", "--wide", help="Never cut the message column (already the case when piped)."
    ),
]


def owner_kw(owner: str) -> dict[str, Any]:
    """The SDK keyword naming a task's owner (one place to follow the SDK's spelling)."""
    return {"user": owner}


def _input_from(text: str | None, stdin: bool) -> str:
    """The task input from the argument or stdin (exactly one of them)."""
    if stdin:
        if text is not None:
            usage_error("give the input as an argument or with --stdin, not both")
        return sys.stdin.read().strip()
    if text is None:
        usage_error("missing input: pass it as an argument or use --stdin")
    return text


def _valid_values() -> tuple[list[str], list[str]]:
    from coder_tasks_async import TaskState, TaskStatus

    return [s.value for s in TaskStatus], [s.value for s in TaskState]


def parse_until(flag: str, spec: str) -> list[str]:
    """``--until Active,IDLE`` as lower-case values; a usage error lists the valid ones."""
    statuses, states = _valid_values()
    wanted = [part.strip().lower() for part in spec.split(",") if part.strip()]
    if not wanted:
        usage_error(f"{flag} needs at least one status or state")
    for value in wanted:
        if value not in statuses and value not in states:
            usage_error(
                f"{flag}: unknown value {value!r}",
                f"statuses: {', '.join(statuses)}; states: {', '.join(states)}",
            )
    return wanted


def _parse_status(value: str | None) -> str | None:
    if value is None:
        return None
    statuses, _ = _valid_values()
    lowered = value.strip().lower()
    if lowered not in statuses:
        usage_error(f"--status: unknown status {value!r}", f"valid: {', '.join(statuses)}")
    return lowered


def _show_task(task: Task, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.JSON:
        out.print_json(out.jsonable(task))
    else:
        out.tasks_table([task])


def _columns(spec: list[str] | None) -> list[str] | None:
    if not spec:
        return None
    try:
        return out.parse_columns(spec)
    except ValueError as exc:
        usage_error(f"-c/--column: {exc}")


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
    wanted = _parse_status(status)
    columns = _columns(column)
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


async def resolve(coder: CoderTasksClient, ref: str, owner: str) -> Task:
    """``get_task`` whose not-found error names the task."""
    from coder_tasks_async import NotFoundError, RouteNotFoundError

    try:
        return await coder.get_task(ref, **owner_kw(owner))
    except RouteNotFoundError:
        raise
    except NotFoundError:
        shown = ref if "/" in ref or owner == "me" else f"{owner}/{ref}"
        raise CliError(
            f"task {shown} not found (or you cannot see it)",
            "list yours with `coder-tasks list`, or everyone's with `coder-tasks list -a`",
        ) from None


def deleted(task: Task | str) -> CliError:
    """The error for a task that disappeared while being watched."""
    name = task if isinstance(task, str) else task.ref
    return CliError(f"task {name} was deleted")


@app.command()
def create(
    input: Annotated[
        str | None,
        typer.Argument(help="What the agent should do.", show_default=False, metavar="INPUT"),
    ] = None,
    stdin: StdinOption = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Task name (default: generated).", metavar="NAME")
    ] = None,
    template_version: Annotated[
        str | None,
        typer.Option(
            "--template-version",
            envvar=TEMPLATE_VERSION_ENV,
            help="Template version id (UUID) to run the task on.",
            show_envvar=True,
            metavar="UUID",
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help="Template by name: NAME (its active version) or NAME@VERSION; "
            "instead of --template-version.",
            metavar="NAME[@VERSION]",
        ),
    ] = None,
    org: Annotated[
        str | None,
        typer.Option(
            "--org", help="Organization of --template, when several have that name.", metavar="ORG"
        ),
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Template version preset id.", metavar="UUID")
    ] = None,
    owner: Annotated[
        str, typer.Option("--owner", help="Create the task for this user.", metavar="USER")
    ] = "me",
    user: UserAlias = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the agent is ready, then show the task.")
    ] = False,
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Print the conversation until the agent settles."),
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the task id.")] = False,
    output: OutputOption = OutputFormat.TABLE,
    poll_interval: PollOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Create a task; it starts `pending` and becomes `active` when its workspace is up.

    Example: coder-tasks create "Fix the flaky login test" --template claude-code-agent --follow
    """
    text = _input_from(input, stdin)
    who = owner_of(owner, user)
    if template and template_version:
        if template_version != os.environ.get(TEMPLATE_VERSION_ENV):
            usage_error("pass --template or --template-version, not both")
        template_version = None  # an explicit --template beats the environment's default
    if org and not template:
        usage_error("--org only makes sense with --template")
    if not template and not template_version:
        usage_error(
            "--template-version is required",
            f"pass a template version id, set ${TEMPLATE_VERSION_ENV}, or name a template "
            "with --template NAME[@VERSION]",
        )
    if template_version and not _is_uuid(template_version):
        usage_error(
            f"--template-version must be a template version id (a UUID), not {template_version!r}",
            "to pick a template by name, use --template NAME[@VERSION]",
        )
    if wait and follow:
        usage_error("pass --wait or --follow, not both")
    conn = Conn(url, token, header, verbose)

    async def main() -> None:
        from ._templates import resolve_template

        async with conn.client() as coder:
            version = await resolve_template(coder, template, org) if template else template_version
            task = await coder.create_task(
                text,
                template_version_id=str(version),
                name=name,
                template_version_preset_id=preset,
                **owner_kw(who),
            )
            if quiet:
                out.write_stdout(str(task.id))
            elif output is OutputFormat.JSON and not (wait or follow):
                out.print_json(out.jsonable(task))
            elif not (wait or follow):
                out.write_stdout(f"Created task {task.ref} ({task.id}).")
            if not quiet and output is OutputFormat.TABLE:
                note = (
                    f"Created task {task.ref}."
                    if wait or follow
                    else f"Follow it with: coder-tasks logs {task.ref} -f"
                )
                out.print_notice(f"[dim]{note}[/]")
            if follow:
                from ._logs import follow_until_settled

                await follow_until_settled(
                    coder, task, poll=poll_policy(poll_interval), output=output
                )
            elif wait:
                from coder_tasks_async import TaskState

                out.print_notice(f"[dim]Waiting for {task.ref} to be ready…[/]")
                ready = await _wait(
                    coder,
                    task,
                    [TaskState.IDLE.value, TaskState.COMPLETE.value, TaskState.FAILED.value],
                    None,
                    poll_interval,
                )
                if not quiet:
                    _show_task(ready, output)

    run(main, subject=f"task {name}" if name else "the new task", verbose=verbose)


def _is_uuid(text: str) -> bool:
    from uuid import UUID

    try:
        UUID(text)
    except ValueError:
        return False
    return True


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
    output: OutputOption = OutputFormat.TABLE,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Show a task's status, state and message.

    Example: coder-tasks status fix-login --watch
    """
    who = owner_of(owner, user)
    conn = Conn(url, token, header, verbose)

    async def main() -> None:
        from coder_tasks_async import NotFoundError

        async with conn.client() as coder:
            found = await resolve(coder, task, who)
            if not watch:
                _show_task(found, output)
                return
            try:
                async for snapshot in coder.watch(
                    found.id, until=_watch_done, poll=poll_policy(poll_interval), **owner_kw(who)
                ):
                    if output is OutputFormat.JSON:
                        out.print_json_line(out.jsonable(snapshot))
                    else:
                        out.write_stdout(out.task_line(snapshot))
            except NotFoundError:
                raise deleted(found) from None

    run(main, subject=f"task {task}", verbose=verbose)


@app.command()
def send(
    task: TaskArg,
    input: Annotated[
        str | None,
        typer.Argument(help="The message for the agent.", show_default=False, metavar="INPUT"),
    ] = None,
    stdin: StdinOption = False,
    wait_ready: Annotated[
        bool,
        typer.Option(
            "--wait-ready", help="Wait until the task is active and its agent idle, then send."
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="With --wait-ready: resume a paused task first (v2.31+)."),
    ] = False,
    ready_timeout: Annotated[
        float,
        typer.Option(
            "--ready-timeout", help="Seconds --wait-ready may wait.", min=0, metavar="SECONDS"
        ),
    ] = 600.0,
    owner: OwnerOption = "me",
    user: UserAlias = None,
    poll_interval: PollOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    header: HeaderOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Send input to a task's agent (exactly once; never re-sent after a doubtful failure).

    Example: coder-tasks send fix-login "Please also add a test" --wait-ready
    """
    text = _input_from(input, stdin)
    who = owner_of(owner, user)
    if resume and not wait_ready:
        usage_error("--resume needs --wait-ready")
    conn = Conn(url, token, header, verbose)

    async def main() -> None:
        async with conn.client() as coder:
            found = await resolve(coder, task, who)
            if wait_ready:
                out.print_notice(f"[dim]Waiting for {found.ref} to be ready…[/]")
            await coder.send_input(
                found.id,
                text,
                wait_ready=wait_ready,
                resume=resume,
                ready_timeout=ready_timeout,
                poll=poll_policy(poll_interval),
                **owner_kw(who),
            )
        out.write_stdout(f"Sent input to {found.ref}.")

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


async def _wait(
    coder: CoderTasksClient,
    found: Task,
    wanted: list[str],
    timeout: float | None,
    poll_interval: float | None,
) -> Task:
    from coder_tasks_async import NotFoundError, WaitTimeoutError

    try:
        return await coder.wait_for(
            found.id, until=wanted, timeout=timeout, poll=poll_policy(poll_interval)
        )
    except NotFoundError:
        raise deleted(found) from None
    except WaitTimeoutError as exc:
        last = exc.task or found
        state = f", state {last.state}" if last.state else ""
        raise CliError(
            f"task {found.ref} did not reach {' or '.join(wanted)} within {timeout:g}s "
            f"(now: status {last.status}{state})",
            "raise --timeout (0 waits forever)",
        ) from None


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
    conn = Conn(url, token, header, verbose)

    async def main() -> None:
        async with conn.client() as coder:
            found = await resolve(coder, task, who)
            done = await _wait(coder, found, wanted, timeout or None, poll_interval)
            _show_task(done, output)

    run(main, subject=f"task {task}", verbose=verbose)
