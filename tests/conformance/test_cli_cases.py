"""Ports of Coder's cli/task_*_test.go cases that describe the server's behaviour, through
the SDK calls a CLI makes (the CLI's own flags, prompts and output are the ``coder-tasks``
tests' business)."""

from __future__ import annotations

import uuid

import pytest
from conformance_support import TIMINGS, Env, at

from coder_tasks_async import (
    CoderTasksClient,
    NotFoundError,
    TaskNotReadyError,
    TaskState,
    TaskStatus,
)

pytestmark = pytest.mark.anyio


async def _admin(env: Env) -> CoderTasksClient:
    owner = env.fake.add_user("admin", owner=True)
    return CoderTasksClient(env.fake.url, token=owner.token, clock=env.clock)


# -- TestTaskCreate: the template with an AI task, a preset by name ------------------------


@at("v2.29")
async def test_task_create_picks_the_ai_template_and_a_preset_by_name(env: Env) -> None:
    (template,) = await env.sdk.list_templates(has_ai_task=True)
    version = await env.sdk.get_template_version(template, "v1")
    assert version.id == template.active_version_id
    preset = await env.sdk.get_preset(version, "Default")
    assert preset.default and preset.id == env.fake.preset_id
    with pytest.raises(NotFoundError, match="no preset named"):
        await env.sdk.get_preset(version, "Large")
    task = await env.sdk.create_task(
        "Add authentication to the user service",
        template_version_id=version.id,
        template_version_preset_id=preset.id,
    )
    assert task.template_version_id == version.id


@at("v2.26")
async def test_presets_of_a_version_without_any_are_an_empty_list(env: Env) -> None:
    # Coder writes a nil slice: the body is "null".
    template = env.fake.templates.templates[0]
    bare = env.fake.templates.add_version(template, "bare")
    status, body = await env.call("GET", f"/api/v2/templateversions/{bare.id}/presets")
    assert (status, body) == (200, None)
    assert await env.sdk.list_presets(bare.id) == []
    # Keys are Go's field names: codersdk.Preset has no JSON tags.
    _, presets = await env.call(
        "GET", f"/api/v2/templateversions/{env.fake.template_version_id}/presets"
    )
    assert set(presets[0]) >= {"ID", "Name", "Parameters", "Default"}


# -- TestExpTaskDelete -----------------------------------------------------------------------


@at("v2.29")
async def test_task_delete_by_name_and_by_uuid(env: Env) -> None:
    by_name, by_id = await env.create(name="exists"), await env.create(name="uuid-task")
    await env.sdk.delete_task("exists")  # waits for the start build, as a cleanup wants
    await env.sdk.delete_task(by_id["id"])
    assert env.fake.task(by_name["id"]).deleted and env.fake.task(by_id["id"]).deleted


@at("v2.29")
async def test_task_delete_multiple(env: Env) -> None:
    refs = [(await env.create(name=f"task-{i}"))["name"] for i in range(3)]
    outcomes = await env.sdk.delete_many(refs)  # right after create: every build still runs
    assert all(o.ok for o in outcomes)


@at("v2.29")
async def test_task_delete_resolve_name_error(env: Env) -> None:
    with pytest.raises(NotFoundError):
        await env.sdk.delete_task("bad")


# -- TestExpTaskList ---------------------------------------------------------------------------


@at("v2.29")
async def test_task_list_no_tasks(env: Env) -> None:
    listed = await env.sdk.list_tasks()
    assert listed == [] and listed.total == 0


@at("v2.29")
async def test_task_list_single_and_status_filter(env: Env) -> None:
    one = await env.create("one")
    env.clock.advance(TIMINGS.pending + TIMINGS.initializing)
    await env.create("two")
    assert [t.initial_prompt for t in await env.sdk.list_tasks()] == ["two", "one"]
    active = await env.sdk.list_tasks(status="active")
    assert [str(t.id) for t in active] == [one["id"]]


@at("v2.29")
async def test_task_list_owner_can_list_others(env: Env) -> None:
    await env.create("alice's")
    async with await _admin(env) as admin:
        assert [t.owner_name for t in await admin.list_tasks(owner="alice")] == ["alice"]
        assert [t.owner_name for t in await admin.list_tasks(owner=None)] == ["alice"]  # --all
        assert await admin.list_tasks() == []  # "me": the admin has none


