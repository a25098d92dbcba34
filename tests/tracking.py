"""Helpers for driving the pure ConversationTracker in tests (no server involved)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from coder_tasks_async import ConversationTracker, Task, TaskState, TaskStateEntry, TaskStatus

TASK_ID = UUID(int=1, version=4)
OTHER_ID = UUID(int=2, version=4)
AGENT = UUID(int=10, version=4)
_T0 = datetime(2025, 10, 27, 14, 3, 38, tzinfo=UTC)


def make_task(
    *,
    status: TaskStatus = TaskStatus.ACTIVE,
    state: TaskState | None = TaskState.IDLE,
    build: int = 1,
    agent: UUID | None = AGENT,
    task_id: UUID = TASK_ID,
    name: str = "fix-login",
) -> Task:
    """A task as a poll would show it; only what the tracker reads matters."""
    current = None if state is None else TaskStateEntry(timestamp=_T0, state=state)
    return Task(
        id=task_id,
        organization_id=task_id,
        owner_id=task_id,
        owner_name="alice",
        name=name,
        template_id=task_id,
        template_version_id=task_id,
        status=status,
        created_at=_T0,
        updated_at=_T0,
        workspace_build_number=build,
        workspace_agent_id=agent,
        current_state=current,
    )


def entry(i: int, content: str, kind: str = "output") -> dict[str, Any]:
    """One raw log entry as the server sends it."""
    return {"id": i, "content": content, "type": kind, "time": "2025-10-27T14:03:38.114201553Z"}


def conversation(*contents: str) -> list[dict[str, Any]]:
    """Entries 0..n-1, inputs at odd ids."""
    return [entry(i, c, "input" if i % 2 else "output") for i, c in enumerate(contents)]


PAUSED = make_task(status=TaskStatus.PAUSED, state=TaskState.IDLE, build=2, agent=None)


def run(
    tracker: ConversationTracker,
    logs: list[dict[str, Any]],
    *,
    snapshot: bool = False,
    task: Task | None = None,
) -> list[tuple[str, int, str]]:
    """Observe one poll and take every event; return what the caller would see."""
    if task is None:
        task = PAUSED if snapshot else make_task()
    tracker.observe(task, logs, snapshot)
    out = []
    while (event := tracker.take()) is not None:
        if event.entry is None:
            out.append((event.kind.value, -1, ""))
        else:
            out.append((event.kind.value, event.entry.id, event.entry.content))
    return out
