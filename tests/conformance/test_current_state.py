"""Ports of ``coderd/aitasks_internal_test.go::TestDeriveTaskCurrentState_Unit`` (v2.29.0+).

Coder derives ``current_state`` from the workspace's latest app status and latest build
(``deriveTaskCurrentState``): an app status counts during a start build only if it is
newer than the build, and always during a stop build; a task still initializing gets a
made-up ``working`` state named after what it waits for, stamped with the build's
creation time.  The Go test feeds that function rows; here the same situations are
reached on a FakeCoder and read through the SDK's ``get_task``.

Timeline with ``TIMINGS``: start job queued 0-1 s, running 1-2 s, agent starting 2-3 s,
up at 3 s.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conformance_support import TIMINGS, Env, at

from coder_tasks_async import Task, TaskState, TaskStatus

pytestmark = pytest.mark.anyio


async def _at(env: Env, task_id: str, seconds: float) -> Task:
    """The task ``seconds`` after its creation (the clock starts at its creation)."""
    env.clock.advance(seconds)
    return await env.sdk.get_task(task_id)


def _made_up(task: Task, message: str) -> None:
    """An initializing task's made-up state: working, stamped with its start build's
    creation (the task's own, for the first build)."""
    assert task.status is TaskStatus.INITIALIZING
    assert task.current_state is not None
    assert (task.current_state.state, task.current_state.message) == (TaskState.WORKING, message)
    assert task.current_state.timestamp == task.created_at


@at("v2.29")
async def test_derive_task_current_state_task_initializing_workspace_pending(env: Env) -> None:
    """A queued start job: ``Workspace is pending``, while the task reads ``initializing``.

    From v2.31.1 Coder's status view calls a queued start job ``pending``, and the
    made-up state is only for ``initializing`` tasks: there is none."""
    created = await env.create()
    task = await _at(env, created["id"], 0.5)
    if env.profile.at_least(31, 1):
        assert (task.status, task.current_state) == (TaskStatus.PENDING, None)
        return
    _made_up(task, "Workspace is pending")


@at("v2.29")
async def test_derive_task_current_state_task_initializing_workspace_starting(env: Env) -> None:
    created = await env.create()
    task = await _at(env, created["id"], TIMINGS.pending + 0.5)
    assert str(task.workspace_status) == "starting"
    _made_up(task, "Workspace is starting")


@at("v2.29")
async def test_derive_task_current_state_task_initializing_agent_starting(env: Env) -> None:
    created = await env.create()
    task = await _at(env, created["id"], TIMINGS.pending + TIMINGS.start_job + 0.5)
    assert str(task.workspace_agent_lifecycle) == "starting"
    _made_up(task, "Agent is starting")


@at("v2.29")
async def test_derive_task_current_state_build_start_transition_app_status_newer_than_build(
    env: Env,
) -> None:
    created = await env.create()
    await env.idle(created)
    env.clock.advance(60)
    env.fake.report_state(created["id"], "working", "Task is working")
    task = await env.sdk.get_task(created["id"])
    assert task.status is TaskStatus.ACTIVE
    assert task.current_state is not None
    assert (task.current_state.state, task.current_state.message) == (
        TaskState.WORKING,
        "Task is working",
    )
    assert task.current_state.timestamp >= task.created_at + timedelta(seconds=60)


@at("v2.29")
async def test_derive_task_current_state_build_stop_transition(env: Env) -> None:
    """During and after a stop build the last report counts, though older than the build."""
    created = await env.create()
    await env.idle(created)
    env.fake.report_state(created["id"], "complete", "Task completed before stop")
    reported = (await env.sdk.get_task(created["id"])).current_state
    assert reported is not None and reported.state is TaskState.COMPLETE
    env.clock.advance(60)
    env.fake.hold_builds = True
    env.fake.stop_out_of_band(created["id"])  # a stop build, as a pause makes
    stopping = await env.sdk.get_task(created["id"])
    env.fake.finish_build(created["id"])
    paused = await env.sdk.get_task(created["id"])
    assert (stopping.status, paused.status) == (TaskStatus.UNKNOWN, TaskStatus.PAUSED)
    assert stopping.current_state == reported == paused.current_state
    assert reported.message == "Task completed before stop"


@at("v2.29")
async def test_derive_task_current_state_build_start_transition_stale_app_status_older_than_build(
    env: Env,
) -> None:
    """After a new start build the report from before the stop is never shown again.

    (The Go row's exact input, an active task whose only report predates its build, does
    not occur on the fake: its agent reports as soon as it is up.)"""
    created = await env.create()
    await env.idle(created)
    env.fake.report_state(created["id"], "complete", "Previous task completed")
    env.fake.stop_out_of_band(created["id"])
    env.clock.advance(TIMINGS.stop_job + 1)
    env.fake.start_out_of_band(created["id"])  # a start build, as a resume makes
    seen = []
    for _ in range(8):  # through the new start build until the agent is up again
        task = await _at(env, created["id"], 0.5)
        seen.append(task.status)
        state = task.current_state
        assert state is None or state.message != "Previous task completed", task
    assert seen[-1] is TaskStatus.ACTIVE
