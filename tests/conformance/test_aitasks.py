"""Ports of coderd/aitasks_test.go ``TestTasks``: list, get, delete, send, logs, snapshots,
update input.  Names follow the Go subtests (LEDGER.md); raw aiohttp where the SDK hides
the answer, the SDK where a user would call it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from conformance_support import BUILD_ACTIVE, EXP, NOT_FOUND, TIMINGS, Env, at

from coder_tasks_async import (
    CoderTasksClient,
    ConflictError,
    NotFoundError,
    TaskNotActiveError,
    TaskStatus,
)

pytestmark = pytest.mark.anyio


def busy_status(env: Env) -> int:
    return 409 if env.profile.since("v2.32") else 502


# -- TestTasks/List ------------------------------------------------------------------


@at("v2.26")
async def test_tasks_list(env: Env) -> None:
    created = await env.create("build me a web app")
    await env.active(created)
    status, body = await env.call("GET", EXP, params={"q": "owner:me"})
    assert status == 200 and body["count"] == len(body["tasks"]) == 1
    (got,) = body["tasks"]
    assert got["id"] == created["id"]
    assert got["initial_prompt"] == "build me a web app"
    assert got["workspace_id"] == created["workspace_id"]
    assert got["status"]  # a workspace status before v2.28, the task's after
    if env.profile.since("v2.28"):
        assert got["workspace_name"] == created["workspace_name"]
        assert got["workspace_status"]
    listed = await env.sdk.list_tasks()
    assert [t.id for t in listed] == [uuid.UUID(created["id"])] and listed.total == 1


# -- TestTasks/Get -------------------------------------------------------------------


@at("v2.26")
async def test_tasks_get(env: Env) -> None:
    fake = env.fake
    created = await env.create("review my code")
    await env.active(created)
    fake.report_state(created["id"], "complete", "all done")
    status, got = await env.call("GET", f"{EXP}/me/{created['id']}")
    assert status == 200
    assert (got["id"], got["name"], got["initial_prompt"]) == (
        created["id"],
        created["name"],
        "review my code",
    )
    assert got["workspace_id"] == created["workspace_id"]
    assert got["workspace_agent_id"] is not None
    assert got["current_state"]["state"] == "complete"
    if env.profile.since("v2.28"):
        assert got["workspace_build_number"] == 1 and got["workspace_app_id"] is not None
        assert got["workspace_status"]
    if env.profile.since("v2.29"):  # by name too, the same answer
        assert await env.call("GET", f"{EXP}/me/{created['name']}") == (200, got)
    bob = fake.add_user("bob")
    assert (await env.call("GET", f"{EXP}/me/{created['id']}", token=bob.token))[0] == 404
    if env.profile.since("v2.29"):
        path = f"{EXP}/alice/{created['name']}"
        assert (await env.call("GET", path, token=bob.token))[0] == 404
    # Stop the workspace: the agent's last report stays.
    fake.stop_out_of_band(created["id"])
    env.clock.advance(TIMINGS.stop_job)
    _, stopped = await env.call("GET", f"{EXP}/me/{created['id']}")
    assert stopped["current_state"]["message"] == "all done"
    assert stopped["current_state"]["state"] == "complete"
    # Start it again: the old report is hidden; v2.29+ makes up a "working" state.
    fake.start_out_of_band(created["id"])
    env.clock.advance(TIMINGS.pending)
    _, started = await env.call("GET", f"{EXP}/me/{created['id']}")
    if env.profile.since("v2.29"):
        assert started["current_state"]["state"] == "working"
        assert started["current_state"]["message"] != "all done"
    else:
        assert started["current_state"] is None


# -- TestTasks/Delete --------------------------------------------------------------


@at("v2.27")
async def test_tasks_delete_ok(env: Env) -> None:
    created = await env.create("delete me")
    await env.active(created)
    assert await env.call("DELETE", f"{EXP}/me/{created['id']}") == (202, None)
    assert env.fake.task(created["id"]).deleted
    assert await env.call("GET", f"{EXP}/me/{created['id']}") == (404, {"message": NOT_FOUND})


@at("v2.27")
async def test_tasks_delete_not_found(env: Env) -> None:
    assert (await env.call("DELETE", f"{EXP}/me/{uuid.uuid4()}"))[0] == 404
    with pytest.raises(NotFoundError):
        await env.sdk.delete_task(uuid.uuid4())


@at("v2.27")
async def test_tasks_delete_not_task_workspace(env: Env) -> None:
    created = await env.create()
    # A workspace id is no task id: the tasks route does not find it.
    assert (await env.call("DELETE", f"{EXP}/me/{created['workspace_id']}"))[0] == 404


@at("v2.27")
async def test_tasks_delete_unauthorized_user_cannot_delete_others_task(env: Env) -> None:
    created = await env.create("delete me not")
    await env.active(created)
    bob = env.fake.add_user("bob")
    status, _ = await env.call("DELETE", f"{EXP}/me/{created['id']}", token=bob.token)
    assert status in (403, 404)
    assert not env.fake.task(created["id"]).deleted


@at("v2.31.1")
async def test_tasks_delete_deletion_without_snapshot(env: Env) -> None:
    created = await env.create("delete me without snapshot")
    await env.active(created)
    assert env.fake.task(created["id"]).snapshot is None
    await env.sdk.delete_task(created["id"])
    assert env.fake.task(created["id"]).deleted


@at("v2.31.1")
async def test_tasks_delete_preserves_other_task_snapshots(env: Env) -> None:
    a, b = await env.create("task A"), await env.create("task B")
    await env.active(a)
    for task in (a, b):
        await upload(env, task["id"], [message(0, "user", task["initial_prompt"])])
    await env.sdk.delete_task(a["id"])
    assert env.fake.task(b["id"]).snapshot == [message(0, "user", "task B")]


@at("v2.28")
async def test_tasks_delete_deleting_task_workspace_deletes_task(env: Env) -> None:
    created = await env.create("delete me")
    await env.active(created)
    env.fake.delete_out_of_band(created["id"])  # the workspace's delete build
    with pytest.raises(NotFoundError):
        await env.sdk.get_task(created["id"])


# -- TestTasks/Send ------------------------------------------------------------------


@at("v2.27")
async def test_tasks_send_integration_ok(env: Env) -> None:
    created = await env.create("send me food")
    await env.active(created)  # the agent still answers the first prompt: not stable
    url = f"{EXP}/me/{created['id']}/send"
    status, body = await env.call("POST", url, {"input": "Hello, Agent!"})
    assert status == busy_status(env) and "not ready to accept input" in body["message"]
    env.clock.advance(TIMINGS.reply_duration)
    # SendOK
    assert await env.call("POST", url, {"input": "Hello, Agent!"}) == (204, None)
    # MissingContent
    assert (await env.call("POST", url, {"input": ""}))[0] == 400
    # An unhealthy task app: refused.
    env.fake.set_error(created["id"])
    status, body = await env.call("POST", url, {"input": "Hello, Agent!"})
    assert status == 400 and "must be active" in body["message"]


@at("v2.27", "v2.28")
async def test_tasks_send_missing_content(env: Env) -> None:
    created = await env.create()
    status, body = await env.call("POST", f"{EXP}/me/{created['id']}/send", {"input": ""})
    assert (status, body["message"]) == (400, "Task input is required.")


@at("v2.27")
async def test_tasks_send_task_not_found(env: Env) -> None:
    status, _ = await env.call("POST", f"{EXP}/me/{uuid.uuid4()}/send", {"input": "hi"})
    assert status == 404


@at("v2.27", "v2.28")
async def test_tasks_send_not_a_task(env: Env) -> None:
    created = await env.create()
    path = f"{EXP}/me/{created['workspace_id']}/send"
    assert (await env.call("POST", path, {"input": "hi"}))[0] == 404


async def _owned_by_member(env: Env) -> tuple[dict[str, Any], str]:
    """A task of a member, and the owner's token (the Go test sends as the owner)."""
    member = env.fake.add_user("member")
    boss = env.fake.add_user("boss", owner=True)
    return await env.create(token=member.token), boss.token


