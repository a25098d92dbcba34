"""msgspec twins of ``TasksList`` and ``TaskLogs``: the reference for a typed decode.

Same field types as the SDK's models (UUIDs, aware datetimes, optionals, nested
objects); enums are plain strings here, which only flatters msgspec.  No
``from __future__ import annotations``: msgspec resolves these annotations at
class creation, and local names would not resolve as strings.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class Health(msgspec.Struct, frozen=True):
    healthy: bool
    reason: str = ""


class StateEntry(msgspec.Struct, frozen=True):
    timestamp: datetime
    state: str
    message: str = ""
    uri: str = ""


class MTask(msgspec.Struct, frozen=True):
    id: UUID
    organization_id: UUID
    owner_id: UUID
    owner_name: str
    name: str
    template_id: UUID
    template_version_id: UUID
    status: str
    created_at: datetime
    updated_at: datetime
    initial_prompt: str = ""
    display_name: str = ""
    owner_avatar_url: str = ""
    template_name: str = ""
    template_display_name: str = ""
    template_icon: str = ""
    workspace_id: UUID | None = None
    workspace_name: str = ""
    workspace_status: str | None = None
    workspace_build_number: int = 0
    workspace_agent_id: UUID | None = None
    workspace_agent_lifecycle: str | None = None
    workspace_agent_health: Health | None = None
    workspace_app_id: UUID | None = None
    current_state: StateEntry | None = None


class MList(msgspec.Struct, frozen=True):
    tasks: list[MTask]
    count: int


class MEntry(msgspec.Struct, frozen=True):
    id: int
    content: str
    type: str
    time: datetime


class MLogs(msgspec.Struct, frozen=True):
    logs: list[MEntry]
    snapshot: bool = False
    snapshot_at: datetime | None = None


def decoders() -> tuple[Callable[[bytes], Any], Callable[[bytes], Any]]:
    """Decoders for a listing and a logs body."""
    return msgspec.json.Decoder(MList).decode, msgspec.json.Decoder(MLogs).decode


def single_decoders() -> tuple[Callable[[bytes], Any], Callable[[bytes], Any]]:
    """Decoders for one task and one log entry."""
    return msgspec.json.Decoder(MTask).decode, msgspec.json.Decoder(MEntry).decode
