"""``send``: input for a task's agent, once ready, resuming a paused task first (as coder does)."""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import command
from ._connection import Connection, connection_options
from ._options import (
    OwnerOption,
    PollOption,
    StdinOption,
    TaskArg,
    UserAlias,
    input_argument,
    input_from,
    owner_of,
    poll_policy,
)
from ._outage import watched
from ._runner import run, usage_error
from ._task_lookup import display, resolve
from ._terminal import print_notice, write_stdout

__all__ = ["send"]


@command("send")
@connection_options
def send(
    task: TaskArg,
    input: Annotated[str | None, input_argument("The message for the agent")] = None,
    *,
    stdin: StdinOption = False,
    wait_ready: Annotated[
        bool,
        typer.Option(
            "--wait-ready/--no-wait-ready",
            help="Wait until the task is active and its agent idle, then send (default), "
            "or send at once.",
        ),
    ] = True,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume/--no-resume", help="Resume a paused task first (default; Coder v2.31.1+)."
        ),
    ] = True,
    ready_timeout: Annotated[
        float,
        typer.Option(
            "--ready-timeout",
            help="Seconds the wait may take (0: no limit).",
            min=0,
            metavar="SECONDS",
        ),
    ] = 600.0,
    owner: OwnerOption = "me",
    user: UserAlias = None,
    poll_interval: PollOption = None,
    conn: Connection,
) -> None:
    """Send input to a task's agent, exactly once (never re-sent after a doubtful failure).

    Like `coder task send`, it waits until the agent is ready and resumes a paused
    task first; --no-wait-ready sends at once, --no-resume leaves a paused task alone.

    Example: coder-tasks send fix-login "Please also add a test"
    """
    text = input_from(input, stdin)
    if not text:
        usage_error("the input is empty: there is nothing to send")
    who = owner_of(owner, user)

    async def main() -> None:
        async with conn.open() as coder:
            found = await resolve(coder, task, who)
            ready = str(found.status) == "active" and str(found.state or "") != "working"
            if wait_ready and not ready:
                doing = "Resuming" if resume and str(found.status) == "paused" else "Waiting for"
                print_notice(f"{doing} {display(found)}, then sending…", "dim")

            async def deliver() -> None:
                await coder.send_input(
                    found.id,
                    text,
                    wait_ready=wait_ready,
                    resume=resume and wait_ready,
                    ready_timeout=ready_timeout or None,
                    poll=poll_policy(poll_interval),
                )

            await watched(coder, found.id, conn.patience, deliver)
        write_stdout(f"Sent input to {display(found)}.")

    run(main, conn=conn, about=f"task {task}")
