"""``pause`` and ``resume``: start the workspace build, then wait for it (``--no-wait``: don't).

``coder task pause`` refuses a task that is already paused; here that is a
success that sends nothing (the wanted state holds), and so is resuming a task
that runs.  Neither asks for confirmation (both are undone by the other);
``-y/--yes`` is accepted so ``coder`` scripts run unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import command
from ._connection import Connection, connection_options
from ._error_messages import CliError
from ._options import OwnerOption, PollOption, TaskArg, UserAlias, owner_of
from ._outage import watched
from ._runner import run
from ._task_lookup import display, resolve
from ._terminal import print_notice, write_stdout
from ._waiting import DEFAULT_WAIT_TIMEOUT, Goal, wait_until

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, Task, WorkspaceBuild

__all__ = ["pause", "resume"]

YesOption = Annotated[
    bool, typer.Option("-y", "--yes", help="Accepted for `coder task` scripts: nothing is asked.")
]
NoWaitOption = Annotated[
    bool, typer.Option("--no-wait", help="Return once the server accepted the request.")
]
#: The statuses in which a task runs (or is starting to): nothing to resume.
_RUNNING = ("pending", "initializing", "active")


async def wait_for_transition(
    coder: CoderTasksClient,
    task: Task,
    build: WorkspaceBuild,
    goal: Goal,
    poll_interval: float | None = None,
) -> Task:
    """Wait until the build a pause or resume started has done its work.

    First the build itself, as ``coder task pause``/``resume`` watch it (a failed build
    is a :class:`~coder_tasks_async.BuildFailedError`), then the task: ``paused`` as
    soon as the stop build is done, ``active`` once the started agent is up.
    """
    await coder.wait_for_build(build, timeout=DEFAULT_WAIT_TIMEOUT)
    return await wait_until(coder, task, goal, DEFAULT_WAIT_TIMEOUT, poll_interval, explain=False)


async def _transition(coder: CoderTasksClient, task: Task, action: str) -> WorkspaceBuild:
    """POST the pause or resume; the build the server started."""
    if action == "pause":
        return await coder.pause_task(task.id)
    return await coder.resume_task(task.id)


def _already(found: Task, action: str) -> str | None:
    """Why there is nothing to do, or ``None``; a refusal for a task that cannot resume."""
    status = str(found.status)
    if action == "pause" and status == "paused":
        return f"Task {display(found)} is already paused."
    if action == "resume" and status in _RUNNING:
        return f"Task {display(found)} is not paused (status {status}): nothing to resume."
    if action == "resume" and status != "paused":
        raise CliError(
            f"task {display(found)} is in {status} state and cannot be resumed",
            "check the workspace build logs and agent status for details",
        )
    return None


def _run_transition(
    action: str, task: str, who: str, no_wait: bool, poll: float | None, conn: Connection
) -> None:
    goal = Goal.of(["paused" if action == "pause" else "active"])
    verb = {"pause": ("Pausing", "Paused"), "resume": ("Resuming", "Resumed")}[action]

    async def main() -> None:
        async with conn.open() as coder:
            found = await resolve(coder, task, who)
            nothing = _already(found, action)
            if nothing is not None:
                write_stdout(nothing)
                return
            build = await _transition(coder, found, action)
            if no_wait:
                write_stdout(f"{verb[0]} task {display(found)} in the background.")
                return
            print_notice(f"{verb[0]} task {display(found)}…", "dim")
            await watched(
                coder,
                found.id,
                conn.patience,
                lambda: wait_for_transition(coder, found, build, goal, poll),
            )
        write_stdout(f"{verb[1]} task {display(found)}.")

    run(main, conn=conn, about=f"task {task}")


def _transition_command(action: str, doc: str) -> Callable[..., None]:
    """The ``pause`` or ``resume`` command (the two take the same flags)."""

    def transition(
        task: TaskArg,
        *,
        yes: YesOption = False,
        no_wait: NoWaitOption = False,
        owner: OwnerOption = "me",
        user: UserAlias = None,
        poll_interval: PollOption = None,
        conn: Connection,
    ) -> None:
        _run_transition(action, task, owner_of(owner, user), no_wait, poll_interval, conn)

    transition.__doc__ = doc  # before the decorators copy it: typer shows it as help
    transition.__name__ = transition.__qualname__ = action
    return command(action)(connection_options(transition))


pause = _transition_command(
    "pause",
    """Pause a task: stop its workspace, keeping the conversation (Coder v2.31.1+).

    Waits until the task is paused; a paused task is left alone.

    Example: coder-tasks pause fix-login
    """,
)
resume = _transition_command(
    "resume",
    """Resume a paused task; its agent starts a new conversation (Coder v2.31.1+).

    Waits until the task is active again; a running task is left alone.

    Example: coder-tasks resume fix-login --no-wait
    """,
)
