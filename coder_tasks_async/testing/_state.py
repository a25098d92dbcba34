"""Users, tasks and their lifecycle: the fake's in-memory "database".

A task's status is never stored: it is derived from ``clock.now()`` and a few
event times (start, pause, error), so the same sequence of calls under a
:class:`FakeClock` always yields the same answers, and nothing needs a
background task to "make progress".
"""

from __future__ import annotations

import math
import random
import string
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ._conversation import Conversation, Timings, summarize
from ._jsonio import dumps_value, format_ns
from ._names import generate_name
from ._profile import Profile

if TYPE_CHECKING:
    from coder_tasks_async import Clock

__all__ = ["FakeTask", "FakeUser", "State"]

_TOKEN_CHARS = string.ascii_letters + string.digits
_SNAPSHOT_MESSAGES = 10
#: The workspace's latest build status for each phase of the fake's lifecycle.
_WORKSPACE_STATUS = {"pending": "pending", "paused": "stopped"}


@attrs.define(eq=False, slots=True, kw_only=True)
class FakeUser:
    """A user of the fake server; ``token`` authenticates as them."""

    id: uuid.UUID
    username: str
    token: str
    is_owner: bool = False
    avatar_url: str = ""

    def __repr__(self) -> str:
        # Keep tokens out of test output, as the SDK keeps them out of its reprs.
        return f"FakeUser(username={self.username!r}, id={self.id!s}, is_owner={self.is_owner})"


@attrs.define(eq=False, slots=True, kw_only=True)
class FakeTask:
    """A task as the fake stores it; ``status``/``state``/``entries`` are live views."""

    id: uuid.UUID
    name: str
    display_name: str
    owner: FakeUser
    prompt: str
    template_version_id: uuid.UUID
    created_t: float
    workspace_id: uuid.UUID
    agent_id: uuid.UUID
    app_id: uuid.UUID
    conversation: Conversation
    started_t: float
    build_number: int = 1
    deleted: bool = False
    paused_t: float | None = None
    error_t: float | None = None
    frozen_state: dict[str, Any] | None = None
    snapshot: list[dict[str, Any]] | None = None
    snapshot_t: float | None = None
    #: Bumped on every change that is not a pure function of time (cache key).
    rev: int = 0
    #: ``(rev, valid_from, valid_until, encoded Task JSON)``.
    wire_cache: tuple[int, float, float, bytes] | None = attrs.field(default=None, repr=False)
    _state: State = attrs.field(repr=False, alias="state_")

    # -- live views for tests ------------------------------------------------
    @property
    def status(self) -> str:
        """TaskStatus at the clock's current time."""
        return self._state.status_of(self, self._state.clock.now())

    @property
    def state(self) -> str | None:
        """``current_state.state`` now, or ``None``."""
        cs = self._state.current_state(self, self._state.clock.now())
        return None if cs is None else str(cs["state"])

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The live conversation now (empty unless the agent is up)."""
        now = self._state.clock.now()
        if self._state.status_of(self, now) not in ("active", "error"):
            return []
        return self._state.log_entries(self, now)

    def view_time(self, now: float) -> float:
        """The time the task's observable state is frozen at (error/pause) or ``now``."""
        for t in (self.error_t, self.paused_t):
            if t is not None:
                return min(now, t)
        return now


