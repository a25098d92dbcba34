"""``create`` (optionally waiting or following) and ``send``.

The SDK is imported inside command bodies, so ``--help`` never loads aiohttp.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    pass

from ._common import (
    TEMPLATE_VERSION_ENV,
    StdinOption,
    TaskArg,
    input_from,
    is_uuid,
    owner_kw,
    resolve,
    show_task,
    wait_until,
)

__all__ = ["create", "send"]


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
    text = input_from(input, stdin)
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
    if template_version and not is_uuid(template_version):
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
                ready = await wait_until(
                    coder,
                    task,
                    [TaskState.IDLE.value, TaskState.COMPLETE.value, TaskState.FAILED.value],
                    None,
                    poll_interval,
                )
                if not quiet:
                    show_task(ready, output)

    run(main, subject=f"task {name}" if name else "the new task", verbose=verbose)


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
    text = input_from(input, stdin)
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
