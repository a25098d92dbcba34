"""Waiting for a status or state, saying so when the wait cannot end soon or at all.

A paused task keeps the agent's last state (often ``idle``), but nothing is idle
while the workspace is stopped: states count only while the task is active (or, on
servers that report no task status, whenever).  A wait that cannot end by itself
says why on stderr instead of waiting silently.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ._completion import STATES, STATUSES
from ._error_messages import CliError
from ._options import STATE_SPELLINGS, poll_policy
from ._task_lookup import deleted, display
from ._terminal import print_notice

if TYPE_CHECKING:
    from coder_tasks_async import CoderTasksClient, Task

__all__ = ["DEFAULT_WAIT_TIMEOUT", "Goal", "being_paused", "reports_no_status", "wait_until"]

#: ``wait``'s default patience; ``--timeout 0`` waits forever.
DEFAULT_WAIT_TIMEOUT = 600.0


def reports_no_status(task: Task) -> bool:
    """The server is v2.26/v2.27: no task status, only the workspace's (no ``workspace_name``)."""
    return str(task.status) == "unknown" and not task.workspace_name


def being_paused(task: Task) -> bool:
    """A stop build is queued or running: Coder shows the task ``unknown`` (its build is
    a stop whose job has not ended) and the workspace ``pending`` or ``stopping``; the
    task will be ``paused`` once the build ends."""
    workspace = None if task.workspace_status is None else str(task.workspace_status)
    return (
        str(task.status) == "unknown"
        and bool(task.workspace_name)
        and workspace in ("pending", "stopping")
    )


def _state(task: Task) -> str | None:
    state = None if task.state is None else str(task.state)
    return STATE_SPELLINGS.get(state, state) if state else None


@dataclasses.dataclass(frozen=True)
class Goal:
    """What a wait is for: any of these statuses, or of these agent states."""

    statuses: frozenset[str]
    states: frozenset[str]

    @classmethod
    def of(cls, wanted: list[str]) -> Goal:
        return cls(
            frozenset(v for v in wanted if v in STATUSES),
            frozenset(v for v in wanted if v in STATES),
        )

    def __str__(self) -> str:
        return " or ".join(sorted(self.statuses) + sorted(self.states))

    def reached(self, task: Task) -> bool:
        """The task has a wanted status, or an active agent in a wanted state."""
        if str(task.status) in self.statuses:
            return True
        live = str(task.status) == "active" or reports_no_status(task)
        return live and _state(task) in self.states

    def check_possible(self, task: Task) -> None:
        """Refuse a wait that can never end; say why a wait may take a while."""
        if reports_no_status(task) and not self.states and self.statuses != {"unknown"}:
            raise CliError(
                f"this server reports no task status (Coder v2.26 and v2.27 do not), so "
                f"task {display(task)} can never become {self}",
                "wait for an agent state instead, e.g. --until idle",
                code=2,
            )
        if "paused" in self.statuses:
            return
        if str(task.status) == "paused":
            print_notice(
                f"task {display(task)} is paused: waiting until someone resumes it "
                f"(coder-tasks resume {display(task)})"
            )
        elif being_paused(task) and "unknown" not in self.statuses:
            # Without this a wait started in the stop window says nothing until it times out.
            print_notice(
                f"task {display(task)} is being paused (its stop build runs): waiting "
                f"until someone resumes it (coder-tasks resume {display(task)})"
            )


async def wait_until(
    coder: CoderTasksClient,
    found: Task,
    goal: Goal,
    timeout: float | None,
    poll_interval: float | None,
    *,
    explain: bool = True,
) -> Task:
    """``wait_for`` the goal; a timeout or deletion becomes a message naming the task.

    ``explain``: first refuse a wait that can never end and note a paused task
    (:meth:`Goal.check_possible`); off where the caller just changed the task.
    """
    from coder_tasks_async import NotFoundError, WaitTimeoutError

    if explain:
        goal.check_possible(found)
    try:
        return await coder.wait_for(
            found.id,
            until=goal.reached,
            timeout=timeout,
            poll=poll_policy(poll_interval),
        )
    except NotFoundError:
        raise deleted(found) from None
    except WaitTimeoutError as exc:
        last = exc.task or found
        state = f", state {last.state}" if last.state else ""
        raise CliError(
            f"task {display(found)} did not reach {goal} within {timeout:g}s "
            f"(now: status {last.status}{state})",
            "raise --timeout (0 waits forever)",
        ) from None
