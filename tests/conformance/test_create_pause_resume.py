"""Ports of coderd/aitasks_test.go ``TestTasksCreate``, ``TestPauseTask``, ``TestResumeTask``
and ``TestPostWorkspaceAgentTaskSnapshot``."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from conformance_support import BUILD_ACTIVE, EXP, TIMINGS, Env, at, since

from coder_tasks_async import BadRequestError, ConflictError, NotFoundError, TaskStatus
from coder_tasks_async.testing._names import name_error

pytestmark = pytest.mark.anyio


# -- TestTasksCreate -------------------------------------------------------------------


@at("v2.26")
async def test_tasks_create_ok(env: Env) -> None:
    task = await env.create("Some task prompt")
    assert task["name"]
    assert task["template_id"] == str(env.fake.state.template_id)
    if env.profile.since("v2.28"):
        assert task["workspace_build_number"] == 1  # linked to its first build at once


CUSTOM_NAMES = [
    # name, task name, display name, fallback name?, fallback display name?, error, since
    ("ValidName", "a-valid-task-name", "", False, True, None, "v2.27"),
    ("NotValidName", "this is not a valid task name", "", False, False,
     "Unable to create a Task with the provided name.", "v2.27"),
    ("NoNameProvided", "", "A valid task display name", True, False, None, "v2.27"),
    ("ValidDisplayName", "", "A valid task display name", True, False, None, "v2.29"),
    ("NotValidDisplayName", "",
     "This is a task display name with a length greater than 64 characters.", False, False,
     "Display name must be 64 characters or less.", "v2.29"),
    ("NoDisplayNameProvided", "a-valid-task-name", "", False, True, None, "v2.29"),
    ("ValidNameAndDisplayName", "a-valid-task-name", "A valid task display name", False, False,
     None, "v2.29"),
    ("NoNameAndDisplayNameProvided", "", "", True, True, None, "v2.29"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "profile"),
    [pytest.param(row, p, id=f"{row[0]}-{p}") for row in CUSTOM_NAMES for p in since(row[6])],
)
async def test_tasks_create_custom_names(env: Env, case: tuple[Any, ...]) -> None:
    _, name, display, fallback_name, fallback_display, problem, _since = case
    body: dict[str, Any] = {"template_version_id": str(env.fake.template_version_id)}
    body[env.profile.prompt_field] = "Some prompt"
    if name:
        body["name"] = name
    if display:
        body["display_name"] = display
    status, task = await env.call("POST", f"{EXP}/me", body)
    if problem is not None:
        assert (status, task["message"]) == (400, problem)
        return
    assert status == 201
    assert name_error(task["name"]) is None  # generated names are valid names
    if not fallback_name:
        assert task["name"] == name
    if env.profile.since("v2.29"):
        assert task["display_name"]
        if not fallback_display:
            assert task["display_name"] == display


@at("v2.26")
async def test_tasks_create_fails_on_non_task_template(env: Env) -> None:
    with pytest.raises(BadRequestError) as info:
        await env.sdk.create_task(
            "Some task prompt", template_version_id=env.fake.template_version_id_no_ai
        )
    assert info.value.status == 400


@at("v2.26")
async def test_tasks_create_fails_on_invalid_template(env: Env) -> None:
    with pytest.raises(BadRequestError):
        await env.sdk.create_task("Some task prompt", template_version_id=uuid.uuid4())


@at("v2.28")
async def test_tasks_create_task_table_created_and_linked(env: Env) -> None:
    task = await env.sdk.create_task(
        "Create a REST API", template_version_id=env.fake.template_version_id
    )
    fake_task = env.fake.task(task.id)
    assert (task.organization_id, task.owner_id) == (env.fake.organization_id, env.fake.user.id)
    assert task.workspace_id == fake_task.workspace_id
    assert task.template_version_id == env.fake.template_version_id
    assert task.initial_prompt == "Create a REST API"
    assert not fake_task.deleted


@at("v2.28")
async def test_tasks_create_task_with_custom_name(env: Env) -> None:
    task = await env.sdk.create_task(
        "Build a dashboard", template_version_id=env.fake.template_version_id, name="my-custom-task"
    )
    assert task.name == "my-custom-task" == env.fake.task(task.id).name


@at("v2.28")
async def test_tasks_create_multiple_tasks_for_same_user(env: Env) -> None:
    tv = env.fake.template_version_id
    one = await env.sdk.create_task("First task", template_version_id=tv, name="task-1")
    two = await env.sdk.create_task("Second task", template_version_id=tv, name="task-2")
    listed = await env.sdk.list_tasks(owner=env.fake.user.id)
    assert {one.id, two.id} <= {t.id for t in listed}


@at("v2.28")
async def test_tasks_create_task_linked_to_correct_template_version(env: Env) -> None:
    template = env.fake.templates.templates[0]
    version2 = env.fake.templates.add_version(template, "v2")  # not the active one
    task = await env.sdk.create_task("Use version 2", template_version_id=version2.id)
    assert task.template_version_id == version2.id


@at("v2.26")
async def test_any_template_version_with_an_ai_task_is_accepted(env: Env) -> None:
    other = env.fake.templates.add(
        "other-agent",
        organization_id=env.fake.organization_id,
        organization_name=env.fake.organization_name,
        versions={"v7": uuid.uuid4()},
        active_version="v7",
    )
    task = await env.sdk.create_task("x", template_version_id=other.versions["v7"].id)
    assert task.template_id == other.id and task.template_name == "other-agent"


@at("v2.26")
async def test_a_member_creating_for_another_member_is_forbidden(env: Env) -> None:
    env.fake.add_user("bob")
    status, body = await env.call(
        "POST", f"{EXP}/bob", {"template_version_id": str(env.fake.template_version_id)}
    )
    assert (status, body["message"]) == (403, "Unauthorized to create workspace.")
    assert body["detail"].startswith("You are unable to create a workspace")


@at("v2.26")
async def test_a_repeated_name_is_409_with_a_validation(env: Env) -> None:
    await env.create(name="taken")
    body = {"template_version_id": str(env.fake.template_version_id), "name": "taken"}
    status, data = await env.call("POST", f"{EXP}/me", body)
    assert (status, data["message"]) == (409, 'Workspace "taken" already exists.')
    assert data["validations"] == [
        {"field": "name", "detail": "This value is already in use and should be unique."}
    ]


# -- TestPauseTask ----------------------------------------------------------------------


@at("v2.31.1")
async def test_pause_task_ok(env: Env) -> None:
    created = await env.create("pause me")
    await env.idle(created)
    build = await env.sdk.pause_task(created["id"])
    assert build.transition == "stop"
    assert str(build.workspace_id) == created["workspace_id"]
    assert build.build_number == 1 + 1
    assert build.reason == "task_manual_pause"
    assert build.job is not None and not build.ended
    done = await env.sdk.wait_for_build(build)
    assert done.status == "stopped" and done.succeeded


@pytest.mark.parametrize(
    ("role", "expected"), [("org_member", 404), ("sitewide_member", 404), ("sitewide_admin", 202)]
)
@at("v2.31.1")
async def test_pause_task_non_owner_role_access(env: Env, role: str, expected: int) -> None:
    created = await env.create("pause me")
    await env.idle(created)
    other = env.fake.add_user(role.replace("_", "-"), owner=role == "sitewide_admin")
    status, body = await env.call("POST", f"{EXP}/me/{created['id']}/pause", token=other.token)
    assert status == expected
    if expected == 202:
        assert uuid.UUID(body["workspace_build"]["id"])


@at("v2.31.1")
async def test_pause_task_task_not_found(env: Env) -> None:
    with pytest.raises(NotFoundError):
        await env.sdk.pause_task(uuid.uuid4())


@at("v2.31.1")
async def test_pause_task_job_already_in_progress(env: Env) -> None:
    created = await env.create("pause me")
    env.clock.advance(TIMINGS.pending)  # the start job is running
    with pytest.raises(ConflictError) as info:
        await env.sdk.pause_task(created["id"])
    assert info.value.status == 409 and info.value.message == BUILD_ACTIVE


# -- TestResumeTask ---------------------------------------------------------------------


@at("v2.31.1")
async def test_resume_task_ok(env: Env) -> None:
    created = await env.create("resume me")
    await env.idle(created)
    await env.sdk.wait_for_build(await env.sdk.pause_task(created["id"]))
    build = await env.sdk.resume_task(created["id"])
    assert build.transition == "start"
    assert str(build.workspace_id) == created["workspace_id"]
    assert build.build_number == 1 + 2
    assert build.reason == "task_resume"
    done = await env.sdk.wait_for_build(build)
    assert done.status == "running"
    assert (await env.sdk.get_task(created["id"])).workspace_build_number == 3


@at("v2.31.1")
async def test_resume_task_a_task_that_is_not_paused(env: Env) -> None:
    created = await env.create()
    await env.idle(created)
    with pytest.raises(ConflictError) as info:
        await env.sdk.resume_task(created["id"])
    assert (info.value.message, info.value.detail) == (
        "Task workspace is already running.",
        'Workspace status is "running".',
    )


@at("v2.31.1")
async def test_resume_task_task_not_found(env: Env) -> None:
    with pytest.raises(NotFoundError):
        await env.sdk.resume_task(uuid.uuid4())


@at("v2.31.1")
async def test_resume_task_job_already_in_progress(env: Env) -> None:
    created = await env.create()
    env.clock.advance(TIMINGS.pending)  # "starting": not running, yet a build runs
    with pytest.raises(ConflictError) as info:
        await env.sdk.resume_task(created["id"])
    assert info.value.message == BUILD_ACTIVE


# -- TestPostWorkspaceAgentTaskSnapshot ----------------------------------------------------

SNAPSHOT_PATH = "/api/v2/workspaceagents/me/tasks/{}/log-snapshot"


def _payload(content: str) -> dict[str, Any]:
    message = {"id": 0, "role": "agent", "content": content, "time": "2025-01-01T00:00:00Z"}
    return {"messages": [message]}


async def _post_snapshot(
    env: Env,
    task_id: str,
    token: str,
    body: Any = None,
    fmt: str | None = "agentapi",
    raw_body: bytes | None = None,
) -> tuple[int, Any]:
    params = {"format": fmt} if fmt is not None else None
    return await env.call(
        "POST",
        SNAPSHOT_PATH.format(task_id),
        body if body is not None else _payload("test"),
        token=token,
        params=params,
        raw_body=raw_body,
    )


@at("v2.30")
async def test_post_snapshot_success(env: Env) -> None:
    task = await env.create()
    assert await _post_snapshot(env, task["id"], env.fake.agent_token(task["id"])) == (204, None)
    assert [m["content"] for m in env.fake.task(task["id"]).snapshot or []] == ["test"]


@at("v2.30")
async def test_post_snapshot_overwrite(env: Env) -> None:
    task = await env.create()
    token = env.fake.agent_token(task["id"])
    assert (await _post_snapshot(env, task["id"], token, _payload("first")))[0] == 204
    first_at = env.fake.task(task["id"]).snapshot_t
    env.clock.advance(1.0)
    assert (await _post_snapshot(env, task["id"], token, _payload("second")))[0] == 204
    stored = env.fake.task(task["id"])
    assert stored.snapshot_t is not None and first_at is not None and stored.snapshot_t > first_at
    assert [m["content"] for m in stored.snapshot or []] == ["second"]


@at("v2.30")
async def test_post_snapshot_missing_format(env: Env) -> None:
    task = await env.create()
    status, body = await _post_snapshot(env, task["id"], env.fake.agent_token(task["id"]), fmt=None)
    assert status == 400 and "Invalid query parameters" in body["message"]
    assert len(body["validations"]) == 1 and body["validations"][0]["field"] == "format"
    assert "required and cannot be empty" in body["validations"][0]["detail"]


@at("v2.30")
async def test_post_snapshot_invalid_format(env: Env) -> None:
    task = await env.create()
    token = env.fake.agent_token(task["id"])
    status, body = await _post_snapshot(env, task["id"], token, fmt="unknown")
    assert status == 400 and "Invalid format parameter" in body["message"]


@at("v2.30")
async def test_post_snapshot_payload_too_large(env: Env) -> None:
    task = await env.create()
    token = env.fake.agent_token(task["id"])
    status, _ = await _post_snapshot(env, task["id"], token, _payload("x" * 65 * 1024))
    assert status == 400


@at("v2.30")
async def test_post_snapshot_invalid_task_id(env: Env) -> None:
    task = await env.create()
    status, body = await _post_snapshot(env, "not-a-uuid", env.fake.agent_token(task["id"]))
    assert status == 400 and "Invalid task ID format" in body["message"]


@at("v2.30")
async def test_post_snapshot_task_not_found(env: Env) -> None:
    task = await env.create()
    status, _ = await _post_snapshot(env, str(uuid.uuid4()), env.fake.agent_token(task["id"]))
    assert status == 404


@at("v2.30")
async def test_post_snapshot_wrong_workspace(env: Env) -> None:
    one, two = await env.create("one"), await env.create("two")
    token = env.fake.agent_token(one["id"])
    assert (await _post_snapshot(env, two["id"], token))[0] == 404
    assert (await _post_snapshot(env, one["id"], token))[0] == 204


@at("v2.30")
async def test_post_snapshot_unauthorized(env: Env) -> None:
    task = await env.create()
    assert (await _post_snapshot(env, task["id"], ""))[0] == 401


@at("v2.30")
async def test_post_snapshot_malformed_json(env: Env) -> None:
    task = await env.create()
    token = env.fake.agent_token(task["id"])
    status, body = await _post_snapshot(env, task["id"], token, raw_body=b"{invalid json")
    assert status == 400 and "Failed to decode request payload" in body["message"]


@at("v2.30")
async def test_post_snapshot_invalid_agent_api_payload(env: Env) -> None:
    task = await env.create()
    token = env.fake.agent_token(task["id"])
    status, body = await _post_snapshot(
        env, task["id"], token, {"truncated": False, "total_count": 0}
    )
    assert status == 400 and "Invalid agentapi payload structure" in body["message"]


@at("v2.30")
async def test_post_snapshot_deleted_task(env: Env) -> None:
    task = await env.create()
    await env.active(task)
    token = env.fake.agent_token(task["id"])
    await env.sdk.delete_task(task["id"])
    assert (await _post_snapshot(env, task["id"], token))[0] == 401  # the agent's token is gone


@at("v2.31.1")
async def test_an_uploaded_snapshot_with_an_unknown_role_is_a_500_when_read(env: Env) -> None:
    task = await env.create()
    token = env.fake.agent_token(task["id"])
    bad = {"messages": [{"id": 0, "role": "robot", "content": "x", "time": "2025-01-01T00:00:00Z"}]}
    assert (await _post_snapshot(env, task["id"], token, bad))[0] == 204
    status, body = await env.call("GET", f"{EXP}/me/{task['id']}/logs")
    assert (status, body["message"]) == (500, "Invalid snapshot data.")
    assert re.search(r'role "robot"', body["detail"])


@at("v2.31.1")
async def test_pause_status_unknown_while_the_stop_job_runs(env: Env) -> None:
    created = await env.create()
    await env.idle(created)
    env.fake.hold_builds = True  # the stop job waits in the queue
    build = await env.sdk.pause_task(created["id"])
    task = await env.sdk.get_task(created["id"])
    assert (task.status, task.workspace_status) == (TaskStatus.UNKNOWN, "pending")
    status, body = await env.call("GET", f"{EXP}/me/{created['id']}/logs")
    assert (status, body["detail"]) == (409, 'Task status is "unknown".')
    env.fake.finish_build(created["id"])
    assert (await env.sdk.wait_for_build(build)).status == "stopped"
    assert (await env.sdk.get_task(created["id"])).status is TaskStatus.PAUSED
