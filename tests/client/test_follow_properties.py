"""Property-based proof through the real follower over loopback HTTP against FakeCoder.

Smaller than the tracker suite (tests/unit/test_tracker_properties.py): this one proves the
I/O path.  A pause-capable FakeCoder on a fake clock serves one task; the machine
sends input (the same few texts again and again), pauses (also mid-reply), resumes,
injects faults into the logs route (5xx, 429, HTML, cut bodies, lost responses), turns
the workspace watch stream (wake-ups) on, off, flapping, stalled or noisy, and runs bot
sessions: each follows settled from the saved cursor for a while, saving the
cursor after every event, and may be killed after any event.  Invariants: no entry of a
conversation twice, a RESET only for a resume, and at the end every message of the last
conversation exactly once with its final content.
"""

from __future__ import annotations

import os

from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from profiles import PAUSE_CAPABLE

from coder_tasks_async import CoderTasksClient, LogEvent, LogEventKind, PollPolicy, Task
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

_LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)
TEXTS = ("same", "again", "same")
FAULTS = ("status", "html", "rate_limit", "truncated_json", "lost_response")
STREAMS = ("on", "off", "sse", "flapping", "stalled", "noisy")


class HttpFollowerMachine(RuleBasedStateMachine):
    """Bot sessions against FakeCoder; the clock only moves when someone waits on it."""

    def __init__(self) -> None:
        super().__init__()
        self._portal_cm = start_blocking_portal(backend="asyncio")
        self.portal: BlockingPortal = self._portal_cm.__enter__()
        self.clock = FakeClock(autojump=True)
        self.fake = FakeCoder(clock=self.clock, server_version=PAUSE_CAPABLE[0])
        self.portal.call(self.fake.start)
        self.coder = CoderTasksClient(self.fake.url, token=self.fake.token, clock=self.clock)
        self.task: Task = self.portal.call(self._create)
        self.saved: str | None = None
        self.conversation = self.saved_conversation = 0
        self.resumes = 0
        self.delivered: dict[tuple[int, int], tuple[str, bool]] = {}

    async def _create(self) -> Task:
        await self.coder.__aenter__()
        return await self.coder.create_task(
            "same", template_version_id=self.fake.template_version_id
        )

    @property
    def status(self) -> str:
        return self.fake.task(self.task.id).status

    @initialize()
    def first_session(self) -> None:
        self.session(20.0, None)

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

    @rule(stream=st.sampled_from(STREAMS))
    def watch_stream(self, stream: str) -> None:
        """The workspace watch stream (wake-ups) on, off, flapping, stalled or noisy."""
        faults = self.fake.watch.faults
        faults.refuse = stream == "off"
        faults.refuse_ws = stream == "sse"
        faults.drop_after = 1 if stream == "flapping" else None
        faults.stall = stream == "stalled"
        faults.duplicate = faults.noise = stream == "noisy"

    @rule(seconds=st.sampled_from((2.0, 6.0, 15.0)), kill=st.none() | st.integers(1, 3))
    def run_bot(self, seconds: float, kill: int | None) -> None:
        self.session(seconds, kill)

    def session(self, seconds: float, kill_after: int | None) -> None:
        """One bot run from the saved cursor, for ``seconds`` of fake time or until killed."""
        self.conversation = self.saved_conversation  # what the saved cursor knows

        async def run() -> None:
            deadline = self.clock.now() + seconds
            follower = self.coder.follow_logs(
                self.task.id,
                settled=True,
                cursor=self.saved,
                poll=FAST,
                until=lambda _: self.clock.now() >= deadline,
            )
            taken = 0
            async with follower:
                async for event in follower:
                    self.check(event)
                    self.saved = follower.cursor.dumps()
                    self.saved_conversation = self.conversation
                    taken += 1
                    if kill_after is not None and taken >= kill_after:
                        return  # killed: nothing after this event was saved
            self.saved = follower.cursor.dumps()

        self.portal.call(run)

    def check(self, event: LogEvent) -> None:
        if event.kind is LogEventKind.RESET:
            self.conversation += 1
            assert self.conversation <= self.resumes, "a RESET without a resume"
        elif event.entry is not None:
            key = (self.conversation, event.entry.id)
            assert key not in self.delivered, f"entry {key} handed out twice"
            self.delivered[key] = (event.entry.content, event.interrupted)

    def teardown(self) -> None:
        try:
            self.fake.faults.clear()

            async def stopped() -> None:  # a pause's stop job may still run ("unknown")
                await self.coder.wait_for(
                    self.task, until=lambda t: t.status != "unknown", poll=FAST, timeout=120
                )

            self.portal.call(stopped)
            if self.status == "paused":
                self.resume()

            async def settle() -> None:
                await self.coder.wait_for(self.task, until="idle", poll=FAST, timeout=120)

            self.portal.call(settle)
            self.session(30.0, None)
            final = self.fake.task(self.task.id).entries
            assert self.conversation <= self.resumes
            for entry in final:
                got = self.delivered.get((self.conversation, entry["id"]))
                assert got == (entry["content"], False), f"entry {entry['id']}: {got}"
        finally:
            self.portal.call(self._close)
            self._portal_cm.__exit__(None, None, None)

    async def _close(self) -> None:
        await self.coder.aclose()
        await self.fake.close()


TestHttpFollower = HttpFollowerMachine.TestCase
TestHttpFollower.settings = settings(
    max_examples=200 if _LONG else 30,
    stateful_step_count=30 if _LONG else 20,
    derandomize=not _LONG,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
