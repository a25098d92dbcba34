"""``protocol.id_path``: get_task's one question about a reference, answered as the three
functions it replaces would answer it; ``protocol.id_text``: a UUID's text, remembered
within a bound."""

from __future__ import annotations

import uuid

import pytest
from helpers import TESTS
from hypothesis import given
from hypothesis import strategies as st

from coder_tasks_async._wire import converter, protocol
from coder_tasks_async._wire.protocol import TaskRef

ID = uuid.UUID("3abe1dcf-cd87-4078-8b54-c0e2058ad2e2")
OWNER = uuid.UUID("0e5c7a8c-6d1b-4f1e-9a55-0d3c3f1b2a10")

_REFS: list[TaskRef] = [
    ID,
    str(ID),
    str(ID).upper(),
    f"  {ID}  ",
    ID.hex,
    "{" + str(ID) + "}",
    "urn:uuid:" + str(ID),
    f"alice/{ID}",
    f"{OWNER}/{ID}",
    "mytask",
    "alice/her-task",
    "/task",
]


def _by_three(ref: TaskRef, owner: str | uuid.UUID) -> tuple[str, str | None] | None:
    """What get_task asked before: name_ref, then task_path and task_id."""
    if protocol.name_ref(ref, owner) is not None:
        return None
    return protocol.task_path(ref, owner), protocol.task_id(ref)


@pytest.mark.parametrize("owner", ["me", "alice", OWNER])
@pytest.mark.parametrize("ref", _REFS, ids=repr)
def test_id_path_answers_as_the_three_functions(ref: TaskRef, owner: str | uuid.UUID) -> None:
    assert protocol.id_path(ref, owner) == _by_three(ref, owner)


def test_id_path_of_a_task_uses_its_owner_and_id() -> None:
    task = converter.decode_task((TESTS / "fixtures" / "v2.28" / "task.json").read_bytes())
    expected = (f"/{task.owner_id}/{task.id}", str(task.id))
    assert protocol.id_path(task, "someone-else") == expected
    assert protocol.id_path(task) == _by_three(task, "me") == expected


@pytest.mark.parametrize("bad", ["a/b/c", "", "bad name!"])
def test_id_path_refuses_what_the_three_functions_refuse(bad: str) -> None:
    with pytest.raises(ValueError, match=r".") as before:
        _by_three(bad, "me")
    with pytest.raises(ValueError, match=r".") as now:
        protocol.id_path(bad)
    assert str(now.value) == str(before.value)


def test_id_path_refuses_a_bad_owner() -> None:
    with pytest.raises(ValueError, match="invalid owner"):
        protocol.id_path(ID, "not a valid owner!")


@given(st.uuids())
def test_id_text_is_the_uuids_text(value: uuid.UUID) -> None:
    assert protocol.id_text(value) == str(value)
    assert protocol.id_text(value) == str(value)  # remembered, still the same


def test_id_text_is_bounded() -> None:
    for _ in range(protocol._ID_TEXT_MAX + 10):
        protocol.id_text(uuid.uuid4())
    assert 0 < len(protocol._ID_TEXT) <= protocol._ID_TEXT_MAX


def test_id_text_does_not_cache_a_subclass() -> None:
    class Shouting(uuid.UUID):
        def __str__(self) -> str:
            return super().__str__().upper()

    loud = Shouting(int=ID.int)
    assert protocol.id_text(loud) == str(ID).upper()
    assert protocol.id_text(ID) == str(ID)  # the subclass's text never answers for a UUID
