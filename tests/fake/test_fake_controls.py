"""FakeCoder's controls and facts for tests: held builds, the agent's reports, restart,
the clock, the route table."""

from __future__ import annotations

import asyncio
from datetime import datetime

import aiohttp
import pytest
from helpers import FAST, WAKE_TIMINGS, collecting, eventually, tick

from coder_tasks_async import CoderTasksClient, NotFoundError
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault, Timings, WallClock
from coder_tasks_async.testing._faults import FAULT_ROUTES
from coder_tasks_async.testing._routes import ROUTES, routes_of

pytestmark = pytest.mark.anyio


async def test_a_held_build_runs_until_finished(fake_clock: FakeClock) -> None:
    async with (
        FakeCoder(clock=fake_clock) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as coder,
    ):
        task = await coder.create_task("x", template_version_id=fake.template_version_id)
        fake_clock.advance(fake.timings.pending)  # a provisioner took the job
        fake.hold_build(task.id)
        fake_clock.advance(100)
        held = await coder.get_task(task)
        assert (held.status, held.workspace_status) == ("initializing", "starting")
        fake.finish_build(task.id)
        fake_clock.advance(fake.timings.initializing - fake.timings.start_job)
        assert (await coder.get_task(task)).status == "active"
        with pytest.raises(ValueError, match="ended already"):
            fake.hold_build(task.id)
        with pytest.raises(ValueError, match="outcome"):
            fake.finish_build(task.id, "exploded")


async def test_a_task_changed_through_state_update_keeps_its_lookups(
    fake_clock: FakeClock,
) -> None:
    """``State.update`` is how a handler changes a task (a rename, a new prompt): the
    lookups by name and by agent token follow the change, so a new endpoint's handler
    needs no method of its own in ``_state.py``."""
    async with (
        FakeCoder(clock=fake_clock) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as coder,
    ):
        tv = fake.template_version_id
        task = await coder.create_task("x", name="fix-login", template_version_id=tv)
        stored = fake.task(task.id)
        rev = stored.rev
        fake.state.update(stored, name="fix-login-2", display_name="Fix login 2", agent_token="t2")
        assert stored.rev > rev  # cached views are built anew
        renamed = await coder.get_task("fix-login-2")
        assert (renamed.id, renamed.display_name) == (task.id, "Fix login 2")
        with pytest.raises(NotFoundError):
            await coder.get_task("fix-login")
        assert fake.state.by_agent_token.get("t2") is stored
        again = await coder.create_task("y", name="fix-login", template_version_id=tv)
        assert again.id != task.id  # the old name is free again
        # A name another task of the owner holds is refused (it took that task's entry in
        # the lookup, and once that task was deleted the renamed one could not be found).
        with pytest.raises(ValueError, match="taken"):
            fake.state.update(stored, name="fix-login")
        assert (await coder.get_task("fix-login")).id == again.id
        assert (await coder.get_task("fix-login-2")).id == task.id
        for field in ("id", "owner", "deleted", "builds"):
            with pytest.raises(ValueError, match="cannot change"):
                fake.state.update(stored, **{field: getattr(stored, field)})


async def test_hold_builds_and_a_failed_build(fake_clock: FakeClock) -> None:
    async with (
        FakeCoder(clock=fake_clock) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as coder,
    ):
        fake.hold_builds = True
        assert fake.hold_builds
        task = await coder.create_task("x", template_version_id=fake.template_version_id)
        fake_clock.advance(100)
        assert (await coder.get_task(task)).status == "pending"
        fake.finish_build(task.id, "failed")
        failed = await coder.get_task(task)
        assert (failed.status, failed.workspace_status) == ("error", "failed")
        build = fake.task(task.id).latest_build
        done = await coder.get_workspace_build(build.id)
        assert done.job is not None and done.job.error and done.job_status == "failed"


@pytest.mark.parametrize(("profile", "shown"), [("v2.31.1", "failure"), ("v2.32", "failed")])
async def test_the_agent_reports_a_final_state(
    fake_clock: FakeClock, profile: str, shown: str
) -> None:
    async with (
        FakeCoder(clock=fake_clock, server_version=profile) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as coder,
    ):
        task = await coder.create_task("x", template_version_id=fake.template_version_id)
        fake_clock.advance(20)
        fake.report_state(task.id, "failed", "could not do it")  # "failed" means "failure"
        got = await coder.get_task(task)
        assert got.current_state is not None
        assert (got.current_state.state, got.current_state.message) == (shown, "could not do it")
        fake.report_state(task.id, "complete")
        assert (await coder.get_task(task)).state == "complete"
        with pytest.raises(ValueError, match="unknown app status"):
            fake.report_state(task.id, "sleeping")


