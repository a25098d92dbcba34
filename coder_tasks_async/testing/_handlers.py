"""Route table and endpoint handlers: pure functions from a parsed request to a :class:`Reply`.

No aiohttp here; :mod:`._server` does the socket side (auth headers, faults,
rate limiting, recording).  Status codes and message strings follow
docs/compatibility.md §3–6 to the character.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from ._jsonio import Reply, empty, error, format_ns, json_reply
from ._names import name_error
from ._profile import Profile
from ._query import KNOWN_KEYS, parse
from ._reqbody import read_body
from ._state import FakeTask, FakeUser, State

__all__ = ["Api", "Match", "match_route"]

NOT_FOUND = "Resource not found or you do not have access to this resource"
_BUILD_ACTIVE = "A workspace build is already active."
TASK_STATUSES = frozenset({"pending", "initializing", "active", "paused", "unknown", "error"})
_TREES = {("api", "experimental", "tasks"): "experimental", ("api", "v2", "tasks"): "v2"}
# (number of path segments after /tasks, last literal or None, method) → route name
_ROUTES: dict[tuple[int, str | None], dict[str, str]] = {
    (0, None): {"GET": "list"},
    (1, None): {"POST": "create"},
    (2, None): {"GET": "get", "DELETE": "delete"},
    (3, "send"): {"POST": "send"},
    (3, "logs"): {"GET": "logs"},
    (3, "input"): {"PATCH": "update_input"},
    (3, "pause"): {"POST": "pause"},
    (3, "resume"): {"POST": "resume"},
}
_PATTERNS = {
    "list": "/tasks",
    "create": "/tasks/{user}",
    "get": "/tasks/{user}/{task}",
    "delete": "/tasks/{user}/{task}",
    "send": "/tasks/{user}/{task}/send",
    "logs": "/tasks/{user}/{task}/logs",
    "update_input": "/tasks/{user}/{task}/input",
    "pause": "/tasks/{user}/{task}/pause",
    "resume": "/tasks/{user}/{task}/resume",
}


@attrs.define(frozen=True, slots=True)
class Match:
    """A routed request: route name, route pattern and path params."""

    route: str
    pattern: str
    params: tuple[str, ...]


def match_route(segments: list[str], method: str, profile: Profile) -> Match | Reply:
    """Route decoded path segments (without the leading empty one) like coderd's chi tree."""
    tree = _TREES.get(tuple(segments[:3]))  # type: ignore[arg-type]
    if tree is None or (tree == "v2" and not profile.stable_tree):
        return error(404, "Route not found.")
    rest = segments[3:]
    if rest == [""]:
        rest = []  # "/tasks/" is served like "/tasks"
    if any(not s for s in rest):
        return error(404, "Route not found.")
    last = rest[2] if len(rest) == 3 else None
    methods = _ROUTES.get((len(rest), last))
    if methods is None:
        return error(404, "Route not found.")
    available = {verb: route for verb, route in methods.items() if _route_exists(route, profile)}
    if not available:
        return error(404, "Route not found.")
    name = available.get(method)
    if name is None:
        return error(405, "Method not allowed.")
    prefix = "/api/experimental" if tree == "experimental" else "/api/v2"
    return Match(name, prefix + _PATTERNS[name], tuple(rest[:2]))


def _route_exists(route: str, profile: Profile) -> bool:
    if route in ("delete", "send", "logs"):
        return profile.delete_send_logs
    if route == "update_input":
        return profile.update_input
    if route in ("pause", "resume"):
        return profile.pause_resume
    return True


def _invalid_uuid(text: str) -> Reply | None:
    """Before v2.29 ``{task}`` must be a UUID: coderd's ``ParseUUIDParam`` refusal."""
    if len(text) not in (32, 36, 38, 45):
        why = f"invalid UUID length: {len(text)}"
    else:
        try:
            uuid.UUID(text)
            return None
        except ValueError:
            why = "invalid UUID format"
    return error(400, f'Invalid UUID "{text}".', why)


Delivery = tuple[uuid.UUID, str, datetime]


