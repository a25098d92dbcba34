"""What a follow tells the outside world: its parent span and its log records.

One :class:`FollowReport` per iteration (``follow_logs``, ``follow_many``,
``follow_fleet``, ``watch_many``).  The iterator calls it at its surface only, so a
follower restructured inside keeps it with four calls: ``step()`` around each
``__anext__`` (the span starts with the first; the requests sent meanwhile are its
children), ``handed_out(item)`` for what it returns, ``end(reason, error)`` when it
stops, ``task(id)`` once the task is known.  With telemetry off the span is a
do-nothing one; the log records (``coder_tasks_async.polling``) are written either way.

Span events: ``coder.follow.reset`` (the conversation restarted: a resume, a new
run) and ``coder.follow.pause`` (the task paused), each with ``coder.task.id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from types import MappingProxyType
from typing import TYPE_CHECKING

from .._endpoints.pinned import activity
from .._wire.loggers import ROOT, get_logger
from .events import PausedEvent, ResetEvent

if TYPE_CHECKING:
    from uuid import UUID

    from .._endpoints.tasks import TaskEndpoints
    from .._http.telemetry import Activity, AttributeValue

__all__ = ["FollowReport", "logger"]

logger = get_logger(f"{ROOT}.polling")

_NONE: Mapping[str, AttributeValue] = MappingProxyType({})


class FollowReport:
    """The span and the log records of one follow (see the module docstring)."""

    __slots__ = ("_activity", "_attributes", "_client", "_ended", "_label", "_name")

    def __init__(
        self,
        client: TaskEndpoints,
        name: str,
        label: str,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        self._client = client
        self._name = name
        #: What the log records call this follow (a task's name, or "N tasks").
        self._label = label
        #: Read only (shared constants are fine: a follower of thousands of tasks pays no
        #: dict per task for them).
        self._attributes: Mapping[str, AttributeValue] = attributes or _NONE
        self._activity: Activity | None = None
        self._ended = False

    def step(self) -> AbstractContextManager[object]:
        """Around one step of the iteration: the follow's span is the current one."""
        current = self._activity
        if current is None:
            current = self._activity = activity(self._client, self._name, self._attributes)
            logger.debug("%s %s: started", self._name, self._label, extra={"operation": self._name})
        return current.step()

    def task(self, task_id: UUID) -> None:
        """The followed task is known (``coder.task.id`` on the span)."""
        if self._activity is not None:
            self._activity.set("coder.task.id", str(task_id))

    def handed_out(self, item: object) -> None:
        """``item`` goes to the caller: a reset or a pause is worth an event and a record."""
        if isinstance(item, ResetEvent):
            what, message = "coder.follow.reset", "%s %s: task %s reset (a new conversation)"
        elif isinstance(item, PausedEvent):
            what, message = "coder.follow.pause", "%s %s: task %s paused"
        else:
            return
        task_id = str(item.task_id)
        if self._activity is not None:
            self._activity.event(what, {"coder.task.id": task_id})
        logger.info(
            message,
            self._name,
            self._label,
            item.task_name or task_id,
            extra={"operation": self._name, "task_id": task_id},
        )

    def waited_out(self, error: BaseException, delay: float) -> None:
        """A poll failed in a way the follow survives: it polls again after ``delay``."""
        kind = type(error).__name__  # the class only: a message may quote a server's body
        logger.debug(
            "%s %s: %s, polling again in %.1fs",
            self._name,
            self._label,
            kind,
            delay,
            extra={"operation": self._name, "error": kind, "delay": delay},
        )

    def end(self, reason: str | None, error: BaseException | None = None) -> None:
        """The iteration stopped: ``reason`` (an ``EndReason`` value), or ``error``.

        ``StopAsyncIteration`` is the normal end, not an error.  Called once; later
        calls (``aclose`` after the end) do nothing, and so does a call before the first
        step (nothing was started).
        """
        current = self._activity
        if self._ended or current is None:
            return  # ended already, or never started
        self._ended = True
        if isinstance(error, StopAsyncIteration):
            error = None
        if reason is not None:
            current.set("coder.follow.end_reason", reason)
        current.end(error)
        if error is None:
            logger.debug(
                "%s %s: ended (%s)",
                self._name,
                self._label,
                reason or "done",
                extra={"operation": self._name, "reason": reason},
            )
        else:
            logger.debug(
                "%s %s: ended by %s",
                self._name,
                self._label,
                type(error).__name__,
                extra={"operation": self._name, "reason": reason, "error": type(error).__name__},
            )
