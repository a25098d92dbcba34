"""Task references as Coder's TaskByIdentifier reads them, Go's name rules, list queries
Coder accepts, presets as Coder writes them, the list's count."""

from __future__ import annotations

import pickle
import uuid

import pytest

from coder_tasks_async import Preset, TaskList
from coder_tasks_async._wire import protocol
from coder_tasks_async._wire.releases import has, release_tuple
from coder_tasks_async._wire.templates import preset_from_wire

ID = "3abe1dcf-cd87-4078-8b54-c0e2058ad2e2"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("mytask", ("me", "mytask")),
        ("alice/her-task", ("alice", "her-task")),
        (f"{ID}/task1", (ID, "task1")),
        (f"alice/{ID}", ("alice", ID)),
        (f"alice/{ID.upper()}", ("alice", ID)),
        ("/task", ("me", "task")),
        ("  padded  ", ("me", "padded")),
        ("New", ("me", "New")),  # the reserved words are lower-case only
        ("New/CREATE", ("New", "CREATE")),  # for owners too (codersdk.NameValid)
        (uuid.UUID(ID).hex, ("me", uuid.UUID(ID).hex)),  # 32 hex: sent as written
        ("{" + ID + "}", ("me", ID)),
        ("urn:uuid:" + ID, ("me", ID)),
    ],
)
def test_references_read_as_coder_reads_them(ref: str, expected: tuple[str, str]) -> None:
    assert protocol.resolve_ref(ref) == expected


def test_name_refs_and_id_refs() -> None:
    assert protocol.name_ref("/task") == ("me", "task")
    assert protocol.name_ref(f"alice/{ID}") is None
    assert protocol.name_ref(uuid.UUID(ID).hex) is None  # an id first (a name on v2.29+ too)
    with pytest.raises(ValueError, match="more than one '/'"):
        protocol.resolve_ref("owner/task/extra")
    with pytest.raises(ValueError, match="task part is empty"):
        protocol.resolve_ref("owner/")


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("abc\n", "only ASCII"),  # Go's $ is the end of the text
        ("é" * 17, "34 bytes, more than 32"),
        ("create", "reserved"),
    ],
)
def test_go_name_rules(name: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        protocol.validate_task_name(name)


def test_display_names_are_trimmed_then_counted_in_bytes() -> None:
    assert protocol.validate_display_name("  " + "x" * 64 + "  ")
    with pytest.raises(ValueError, match="66 bytes"):
        protocol.validate_display_name("é" * 33)


@pytest.mark.parametrize(
    ("kwargs", "q"),
    [
        ({}, 'owner:"me"'),
        ({"query": "alice"}, "alice"),
        ({"query": "owner:bob status:active"}, "owner:bob status:active"),
        ({"owner": None, "query": "status:paused"}, "status:paused"),
        ({"status": "active", "query": "organization:coder"},
         'owner:"me" status:"active" organization:coder'),
        ({"query": '"a b" status:active'}, '"a b" status:active'),
    ],
)  # fmt: skip
def test_queries_are_merged_never_doubled(kwargs: dict[str, object], q: str) -> None:
    assert protocol.build_query(**kwargs) == q  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"owner": "bob", "query": "alice"}, "both name an owner"),
        ({"organization": "x", "query": "organization:y"}, "both filter by organization"),
        ({"query": "status:active status:paused"}, "status more than once"),
        ({"query": "alice owner:bob"}, "owner more than once"),
    ],
)
def test_queries_coder_would_refuse_are_refused_here(
    kwargs: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        protocol.build_query(**kwargs)  # type: ignore[arg-type]


def test_query_keys_count_as_coder_counts() -> None:
    assert protocol.query_keys("alice bob") == {"owner": 1}
    assert protocol.query_keys('owner:"a b" x') == {"owner": 2}
    assert protocol.query_keys("Status:Active") == {"status": 1}


def test_presets_read_go_field_names_in_any_case() -> None:
    wire = {
        "ID": ID,
        "Name": "Large",
        "Parameters": [{"Name": "cpu", "Value": "8"}],
        "Default": True,
        "DesiredPrebuildInstances": 2,
        "Description": "big",
        "Icon": "",
    }
    preset = preset_from_wire(wire)
    assert preset == Preset(
        id=uuid.UUID(ID),
        name="Large",
        default=True,
        parameters={"cpu": "8"},
        description="big",
        desired_prebuild_instances=2,
    )
    assert preset_from_wire({"id": ID, "name": "x", "parameters": None}).parameters == {}
    hash(preset)  # the parameters do not make it unhashable
    with pytest.raises(TypeError):
        preset_from_wire({"ID": ID})


def test_a_task_list_is_a_list_with_coders_count() -> None:
    tasks = TaskList([], total=3)
    assert tasks == [] and tasks.total == 3 and tasks.count(None) == 0
    back = pickle.loads(pickle.dumps(tasks))
    assert (back, back.total, repr(back)) == ([], 3, "TaskList([], total=3)")
    assert TaskList().total == 0


def test_release_table_lookups() -> None:
    assert release_tuple("v2.31.1-rc.2") == (2, 31, 1)
    assert release_tuple("v0.0.0-devel") is None
    assert has("v2.31.0", "pause_task") is False and has("v2.31.1", "pause_task") is True
    assert has(None, "pause_task") is None
