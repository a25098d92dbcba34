"""What a test can do to a :class:`~coder_tasks_async.testing.FakeCoder` besides HTTP:
add users, look tasks up, hold and end builds, make the agent report, act out of band.

Mixed into ``FakeCoder``; everything acts on its ``state`` and pokes its watch streams
(a change must reach them as a request's would).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._clock import WallClock
    from ._state import FakeTask, FakeUser, State
    from ._watch import WatchHub

__all__ = ["Controls"]


class Controls:
    """The test controls of ``FakeCoder``."""

    state: State
    clock: WallClock
    watch: WatchHub
    user: FakeUser

    def add_user(self, username: str, *, owner: bool = False, avatar_url: str = "") -> FakeUser:
        """Add a user; ``owner=True`` gives the Owner role (sees and acts on every task)."""
        return self.state.add_user(username, owner=owner, avatar_url=avatar_url)

    def task(self, ref: uuid.UUID | str) -> FakeTask:
        """A task by UUID, id string or name (alice's, newest first); deleted ones included."""
        if isinstance(ref, uuid.UUID):
            return self.state.tasks[ref]
        try:
            return self.state.tasks[uuid.UUID(ref)]
        except (ValueError, KeyError):
            pass
        for tid in reversed(self.state.created):
            task = self.state.tasks[tid]
            if task.owner is self.user and task.name.lower() == ref.lower():
                return task
        raise KeyError(ref)

    def agent_token(self, ref: uuid.UUID | str) -> str:
        """The token the task's workspace agent authenticates with (for the agent routes,
        e.g. ``POST /api/v2/workspaceagents/me/tasks/{id}/log-snapshot``)."""
        return self.task(ref).agent_token

    # -- controls ------------------------------------------------------------------
    @property
    def hold_builds(self) -> bool:
        """While true, every new build waits in the provisioner queue (as when no
        provisioner runs: a new task stays ``pending``) until :meth:`finish_build`."""
        return self.state.hold_new_builds

    @hold_builds.setter
    def hold_builds(self, value: bool) -> None:
        self.state.hold_new_builds = bool(value)

    def hold_build(self, ref: uuid.UUID | str) -> None:
        """Keep the task's newest build where it is (queued, or running) until
        :meth:`finish_build`; it must not have ended: hold it right after the call that
        started it."""
        task = self.task(ref)
        build = task.latest_build
        job = build.job_status(self.clock.now())
        if not build.active(self.clock.now()):
            raise ValueError(f"the newest build of {task.name} has ended already")
        build.held = "pending" if job == "pending" else "running"
        task.rev += 1

    def finish_build(self, ref: uuid.UUID | str, outcome: str = "succeeded") -> None:
        """End the task's newest build now: ``succeeded``, ``failed`` or ``canceled``
        (a failed or canceled start leaves the task in ``error``; it can be resumed)."""
        if outcome not in ("succeeded", "failed", "canceled"):
            raise ValueError(f"outcome must be succeeded, failed or canceled, not {outcome!r}")
        self.state.release_build(self.task(ref), outcome)
        self.watch.poke()

    def report_state(self, ref: uuid.UUID | str, state: str, message: str = "") -> None:
        """The agent reports ``state`` now, as ``coder_report_task`` does: ``working``,
        ``idle``, ``complete`` or ``failure`` (``failed`` is taken for ``failure``; from
        v2.32 the task shows it as ``failed``).  The next input makes it work again."""
        if state == "failed":
            state = "failure"
        if state not in ("working", "idle", "complete", "failure"):
            raise ValueError(f"unknown app status state {state!r}")
        self.state.report_state(self.task(ref), state, message or state.title())
        self.watch.poke()

    def delete_out_of_band(self, ref: uuid.UUID | str) -> None:
        """The task vanishes as if deleted elsewhere (later GET → 404)."""
        self.state.delete_task(self.task(ref))
        self.watch.poke()

    def stop_out_of_band(self, ref: uuid.UUID | str) -> None:
        """The task's workspace is stopped elsewhere (``coder stop``): a stop build, after
        which the task is paused.

        The only way to pause a task on releases before v2.31.1, which have no
        pause endpoint; later releases also keep a log snapshot, as a pause does.
        """
        task = self.task(ref)
        self.state.pause(task, task.owner, "initiator")
        self.watch.poke()

    def start_out_of_band(self, ref: uuid.UUID | str) -> None:
        """The task's workspace is started elsewhere (``coder start``): a start build, as a
        resume makes (on any release; resume itself needs v2.31.1)."""
        task = self.task(ref)
        self.state.resume(task, task.owner, "initiator")
        self.watch.poke()

    def restart_agent(self, ref: uuid.UUID | str) -> None:
        """AgentAPI restarts: the conversation starts again at id 0 with a new initial screen."""
        self.state.restart_agent(self.task(ref))
        self.watch.poke()

    def set_error(self, ref: uuid.UUID | str) -> None:
        """The task's app turns unhealthy: status ``error`` (the workspace still runs)."""
        self.state.set_error(self.task(ref))
        self.watch.poke()
