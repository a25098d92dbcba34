"""Models and the converter: every fixture, open enums, presence rules, decode errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from helpers import TESTS

from coder_tasks_async import (
    CoderDecodeError,
    Task,
    TaskLogEntry,
    TaskLogs,
    TaskLogType,
    TasksList,
    TaskState,
    TaskStatus,
    WorkspaceAgentLifecycle,
    WorkspaceStatus,
)
from coder_tasks_async._wire.converter import (
    decode,
    decode_task,
    parse_datetime,
    parse_uuid,
    structure,
)

FIXTURES = TESTS / "fixtures" / "v2.28"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name))


def test_full_task_fixture() -> None:
    task = decode(fixture("task.json"), Task)
    assert task.id == UUID("89fb1806-dc3f-4287-aa16-2b8dc835698d")
    assert task.status is TaskStatus.ACTIVE
    assert task.workspace_status is WorkspaceStatus.RUNNING
    assert task.workspace_agent_lifecycle is WorkspaceAgentLifecycle.READY
    assert task.workspace_agent_health is not None and task.workspace_agent_health.healthy
    assert task.workspace_agent_health.reason == ""
    assert task.workspace_build_number == 1
    assert task.current_state is not None
    assert task.current_state.state is TaskState.IDLE
    assert task.state is TaskState.IDLE
    assert task.current_state.uri == "https://github.com/example-org/shop/pull/117"
    assert task.created_at == datetime(2025, 10, 28, 14, 2, 11, 512934, tzinfo=UTC)
    assert task.owner_avatar_url.startswith("https://")
    assert task.display_name == ""  # a v2.28 server: field absent
    assert task.ref == "maria/task-steady-curie-7b21"


def test_minimal_task_fixture_gets_defaults_and_nulls() -> None:
    task = decode(fixture("task_minimal.json"), Task)
    assert task.status is TaskStatus.PENDING
    assert task.workspace_agent_id is None
    assert task.workspace_app_id is None
    assert task.workspace_agent_lifecycle is None
    assert task.workspace_agent_health is None
    assert task.current_state is None
    assert task.state is None
    assert task.workspace_build_number == 0  # omitted when zero
    assert task.owner_avatar_url == ""  # omitted when empty
    assert task.workspace_id == UUID("23eb7164-3ac5-4727-95d2-5341edc5fe85")


def test_list_fixture() -> None:
    listing = decode(fixture("tasks_list.json"), TasksList)
    assert listing.count == 3 == len(listing.tasks)
    assert [t.status for t in listing.tasks] == ["pending", "active", "paused"]
    assert listing.tasks[2].state is TaskState.COMPLETE


def test_logs_fixture_with_nanosecond_times() -> None:
    logs = decode(fixture("task_logs.json"), TaskLogs)
    assert [e.id for e in logs.logs] == [0, 1, 2, 3, 4]
    assert [e.type for e in logs.logs][:2] == [TaskLogType.OUTPUT, TaskLogType.INPUT]
    assert logs.logs[0].time == datetime(2025, 10, 28, 14, 3, 38, 114201, tzinfo=UTC)
    assert logs.snapshot is False
    assert logs.snapshot_at is None


def test_snapshot_logs_from_newer_servers() -> None:
    body = b'{"logs":[],"snapshot":true,"snapshot_at":"2026-02-01T10:00:00.5+01:00"}'
    logs = decode(body, TaskLogs)
    assert logs.snapshot is True
    assert logs.snapshot_at == datetime(2026, 2, 1, 9, 0, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-10-27T14:03:38.114201553Z", datetime(2025, 10, 27, 14, 3, 38, 114201, UTC)),
        ("2025-10-27T14:02:38Z", datetime(2025, 10, 27, 14, 2, 38, tzinfo=UTC)),
        ("2025-10-27T15:20:04.90321Z", datetime(2025, 10, 27, 15, 20, 4, 903210, UTC)),
        (
            "2025-10-27T16:02:38.123456789-07:00",
            datetime(2025, 10, 27, 16, 2, 38, 123456, timezone(timedelta(hours=-7))),
        ),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("2025-10-27T14:02:38", datetime(2025, 10, 27, 14, 2, 38, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_to_aware_datetimes(raw: str, expected: datetime) -> None:
    parsed = parse_datetime(raw)
    assert parsed == expected
    assert parsed.tzinfo is not None


def test_unknown_enum_values_and_fields_are_kept_not_raised() -> None:
    data = fixture_json("task.json")
    data["status"] = "hibernating"
    data["workspace_status"] = "teleporting"
    data["workspace_agent_lifecycle"] = "dreaming"
    data["current_state"]["state"] = "failure"
    data["brand_new_field"] = {"nested": [1, 2, 3]}
    task = structure(data, Task)
    assert task.status == "hibernating"
    assert isinstance(task.status, TaskStatus)
    assert not task.status.known
    assert task.workspace_status == "teleporting"
    assert task.workspace_agent_lifecycle == "dreaming"
    assert task.state is TaskState.FAILURE
    assert TaskStatus.ACTIVE.known


def test_v226_completed_state_is_understood() -> None:
    data = fixture_json("task.json")
    data["current_state"]["state"] = "completed"
    assert structure(data, Task).state is TaskState.COMPLETED


def test_newer_display_name_is_read() -> None:
    data = fixture_json("task.json")
    data["display_name"] = "Fix flaky login test"
    assert structure(data, Task).display_name == "Fix flaky login test"


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["tasks"][1].pop("id"), "tasks[1].id"),
        (lambda d: d["tasks"][2].__setitem__("created_at", "yesterday"), "tasks[2].created_at"),
        (lambda d: d["tasks"][0].__setitem__("owner_id", "not-a-uuid"), "tasks[0].owner_id"),
        (
            lambda d: d["tasks"][1].__setitem__("workspace_build_number", "1"),
            "tasks[1].workspace_build_number",
        ),
        (
            lambda d: d["tasks"][1]["current_state"].__setitem__("state", 7),
            "tasks[1].current_state.state",
        ),
        (lambda d: d.__setitem__("tasks", {"not": "a list"}), "tasks"),
    ],
)
def test_misfit_names_the_field_path_and_carries_a_snippet(mutate: Any, path: str) -> None:
    data = fixture_json("tasks_list.json")
    mutate(data)
    body = json.dumps(data).encode()
    with pytest.raises(CoderDecodeError) as info:
        decode(body, TasksList)
    assert info.value.path == path
    assert info.value.snippet.startswith('{"tasks"')
    assert path in str(info.value)


def test_invalid_json_is_a_decode_error_with_snippet() -> None:
    with pytest.raises(CoderDecodeError) as info:
        decode(b'{"logs": [', TaskLogs)
    assert "invalid JSON" in str(info.value)
    assert info.value.snippet == '{"logs": ['


def test_non_object_body_is_a_decode_error() -> None:
    with pytest.raises(CoderDecodeError):
        decode(b"[]", Task)


@pytest.mark.parametrize(
    "raw",
    [
        "89fb1806-dc3f-4287-aa16-2b8dc835698d",
        "9443B632-0EE5-4436-8FE9-C8D7472F153D",
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_fast_uuid_matches_stdlib(raw: str) -> None:
    fast = parse_uuid(raw)
    assert fast == UUID(raw)
    assert hash(fast) == hash(UUID(raw))
    assert str(fast) == str(UUID(raw))


@pytest.mark.parametrize(
    "raw",
    [
        "9443b632-0ee5-4436-8fe9-c8d7472f153",
        "9443b632-0ee5-4436-8fe9-c8d7472f153g",
        "+443b632-0ee5-4436-8fe9-c8d7472f153d",
        "",
        5,
    ],
)
def test_fast_uuid_rejects_garbage(raw: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        parse_uuid(raw)


def test_models_are_frozen_and_keyword_only() -> None:
    task = decode(fixture("task.json"), Task)
    with pytest.raises(AttributeError):
        task.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Task(task.id)  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw",
    [
        "2025-10-27T14:03:38.114201553Z",
        "2025-10-27T16:03:38.114201553+02:00",
        "2025-10-27T14:03:38.114201",
    ],
)
def test_model_timestamps_are_aware_and_equal(raw: str) -> None:
    entry = structure({"id": 0, "content": "", "type": "output", "time": raw}, TaskLogEntry)
    assert entry.time == datetime(2025, 10, 27, 14, 3, 38, 114201, tzinfo=UTC)


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"id": True, "content": "", "type": "output", "time": "2025-10-27T14:03:38Z"}, "id"),
        ({"id": 1, "content": None, "type": "output", "time": "2025-10-27T14:03:38Z"}, "content"),
        ({"id": 1, "content": "", "type": ["x"], "time": "2025-10-27T14:03:38Z"}, "type"),
        ({"id": 1, "content": "", "type": "output", "time": 5}, "time"),
        ({"id": 1, "content": "", "type": "output"}, "time"),
    ],
)
def test_generated_structuring_is_as_strict_as_the_hooks(entry: dict[str, Any], path: str) -> None:
    with pytest.raises(CoderDecodeError) as info:
        structure(entry, TaskLogEntry)
    assert info.value.path == path


def test_unknown_log_type_is_kept() -> None:
    entry = structure(
        {"id": 1, "content": "", "type": "tool", "time": "2025-10-27T14:03:38Z"}, TaskLogEntry
    )
    assert entry.type == "tool"
    assert not entry.type.known


def test_unchanged_task_bodies_decode_to_the_same_immutable_object() -> None:
    body = fixture("task.json")
    first = decode_task(body)
    assert decode_task(bytes(body)) is first  # equal bytes, another object: remembered
    changed = decode_task(body.replace(b'"idle"', b'"working"'))
    assert changed is not first
    assert changed.state is TaskState.WORKING
    assert first.state is TaskState.IDLE
    with pytest.raises(CoderDecodeError):
        decode_task(b'{"id": "nope"}')


def test_a_changing_task_keeps_one_remembered_body() -> None:
    from coder_tasks_async._wire import converter

    body = fixture("task.json")
    first = decode_task(body)
    held = len(converter._TASKS)
    versions = [body.replace(b'"idle"', f'"idle", "v": {i}'.encode(), 1) for i in range(50)]
    latest = [decode_task(version) for version in versions][-1]
    # Each new body of the task replaced the previous one: the memo did not grow.
    assert len(converter._TASKS) == held
    assert decode_task(versions[-1]) is latest
    again = decode_task(body)  # an older body was forgotten: decoded afresh, same value
    assert again is not first
    assert again == first


@pytest.mark.parametrize("body", [b"[]", b'"logs"', b"3"])
def test_a_body_that_is_not_an_object_names_what_it_is(body: bytes) -> None:
    with pytest.raises(CoderDecodeError, match="expected a JSON object"):
        decode(body, TaskLogs)
