"""The pure helpers that let the client adapt to a release (docs/compatibility.md §9)."""

from __future__ import annotations

from uuid import UUID

import pytest

from coder_tasks_async._wire.protocol import is_invalid_uuid, name_ref, server_takes_names

TASK_ID = "89fb1806-dc3f-4287-aa16-2b8dc835698d"


@pytest.mark.parametrize(
    ("ref", "user", "expected"),
    [
        ("fix-login", "me", ("me", "fix-login")),
        ("alice/fix-login", "me", ("alice", "fix-login")),
        (" fix-login ", "bob", ("bob", "fix-login")),
        (TASK_ID, "me", None),
        (TASK_ID.upper(), "me", None),
        ("{" + TASK_ID + "}", "me", None),
        (UUID(TASK_ID), "me", None),
    ],
)
def test_name_ref_tells_names_from_ids(
    ref: str | UUID, user: str, expected: tuple[str, str] | None
) -> None:
    assert name_ref(ref, user) == expected


def test_name_ref_refuses_what_every_call_refuses() -> None:
    with pytest.raises(ValueError, match="task reference"):
        name_ref("a/b/c")
    with pytest.raises(ValueError, match="must not be empty"):
        name_ref("  ")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (None, None),
        ("", None),
        ("v0.0.0-devel+abc123", None),
        ("nonsense", None),
        ("v2.26.0", False),
        ("v2.28.9", False),
        ("v2.29.0-rc.1", True),
        ("2.32.0", True),
        ("v3.0.0", True),
    ],
)
def test_server_takes_names(version: str | None, expected: bool | None) -> None:
    assert server_takes_names(version) is expected


def test_is_invalid_uuid_is_only_that_refusal() -> None:
    refusal = b'{"message":"Invalid UUID \\"fix\\".","detail":"invalid UUID length: 3"}\n'
    assert is_invalid_uuid(400, refusal)
    assert not is_invalid_uuid(404, refusal)
    assert not is_invalid_uuid(400, b'{"message":"Task input is required."}')
    assert not is_invalid_uuid(400, b"<html>Invalid UUID</html>")
    assert not is_invalid_uuid(400, b'["Invalid UUID"]')
