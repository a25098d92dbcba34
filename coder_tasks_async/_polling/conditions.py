"""What the pollers ask of a task, each question defined once, and when they stop."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs

from .._wire.models import (
    BUILD_ACTIVE_STATUSES,
    SETTLED_STATES,
    Task,
    TaskState,
    TaskStatus,
    WorkspaceStatus,
)
from .tracker import may_be_active

__all__ = [
    "StopConditions",
    "Until",
    "agent_working",
    "is_terminal",
    "predicate",
    "ready_for_input",
    "serves_logs",
    "stop_requested",
    "stopping",
]


#: What ``until=`` accepts (``wait_for``, ``follow_logs``, ``watch``, ...): a status, a
#: state, a collection of them (any matches), or a test on the task.
Until = (
    TaskStatus | TaskState | str | Iterable[TaskStatus | TaskState | str] | Callable[[Task], bool]
)


def predicate(until: Until) -> Callable[[Task], bool]:
    """Turn ``until`` into a test on a task.

    A status (``"active"``) matches ``task.status``; a state (``"idle"``) matches
    ``task.current_state.state``; a collection matches any member; a callable is
    used as is.
    """
    if callable(until):
        return until
    values = [until] if isinstance(until, str) else list(until)
    statuses: set[str] = set()
    states: set[str] = set()
    for value in values:
        text = str(value)
        if isinstance(value, TaskStatus) or text in TaskStatus._value2member_map_:
            statuses.add(text)
        elif isinstance(value, TaskState) or text in TaskState._value2member_map_:
            states.add(text)
        else:
            raise ValueError(f"{text!r} is neither a TaskStatus nor a TaskState")
    if not values:
        raise ValueError("until must name at least one status or state")

    def matches(task: Task) -> bool:
        return task.status in statuses or (task.state is not None and task.state in states)

    return matches


def is_terminal(task: Task) -> bool:
    """The agent finished (complete or failed) or the task is paused."""
    if task.status is TaskStatus.PAUSED:
        return True
    state = task.state
    return state is not None and state in SETTLED_STATES and state is not TaskState.IDLE


def ready_for_input(task: Task) -> bool:
    """Active, and the agent is not working (it would take input; a follower calls it idle)."""
    return may_be_active(task) and task.state is not TaskState.WORKING


def agent_working(task: Task) -> bool:
    """Active, and the agent says it is working (its newest reply may still change)."""
    return task.status is TaskStatus.ACTIVE and task.state is TaskState.WORKING


def stopping(task: Task) -> bool:
    """A stop (or delete) build is running: coderd shows the task ``unknown`` meanwhile and
    refuses its logs and another build with 409.  A pause ends here, then ``paused``.

    v2.26/v2.27 tasks (no ``workspace_name``) are always ``unknown``: there only a
    ``stopping``/``deleting`` workspace says so, not a ``pending`` one.
    """
    if task.status is not TaskStatus.UNKNOWN:
        return False
    if task.workspace_status in (WorkspaceStatus.STOPPING, WorkspaceStatus.DELETING):
        return True
    return bool(task.workspace_name) and task.workspace_status in BUILD_ACTIVE_STATUSES


def serves_logs(task: Task) -> bool:
    """The logs endpoint can answer: live while active (or, on servers that report no
    task status, while the workspace runs), from a snapshot while paused."""
    return may_be_active(task) or task.status is TaskStatus.PAUSED


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
