"""The task predicates every poller shares, and ``until=`` turned into a test."""

from __future__ import annotations

import attrs
import pytest
from helpers import TESTS

from coder_tasks_async import StopConditions, Task, TaskState, TaskStateEntry, TaskStatus
from coder_tasks_async._polling import conditions
from coder_tasks_async._wire.converter import decode

BASE = decode((TESTS / "fixtures" / "v2.28" / "task.json").read_bytes(), Task)


def task(status: TaskStatus, state: TaskState | None) -> Task:
    current = None
    if state is not None:
        current = TaskStateEntry(timestamp=BASE.created_at, state=state, message="", uri="")
    return attrs.evolve(BASE, status=status, current_state=current)


@pytest.mark.parametrize(
    ("status", "state", "ready", "working", "logs", "terminal"),
    [
        (TaskStatus.ACTIVE, TaskState.WORKING, False, True, True, False),
        (TaskStatus.ACTIVE, TaskState.IDLE, True, False, True, False),
        (TaskStatus.ACTIVE, None, True, False, True, False),
        (TaskStatus.ACTIVE, TaskState.COMPLETE, True, False, True, True),
        (TaskStatus.PAUSED, TaskState.IDLE, False, False, True, True),
        (TaskStatus.PENDING, None, False, False, False, False),
        (TaskStatus.INITIALIZING, TaskState.WORKING, False, False, False, False),
        (TaskStatus.ERROR, TaskState.FAILED, False, False, False, True),
    ],
)
def test_each_question_has_one_answer(
    status: TaskStatus,
    state: TaskState | None,
    ready: bool,
    working: bool,
    logs: bool,
    terminal: bool,
) -> None:
    t = task(status, state)
    assert conditions.ready_for_input(t) is ready
    assert conditions.agent_working(t) is working
    assert conditions.serves_logs(t) is logs
    assert conditions.is_terminal(t) is terminal


def test_until_means_a_status_a_state_several_or_a_test() -> None:
    idle = task(TaskStatus.ACTIVE, TaskState.IDLE)
    assert conditions.predicate("active")(idle)
    assert conditions.predicate(TaskState.IDLE)(idle)
    assert not conditions.predicate(["paused", "complete"])(idle)
    assert conditions.predicate(lambda t: t is idle)(idle)
    with pytest.raises(ValueError, match="neither"):
        conditions.predicate("snoozing")
    with pytest.raises(ValueError, match="at least one"):
        conditions.predicate([])


def test_stop_conditions_are_one_small_frozen_value() -> None:
    done = task(TaskStatus.ACTIVE, TaskState.COMPLETE)
    assert not StopConditions().reached(done)
    assert StopConditions(until_terminal=True).reached(done)
    assert StopConditions(until=lambda t: t.state is TaskState.COMPLETE).reached(done)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        StopConditions().until_terminal = True  # type: ignore[misc]