class State:
    """All users and tasks of one fake server, plus derivation of what the wire shows."""

    def __init__(
        self, clock: Clock, wall0: datetime, timings: Timings, profile: Profile, seed: int
    ) -> None:
        self.clock = clock
        self.timings = timings
        self.profile = profile
        # Separate streams so e.g. enabling faults never changes generated names/ids.
        self._ids = random.Random(f"ids:{seed}")
        self._names = random.Random(f"names:{seed}")
        self._t0 = clock.now()
        self._wall0_ns = int(wall0.timestamp()) * 1_000_000_000 + wall0.microsecond * 1000
        self.users: dict[uuid.UUID, FakeUser] = {}
        self.by_token: dict[str, FakeUser] = {}
        self.by_username: dict[str, FakeUser] = {}
        self.tasks: dict[uuid.UUID, FakeTask] = {}
        self._by_name: dict[tuple[uuid.UUID, str], FakeTask] = {}
        self.created: list[uuid.UUID] = []
        self.organization_id: uuid.UUID = self.new_id()
        self.organization_name = "coder"
        self.template_id: uuid.UUID = self.new_id()
        self.template_version_id: uuid.UUID = self.new_id()
        self.template_version_id_no_ai: uuid.UUID = self.new_id()
        self.preset_id: uuid.UUID = self.new_id()

    # -- ids, time -----------------------------------------------------------
    def new_id(self) -> uuid.UUID:
        """A deterministic random (v4) UUID."""
        return uuid.UUID(int=self._ids.getrandbits(128), version=4)

    def wall_ns(self, t: float) -> int:
        """Clock seconds → Unix nanoseconds, at microsecond precision (like the DB)."""
        return self._wall0_ns + round((t - self._t0) * 1_000_000) * 1000

    def db_time(self, t: float) -> str:
        """A database timestamp: microseconds, trailing zeros trimmed."""
        return format_ns(self.wall_ns(t))

    def log_ns(self, t: float, entry_id: int) -> int:
        """AgentAPI timestamps carry 9 digits; the sub-µs part keeps ids in time order."""
        return self.wall_ns(t) + 101 + (entry_id % 9) * 100

    # -- users ---------------------------------------------------------------
    def add_user(self, username: str, *, owner: bool = False, avatar_url: str = "") -> FakeUser:
        """Create a user with a fresh ``<10 id>-<22 secret>`` token."""
        if username.lower() in self.by_username:
            raise ValueError(f"user {username!r} already exists")
        key_id = "".join(self._ids.choice(_TOKEN_CHARS) for _ in range(10))
        secret = "".join(self._ids.choice(_TOKEN_CHARS) for _ in range(22))
        user = FakeUser(
            id=self.new_id(),
            username=username,
            token=f"{key_id}-{secret}",
            is_owner=owner,
            avatar_url=avatar_url,
        )
        self.users[user.id] = user
        self.by_token[user.token] = user
        self.by_username[username.lower()] = user
        return user

    def resolve_user(self, ref: str, actor: FakeUser) -> FakeUser | None:
        """``me``, a UUID or a username (any case), as ExtractOrganizationMembersParam does."""
        if ref == "me":
            return actor
        try:
            return self.users.get(uuid.UUID(ref))
        except ValueError:
            return self.by_username.get(ref.lower())

    # -- tasks ---------------------------------------------------------------
    def find_task(self, ref: str, path_user: FakeUser) -> FakeTask | None:
        """A UUID is looked up by id only (the path user is not checked); else name in user."""
        try:
            task = self.tasks.get(uuid.UUID(ref))
        except ValueError:
            return self._by_name.get((path_user.id, ref.lower()))
        return None if task is None or task.deleted else task

    def name_taken(self, owner: FakeUser, name: str) -> bool:
        """Names are unique per owner among non-deleted tasks, ignoring case."""
        return (owner.id, name.lower()) in self._by_name

    def live_tasks(self) -> Iterator[FakeTask]:
        """Non-deleted tasks, newest first."""
        for tid in reversed(self.created):
            task = self.tasks[tid]
            if not task.deleted:
                yield task

    def create_task(
        self,
        owner: FakeUser,
        prompt: str,
        name: str | None,
        display_name: str | None,
    ) -> FakeTask:
        """Insert a task that starts ``pending`` now."""
        if not name:
            name = generate_name(self._names, prefix=not self.profile.display_name)
            while self.name_taken(owner, name):
                name = generate_name(self._names, prefix=not self.profile.display_name)
        if not display_name:
            display_name = summarize(prompt, 64) or name
        now = self.clock.now()
        active_t = now + self.timings.pending + self.timings.initializing
        task = FakeTask(
            id=self.new_id(),
            name=name,
            display_name=display_name,
            owner=owner,
            prompt=prompt,
            template_version_id=self.template_version_id,
            created_t=now,
            workspace_id=self.new_id(),
            agent_id=self.new_id(),
            app_id=self.new_id(),
            conversation=Conversation(active_t, self.timings, name, prompt),
            started_t=now,
            state_=self,
        )
        self.tasks[task.id] = task
        self._by_name[(owner.id, name.lower())] = task
        self.created.append(task.id)
        return task

    def delete_task(self, task: FakeTask) -> None:
        """Soft-delete: gone from lookups and lists, still reachable via ``fake.task``."""
        task.deleted = True
        self._by_name.pop((task.owner.id, task.name.lower()), None)

    def send_input(self, task: FakeTask, text: str, now: float) -> None:
        """Deliver ``text`` to the agent: a new input message and a reply that starts growing."""
        task.conversation.send(text, now)
        task.rev += 1

    def update_prompt(self, task: FakeTask, prompt: str) -> None:
        """Replace the initial prompt; an agent that has not started yet gets the new one."""
        task.rev += 1
        task.prompt = prompt
        if task.paused_t is None and self.phase(task, self.clock.now()) == "pending":
            base = task.conversation.base_t
            task.conversation = Conversation(base, self.timings, task.name, prompt)

    def pause(self, task: FakeTask) -> None:
        """Stop build: keeps a snapshot of the last messages, freezes the state."""
        task.rev += 1
        now = self.clock.now()
        status = self.status_of(task, now)
        if status in ("active", "error"):
            task.snapshot = self.log_entries(task, now)[-_SNAPSHOT_MESSAGES:]
            task.snapshot_t = now
        task.frozen_state = self.current_state(task, now)
        task.paused_t = now
        task.error_t = None
        task.build_number += 1

    def resume(self, task: FakeTask) -> None:
        """Start build: pending → initializing → active with a fresh AgentAPI (ids from 0)."""
        task.rev += 1
        now = self.clock.now()
        task.paused_t = None
        task.error_t = None
        task.frozen_state = None
        task.started_t = now
        task.build_number += 1
        task.agent_id = self.new_id()
        task.app_id = self.new_id()
        active_t = now + self.timings.pending + self.timings.initializing
        task.conversation = Conversation(active_t, self.timings, task.name)

    # -- derivation ----------------------------------------------------------
    def phase(self, task: FakeTask, t: float) -> str:
        """pending / initializing / active from the time since the last start build."""
        dt = t - task.started_t + 1e-9
        if dt < self.timings.pending:
            return "pending"
        if dt < self.timings.pending + self.timings.initializing:
            return "initializing"
        return "active"

    def build_running(self, task: FakeTask, now: float) -> bool:
        """A start build is still running: the task is pending after create or resume."""
        return task.paused_t is None and task.error_t is None and self.phase(task, now) == "pending"

    def workspace_running(self, task: FakeTask, now: float) -> bool:
        """The start build finished and the workspace runs (initializing or active)."""
        return self.status_of(task, now) in ("initializing", "active")

    def status_of(self, task: FakeTask, now: float) -> str:
        """TaskStatus: error and paused override the start-build phase."""
        if task.error_t is not None:
            return "error"
        if task.paused_t is not None:
            return "paused"
        return self.phase(task, now)

    def current_state(self, task: FakeTask, now: float) -> dict[str, Any] | None:
        """``current_state``: null until the agent reports; made up while initializing (2.31+)."""
        if task.frozen_state is not None or task.paused_t is not None:
            return task.frozen_state
        t = task.view_time(now)
        phase = self.phase(task, t)
        if phase == "pending":
            return None
        if phase == "initializing":
            if not self.profile.synthesized_state:
                return None
            # coderd stamps the made-up state with the start build's creation time.
            return self._state_entry(task.started_t, "working", "Agent is starting")
        state, message, changed = task.conversation.state(t)
        return self._state_entry(changed, state, message)

    def _state_entry(self, t: float, state: str, message: str) -> dict[str, Any]:
        return {"timestamp": self.db_time(t), "state": state, "message": message, "uri": ""}

    def log_entries(self, task: FakeTask, now: float) -> list[dict[str, Any]]:
        """The live conversation at ``now`` (frozen at error time)."""
        t = task.view_time(now)
        if t + 1e-9 < task.conversation.base_t:
            return []  # the AgentAPI process is not up yet
        return task.conversation.entries(t, self.log_ns)

    def agent_busy(self, task: FakeTask, now: float) -> bool:
        """AgentAPI status ``running``: the last reply is still growing."""
        return task.conversation.busy(now)

    def set_error(self, task: FakeTask) -> None:
        """Make the task's status ``error`` (app unhealthy); the view freezes at this moment."""
        task.rev += 1
        task.error_t = self.clock.now()

    def restart_agent(self, task: FakeTask) -> None:
        """AgentAPI restarted: a new conversation with only the initial screen, ids from 0."""
        task.rev += 1
        now = self.clock.now()
        base = max(now, task.started_t + self.timings.pending + self.timings.initializing)
        task.conversation = Conversation(base, self.timings, task.name)

    def wire_bytes(self, task: FakeTask, now: float) -> bytes:
        """:meth:`wire` encoded (no newline), cached until the next time-driven change."""
        c = task.wire_cache
        if c is not None and c[0] == task.rev and c[1] <= now < c[2]:
            return c[3]
        body = dumps_value(self.wire(task, now))
        task.wire_cache = (task.rev, now, self._stable_until(task, now), body)
        return body

    def _stable_until(self, task: FakeTask, now: float) -> float:
        """When the wire view of ``task`` next changes by time alone (same epsilon as phase)."""
        if task.error_t is not None or task.paused_t is not None:
            return math.inf
        b1 = task.started_t + self.timings.pending - 1e-9
        b2 = b1 + self.timings.initializing
        if now < b1:
            return b1
        if now < b2:
            return b2
        return task.conversation.busy_until(now)

    def wire(self, task: FakeTask, now: float) -> dict[str, Any]:
        """The ``codersdk.Task`` JSON object, field order and omitempty as coderd writes it."""
        if self.profile.workspace_shape:
            return self._workspace_wire(task, now)
        status = self.status_of(task, now)
        t = task.view_time(now)
        phase = "paused" if status == "paused" else self.phase(task, t)
        o = task.owner
        d: dict[str, Any] = {
            "id": str(task.id),
            "organization_id": str(self.organization_id),
            "owner_id": str(o.id),
            "owner_name": o.username,
        }
        if o.avatar_url:
            d["owner_avatar_url"] = o.avatar_url
        d["name"] = task.name
        if self.profile.display_name:
            d["display_name"] = task.display_name
        d["template_id"] = str(self.template_id)
        d["template_version_id"] = str(task.template_version_id)
        self._template_fields(d)
        d["workspace_id"] = str(task.workspace_id)
        d["workspace_name"] = task.name
        up = phase in ("initializing", "active")
        d["workspace_status"] = _WORKSPACE_STATUS.get(phase, "running")
        build = task.build_number if phase != "pending" else task.build_number - 1
        if build > 0:
            d["workspace_build_number"] = build
        self._agent_fields(d, task, phase)
        d["workspace_app_id"] = str(task.app_id) if up else None
        d["initial_prompt"] = task.prompt
        d["status"] = status
        d["current_state"] = self.current_state(task, now)
        d["created_at"] = self.db_time(task.created_t)
        d["updated_at"] = self.db_time(self._updated_t(task, t))
        return d

    def _workspace_wire(self, task: FakeTask, now: float) -> dict[str, Any]:
        """The v2.26/v2.27 task, built from its workspace: ``status`` is a workspace status.

        No ``template_version_id``, ``workspace_name``, ``workspace_status``, build
        number or app id; ``owner_name`` only from v2.27.
        """
        status = self.status_of(task, now)
        t = task.view_time(now)
        phase = "paused" if status == "paused" else self.phase(task, t)
        d: dict[str, Any] = {
            "id": str(task.id),
            "organization_id": str(self.organization_id),
            "owner_id": str(task.owner.id),
        }
        if self.profile.owner_name:
            d["owner_name"] = task.owner.username
        d["name"] = task.name
        d["template_id"] = str(self.template_id)
        self._template_fields(d)
        d["workspace_id"] = str(task.workspace_id)
        self._agent_fields(d, task, phase)
        d["initial_prompt"] = task.prompt
        d["status"] = _WORKSPACE_STATUS.get(phase, "running")
        d["current_state"] = self.current_state(task, now)
        d["created_at"] = self.db_time(task.created_t)
        d["updated_at"] = self.db_time(self._updated_t(task, t))
        return d

    @staticmethod
    def _template_fields(d: dict[str, Any]) -> None:
        d["template_name"] = "claude-code-agent"
        d["template_display_name"] = "Claude Code"
        d["template_icon"] = "/icon/claude.svg"

    @staticmethod
    def _agent_fields(d: dict[str, Any], task: FakeTask, phase: str) -> None:
        up = phase in ("initializing", "active")
        d["workspace_agent_id"] = str(task.agent_id) if up else None
        d["workspace_agent_lifecycle"] = (
            ("ready" if phase == "active" else "starting") if up else None
        )
        d["workspace_agent_health"] = {"healthy": True} if up else None

    def _updated_t(self, task: FakeTask, t: float) -> float:
        """The workspace's ``updated_at``: the last lifecycle change at or before ``t``."""
        if task.paused_t is not None:
            return task.paused_t
        marks = (
            task.started_t,
            task.started_t + self.timings.pending,
            task.started_t + self.timings.pending + self.timings.initializing,
        )
        return max(m for m in marks if m <= t + 1e-9)
