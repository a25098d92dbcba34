"""The generated code's one-probe lookups of known UUIDs and enum values (``.get(v) or
hook``): whatever a field holds (an unknown value, null, a JSON array or object, a number,
a boolean) the result is the detailed converter's: the same value, or a typed error
naming the same field.  (Speed is measured in ``benchmarks/``, never asserted here.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from coder_tasks_async import CoderDecodeError, Task, TaskStatus
from coder_tasks_async._wire import converter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v2.28"
_TASK: dict[str, Any] = orjson.loads((FIXTURES / "task.json").read_bytes())

_FIELDS = ["id", "workspace_id", "status", "workspace_status", "current_state.state"]
_VALUES: list[Any] = [
    "not-a-known-value",
    "89FB1806-DC3F-4287-AA16-2B8DC835698D",  # a known id, upper case: not the same string
    "",
    None,
    [],
    {},
    ["active"],
    {"active": 1},
    5,
    0,
    True,
    False,
]


def _with(path: str, value: Any) -> dict[str, Any]:
    task = orjson.loads(orjson.dumps(_TASK))
    *parents, name = path.split(".")
    target = task
    for parent in parents:
        target = target[parent]
    target[name] = value
    return task


def _detailed(data: dict[str, Any]) -> Any:
    try:
        return converter._detailed().structure(data, Task)
    except Exception:
        return CoderDecodeError


@pytest.mark.parametrize("path", _FIELDS)
@pytest.mark.parametrize("value", _VALUES, ids=repr)
def test_a_lookup_field_decodes_as_the_detailed_converter(path: str, value: Any) -> None:
    converter.decode_task(orjson.dumps(_TASK))  # the known values are in the caches
    data = _with(path, value)
    expected = _detailed(data)
    if expected is CoderDecodeError:
        with pytest.raises(CoderDecodeError) as info:
            converter.decode_task(orjson.dumps(data))
        assert info.value.path == path
    else:
        assert converter.decode_task(orjson.dumps(data)) == expected


def test_an_unknown_status_is_kept_and_a_known_one_is_the_member() -> None:
    unknown = converter.decode_task(orjson.dumps(_with("status", "hibernating")))
    assert unknown.status.value == "hibernating" and unknown.status not in list(TaskStatus)
    assert converter.decode_task(orjson.dumps(_TASK)).status is TaskStatus.ACTIVE
