"""Finding the task a command names, with errors that name it back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._error_messages import CliError

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, Task

__all__ = ["deleted", "display", "is_uuid", "resolve"]


def display(task: Task) -> str:
    """``owner/name``, as ``coder`` names a task in its messages."""
    return task.ref


async def resolve(coder: CoderTasksClient, ref: str, owner: str = "me") -> Task:
    """``get_task`` whose not-found error names the task."""
    from coder_tasks_async import NotFoundError, RouteNotFoundError

    try:
        return await coder.get_task(ref, owner=owner)
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
    name = task if isinstance(task, str) else display(task)
    return CliError(f"task {name} was deleted")


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a UUID (an id rather than a name)."""
    from uuid import UUID

    try:
        UUID(text)
    except ValueError:
        return False
    return True
