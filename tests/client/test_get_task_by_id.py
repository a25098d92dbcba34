"""``get_task`` of an id takes a short path to the transport; everything a call promises
still holds on it: the route-tree probe, the caller's retry budget, deadline and timeouts,
typed errors, owners, and the look-up of names on releases that need one."""

from __future__ import annotations

import logging
from uuid import UUID

import pytest

from coder_tasks_async import (
    CoderTasksClient,
    CoderTimeoutError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    Task,
    Timeouts,
)
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio


async def _task(fake: FakeCoder, coder: CoderTasksClient) -> Task:
    return await coder.create_task("x", template_version_id=fake.template_version_id)


@pytest.mark.coder_profile("v2.28")
async def test_the_first_call_by_id_probes_the_route_tree(fake_coder: FakeCoder) -> None:
    # v2.28 has no /api/v2 tasks tree: the probe falls back.
    async with CoderTasksClient(fake_coder.url, token=fake_coder.token) as fresh:
        task_id = fake_coder.state.create_task(fake_coder.user, "x", None, None).id
        assert fresh.api is None
        assert (await fresh.get_task(task_id)).id == task_id
        assert fresh.api == "experimental"
    paths = [r.path for r in fake_coder.requests]
    assert paths == [f"/api/v2/tasks/me/{task_id}", f"/api/experimental/tasks/me/{task_id}"]


@pytest.mark.parametrize("spelling", [UUID, str, "task"])
async def test_every_spelling_of_an_id_reads_the_task(
    fake_coder: FakeCoder, coder: CoderTasksClient, spelling: object
) -> None:
    task = await _task(fake_coder, coder)
    ref = task if spelling == "task" else task.id if spelling is UUID else str(task.id).upper()
    assert (await coder.get_task(ref)).id == task.id  # type: ignore[arg-type]
    owner = task.owner_id if spelling == "task" else "me"  # a Task names its owner
    assert fake_coder.requests[-1].path.endswith(f"/{owner}/{task.id}")


async def test_an_owner_is_part_of_the_path(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    task = await _task(fake_coder, coder)
    await coder.get_task(task.id, owner=fake_coder.user.username)
    assert fake_coder.requests[-1].path.endswith(f"/{fake_coder.user.username}/{task.id}")
    with pytest.raises(ValueError, match="owner"):
        await coder.get_task(task.id, owner="not a name")


async def test_the_callers_retry_budget_counts_every_attempt(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await _task(fake_coder, coder)
    fake_coder.faults.add(Fault(route="get", kind="status", status=503))
    with pytest.raises(ServerError) as info:
        await coder.get_task(task.id, retry=RetryPolicy(attempts=3))
    assert info.value.status == 503
    assert len(fake_coder.faults.injected) == 3


async def test_the_deadline_cuts_the_attempt_timeout(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    # The 429's advised second leaves 0.3 s of the 1.3 s deadline: the second attempt
    # must not get the full 60 s and sit through the server's 1 s delay.
    task = await _task(fake_coder, coder)
    fake_coder.faults.add(Fault(route="get", kind="rate_limit", retry_after=1, times=1))
    fake_coder.faults.add(Fault(route="get", kind="latency", delay=1.0, times=1))
    with pytest.raises(CoderTimeoutError):
        await coder.get_task(
            task.id, retry=RetryPolicy(attempts=2, deadline=1.3), timeouts=Timeouts(total=60)
        )


async def test_the_callers_timeouts_apply(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    task = await _task(fake_coder, coder)
    fake_coder.faults.add(Fault(route="get", kind="latency", delay=2.0))
    with pytest.raises(CoderTimeoutError):
        await coder.get_task(
            task.id, timeouts=Timeouts(read=0.1, total=5), retry=RetryPolicy.none()
        )


async def test_a_missing_task_is_a_typed_error_without_the_token(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    missing = UUID(int=7)
    with pytest.raises(NotFoundError) as info:
        await coder.get_task(missing)
    assert info.value.status == 404
    assert fake_coder.token not in repr(info.value) + str(info.value)


@pytest.mark.coder_profile("v2.28")
async def test_a_name_is_still_looked_up_where_the_release_needs_it(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await _task(fake_coder, coder)
    await coder.get_task(task.id)  # the version is known from here on
    assert (await coder.get_task(task.name)).id == task.id
    routes = [r.route for r in list(fake_coder.requests)[-2:]]
    assert routes == ["list", "get"]


async def test_each_attempt_is_logged_when_debugging(
    fake_coder: FakeCoder, coder: CoderTasksClient, caplog: pytest.LogCaptureFixture
) -> None:
    task = await _task(fake_coder, coder)
    fake_coder.faults.add(Fault(route="get", kind="reset", times=1))
    with caplog.at_level(logging.DEBUG, logger="coder_tasks_async"):
        await coder.get_task(task.id)
    lines = [r.getMessage() for r in caplog.records]
    assert any("-> failed (" in line and "attempt=1" in line for line in lines), lines
    assert any("-> 200 attempt=2" in line for line in lines), lines
    assert all(fake_coder.token not in line for line in lines)
    caplog.clear()
    await coder.get_task(task.id)  # not debugging: nothing is logged
    assert not caplog.records
