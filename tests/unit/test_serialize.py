"""Models back to JSON and back to an equal model (``to_dict``/``to_json``/``from_dict``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coder_tasks_async import (
    CoderDecodeError,
    Preset,
    ProvisionerJob,
    ProvisionerJobStatus,
    Task,
    TaskLogEntry,
    TaskLogs,
    TaskLogType,
    TasksList,
    TaskState,
    TaskStatus,
    Template,
    WorkspaceBuild,
    WorkspaceTransition,
)
from coder_tasks_async._wire.converter import decode

FIXTURES = Path(__file__).parent.parent / "fixtures"
BODIES = [
    ("v2.28/task.json", Task),
    ("v2.28/task_minimal.json", Task),
    ("v2.28/tasks_list.json", TasksList),
    ("v2.28/task_logs.json", TaskLogs),
    ("v2.27/task.json", Task),
    ("v2.26/task.json", Task),
    ("latest/task.json", Task),
    ("latest/task_logs_snapshot.json", TaskLogs),
]


@pytest.mark.parametrize(("name", "model"), BODIES)
def test_every_fixture_round_trips_to_an_equal_model(name: str, model: type[Any]) -> None:
    original = decode((FIXTURES / name).read_bytes(), model)
    data = original.to_dict()
    assert model.from_dict(data) == original
    assert json.loads(original.to_json()) == data
    # Plain JSON types only: a service can hand it to any encoder.
    json.dumps(data)


def test_a_task_reads_as_the_wire_does() -> None:
    task = decode((FIXTURES / "v2.28/task.json").read_bytes(), Task)
    data = task.to_dict()
    wire = json.loads((FIXTURES / "v2.28/task.json").read_bytes())
    assert data["id"] == wire["id"]
    assert data["status"] == wire["status"]
    assert data["current_state"]["state"] == wire["current_state"]["state"]
    assert data["created_at"].endswith("Z")
    assert datetime.fromisoformat(data["created_at"]) == task.created_at


def test_unknown_enum_values_survive_the_round_trip() -> None:
    entry = TaskLogEntry(
        id=3, content="hi", type=TaskLogType("transcript"), time=datetime(2026, 1, 2, tzinfo=UTC)
    )
    data = entry.to_dict()
    assert data == {"id": 3, "content": "hi", "type": "transcript", "time": "2026-01-02T00:00:00Z"}
    back = TaskLogEntry.from_dict(data)
    assert back == entry
    assert not back.type.known


def test_times_in_other_offsets_keep_their_offset() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    entry = TaskLogEntry(id=0, content="", type=TaskLogType.OUTPUT, time=at)
    assert entry.to_dict()["time"] == "2026-01-02T03:04:05.678901+02:00"
    assert TaskLogEntry.from_dict(entry.to_dict()).time == at


def test_templates_presets_and_builds_serialize_too() -> None:
    template = Template(
        id=UUID(int=1), name="agent", organization_id=UUID(int=2), active_version_id=UUID(int=3)
    )
    assert Template.from_dict(template.to_dict()) == template
    preset = Preset(id=UUID(int=5), name="big", parameters={"cpu": "4"})
    assert Preset.from_dict(json.loads(preset.to_json())) == preset
    job = ProvisionerJob(
        id=UUID(int=6),
        status=ProvisionerJobStatus("running"),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    build = WorkspaceBuild(
        id=UUID(int=4), build_number=2, transition=WorkspaceTransition.STOP, job=job
    )
    data = json.loads(build.to_json())
    assert data["transition"] == "stop" and data["job"]["status"] == "running"
    assert WorkspaceBuild.from_dict(data) == build


def test_from_dict_refuses_a_misfit_with_the_decode_error() -> None:
    with pytest.raises(CoderDecodeError, match="created_at"):
        Task.from_dict({"id": str(UUID(int=1)), "created_at": "yesterday"})


_times = st.datetimes(
    min_value=datetime(1970, 1, 2), timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7))])
)


@given(
    entry_id=st.integers(min_value=0, max_value=2**31),
    content=st.text(),
    kind=st.sampled_from(["input", "output", "something-new"]),
    at=_times,
)
def test_any_entry_round_trips(entry_id: int, content: str, kind: str, at: datetime) -> None:
    entry = TaskLogEntry(id=entry_id, content=content, type=TaskLogType(kind), time=at)
    assert TaskLogEntry.from_dict(json.loads(entry.to_json())) == entry


@given(
    status=st.sampled_from([*TaskStatus, TaskStatus("hibernating")]),
    state=st.sampled_from([*TaskState]),
    at=_times,
)
def test_any_task_status_and_state_round_trip(
    status: TaskStatus, state: TaskState, at: Any
) -> None:
    task = decode((FIXTURES / "v2.28/task.json").read_bytes(), Task)
    changed = Task.from_dict(
        {**task.to_dict(), "status": str(status), "updated_at": at.isoformat()}
        | {"current_state": {**task.to_dict()["current_state"], "state": str(state)}}
    )
    assert changed.status == status
    assert Task.from_dict(changed.to_dict()) == changed
