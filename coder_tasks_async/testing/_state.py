"""Users, tasks and their workspace builds: the fake's in-memory "database".

A task's status is never stored: it is derived from ``clock.now()``, the task's
builds (:mod:`._builds`) and a few event times, so the same sequence of calls under a
:class:`FakeClock` always yields the same answers, and nothing needs a background
task to "make progress".  What the wire shows is derived in :mod:`._view`.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ._builds import FakeBuild
from ._conversation import Conversation, Timings
from ._jsonio import format_ns
from ._names import generate_name, names_from_prompt
from ._profile import Profile
from ._templates import FakeTemplate, FakeVersion, TemplateCatalog

if TYPE_CHECKING:
    from ._clock import WallClock
    from ._view import View

__all__ = ["FakeTask", "FakeUser", "State"]

_TOKEN_CHARS = string.ascii_letters + string.digits
_SNAPSHOT_MESSAGES = 10


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
    version: FakeVersion
    created_t: float
    workspace_id: uuid.UUID
    agent_id: uuid.UUID
    app_id: uuid.UUID
    #: What the task's workspace agent authenticates with (a UUID string, as Coder's).
    agent_token: str
    conversation: Conversation
    #: The workspace's builds, oldest first; the last one decides the task's status.
    builds: list[FakeBuild] = attrs.field(factory=list)
    deleted: bool = False
    #: The live conversation when the task was deleted (what ``entries`` shows then).
    final_entries: list[dict[str, Any]] = attrs.field(factory=list, repr=False)
    #: The task app turned unhealthy at this time (status ``error``; the view freezes).
    error_t: float | None = None
    #: ``(time, app status state, message)`` the agent reported explicitly, if any.
    report: tuple[float, str, str] | None = None
    #: ``current_state`` as it was when the latest stop build began.
    frozen_state: dict[str, Any] | None = None
    #: AgentAPI messages stored by a pause or uploaded by the agent, and when.
    snapshot: list[dict[str, Any]] | None = None
    snapshot_t: float | None = None
    #: Bumped on every change that is not a pure function of time (cache key).
    rev: int = 0
    #: ``(rev, valid_from, valid_until, encoded Task JSON)``.
    wire_cache: tuple[int, float, float, bytes] | None = attrs.field(default=None, repr=False)
    _state: State = attrs.field(repr=False, alias="state_")

    @property
    def template_version_id(self) -> uuid.UUID:
        """The template version the task was created from."""
        return self.version.id

    @property
    def template(self) -> FakeTemplate:
        """The template of :attr:`template_version_id`."""
        return self.version.template

    @property
    def latest_build(self) -> FakeBuild:
        """The workspace's newest build."""
        return self.builds[-1]

    @property
    def build_number(self) -> int:
        """The newest build's number (1 after create, +1 for every pause, resume, ...)."""
        return self.builds[-1].number

    # -- live views for tests ------------------------------------------------
    @property
    def status(self) -> str:
        """TaskStatus at the clock's current time."""
        return self._state.view.status(self, self._state.clock.now())

    @property
    def state(self) -> str | None:
        """``current_state.state`` now, or ``None``."""
        cs = self._state.view.current_state(self, self._state.clock.now())
        return None if cs is None else str(cs["state"])

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The live conversation now, or when the task was deleted (empty unless the
        agent was up)."""
        if self.deleted:
            return self.final_entries
        now = self._state.clock.now()
        if self._state.view.status(self, now) not in ("active", "error"):
            return []
        return self._state.view.log_entries(self, now)

    def view_time(self, now: float) -> float:
        """The time the task's observable state is frozen at (app unhealthy) or ``now``."""
        return now if self.error_t is None else min(now, self.error_t)


