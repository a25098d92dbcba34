"""What a workspace watch event tells a poller, read leniently.

A watch event carries a whole ``codersdk.Workspace``; a wake-up needs only a
few fields of it.  Anything missing, extra or of an unexpected type reads as
"unknown", never as an error: the event is only a reason to poll, and the poll
is the source of truth.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["WorkspaceSignal", "read_signal"]


@attrs.define(frozen=True, slots=True)
class WorkspaceSignal:
    """The parts of a workspace event a wake-up uses (each ``None`` when unknown)."""

    #: ``latest_build.status`` (``running``, ``stopped``, ``pending``, ...).
    build_status: str | None = None
    #: ``latest_build.transition`` (``start``, ``stop``, ``delete``).
    transition: str | None = None
    build_number: int | None = None
    #: ``latest_app_status.state`` (``working``, ``idle``, ``complete``, ``failure``).
    app_state: str | None = None
    #: ``latest_app_status.created_at``, verbatim (compared with the task's ``current_state``).
    app_state_at: str | None = None

    @property
    def agent_idle(self) -> bool:
        """The agent reported it is not working (idle, complete or failed)."""
        return self.app_state in ("idle", "complete", "failure")


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_signal(data: Any) -> WorkspaceSignal:
    """Read a :class:`WorkspaceSignal` from a decoded event payload (any shape)."""
    build = _get(data, "latest_build")
    app = _get(data, "latest_app_status")
    number = _get(build, "build_number")
    return WorkspaceSignal(
        build_status=_str(_get(build, "status")),
        transition=_str(_get(build, "transition")),
        build_number=number if type(number) is int else None,
        app_state=_str(_get(app, "state")),
        app_state_at=_str(_get(app, "created_at")),
    )