# -- Test_TaskLogs_Golden ---------------------------------------------------------------------


@at("v2.29")
async def test_task_logs_by_name_and_by_id(env: Env) -> None:
    task = await env.create("logs please", name="logged")
    await env.idle(task)
    by_name, by_id = await env.sdk.get_logs("logged"), await env.sdk.get_logs(task["id"])
    assert by_name == by_id and len(by_name.logs) == 3


@at("v2.29")
async def test_task_logs_task_not_found(env: Env) -> None:
    with pytest.raises(NotFoundError):
        await env.sdk.get_logs("nope")
    with pytest.raises(NotFoundError):
        await env.sdk.get_logs(uuid.uuid4())


@at("v2.31.1")
async def test_task_logs_snapshot_with_logs(env: Env) -> None:
    task = await env.create("snap")
    await env.idle(task)
    live = await env.sdk.get_logs(task["id"])
    await env.sdk.wait_for_build(await env.sdk.pause_task(task["id"]))
    snapshot = await env.sdk.get_logs(task["id"])
    assert snapshot.snapshot and snapshot.snapshot_at is not None
    assert [e.content for e in snapshot.logs] == [e.content for e in live.logs]


@at("v2.31.1")
async def test_task_logs_snapshot_without_logs_no_snapshot_captured(env: Env) -> None:
    env.fake.hold_builds = True
    task = await env.create("snap")
    logs = await env.sdk.get_logs(task["id"])
    assert (logs.snapshot, logs.logs, logs.snapshot_at) == (True, [], None)


@at("v2.31.1")
async def test_task_logs_initializing_task_snapshot(env: Env) -> None:
    task = await env.create("snap")
    await env.idle(task)
    await env.sdk.wait_for_build(await env.sdk.pause_task(task["id"]))
    await env.sdk.resume_task(task["id"])
    env.clock.advance(TIMINGS.pending)
    assert (await env.sdk.get_task(task["id"])).status is TaskStatus.INITIALIZING
    logs = await env.sdk.get_logs(task["id"])
    assert logs.snapshot and logs.logs  # the conversation stored at the pause


# -- TestExpTaskPause / TestExpTaskResume --------------------------------------------------------


@at("v2.31.1")
async def test_task_pause_with_yes_flag(env: Env) -> None:
    task = await env.create(name="pauseme")
    await env.idle(task)
    build = await env.sdk.pause_task("pauseme")
    await env.sdk.wait_for_build(build)  # what `coder task pause` watches
    assert (await env.sdk.get_task("pauseme")).status is TaskStatus.PAUSED


@at("v2.31.1")
async def test_task_pause_and_resume_other_user_task(env: Env) -> None:
    task = await env.create(name="theirs")
    await env.idle(task)
    async with await _admin(env) as admin:
        await admin.wait_for_build(await admin.pause_task("alice/theirs"))
        assert (await admin.get_task("alice/theirs")).status is TaskStatus.PAUSED
        await admin.resume_task("alice/theirs")
        assert (await admin.get_task("alice/theirs")).status is TaskStatus.PENDING


@at("v2.31.1")
async def test_task_pause_task_already_paused(env: Env) -> None:
    # The CLI refuses itself; the server has no "already paused" check: another stop build.
    task = await env.create(name="sleepy")
    await env.idle(task)
    await env.sdk.wait_for_build(await env.sdk.pause_task("sleepy"))
    again = await env.sdk.pause_task("sleepy")
    assert again.transition == "stop" and again.build_number == 3


@at("v2.31.1")
async def test_task_resume_no_wait(env: Env) -> None:
    task = await env.create(name="waker")
    await env.idle(task)
    await env.sdk.wait_for_build(await env.sdk.pause_task("waker"))
    build = await env.sdk.resume_task("waker")
    assert not build.ended  # the answer comes before the build ends
    assert (await env.sdk.get_task("waker")).status is TaskStatus.PENDING


@at("v2.31.1")
async def test_task_resume_task_not_paused(env: Env) -> None:
    task = await env.create(name="busy")
    await env.idle(task)
    from coder_tasks_async import ConflictError

    with pytest.raises(ConflictError, match="already running"):
        await env.sdk.resume_task("busy")


# -- Test_TaskSend ------------------------------------------------------------------------------


