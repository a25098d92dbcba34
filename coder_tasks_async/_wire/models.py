"""Models for every schema of the Tasks API: frozen attrs classes and open enums.

Attribute names are the wire's snake_case names.  Presence rules follow the
server (docs/compatibility.md §2): fields Coder omits when empty have defaults,
NullUUID fields are ``UUID | None``, timestamps are aware ``datetime`` objects.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from attrs import define, field

from .serialize import Model

__all__ = [
    "ProvisionerJob",
    "ProvisionerJobStatus",
    "Task",
    "TaskList",
    "TaskLogEntry",
    "TaskLogType",
    "TaskLogs",
    "TaskState",
    "TaskStateEntry",
    "TaskStatus",
    "TasksList",
    "WorkspaceAgentHealth",
    "WorkspaceAgentLifecycle",
    "WorkspaceBuild",
    "WorkspaceStatus",
    "WorkspaceTransition",
]


class OpenEnum(enum.StrEnum):
    """A string enum that keeps values it does not know instead of raising.

    A newer server may send a status this SDK has never heard of; the value is
    kept as a pseudo-member that compares equal to its string::

        >>> TaskStatus("hibernating") == "hibernating"
        True
        >>> TaskStatus("hibernating").known
        False
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def known(self) -> bool:
        """Whether this value is one this SDK version declares."""
        return self._name_ in type(self).__members__


class TaskStatus(OpenEnum):
    """``Task.status``: derived by the server from build, agent and app health."""

    PENDING = "pending"
    INITIALIZING = "initializing"
    ACTIVE = "active"
    PAUSED = "paused"
    UNKNOWN = "unknown"
    ERROR = "error"


class TaskState(OpenEnum):
    """``Task.current_state.state``: what the agent last reported.

    ``FAILURE`` and ``COMPLETED`` are spellings real servers send (the app-status
    enum, and v2.26-era servers); treat them like ``FAILED`` and ``COMPLETE``.
    """

    WORKING = "working"
    IDLE = "idle"
    COMPLETE = "complete"
    FAILED = "failed"
    FAILURE = "failure"
    COMPLETED = "completed"


class TaskLogType(OpenEnum):
    """``TaskLogEntry.type``: ``input`` is user to agent, ``output`` agent to user."""

    INPUT = "input"
    OUTPUT = "output"


class WorkspaceStatus(OpenEnum):
    """Status of the task workspace's latest build."""

    PENDING = "pending"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"
    CANCELING = "canceling"
    CANCELED = "canceled"
    DELETING = "deleting"
    DELETED = "deleted"


class WorkspaceAgentLifecycle(OpenEnum):
    """Lifecycle of the workspace agent that runs the AI app."""

    CREATED = "created"
    STARTING = "starting"
    START_TIMEOUT = "start_timeout"
    START_ERROR = "start_error"
    READY = "ready"
    SHUTTING_DOWN = "shutting_down"
    SHUTDOWN_TIMEOUT = "shutdown_timeout"
    SHUTDOWN_ERROR = "shutdown_error"
    OFF = "off"


class WorkspaceTransition(OpenEnum):
    """What a workspace build does: start, stop or delete the workspace."""

    START = "start"
    STOP = "stop"
    DELETE = "delete"


class ProvisionerJobStatus(OpenEnum):
    """The status of the provisioner job behind a workspace build."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    CANCELING = "canceling"
    CANCELED = "canceled"
    FAILED = "failed"
    UNKNOWN = "unknown"


#: Job statuses after which a build changes no more.
JOB_ENDED = frozenset(
    {ProvisionerJobStatus.SUCCEEDED, ProvisionerJobStatus.CANCELED, ProvisionerJobStatus.FAILED}
)
#: Workspace statuses of a build whose job still runs: Coder refuses another build then
#: (409 ``A workspace build is already active.``).
BUILD_ACTIVE_STATUSES = frozenset(
    {
        WorkspaceStatus.PENDING,
        WorkspaceStatus.STARTING,
        WorkspaceStatus.STOPPING,
        WorkspaceStatus.DELETING,
        WorkspaceStatus.CANCELING,
    }
)

#: States after which the agent is not expected to change the conversation by itself.
SETTLED_STATES = frozenset(
    {TaskState.IDLE, TaskState.COMPLETE, TaskState.COMPLETED, TaskState.FAILED, TaskState.FAILURE}
)


@define(frozen=True, kw_only=True)
class WorkspaceAgentHealth(Model):
    """``Task.workspace_agent_health``: ``healthy`` and, when not, a ``reason``."""

    healthy: bool
    reason: str = ""


@define(frozen=True, kw_only=True)
class TaskStateEntry(Model):
    """``Task.current_state``: the latest status the agent reported about its work."""

    timestamp: datetime
    state: TaskState
    message: str = ""
    uri: str = ""


@define(frozen=True, kw_only=True)
class Task(Model):
    """A Coder AI task.

    Example::

        task = await coder.get_task("alice/fix-login")
        if task.status == TaskStatus.ACTIVE and task.current_state:
            print(task.current_state.state, task.current_state.message)
    """

    # Keyword-only, so fields keep the wire's order even where an optional one
    # comes before a required one.
    id: UUID
    organization_id: UUID
    owner_id: UUID
    #: The owner's username; ``None`` from v2.26 servers, which do not send it.
    owner_name: str | None = None
    name: str
    template_id: UUID
    #: ``None`` from v2.26/v2.27 servers, which do not send it.
    template_version_id: UUID | None = None
    #: The task status.  v2.26/v2.27 servers send none (their ``status`` is the
    #: workspace's, kept in :attr:`workspace_status`): then ``UNKNOWN``, unless the
    #: server sent a ``task_status`` field.
    status: TaskStatus
    created_at: datetime
    updated_at: datetime
    initial_prompt: str = ""
    #: Coder v2.29+ only; ``""`` on older servers.
    display_name: str = ""
    owner_avatar_url: str = ""
    template_name: str = ""
    template_display_name: str = ""
    template_icon: str = ""
    workspace_id: UUID | None = None
    workspace_name: str = ""
    workspace_status: WorkspaceStatus | None = None
    #: ``0`` until the server records the build the task app belongs to.
    workspace_build_number: int = 0
    workspace_agent_id: UUID | None = None
    workspace_agent_lifecycle: WorkspaceAgentLifecycle | None = None
    workspace_agent_health: WorkspaceAgentHealth | None = None
    workspace_app_id: UUID | None = None
    current_state: TaskStateEntry | None = None

    @property
    def state(self) -> TaskState | None:
        """Shortcut for ``current_state.state`` (``None`` when the agent reported nothing)."""
        return self.current_state.state if self.current_state is not None else None

    @property
    def ref(self) -> str:
        """``"owner/name"``: how the CLI and this SDK address the task by name.

        A v2.26 server does not say the owner's name; the owner's id stands in.
        """
        owner = self.owner_name if self.owner_name is not None else str(self.owner_id)
        return f"{owner}/{self.name}"


@define(frozen=True, kw_only=True)
class TasksList(Model):
    """The list endpoint's body: ``tasks`` (newest first) and ``count``."""

    tasks: list[Task] = field(factory=list)
    count: int = 0


