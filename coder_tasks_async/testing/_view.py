"""What a task looks like on the wire at a given time, derived from its builds.

Coder computes a task's status in its ``tasks_with_status`` view from the latest
build's job, the agent's lifecycle and the task app's health (build first, then agent,
then app); this module does the same over the fake's state, per release:

* a start job still queued: ``pending`` (``initializing`` before v2.31.1);
* a start job running, or the agent still starting: ``initializing``;
* the agent up and the app healthy: ``active`` (``error`` when the app is unhealthy);
* a stop job queued or running: ``unknown``; a stop job done: ``paused``;
* a failed (or, from v2.29, canceled) job: ``error``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ._builds import JOB_ENDED
from ._jsonio import dumps_value

if TYPE_CHECKING:
    from ._conversation import Timings
    from ._profile import Profile
    from ._state import FakeTask, State

__all__ = ["View"]

_EPS = 1e-9
_SYNTHESIZED = {
    "queued": "Workspace is pending",
    "building": "Workspace is starting",
    "booting": "Agent is starting",
}


class View:
    """Derives statuses and wire JSON of tasks from a :class:`State`."""

    def __init__(self, state: State) -> None:
        self.state: State = state
        self.profile: Profile = state.profile
        self.timings: Timings = state.timings

    # -- phases --------------------------------------------------------------
    def agent_up_t(self, task: FakeTask) -> float:
        """When the agent of the newest start build is ready (``inf`` while none will be)."""
        build = task.latest_build
        if build.transition != "start":
            return math.inf
        t = self.timings
        return build.ends_at() + max(t.initializing - t.start_job, 0.0)

    def phase(self, task: FakeTask, now: float) -> str:
        """Where the newest build is: queued, building, booting, up (start); stopping,
        stopped (stop, delete); failed."""
        build = task.latest_build
        job = build.job_status(now)
        if job in ("failed", "canceled"):
            return "failed"
        if build.transition != "start":
            return "stopped" if job == "succeeded" else "stopping"
        if job == "pending":
            return "queued"
        if job == "running":
            return "building"
        return "up" if now + _EPS >= self.agent_up_t(task) else "booting"

    def build_active(self, task: FakeTask, now: float) -> bool:
        """A build's job is still pending or running: Coder refuses another build."""
        return task.latest_build.active(now)

    def workspace_status(self, task: FakeTask, now: float) -> str:
        """The workspace's status: its newest build's status."""
        return task.latest_build.status(now)

    def status(self, task: FakeTask, now: float) -> str:
        """TaskStatus, as the release computes it."""
        phase = self.phase(task, now)
        if phase == "failed":
            job = task.latest_build.job_status(now)
            return (
                "error" if job == "failed" or self.profile.has("canceled_is_error") else "unknown"
            )
        if phase == "stopping":
            return "unknown"
        if phase == "stopped":
            return "paused"
        if task.error_t is not None:
            return "error"
        if phase == "queued":
            return "pending" if self.profile.has("pending_status") else "initializing"
        return "active" if phase == "up" else "initializing"

    def agent_busy(self, task: FakeTask, now: float) -> bool:
        """AgentAPI status ``running``: the last reply is still growing."""
        return task.conversation.busy(now)

    # -- current state and logs ------------------------------------------------
    def app_status(self, task: FakeTask, now: float) -> dict[str, Any] | None:
        """The agent's latest report that counts for the newest build (as a task state
        entry): kept through a stop build, none before the agent of a start build is up."""
        if task.latest_build.transition != "start":
            return task.frozen_state
        if self.phase(task, now) == "up":
            return self._reported(task, task.view_time(now))
        return None

    def current_state(self, task: FakeTask, now: float) -> dict[str, Any] | None:
        """``current_state``: :meth:`app_status`, else made up as ``working`` while
        initializing (v2.29+), else null."""
        reported = self.app_status(task, now)
        if reported is not None or task.latest_build.transition != "start":
            return reported
        phase = self.phase(task, now)
        if (
            phase in _SYNTHESIZED
            and task.error_t is None
            and self.status(task, now) == "initializing"
            and self.profile.has("synthesized_state")
        ):
            # coderd stamps the made-up state with the start build's creation time.
            return self._entry(task.latest_build.created_t, "working", _SYNTHESIZED[phase])
        return None

    def _reported(self, task: FakeTask, t: float) -> dict[str, Any]:
        state, message, changed = task.conversation.state(t)
        report = task.report
        if report is not None and changed <= report[0] <= t:
            changed, state, message = report
        if state == "failure" and self.profile.has("failure_is_failed"):
            state = "failed"  # coderd maps the app status enum onto the task enum (v2.32)
        return self._entry(changed, state, message)

    def _entry(self, t: float, state: str, message: str) -> dict[str, Any]:
        return {"timestamp": self.state.db_time(t), "state": state, "message": message, "uri": ""}

    def log_entries(self, task: FakeTask, now: float) -> list[dict[str, Any]]:
        """The live conversation at ``now`` (frozen at error time)."""
        t = task.view_time(now)
        if t + _EPS < task.conversation.base_t:
            return []  # the AgentAPI process is not up yet
        return task.conversation.entries(t, self.state.log_ns)

    # -- wire -------------------------------------------------------------------
    def wire_bytes(self, task: FakeTask, now: float) -> bytes:
        """:meth:`wire` encoded (no newline), cached until the next time-driven change."""
        c = task.wire_cache
        if c is not None and c[0] == task.rev and c[1] <= now < c[2]:
            return c[3]
        body = dumps_value(self.wire(task, now))
        task.wire_cache = (task.rev, now, self.stable_until(task, now), body)
        return body

    def stable_until(self, task: FakeTask, now: float) -> float:
        """When the wire view of ``task`` next changes by time alone."""
        until = task.latest_build.next_change(now)
        up = self.agent_up_t(task) - _EPS
        if now < up:
            until = min(until, up)
        elif task.error_t is None and task.latest_build.transition == "start":
            until = min(until, task.conversation.busy_until(now))
        return until

    def wire(self, task: FakeTask, now: float) -> dict[str, Any]:
        """The ``codersdk.Task`` JSON object, field order and omitempty as coderd writes it."""
        if self.profile.workspace_shape:
            return self._workspace_wire(task, now)
        o = task.owner
        template = task.template
        d: dict[str, Any] = {
            "id": str(task.id),
            "organization_id": str(template.organization_id),
            "owner_id": str(o.id),
            "owner_name": o.username,
        }
        if o.avatar_url:
            d["owner_avatar_url"] = o.avatar_url
        d["name"] = task.name
        if self.profile.has("display_name"):
            d["display_name"] = task.display_name
        d["template_id"] = str(template.id)
        d["template_version_id"] = str(task.template_version_id)
        self._template_fields(d, task)
        d["workspace_id"] = str(task.workspace_id)
        d["workspace_name"] = task.name
        d["workspace_status"] = self.workspace_status(task, now)
        d["workspace_build_number"] = task.build_number
        phase = self.phase(task, now)
        self._agent_fields(d, task, phase)
        d["workspace_app_id"] = str(task.app_id) if phase in ("booting", "up") else None
        self._tail_fields(d, task, now, self.status(task, now))
        return d

    def _workspace_wire(self, task: FakeTask, now: float) -> dict[str, Any]:
        """The v2.26/v2.27 task, built from its workspace: ``status`` is a workspace status.

        No ``template_version_id``, ``workspace_name``, ``workspace_status``, build
        number or app id; ``owner_name`` only from v2.27.
        """
        d: dict[str, Any] = {
            "id": str(task.id),
            "organization_id": str(task.template.organization_id),
            "owner_id": str(task.owner.id),
        }
        if self.profile.has("owner_name"):
            d["owner_name"] = task.owner.username
        d["name"] = task.name
        d["template_id"] = str(task.template.id)
        self._template_fields(d, task)
        d["workspace_id"] = str(task.workspace_id)
        self._agent_fields(d, task, self.phase(task, now))
        self._tail_fields(d, task, now, self.workspace_status(task, now))
        return d

    def _tail_fields(self, d: dict[str, Any], task: FakeTask, now: float, status: str) -> None:
        """The fields every release ends a task with (``status`` is the release's)."""
        d["initial_prompt"] = task.prompt
        d["status"] = status
        d["current_state"] = self.current_state(task, now)
        d["created_at"] = self.state.db_time(task.created_t)
        d["updated_at"] = self.state.db_time(self._updated_t(task, now))

    @staticmethod
    def _template_fields(d: dict[str, Any], task: FakeTask) -> None:
        template = task.template
        d["template_name"] = template.name
        d["template_display_name"] = template.display_name
        d["template_icon"] = template.icon

    @staticmethod
    def _agent_fields(d: dict[str, Any], task: FakeTask, phase: str) -> None:
        up = phase in ("booting", "up")
        d["workspace_agent_id"] = str(task.agent_id) if up else None
        d["workspace_agent_lifecycle"] = ("ready" if phase == "up" else "starting") if up else None
        d["workspace_agent_health"] = {"healthy": True} if up else None

    def _updated_t(self, task: FakeTask, now: float) -> float:
        """The workspace's ``updated_at``: the last lifecycle change at or before ``now``."""
        build = task.latest_build
        marks = [
            build.created_t,
            min(build.created_t + build.queued, build.ends_at()),
            build.ends_at(),
        ]
        if build.transition == "start" and build.job_status(now) not in JOB_ENDED - {"succeeded"}:
            marks.append(self.agent_up_t(task))
        return max(m for m in marks if m <= now + _EPS)
