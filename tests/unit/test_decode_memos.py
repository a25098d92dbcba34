"""The third round's decode shortcuts keep every promise of the plain path: log entries and
timestamps decoded before are handed out again only when the input is the same value of
the same JSON type; nested models and the decoder's own key objects change nothing a
caller can see.  (Speed itself is measured in ``benchmarks/``, never asserted here.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coder_tasks_async import (
    CoderDecodeError,
    Task,
    TaskLogEntry,
    TaskLogs,
    TaskLogType,
    TasksList,
    WorkspaceAgentHealth,
)
from coder_tasks_async._wire import converter
from coder_tasks_async._wire.converter import decode, structure

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v2.28"
TIME = "2025-10-28T14:03:38.114201553Z"


def _logs(*entries: dict[str, Any]) -> bytes:
    return orjson.dumps({"logs": list(entries)})


def _entry(i: int = 0, content: str = "hello", kind: str = "output", time: str = TIME) -> Any:
    return {"id": i, "content": content, "type": kind, "time": time}


def test_an_entry_decoded_before_is_handed_out_again_equal_and_unchanged() -> None:
    body = _logs(_entry(0), _entry(1, "again", "input", "2025-10-28T14:03:39Z"))
    first = decode(body, TaskLogs).logs
    second = decode(bytes(bytearray(body)), TaskLogs).logs
    assert second == first
    assert all(a is b for a, b in zip(first, second, strict=True))  # reused, not rebuilt
    assert type(second[0]) is TaskLogEntry
    assert second[1].type is TaskLogType.INPUT
    assert second[1].time == datetime(2025, 10, 28, 14, 3, 39, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"content": "hello, world"}, "content", "hello, world"),  # the newest reply grew
        ({"type": "input"}, "type", TaskLogType.INPUT),
        ({"id": 7}, "id", 7),
        ({"type": "tool"}, "type", "tool"),  # an unknown type, kept as an open enum value
    ],
)
def test_an_entry_with_the_same_time_but_another_value_is_built_anew(
    change: dict[str, Any], field: str, value: Any
) -> None:
    original = decode(_logs(_entry()), TaskLogs).logs[0]
    changed = decode(_logs({**_entry(), **change}), TaskLogs).logs[0]
    assert changed is not original
    assert getattr(changed, field) == value
    # ... and the memo now holds the new one, so the old value is built anew too.
    assert decode(_logs(_entry()), TaskLogs).logs[0] == original


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", True), ("id", 0.0), ("id", "0"), ("content", 5), ("type", 7), ("content", None)],
)
def test_a_remembered_entry_never_hides_a_type_error(field: str, value: Any) -> None:
    # True == 1 and 0.0 == 0 in Python: equality alone would accept these.
    decode(_logs(_entry(1), _entry(0, time="2025-10-28T14:03:39Z")), TaskLogs)
    bad = {**_entry(0, time="2025-10-28T14:03:39Z"), field: value}
    with pytest.raises(CoderDecodeError) as info:
        decode(_logs(_entry(1), bad), TaskLogs)
    assert info.value.path == f"logs[1].{field}"


def test_entries_are_checked_whatever_the_memo_holds() -> None:
    decode(_logs(_entry()), TaskLogs)
    for broken in ([_entry(), 5], [_entry(), {"id": 1}], [{"content": "x"}]):
        with pytest.raises(CoderDecodeError):
            decode(orjson.dumps({"logs": broken}), TaskLogs)
    with pytest.raises(CoderDecodeError) as info:
        decode(_logs({**_entry(), "time": ["not", "a", "time"]}), TaskLogs)
    assert info.value.path == "logs[0].time"


def _detailed_and_fast(body: bytes) -> tuple[Any, Any]:
    """What cattrs' detailed structuring and the fast decode make of ``body`` (or the
    class ``CoderDecodeError`` for a failure)."""
    try:
        expected: Any = converter._detailed().structure(json.loads(body), TaskLogs)
    except Exception:
        expected = CoderDecodeError
    try:
        got: Any = decode(body, TaskLogs)
    except CoderDecodeError:
        got = CoderDecodeError
    return expected, got


def _conversation(count: int, minute: int) -> list[dict[str, Any]]:
    return [
        _entry(
            i,
            f"message {i}",
            "output" if i % 2 else "input",
            f"2031-01-01T00:{minute:02d}:{i:02d}Z",
        )
        for i in range(count)
    ]


def test_a_conversation_fetched_again_is_handed_out_again_in_place() -> None:
    conversation = _conversation(30, minute=1)
    first = decode(_logs(*conversation), TaskLogs).logs
    conversation[-1] = {**conversation[-1], "content": "message 29, grown"}
    conversation.append(_entry(30, "new", "input", "2031-01-01T00:01:30Z"))
    again = decode(_logs(*conversation), TaskLogs).logs
    assert all(a is b for a, b in zip(first[:-1], again[:29], strict=True))
    assert again[-2].content == "message 29, grown" and again[-2] is not first[-1]
    assert again == converter._detailed().structure(json.loads(_logs(*conversation)), TaskLogs).logs


def test_a_changed_list_handed_out_never_changes_what_is_decoded_next() -> None:
    # The list in a decoded TaskLogs is the caller's to change; the decoder compares the
    # next decode with its own copy, never with what the caller made of the list.
    conversation = _conversation(5, minute=2)
    body = _logs(*conversation)
    handed_out = decode(body, TaskLogs).logs
    impostor = TaskLogEntry(
        id=3, content="message 3", type=TaskLogType.OUTPUT, time=datetime(1999, 1, 1, tzinfo=UTC)
    )
    handed_out[3] = impostor
    again = decode(bytes(bytearray(body)), TaskLogs).logs
    assert again == converter._detailed().structure(json.loads(body), TaskLogs).logs
    assert impostor not in again


def test_a_list_that_begins_like_another_is_compared_element_by_element() -> None:
    conversation = _conversation(6, minute=3)
    decode(_logs(*conversation), TaskLogs)
    shifted = [
        conversation[0],
        _entry(9, "inserted", "output", "2031-01-01T00:03:59Z"),
        *conversation[1:],
    ]
    swapped = [
        conversation[0],
        {**conversation[2], "time": conversation[1]["time"]},
        *conversation[2:],
    ]
    for logs in (
        shifted,
        swapped,
        conversation[:2],
        [conversation[0], {**conversation[1], "id": True}],
    ):
        expected, got = _detailed_and_fast(_logs(*logs))
        assert got == expected


def test_a_list_equal_to_its_run_is_a_fresh_list_of_the_same_objects() -> None:
    conversation = _conversation(8, minute=4)
    decode(_logs(*conversation), TaskLogs)
    first = decode(_logs(*conversation), TaskLogs).logs  # now the list's run
    again = decode(_logs(*conversation), TaskLogs).logs
    assert again is not first and type(again) is list
    assert all(a is b for a, b in zip(first, again, strict=True))
    shorter = decode(_logs(*conversation[:5]), TaskLogs).logs  # a prefix of the run
    assert all(a is b for a, b in zip(first, shorter, strict=False)) and len(shorter) == 5
    again.clear()
    assert decode(_logs(*conversation), TaskLogs).logs == first


_HUGE = 2**64 - 1  # beyond int64 (Coder's id type) and every small-int cache


@pytest.mark.parametrize(
    "change",
    [
        {"content": "changed"},
        {"id": True},  # equal to 1 in Python, not an integer id
        {"id": 1.0},
        {"id": _HUGE},
        {"type": 1},
        {"type": None},
        {"time": "2031-01-01T00:05:99Z"},  # not a time
        {"time": "2031-01-01T00:05:01+02:00"},  # another offset: another string, same rules
        {"time": 5},
    ],
)
@pytest.mark.parametrize("at", [0, 1, 5, 9])
def test_a_list_that_changes_at_any_place_keeps_exactly_the_run_before_it(
    change: dict[str, Any], at: int
) -> None:
    # The first loop finds where a list stops being its last run and copies that part;
    # the place must be exact: no element before it rebuilt, none at or after it skipped.
    conversation = _conversation(10, minute=5)
    decode(_logs(*conversation), TaskLogs)
    run = decode(_logs(*conversation), TaskLogs).logs  # now the list's run
    changed = [*conversation]
    changed[at] = {**changed[at], **change}
    expected, got = _detailed_and_fast(_logs(*changed))
    assert got == expected
    if got is not CoderDecodeError:
        assert [e.id for e in got.logs] == [e["id"] for e in changed]
        assert all(a is b for a, b in zip(run[:at], got.logs[:at], strict=True))
        assert got.logs[at] is not run[at]


@pytest.mark.parametrize(
    "logs",
    [
        [],
        _conversation(4, minute=6)[:1],
        _conversation(4, minute=6)[:3],
        [*_conversation(4, minute=6), _entry(4, "more", "input", "2031-01-01T00:06:04Z")],
        [*_conversation(4, minute=6), _entry(_HUGE, "huge", "input", "2031-01-01T00:06:05Z")],
        [*_conversation(4, minute=6), {**_entry(4), "id": False}],
    ],
)
def test_a_list_shorter_or_longer_than_its_run_is_decoded_whole(logs: list[Any]) -> None:
    conversation = _conversation(4, minute=6)
    decode(_logs(*conversation), TaskLogs)
    run = decode(_logs(*conversation), TaskLogs).logs
    expected, got = _detailed_and_fast(_logs(*logs))
    assert got == expected
    if got is not CoderDecodeError:
        assert len(got.logs) == len(logs)
        same = min(len(logs), len(run))
        assert all(a is b for a, b in zip(run[:same], got.logs[:same], strict=True))


def body_first_time(body: bytes) -> str:
    first: str = orjson.loads(body)["logs"][0]["time"]
    return first


def test_the_runs_hold_no_more_than_their_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converter, "_ENTRIES_MAX", 50)
    for minute in range(10, 20):
        body = _logs(*_conversation(20, minute))
        decode(body, TaskLogs)
        assert body_first_time(body) not in converter._ENTRY_RUNS._runs  # never seen: not kept
        decode(body, TaskLogs)  # seen again: kept
        assert body_first_time(body) in converter._ENTRY_RUNS._runs
        runs = converter._ENTRY_RUNS
        assert runs._held == sum(len(raws) for raws, _ in runs._runs.values()) <= 50


values = st.one_of(
    st.integers(min_value=-2, max_value=3),
    st.booleans(),
    st.sampled_from([0.0, 1.0, None, "0", "1", "output", "input", "tool", "hi", "", TIME]),
)
entries = st.fixed_dictionaries(
    {
        "id": st.one_of(st.integers(min_value=0, max_value=3), values),
        "content": st.one_of(st.sampled_from(["hi", "hello", ""]), values),
        "type": st.one_of(st.sampled_from(["output", "input", "tool"]), values),
        # Few distinct times, so entries keep meeting remembered ones.
        "time": st.one_of(
            st.sampled_from([TIME, "2025-10-28T14:03:39Z", "2025-10-28T14:03:39"]), values
        ),
    }
)


@settings(max_examples=300)
@given(st.lists(st.lists(entries, max_size=4), min_size=1, max_size=4))
def test_decoding_with_the_memos_equals_cattrs_detailed_structuring(
    bodies: list[list[dict[str, Any]]],
) -> None:
    for logs in bodies:
        expected, got = _detailed_and_fast(orjson.dumps({"logs": logs}))
        assert got == expected
        if got is not CoderDecodeError:
            for entry in got.logs:
                assert type(entry.id) is int and type(entry.content) is str
                assert isinstance(entry.type, TaskLogType) and type(entry.time) is datetime


def test_the_memos_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    many = [_entry(i, time=f"2030-01-01T00:00:00.{i:06d}Z") for i in range(200)]
    monkeypatch.setattr(converter, "_TIMES_MAX", 50)
    monkeypatch.setattr(converter, "_ENTRIES_MAX", 50)
    body = _logs(*many)
    decoded = structure(orjson.loads(body), TaskLogs).logs  # no body: the caps stay
    assert [e.id for e in decoded] == list(range(200))
    assert len(converter._ENTRIES) <= 50
    assert len(converter._TIMES) <= 50
    assert decode(body, TaskLogs).logs == decoded


def _listing(count: int, seed: int) -> bytes:
    tasks = []
    for i in range(count):
        task = json.loads((FIXTURES / "task.json").read_text())
        for k, field in enumerate(("id", "workspace_id", "workspace_agent_id", "workspace_app_id")):
            task[field] = str(UUID(int=(seed << 64) | (i << 8) | k))
        task["created_at"] = f"2030-01-01T00:00:{i % 60:02d}.{seed:03d}{i:03d}Z"
        tasks.append(task)
    return orjson.dumps({"tasks": tasks, "count": count})


def test_the_caches_grow_to_hold_the_largest_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    # A cache emptied whenever full and smaller than one listing would never answer.
    for cap in ("_UUIDS_MAX", "_TIMES_MAX", "_ENTRIES_MAX"):
        monkeypatch.setattr(converter, cap, 64)
    body = _listing(100, seed=11)
    decode(body, TasksList)  # the caches were emptied along the way: now they fit
    assert converter._UUIDS_MAX >= 2 * 8 * 100 and converter._TIMES_MAX >= 2 * 3 * 100
    first = decode(bytes(bytearray(body)), TasksList).tasks
    again = decode(bytes(bytearray(body)), TasksList).tasks
    assert again == first
    pairs = zip(first, again, strict=True)
    assert all(a.id is b.id and a.created_at is b.created_at for a, b in pairs)
    logs = _logs(*[_entry(i, time=f"2030-01-02T00:00:00.{i:06d}Z") for i in range(100)])
    decode(logs, TaskLogs)
    assert converter._ENTRIES_MAX >= 200
    entries = decode(logs, TaskLogs).logs
    assert all(a is b for a, b in zip(entries, decode(logs, TaskLogs).logs, strict=True))


def test_the_caches_never_grow_past_their_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converter, "_CACHE_CEILING", 500)
    for cap in ("_UUIDS_MAX", "_TIMES_MAX", "_ENTRIES_MAX"):
        monkeypatch.setattr(converter, cap, 64)
    decode(_listing(100, seed=12), TasksList)
    assert converter._UUIDS_MAX == converter._TIMES_MAX == 500


def test_a_remembered_timestamp_is_the_parse_of_its_string() -> None:
    for text in ("2025-10-28T14:02:11.512934Z", "2025-10-28T16:02:11+02:00", "2025-10-28T14:02:11"):
        data = {**_entry(), "time": text}
        first = structure({"logs": [data]}, TaskLogs).logs[0].time
        again = structure({"logs": [dict(data, id=1)]}, TaskLogs).logs[0].time
        assert first == again == converter.parse_datetime(text)
        assert first.tzinfo is not None and first.utcoffset() is not None
    assert structure({"logs": [{**_entry(), "time": "2025-10-28T14:02:11"}]}, TaskLogs).logs[
        0
    ].time == datetime(2025, 10, 28, 14, 2, 11, tzinfo=UTC)


def test_keys_that_are_not_the_decoders_own_objects_are_found_all_the_same() -> None:
    # Dicts built by hand (or after orjson's key cache dropped a key) hold other string
    # objects for the same keys: the lookups compare instead of matching identity.
    data = json.loads((FIXTURES / "task.json").read_text())
    rebuilt = {"".join(list(key)): value for key, value in data.items()}
    assert structure(rebuilt, Task) == decode((FIXTURES / "task.json").read_bytes(), Task)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["current_state"].__setitem__("state", 7), "current_state.state"),
        (lambda d: d["current_state"].pop("timestamp"), "current_state.timestamp"),
        (lambda d: d["current_state"].__setitem__("message", None), "current_state.message"),
        # Not an object: named as the detailed (cattrs) path always named it.
        (lambda d: d.__setitem__("current_state", "working"), "current_state.timestamp"),
        (lambda d: d.__setitem__("current_state", []), "current_state.timestamp"),
        (
            lambda d: d["workspace_agent_health"].__setitem__("healthy", "yes"),
            "workspace_agent_health.healthy",
        ),
        (lambda d: d.__setitem__("workspace_agent_health", 1), "workspace_agent_health"),
    ],
)
def test_a_misfit_inside_an_inlined_nested_model_is_named(mutate: Any, path: str) -> None:
    data = json.loads((FIXTURES / "task.json").read_text())
    mutate(data)
    with pytest.raises(CoderDecodeError) as info:
        decode(orjson.dumps(data), Task)
    assert info.value.path == path


# -- listed tasks ------------------------------------------------------------------------


def _task_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "task.json").read_text())
    return data


def _expected(data: Any) -> Any:
    try:
        return converter._detailed().structure(json.loads(orjson.dumps(data)), TasksList)
    except Exception:
        return CoderDecodeError


def _decoded(data: Any) -> Any:
    try:
        return decode(orjson.dumps(data), TasksList)
    except CoderDecodeError:
        return CoderDecodeError


def test_a_task_listed_again_unchanged_is_handed_out_again() -> None:
    listing = {"tasks": [_task_dict()], "count": 1}
    first = decode(orjson.dumps(listing), TasksList).tasks[0]
    again = decode(orjson.dumps(listing), TasksList).tasks[0]
    assert again is first
    assert type(again) is Task and again.current_state is not None


OTHER = "0f5e3b1c-8a8b-4d8e-9a3a-7b1a2c3d4e5f"


def test_new_tasks_with_an_equal_agent_health_share_the_last_one_built() -> None:
    tasks = [dict(_task_dict(), id=f"0f5e3b1c-8a8b-4d8e-9a3a-{i:012d}") for i in range(3)]
    tasks[2]["workspace_agent_health"] = {"healthy": False, "reason": "agent gone"}
    listed = decode(orjson.dumps({"tasks": tasks, "count": 3}), TasksList).tasks
    assert listed[0].workspace_agent_health is listed[1].workspace_agent_health
    assert listed[2].workspace_agent_health is not listed[1].workspace_agent_health
    sick = WorkspaceAgentHealth(healthy=False, reason="agent gone")
    assert listed[2].workspace_agent_health == sick
    # Equal in Python to the last one built, but no boolean: refused, as building would.
    tasks[0]["workspace_agent_health"] = {"healthy": 0, "reason": "agent gone"}
    with pytest.raises(CoderDecodeError) as info:
        decode(orjson.dumps({"tasks": tasks[:1], "count": 1}), TasksList)
    assert info.value.path == "tasks[0].workspace_agent_health.healthy"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.__setitem__("status", "paused"),
        lambda d: d.__setitem__("updated_at", "2025-10-28T15:00:00Z"),
        lambda d: d["current_state"].__setitem__("message", "another"),
        lambda d: d["current_state"].__setitem__("state", "working"),
        lambda d: d["current_state"].__setitem__("timestamp", "2025-10-28T15:00:00Z"),
        lambda d: d.__setitem__("current_state", None),
        lambda d: d["workspace_agent_health"].__setitem__("healthy", False),
        lambda d: d["workspace_agent_health"].__setitem__("reason", "agent gone"),
        lambda d: d.__setitem__("workspace_agent_health", None),
        lambda d: d.__setitem__("owner_name", None),
        lambda d: d.pop("owner_name"),
        lambda d: d.pop("template_version_id"),
        lambda d: d.__setitem__("workspace_app_id", OTHER),
        lambda d: d.__setitem__("workspace_app_id", None),
        lambda d: d.__setitem__("organization_id", OTHER),
        lambda d: d.__setitem__("workspace_build_number", 2),
        lambda d: d.__setitem__("workspace_status", "hibernating"),  # unknown: kept
        lambda d: d.pop("workspace_name"),  # the v2.26/v2.27 shape
        # Equal in Python, not in JSON: building refuses these, so the memo must too.
        lambda d: d.__setitem__("workspace_build_number", 1.0),
        lambda d: d.__setitem__("workspace_build_number", True),
        lambda d: d["workspace_agent_health"].__setitem__("healthy", 1),
        lambda d: d.__setitem__("name", None),
        lambda d: d.__setitem__("current_state", "working"),
        lambda d: d.__setitem__("current_state", []),
        lambda d: d.__setitem__("created_at", 5),
        lambda d: d.__setitem__("workspace_id", ["x"]),
    ],
)
def test_a_listed_task_that_changed_in_any_way_is_judged_afresh(change: Any) -> None:
    decode(orjson.dumps({"tasks": [_task_dict()], "count": 1}), TasksList)  # remembered
    data = _task_dict()
    change(data)
    listing = {"tasks": [data], "count": 1}
    assert _decoded(listing) == _expected(listing)


task_values = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 1.0, 2, "", "x", "active", "idle", "working", OTHER, TIME]),
    # A new empty list or dict each time: one shared ``{}`` put in two places of the
    # body became a dict that contains itself (which no JSON body can be).
    st.builds(list),
    st.builds(dict),
)
task_fields = st.sampled_from(
    [
        "status",
        "name",
        "owner_name",
        "organization_id",
        "template_version_id",
        "created_at",
        "updated_at",
        "workspace_build_number",
        "workspace_status",
        "workspace_app_id",
        "workspace_agent_health",
        "current_state",
    ]
)
nested_fields = st.sampled_from(
    [("current_state", k) for k in ("timestamp", "state", "message", "uri")]
    + [("workspace_agent_health", k) for k in ("healthy", "reason")]
)


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            st.tuples(task_fields, task_values),
            st.tuples(nested_fields, task_values),
            st.tuples(task_fields, st.just(KeyError)),
        ),
        max_size=3,
    ),
    st.booleans(),
)
def test_listing_with_the_memo_equals_cattrs_detailed_structuring(
    changes: list[tuple[Any, Any]], twice: bool
) -> None:
    data = _task_dict()
    for where, value in changes:
        target, key = (data, where) if isinstance(where, str) else (data.get(where[0]), where[1])
        if not isinstance(target, dict):
            continue
        if value is KeyError:
            target.pop(key, None)
        else:
            target[key] = value
    decode(orjson.dumps({"tasks": [_task_dict()], "count": 1}), TasksList)  # remembered
    listing = {"tasks": [data, data] if twice else [data], "count": 1}
    assert _decoded(listing) == _expected(listing)