@at("v2.31.1")
async def test_tasks_send_to_non_active_states_paused(env: Env) -> None:
    task, boss = await _owned_by_member(env)
    await env.idle(task)
    assert (await env.call("POST", f"{EXP}/me/{task['id']}/pause", token=boss))[0] == 202
    env.clock.advance(TIMINGS.stop_job)
    status, body = await env.call(
        "POST", f"{EXP}/me/{task['id']}/send", {"input": "Hello"}, token=boss
    )
    assert status == 409 and "paused" in body["message"] and "Resume" in body["detail"]


@at("v2.31.1")
async def test_tasks_send_to_non_active_states_initializing(env: Env) -> None:
    task, boss = await _owned_by_member(env)
    env.clock.advance(TIMINGS.pending)  # the start job runs
    status, body = await env.call(
        "POST", f"{EXP}/me/{task['id']}/send", {"input": "Hello"}, token=boss
    )
    assert status == 409 and "initializing" in body["message"] and "resuming" in body["detail"]


@at("v2.31.1")
async def test_tasks_send_to_non_active_states_pending(env: Env) -> None:
    task, boss = await _owned_by_member(env)
    status, body = await env.call(
        "POST", f"{EXP}/me/{task['id']}/send", {"input": "Hello"}, token=boss
    )
    assert status == 409 and "pending" in body["message"] and "resuming" in body["detail"]


