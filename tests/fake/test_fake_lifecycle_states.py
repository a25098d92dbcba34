"""Property test: FakeCoder's answers follow the release rules (docs/compatibility.md §6)
for any sequence of calls and clock steps: pause, resume, delete, update input, send
and logs, on releases before and after the v2.31.1 and v2.32 switch points.

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
from coder_tasks_async.testing._handlers import Match, match_route

PENDING, INITIALIZING, CHUNK, CHUNKS = 1.0, 2.0, 1.0, 3
REPLY = CHUNK * CHUNKS
BUILD_ACTIVE = {"message": "A workspace build is already active."}
RUNNING = {"message": "Task workspace is already running."}
MUST_BE_PAUSED = "Unable to update task input, task must be paused."
BUSY = "Task app is not ready to accept input."


class TaskLifecycle(RuleBasedStateMachine):
    """One task against a model of the documented rules of release ``PROFILE``."""

    PROFILE = "latest"
    #: Pause/resume endpoints, snapshots and 409 "not active" answers (v2.31.1+).
    PAUSE_ENDPOINTS = True
    BUSY_STATUS = 409

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(autojump=False)
        timings = Timings(
            pending=PENDING, initializing=INITIALIZING, chunk_interval=CHUNK, chunks=CHUNKS
        )
        self.fake = FakeCoder(clock=self.clock, server_version=self.PROFILE, timings=timings)
        task = self.fake.state.create_task(self.fake.user, "Work", "t", None)
        self.task_id = str(task.id)
        # The model: when the last start build began, whether paused/error/deleted,
        # and until when the agent is busy with a reply.
        self.started = self.clock.now()
        self.busy_until = self.started + PENDING + INITIALIZING + REPLY  # the first prompt
        self.paused = False
        self.error = False
        self.deleted = False

    # -- model ------------------------------------------------------------------
    def model_status(self) -> str:
        if self.error:
            return "error"
        if self.paused:
            return "paused"
        since = self.clock.now() - self.started + 1e-9
        if since < PENDING:
            return "pending"
        return "initializing" if since < PENDING + INITIALIZING else "active"

    def build_running(self) -> bool:
        return self.model_status() == "pending"

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

    @precondition(lambda self: not self.deleted)
    @rule()
    def pause(self) -> None:
        if not self.PAUSE_ENDPOINTS:
            if not self.build_running():
                self.fake.stop_out_of_band(self.task_id)  # `coder stop`
                self.paused, self.error = True, False
            return
        status, body = self.call("POST", "/pause")
        if self.build_running():
            assert (status, body) == (409, BUILD_ACTIVE)
            return
        assert status == 202  # paused or not: no "already paused" refusal
        assert body["workspace_build"]["transition"] == "stop"
        self.paused, self.error = True, False

    @precondition(lambda self: not self.deleted and self.PAUSE_ENDPOINTS)
    @rule()
    def resume(self) -> None:
        status, body = self.call("POST", "/resume")
        if self.build_running():
            assert (status, body) == (409, BUILD_ACTIVE)
        elif self.model_status() in ("initializing", "active"):
            assert (status, body) == (409, RUNNING)
        else:  # paused, or error: both can be resumed
            assert status == 202
            self.paused, self.error = False, False
            self.started = self.clock.now()
            self.busy_until = self.started  # a fresh agent, nothing to answer yet

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
                assert (status, body) == (400, {"message": "Task must be active."})
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
        elif current == "error":
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
        if self.build_running():
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
