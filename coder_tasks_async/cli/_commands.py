"""``list``, ``create``, ``status``, ``send``, ``pause``/``resume``, ``delete``, ``wait``."""

from __future__ import annotations

import sys
from typing import Annotated

import anyio
import typer

from .. import Task, TaskState, TaskStatus, WorkspaceAgentLifecycle, WorkspaceStatus
from . import _output as out
from ._app import (
    OutputFormat,
    OutputOption,
    PollOption,
    TokenOption,
    UrlOption,
    app,
    connect,
    poll_policy,
    run,
    usage_error,
)

__all__ = ["create", "delete", "list_tasks", "pause", "resume", "send", "status", "wait"]

TEMPLATE_VERSION_ENV = "CODER_TASK_TEMPLATE_VERSION"

TaskArg = Annotated[
    str, typer.Argument(help="Task: UUID, name, or owner/name.", show_default=False)
]
UserOption = Annotated[str, typer.Option("--user", help="Owner used to resolve a bare task name.")]
StdinOption = Annotated[bool, typer.Option("--stdin", help="Read the input from stdin.")]


def _input_from(text: str | None, stdin: bool) -> str:
    """The task input from the argument or stdin (exactly one of them)."""
    if stdin:
        if text is not None:
            usage_error("give the input as an argument or with --stdin, not both")
        return sys.stdin.read().strip()
    if text is None:
        usage_error("missing input: pass it as an argument or use --stdin")
    return text


