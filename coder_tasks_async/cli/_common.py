"""What the task commands share: options, input checks, task lookup, waiting.

Only typer and the CLI's own helpers are imported at module level; the SDK is
imported inside functions, so ``--help`` and argument errors never load aiohttp.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import _output as out
from ._app import (
    OutputFormat,
    poll_policy,
    usage_error,
)
from ._errors import CliError

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, Task


__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "TEMPLATE_VERSION_ENV",
    "ColumnOption",
    "StdinOption",
    "TaskArg",
    "WideOption",
    "deleted",
    "input_from",
    "is_uuid",
    "owner_kw",
    "parse_status",
    "parse_until",
    "resolve",
    "show_task",
    "table_columns",
    "wait_until",
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
    return {"owner": owner}


def input_from(text: str | None, stdin: bool) -> str:
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


def parse_status(value: str | None) -> str | None:
    if value is None:
        return None
    statuses, _ = _valid_values()
    lowered = value.strip().lower()
    if lowered not in statuses:
        usage_error(f"--status: unknown status {value!r}", f"valid: {', '.join(statuses)}")
    return lowered


def show_task(task: Task, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.JSON:
        out.print_json(out.jsonable(task))
    else:
        out.tasks_table([task])


def table_columns(spec: list[str] | None) -> list[str] | None:
    if not spec:
        return None
    try:
        return out.parse_columns(spec)
    except ValueError as exc:
        usage_error(f"-c/--column: {exc}")


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


def is_uuid(text: str) -> bool:
    from uuid import UUID

    try:
        UUID(text)
    except ValueError:
        return False
    return True


async def wait_until(
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
