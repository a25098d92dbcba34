"""The polling layer's door into a client: a task pinned by its id, and watch streams.

Pollers look a task up once (``get_task``, by name or id), then follow it by its id,
never by name again: a name can be deleted and taken by another task.  A
:class:`PinnedTask` is that pinned address.  It reads the task and its conversation
with the path built once, straight through the transport once the route tree is
known: these are the reads every follower makes on every poll.

Only this module reaches into the client's request plumbing (``TaskEndpoints._calls``,
an :class:`~.calls.ApiCalls`); ``_polling`` uses the names below and nothing private.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .._wire.protocol import task_path

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._http.streams import EventStream
    from .._http.telemetry import Activity, AttributeValue, Telemetry
    from .._wire.models import Task
    from .calls import ApiCalls
    from .tasks import TaskEndpoints

__all__ = ["PinnedTask", "activity", "open_workspace_watch", "telemetry"]


class PinnedTask:
    """One task addressed by its id: what a poller reads on every poll.

    Example (inside the polling layer)::

        pinned = PinnedTask(client, task)
        task = await pinned.read()
        entries, snapshot = await pinned.read_logs_raw()
    """

    __slots__ = ("_calls", "_logs_path", "path", "task_id")

    def __init__(self, client: TaskEndpoints, task: Task) -> None:
        self._calls: ApiCalls = client._calls
        #: The task's path below the tasks tree (its owner's id and its own).
        self.path = task_path(task)
        self._logs_path = f"{self.path}/logs"
        #: Its id as text (spans and log records name it).
        self.task_id = str(task.id)

    # Plain methods that hand back the plumbing's own coroutine: no extra coroutine
    # frame on the reads every follower makes on every poll.
    def read(self) -> Coroutine[Any, Any, Task]:
        """The task as it is now (:class:`NotFoundError` once it is deleted)."""
        return self._calls.get_task_at(self.path, task_id=self.task_id)

    def read_logs_raw(self) -> Coroutine[Any, Any, tuple[list[Any], bool]]:
        """Its conversation as decoded JSON, ``(entries, snapshot)`` (see ``get_logs_raw``)."""
        return self._calls.get_logs_raw_at(self._logs_path, task_id=self.task_id)


async def open_workspace_watch(client: TaskEndpoints, workspace_id: UUID) -> EventStream:
    """Open the workspace's watch stream (websocket, else server-sent events) on the
    client's stream pool; :class:`StreamUnavailable` when it cannot be had."""
    return await client._calls.open_workspace_watch(workspace_id)


def telemetry(client: TaskEndpoints) -> Telemetry:
    """Where the client's spans and metrics go (see :mod:`coder_tasks_async._http.telemetry`)."""
    return client._calls.transport.telemetry


def activity(
    client: TaskEndpoints, name: str, attributes: Mapping[str, AttributeValue] | None = None
) -> Activity:
    """A parent span on the client's telemetry (a follow's), started now; a do-nothing
    one while telemetry is off."""
    return telemetry(client).activity(name, attributes)