class State:
    """All users, templates, tasks and builds of one fake server."""

    def __init__(
        self, clock: WallClock, wall0: datetime, timings: Timings, profile: Profile, seed: int
    ) -> None:
        from ._view import View  # the view reads State; State hands it out

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
        self.builds: dict[uuid.UUID, tuple[FakeTask, FakeBuild]] = {}
        self.by_agent_token: dict[str, FakeTask] = {}
        self.created: list[uuid.UUID] = []
        #: Builds created while this is true wait in the queue (``FakeCoder.hold_builds``).
        self.hold_new_builds = False
        self.organization_id: uuid.UUID = self.new_id()
        self.organization_name = "coder"
        self.template_id: uuid.UUID = self.new_id()
        self.template_version_id: uuid.UUID = self.new_id()
        self.template_version_id_no_ai: uuid.UUID = self.new_id()
        self.preset_id: uuid.UUID = self.new_id()
        self.templates: TemplateCatalog = TemplateCatalog(self.new_id)
        template = self.templates.add(
            "claude-code-agent",
            organization_id=self.organization_id,
            organization_name=self.organization_name,
            versions={"v1": self.template_version_id, "plain": self.template_version_id_no_ai},
            active_version="v1",
            template_id=self.template_id,
            display_name="Claude Code",
            icon="/icon/claude.svg",
        )
        template.versions["plain"].has_ai_task = False
        self.templates.add_preset(
            self.template_version_id, "Default", default=True, preset_id=self.preset_id
        )
        self.view: View = View(self)

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
        """A UUID is looked up by id (the path user is not checked); from v2.29 a UUID that
        is no task's id, or any other text, is a name in ``path_user``'s tasks."""
        try:
            task_id = uuid.UUID(ref)
        except ValueError:
            pass
        else:
            task = self.tasks.get(task_id)
            if task is not None and not task.deleted:
                return task
            if not self.profile.has("names_in_path"):
                return None
        return self._by_name.get((path_user.id, ref.lower()))

    def name_taken(self, owner: FakeUser, name: str) -> bool:
        """Names are unique per owner among non-deleted tasks, ignoring case."""
        return (owner.id, name.lower()) in self._by_name

    def live_tasks(self) -> Iterator[FakeTask]:
        """Non-deleted tasks, newest first."""
        for tid in reversed(self.created):
            task = self.tasks[tid]
            if not task.deleted:
                yield task

    def _names_for(self, owner: FakeUser, prompt: str) -> tuple[str, str]:
        """A free generated name and its display name, as the release makes them."""
        while True:
            if not self.profile.has("display_name"):
                name = generate_name(self._names, prefix=True)
                display = ""
            else:
                name, display = names_from_prompt(prompt, self._names)
            if not self.name_taken(owner, name):
                return name, display

    def create_task(
        self,
        owner: FakeUser,
        prompt: str,
        name: str | None,
        display_name: str | None,
        *,
        version: FakeVersion | None = None,
        initiator: FakeUser | None = None,
    ) -> FakeTask:
        """Insert a task and its first (start) build, which is queued now."""
        generated_name, generated_display = "", ""
        if not name or not display_name:
            generated_name, generated_display = self._names_for(owner, prompt)
        name = name or generated_name
        display_name = display_name or generated_display
        found = self.templates.version(self.template_version_id)
        version = version or found
        assert version is not None
        now = self.clock.now()
        task = FakeTask(
            id=self.new_id(),
            name=name,
            display_name=display_name,
            owner=owner,
            prompt=prompt,
            version=version,
            created_t=now,
            workspace_id=self.new_id(),
            agent_id=self.new_id(),
            app_id=self.new_id(),
            agent_token=str(self.new_id()),
            conversation=Conversation(now, self.timings, name, prompt),
            state_=self,
        )
        self.tasks[task.id] = task
        self._by_name[(owner.id, name.lower())] = task
        self.by_agent_token[task.agent_token] = task
        self.created.append(task.id)
        self._build(task, "start", "initiator", initiator or owner)
        return task

    def _build(
        self, task: FakeTask, transition: str, reason: str, initiator: FakeUser
    ) -> FakeBuild:
        """Start a new build of ``task``'s workspace now (the caller checked none is active)."""
        t = self.timings
        now = self.clock.now()
        start = transition == "start"
        build = FakeBuild(
            id=self.new_id(),
            job_id=self.new_id(),
            number=len(task.builds) + 1,
            transition=transition,
            reason=reason,
            initiator=initiator,
            template_version_id=task.template_version_id,
            created_t=now,
            queued=t.pending if start else 0.0,
            duration=t.start_job if start else t.stop_job,
            held="pending" if self.hold_new_builds else None,
        )
        task.builds.append(build)
        self.builds[build.id] = (task, build)
        task.rev += 1
        if start:
            task.error_t = None
            task.report = None
            task.frozen_state = None
            task.conversation.rebase(self.view.agent_up_t(task))
        return build

    def delete_task(self, task: FakeTask, actor: FakeUser | None = None) -> None:
        """A delete build, and the task is gone from lookups and lists at once (still
        reachable via ``fake.task``)."""
        task.final_entries = task.entries
        now = self.clock.now()
        if task.builds and not task.latest_build.active(now):
            self._build(task, "delete", "initiator", actor or task.owner)
        task.deleted = True
        self._by_name.pop((task.owner.id, task.name.lower()), None)
        self.by_agent_token.pop(task.agent_token, None)

    def send_input(self, task: FakeTask, text: str, now: float) -> None:
        """Deliver ``text`` to the agent: a new input message and a reply that starts growing."""
        task.conversation.send(text, now)
        task.rev += 1

    def update(self, task: FakeTask, **fields: Any) -> None:
        """Change fields of ``task`` (``prompt=``, ``name=``, ``snapshot=``, …) as one
        change of the fake's world: the lookups by name and by agent token follow, and
        ``rev`` moves so that cached views are built anew.  A handler that changes a task
        calls this instead of setting fields, so it never has to know the indexes.

        Example::

            state.update(task, name="fix-login-2", display_name="Fix login (2)")
        """
        fixed = _KEPT_BY_STATE.intersection(fields)
        if fixed:
            raise ValueError(
                f"State.update cannot change {', '.join(sorted(fixed))}: other tables hold "
                "them (use the State method that does, e.g. delete_task)"
            )
        name_key = (task.owner.id, task.name.lower())
        new_key = (task.owner.id, str(fields.get("name", task.name)).lower())
        holder = self._by_name.get(new_key)
        if not task.deleted and holder is not None and holder is not task:
            raise ValueError(f"task name {fields['name']!r} is taken by another task of its owner")
        agent_token = task.agent_token
        for field, value in fields.items():
            setattr(task, field, value)
        task.rev += 1
        if task.deleted:  # a deleted task is in neither index
            return
        if (task.owner.id, task.name.lower()) != name_key:
            self._by_name.pop(name_key, None)
            self._by_name[(task.owner.id, task.name.lower())] = task
        if task.agent_token != agent_token:
            self.by_agent_token.pop(agent_token, None)
            self.by_agent_token[task.agent_token] = task

    def pause(self, task: FakeTask, initiator: FakeUser, reason: str) -> FakeBuild:
        """A stop build: the agent uploads the tail of the conversation as it shuts down,
        and ``current_state`` keeps the agent's last report."""
        now = self.clock.now()
        status = self.view.status(task, now)
        if status in ("active", "error"):
            entries = self.view.log_entries(task, now)[-_SNAPSHOT_MESSAGES:]
            task.snapshot = [_as_message(e) for e in entries]
            task.snapshot_t = now
        task.frozen_state = self.view.current_state(task, now)
        build = self._build(task, "stop", reason, initiator)
        task.error_t = None
        return build

    def resume(self, task: FakeTask, initiator: FakeUser, reason: str) -> FakeBuild:
        """A start build: pending → initializing → active with a fresh AgentAPI (ids from 0)."""
        task.agent_id = self.new_id()
        task.app_id = self.new_id()
        task.conversation = Conversation(self.clock.now(), self.timings, task.name)
        return self._build(task, "start", reason, initiator)

    def release_build(self, task: FakeTask, outcome: str) -> FakeBuild:
        """End the task's newest build now with ``outcome`` (a test's control)."""
        build = task.latest_build
        build.release(self.clock.now(), outcome)
        task.rev += 1
        if build.transition == "start":
            task.conversation.rebase(self.view.agent_up_t(task))
        return build

    def report_state(self, task: FakeTask, state: str, message: str) -> None:
        """The agent reports an app status now: ``working``, ``idle``, ``complete``, ``failure``."""
        self.update(task, report=(self.clock.now(), state, message))

    def set_error(self, task: FakeTask) -> None:
        """Make the task's status ``error`` (app unhealthy); the view freezes at this moment."""
        self.update(task, error_t=self.clock.now())

    def restart_agent(self, task: FakeTask) -> None:
        """AgentAPI restarted: a new conversation with only the initial screen, ids from 0."""
        task.rev += 1
        base = max(self.clock.now(), self.view.agent_up_t(task))
        task.conversation = Conversation(base, self.timings, task.name)


#: Fields of a task that tables other than the name and agent-token lookups hold (ids,
#: builds, the owner's index): ``State.update`` refuses them rather than leave one stale.
_KEPT_BY_STATE = frozenset({"id", "owner", "deleted", "builds"})


def _as_message(entry: dict[str, Any]) -> dict[str, Any]:
    """A log entry as the AgentAPI message the agent would upload."""
    role = "user" if entry["type"] == "input" else "agent"
    return {"id": entry["id"], "content": entry["content"], "role": role, "time": entry["time"]}