@define(frozen=True, kw_only=True)
class TaskLogEntry(Model):
    """One message of the conversation.  ``id`` is its index; the last output entry may change."""

    id: int
    content: str
    type: TaskLogType
    time: datetime


@define(frozen=True, kw_only=True)
class TaskLogs(Model):
    """The logs endpoint's body.

    ``snapshot`` is true when a newer server answers from the conversation it
    stored at pause time (``snapshot_at``) instead of the live agent.
    """

    logs: list[TaskLogEntry] = field(factory=list)
    snapshot: bool = False
    snapshot_at: datetime | None = None


class TaskList(list[Task]):
    """What ``list_tasks`` returns: the tasks (a plain ``list``, newest first) and, as
    ``total``, Coder's ``count`` of them.

    (Not ``.count``: that is ``list.count(x)``, which keeps working.)

    Example::

        tasks = await coder.list_tasks(status="active")
        print(f"{tasks.total} active:", [t.name for t in tasks])
    """

    __slots__ = ("total",)

    def __init__(self, tasks: Iterable[Task] = (), total: int | None = None) -> None:
        super().__init__(tasks)
        #: The list body's ``count`` (the number of tasks the server listed).
        self.total: int = len(self) if total is None else total

    def __repr__(self) -> str:
        return f"TaskList({list.__repr__(self)}, total={self.total})"


@define(frozen=True, kw_only=True)
class ProvisionerJob(Model):
    """The provisioner job that runs a workspace build (``WorkspaceBuild.job``)."""

    id: UUID | None = None
    status: ProvisionerJobStatus = ProvisionerJobStatus.UNKNOWN
    #: Why the job failed (Coder omits it when empty).
    error: str = ""
    error_code: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    canceled_at: datetime | None = None
    queue_position: int = 0
    queue_size: int = 0


@define(frozen=True, kw_only=True)
class WorkspaceBuild(Model):
    """A build of a task's workspace: what ``pause_task``/``resume_task`` started (Coder
    v2.31.1+, HTTP 202) and what ``wait_for_build`` follows to its end.

    ``status`` is the workspace status the build leads to (``stopping``, then ``stopped``,
    ...); ``job.status`` is its provisioner job's.  Early servers only say the build's
    ``id``; the other fields then keep their defaults.

    Example::

        build = await coder.pause_task("fix-login")
        done = await coder.wait_for_build(build, timeout=300)
        assert done.status == "stopped"
    """

    id: UUID
    created_at: datetime | None = None
    updated_at: datetime | None = None
    workspace_id: UUID | None = None
    workspace_name: str = ""
    workspace_owner_id: UUID | None = None
    workspace_owner_name: str = ""
    template_version_id: UUID | None = None
    template_version_name: str = ""
    build_number: int = 0
    transition: WorkspaceTransition | None = None
    initiator_id: UUID | None = None
    initiator_name: str = ""
    job: ProvisionerJob | None = None
    #: Why the build was started (``initiator``, ``task_manual_pause``, ``task_resume``, ...).
    reason: str = ""
    status: WorkspaceStatus | None = None
    template_version_preset_id: UUID | None = None

    @property
    def job_status(self) -> ProvisionerJobStatus:
        """``job.status`` (``unknown`` when the server said nothing about the job)."""
        return self.job.status if self.job is not None else ProvisionerJobStatus.UNKNOWN

    @property
    def ended(self) -> bool:
        """The job is over: succeeded, failed or canceled."""
        return self.job_status in JOB_ENDED

    @property
    def succeeded(self) -> bool:
        """The job ended well."""
        return self.job_status is ProvisionerJobStatus.SUCCEEDED
