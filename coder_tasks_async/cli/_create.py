"""``create``: a task from an input, on a template picked as ``coder task create`` picks it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import command
from ._connection import Connection, connection_options
from ._json_output import jsonable, print_json
from ._options import (
    TEMPLATE_VERSION_ENV,
    OutputFormat,
    OutputOption,
    PollOption,
    StdinOption,
    UserAlias,
    input_argument,
    input_from,
    owner_of,
    poll_policy,
)
from ._outage import watched
from ._runner import run, usage_error
from ._tables import STATUS_COLUMNS, print_table
from ._task_lookup import display, is_uuid
from ._template_choice import NO_PRESET, Choice, preset_id, template_version_id
from ._terminal import print_notice, write_stdout
from ._waiting import Goal, wait_until

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, Task

__all__ = ["create"]

TEMPLATE_NAME_ENV = "CODER_TASK_TEMPLATE_NAME"
PRESET_ENV = "CODER_TASK_PRESET_NAME"
ORGANIZATION_ENV = "CODER_ORGANIZATION"


def _choice(template: str | None, version: str | None, org: str | None) -> Choice:
    """The template flags, with a version id from the environment yielding to ``--template``."""
    if template and version and is_uuid(version):
        template_given = template != os.environ.get(TEMPLATE_NAME_ENV)
        version_given = version != os.environ.get(TEMPLATE_VERSION_ENV)
        if template_given and version_given:
            usage_error("pass --template or a --template-version id, not both")
        if template_given:
            version = None  # an explicit --template beats the environment's version id
        else:
            template = None  # a version id is more precise than a template name
    return Choice(template=template, version=version, organization=org)


async def _after_create(
    coder: CoderTasksClient, task: Task, *, follow: bool, show: bool, output: OutputFormat,
    poll_interval: float | None,
) -> None:  # fmt: skip
    """``--wait``: until the agent is ready, then show the task; ``--follow``: the conversation."""
    if follow:
        from ._follow import follow_until_settled

        await follow_until_settled(coder, task, poll=poll_policy(poll_interval), output=output)
    else:
        print_notice(f"Waiting for {display(task)} to be ready…", "dim")
        goal = Goal.of(["idle", "complete", "failed"])
        ready = await wait_until(coder, task, goal, None, poll_interval)
        if not show:
            return
        if output is OutputFormat.JSON:
            print_json(jsonable(ready))
        else:
            print_table(STATUS_COLUMNS, [ready], None)


def _announce(task: Task, *, quiet: bool, output: OutputFormat, later: bool) -> None:
    """The created task: its id (``-q``), its JSON, or a line for people."""
    if quiet:
        if output is OutputFormat.JSON:
            print_json(str(task.id))
        else:
            write_stdout(str(task.id))
    elif output is OutputFormat.JSON and not later:
        print_json(jsonable(task))
    elif not later:
        write_stdout(f"Created task {display(task)} ({task.id}).")
    if not quiet and output is OutputFormat.TABLE:
        note = (
            f"Created task {display(task)}."
            if later
            else (f"Follow it with: coder-tasks logs {display(task)} -f")
        )
        print_notice(note, "dim")


@command("create")
@connection_options
def create(
    input: Annotated[str | None, input_argument("What the agent should do")] = None,
    *,
    stdin: StdinOption = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Task name (default: generated).", metavar="NAME")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            envvar=TEMPLATE_NAME_ENV,
            help="Template name, or NAME@VERSION (default: the only task template).",
            metavar="NAME[@VERSION]",
        ),
    ] = None,
    template_version: Annotated[
        str | None,
        typer.Option(
            "--template-version",
            envvar=TEMPLATE_VERSION_ENV,
            help="Version of the template, by name (default: its active version), or a "
            "template version id (a UUID) on its own.",
            metavar="NAME|UUID",
        ),
    ] = None,
    preset: Annotated[
        str,
        typer.Option(
            "--preset",
            envvar=PRESET_ENV,
            help=f"Preset name (or id); {NO_PRESET!r} for none.",
            metavar="NAME|UUID",
        ),
    ] = NO_PRESET,
    org: Annotated[
        str | None,
        typer.Option(
            "-O",
            "--org",
            envvar=ORGANIZATION_ENV,
            help="Organization (name or id) to find the template in.",
            metavar="ORG",
        ),
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
    conn: Connection,
) -> None:
    """Create a task; it starts `pending` and becomes `active` when its workspace is up.

    Without --template, the only task template is used (as `coder task create` does).

    Example: coder-tasks create "Fix the flaky login test" --template claude-code-agent --follow
    """
    text = input_from(input, stdin)
    if not text:
        usage_error("a task cannot be started with an empty input")
    who = owner_of(owner, user)
    choice = _choice(template, template_version, org)
    if wait and follow:
        usage_error("pass --wait or --follow, not both")

    async def main() -> None:
        async with conn.open() as coder:
            version = await template_version_id(coder, choice)
            task = await coder.create_task(
                text,
                template_version_id=version,
                name=name,
                template_version_preset_id=await preset_id(coder, version, preset),
                owner=who,
            )
            later = wait or follow
            _announce(task, quiet=quiet, output=output, later=later)
            if later:
                await watched(
                    coder,
                    task.id,
                    conn.patience,
                    lambda: _after_create(
                        coder, task, follow=follow, show=not quiet, output=output,
                        poll_interval=poll_interval,
                    ),
                )  # fmt: skip

    run(main, conn=conn, about=f"task {name}" if name else "the new task")
