"""The same user code against each server generation: the feature, or a clear error."""

from __future__ import annotations

import anyio
import pytest
from aiohttp import web
from helpers import FAST, serve_app

from coder_tasks_async import (
    AgentBusyError,
    BadRequestError,
    CoderTasksClient,
    ConflictError,
    LogEventKind,
    ServerError,
    TaskNotActiveError,
    TaskNotReadyError,
    TaskState,
    TaskStatus,
    UnsupportedByServerError,
)
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

SEED, GA, PAUSE, BUSY_409 = "v2.28.0", "v2.29.0", "v2.31.1", "v2.32"


@pytest.mark.parametrize(
    ("version", "tree", "has_display_name"),
    [(SEED, "experimental", False), (GA, "v2", True), (PAUSE, "v2", True)],
)
async def test_auto_detects_the_tree_and_reads_the_version(
    fake_clock: FakeClock, version: str, tree: str, has_display_name: bool
) -> None:
    async with FakeCoder(clock=fake_clock, server_version=version) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            assert client.api is None
            task = await client.create_task(
                "Fix the login test", template_version_id=fake.template_version_id
            )
            assert client.api == tree
            assert client.server_version == version
            assert bool(task.display_name) is has_display_name
            assert task.name.startswith("task-") is (version == SEED)


@pytest.mark.parametrize("version", [SEED, GA, "v2.31.0"])
async def test_pause_and_resume_need_a_newer_server(fake_clock: FakeClock, version: str) -> None:
    async with FakeCoder(clock=fake_clock, server_version=version) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("x", template_version_id=fake.template_version_id)
            with pytest.raises(UnsupportedByServerError) as info:
                await client.pause_task(task)
            assert info.value.minimum_version == "v2.31.1"
            assert info.value.server_version == version
            assert "v2.31.1 or later" in str(info.value)
            with pytest.raises(UnsupportedByServerError):
                await client.resume_task(task)


async def test_update_input_needs_v229(fake_clock: FakeClock) -> None:
    async with FakeCoder(clock=fake_clock, server_version=SEED) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("x", template_version_id=fake.template_version_id)
            with pytest.raises(UnsupportedByServerError, match=r"v2\.29"):
                await client.update_input(task, "new prompt")


async def test_pause_resume_update_input_and_snapshot_logs(fake_clock: FakeClock) -> None:
    async with FakeCoder(clock=fake_clock, server_version=PAUSE) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("Fix it", template_version_id=fake.template_version_id)
            with pytest.raises(ConflictError, match="must be paused"):
                await client.update_input(task, "Fix it better")
            await client.wait_for(task, until="idle", poll=FAST)
            live = await client.get_logs(task)
            assert not live.snapshot
            build = await client.pause_task(task)
            assert build.transition == "stop"
            stopping = await client.get_task(task)  # the stop job runs a moment
            assert stopping.status is TaskStatus.UNKNOWN
            with pytest.raises(TaskNotActiveError) as stopping_logs:
                await client.get_logs(task)
            assert stopping_logs.value.task_status == "unknown"
            assert (await client.wait_for_build(build)).status == "stopped"
            paused = await client.get_task(task)
            assert paused.status is TaskStatus.PAUSED
            snap = await client.get_logs(task)
            assert snap.snapshot
            assert snap.snapshot_at is not None
            assert [e.content for e in snap.logs] == [e.content for e in live.logs][-10:]
            with pytest.raises(TaskNotActiveError) as info:
                await client.send_input(task, "hello")
            assert isinstance(info.value, ConflictError)
            assert info.value.task_status == "paused"
            await client.update_input(task, "Fix it better")
            resumed = await client.resume_task(task)
            assert resumed.transition == "start"
            await client.wait_for(task, until="active", poll=FAST)


async def test_follower_sees_a_pause_and_one_reset_at_resume_without_repeats(
    fake_clock: FakeClock,
) -> None:
    async with FakeCoder(clock=fake_clock, server_version=PAUSE) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("Fix it", template_version_id=fake.template_version_id)
            await client.wait_for(task, until="idle", poll=FAST)
            kinds: list[tuple[str, bool]] = []
            contents: list[str] = []
            async with client.follow_logs(task, settled=True, poll=FAST) as follower:
                async for event in follower:
                    kinds.append((event.kind.value, event.snapshot))
                    if event.entry:
                        contents.append(event.entry.content)
                    if len(kinds) == 3:
                        await client.pause_task(task)
                    if event.kind is LogEventKind.RESET and not event.snapshot:
                        break  # resumed: the live conversation started over
                    if event.kind is LogEventKind.PAUSED:
                        await client.resume_task(task)
            # Live entries, then the pause (the snapshot repeats nothing), then one restart.
            assert kinds[:3] == [("new", False)] * 3
            assert kinds[3:] == [("paused", True), ("reset", False)]
            assert len(contents) == len(set(contents)) == 3