class Api:
    """Endpoint logic over a :class:`State`."""

    def __init__(
        self, state: State, deliveries: list[Delivery], wall: Callable[[float], datetime]
    ) -> None:
        self.state = state
        self.deliveries = deliveries
        self._wall = wall
        p = state.profile
        self._dispatch: dict[str, Callable[[FakeUser, FakeTask, bytes], Reply]] = {
            "get": self._get,
        }
        if p.delete_send_logs:
            self._dispatch.update(delete=self._delete, send=self._send, logs=self._logs)
        if p.update_input:
            self._dispatch["update_input"] = self._update_input
        if p.pause_resume:
            self._dispatch["pause"] = self._pause
            self._dispatch["resume"] = self._resume

    def handle(self, m: Match, actor: FakeUser, query: dict[str, str], body: bytes) -> Reply:
        """Run the handler for ``m`` as ``actor``."""
        if m.route == "list":
            return self._list(actor, query.get("q", ""))
        user = self.state.resolve_user(m.params[0], actor)
        if user is None:
            return error(400, '"user" must be an existing uuid or username.')
        if m.route == "create":
            return self._create(actor, user, body)
        if not self.state.profile.names_in_path and (bad := _invalid_uuid(m.params[1])):
            return bad
        task = self.state.find_task(m.params[1], user)
        if task is None or not (actor.is_owner or task.owner is actor):
            return error(404, NOT_FOUND)
        return self._dispatch[m.route](actor, task, body)

    # -- list ----------------------------------------------------------------
    def _list(self, actor: FakeUser, q: str) -> Reply:
        st = self.state
        values, order, errs = parse(q)
        if errs:
            return error(400, "Invalid task search query.", validations=errs)
        validations: list[dict[str, str]] = []
        owner_id: uuid.UUID | None = None
        org_id: uuid.UUID | None = None
        if owner := values.get("owner", ""):
            user = st.resolve_user(owner, actor)
            if user is None:
                try:
                    user_id: uuid.UUID | None = uuid.UUID(owner)
                except ValueError:
                    user_id = None
                    validations.append(
                        _invalid(
                            "owner",
                            f'user "{owner}" either does not exist, '
                            "or you are unauthorized to view them",
                        )
                    )
                owner_id = user_id
            else:
                owner_id = user.id
        if org := values.get("organization", ""):
            try:
                org_id = uuid.UUID(org)
            except ValueError:
                if org == st.organization_name:
                    org_id = st.organization_id
                else:
                    validations.append(
                        _invalid(
                            "organization",
                            f'organization "{org}" either does not exist, '
                            "or you are unauthorized to view it",
                        )
                    )
        validations += [
            {"field": k, "detail": f'"{k}" is not a valid query param'}
            for k in order
            if k not in KNOWN_KEYS
        ]
        if validations:
            return error(400, "Invalid task search query.", validations=validations)
        status = values.get("status", "")
        if status and status not in TASK_STATUSES:
            detail = f'pq: invalid input value for enum task_status: "{status}"'
            return error(500, "Internal error fetching tasks.", detail)
        now = st.clock.now()
        tasks: list[bytes] = []
        for task in st.live_tasks():
            if not (actor.is_owner or task.owner is actor):
                continue
            if owner_id is not None and task.owner.id != owner_id:
                continue
            if org_id is not None and org_id != st.organization_id:
                continue
            if status and st.status_of(task, now) != status:
                continue
            tasks.append(st.wire_bytes(task, now))
        # Spliced from per-task cached encodings: listing is polled as hard as get.
        body = b'{"tasks":[' + b",".join(tasks) + b'],"count":%d}\n' % len(tasks)
        return Reply(200, body)

    # -- create --------------------------------------------------------------
    def _create(self, actor: FakeUser, user: FakeUser, body: bytes) -> Reply:
        st = self.state
        prompt_field = st.profile.prompt_field
        fields = {
            "template_version_id": "uuid",
            "template_version_preset_id": "uuid",
            prompt_field: "string",
            "name": "string",
        }
        if st.profile.display_name:
            fields["display_name"] = "string"
        req = read_body(body, "codersdk.CreateTaskRequest", fields)
        if isinstance(req, Reply):
            return req
        # The order of checks is coderd's: template version, AI-task resource,
        # name, display name; presets are not checked by the task handler.
        tv = req.get("template_version_id", uuid.UUID(int=0))
        if tv not in (st.template_version_id, st.template_version_id_no_ai):
            return error(
                400, "Template version not found or you do not have access to this resource"
            )
        if tv == st.template_version_id_no_ai:
            return error(400, 'Template does not have a valid "coder_ai_task" resource.')
        name = req.get("name", "")
        if name and (problem := name_error(name)):
            return error(400, "Unable to create a Task with the provided name.", problem)
        display_name = req.get("display_name", "").strip()
        if len(display_name) > 64:
            return error(400, "Display name must be 64 characters or less.")
        if user is not actor and not actor.is_owner:
            return error(
                403, "Forbidden.", "Insufficient permissions to create a task for this user."
            )
        if name and st.name_taken(user, name):
            return error(
                409,
                f'Workspace "{name}" already exists.',
                validations=[
                    {
                        "field": "name",
                        "detail": "This value is already in use and should be unique.",
                    }
                ],
            )
        task = st.create_task(user, req.get(prompt_field, ""), name or None, display_name or None)
        return Reply(201, st.wire_bytes(task, st.clock.now()) + b"\n")

    # -- single task ---------------------------------------------------------
    def _get(self, actor: FakeUser, task: FakeTask, body: bytes) -> Reply:
        return Reply(200, self.state.wire_bytes(task, self.state.clock.now()) + b"\n")

    def _delete(self, actor: FakeUser, task: FakeTask, body: bytes) -> Reply:
        st = self.state
        if st.build_running(task, st.clock.now()):
            return error(409, _BUILD_ACTIVE)
        st.delete_task(task)
        return empty(202)

    def _not_active(self, status: str, *, logs: bool) -> Reply | None:
        """The refusal for a non-active task, per era; ``None`` if the task is active."""
        if status == "active":
            return None
        if not self.state.profile.pause_resume:
            return error(
                400,
                "Task status must be active.",
                f'Task status is "{status}", it must be "active" to interact with the task.',
            )
        if logs:
            return error(
                409, "Cannot fetch logs for task in current state.", f'Task status is "{status}".'
            )
        if status in ("pending", "initializing"):
            return error(
                409,
                f"Task is {status}.",
                "The task is resuming. Wait for the task to become active before sending messages.",
            )
        if status == "paused":
            return error(409, "Task is paused.", "Resume the task to send messages.")
        return error(400, "Task must be active.")

    def _send(self, actor: FakeUser, task: FakeTask, body: bytes) -> Reply:
        st = self.state
        req = read_body(body, "codersdk.TaskSendRequest", {"input": "string"})
        if isinstance(req, Reply):
            return req
        text = req.get("input", "")
        if text == "":  # coderd does not trim: whitespace reaches the agent
            return error(400, "Task input is required.")
        now = st.clock.now()
        refusal = self._not_active(st.status_of(task, now), logs=False)
        if refusal is not None:
            return refusal
        if st.agent_busy(task, now):
            code = 409 if st.profile.busy_is_conflict else 502
            return error(code, "Task app is not ready to accept input.", "Status: running")
        st.send_input(task, text, now)
        self.deliveries.append((task.id, text, self._wall(now)))
        return empty(204)

    def _logs(self, actor: FakeUser, task: FakeTask, body: bytes) -> Reply:
        st = self.state
        now = st.clock.now()
        status = st.status_of(task, now)
        if st.profile.pause_resume and status in ("paused", "pending", "initializing"):
            out: dict[str, Any] = {"logs": task.snapshot or [], "snapshot": True}
            if task.snapshot_t is not None:
                out["snapshot_at"] = format_ns(st.wall_ns(task.snapshot_t))
            return json_reply(200, out)
        refusal = self._not_active(status, logs=True)
        if refusal is not None:
            return refusal
        return json_reply(200, {"logs": st.log_entries(task, now)})

    def _update_input(self, actor: FakeUser, task: FakeTask, body: bytes) -> Reply:
        st = self.state
        req = read_body(body, "codersdk.UpdateTaskInputRequest", {"input": "string"})
        if isinstance(req, Reply):
            return req
        text = req.get("input", "")
        if not text.strip():
            return error(400, "Task input is required.")
        if st.status_of(task, st.clock.now()) != "paused":
            return error(
                409,
                "Unable to update task input, task must be paused.",
                "Please stop the task's workspace before updating the input.",
            )
        st.update_prompt(task, text)
        return empty(204)

    def _pause(self, actor: FakeUser, task: FakeTask, body: bytes) -> Reply:
        st = self.state
        # No "already paused" check in coderd: a paused task just gets another stop build.
        if st.build_running(task, st.clock.now()):
            return error(409, _BUILD_ACTIVE)
        st.pause(task)
        return json_reply(202, {"workspace_build": self._build(actor, task, "stop")})

    def _resume(self, actor: FakeUser, task: FakeTask, body: bytes) -> Reply:
        st = self.state
        now = st.clock.now()
        if st.build_running(task, now):
            return error(409, _BUILD_ACTIVE)
        if st.workspace_running(task, now):
            return error(409, "Task workspace is already running.")
        st.resume(task)
        return json_reply(202, {"workspace_build": self._build(actor, task, "start")})

    def _build(self, actor: FakeUser, task: FakeTask, transition: str) -> dict[str, Any]:
        """A minimal ``codersdk.WorkspaceBuild`` for the pause/resume response."""
        st = self.state
        at = st.db_time(st.clock.now())
        return {
            "id": str(st.new_id()),
            "created_at": at,
            "updated_at": at,
            "workspace_id": str(task.workspace_id),
            "workspace_name": task.name,
            "workspace_owner_id": str(task.owner.id),
            "workspace_owner_name": task.owner.username,
            "template_version_id": str(task.template_version_id),
            "build_number": task.build_number,
            "transition": transition,
            "initiator_id": str(actor.id),
            "initiator_name": actor.username,
            "status": "pending",
            "reason": "task_manual_pause" if transition == "stop" else "task_resume",
        }


def _invalid(param: str, why: str) -> dict[str, str]:
    return {"field": param, "detail": f'Query param "{param}" has invalid value: {why}'}