def _show_task(task: Task, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.JSON:
        out.print_json(out.jsonable(task))
    else:
        out.console.print(out.tasks_table([task]))


@app.command("list")
def list_tasks(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only tasks in this status (pending, initializing, active, paused, error...).",
        ),
    ] = None,
    all_users: Annotated[bool, typer.Option("-a", "--all", help="Tasks of every user.")] = False,
    user: Annotated[
        str | None, typer.Option("--user", help="Tasks of this user (default: me).")
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only task ids.")] = False,
    output: OutputOption = OutputFormat.TABLE,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List tasks (default: yours, newest first)."""
    if all_users and user:
        usage_error("--all and --user cannot be combined")
    owner = None if all_users else user or "me"

    async def main() -> None:
        async with connect(url, token) as coder:
            tasks = await coder.list_tasks(owner=owner, status=status)
        if quiet:
            for task in tasks:
                out.write_stdout(str(task.id))
        elif output is OutputFormat.JSON:
            out.print_json([out.jsonable(t) for t in tasks])
        elif not tasks:
            out.err_console.print("No tasks found.")
        else:
            out.console.print(out.tasks_table(tasks, owner=all_users))

    run(main)


@app.command()
def create(
    input: Annotated[
        str | None, typer.Argument(help="What the agent should do.", show_default=False)
    ] = None,
    stdin: StdinOption = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Task name (default: generated).")
    ] = None,
    template_version: Annotated[
        str | None,
        typer.Option(
            "--template-version",
            envvar=TEMPLATE_VERSION_ENV,
            help=f"Template version id to run the task on [env: {TEMPLATE_VERSION_ENV}].",
            show_envvar=False,
        ),
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Template version preset id.")
    ] = None,
    owner: Annotated[str, typer.Option("--owner", help="Create the task for this user.")] = "me",
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the task id.")] = False,
    output: OutputOption = OutputFormat.TABLE,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create a task; it starts `pending` and becomes `active` when its workspace is up."""
    text = _input_from(input, stdin)
    if not template_version:
        usage_error(f"--template-version is required (or set ${TEMPLATE_VERSION_ENV})")

    async def main() -> None:
        async with connect(url, token) as coder:
            task = await coder.create_task(
                text,
                template_version_id=template_version,
                name=name,
                template_version_preset_id=preset,
                owner=owner,
            )
        if quiet:
            out.write_stdout(str(task.id))
        elif output is OutputFormat.JSON:
            out.print_json(out.jsonable(task))
        else:
            out.console.print(
                f"Created task [bold]{task.ref}[/] ({task.id}).\n"
                f"[dim]Follow it with: coder-tasks logs {task.ref} --follow[/]",
                highlight=False,
            )

    run(main)


def _watch_done(task: Task) -> bool:
    """Where ``coder task status --watch`` stops: workspace down, or agent up and not working."""
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
    user: UserOption = "me",
    poll_interval: PollOption = None,
    output: OutputOption = OutputFormat.TABLE,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Show a task's status, state and message."""

    async def main() -> None:
        async with connect(url, token) as coder:
            if not watch:
                _show_task(await coder.get_task(task, owner=user), output)
                return
            async for snapshot in coder.watch(
                task, owner=user, until=_watch_done, poll=poll_policy(poll_interval)
            ):
                if output is OutputFormat.JSON:
                    out.print_json_line(out.jsonable(snapshot))
                else:
                    out.console.print(out.task_line(snapshot), highlight=False)

    run(main)


@app.command()
def send(
    task: TaskArg,
    input: Annotated[
        str | None, typer.Argument(help="The message for the agent.", show_default=False)
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
        float, typer.Option("--ready-timeout", help="Seconds --wait-ready may wait.", min=0)
    ] = 600.0,
    user: UserOption = "me",
    poll_interval: PollOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Send input to a task's agent (exactly once; never re-sent after a doubtful failure)."""
    text = _input_from(input, stdin)
    if resume and not wait_ready:
        usage_error("--resume needs --wait-ready")

    async def main() -> None:
        async with connect(url, token) as coder:
            await coder.send_input(
                task,
                text,
                owner=user,
                wait_ready=wait_ready,
                resume=resume,
                ready_timeout=ready_timeout,
                poll=poll_policy(poll_interval),
            )
        out.err_console.print(f"Sent input to {task}.", highlight=False)

    run(main)


def _transition(action: str, task: str, user: str, url: str | None, token: str | None) -> None:
    async def main() -> None:
        async with connect(url, token) as coder:
            found = await coder.get_task(task, owner=user)
            if action == "pause":
                await coder.pause_task(found)
            else:
                await coder.resume_task(found)
        verb = "Pausing" if action == "pause" else "Resuming"
        out.console.print(f"{verb} task [bold]{found.ref}[/].", highlight=False)

    run(main)


@app.command()
def pause(
    task: TaskArg, user: UserOption = "me", url: UrlOption = None, token: TokenOption = None
) -> None:
    """Pause a task: stop its workspace, keeping the conversation (Coder v2.31+)."""
    _transition("pause", task, user, url, token)


@app.command()
def resume(
    task: TaskArg, user: UserOption = "me", url: UrlOption = None, token: TokenOption = None
) -> None:
    """Resume a paused task; its agent starts a new conversation (Coder v2.31+)."""
    _transition("resume", task, user, url, token)


@app.command()
def delete(
    tasks: Annotated[
        list[str], typer.Argument(help="Tasks to delete: UUIDs, names or owner/name.")
    ],
    yes: Annotated[bool, typer.Option("-y", "--yes", help="Do not ask for confirmation.")] = False,
    user: UserOption = "me",
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Delete one or more tasks (asks first unless -y)."""

    async def main() -> None:
        async with connect(url, token) as coder:
            # Resolve every task first, so a typo fails before anything is deleted.
            found = [await coder.get_task(ref, owner=user) for ref in tasks]
            names = ", ".join(t.ref for t in found)
            if not yes:
                question = f"Delete these tasks: {names}?"
                # typer.confirm blocks on stdin; keep the event loop free meanwhile.
                await anyio.to_thread.run_sync(lambda: typer.confirm(question, abort=True))
            async with anyio.create_task_group() as tg:
                for t in found:
                    tg.start_soon(coder.delete_task, t)
        for t in found:
            out.console.print(f"Deleted task [bold]{t.ref}[/].", highlight=False)

    run(main)


@app.command()
def wait(
    task: TaskArg,
    until: Annotated[
        str,
        typer.Option(
            "--until",
            help="Status(es) or state(s) to wait for, comma-separated (e.g. idle,complete).",
            show_default=False,
        ),
    ],
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Give up after this many seconds.", min=0)
    ] = None,
    user: UserOption = "me",
    poll_interval: PollOption = None,
    output: OutputOption = OutputFormat.TABLE,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Wait until a task reaches a status or state, then show it (exit 1 on timeout)."""
    wanted = [part.strip() for part in until.split(",") if part.strip()]

    async def main() -> None:
        async with connect(url, token) as coder:
            found = await coder.wait_for(
                task, until=wanted, timeout=timeout, owner=user, poll=poll_policy(poll_interval)
            )
            _show_task(found, output)

    run(main)