async def test_send_wait_ready_resumes_a_paused_task_when_asked(fake_clock: FakeClock) -> None:
    async with FakeCoder(clock=fake_clock, server_version=PAUSE) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("Fix it", template_version_id=fake.template_version_id)
            await client.wait_for(task, until="idle", poll=FAST)
            await client.pause_task(task)
            with pytest.raises(TaskNotReadyError, match="paused"):
                await client.send_input(task, "go on", wait_ready=True, poll=FAST)
            await client.send_input(task, "go on", wait_ready=True, resume=True, poll=FAST)
            assert [text for _, text, _ in fake.deliveries] == ["go on"]


@pytest.mark.parametrize(
    ("version", "status_class", "queued"),
    # Before v2.31.1 a start job still queued shows as "initializing".
    [(SEED, BadRequestError, "initializing"), (PAUSE, ConflictError, "pending")],
)
async def test_not_active_is_typed_on_every_server(
    fake_clock: FakeClock, version: str, status_class: type[Exception], queued: str
) -> None:
    async with FakeCoder(clock=fake_clock, server_version=version) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("x", template_version_id=fake.template_version_id)
            with pytest.raises(TaskNotActiveError) as info:
                await client.send_input(task, "too early")
            assert isinstance(info.value, status_class)
            assert info.value.task_status == queued


@pytest.mark.parametrize(
    ("version", "status_class"),
    [(SEED, ServerError), (PAUSE, ServerError), (BUSY_409, ConflictError)],
)
async def test_busy_agent_is_typed_on_every_server(
    fake_clock: FakeClock, version: str, status_class: type[Exception]
) -> None:
    async with FakeCoder(clock=fake_clock, server_version=version) as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as client:
            task = await client.create_task("x", template_version_id=fake.template_version_id)
            # Newer servers synthesize a "working" state while initializing: wait for
            # an active task whose agent is working.
            await client.wait_for(
                task,
                until=lambda t: t.status is TaskStatus.ACTIVE and t.state is TaskState.WORKING,
                poll=FAST,
            )
            with pytest.raises(AgentBusyError) as info:
                await client.send_input(task, "not now")
            assert isinstance(info.value, status_class)
            assert fake.deliveries == []


async def test_a_probe_answered_after_another_call_settled_the_tree() -> None:
    # Call B's /api/v2 request is answered only after call A has finished its own
    # probe and fallback: B must still fall back instead of raising "Route not found.".
    a_done = anyio.Event()

    async def v2(request: web.Request) -> web.Response:
        if "bob" in request.query["q"]:  # call B
            await a_done.wait()
        return web.json_response({"message": "Route not found."}, status=404)

    async def experimental(request: web.Request) -> web.Response:
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_get("/api/v2/tasks", v2)
    app.router.add_get("/api/experimental/tasks", experimental)
    async with serve_app(app) as port:
        async with CoderTasksClient(
            f"http://127.0.0.1:{port}", token="AbCdEfGhIj-0123456789abcdefghijkl"
        ) as client:
            results: list[object] = []

            async def call_a() -> None:
                results.append(await client.list_tasks())
                a_done.set()

            async def call_b() -> None:
                results.append(await client.list_tasks(owner="bob"))

            async with anyio.create_task_group() as tg:
                tg.start_soon(call_a)
                tg.start_soon(call_b)
            assert results == [[], []]
            assert client.api == "experimental"


async def test_pause_only_under_experimental_does_not_pin_the_tree() -> None:
    # Servers from before coder PR #22544 had /api/v2/tasks but pause only under
    # /api/experimental: the first call being a pause must not decide the tree.
    build_id = "0d3b8c9e-3f7a-4a55-9d55-2f4c1f0b6a11"

    async def not_found(request: web.Request) -> web.Response:
        return web.json_response({"message": "Route not found."}, status=404)

    async def pause(request: web.Request) -> web.Response:
        return web.json_response({"workspace_build_id": build_id}, status=202)

    async def listing(request: web.Request) -> web.Response:
        return web.json_response({"tasks": [], "count": 0})

    app = web.Application()
    app.router.add_post("/api/v2/tasks/me/t/pause", not_found)
    app.router.add_post("/api/experimental/tasks/me/t/pause", pause)
    app.router.add_get("/api/v2/tasks", listing)
    async with serve_app(app) as port:
        async with CoderTasksClient(
            f"http://127.0.0.1:{port}", token="AbCdEfGhIj-0123456789abcdefghijkl"
        ) as client:
            build = await client.pause_task("t")
            assert str(build.id) == build_id
            assert client.api is None
            assert await client.list_tasks() == []
            assert client.api == "v2"
