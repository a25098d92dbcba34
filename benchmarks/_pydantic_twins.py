"""pydantic v2 twins of the SDK's models: what a typed SDK built the usual way decodes with.

Same field types as the SDK's models (UUIDs, aware datetimes, the SDK's own open enums,
optionals, nested models), frozen like them, decoded with ``model_validate_json`` (JSON
bytes straight into models, parsed in Rust).  The twins of ``Task`` and ``TaskLogEntry``
make the one-object rows; ``PTasksList`` and ``PTaskLogs`` the bulk ones.

pydantic is never a dependency of the package: ``pip install -e '.[bench]'`` (or
``pip install pydantic``) for these columns; without it they say ``n/a``.  No
``from __future__ import annotations``: pydantic resolves these annotations at class
creation, and the classes are built inside a function.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from coder_tasks_async._wire.models import (
    TaskLogType,
    TaskState,
    TaskStatus,
    WorkspaceAgentLifecycle,
    WorkspaceStatus,
)

__all__ = ["Twins", "twins"]


class Twins:
    """The twin models and their bytes-to-model decoders."""

    def __init__(self, task: Any, entry: Any, listing: Any, logs: Any) -> None:
        self.task, self.entry, self.listing, self.logs = task, entry, listing, logs

    @property
    def decode_task(self) -> Callable[[bytes], Any]:
        return self.task.model_validate_json

    @property
    def decode_entry(self) -> Callable[[bytes], Any]:
        return self.entry.model_validate_json

    @property
    def decode_listing(self) -> Callable[[bytes], Any]:
        return self.listing.model_validate_json

    @property
    def decode_logs(self) -> Callable[[bytes], Any]:
        return self.logs.model_validate_json


def twins() -> Twins | None:
    """The pydantic twins, or ``None`` when pydantic (v2) is not installed."""
    try:
        from pydantic import BaseModel, ConfigDict, Field
    except ImportError:
        return None

    class Frozen(BaseModel):
        model_config = ConfigDict(frozen=True)

    class PHealth(Frozen):
        healthy: bool
        reason: str = ""

    class PStateEntry(Frozen):
        timestamp: datetime
        state: TaskState
        message: str = ""
        uri: str = ""

    class PTask(Frozen):
        id: UUID
        organization_id: UUID
        owner_id: UUID
        owner_name: str | None = None
        name: str
        template_id: UUID
        template_version_id: UUID | None = None
        status: TaskStatus
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
        workspace_status: WorkspaceStatus | None = None
        workspace_build_number: int = 0
        workspace_agent_id: UUID | None = None
        workspace_agent_lifecycle: WorkspaceAgentLifecycle | None = None
        workspace_agent_health: PHealth | None = None
        workspace_app_id: UUID | None = None
        current_state: PStateEntry | None = None

    class PTasksList(Frozen):
        tasks: list[PTask] = Field(default_factory=list)
        count: int = 0

    class PLogEntry(Frozen):
        id: int
        content: str
        type: TaskLogType
        time: datetime

    class PTaskLogs(Frozen):
        logs: list[PLogEntry] = Field(default_factory=list)
        snapshot: bool = False
        snapshot_at: datetime | None = None

    return Twins(PTask, PLogEntry, PTasksList, PTaskLogs)
