"""What the pollers ask of a task, each question defined once, and when they stop."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from .._wire.models import SETTLED_STATES, Task, TaskState, TaskStatus

__all__ = [
    "StopConditions",
    "agent_working",
    "is_terminal",
    "ready_for_input",
    "serves_logs",
    "stop_requested",
]


def is_terminal(task: Task) -> bool:
    """The agent finished (complete or failed) or the task is paused."""
    if task.status is TaskStatus.PAUSED:
        return True
    state = task.state
    return state is not None and state in SETTLED_STATES and state is not TaskState.IDLE


def ready_for_input(task: Task) -> bool:
    """Active, and the agent is not working (it would take input; a follower calls it idle)."""
    return task.status is TaskStatus.ACTIVE and task.state is not TaskState.WORKING


def agent_working(task: Task) -> bool:
    """Active, and the agent says it is working (its newest reply may still change)."""
    return task.status is TaskStatus.ACTIVE and task.state is TaskState.WORKING


def serves_logs(task: Task) -> bool:
    """The logs endpoint can answer: live while active, from a snapshot while paused."""
    return task.status in (TaskStatus.ACTIVE, TaskStatus.PAUSED)


@attrs.define(frozen=True, kw_only=True)
class StopConditions:
    """When a follower or watcher stops on its own (any one that holds).

    ``until_terminal``: the agent finished, failed, or the task is paused.
    ``until(task)``: the caller's own test, asked after every poll.
    ``idle_timeout``: seconds without change while the agent is not working
    (followers only).

    Example::

        StopConditions(until_terminal=True, idle_timeout=300)
    """

    until: Callable[[Task], bool] | None = None
    until_terminal: bool = False
    idle_timeout: float | None = None

    def reached(self, task: Task) -> bool:
        """Whether ``until_terminal`` or ``until`` holds for ``task``."""
        return stop_requested(task, self.until_terminal, self.until)


def stop_requested(task: Task, until_terminal: bool, until: Callable[[Task], bool] | None) -> bool:
    """The stop conditions every poller offers: terminal, or the caller's predicate."""
    return (until_terminal and is_terminal(task)) or (until is not None and until(task))
