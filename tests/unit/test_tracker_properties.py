"""Property-based proof of the exactly-once guarantee, against the pure tracker.

A model server holds a conversation that grows, rewrites its last entry, restarts
its agent, pauses (stored snapshot), resumes (a new build), and answers some polls
oddly: empty, stale, duplicated, out of order, truncated, with negative or missing
ids, or not at all (429/5xx).  A follower reads it through ``ConversationTracker``,
saves its cursor after every event, and may crash at any point and resume from
the saved cursor.  Every event is checked against the conversation it came from.

Profiles: ``ci`` (default; derandomized, a fixed budget) and ``long``
(``HYPOTHESIS_PROFILE=long``) for local runs.
"""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from tracking import make_task

from coder_tasks_async import ConversationTracker, LogEvent, LogEventKind, TaskState, TaskStatus
from coder_tasks_async._polling.logcursor import WINDOW

_LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
SETTINGS = settings(
    max_examples=2000 if _LONG else 800,
    stateful_step_count=60 if _LONG else 40,
    derandomize=not _LONG,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_TIME = "2025-10-27T14:03:38.114201553Z"
#: A snapshot keeps only the tail of the conversation.
SNAPSHOT_SIZE = 4
#: Odd answers that could be taken for a restart; never two in a row.
MISLEADING = ("empty", "stale", "truncated", "gap")
GLITCHES = ("good", "good", "good", "duplicate", "shuffled", "negative", "error", *MISLEADING)
TEXTS = ("same", "hi", "go")


class Server:
    """The model server: one task, its runs and conversations (``gen`` numbers them)."""

    def __init__(self) -> None:
        self.gen = 0
        self.build = 1
        self.agent: UUID | None = UUID(int=100, version=4)
        self.status = "active"
        self.working = False
        self.entries: list[list[str]] = [["output", "screen"]]
        self.tagged = False
        self.history: list[list[dict[str, Any]]] = []
        self.snapshot: list[dict[str, Any]] = []
        self.snapshot_gen = -1
        self.snapshot_working = False
        #: (gen, id) -> the content the entry has now (its final content once the gen ended).
        self.content: dict[tuple[int, int], str] = {(0, 0): "screen"}

    def text(self, text: str) -> str:
        return f"{text} #{self.gen}" if self.tagged else text

    def body(self) -> list[dict[str, Any]]:
        return [
            {"id": i, "type": kind, "content": text, "time": _TIME}
            for i, (kind, text) in enumerate(self.entries)
        ]

    def set_entry(self, entry_id: int, entry_type: str, content: str) -> None:
        if entry_id == len(self.entries):
            self.entries.append([entry_type, content])
        else:
            self.entries[entry_id] = [entry_type, content]
        self.content[(self.gen, entry_id)] = content
        self.history = [*self.history[-4:], self.body()]

    def new_conversation(self, *, tagged: bool) -> None:
        self.gen += 1
        self.tagged = tagged
        self.entries, self.history, self.working = [], [], False
        self.set_entry(0, "output", self.text("screen"))

    def task_state(self) -> tuple[TaskStatus, TaskState]:
        if self.status == "paused":
            return TaskStatus.PAUSED, TaskState.WORKING if self.snapshot_working else TaskState.IDLE
        if self.status == "starting":
            return TaskStatus.INITIALIZING, TaskState.WORKING
        return TaskStatus.ACTIVE, TaskState.WORKING if self.working else TaskState.IDLE


class FollowerMachine(RuleBasedStateMachine):
    """A follower (the tracker) against the model server, with crashes."""

    settled = True

    def __init__(self) -> None:
        super().__init__()
        self.server = Server()
        self.tracker = ConversationTracker(settled=self.settled)
        self.saved: str | None = None
        #: The conversation the follower is in, saved along with its cursor.
        self.follower_gen: int | None = None
        self.saved_gen: int | None = None
        self.has_entries = self.saved_has = False
        self.delivered: dict[tuple[int, int], list[tuple[str, str]]] = {}
        self.last_misleading = False
        self.resets = 0
        self.conversation_changes = 0

    @initialize(pending=st.booleans())
    def start(self, pending: bool) -> None:
        if pending:
            # Just created: no build number, no agent, no conversation yet.  A follower
            # may start (and save its cursor) before the first run is up.
            server = self.server
            server.status, server.build, server.agent = "starting", 0, None
            server.entries, server.history, server.content = [], [], {}
        self.poll_once("good")

    # -- the server ------------------------------------------------------------

    @precondition(lambda self: self.server.status == "active" and not self.server.working)
    @rule(text=st.sampled_from(TEXTS))
    def send(self, text: str) -> None:
        server = self.server
        server.set_entry(len(server.entries), "input", server.text(text))
        server.set_entry(len(server.entries), "output", "…")
        server.working = True

    @precondition(lambda self: self.server.working)
    @rule(token=st.sampled_from(("a", "b", "")))
    def grow(self, token: str) -> None:
        server = self.server
        last = len(server.entries) - 1
        server.set_entry(last, "output", server.entries[last][1] + token + ".")

    @precondition(lambda self: self.server.working)
    @rule()
    def finish(self) -> None:
        self.server.working = False

    # A restart inside one run shows no run identity: only content tells it, which is
    # certain only once the follower holds two entries of the conversation (documented).
    @precondition(
        lambda self: (
            self.server.status == "active"
            and self.follower_gen == self.server.gen
            and (self.tracker.cursor.last_id or 0) >= 1
        )
    )
    @rule()
    def restart_agent(self) -> None:
        self.server.new_conversation(tagged=True)
        self.conversation_changes += 1

    # A snapshot shows no run identity either: it is taken for the last conversation
    # the follower saw live (documented), so pauses come once the follower saw it.
    @precondition(
        lambda self: (
            self.server.status == "active"
            and (self.follower_gen == self.server.gen or self.tracker.cursor.empty)
        )
    )
    @rule()
    def pause(self) -> None:
        server = self.server
        server.snapshot = server.body()[-SNAPSHOT_SIZE:]
        server.snapshot_gen = server.gen
        server.snapshot_working = server.working
        server.status, server.working = "paused", False
        server.build += 1
        server.agent = None

    @precondition(lambda self: self.server.status == "paused")
    @rule()
    def resume(self) -> None:
        self.server.status = "starting"
        self.server.build += 1
        self.server.agent = UUID(int=100 + self.server.build, version=4)

    @precondition(lambda self: self.server.status == "starting")
    @rule()
    def agent_up(self) -> None:
        if self.server.build == 0:  # the first run of a task created pending
            self.server.build, self.server.agent = 1, UUID(int=101, version=4)
        self.server.status = "active"
        self.server.new_conversation(tagged=False)  # same first screen as before
        self.conversation_changes += 1

    # -- the follower ------------------------------------------------------------

    @rule(glitch=st.sampled_from(GLITCHES), data=st.data())
    def poll(self, glitch: str, data: st.DataObject) -> None:
        self.poll_once(glitch, data)

    @rule(glitch=st.sampled_from(GLITCHES), data=st.data(), keep=st.integers(0, 3))
    def poll_then_crash(self, glitch: str, data: st.DataObject, keep: int) -> None:
        self.poll_once(glitch, data, keep=keep)
        self.crash()

    @rule()
    def crash(self) -> None:
        self.tracker = ConversationTracker(settled=self.settled, cursor=self.saved)
        self.follower_gen, self.has_entries = self.saved_gen, self.saved_has

    def poll_once(self, glitch: str, data: st.DataObject | None = None, keep: int = -1) -> None:
        server = self.server
        if glitch == "error":
            return  # a 429/5xx or a cut body: the tracker sees nothing
        if glitch in MISLEADING and self.last_misleading:
            glitch = "good"  # the next answer the tracker sees is a real one
        self.last_misleading = glitch in MISLEADING
        snapshot = server.status != "active"
        body = list(server.snapshot) if snapshot else server.body()
        gen = server.snapshot_gen if snapshot else server.gen
        if snapshot and glitch in ("stale", "truncated", "gap"):
            glitch = "good"  # a stored snapshot is served whole
        body = _glitch(glitch, body, server.history, data)
        status, state = server.task_state()
        task = make_task(status=status, state=state, build=server.build, agent=server.agent)
        self.tracker.observe(task, body, snapshot)
        taken = 0
        while keep < 0 or taken < keep:
            event = self.tracker.take()
            if event is None:
                break
            taken += 1
            self.check(event, gen, body if snapshot else None)
            self.saved = self.tracker.cursor.dumps()
            self.saved_gen, self.saved_has = self.follower_gen, self.has_entries

    def check(self, event: LogEvent, gen: int, snapshot: list[dict[str, Any]] | None) -> None:
        if event.kind is LogEventKind.PAUSED:
            assert snapshot is not None
            return
        if event.kind is LogEventKind.RESET:
            assert gen != self.follower_gen, "RESET without a real restart"
            self.follower_gen, self.has_entries = gen, False
            self.resets += 1
            assert self.resets <= self.conversation_changes
            return
        entry = event.entry
        if self.follower_gen is None or not self.has_entries:
            # Holding nothing of a conversation, the follower has nothing to tell apart.
            self.follower_gen = gen
        assert gen == self.follower_gen, f"an entry of conversation {gen} without a RESET"
        self.has_entries = True
        key = (gen, entry.id)
        if self.settled:  # handed out once, so with its final content
            assert entry.content == self.server.content[key]
        before = self.delivered.setdefault(key, [])
        if self.settled or not before:
            assert event.kind is LogEventKind.NEW and not before, f"{key} handed out twice"
        else:
            assert event.kind is LogEventKind.UPDATE, f"{key} NEW twice"
        before.append((event.kind.value, entry.content))
        cut = (
            snapshot is not None
            and self.server.status == "paused"
            and self.server.snapshot_working
            and entry.id == max(e["id"] for e in snapshot)
            and entry.type.value == "output"
        )
        assert event.interrupted == cut

    # -- invariants --------------------------------------------------------------

    @invariant()
    def bounded(self) -> None:
        assert len(self.tracker.cursor.window) <= WINDOW
        assert len(self.tracker.cursor.dumps()) < 4096

    def teardown(self) -> None:
        """Let the conversation settle, poll it, and check it arrived complete."""
        server = self.server
        if server.status == "paused":
            self.resume()
        if server.status == "starting":
            self.agent_up()
        server.working = False
        self.last_misleading = False
        for _ in range(4):
            self.poll_once("good")
        for entry_id, (_, content) in enumerate(server.entries):
            got = self.delivered.get((server.gen, entry_id))
            assert got, f"entry {entry_id} of the last conversation never arrived"
            assert got[0][0] == "new"
            assert got[-1][1] == content, "the final content did not arrive last"


def _glitch(
    glitch: str,
    body: list[dict[str, Any]],
    history: list[list[dict[str, Any]]],
    data: st.DataObject | None,
) -> list[dict[str, Any]]:
    if glitch == "good" or data is None or not body:
        return [] if glitch == "empty" else body
    if glitch == "empty":
        return []
    if glitch == "stale":
        return data.draw(st.sampled_from(history)) if history else body
    if glitch == "truncated":
        return body[: data.draw(st.integers(0, len(body) - 1))]
    if glitch == "gap":
        if len(body) < 3:
            return body
        hole = data.draw(st.integers(1, len(body) - 2))
        return body[:hole] + body[hole + 1 :]
    if glitch == "duplicate":
        twice = data.draw(st.integers(0, len(body) - 1))
        return [*body[: twice + 1], body[twice], *body[twice + 1 :]]
    if glitch == "shuffled":
        return data.draw(st.permutations(body))
    if glitch == "negative":
        return [{**body[0], "id": -1 - data.draw(st.integers(0, 3)), "content": "?"}, *body]
    raise AssertionError(glitch)


class LiveMachine(FollowerMachine):
    """The same, in live mode (NEW once, then UPDATEs)."""

    settled = False


TestSettled = FollowerMachine.TestCase
TestSettled.settings = SETTINGS
TestLive = LiveMachine.TestCase
TestLive.settings = SETTINGS
