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

from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule
from session_machine import FAST, TaskSessionMachine, machine_settings

from coder_tasks_async import LogEvent, LogEventKind

STREAMS = ("on", "off", "sse", "flapping", "stalled", "noisy")


class HttpFollowerMachine(TaskSessionMachine):
    """Bot sessions against FakeCoder; the clock only moves when someone waits on it."""

    def __init__(self) -> None:
        super().__init__()
        self.saved: str | None = None
        self.conversation = self.saved_conversation = 0
        self.delivered: dict[tuple[int, int], tuple[str, bool]] = {}

    @initialize()
    def first_session(self) -> None:
        self.session(20.0, None)

    @rule(stream=st.sampled_from(STREAMS))
    def watch_stream(self, stream: str) -> None:
        self.set_stream(stream)

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
            self.settle()
            self.session(30.0, None)
            final = self.fake.task(self.task.id).entries
            assert self.conversation <= self.resumes
            for entry in final:
                got = self.delivered.get((self.conversation, entry["id"]))
                assert got == (entry["content"], False), f"entry {entry['id']}: {got}"
        finally:
            self.close()


TestHttpFollower = HttpFollowerMachine.TestCase
TestHttpFollower.settings = machine_settings(20)
