"""Handlers of the routes outside the tasks trees: templates, presets, workspace builds,
the agent's log snapshot upload and the workspace watch streams (see :mod:`._routes`).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from ._builds import FakeBuild
from ._jsonio import Reply, empty, error, format_ns, go_quote, json_reply
from ._query import QueryParams, terms

if TYPE_CHECKING:
    from ._state import FakeTask, FakeUser, State

__all__ = [
    "NOT_FOUND",
    "Call",
    "ResourceHandlers",
    "Stream",
    "invalid_uuid",
    "snapshot_logs",
]

NOT_FOUND = "Resource not found or you do not have access to this resource"
#: The agent's snapshot upload reads at most this much (``http.MaxBytesReader``).
SNAPSHOT_MAX_BYTES = 64 * 1024
#: Keys coderd's template search knows; the fake filters on a few, accepts the rest.
_TEMPLATE_KEYS = (
    "deleted", "exact_display_name", "display_name", "ids", "deprecated", "author_id",
    "author", "has_external_agent",
)  # fmt: skip


@attrs.define(frozen=True, slots=True)
class Call:
    """One routed request: who asks (a user, or a task's agent), the path's ``{params}``,
    the query (first value per key, and every value) and the body."""

    actor: FakeUser | None
    params: dict[str, str]
    query: dict[str, str]
    body: bytes
    agent_task: FakeTask | None = None
    query_all: dict[str, list[str]] = attrs.field(factory=dict)


@attrs.define(frozen=True, slots=True)
class Stream:
    """A handler's answer that is a long-lived stream: the server serves it."""

    task: FakeTask
    mode: str


def uuid_problem(text: str) -> str | None:
    """google/uuid's ``Parse`` error for ``text``, or ``None`` when it is a UUID."""
    if len(text) not in (32, 36, 38, 45):
        return f"invalid UUID length: {len(text)}"
    try:
        uuid.UUID(text)
    except ValueError:
        return "invalid UUID format"
    return None


def invalid_uuid(text: str) -> Reply | None:
    """coderd's ``ParseUUIDParam`` refusal of a path parameter that is no UUID."""
    why = uuid_problem(text)
    return None if why is None else error(400, f"Invalid UUID {go_quote(text)}.", why)


def snapshot_logs(task: FakeTask, state: State) -> Reply:
    """The logs of a task that is not running: the stored snapshot (v2.31.1+)."""
    if task.snapshot is None:
        return json_reply(200, {"logs": [], "snapshot": True})
    logs: list[dict[str, Any]] = []
    for message in task.snapshot:
        role = message.get("role")
        if role not in ("user", "agent"):
            detail = f"invalid agentapi message role {go_quote(str(role))}"
            return error(500, "Invalid snapshot data.", detail)
        logs.append(
            {
                "id": message.get("id", 0),
                "content": message.get("content", ""),
                "type": "input" if role == "user" else "output",
                "time": message.get("time", "0001-01-01T00:00:00Z"),
            }
        )
    out: dict[str, Any] = {"logs": logs, "snapshot": True}
    if task.snapshot_t is not None:
        out["snapshot_at"] = format_ns(state.wall_ns(task.snapshot_t))
    return json_reply(200, out)


class ResourceHandlers:
    """The handlers of the routes outside the tasks trees (mixed into ``Api``)."""

    state: State

    def _can_see(self, actor: FakeUser | None, task: FakeTask) -> bool:
        return actor is not None and (actor.is_owner or task.owner is actor)

    def build_json(self, task: FakeTask, build: FakeBuild) -> dict[str, Any]:
        """``codersdk.WorkspaceBuild`` of ``build`` now."""
        st = self.state
        return build.json(
            st.clock.now(),
            db_time=st.db_time,
            workspace_id=task.workspace_id,
            workspace_name=task.name,
            owner=task.owner,
            organization_id=task.template.organization_id,
        )

    # -- templates ---------------------------------------------------------------
    def list_templates(self, call: Call) -> Reply:
        """``GET /api/v2/templates?q=…``: the search keys ``has-ai-task``, ``organization``,
        ``exact_name`` and ``name`` filter; coderd's other keys are accepted and ignored."""
        values, errs = terms(call.query.get("q", ""), "display_name")
        if errs:
            return error(400, "Invalid template search query.", validations=errs)
        params = QueryParams(values)
        ai = params.boolean("has-ai-task")
        organization = params.one("organization")
        exact = params.one("exact_name")
        fuzzy = params.one("name")
        params.accept(*_TEMPLATE_KEYS)
        params.excess()
        if params.errors:
            return error(400, "Invalid template search query.", validations=params.errors)
        found = []
        for t in self.state.templates.search(ai):
            if organization and organization not in (t.organization_name, str(t.organization_id)):
                continue
            if exact and t.name.lower() != exact:
                continue
            if fuzzy and fuzzy not in t.name.lower():
                continue
            found.append(t.json())
        return json_reply(200, found)

    def get_template_version(self, call: Call) -> Reply:
        """``GET /api/v2/templates/{template}/versions/{name}``."""
        template_id = call.params["template"]
        if bad := invalid_uuid(template_id):
            return bad
        template = next(
            (t for t in self.state.templates.templates if t.id == uuid.UUID(template_id)), None
        )
        if template is None:
            return error(404, NOT_FOUND)
        name = call.params["version"]
        version = template.versions.get(name)
        if version is None:
            return error(
                404, f"No template version found by name {go_quote(name)}.", "sql: no rows"
            )
        return json_reply(200, version.json())

    def list_presets(self, call: Call) -> Reply:
        """``GET /api/v2/templateversions/{id}/presets``: ``null`` when there are none."""
        if bad := invalid_uuid(call.params["version"]):
            return bad
        version = self.state.templates.version(uuid.UUID(call.params["version"]))
        if version is None:
            return error(404, NOT_FOUND)
        return json_reply(200, [p.json() for p in version.presets] or None)

    # -- builds ------------------------------------------------------------------
    def get_build(self, call: Call) -> Reply:
        """``GET /api/v2/workspacebuilds/{id}``: what ``coder task pause`` watches."""
        if bad := invalid_uuid(call.params["build"]):
            return bad
        found = self.state.builds.get(uuid.UUID(call.params["build"]))
        if found is None or not self._can_see(call.actor, found[0]):
            return error(404, NOT_FOUND)
        return json_reply(200, self.build_json(*found))

    # -- the agent's snapshot upload -----------------------------------------------
    def upload_snapshot(self, call: Call) -> Reply:
        """``POST /api/v2/workspaceagents/me/tasks/{task}/log-snapshot?format=agentapi``."""
        if why := uuid_problem(call.params["task"]):
            return error(400, "Invalid task ID format.", why)
        task_id = uuid.UUID(call.params["task"])
        formats = call.query_all.get("format", [])
        problems = []
        if not formats or not formats[0]:
            detail = 'Query param "format" is required and cannot be empty'
            problems.append({"field": "format", "detail": detail})
        problems += [
            {"field": k, "detail": f"{go_quote(k)} is not a valid query param"}
            for k in call.query_all
            if k != "format"
        ]
        if problems:
            return error(400, "Invalid query parameters.", validations=problems)
        if formats[0] != "agentapi":
            detail = f'Only "agentapi" format is currently supported, got {go_quote(formats[0])}.'
            return error(400, "Invalid format parameter.", detail)
        task = self.state.tasks.get(task_id)
        if task is None or task.deleted or task is not call.agent_task:
            return error(404, NOT_FOUND)
        messages = _agentapi_messages(call.body)
        if isinstance(messages, Reply):
            return messages
        # Last write wins.
        self.state.update(task, snapshot=messages, snapshot_t=self.state.clock.now())
        return empty(204)

    # -- the workspace watch ---------------------------------------------------------
    def watch(self, call: Call) -> Reply | Stream:
        """``GET /api/v2/workspaces/{id}/watch(-ws)``: the server streams the workspace."""
        try:
            workspace_id = uuid.UUID(call.params["workspace"])
        except ValueError:
            return error(404, NOT_FOUND)
        for task in self.state.live_tasks():
            if task.workspace_id == workspace_id and self._can_see(call.actor, task):
                return Stream(task, call.params["mode"])
        return error(404, NOT_FOUND)


def _agentapi_messages(body: bytes) -> list[dict[str, Any]] | Reply:
    """An AgentAPI ``GetMessagesResponse`` body, read as coderd reads it (64 KB at most)."""
    if len(body) > SNAPSHOT_MAX_BYTES:
        return error(400, "Failed to decode request payload.", "http: request body too large")
    try:
        payload, _ = json.JSONDecoder().raw_decode(body.decode().lstrip())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return error(400, "Failed to decode request payload.", str(exc))
    if not isinstance(payload, dict):
        return error(400, "Failed to decode request payload.", "json: cannot unmarshal")
    messages = payload.get("messages")
    if not isinstance(messages, list):
        detail = 'Missing required "messages" field.'
        return error(400, "Invalid agentapi payload structure.", detail)
    return [m for m in messages if isinstance(m, dict)]