@at("v2.29")
async def test_task_send_by_name_and_by_id(env: Env) -> None:
    task = await env.create(name="chat")
    await env.idle(task)
    await env.sdk.send_input("chat", "some task input")
    env.clock.advance(TIMINGS.reply_duration)
    await env.sdk.send_input(task["id"], "more input")
    assert [text for _, text, _ in env.fake.deliveries] == ["some task input", "more input"]


@at("v2.29")
async def test_task_send_task_not_found(env: Env) -> None:
    with pytest.raises(NotFoundError):
        await env.sdk.send_input("nope", "x")
    with pytest.raises(NotFoundError):
        await env.sdk.send_input(uuid.uuid4(), "x")


@at("v2.29")
async def test_task_send_waits_for_initializing_task(env: Env) -> None:
    task = await env.create(name="slow")
    await env.sdk.send_input("slow", "some task input", wait_ready=True)
    assert [text for _, text, _ in env.fake.deliveries] == ["some task input"]
    assert str((await env.sdk.get_task("slow")).id) == task["id"]


@at("v2.31.1")
async def test_task_send_resumes_paused_task(env: Env) -> None:
    task = await env.create(name="napping")
    await env.idle(task)
    await env.sdk.pause_task("napping")  # no wait: the stop build still runs
    await env.sdk.send_input("napping", "some task input", wait_ready=True, resume=True)
    assert [text for _, text, _ in env.fake.deliveries] == ["some task input"]


@at("v2.31.1")
async def test_task_send_paused_during_wait_for_ready(env: Env) -> None:
    task = await env.create(name="fickle")
    env.clock.advance(TIMINGS.pending + TIMINGS.start_job)  # the agent starts

    def pause_on_first_poll(request: object) -> None:
        env.fake.request_observers.clear()
        env.fake.stop_out_of_band(task["id"])

    env.fake.request_observers.append(pause_on_first_poll)
    with pytest.raises(TaskNotReadyError, match="paused"):
        await env.sdk.send_input("fickle", "some task input", wait_ready=True)
    assert env.fake.deliveries == []


@at("v2.29")
async def test_task_send_waits_for_working_app_state(env: Env) -> None:
    task = await env.create(name="worker")
    await env.idle(task)
    env.fake.report_state(task["id"], "working", "busy")
    assert (await env.sdk.get_task("worker")).state is TaskState.WORKING

    def idle_after_a_poll(request: object) -> None:
        env.fake.request_observers.clear()
        env.fake.report_state(task["id"], "idle", "ready")

    env.fake.request_observers.append(idle_after_a_poll)
    await env.sdk.send_input("worker", "some task input", wait_ready=True)
    assert [text for _, text, _ in env.fake.deliveries] == ["some task input"]


@pytest.mark.parametrize("app_state", ["complete", "failure"])
@at("v2.29")
async def test_task_send_to_non_idle_app_state(env: Env, app_state: str) -> None:
    task = await env.create(name="done")
    await env.idle(task)
    env.fake.report_state(task["id"], app_state, "done")
    state = (await env.sdk.get_task("done")).state
    # v2.32 shows the app status "failure" as the task state "failed".
    failed = "failed" if env.profile.since("v2.32") else "failure"
    assert state == (failed if app_state == "failure" else app_state)
    await env.sdk.send_input("done", "some input", wait_ready=True)
    assert [text for _, text, _ in env.fake.deliveries] == ["some input"]


# -- Test_Tasks: the whole round, as the CLI's end-to-end test walks it ------------------------


@at("v2.31.1")
async def test_tasks_end_to_end(env: Env) -> None:
    created = await env.sdk.create_task(
        "some task input", template_version_id=env.fake.template_version_id, name="e2e"
    )
    assert [t.name for t in await env.sdk.list_tasks()] == ["e2e"]
    assert (await env.sdk.get_task("e2e")).status is TaskStatus.PENDING
    await env.sdk.send_input("e2e", "some task input", wait_ready=True)
    assert [e.content for e in (await env.sdk.get_logs("e2e")).logs][3] == "some task input"
    await env.sdk.wait_for_build(await env.sdk.pause_task("e2e"))
    assert (await env.sdk.get_task("e2e")).status is TaskStatus.PAUSED
    await env.sdk.resume_task("e2e")
    assert (await env.sdk.get_task("e2e")).status is TaskStatus.PENDING
    await env.sdk.delete_task("e2e")
    assert env.fake.task(created.id).deleted
