"""The task side of the follower state machines (tests/client/test_*_properties.py).

One pause-capable FakeCoder on a fake clock serves one task; the rules send input (the
same few texts again and again), pause (also mid-reply), resume, inject faults into the
logs route and turn the workspace watch stream on, off, flapping, stalled or noisy.  A
machine adds its followers: a ``session`` rule and its invariants, checked in
``teardown`` after :meth:`settle`.
"""

from __future__ import annotations

import atexit
import os

from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule
from profiles import PAUSE_CAPABLE

from coder_tasks_async import CoderTasksClient, PollPolicy, Task
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)
TEXTS = ("same", "again", "same")
FAULTS = ("status", "html", "rate_limit", "truncated_json", "lost_response")


def machine_settings(steps: int) -> settings:
    """Short in CI, long with ``HYPOTHESIS_PROFILE=long``."""
    return settings(
        max_examples=200 if LONG else 30,
        stateful_step_count=30 if LONG else steps,
        derandomize=not LONG,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


class TaskSessionMachine(RuleBasedStateMachine):
    """One task served over loopback HTTP, and what can happen to it."""

    def __init__(self) -> None:
        super().__init__()
        self._portal_cm = start_blocking_portal(backend="asyncio")
        self.portal: BlockingPortal = self._portal_cm.__enter__()
        # Hypothesis always calls teardown(), but a script replaying a shrunk example dies
        # on the failure first: then the open portal was finalised at interpreter exit,
        # after its daemon thread had stopped, and waited for that thread for ever.
        self._closed = False
        atexit.register(self.close)
        self.clock = FakeClock(autojump=True)
        self.fake = FakeCoder(clock=self.clock, server_version=PAUSE_CAPABLE[0])
        self.portal.call(self.fake.start)
        self.coder = CoderTasksClient(self.fake.url, token=self.fake.token, clock=self.clock)
        self.task: Task = self.portal.call(self._create)
        self.resumes = 0

    async def _create(self) -> Task:
        await self.coder.__aenter__()
        return await self.coder.create_task(
            "same", template_version_id=self.fake.template_version_id
        )

    @property
    def status(self) -> str:
        return self.fake.task(self.task.id).status

    @precondition(lambda self: self.status in ("active", "paused"))
    @rule(text=st.sampled_from(TEXTS))
    def send(self, text: str) -> None:
        resumed = self.status == "paused"

        async def send() -> None:
            await self.coder.send_input(self.task, text, wait_ready=True, resume=True, poll=FAST)

        self.portal.call(send)
        self.resumes += resumed

    @precondition(lambda self: self.status == "active")
    @rule()
    def pause(self) -> None:
        self.portal.call(self.coder.pause_task, self.task)

    @precondition(lambda self: self.status == "paused")
    @rule()
    def resume(self) -> None:
        self.portal.call(self.coder.resume_task, self.task)
        self.resumes += 1

    # Three undecodable bodies in a row end the stream by design (a server that keeps
    # sending garbage), so cut bodies come at most two in a row.
    @precondition(lambda self: len(self.fake.faults) < 2)
    @rule(kind=st.sampled_from(FAULTS), times=st.integers(1, 3))
    def faults(self, kind: str, times: int) -> None:
        times = 1 if kind == "truncated_json" else times
        self.fake.faults.add(Fault("logs", kind, rate=0.5, times=times))

    def set_stream(self, stream: str) -> None:
        """The workspace watch stream (wake-ups) on, off, flapping, stalled or noisy."""
        faults = self.fake.watch.faults
        faults.refuse = stream == "off"
        faults.refuse_ws = stream == "sse"
        faults.drop_after = 1 if stream == "flapping" else None
        faults.stall = stream == "stalled"
        faults.duplicate = faults.noise = stream == "noisy"

    def settle(self) -> None:
        """No more faults, the task running and its agent idle: the final state."""
        self.fake.faults.clear()

        async def stopped() -> None:  # a pause's stop job may still run ("unknown")
            await self.coder.wait_for(
                self.task, until=lambda t: t.status != "unknown", poll=FAST, timeout=120
            )

        self.portal.call(stopped)
        if self.status == "paused":
            self.resume()

        async def idle() -> None:
            await self.coder.wait_for(self.task, until="idle", poll=FAST, timeout=120)

        self.portal.call(idle)

    def close(self) -> None:
        """Close the client, the fake and the portal (once; at exit if nobody did)."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            self.portal.call(self._close)
        finally:
            self._portal_cm.__exit__(None, None, None)

    async def _close(self) -> None:
        await self.coder.aclose()
        await self.fake.close()
