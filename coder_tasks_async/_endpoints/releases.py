"""What the endpoints need to know about Coder's releases (docs/compatibility.md §9).

Which endpoints a release may lack (read from the one release table,
:data:`coder_tasks_async._wire.releases.RELEASES`), and how a task name is found on
releases that take only UUIDs in paths (before v2.29).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from .._wire import protocol
from .._wire.errors import NotFoundError, UnsupportedByServerError
from .._wire.models import Task
from .._wire.protocol import TaskRef
from .._wire.releases import RELEASES

__all__ = ["IN_EVERY_TREE", "LOGS", "TaskTarget", "find_by_name", "unsupported"]

#: The logs endpoint's feature (pollers read logs too, through :mod:`.pinned`).
LOGS = "get_logs"
#: Endpoints that, on a release that has them, exist in every route tree it serves,
#: so their answers may settle the ``api="auto"`` probe.  An endpoint not named here
#: is tried in both trees without settling it (the safe default for a new endpoint).
IN_EVERY_TREE = frozenset({"delete_task", "send_input", LOGS})
_NOT_FOUND = "Resource not found or you do not have access to this resource"


class TaskTarget:
    """A task endpoint: which task (as the caller named it), for whom, which sub-path.

    ``since`` names the endpoint's row in the release table when some supported
    releases lack it (by convention the SDK method's name, e.g. ``"pause_task"``):
    a server without the route answers :class:`UnsupportedByServerError`.

    A plain slotted class, not attrs: one is made per call, and attrs would add its
    generated methods to every ``import`` for nothing (nothing compares or copies one).
    """

    __slots__ = ("owner", "ref", "since", "suffix")

    def __init__(
        self, ref: TaskRef, owner: str | UUID, suffix: str = "", since: str | None = None
    ) -> None:
        if since is not None and since not in RELEASES:
            raise KeyError(f"{since!r} is not a feature of the release table (_wire/releases.py)")
        self.ref = ref
        self.owner = owner
        self.suffix = suffix
        self.since = since

    def __repr__(self) -> str:
        return f"TaskTarget({self.ref!r}, {self.owner!r}, {self.suffix!r}, since={self.since!r})"

    def path(self, ref: TaskRef) -> str:
        """The encoded path below the tasks tree, for ``ref`` (the caller's or resolved)."""
        return protocol.task_path(ref, self.owner, self.suffix)

    @property
    def route(self) -> str:
        """The route template below the tasks tree (``/{user}/{task}/logs``)."""
        return protocol.TASK_ROUTE + self.suffix


def unsupported(feature: str, server_version: str | None) -> UnsupportedByServerError:
    """The error of a server too old for ``feature`` (a row of the release table)."""
    return UnsupportedByServerError(
        feature, minimum_version=RELEASES[feature], server_version=server_version
    )


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
