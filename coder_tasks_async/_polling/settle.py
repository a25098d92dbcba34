"""Settling an ambiguous send: did the input reach the agent after all?

``send_input`` never sends twice: a POST that may have landed raises
:class:`AmbiguousRequestError`.  Create has its reconcile-by-name; a send has the
conversation: the input, if delivered, is an ``input`` entry after what the caller
had seen before sending.  :func:`settle_send` reads the task and its conversation
and answers with a :class:`SendOutcome`, ``UNKNOWN`` whenever the answer could be
wrong (a stored snapshot or none to read, a restarted or replaced conversation, an
agent at work).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .._wire.errors import TaskNotActiveError
from .._wire.models import Task, TaskLogType, TaskState, TaskStatus
from .._wire.protocol import validate_input
from .logcursor import LogCursor, RunId, digest

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints
    from .._wire.protocol import TaskRef

__all__ = ["SendOutcome", "settle_send"]


class SendOutcome(enum.Enum):
    """What :meth:`~coder_tasks_async.CoderTasksClient.settle_send` found out."""

    #: The conversation has the input, after what was seen before the send.
    DELIVERED = "delivered"
    #: The same live conversation, the agent not working, and no such input: sending
    #: again delivers it once.
    NOT_DELIVERED = "not_delivered"
    #: Cannot tell (a stored snapshot, a conversation restarted or replaced since, the
    #: agent at work): ask again later, or decide without knowing.
    UNKNOWN = "unknown"


class _Before:
    """What the caller knew of the conversation before sending."""

    __slots__ = ("digest", "last_id", "run", "task_id")

    def __init__(self, since: LogCursor | str | int) -> None:
        self.run: RunId | None = None
        self.digest: str | None = None
        self.task_id: UUID | None = None
        if isinstance(since, str):
            since = LogCursor.loads(since)
        if isinstance(since, LogCursor):
            self.last_id = -1 if since.last_id is None else since.last_id
            self.run = since.run
            seen = since.window.get(self.last_id)
            self.digest = None if seen is None else seen.digest
            self.task_id = since.task_id
        elif isinstance(since, int) and not isinstance(since, bool):
            self.last_id = since
        else:
            raise TypeError(
                "since must be a LogCursor, its saved string or an entry id, "
                f"not {type(since).__name__}"
            )


def _run(task: Task) -> RunId:
    return RunId(task.workspace_build_number, task.workspace_agent_id)


def _same_conversation(before: _Before, first: Task, entries: list[Any], last: Task) -> bool:
    """The conversation read is the one ``before`` describes, and stayed one across reads."""
    if _run(first) != _run(last):
        return False
    if before.run is not None and before.run.known and before.run.differs(_run(last)):
        return False
    if before.last_id < 0:
        return True
    mark = next((e for e in entries if e.get("id") == before.last_id), None)
    if not isinstance(mark, dict):
        return False  # the entry seen before the send is gone: a restart
    content = mark.get("content")
    return before.digest is None or (isinstance(content, str) and digest(content) == before.digest)


def judge(
    before: _Before, input: str, first: Task, entries: list[Any], snapshot: bool, last: Task
) -> SendOutcome:
    """The outcome from two task reads around one read of the conversation (pure)."""
    if snapshot or not _same_conversation(before, first, entries, last):
        return SendOutcome.UNKNOWN
    wanted = input.strip()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        entry_id, content = entry.get("id"), entry.get("content")
        if (
            type(entry_id) is int
            and entry_id > before.last_id
            and entry.get("type") == TaskLogType.INPUT.value
            and isinstance(content, str)
            and content.strip() == wanted
        ):
            return SendOutcome.DELIVERED
    if last.status is not TaskStatus.ACTIVE or last.state in (TaskState.WORKING, None):
        # An agent at work may be taking this very input: not yet in the conversation.
        return SendOutcome.UNKNOWN
    return SendOutcome.NOT_DELIVERED


async def settle_send(
    client: TaskEndpoints, ref: TaskRef, input: str, *, since: LogCursor | str | int, owner: Any
) -> SendOutcome:
    """See :meth:`~coder_tasks_async.CoderTasksClient.settle_send`."""
    validate_input(input)
    before = _Before(since)
    first = await client.get_task(ref, owner=owner)
    if before.task_id is not None and before.task_id != first.id:
        raise ValueError(
            f"since is a cursor of task {before.task_id}, not of task {first.id} ({first.name})"
        )
    try:
        entries, snapshot = await client.get_logs_raw(first)
    except TaskNotActiveError:
        return SendOutcome.UNKNOWN  # no conversation to read (being paused, starting)
    last = await client.get_task(first)
    return judge(before, input, first, entries, snapshot, last)
