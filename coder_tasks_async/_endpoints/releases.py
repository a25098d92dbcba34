"""What the endpoints need to know about Coder's releases (docs/compatibility.md §9).

Which endpoints a release may lack (read from the one release table,
:data:`coder_tasks_async._wire.releases.RELEASES`), and how a task name is found on
releases that take only UUIDs in paths (before v2.29).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

import attrs

from .._wire import protocol
from .._wire.errors import NotFoundError
from .._wire.models import Task
from .._wire.protocol import TaskRef
from .._wire.releases import RELEASES

__all__ = [
    "DELETE",
    "IN_EVERY_TREE",
    "LOGS",
    "PAUSE",
    "RESUME",
    "SEND",
    "UPDATE_INPUT",
    "TaskTarget",
    "find_by_name",
]


def _since(feature: str) -> tuple[str, str]:
    return feature, RELEASES[feature]


#: (feature, first release with it) for endpoints some supported releases lack.
DELETE = _since("delete_task")
SEND = _since("send_input")
LOGS = _since("get_logs")
UPDATE_INPUT = _since("update_input")
PAUSE = _since("pause_task")
RESUME = _since("resume_task")
#: Endpoints that, on a release that has them, exist in every route tree it serves,
#: so their answers may settle the ``api="auto"`` probe.
IN_EVERY_TREE = frozenset({DELETE[0], SEND[0], LOGS[0]})
_NOT_FOUND = "Resource not found or you do not have access to this resource"


@attrs.define(frozen=True, slots=True)
class TaskTarget:
    """A task endpoint: which task (as the caller named it), for whom, which sub-path."""

    ref: TaskRef
    owner: str | UUID
    suffix: str = ""
    #: (feature, minimum version) when some supported releases lack the endpoint.
    newer: tuple[str, str] | None = None

    def path(self, ref: TaskRef) -> str:
        """The encoded path below the tasks tree, for ``ref`` (the caller's or resolved)."""
        return protocol.task_path(ref, self.owner, self.suffix)


async def find_by_name(
    list_tasks: Callable[[str | UUID], Awaitable[list[Task]]],
    owner: str | UUID,
    name: str,
    *,
    url: str,
) -> Task:
    """The live task ``name`` of ``owner``, found through the owner-filtered list.

    Names compare case-insensitively, as Coder's own lookup does.  Nothing is
    cached: a name can be deleted and reused at any time, so every call looks it
    up again.  No match raises the :class:`NotFoundError` Coder itself would give.
    """
    wanted = name.lower()
    for task in await list_tasks(owner):
        if task.name.lower() == wanted:
            return task
    raise NotFoundError(
        status=404,
        message=_NOT_FOUND,
        detail=f"no task named {name!r} in the task list of {str(owner)!r}",
        method="GET",
        url=url,
    )
