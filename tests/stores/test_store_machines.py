"""Hypothesis state machines, run against both real stores.

* The lease table: claims, renewals, releases and expiry as the store's clock moves,
  and fenced saves, checked step by step against a model: a key changes hands only
  when free or expired, its token grows every time it does, the holder's renewal
  keeps it, and a save succeeds exactly when its token is the key's current one.
* Acknowledgements: events handed out, acknowledged in any order or implicitly
  (asking for the next one), with leases taken over in between: the saved cursor is
  always the newest acknowledged one a current holder saved, never an older one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)
from storekit import KINDS, store_maker

from coder_tasks_async import CursorStore, LeaseLostError, LogCursor, ResetEvent
from coder_tasks_async._polling.acks import Acks

WORKERS = ("w1", "w2", "w3")
KEYS = ("k1", "k2", "k3", "k4")
TTL = 10.0
SETTINGS = settings(max_examples=25, stateful_step_count=25, deadline=None)


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal("asyncio") as running:
        yield running


class LeaseTable(RuleBasedStateMachine):
    """The store's leases against a dict: key -> (holder or None, token, expires)."""

    store: CursorStore
    portal: BlockingPortal

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_000.0
        self.rows: dict[str, tuple[str | None, int, float]] = {}
        self.saved: dict[str, str] = {}
        self.store = self.make(lambda: self.now)

    def make(self, now: Any) -> CursorStore:
        raise NotImplementedError

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.store, name)
        return self.portal.call(lambda: method(*args, **kwargs))

    @rule(worker=st.sampled_from(WORKERS), keys=st.sets(st.sampled_from(KEYS), max_size=3))
    def claim(self, worker: str, keys: set[str]) -> None:
        expected: dict[str, int] = {}
        for key in sorted(keys):
            holder, token, expires = self.rows.get(key, (None, 0, 0.0))
            if holder == worker:
                expected[key] = token
            elif holder is None or expires <= self.now:
                expected[key] = token + 1
            else:
                continue
            self.rows[key] = (worker, expected[key], self.now + TTL)
        assert self.call("claim", keys, worker, TTL) == expected

    @rule(worker=st.sampled_from(WORKERS), keys=st.sets(st.sampled_from(KEYS), max_size=3))
    def release(self, worker: str, keys: set[str]) -> None:
        for key in keys:
            holder, token, _ = self.rows.get(key, (None, 0, 0.0))
            if holder == worker:
                self.rows[key] = (None, token, 0.0)
        self.call("release", keys, worker)

    @rule(seconds=st.sampled_from([0.5, 3.0, TTL, 2 * TTL]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @rule(key=st.sampled_from(KEYS), token=st.integers(0, 4), text=st.text(max_size=5))
    def fenced_save(self, key: str, token: int, text: str) -> None:
        current = self.rows.get(key, (None, 0, 0.0))[1]
        if "\x00" in text:  # never in a cursor's JSON; PostgreSQL cannot store it
            with pytest.raises(ValueError, match="NUL"):
                self.call("save", key, text, token=token)
        elif key in self.rows and token == current:
            self.call("save", key, text, token=token)
            self.saved[key] = text
        else:
            with pytest.raises(LeaseLostError):
                self.call("save", key, text, token=token)

    @invariant()
    def live_leases_match(self) -> None:
        live = {
            (key, holder, token)
            for key, (holder, token, expires) in self.rows.items()
            if holder is not None and expires > self.now
        }
        got = {(lease.key, lease.holder, lease.token) for lease in self.call("leases")}
        assert got == live

    @invariant()
    def cursors_match(self) -> None:
        assert self.call("load_many", KEYS) == self.saved

    def teardown(self) -> None:
        self.call("aclose")


class AckBook(RuleBasedStateMachine):
    """One follower's ``Acks`` on a real store: stamps, acks in any order, takeovers."""

    store: CursorStore
    portal: BlockingPortal
    stamped = Bundle("stamped")

    def __init__(self) -> None:
        super().__init__()
        self.task = uuid.uuid4()
        self.key = str(self.task)
        self.store = self.make()
        self.token: int | None = self.call(self.store.claim, [self.key], "me", 3600)[self.key]
        self.acks = Acks(self.store, token_of=lambda _: self.token, on_lost=self.lost, fenced=True)
        self.cursor = LogCursor(task_id=self.task)
        self.counter = 0
        #: Sequence numbers as the cursor text: the saved cursor names the newest saved.
        self.saved = 0
        self.lost_seen = False

    def make(self) -> CursorStore:
        raise NotImplementedError

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return self.portal.call(lambda: fn(*args, **kwargs))

    def lost(self, task_id: uuid.UUID) -> None:
        assert task_id == self.task
        self.lost_seen = True

    @rule(target=stamped)
    def hand_out(self) -> tuple[int, Any, int | None]:
        self.counter += 1
        self.cursor.last_id = self.counter
        event = self.acks.stamp(ResetEvent(task_id=self.task), self.cursor)
        return self.counter, event, self.token

    @rule(item=stamped)
    def ack(self, item: tuple[int, Any, int | None]) -> None:
        seq, event, token = item
        if seq <= self.saved:
            self.call(event.ack)  # covered by a newer save: nothing to do
        elif token is not None and token == self.token:
            self.call(event.ack)
            self.saved = seq
        else:  # stamped before a takeover, or after it (not held): refused
            with pytest.raises(LeaseLostError):
                self.call(event.ack)

    @rule()
    def next_asked(self) -> None:
        pending = self.acks.pending
        self.call(self.acks.flush)
        if pending and self.token is not None:
            self.saved = max(self.saved, self.counter)
        elif pending and self.counter > self.saved:
            assert self.lost_seen  # not an error: the task is left to its new holder
        assert not self.acks.pending

    @precondition(lambda self: self.token is not None)
    @rule()
    def taken_over(self) -> None:
        """Another worker takes the task over (the lease is released and re-claimed)."""
        self.call(self.store.release, [self.key], "me")
        self.call(self.store.claim, [self.key], "other", 3600)
        self.token = None

    @invariant()
    def the_store_holds_the_newest_saved(self) -> None:
        text = self.call(self.store.load, self.key)
        if self.saved == 0:
            assert text is None
        else:
            assert LogCursor.loads(text).last_id == self.saved

    def teardown(self) -> None:
        self.call(self.store.aclose)


@pytest.mark.parametrize("kind", KINDS)
def test_the_lease_table(
    kind: str, portal: BlockingPortal, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    maker = store_maker(kind, request, tmp_path)

    class Machine(LeaseTable):
        def make(self, now: Any) -> CursorStore:
            return maker(now=now)

    Machine.portal = portal
    Machine.TestCase.settings = SETTINGS
    Machine.TestCase().runTest()


@pytest.mark.parametrize("kind", KINDS)
def test_acknowledgements(
    kind: str, portal: BlockingPortal, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    maker = store_maker(kind, request, tmp_path)

    class Machine(AckBook):
        def make(self) -> CursorStore:
            return maker()

    Machine.portal = portal
    Machine.TestCase.settings = SETTINGS
    Machine.TestCase().runTest()