@at("v2.31.1")
async def test_tasks_send_to_non_active_states_error(env: Env) -> None:
    task, boss = await _owned_by_member(env)
    await env.active(task)
    env.fake.set_error(task["id"])
    status, body = await env.call(
        "POST", f"{EXP}/me/{task['id']}/send", {"input": "Hello"}, token=boss
    )
    assert status == 400 and "must be active" in body["message"]
    async with CoderTasksClient(env.fake.url, token=boss, clock=env.clock) as admin:
        with pytest.raises(TaskNotActiveError) as info:  # the SDK names the status
            await admin.send_input(task["id"], "Hello", owner="member")
    assert info.value.task_status == "error"


# -- TestTasks/Logs ------------------------------------------------------------------


@at("v2.27")
async def test_tasks_logs_ok(env: Env) -> None:
    created = await env.create("show logs")
    await env.idle(created)
    logs = await env.sdk.get_logs(created["id"])
    assert [(e.id, e.type) for e in logs.logs] == [(0, "output"), (1, "input"), (2, "output")]
    assert logs.logs[1].content == "show logs" and not logs.snapshot


def message(i: int, role: str, content: str) -> dict[str, Any]:
    return {"id": i, "content": content, "role": role, "time": "2025-01-01T10:00:00Z"}


async def upload(env: Env, task_id: str, messages: list[dict[str, Any]]) -> tuple[int, Any]:
    """The task's agent uploads a snapshot, as it does when its workspace stops."""
    path = f"/api/v2/workspaceagents/me/tasks/{task_id}/log-snapshot"
    return await env.call(
        "POST",
        path,
        {"messages": messages},
        token=env.fake.agent_token(task_id),
        params={"format": "agentapi"},
    )


SNAPSHOT = [message(0, "agent", "First message"), message(1, "user", "Second message")]


async def _snapshot_logs(env: Env, task_id: str) -> None:
    assert await upload(env, task_id, SNAPSHOT) == (204, None)
    logs = await env.sdk.get_logs(task_id)
    assert logs.snapshot and logs.snapshot_at is not None
    assert [(e.id, e.type, e.content) for e in logs.logs] == [
        (0, "output", "First message"),
        (1, "input", "Second message"),
    ]


@at("v2.31.1")
async def test_tasks_logs_with_snapshot_pending_task_returns_snapshot(env: Env) -> None:
    env.fake.hold_builds = True  # the start job never leaves the queue... until we say
    created = await env.create()
    assert (await env.sdk.get_task(created["id"])).status is TaskStatus.PENDING
    await _snapshot_logs(env, created["id"])


@at("v2.31.1")
async def test_tasks_logs_with_snapshot_initializing_task_returns_snapshot(env: Env) -> None:
    created = await env.create()
    env.clock.advance(TIMINGS.pending)
    assert (await env.sdk.get_task(created["id"])).status is TaskStatus.INITIALIZING
    await _snapshot_logs(env, created["id"])


@at("v2.31.1")
async def test_tasks_logs_with_snapshot_paused_task_returns_snapshot(env: Env) -> None:
    created = await env.create()
    await env.idle(created)
    await env.sdk.wait_for_build(await env.sdk.pause_task(created["id"]))
    await _snapshot_logs(env, created["id"])


@at("v2.31.1")
async def test_tasks_logs_with_snapshot_no_snapshot_returns_empty(env: Env) -> None:
    created = await env.create()
    status, body = await env.call("GET", f"{EXP}/me/{created['id']}/logs")
    assert (status, body) == (200, {"logs": [], "snapshot": True})  # no snapshot_at


@at("v2.31.1")
async def test_tasks_logs_with_snapshot_error_state_returns_error(env: Env) -> None:
    created = await env.create()
    await env.active(created)
    env.fake.set_error(created["id"])
    status, body = await env.call("GET", f"{EXP}/me/{created['id']}/logs")
    assert status == 409
    assert "Cannot fetch logs for task in current state" in body["message"]
    assert "error" in body["detail"]


