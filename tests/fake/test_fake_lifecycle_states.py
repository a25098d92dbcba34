"""Property test: FakeCoder's answers follow the release rules (docs/compatibility.md §6)
for any sequence of calls and clock steps: pause, resume, delete, update input, send
and logs, on releases before and after the v2.31.1 and v2.32 switch points, with builds
that take time (a start job, a stop job) as coderd's do.

The model below is written from the documented rules alone; the fake's handlers are
driven directly (they are pure functions from a parsed request to a reply), so
hypothesis can try many sequences quickly.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from coder_tasks_async.testing import FakeClock, FakeCoder, Timings
from coder_tasks_async.testing._routes import Match, match_route

PENDING, INITIALIZING, CHUNK, CHUNKS = 1.0, 2.0, 1.0, 3
START_JOB, STOP_JOB = 1.0, 1.0
REPLY = CHUNK * CHUNKS
ACTIVE_BUILD = "A workspace build is already active."
BUILD_ACTIVE = {"message": ACTIVE_BUILD, "detail": ACTIVE_BUILD}
RUNNING = {
    "message": "Task workspace is already running.",
    "detail": 'Workspace status is "running".',
}
MUST_BE_PAUSED = "Unable to update task input, task must be paused."
BUSY = "Task app is not ready to accept input."


class TaskLifecycle(RuleBasedStateMachine):
    """One task against a model of Coder's rules at release ``PROFILE``.

    The model follows coderd's source: every pause, resume and delete is a workspace
    build whose job takes time, and a new build is refused while one runs.
    """

    PROFILE = "latest"
    #: Pause/resume endpoints, snapshots and 409 "not active" answers (v2.31.1+).
    PAUSE_ENDPOINTS = True
    #: A queued start job shows as "pending" (v2.31.1+), not "initializing".
    PENDING_STATUS = True
    BUSY_STATUS = 409

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(autojump=False)
        timings = Timings(
            pending=PENDING,
            initializing=INITIALIZING,
            chunk_interval=CHUNK,
            chunks=CHUNKS,
            start_job=START_JOB,
            stop_job=STOP_JOB,
        )
        self.fake = FakeCoder(clock=self.clock, server_version=self.PROFILE, timings=timings)
        task = self.fake.state.create_task(self.fake.user, "Work", "t", None)
        self.task_id = str(task.id)
        # The model: the newest build (its transition and when it began), whether the
        # task app turned unhealthy, whether deleted, until when the agent is busy.
        self.transition = "start"
        self.built = self.clock.now()
        self.busy_until = self.built + PENDING + INITIALIZING + REPLY  # the first prompt
        self.error = False
        self.deleted = False

    # -- model ------------------------------------------------------------------
    def since(self) -> float:
        return self.clock.now() - self.built + 1e-9

    def build_active(self) -> bool:
        if self.transition == "stop":
            return self.since() < STOP_JOB
        return self.since() < PENDING + START_JOB

    def model_status(self) -> str:
        if self.transition == "stop":
            return "unknown" if self.build_active() else "paused"
        if self.error:
            return "error"
        since = self.since()
        if since < PENDING:
            return "pending" if self.PENDING_STATUS else "initializing"
        return "initializing" if since < PENDING + INITIALIZING else "active"

    def workspace_running(self) -> bool:
        return self.transition == "start" and not self.build_active()

    def agent_busy(self) -> bool:
        return self.clock.now() + 1e-9 < self.busy_until

    # -- the fake ---------------------------------------------------------------
    def call(self, method: str, suffix: str = "", body: Any = None) -> tuple[int, Any]:
        path = f"/api/experimental/tasks/me/{self.task_id}{suffix}"
        m = match_route(path.split("/")[1:], method, self.fake.profile)
        assert isinstance(m, Match)
        raw = b"" if body is None else json.dumps(body).encode()
        reply = self.fake._api.handle(m, self.fake.user, {}, raw)
        return reply.status, (json.loads(reply.body) if reply.body else None)

    # -- rules ------------------------------------------------------------------
    @rule(dt=st.sampled_from([0.25, 0.5, 1.0, 2.0, 5.0]))
    def advance(self, dt: float) -> None:
        self.clock.advance(dt)

    @precondition(lambda self: not self.deleted)
    @rule()
    def fail(self) -> None:
        self.fake.set_error(self.task_id)
        self.error = True

    def _stopped(self) -> None:
        self.transition, self.built, self.error = "stop", self.clock.now(), False

    @precondition(lambda self: not self.deleted)
    @rule()
    def pause(self) -> None:
        if not self.PAUSE_ENDPOINTS:
            if not self.build_active():
                self.fake.stop_out_of_band(self.task_id)  # `coder stop`
                self._stopped()
            return
        status, body = self.call("POST", "/pause")
        if self.build_active():
            assert (status, body) == (409, BUILD_ACTIVE)
            return
        assert status == 202  # paused or not: no "already paused" refusal
        assert body["workspace_build"]["transition"] == "stop"
        self._stopped()

    @precondition(lambda self: not self.deleted and self.PAUSE_ENDPOINTS)
    @rule()
    def resume(self) -> None:
        status, body = self.call("POST", "/resume")
        if self.workspace_running():  # even with the task app unhealthy
            assert (status, body) == (409, RUNNING)
        elif self.build_active():
            assert (status, body) == (409, BUILD_ACTIVE)
        else:  # paused
            assert status == 202
            self.transition, self.built, self.error = "start", self.clock.now(), False
            self.busy_until = self.built  # a fresh agent, nothing to answer yet

    @precondition(lambda self: not self.deleted)
    @rule(text=st.sampled_from(["new prompt", "  ", ""]))
    def update_input(self, text: str) -> None:
        status, body = self.call("PATCH", "/input", {"input": text})
        if not text.strip():
            assert (status, body) == (400, {"message": "Task input is required."})
        elif self.model_status() != "paused":
            assert (status, body["message"]) == (409, MUST_BE_PAUSED)
        else:
            assert status == 204

    @precondition(lambda self: not self.deleted)
    @rule(text=st.sampled_from(["go on", "   ", ""]))
    def send(self, text: str) -> None:
        status, body = self.call("POST", "/send", {"input": text})
        current = self.model_status()
        if text == "":
            assert (status, body) == (400, {"message": "Task input is required."})
        elif current != "active":
            if not self.PAUSE_ENDPOINTS:
                assert (status, body["message"]) == (400, "Task status must be active.")
            elif current in ("error", "unknown"):
                assert (status, body["message"]) == (400, "Task must be active.")
            else:
                assert (status, body["message"]) == (409, f"Task is {current}.")
        elif self.agent_busy():
            assert (status, body["message"]) == (self.BUSY_STATUS, BUSY)
        else:
            assert status == 204
            self.busy_until = self.clock.now() + REPLY

    @precondition(lambda self: not self.deleted)
    @rule()
    def logs(self) -> None:
        status, body = self.call("GET", "/logs")
        current = self.model_status()
        if current == "active":
            assert status == 200 and "snapshot" not in body
        elif not self.PAUSE_ENDPOINTS:
            assert (status, body["message"]) == (400, "Task status must be active.")
        elif current in ("error", "unknown"):
            assert (status, body["message"]) == (
                409,
                "Cannot fetch logs for task in current state.",
            )
        else:
            assert status == 200 and body["snapshot"] is True

    @precondition(lambda self: not self.deleted)
    @rule()
    def delete(self) -> None:
        status, body = self.call("DELETE")
        if self.build_active():
            assert (status, body) == (409, BUILD_ACTIVE)
        else:
            assert status == 202
            self.deleted = True

    @invariant()
    def status_matches(self) -> None:
        status, body = self.call("GET")
        if self.deleted:
            assert status == 404
        else:
            assert (status, body["status"]) == (200, self.model_status())


class SeedEra(TaskLifecycle):
    PROFILE = "v2.29"
    PAUSE_ENDPOINTS = False
    PENDING_STATUS = False
    BUSY_STATUS = 502


class PauseWithBusy502(TaskLifecycle):
    PROFILE = "v2.31.1"
    BUSY_STATUS = 502


_SETTINGS = settings(max_examples=120, stateful_step_count=30, deadline=None)
TestLatest = TaskLifecycle.TestCase
TestLatest.settings = _SETTINGS
TestV2_29 = SeedEra.TestCase
TestV2_29.settings = _SETTINGS
TestV2_31_1 = PauseWithBusy502.TestCase
TestV2_31_1.settings = _SETTINGS
