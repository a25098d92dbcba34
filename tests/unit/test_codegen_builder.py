"""Objects built through the generated functions' builder classes are plain models."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from coder_tasks_async import Task, TaskLogEntry, TaskLogs, TasksList, TaskStateEntry
from coder_tasks_async._wire.converter import decode
from coder_tasks_async._wire.models import WorkspaceAgentHealth

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v2.28"


def _models(value: Any) -> list[Any]:
    """``value`` and every model inside it."""
    found = [value]
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            inner = getattr(value, field.name)
            items = inner if isinstance(inner, list) else [inner]
            for item in items:
                if attrs.has(type(item)):
                    found += _models(item)
    return found


@pytest.mark.parametrize(
    ("name", "cls"),
    [("task.json", Task), ("tasks_list.json", TasksList), ("task_logs.json", TaskLogs)],
)
def test_decoded_objects_are_exactly_the_model_classes(name: str, cls: type[Any]) -> None:
    decoded = decode((FIXTURES / name).read_bytes(), cls)
    models = _models(decoded)
    assert len(models) > 1
    for model in models:
        assert type(model).__name__.startswith("_Building") is False
        assert type(model) in (
            Task,
            TasksList,
            TaskLogs,
            TaskLogEntry,
            TaskStateEntry,
            WorkspaceAgentHealth,
        )


def test_decoded_tasks_stay_frozen_and_behave_like_constructed_ones() -> None:
    body = (FIXTURES / "task.json").read_bytes()
    task = decode(body, Task)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        task.name = "other"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del task.name  # type: ignore[misc]
    assert task.current_state is not None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        task.current_state.message = "x"  # type: ignore[misc]

    rebuilt = Task(**attrs.asdict(task, recurse=False))
    assert rebuilt == task and hash(rebuilt) == hash(task)
    assert pickle.loads(pickle.dumps(task)) == task
    assert type(pickle.loads(pickle.dumps(task))) is Task
    assert copy.deepcopy(task) == task
    assert attrs.evolve(task, name="renamed").name == "renamed"
    assert repr(task).startswith("Task(id=UUID(")
    assert orjson.loads(body)["name"] == task.name