# -- TestTasks/UpdateInput -----------------------------------------------------------


async def _update(env: Env, task_id: str, text: str) -> tuple[int, Any]:
    return await env.call("PATCH", f"{EXP}/me/{task_id}/input", {"input": text})


async def _stopped(env: Env) -> dict[str, Any]:
    """A task whose workspace was stopped (``coder stop``; a pause where there is one)."""
    created = await env.create("initial prompt")
    await env.idle(created)
    env.fake.stop_out_of_band(created["id"])
    env.clock.advance(TIMINGS.stop_job)
    return created


@at("v2.31.1")
async def test_tasks_update_input_task_status_pending(env: Env) -> None:
    env.fake.hold_builds = True  # no provisioner: the task stays pending
    created = await env.create("initial prompt")
    status, body = await _update(env, created["id"], "Valid prompt")
    assert status == 409 and "Unable to update" in body["message"]
    assert (await env.sdk.get_task(created["id"])).initial_prompt == "initial prompt"


@at("v2.29", "v2.31.1")
async def test_tasks_update_input_task_status_initializing(env: Env) -> None:
    env.fake.hold_builds = True  # before v2.31.1 a queued start job is "initializing"
    created = await env.create("initial prompt")
    assert (await env.sdk.get_task(created["id"])).status is TaskStatus.INITIALIZING
    status, body = await _update(env, created["id"], "Valid prompt")
    assert status == 409 and "Unable to update" in body["message"]


@at("v2.29")
async def test_tasks_update_input_task_status_paused(env: Env) -> None:
    created = await _stopped(env)
    assert (await env.sdk.get_task(created["id"])).status is TaskStatus.PAUSED
    assert await _update(env, created["id"], "Valid prompt") == (204, None)
    assert (await env.sdk.get_task(created["id"])).initial_prompt == "Valid prompt"


@at("v2.29")
async def test_tasks_update_input_task_status_error(env: Env) -> None:
    env.fake.hold_builds = True
    created = await env.create("initial prompt")
    env.fake.finish_build(created["id"], "canceled")  # a canceled start build
    assert (await env.sdk.get_task(created["id"])).status is TaskStatus.ERROR
    status, body = await _update(env, created["id"], "Valid prompt")
    assert status == 409 and "Unable to update" in body["message"]


@at("v2.29")
async def test_tasks_update_input_empty_prompt(env: Env) -> None:
    created = await _stopped(env)
    assert await _update(env, created["id"], "") == (400, {"message": "Task input is required."})


@at("v2.29")
async def test_tasks_update_input_task_deleted(env: Env) -> None:
    created = await env.create("initial prompt")
    await env.idle(created)
    await env.sdk.delete_task(created["id"])
    assert await _update(env, created["id"], "Valid prompt") == (404, {"message": NOT_FOUND})


@at("v2.29")
async def test_tasks_update_input_non_existent_task(env: Env) -> None:
    status, _ = await env.call(
        "PATCH", f"{EXP}/{env.fake.user.id}/{uuid.uuid4()}/input", {"input": "Should fail"}
    )
    assert status == 404


@at("v2.29")
async def test_tasks_update_input_unauthorized_user(env: Env) -> None:
    created = await _stopped(env)
    bob = env.fake.add_user("bob")
    status, _ = await env.call(
        "PATCH", f"{EXP}/alice/{created['id']}/input", {"input": "x"}, token=bob.token
    )
    assert status == 404


# -- wsbuilder: a build while another runs ------------------------------------------


@at("v2.27")
async def test_wsbuild_error_conflict_carries_message_and_detail(env: Env) -> None:
    created = await env.create()
    status, body = await env.call("DELETE", f"{EXP}/me/{created['id']}")
    assert (status, body) == (409, {"message": BUILD_ACTIVE, "detail": BUILD_ACTIVE})
    with pytest.raises(ConflictError) as info:
        await env.sdk.delete_task(created["id"], wait_build=0)
    assert (info.value.message, info.value.detail) == (BUILD_ACTIVE, BUILD_ACTIVE)


@at("v2.28")
async def test_workspace_build_with_task_links_the_new_build_number(env: Env) -> None:
    created = await env.create()
    assert created["workspace_build_number"] == 1
    await env.idle(created)
    env.fake.stop_out_of_band(created["id"])
    # coderd links the task to the new build when it queues it, not when it ends.
    assert (await env.sdk.get_task(created["id"])).workspace_build_number == 2
