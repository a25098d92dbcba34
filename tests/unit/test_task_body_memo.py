"""``decode_task``'s memo of ``get_task`` bodies: a remembered Task is handed out again only
for the very same bytes, a task whose body changes on every poll is decoded without being
hashed, and once it settles it is remembered again.  The shared ids a single task compares
with the last one parsed (organization, owner, template) are as strict as the cache.
Whatever the order of bodies, neither changes a result: ``decode_task`` equals the plain
``decode`` and cattrs' detailed structuring (value or error).
(Speed itself is measured in ``benchmarks/``, never asserted here.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coder_tasks_async import CoderDecodeError, Task, TaskState, WorkspaceStatus
from coder_tasks_async._wire import converter
from coder_tasks_async._wire.converter import decode, decode_task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v2.28"


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    converter._TASKS.clear()
    yield
    converter._TASKS.clear()


def _task(**changes: Any) -> dict[str, Any]:
    task: dict[str, Any] = orjson.loads((FIXTURES / "task.json").read_bytes())
    task.update(changes)
    return task


def _body(second: int, **changes: Any) -> bytes:
    """The fixture task as Coder writes it (compact, ``id`` first), updated at ``second``."""
    return orjson.dumps(_task(updated_at=f"2031-01-01T00:00:{second:02d}.000001Z", **changes))


def _entry(body: bytes) -> converter._Seen:
    return converter._TASKS[body[: converter._HEAD]]


def test_a_task_changing_on_every_poll_is_not_hashed_and_settles_back_into_the_memo() -> None:
    first = decode_task(_body(0))
    assert _entry(_body(0))[2] is not None  # a task's first body: hashed, remembered
    changed = [decode_task(_body(second)) for second in range(1, 6)]
    assert [t.updated_at.second for t in changed] == [1, 2, 3, 4, 5]
    assert first.updated_at.second == 0
    # Each body's tail differed from the one before: no hash was worked out.
    assert _entry(_body(5))[2] is None
    # The task settles: its second unchanged body is remembered (decoded again, equal) ...
    again = decode_task(bytes(bytearray(_body(5))))
    assert again == changed[-1] and again is not changed[-1]
    # ... and from the third on it is handed out again.
    assert decode_task(bytes(bytearray(_body(5)))) is again
    assert decode_task(bytes(bytearray(_body(5)))) is again
    assert len(converter._TASKS) == 1  # one entry per task throughout


@pytest.mark.parametrize("settled", [True, False])
def test_a_body_with_the_same_size_and_tail_but_another_middle_is_decoded_anew(
    settled: bool,
) -> None:
    # "running" and "stopped" are as long: only the hash tells these bodies apart.
    running, stopped = _body(7), _body(7, workspace_status="stopped")
    assert len(running) == len(stopped) and running[-40:] == stopped[-40:]
    if not settled:
        decode_task(_body(6))  # the entry is for a changed body, not steady
    first = decode_task(running)
    if settled:
        assert decode_task(bytes(bytearray(running))) is first
    other = decode_task(stopped)
    assert other.workspace_status is WorkspaceStatus.STOPPED
    assert first.workspace_status is WorkspaceStatus.RUNNING
    assert decode_task(running).workspace_status is WorkspaceStatus.RUNNING


def test_tasks_sharing_a_memo_never_get_each_others_task() -> None:
    one = _body(1)
    two = _body(1, id="5b6c9a1e-0000-4000-8000-000000000002")
    assert one[:43] != two[:43]
    first, second = decode_task(one), decode_task(two)
    assert str(second.id) == "5b6c9a1e-0000-4000-8000-000000000002"
    assert decode_task(bytes(bytearray(one))) is first
    assert decode_task(bytes(bytearray(two))) is second


def test_a_bad_body_is_never_remembered_and_still_names_its_problem() -> None:
    good = decode_task(_body(3))
    bad = _body(3, current_state={**_task()["current_state"], "state": 5})
    for _ in range(3):
        with pytest.raises(CoderDecodeError) as info:
            decode_task(bad)
        assert info.value.path == "current_state.state"
    assert decode_task(bytes(bytearray(_body(3)))) == good
    with pytest.raises(CoderDecodeError):
        decode_task(b"{")


def test_the_memo_is_emptied_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converter, "_TASKS_MAX", 4)
    for i in range(10):
        decode_task(_body(1, id=f"5b6c9a1e-0000-4000-8000-{i:012d}"))
        assert len(converter._TASKS) <= 4


def test_a_shared_id_that_changes_is_parsed_again() -> None:
    other = "0b3a2c1d-0000-4000-8000-00000000000a"
    first = decode_task(_body(1))
    second = decode_task(_body(2, owner_id=other, template_version_id=None))
    third = decode_task(_body(3))
    assert second.owner_id == UUID(other) and second.template_version_id is None
    assert third.owner_id == first.owner_id == UUID(_task()["owner_id"])
    assert third.template_version_id == UUID(_task()["template_version_id"])
    for bad in ("0B3A2C1D", other.upper().replace("-", "+"), 5, None):
        with pytest.raises(CoderDecodeError) as info:
            decode_task(_body(4, owner_id=bad))
        assert info.value.path == "owner_id"
    assert decode_task(_body(5, owner_id=other)).owner_id == UUID(other)


def test_an_agent_health_equal_to_the_last_one_is_handed_out_again_and_only_then() -> None:
    first = decode_task(_body(1, workspace_agent_health={"healthy": True}))
    other_task = _IDS[1]
    same = decode_task(_body(2, id=other_task, workspace_agent_health={"healthy": True}))
    assert same.workspace_agent_health is first.workspace_agent_health
    sick = {"healthy": False, "reason": "agent is taking too long to connect"}
    changed = decode_task(_body(3, workspace_agent_health=sick))
    assert changed.workspace_agent_health is not None
    assert (changed.workspace_agent_health.healthy, changed.workspace_agent_health.reason) == (
        False,
        sick["reason"],
    )
    with pytest.raises(CoderDecodeError) as info:  # equal to True, but no boolean
        decode_task(_body(4, workspace_agent_health={"healthy": 1}))
    assert info.value.path == "workspace_agent_health.healthy"
    with pytest.raises(CoderDecodeError) as info:
        decode_task(_body(5, workspace_agent_health={"healthy": False, "reason": 0}))
    assert info.value.path == "workspace_agent_health.reason"
    again = decode_task(_body(6, workspace_agent_health=sick))
    assert again.workspace_agent_health is changed.workspace_agent_health


def test_created_at_through_the_cache_is_the_parse_of_its_string() -> None:
    for created in ("2025-10-28T14:02:11.512934Z", "2025-10-28T16:02:11.512934+02:00"):
        for second in range(3):
            task = decode_task(_body(second, created_at=created))
            assert task.created_at == converter.parse_datetime(created)
            assert task.created_at.utcoffset() == converter.parse_datetime(created).utcoffset()
    for bad in (5, None, "yesterday"):
        with pytest.raises(CoderDecodeError) as info:
            decode_task(_body(4, created_at=bad))
        assert info.value.path == "created_at"


def test_threads_decoding_tasks_of_other_owners_each_get_their_own() -> None:
    owners = [f"0b3a2c1d-0000-4000-8000-{i:012d}" for i in range(4)]
    bodies = [[_body(s, owner_id=owner) for s in range(20)] for owner in owners]
    wrong: list[Any] = []

    def decode_many(owner: str, mine: list[bytes]) -> None:
        for _ in range(25):
            for body in mine:
                got = decode_task(body).owner_id
                if got != UUID(owner):
                    wrong.append((owner, got))

    threads = [
        threading.Thread(target=decode_many, args=(owner, mine))
        for owner, mine in zip(owners, bodies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def _decoded(body: bytes, *, memo: bool) -> Any:
    try:
        return decode_task(body) if memo else decode(body, Task)
    except CoderDecodeError as exc:
        return (CoderDecodeError, exc.path)


def _detailed(body: bytes) -> Any:
    """cattrs' detailed structuring of ``body``, or ``CoderDecodeError`` for a failure."""
    try:
        return converter._detailed().structure(orjson.loads(body), Task)
    except Exception:
        return CoderDecodeError