async def test_restart_keeps_port_state_and_watch_streams(fake_clock: FakeClock) -> None:
    async with (
        FakeCoder(clock=fake_clock) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as coder,
    ):
        task = await coder.create_task("x", template_version_id=fake.template_version_id)
        url = fake.url
        await fake.restart()
        assert fake.url == url
        assert (await coder.get_task(task)).id == task.id  # the state survived
        # After a restart, a watch stream stays open (it used to drop at once).
        async with (
            aiohttp.ClientSession(headers={"Coder-Session-Token": fake.token}) as s,
            s.ws_connect(f"{fake.url}/api/v2/workspaces/{task.workspace_id}/watch-ws") as ws,
        ):
            first = await ws.receive_json()
            assert first["type"] == "data"
            await eventually(lambda: fake.watch.open_streams == 1, "the stream stays open")
            await asyncio.sleep(0)
            assert fake.watch.open_streams == 1


async def test_a_follower_keeps_following_across_a_restart() -> None:
    """A real follower, not a raw stream: its watch stream drops with the server and opens
    again, and an entry written after the restart reaches it exactly once, woken by the
    new stream (the clock stands still once the reply is done: only an event can make
    the follower poll, its idle poll is minutes away)."""
    clock = FakeClock(autojump=False)
    async with (
        FakeCoder(clock=clock, timings=WAKE_TIMINGS) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=clock) as client,
    ):
        task = await client.create_task(
            "fix the login", template_version_id=fake.template_version_id
        )
        clock.advance(10)  # the first reply is done
        async with collecting(client.follow_logs(task, settled=True, poll=FAST)) as got:
            await eventually(lambda: len(got) == 3, "the first three entries")
            await eventually(lambda: fake.watch.open_streams == 1, "the stream is open")
            await fake.restart()
            for _ in range(20):  # the client opens it again after a second of backoff
                if fake.watch.open_streams == 1 and fake.watch.opened["ws"] == 2:
                    break
                await tick(clock, fake, 0.5)
            assert (fake.watch.open_streams, fake.watch.opened["ws"]) == (1, 2)
            clock.advance(0.5)
            async with CoderTasksClient(
                fake.url, token=fake.token, clock=clock, wake="poll"
            ) as other:
                await other.send_input(task, "after the restart")
            clock.advance(3.0)  # the reply grows: polled at the normal pace
            await eventually(lambda: len(got) == 4, "the input entry")
            at = clock.now()
            clock.advance(WAKE_TIMINGS.reply_duration)  # done: the agent reports idle
            await eventually(lambda: len(got) == 5, "the settled reply, on the idle event")
            assert clock.now() == at + WAKE_TIMINGS.reply_duration
            for _ in range(10):  # more time: nothing may come twice
                await tick(clock, fake, 1)
    entries = [e.entry for e in got if e.entry]
    assert [e.id for e in entries] == [0, 1, 2, 3, 4]
    assert [e.content for e in entries].count("after the restart") == 1
    assert entries[4].content.endswith("after the restart")


def test_a_clock_without_wall_is_given_one() -> None:
    class Plain:
        def __init__(self) -> None:
            self.t = 5.0

        def now(self) -> float:
            return self.t

        async def sleep(self, seconds: float) -> None:
            self.t += seconds

    plain = Plain()
    fake = FakeCoder(clock=plain)
    assert isinstance(fake.clock, WallClock)
    before = fake.clock.wall()
    plain.t += 60
    assert isinstance(before, datetime) and (fake.clock.wall() - before).total_seconds() == 60
    clock = FakeClock()
    assert FakeCoder(clock=clock).clock is clock  # one with wall() is used as is


def test_the_route_table_drives_faults_and_releases() -> None:
    names = {r.name for r in ROUTES if not r.stream}
    assert set(FAULT_ROUTES) == names | {"*"}
    Fault("list_presets", "status")  # a fault can target every answered route
    with pytest.raises(ValueError, match="route"):
        Fault("watch_ws", "status")
    from coder_tasks_async.testing._profile import Profile

    old = {r.name for r in routes_of(Profile.parse("v2.26"))}
    assert {"list", "create", "get", "list_templates", "get_build"} <= old
    assert not old & {"delete", "send", "logs", "pause", "upload_snapshot"}


def test_timings_scale_and_refuse_negatives() -> None:
    fast = Timings().scaled(4)
    assert (fast.pending, fast.stop_job, fast.chunks) == (0.25, 0.25, Timings().chunks)
    with pytest.raises(ValueError, match="negative"):
        Timings(stop_job=-1)
    assert Timings(initializing=0.5, start_job=2).start_job == 0.5  # part of initializing
