"""Workspace builds: the provisioner jobs behind create, pause, resume and delete.

A build's job is ``pending`` while it waits for a provisioner, ``running`` while it
builds, then ``succeeded`` (or ``failed``/``canceled`` when a test says so).  Like
everything in the fake, its status is derived from the clock: a build stores when it
was created, how long each stage takes and, for a build a test holds, when it was let
go.  Coder refuses a new build while one is active (409 ``A workspace build is already
active.``), which is where these durations become visible to clients.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ._state import FakeUser

__all__ = ["JOB_ENDED", "FakeBuild", "workspace_status"]

#: Job statuses after which nothing changes any more.
JOB_ENDED = frozenset({"succeeded", "failed", "canceled"})
_EPS = 1e-9


def workspace_status(job: str, transition: str) -> str:
    """coderd's ``ConvertWorkspaceStatus``: a build's job status and transition → its status."""
    if job == "pending":
        return "pending"
    if job in ("failed", "canceled", "canceling"):
        return job
    running = job == "running"
    if transition == "start":
        return "starting" if running else "running"
    if transition == "stop":
        return "stopping" if running else "stopped"
    return "deleting" if running else "deleted"


@attrs.define(eq=False, slots=True, kw_only=True)
class FakeBuild:
    """One workspace build of a task's workspace."""

    id: uuid.UUID
    job_id: uuid.UUID
    number: int
    transition: str
    reason: str
    initiator: FakeUser
    template_version_id: uuid.UUID
    created_t: float
    #: Seconds the job waits for a provisioner, then seconds it runs.
    queued: float
    duration: float
    #: ``succeeded`` unless a test makes the build fail or cancels it.
    outcome: str = "succeeded"
    #: Held by a test until :meth:`release`: ``"pending"`` keeps the job in the queue (no
    #: provisioner takes it), ``"running"`` keeps it running; ``None`` lets it go.
    held: str | None = None
    #: When a test ended the build (:meth:`release`): the job ends then.
    released_t: float | None = None

    def ends_at(self) -> float:
        """When the job ends (``inf`` while a test holds it)."""
        if self.held:
            return math.inf
        if self.released_t is not None:
            return self.released_t
        return self.created_t + self.queued + self.duration

    def job_status(self, now: float) -> str:
        """The provisioner job's status at ``now``."""
        if now + _EPS >= self.ends_at():
            return self.outcome
        if self.held == "pending":
            return "pending"
        # A job is queued when it is created, even one no provisioner makes wait: the 202
        # of a pause shows it "pending", as coderd's does.
        dt = now - self.created_t
        return "pending" if dt < _EPS or dt + _EPS < self.queued else "running"

    def active(self, now: float) -> bool:
        """Coder's ``ProvisionerJobStatus.Active``: a new build is refused while this holds."""
        return self.job_status(now) not in JOB_ENDED

    def succeeded(self, now: float) -> bool:
        """The job ended well."""
        return self.job_status(now) == "succeeded"

    def status(self, now: float) -> str:
        """The build's (workspace) status at ``now``."""
        return workspace_status(self.job_status(now), self.transition)

    def next_change(self, now: float) -> float:
        """When :meth:`job_status` next changes by time alone (``inf`` if never)."""
        queued = max(self.queued, 2 * _EPS)  # "pending" at least at the instant of creation
        started = math.inf if self.held == "pending" else self.created_t + queued
        for t in (min(started, self.ends_at()), self.ends_at()):
            if now + _EPS < t:
                return t - _EPS
        return math.inf

    def release(self, now: float, outcome: str) -> None:
        """A test lets a held (or still running) build end now with ``outcome``."""
        self.held = None
        self.released_t = now
        self.outcome = outcome

    def json(
        self,
        now: float,
        *,
        db_time: Any,
        workspace_id: uuid.UUID,
        workspace_name: str,
        owner: FakeUser,
        organization_id: uuid.UUID,
    ) -> dict[str, Any]:
        """``codersdk.WorkspaceBuild`` as coderd writes it (the fields a client reads)."""
        job = self.job_status(now)
        job_json: dict[str, Any] = {
            "id": str(self.job_id),
            "created_at": db_time(self.created_t),
        }
        if job != "pending":
            job_json["started_at"] = db_time(min(self.created_t + self.queued, self.ends_at()))
        if job in JOB_ENDED:
            job_json["completed_at"] = db_time(min(self.ends_at(), now))
        if job == "failed":
            job_json["error"] = "fake provisioner: the build failed"
        job_json.update(
            status=job,
            file_id=str(uuid.uuid5(self.job_id, "file")),
            tags={"scope": "organization", "owner": ""},
            queue_position=0,
            queue_size=0,
            organization_id=str(organization_id),
            initiator_id=str(self.initiator.id),
            input={"workspace_build_id": str(self.id)},
            type="workspace_build",
            metadata={
                "template_version_name": "v1",
                "template_id": "",
                "template_name": "",
                "template_display_name": "",
                "template_icon": "",
                "workspace_id": str(workspace_id),
                "workspace_name": workspace_name,
            },
            logs_overflowed=False,
        )
        body: dict[str, Any] = {
            "id": str(self.id),
            "created_at": db_time(self.created_t),
            "updated_at": db_time(self.created_t),
            "workspace_id": str(workspace_id),
            "workspace_name": workspace_name,
            "workspace_owner_id": str(owner.id),
            "workspace_owner_name": owner.username,
        }
        if owner.avatar_url:
            body["workspace_owner_avatar_url"] = owner.avatar_url
        body.update(
            template_version_id=str(self.template_version_id),
            template_version_name="v1",
            build_number=self.number,
            transition=self.transition,
            initiator_id=str(self.initiator.id),
            initiator_name=self.initiator.username,
            job=job_json,
            reason=self.reason,
            resources=[],
            status=workspace_status(job, self.transition),
            daily_cost=0,
            template_version_preset_id=None,
        )
        return body
