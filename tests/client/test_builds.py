"""Builds that take time, through the public API: the full WorkspaceBuild, wait_for_build,
delete waiting for a running build, and the pollers in the windows coderd shows while a
build runs (a stop job: the task is ``unknown`` and its logs answer 409)."""

from __future__ import annotations

import pytest
from helpers import FAST

from coder_tasks_async import (
    BuildFailedError,
    CoderTasksClient,
    ConflictError,
    LogEventKind,
    TaskStatus,
    WaitTimeoutError,
    WorkspaceTransition,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Timings

pytestmark = pytest.mark.anyio

#: A stop job long enough that every poller meets it.
SLOW_STOP = Timings(pending=1.0, initializing=2.0, chunk_interval=1.0, chunks=2, stop_job=10.0)


async def test_pause_returns_the_build_and_wait_for_build_follows_it(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until="idle", poll=FAST)
    build = await coder.pause_task(task)
    assert (build.transition, build.build_number, build.status) == (
        WorkspaceTransition.STOP,
        2,
        "pending",
    )
    assert build.initiator_name == "alice" and build.workspace_id == task.workspace_id
    assert build.template_version_id == task.template_version_id and build.created_at
    done = await coder.wait_for_build(build.id, poll=FAST)
    assert done.ended and done.succeeded and done.status == "stopped"
    assert done.job is not None and done.job.completed_at is not None


async def test_a_failed_build_is_a_typed_error(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until="idle", poll=FAST)
    build = await coder.pause_task(task)
    fake_coder.finish_build(task.id, "failed")
    with pytest.raises(BuildFailedError) as info:
        await coder.wait_for_build(build)
    assert info.value.build.job_status == "failed"
    assert "fake provisioner" in str(info.value)


async def test_wait_for_build_is_bounded(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    fake_coder.hold_builds = True
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    build = fake_coder.task(task.id).latest_build
    start = fake_clock.now()
    with pytest.raises(WaitTimeoutError) as info:
        await coder.wait_for_build(build.id, timeout=30, poll=FAST)
    assert 30 <= fake_clock.now() - start < 33
    assert info.value.build is not None and not info.value.build.ended


async def test_delete_waits_for_a_running_build_but_not_forever(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    fake_coder.hold_builds = True
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)
    start = fake_clock.now()
    with pytest.raises(ConflictError, match="already active"):
        await coder.delete_task(task, wait_build=20)
    assert 20 <= fake_clock.now() - start < 25
    assert not fake_coder.task(task.id).deleted
    with pytest.raises(ValueError, match="wait_build"):
        await coder.delete_task(task, wait_build=-1)
    fake_coder.hold_builds = False
    fake_coder.finish_build(task.id)
    await coder.delete_task(task, wait_build=0)
    assert fake_coder.task(task.id).deleted


async def test_delete_many_right_after_create_deletes_every_task(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    # The Ctrl-C cleanup: each start build still runs, each delete waits for its own.
    tasks = [
        await coder.create_task("x", template_version_id=fake_coder.template_version_id)
        for _ in range(4)
    ]
    outcomes = await coder.delete_many(tasks)
    assert [o.ok for o in outcomes] == [True] * 4
    assert all(fake_coder.task(t.id).deleted for t in tasks)
    refused = [r for r in fake_coder.requests if r.route == "delete" and r.status == 409]
    assert refused  # the 409s happened, and none reached the caller


async def test_a_task_deleted_while_delete_waits_counts_as_deleted(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("x", template_version_id=fake_coder.template_version_id)

    def delete_elsewhere(request: object) -> None:
        if getattr(request, "route", None) == "delete":
            fake_coder.request_observers.clear()
            fake_coder.delete_out_of_band(task.id)

    fake_coder.request_observers.append(delete_elsewhere)
    await coder.delete_task(task)  # 409, then the task is gone: no error


async def test_the_follower_meets_the_stop_window_without_loss_or_repeat(
    fake_clock: FakeClock,
) -> None:
    async with (
        FakeCoder(clock=fake_clock, timings=SLOW_STOP) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as coder,
    ):
        task = await coder.create_task("Fix it", template_version_id=fake.template_version_id)
        await coder.wait_for(task, until="idle", poll=FAST)
        contents: list[str] = []
        kinds: list[str] = []
        async with coder.follow_logs(task, settled=True, poll=FAST, until_terminal=True) as f:
            async for event in f:
                kinds.append(event.kind.value)
                if event.entry is not None:
                    contents.append(event.entry.content)
                if len(contents) == 3 and kinds[-1] == "new":
                    await coder.pause_task(task)  # ten seconds of "unknown" and 409 logs
        logs_during_stop = [r for r in fake.requests if r.route == "logs" and r.status == 409]
        statuses = [(await coder.get_task(task)).status]
        assert statuses == [TaskStatus.PAUSED]
        assert kinds[:3] == ["new"] * 3 and kinds[3:] == [LogEventKind.PAUSED.value]
        assert len(contents) == len(set(contents)) == 3
        assert logs_during_stop == []  # the follower does not ask while the task is unknown


async def test_wait_for_and_watch_pass_through_the_stop_window(fake_clock: FakeClock) -> None:
    async with (
        FakeCoder(clock=fake_clock, timings=SLOW_STOP) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as coder,
    ):
        task = await coder.create_task("x", template_version_id=fake.template_version_id)
        await coder.wait_for(task, until="idle", poll=FAST)
        await coder.pause_task(task)
        seen = [t.status async for t in coder.watch(task, poll=FAST, until="paused")]
        assert seen == [TaskStatus.UNKNOWN, TaskStatus.PAUSED]
        assert (await coder.wait_for(task, until="paused", poll=FAST)).status == "paused"
