"""Property test: FakeCoder's pause, resume, delete and update-input answers follow the
release rules (docs/compatibility.md §6) for any sequence of calls and clock steps.

The model below is written from the documented rules alone; the fake's handlers are
driven directly (they are pure functions from a parsed request to a reply), so
hypothesis can try thousands of sequences quickly.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from coder_tasks_async.testing import FakeClock, FakeCoder, Timings
from coder_tasks_async.testing._handlers import Match, match_route

PENDING, INITIALIZING = 1.0, 2.0
BUILD_ACTIVE = "A workspace build is already active."
RUNNING = "Task workspace is already running."
MUST_BE_PAUSED = "Unable to update task input, task must be paused."


class TaskLifecycle(RuleBasedStateMachine):
    """One task on the ``latest`` profile, against a model of the documented rules."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(autojump=False)
        timings = Timings(pending=PENDING, initializing=INITIALIZING)
        self.fake = FakeCoder(clock=self.clock, server_version="latest", timings=timings)
        task = self.fake.state.create_task(self.fake.user, "Work", "t", None)
        self.task_id = str(task.id)
        # The model: when the last start build began, and whether paused/error/deleted.
        self.started = self.clock.now()
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

    # -- the fake ---------------------------------------------------------------
    def call(self, method: str, suffix: str = "", body: Any = None) -> tuple[int, Any]:
        path = f"/api/v2/tasks/me/{self.task_id}{suffix}"
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
        status, body = self.call("POST", "/pause")
        if self.build_running():
            assert (status, body) == (409, {"message": BUILD_ACTIVE})
            return
        assert status == 202  # paused or not: no "already paused" refusal
        assert body["workspace_build"]["transition"] == "stop"
        self.paused, self.error = True, False

    @precondition(lambda self: not self.deleted)
    @rule()
    def resume(self) -> None:
        status, body = self.call("POST", "/resume")
        if self.build_running():
            assert (status, body) == (409, {"message": BUILD_ACTIVE})
        elif self.model_status() in ("initializing", "active"):
            assert (status, body) == (409, {"message": RUNNING})
        else:  # paused, or error: both can be resumed
            assert status == 202
            self.paused, self.error = False, False
            self.started = self.clock.now()

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
    @rule()
    def delete(self) -> None:
        status, body = self.call("DELETE")
        if self.build_running():
            assert (status, body) == (409, {"message": BUILD_ACTIVE})
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


TestTaskLifecycle = TaskLifecycle.TestCase
TestTaskLifecycle.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