_IDS = ["89fb1806-dc3f-4287-aa16-2b8dc835698d", "5b6c9a1e-0000-4000-8000-000000000002"]
_OWNERS = ["d755df98-8d89-40a3-9903-f4cb5455eb3a", "0b3a2c1d-0000-4000-8000-00000000000a"]
#: Agent healths the single-task code may hand out again (the last one built, when equal),
#: among ones it must not: another value, a ``1`` for ``true``, a reason that is no string.
_HEALTHS: list[Any] = [
    {"healthy": True},
    {"healthy": True, "reason": ""},
    {"healthy": False, "reason": "agent is taking too long to connect"},
    {"healthy": 1},
    {"healthy": True, "reason": 0},
    {"reason": ""},
    None,
]
#: ``created_at`` goes through the timestamp cache: a known one, another, a bad one.
_CREATED = ["2025-10-28T14:02:11.512934Z", "2025-10-28T14:02:11.512934+00:00", "2025-10-28", 5]
_bodies = st.builds(
    lambda task_id, owner, second, state, status, prompt, health, created: _body(
        second,
        id=task_id,
        owner_id=owner,
        workspace_status=status,
        initial_prompt=prompt,
        current_state={**_task()["current_state"], "state": state},
        workspace_agent_health=health,
        created_at=created,
    ),
    st.sampled_from(_IDS),
    st.sampled_from(_OWNERS),
    st.integers(0, 2),
    st.sampled_from([s.value for s in TaskState]),
    st.sampled_from(["running", "stopped", "pending"]),
    st.sampled_from(["", "fix it", "fix IT"]),
    st.sampled_from(_HEALTHS),
    st.sampled_from(_CREATED),
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """A valid body, or one with a few bytes overwritten (often no longer a valid Task)."""
    body = bytearray(draw(_bodies))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(body) - 1))
        body[at] = draw(st.sampled_from(b'0aZ"-:,{} 9'))
    return bytes(body)


@settings(max_examples=300)
@given(st.lists(_mutated(), min_size=1, max_size=12))
def test_decode_task_equals_the_plain_decode_whatever_came_before(bodies: list[bytes]) -> None:
    converter._TASKS.clear()
    for body in bodies:
        # A fresh bytes object each time, as from the network: equal bytes, another object.
        got = _decoded(bytes(bytearray(body)), memo=True)
        assert got == _decoded(body, memo=False)
        expected = _detailed(body)
        assert (got == expected) if expected is not CoderDecodeError else (got[0] is expected)
