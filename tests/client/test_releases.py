"""The same user code against every release profile, through the public SDK only.

Each test runs once per profile in ``coder_tasks_async.testing.PROFILES`` and
asserts that release's exact answer: status code, error class and message
(docs/compatibility.md §1, §2, §6).  The SDK itself is never told the release.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import anyio
import attrs
import pytest

from coder_tasks_async import (
    AgentBusyError,
    BadRequestError,
    CoderTasksClient,
    ConflictError,
    NotFoundError,
    ServerError,
    Task,
    TaskNotActiveError,
    TaskStatus,
    UnsupportedByServerError,
    WorkspaceStatus,
)
from coder_tasks_async._wire import releases as sdk_releases
from coder_tasks_async.testing import PROFILES, FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio

NOT_FOUND = "Resource not found or you do not have access to this resource"
BUILD_ACTIVE = "A workspace build is already active."


@attrs.define(frozen=True)
class Release:
    """What one release does: the SDK's table of "since" versions
    (``coder_tasks_async._wire.releases``) read at the version the profile announces."""

    announces: str

    def has(self, feature: str) -> bool:
        return bool(sdk_releases.has(self.announces, feature))

    @property
    def task_shape(self) -> str:
        """``"v2.26"``/``"v2.27"``: a task built from its workspace; ``"task"``: v2.28+."""
        return "task" if self.has("task_shape") else self.announces.rsplit(".", 1)[0]

    @property
    def delete_send_logs(self) -> bool:
        return self.has("delete_task")

    @property
    def names_in_path(self) -> bool:
        return self.has("names_in_path")

    @property
    def display_name(self) -> bool:
        return self.has("display_name")

    @property
    def update_input(self) -> bool:
        return self.has("update_input")

    @property
    def pause_resume(self) -> bool:
        return self.has("pause_task")

    @property
    def busy_status(self) -> int:
        return 409 if self.has("busy_is_conflict") else 502

    @property
    def not_active_status(self) -> int:
        return 409 if self.has("snapshots") else 400

    @property
    def queued_status(self) -> TaskStatus:
        """What a task whose start job waits for a provisioner shows."""
        return TaskStatus.PENDING if self.has("pending_status") else TaskStatus.INITIALIZING


#: The version each profile announces, written out by hand (not read from the fake).
RELEASES = {
    "v2.26": Release("v2.26.0"),
    "v2.27": Release("v2.27.0"),
    "v2.28": Release("v2.28.0"),
    "v2.29": Release("v2.29.0"),
    "v2.31.0": Release("v2.31.0"),
    "v2.31.1": Release("v2.31.1"),
    "v2.32": Release("v2.32.0"),
    "latest": Release("v2.32.0"),
}


def test_every_profile_is_covered() -> None:
    assert tuple(RELEASES) == PROFILES


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def release(profile: str) -> Release:
    return RELEASES[profile]


@pytest.fixture
async def fake(profile: str, fake_clock: FakeClock) -> AsyncIterator[FakeCoder]:
    async with FakeCoder(clock=fake_clock, server_version=profile) as server:
        yield server


@pytest.fixture
async def coder(fake: FakeCoder, fake_clock: FakeClock) -> AsyncIterator[CoderTasksClient]:
    async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
        yield client


async def create(coder: CoderTasksClient, fake: FakeCoder, name: str, prompt: str) -> Task:
    return await coder.create_task(prompt, template_version_id=fake.template_version_id, name=name)


def until_active(fake: FakeCoder, fake_clock: FakeClock) -> None:
    fake_clock.advance(fake.timings.pending + fake.timings.initializing)


def until_idle(fake: FakeCoder, fake_clock: FakeClock) -> None:
    until_active(fake, fake_clock)
    fake_clock.advance(fake.timings.reply_duration)


# -- create, list, get -----------------------------------------------------------


async def test_create_list_and_get_by_id_and_by_name(
    fake: FakeCoder, coder: CoderTasksClient, release: Release
) -> None:
    task = await create(coder, fake, "fix-login", "Fix the login test")
    assert coder.server_version == release.announces
    assert task.name == "fix-login"
    assert task.initial_prompt == "Fix the login test"
    if release.task_shape == "task":
        assert task.status is release.queued_status
        assert task.template_version_id == fake.template_version_id
        assert task.owner_name == "alice"
    else:  # the release sends a workspace status and no task status
        assert task.status is TaskStatus.UNKNOWN
        assert task.template_version_id is None
        assert task.owner_name == (None if release.task_shape == "v2.26" else "alice")
    assert task.workspace_status is WorkspaceStatus.PENDING
    assert bool(task.display_name) is release.display_name

    assert [t.id for t in await coder.list_tasks()] == [task.id]
    for ref in (task, task.id, str(task.id), "fix-login", "FIX-LOGIN", "alice/fix-login"):
        assert (await coder.get_task(ref)).id == task.id
    with pytest.raises(NotFoundError) as info:
        await coder.get_task("no-such-task")
    assert info.value.message == NOT_FOUND


async def test_names_are_looked_up_through_the_list_only_where_needed(
    fake: FakeCoder, coder: CoderTasksClient, release: Release
) -> None:
    task = await create(coder, fake, "lookup", "x")
    fake.requests.clear()
    assert (await coder.get_task("lookup")).id == task.id
    routes = [r.route for r in fake.requests]
    assert routes == (["get"] if release.names_in_path else ["list", "get"])
    assert fake.requests[-1].path.endswith(task.name if release.names_in_path else str(task.id))


async def test_a_name_is_resolved_on_the_first_call_too(
    fake: FakeCoder, fake_clock: FakeClock, release: Release
) -> None:
    # A fresh client does not know the release yet: it sends the name, and an old
    # server's 400 "Invalid UUID" makes it look the name up instead.
    async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as first:
        created = await create(first, fake, "first-call", "x")
    async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as fresh:
        assert (await fresh.get_task("alice/first-call")).id == created.id
    statuses = [r.status for r in fake.requests if r.route == "get"]
    assert statuses == ([200] if release.names_in_path else [400, 200])


async def test_create_errors(fake: FakeCoder, coder: CoderTasksClient) -> None:
    with pytest.raises(BadRequestError) as info:
        await coder.create_task("x", template_version_id=UUID(int=1))
    assert info.value.message == (
        "Template version not found or you do not have access to this resource"
    )
    with pytest.raises(BadRequestError) as info:
        await coder.create_task("x", template_version_id=fake.template_version_id_no_ai)
    assert info.value.message == 'Template does not have a valid "coder_ai_task" resource.'
    await create(coder, fake, "taken", "first")
    with pytest.raises(ConflictError) as conflict:
        # A name already in use is a plain 409 on a first attempt, never reconciled.
        await create(coder, fake, "taken", "second")
    assert conflict.value.message == 'Workspace "taken" already exists.'
    assert [(v.field, v.detail) for v in conflict.value.validations] == [
        ("name", "This value is already in use and should be unique.")
    ]


@pytest.mark.parametrize("knows_the_release", [True, False])
async def test_create_reconciles_by_name_after_a_lost_response(
    fake: FakeCoder, coder: CoderTasksClient, knows_the_release: bool
) -> None:
    if knows_the_release:
        await coder.list_tasks()
    fake.faults.add(Fault(route="create", kind="lost_response", times=1))
    task = await create(coder, fake, "once", "Only once")
    assert (task.name, task.initial_prompt) == ("once", "Only once")
    assert len(fake.created) == 1


# -- logs, send ------------------------------------------------------------------


async def test_logs(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient, release: Release
) -> None:
    task = await create(coder, fake, "talker", "Say hello")
    if not release.delete_send_logs:
        with pytest.raises(UnsupportedByServerError) as unsupported:
            await coder.get_logs(task)
        assert unsupported.value.minimum_version == "v2.27"
        return
    if release.pause_resume:  # pending: the (empty) stored snapshot
        early = await coder.get_logs("talker")
        assert (early.snapshot, early.logs) == (True, [])
    else:
        with pytest.raises(TaskNotActiveError) as info:
            await coder.get_logs("talker")
        assert isinstance(info.value, BadRequestError)
        assert info.value.message == "Task status must be active."
        assert info.value.task_status == release.queued_status
    until_idle(fake, fake_clock)
    logs = await coder.get_logs("talker")
    assert not logs.snapshot
    assert [(e.id, e.type) for e in logs.logs] == [(0, "output"), (1, "input"), (2, "output")]
    assert logs.logs[1].content == "Say hello"


async def test_send(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient, release: Release
) -> None:
    task = await create(coder, fake, "chat", "Start")
    if not release.delete_send_logs:
        with pytest.raises(UnsupportedByServerError) as unsupported:
            await coder.send_input(task, "hello")
        assert unsupported.value.minimum_version == "v2.27"
        return
    with pytest.raises(TaskNotActiveError) as not_active:
        await coder.send_input("chat", "too early")
    assert not_active.value.status == release.not_active_status
    assert not_active.value.task_status == release.queued_status
    assert not_active.value.message == (
        "Task is pending." if release.pause_resume else "Task status must be active."
    )
    until_active(fake, fake_clock)  # the agent is still answering the first prompt
    with pytest.raises(AgentBusyError) as busy:
        await coder.send_input("chat", "not now")
    assert busy.value.status == release.busy_status
    assert isinstance(busy.value, ConflictError if release.busy_status == 409 else ServerError)
    assert (busy.value.message, busy.value.detail) == (
        "Task app is not ready to accept input.",
        "Status: running",
    )
    fake_clock.advance(fake.timings.reply_duration)
    await coder.send_input("chat", "Now go on")
    assert [text for _, text, _ in fake.deliveries] == ["Now go on"]


# -- delete ------------------------------------------------------------------------


async def test_delete(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient, release: Release
) -> None:
    task = await create(coder, fake, "doomed", "x")
    if not release.delete_send_logs:
        with pytest.raises(UnsupportedByServerError) as unsupported:
            await coder.delete_task(task)
        assert unsupported.value.minimum_version == "v2.27"
        assert not fake.task(task.id).deleted
        return
    with pytest.raises(ConflictError) as info:
        await coder.delete_task("doomed", wait_build=0)  # the start build still runs
    assert info.value.message == BUILD_ACTIVE
    await coder.delete_task("doomed")  # waits for the start build, then deletes
    assert fake.task(task.id).deleted
    statuses = [r.status for r in fake.requests if r.route == "delete"]
    assert statuses == [409, 409, 202]
    with pytest.raises(NotFoundError):
        await coder.get_task(task.id)
    with pytest.raises(NotFoundError):
        await coder.get_task("doomed")  # nothing remembered the deleted task's name
    again = await create(coder, fake, "doomed", "y")  # the name is free again
    assert (await coder.get_task("doomed")).id == again.id != task.id


# -- update input, pause, resume ---------------------------------------------------


async def test_update_input(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient, release: Release
) -> None:
    task = await create(coder, fake, "editable", "Old prompt")
    if not release.update_input:
        with pytest.raises(UnsupportedByServerError) as unsupported:
            await coder.update_input(task, "New prompt")
        assert unsupported.value.minimum_version == "v2.29"
        return
    with pytest.raises(ConflictError) as info:
        await coder.update_input("editable", "New prompt")
    assert (info.value.message, info.value.detail) == (
        "Unable to update task input, task must be paused.",
        "Please stop the task's workspace before updating the input.",
    )
    until_idle(fake, fake_clock)
    fake.stop_out_of_band(task.id)  # `coder stop`; pause where the release has it
    with pytest.raises(ConflictError):  # the stop job still runs: the task is "unknown"
        await coder.update_input("editable", "New prompt")
    await coder.wait_for(task, until="paused")
    await coder.update_input("editable", "New prompt")
    assert (await coder.get_task(task)).initial_prompt == "New prompt"


async def test_pause_and_resume(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient, release: Release
) -> None:
    task = await create(coder, fake, "sleepy", "Work")
    if not release.pause_resume:
        for call in (coder.pause_task, coder.resume_task):
            with pytest.raises(UnsupportedByServerError) as unsupported:
                await call(task)
            assert unsupported.value.minimum_version == "v2.31.1"
        return
    with pytest.raises(ConflictError) as info:
        await coder.pause_task("sleepy")  # right after create: the start build runs
    assert info.value.message == BUILD_ACTIVE
    until_idle(fake, fake_clock)
    with pytest.raises(ConflictError) as info:
        await coder.resume_task("sleepy")
    assert info.value.message == "Task workspace is already running."
    assert (await coder.get_task("sleepy")).workspace_build_number == 1
    live = await coder.get_logs("sleepy")
    build = await coder.pause_task("sleepy")
    assert (build.transition, build.build_number, build.reason) == ("stop", 2, "task_manual_pause")
    assert build.workspace_id == task.workspace_id and build.job is not None
    stopping = await coder.get_task("sleepy")  # the stop job is queued: no status, no logs
    assert (stopping.status, stopping.workspace_status) == ("unknown", "pending")
    with pytest.raises(TaskNotActiveError):
        await coder.get_logs("sleepy")
    with pytest.raises(ConflictError) as info:
        await coder.pause_task("sleepy")
    assert info.value.message == BUILD_ACTIVE
    done = await coder.wait_for_build(build)
    assert (done.status, done.job_status) == ("stopped", "succeeded")
    again = await coder.pause_task("sleepy")  # no "already paused" refusal
    assert again.transition == "stop"
    await coder.wait_for_build(again)
    paused = await coder.get_task("sleepy")
    assert paused.status is TaskStatus.PAUSED
    snapshot = await coder.get_logs("sleepy")
    assert snapshot.snapshot and snapshot.snapshot_at is not None
    assert [e.content for e in snapshot.logs] == [e.content for e in live.logs]
    with pytest.raises(TaskNotActiveError) as not_active:
        await coder.send_input("sleepy", "hello?")
    assert (not_active.value.status, not_active.value.message) == (409, "Task is paused.")
    resumed = await coder.resume_task("sleepy")
    assert (resumed.transition, resumed.build_number, resumed.reason) == (
        "start",
        4,
        "task_resume",
    )
    resumed_task = await coder.get_task("sleepy")
    assert resumed_task.status is TaskStatus.PENDING
    assert resumed_task.workspace_build_number == 4


@pytest.mark.parametrize("profile", [p for p in PROFILES if RELEASES[p].pause_resume])
async def test_a_task_whose_build_failed_can_be_resumed(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await create(coder, fake, "broken", "x")
    fake.finish_build(task.id, "failed")
    failed = await coder.get_task(task)
    assert (failed.status, failed.workspace_status) == ("error", "failed")
    await coder.resume_task(task)
    until_active(fake, fake_clock)
    assert (await coder.get_task(task)).status is TaskStatus.ACTIVE


@pytest.mark.parametrize("profile", [p for p in PROFILES if RELEASES[p].pause_resume])
async def test_a_task_whose_app_is_unhealthy_is_paused_before_a_resume(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    # coderd's resume looks at the workspace: still running, so it refuses.
    task = await create(coder, fake, "broken", "x")
    until_active(fake, fake_clock)
    fake.set_error(task.id)
    assert (await coder.get_task(task)).status is TaskStatus.ERROR
    with pytest.raises(ConflictError) as info:
        await coder.resume_task(task)
    assert (info.value.message, info.value.detail) == (
        "Task workspace is already running.",
        'Workspace status is "running".',
    )
    await coder.wait_for_build(await coder.pause_task(task))
    await coder.resume_task(task)
    until_active(fake, fake_clock)
    assert (await coder.get_task(task)).status is TaskStatus.ACTIVE


# -- the probe -----------------------------------------------------------------------


async def test_one_route_tree_probe_per_client(
    fake: FakeCoder, coder: CoderTasksClient, release: Release
) -> None:
    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(coder.list_tasks)
    # /api/v2/tasks exists from v2.29 (the release that also takes names in paths).
    stable = release.names_in_path
    v2_requests = [r for r in fake.requests if r.path.startswith("/api/v2/")]
    assert len(v2_requests) == (5 if stable else 1)
    assert len(fake.requests) == (5 if stable else 6)
    assert coder.api == ("v2" if stable else "experimental")


async def test_server_version_is_the_first_answers() -> None:
    # Behind a load balancer the version could differ per response: the client keeps
    # what it learnt first, so its choices (prompt field, name lookups) stay consistent.
    from aiohttp import web
    from helpers import serve_app

    seen = 0

    async def listing(request: web.Request) -> web.Response:
        nonlocal seen
        seen += 1
        headers = {"X-Coder-Build-Version": f"v2.{28 + seen}.0"}
        return web.json_response({"tasks": [], "count": 0}, headers=headers)

    app = web.Application()
    app.router.add_get("/api/v2/tasks", listing)
    async with serve_app(app) as port:
        async with CoderTasksClient(
            f"http://127.0.0.1:{port}", token="AbCdEfGhIj-0123456789abcdefghijkl"
        ) as client:
            assert client.server_version is None
            await client.list_tasks()
            await client.list_tasks()
            assert seen == 2
            assert client.server_version == "v2.29.0"


@pytest.mark.parametrize("profile", ["v2.28", "latest"])
async def test_following_by_name_looks_the_name_up_once(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    from coder_tasks_async import PollPolicy

    await create(coder, fake, "followed", "Say hello")
    until_active(fake, fake_clock)
    fake.requests.clear()
    poll = PollPolicy(initial=0.5, maximum=1.0, jitter=0.0)
    async with coder.follow_logs("followed", settled=True, poll=poll, idle_timeout=3) as f:
        entries = [e.entry.content async for e in f if e.entry]
    assert "Say hello" in entries
    async for _ in coder.watch("followed", poll=poll, until=lambda t: True):
        pass
    by_name = [r for r in fake.requests if r.path.rstrip("/").endswith("/followed")]
    lookups = [r for r in fake.requests if r.route == "list"]
    # Each helper names the task once, then polls it by id.
    if fake.profile.has("names_in_path"):
        assert (len(by_name), len(lookups)) == (2, 0)
    else:
        assert (len(by_name), len(lookups)) == (0, 2)
    assert len([r for r in fake.requests if r.route == "get"]) > 3


async def drain(follower: Any) -> list[str]:
    async with follower as events:
        return [e.entry.content async for e in events if e.entry]


@pytest.mark.parametrize("profile", ["v2.26"])
async def test_following_logs_needs_v2_27(
    fake: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    await create(coder, fake, "mute", "x")
    until_active(fake, fake_clock)
    with pytest.raises(UnsupportedByServerError) as info:
        await drain(coder.follow_logs("mute"))
    assert (info.value.feature, info.value.minimum_version) == ("get_logs", "v2.27")


@pytest.mark.parametrize("profile", [p for p in PROFILES if RELEASES[p].delete_send_logs])
async def test_helpers_wait_for_the_agent_even_without_a_task_status(
    fake: FakeCoder, coder: CoderTasksClient
) -> None:
    # v2.27 sends no task status: the helpers go by the running workspace and the
    # server's own "not active" refusals.
    from coder_tasks_async import PollPolicy

    poll = PollPolicy(initial=0.5, maximum=1.0, jitter=0.0)
    await create(coder, fake, "helper", "Say hello")
    await coder.send_input("helper", "And goodbye", wait_ready=True, poll=poll)
    assert [text for _, text, _ in fake.deliveries] == ["And goodbye"]
    contents = await drain(coder.follow_logs("helper", settled=True, poll=poll, idle_timeout=3))
    assert contents[1:4:2] == ["Say hello", "And goodbye"]
