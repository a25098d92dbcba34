"""Every era's task shape decodes into the same ``Task`` (docs/compatibility.md §2).

The bodies in ``tests/fixtures/<era>/`` are invented for this project; their field
sets, order and encodings follow what each release sends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from helpers import TESTS

from coder_tasks_async import (
    Task,
    TaskLogs,
    TasksList,
    TaskState,
    TaskStatus,
    WorkspaceAgentLifecycle,
    WorkspaceStatus,
)
from coder_tasks_async._wire.converter import decode, decode_task

FIXTURES = TESTS / "fixtures"


def body(era: str, name: str) -> bytes:
    return (FIXTURES / era / name).read_bytes()


def test_v2_26_task() -> None:
    task = decode(body("v2.26", "task.json"), Task)
    # v2.26 sends a workspace status and no task status, owner name or template version.
    assert task.workspace_status is WorkspaceStatus.RUNNING
    assert task.status is TaskStatus.UNKNOWN
    assert task.owner_name is None
    assert task.template_version_id is None
    assert task.ref == "f41a9c2d-0b6e-4f3a-8d57-2e9c1b4a6f08/task-quiet-lovelace-3f0a"
    assert task.state is TaskState.COMPLETED  # v2.26's spelling
    assert task.workspace_agent_lifecycle is WorkspaceAgentLifecycle.READY
    assert (task.workspace_name, task.workspace_build_number, task.workspace_app_id) == (
        "",
        0,
        None,
    )
    assert task.display_name == ""
    assert task.created_at == datetime(2025, 9, 9, 10, 12, 44, 901276, tzinfo=UTC)


def test_v2_26_list() -> None:
    listing = decode(body("v2.26", "tasks_list.json"), TasksList)
    assert listing.count == 2
    assert [t.workspace_status for t in listing.tasks] == [
        WorkspaceStatus.PENDING,
        WorkspaceStatus.STOPPED,
    ]
    assert {t.status for t in listing.tasks} == {TaskStatus.UNKNOWN}


def test_v2_27_task() -> None:
    task = decode_task(body("v2.27", "task.json"))
    assert task.owner_name == "ines"
    assert task.ref == "ines/task-calm-hopper-5e7d"
    assert task.workspace_status is WorkspaceStatus.STARTING
    assert task.status is TaskStatus.UNKNOWN
    assert task.template_version_id is None
    assert task.workspace_agent_health is not None
    assert task.workspace_agent_health.reason == "agent is not connected"


def test_a_task_status_field_is_used_when_a_build_sends_one() -> None:
    # Development builds between v2.27 and v2.28 carried the task status as "task_status".
    task = decode_task(body("v2.27", "task_with_task_status.json"))
    assert task.status is TaskStatus.ACTIVE
    assert task.workspace_status is WorkspaceStatus.RUNNING
    assert task.state is TaskState.WORKING


def test_v2_28_task_is_unchanged() -> None:
    task = decode_task(body("v2.28", "task.json"))
    assert task.status is TaskStatus.ACTIVE
    assert task.workspace_status is WorkspaceStatus.RUNNING
    assert task.template_version_id == UUID("09c9c31a-e2f9-4909-b4a3-cc3052800e04")
    assert task.owner_name == "maria"


def test_latest_task_while_initializing() -> None:
    task = decode_task(body("latest", "task.json"))
    assert task.display_name == "Speed up the product search"
    assert task.status is TaskStatus.INITIALIZING
    assert task.workspace_build_number == 3
    assert task.workspace_app_id is None
    # Synthesized by the server while initializing (v2.29+).
    assert task.current_state is not None
    assert (task.state, task.current_state.message) == (TaskState.WORKING, "Agent is starting")


def test_latest_snapshot_logs() -> None:
    logs = decode(body("latest", "task_logs_snapshot.json"), TaskLogs)
    assert logs.snapshot
    assert logs.snapshot_at == datetime(2026, 3, 10, 16, 20, 0, 500000, tzinfo=UTC)
    assert [e.id for e in logs.logs] == [7, 8]  # only the tail: ids need not start at 0
    assert logs.logs[1].time.utcoffset() == timedelta(hours=1)
    assert logs.logs[1].time.tzinfo == timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("era", "name"),
    [
        ("v2.26", "task.json"),
        ("v2.27", "task.json"),
        ("v2.28", "task.json"),
        ("latest", "task.json"),
    ],
)
def test_every_era_decodes_to_the_same_type(era: str, name: str) -> None:
    task = decode_task(body(era, name))
    assert isinstance(task, Task)
    assert isinstance(task.status, TaskStatus)
    assert isinstance(task.workspace_status, WorkspaceStatus)


def test_a_broken_old_task_still_names_the_field() -> None:
    import json

    from coder_tasks_async import CoderDecodeError

    data = json.loads(body("v2.26", "task.json"))
    del data["owner_id"]
    with pytest.raises(CoderDecodeError) as info:
        decode(json.dumps(data).encode(), Task)
    assert info.value.path == "owner_id"
    assert "required field is missing" in str(info.value)
