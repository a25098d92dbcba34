"""Property-based proof of shared followers (issue 27): exactly once for every follower.

Like tests/client/test_follow_properties.py (one bot against FakeCoder over loopback
HTTP, with pauses, resumes, faults and watch streams on, off, flapping or stalled), but
each session runs several followers of the same task in one client at once, so they
share one poller: they join at random moments, leave after some events (``break``) or
are cancelled at a random moment (possibly in the middle of the poller's read), each
resuming later from its own saved cursor, some settled and one live.  Invariants, for
every follower on its own: no entry of a conversation handed out twice as new, a new
conversation only for a resume, and at the end every message of the last conversation
with its final content (settled: exactly once).
"""

from __future__ import annotations

import os

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from profiles import PAUSE_CAPABLE

from coder_tasks_async import CoderTasksClient, LogEvent, LogEventKind, PollPolicy, Task
from coder_tasks_async._polling.shared import pollers_of
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

_LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)
TEXTS = ("same", "again", "same")
FAULTS = ("status", "html", "rate_limit", "truncated_json", "lost_response")
STREAMS = ("on", "off", "sse", "flapping", "stalled")
#: Followers by name; ``c`` follows live, the others settled.
NAMES = ("a", "b", "c", "d")

#: How a follower's session ends: at the session's end, after some events, or cancelled.
Leave = tuple[str, float]
LEAVES = st.one_of(
    st.just(("stay", 0.0)),
    st.tuples(st.just("after"), st.sampled_from((1.0, 2.0, 4.0))),
    st.tuples(st.just("cancel"), st.sampled_from((0.0, 0.3, 1.0, 2.5, 5.0))),
)
PLANS = st.dictionaries(
    st.sampled_from(NAMES),
    st.tuples(st.sampled_from((0.0, 0.5, 2.0, 4.0)), LEAVES),
    min_size=1,
    max_size=4,
)


class Follower:
    """One follower across sessions: its saved cursor and what it was handed."""

    def __init__(self, name: str) -> None:
        self.settled = name != "c"
        self.saved: str | None = None
        #: (conversation, entry id) -> (content, interrupted) as last handed out.
        self.delivered: dict[tuple[str, int], tuple[str, bool]] = {}
        self.conversations: set[str] = set()
        self.last = ""

    def check(self, event: LogEvent, resumes: int) -> None:
        self.last = event.conversation
        self.conversations.add(event.conversation)
        assert len(self.conversations) <= resumes + 1, "a new conversation without a resume"
        if event.entry is None:
            return
        key = (event.conversation, event.entry.id)
        if event.kind is LogEventKind.NEW:
            assert key not in self.delivered, f"entry {key} handed out twice"
        else:
            assert not self.settled and key in self.delivered, f"update of {key} unseen"
        self.delivered[key] = (event.entry.content, event.interrupted)


class SharedFollowersMachine(RuleBasedStateMachine):
    """Sessions of several followers of one task in one client (one shared poller)."""

    def __init__(self) -> None:
        super().__init__()
        self._portal_cm = start_blocking_portal(backend="asyncio")
        self.portal: BlockingPortal = self._portal_cm.__enter__()
        self.clock = FakeClock(autojump=True)
        self.fake = FakeCoder(clock=self.clock, server_version=PAUSE_CAPABLE[0])
        self.portal.call(self.fake.start)
        self.coder = CoderTasksClient(self.fake.url, token=self.fake.token, clock=self.clock)
        self.task: Task = self.portal.call(self._create)
        self.resumes = 0
        self.followers = {name: Follower(name) for name in NAMES}

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
        self.session(20.0, {"a": (0.0, ("stay", 0.0)), "b": (2.0, ("stay", 0.0))})

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

    @precondition(lambda self: len(self.fake.faults) < 2)
    @rule(kind=st.sampled_from(FAULTS), times=st.integers(1, 3))
    def faults(self, kind: str, times: int) -> None:
        times = 1 if kind == "truncated_json" else times
        self.fake.faults.add(Fault("logs", kind, rate=0.5, times=times))

    @rule(stream=st.sampled_from(STREAMS))
    def watch_stream(self, stream: str) -> None:
        faults = self.fake.watch.faults
        faults.refuse = stream == "off"
        faults.refuse_ws = stream == "sse"
        faults.drop_after = 1 if stream == "flapping" else None
        faults.stall = stream == "stalled"

    @rule(seconds=st.sampled_from((3.0, 8.0)), plan=PLANS)
    def run_followers(self, seconds: float, plan: dict[str, tuple[float, Leave]]) -> None:
        self.session(seconds, plan)

    def session(self, seconds: float, plan: dict[str, tuple[float, Leave]]) -> None:
        """The planned followers at once, each from its saved cursor, for ``seconds``."""

        async def run() -> None:
            deadline = self.clock.now() + seconds
            async with anyio.create_task_group() as tg:
                for name, (join_at, leave) in plan.items():
                    tg.start_soon(self._follow, self.followers[name], join_at, leave, deadline)
            assert pollers_of(self.coder) == {}, "a poller outlived its followers"

        self.portal.call(run)

    async def _follow(self, who: Follower, join_at: float, leave: Leave, deadline: float) -> None:
        await self.clock.sleep(join_at)
        how, when = leave
        with anyio.CancelScope() as scope:
            if how == "cancel":

                async def cancel_later() -> None:
                    await self.clock.sleep(when)
                    scope.cancel()

                canceller = anyio.CancelScope()

                async def cancel_guarded() -> None:
                    with canceller:
                        await cancel_later()

            follower = self.coder.follow_logs(
                self.task.id,
                settled=who.settled,
                cursor=who.saved,
                poll=FAST,
                until=lambda _: self.clock.now() >= deadline,
            )
            async with anyio.create_task_group() as tg:
                if how == "cancel":
                    tg.start_soon(cancel_guarded)
                taken = 0
                async with follower:
                    async for event in follower:
                        who.check(event, self.resumes)
                        who.saved = follower.cursor.dumps()
                        taken += 1
                        if how == "after" and taken >= when:
                            break  # left: nothing after this event was saved
                if how == "cancel":
                    canceller.cancel()

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
            self.session(30.0, dict.fromkeys(NAMES, (0.0, ("stay", 0.0))))
            final = self.fake.task(self.task.id).entries
            for who in self.followers.values():
                for entry in final:
                    got = who.delivered.get((who.last, entry["id"]))
                    assert got == (entry["content"], False), f"entry {entry['id']}: {got}"
        finally:
            self.portal.call(self._close)
            self._portal_cm.__exit__(None, None, None)

    async def _close(self) -> None:
        await self.coder.aclose()
        await self.fake.close()


TestSharedFollowers = SharedFollowersMachine.TestCase
TestSharedFollowers.settings = settings(
    max_examples=200 if _LONG else 30,
    stateful_step_count=30 if _LONG else 15,
    derandomize=not _LONG,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
