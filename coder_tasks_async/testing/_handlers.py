"""Endpoint handlers: pure functions from a routed, authenticated request to a :class:`Reply`.

No aiohttp here; :mod:`._server` does the socket side (auth headers, faults, rate
limiting, recording) and finds the handler through the route table (:mod:`._routes`).
Status codes and message strings follow docs/compatibility.md §3–6 to the character.
This module holds the task routes; :mod:`._resources` the others.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import datetime

from ._jsonio import Reply, empty, error, go_quote, json_reply
from ._names import display_name_error, name_error
from ._query import QueryParams, terms
from ._reqbody import read_body
from ._resources import NOT_FOUND, Call, ResourceHandlers, invalid_uuid, snapshot_logs
from ._routes import Match
from ._state import FakeTask, FakeUser, State

__all__ = ["Api", "Call", "Delivery"]

_BUILD_ACTIVE = "A workspace build is already active."
TASK_STATUSES = frozenset({"pending", "initializing", "active", "paused", "unknown", "error"})
_CANNOT_CREATE = (
    "You are unable to create a workspace in this organization. It is possible to have "
    "access to the template, but not be able to create a workspace. Please contact an "
    "administrator about your permissions if you feel this is an error."
)

Delivery = tuple[uuid.UUID, str, datetime]


def _build_active() -> Reply:
    # wsbuilder's BuildError: the detail is the wrapped error, the same text.
    return error(409, _BUILD_ACTIVE, _BUILD_ACTIVE)


def _of_task(handler: Callable[[Api, Call, FakeTask], Reply]) -> Callable[[Api, Call], Reply]:
    """A handler of one task's route: ``{user}`` and ``{task}`` are resolved first (a
    refusal is answered as coderd answers it), then ``handler(self, call, task)`` runs."""

    @functools.wraps(handler)
    def handle(self: Api, call: Call) -> Reply:
        task = self._task(call)
        if isinstance(task, Reply):
            return task
        return handler(self, call, task)

    return handle


class Api(ResourceHandlers):
    """Endpoint logic over a :class:`State`; one method per route of the table."""

    def __init__(
        self, state: State, deliveries: list[Delivery], wall: Callable[[float], datetime]
    ) -> None:
        self.state = state
        self.deliveries = deliveries
        self._wall = wall

    def handle(self, m: Match, actor: FakeUser, query: dict[str, str], body: bytes) -> Reply:
        """Run the handler of ``m`` as ``actor`` (a user route; for tests and the server)."""
        reply = getattr(self, m.route.handler)(Call(actor, m.params, query, body))
        assert isinstance(reply, Reply)
        return reply

    # -- path parameters --------------------------------------------------------
    def _user(self, call: Call) -> FakeUser | Reply:
        """``{user}`` as ExtractOrganizationMembersParam resolves it."""
        assert call.actor is not None
        user = self.state.resolve_user(call.params["user"], call.actor)
        if user is not None:
            return user
        if self.state.profile.has("unknown_user_404"):
            return error(404, NOT_FOUND)
        return error(
            400,
            '"user" must be an existing uuid or username.',
            f"queried user={go_quote(call.params['user'])}",
        )

    def _task(self, call: Call) -> FakeTask | Reply:
        """``{user}`` then ``{task}`` (ExtractTaskParam), and the caller's right to see it."""
        user = self._user(call)
        if isinstance(user, Reply):
            return user
        ref = call.params["task"]
        if not self.state.profile.has("names_in_path") and (bad := invalid_uuid(ref)):
            return bad
        task = self.state.find_task(ref, user)
        assert call.actor is not None
        if task is None or not (call.actor.is_owner or task.owner is call.actor):
            return error(404, NOT_FOUND)
        return task

    # -- list ----------------------------------------------------------------
    def list_tasks(self, call: Call) -> Reply:
        st = self.state
        actor = call.actor
        assert actor is not None
        values, errs = terms(call.query.get("q", ""), "owner")
        if errs:
            return error(400, "Invalid task search query.", validations=errs)
        params = QueryParams(values)
        owner_id = self._owner_filter(params, params.one("owner"), actor)
        org_id = self._org_filter(params, params.one("organization"))
        status = params.one("status")
        params.excess()
        if params.errors:
            return error(400, "Invalid task search query.", validations=params.errors)
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
            if org_id is not None and org_id != task.template.organization_id:
                continue
            if status and st.view.status(task, now) != status:
                continue
            tasks.append(st.view.wire_bytes(task, now))
        # Spliced from per-task cached encodings: listing is polled as hard as get.
        body = b'{"tasks":[' + b",".join(tasks) + b'],"count":%d}\n' % len(tasks)
        return Reply(200, body)

    def _owner_filter(self, params: QueryParams, owner: str, actor: FakeUser) -> uuid.UUID | None:
        if not owner:
            return None
        user = self.state.resolve_user(owner, actor)
        if user is not None:
            return user.id
        try:
            return uuid.UUID(owner)
        except ValueError:
            why = f'user "{owner}" either does not exist, or you are unauthorized to view them'
            params.invalid("owner", why)
            return None

    def _org_filter(self, params: QueryParams, org: str) -> uuid.UUID | None:
        if not org:
            return None
        try:
            return uuid.UUID(org)
        except ValueError:
            pass
        for template in self.state.templates.templates:
            if template.organization_name == org:
                return template.organization_id
        why = f'organization "{org}" either does not exist, or you are unauthorized to view it'
        params.invalid("organization", why)
        return None

    # -- create --------------------------------------------------------------
    def create_task(self, call: Call) -> Reply:
        st = self.state
        actor = call.actor
        assert actor is not None
        user = self._user(call)
        if isinstance(user, Reply):
            return user
        prompt_field = st.profile.prompt_field
        fields = {
            "template_version_id": "uuid",
            "template_version_preset_id": "uuid",
            prompt_field: "string",
            "name": "string",
        }
        if st.profile.has("display_name"):
            fields["display_name"] = "string"
        req = read_body(call.body, "codersdk.CreateTaskRequest", fields)
        if isinstance(req, Reply):
            return req
        # The order of checks is coderd's: template version, AI-task resource, name,
        # display name, permission, unique name; presets are not checked by the task handler.
        version = st.templates.version(req.get("template_version_id", uuid.UUID(int=0)))
        if version is None:
            return error(
                400, "Template version not found or you do not have access to this resource"
            )
        if not version.has_ai_task:
            return error(400, 'Template does not have a valid "coder_ai_task" resource.')
        name = req.get("name", "")
        if name and (problem := name_error(name)):
            return error(400, "Unable to create a Task with the provided name.", problem)
        display_name = req.get("display_name", "").strip()
        if problem := display_name_error(display_name):
            return error(400, problem)
        if user is not actor and not actor.is_owner:
            return error(403, "Unauthorized to create workspace.", _CANNOT_CREATE)
        if name and st.name_taken(user, name):
            return error(
                409,
                f"Workspace {go_quote(name)} already exists.",
                validations=[
                    {
                        "field": "name",
                        "detail": "This value is already in use and should be unique.",
                    }
                ],
            )
        task = st.create_task(
            user,
            req.get(prompt_field, ""),
            name or None,
            display_name or None,
            version=version,
            initiator=actor,
        )
        return Reply(201, st.view.wire_bytes(task, st.clock.now()) + b"\n")

    # -- single task ---------------------------------------------------------
    @_of_task
    def get_task(self, call: Call, task: FakeTask) -> Reply:
        return Reply(200, self.state.view.wire_bytes(task, self.state.clock.now()) + b"\n")

    @_of_task
    def delete_task(self, call: Call, task: FakeTask) -> Reply:
        st = self.state
        if st.view.build_active(task, st.clock.now()):
            return _build_active()
        st.delete_task(task, call.actor)
        return empty(202)

    def _not_active(self, status: str, *, logs: bool) -> Reply | None:
        """The refusal for a task that is not active, per era; ``None`` if it is active."""
        if status == "active":
            return None
        must = f'Task status is "{status}", it must be "active" to interact with the task.'
        if not self.state.profile.pause_resume:
            return error(400, "Task status must be active.", must)
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
        return error(400, "Task must be active.", must)

    @staticmethod
    def _input(call: Call, go_type: str) -> str | Reply:
        """The ``input`` of a request body of ``go_type``."""
        req = read_body(call.body, go_type, {"input": "string"})
        return req if isinstance(req, Reply) else str(req.get("input", ""))

    @_of_task
    def send_input(self, call: Call, task: FakeTask) -> Reply:
        text = self._input(call, "codersdk.TaskSendRequest")
        if isinstance(text, Reply):
            return text
        st = self.state
        if text == "":  # coderd does not trim: whitespace reaches the agent
            return error(400, "Task input is required.")
        now = st.clock.now()
        refusal = self._not_active(st.view.status(task, now), logs=False)
        if refusal is not None:
            return refusal
        if st.view.agent_busy(task, now):
            code = 409 if st.profile.has("busy_is_conflict") else 502
            return error(code, "Task app is not ready to accept input.", "Status: running")
        st.send_input(task, text, now)
        self.deliveries.append((task.id, text, self._wall(now)))
        return empty(204)

    @_of_task
    def get_logs(self, call: Call, task: FakeTask) -> Reply:
        st = self.state
        now = st.clock.now()
        status = st.view.status(task, now)
        if st.profile.pause_resume and status in ("paused", "pending", "initializing"):
            return snapshot_logs(task, st)
        refusal = self._not_active(status, logs=True)
        if refusal is not None:
            return refusal
        return json_reply(200, {"logs": st.view.log_entries(task, now)})

    @_of_task
    def update_input(self, call: Call, task: FakeTask) -> Reply:
        text = self._input(call, "codersdk.UpdateTaskInputRequest")
        if isinstance(text, Reply):
            return text
        st = self.state
        if not text.strip():
            return error(400, "Task input is required.")
        if st.view.status(task, st.clock.now()) != "paused":
            return error(
                409,
                "Unable to update task input, task must be paused.",
                "Please stop the task's workspace before updating the input.",
            )
        st.update(task, prompt=text)  # paused: no agent has the prompt yet
        return empty(204)

    @_of_task
    def pause_task(self, call: Call, task: FakeTask) -> Reply:
        st = self.state
        assert call.actor is not None
        # No "already paused" check in coderd: a paused task just gets another stop build.
        if st.view.build_active(task, st.clock.now()):
            return _build_active()
        build = st.pause(task, call.actor, "task_manual_pause")
        return json_reply(202, {"workspace_build": self.build_json(task, build)})

    @_of_task
    def resume_task(self, call: Call, task: FakeTask) -> Reply:
        st = self.state
        assert call.actor is not None
        now = st.clock.now()
        # coderd looks at the workspace's status first, then asks for a start build.
        ws_status = st.view.workspace_status(task, now)
        if ws_status == "running":
            return error(
                409,
                "Task workspace is already running.",
                f"Workspace status is {go_quote(ws_status)}.",
            )
        if st.view.build_active(task, now):
            return _build_active()
        build = st.resume(task, call.actor, "task_resume")
        return json_reply(202, {"workspace_build": self.build_json(task, build)})
