"""The tracker digests only text that changed since the last poll (issue 15).

A follower polls the same window of up to 32 entries again and again; each poll
used to digest every final entry in it.  Now an entry whose text hashes the same
as last time is not digested again, and what the cursor saves is unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from tracking import make_task

from coder_tasks_async import ConversationTracker, LogCursor, LogEventKind
from coder_tasks_async._polling import tracker as tracker_module

_TIME = "2025-10-27T14:03:38.114201553Z"


def _entry(entry_id: int, content: str, kind: str = "output") -> dict[str, Any]:
    return {"id": entry_id, "type": kind, "content": content, "time": _TIME}


def _drain(tracker: ConversationTracker) -> list[Any]:
    events = []
    while (event := tracker.take()) is not None:
        events.append(event)
    return events


@pytest.fixture
def digests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the tracker digests, in order (a spy around the real digest)."""
    seen: list[str] = []
    real = tracker_module.digest

    def spy(content: str) -> str:
        seen.append(content)
        return real(content)

    monkeypatch.setattr(tracker_module, "digest", spy)
    return seen


def test_an_unchanged_window_is_not_digested_again(digests: list[str]) -> None:
    tracker = ConversationTracker()
    logs = [_entry(i, f"text {i}") for i in range(1, 11)]
    tracker.observe(make_task(), logs, False)
    assert len(_drain(tracker)) == 10
    digests.clear()
    for _ in range(3):
        assert not tracker.observe(make_task(), [dict(e) for e in logs], False)
    assert digests == []


def test_only_the_changed_entry_is_digested(digests: list[str]) -> None:
    tracker = ConversationTracker()
    logs = [_entry(i, f"text {i}") for i in range(1, 6)]
    tracker.observe(make_task(), logs, False)
    _drain(tracker)
    tracker.observe(make_task(), logs, False)  # the final entries' hashes are learnt
    digests.clear()
    logs[-1] = _entry(5, "text 5, and more")
    tracker.observe(make_task(), logs, False)
    assert digests == ["text 5, and more"]
    (event,) = _drain(tracker)
    assert event.kind is LogEventKind.UPDATE
    assert event.entry.content == "text 5, and more"


def test_a_changed_final_entry_is_still_noticed() -> None:
    tracker = ConversationTracker()
    logs = [_entry(1, "hello"), _entry(2, "world")]
    tracker.observe(make_task(), logs, False)
    _drain(tracker)
    tracker.observe(make_task(), logs, False)
    rewritten = [_entry(1, "HELLO"), _entry(2, "world")]
    # Once could be a glitch; twice is a restarted agent: everything again, after a RESET.
    tracker.observe(make_task(), rewritten, False)
    assert _drain(tracker) == []
    tracker.observe(make_task(), rewritten, False)
    kinds = [e.kind for e in _drain(tracker)]
    assert kinds == [LogEventKind.RESET, LogEventKind.NEW, LogEventKind.NEW]


def test_the_saved_cursor_does_not_carry_the_hashes() -> None:
    tracker = ConversationTracker()
    logs = [_entry(1, "hello"), _entry(2, "world")]
    tracker.observe(make_task(), logs, False)
    _drain(tracker)
    tracker.observe(make_task(), logs, False)
    cursor = tracker.cursor
    assert any(seen.quick for seen in cursor.window.values())
    restored = LogCursor.loads(cursor.dumps())
    assert restored == cursor
    assert all(seen.quick == 0 for seen in restored.window.values())
    assert "quick" not in repr(cursor) and "quick" not in cursor.dumps()


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the tracker hashes with ``hash()``, in order (a spy around the builtin)."""
    seen: list[str] = []

    def spy(value: object) -> int:
        if isinstance(value, str):
            seen.append(value)
        return hash(value)

    monkeypatch.setattr(tracker_module, "hash", spy, raising=False)
    return seen


def test_a_reply_that_grows_is_digested_but_not_hashed(
    digests: list[str], hashed: list[str]
) -> None:
    # A reply that grows on every poll: its new length says it changed, so the only pass
    # over its text is the digest the cursor keeps (no hash() first).
    tracker = ConversationTracker()
    reply = "working"
    tracker.observe(make_task(), [_entry(1, "hi", "input"), _entry(2, reply)], False)
    _drain(tracker)
    for _ in range(3):
        reply += " and more"
        digests.clear()
        hashed.clear()
        tracker.observe(make_task(), [_entry(1, "hi", "input"), _entry(2, reply)], False)
        (event,) = _drain(tracker)
        assert event.kind is LogEventKind.UPDATE
        assert event.entry.content == reply
        assert digests == [reply]
        assert reply not in hashed
    # Unchanged from then on: hashed (and digested once, its hash unknown), then hashed only.
    for rounds in range(2):
        digests.clear()
        tracker.observe(make_task(), [_entry(1, "hi", "input"), _entry(2, reply)], False)
        assert _drain(tracker) == []
        assert digests == ([reply] if rounds == 0 else [])


def test_a_change_that_keeps_the_length_is_still_an_update() -> None:
    tracker = ConversationTracker()
    tracker.observe(make_task(), [_entry(1, "step 1")], False)
    _drain(tracker)
    tracker.observe(make_task(), [_entry(1, "step 2")], False)
    (event,) = _drain(tracker)
    assert event.kind is LogEventKind.UPDATE
    assert event.entry.content == "step 2"


def test_a_final_entry_of_another_length_is_noticed() -> None:
    tracker = ConversationTracker()
    logs = [_entry(1, "hello"), _entry(2, "world")]
    tracker.observe(make_task(), logs, False)
    _drain(tracker)
    rewritten = [_entry(1, "hello again"), _entry(2, "world")]
    tracker.observe(make_task(), rewritten, False)
    assert _drain(tracker) == []  # once could be a glitch
    tracker.observe(make_task(), rewritten, False)
    kinds = [e.kind for e in _drain(tracker)]
    assert kinds == [LogEventKind.RESET, LogEventKind.NEW, LogEventKind.NEW]


def test_the_saved_cursor_does_not_carry_the_lengths() -> None:
    tracker = ConversationTracker()
    tracker.observe(make_task(), [_entry(1, "hello"), _entry(2, "world")], False)
    _drain(tracker)
    cursor = tracker.cursor
    assert [seen.size for seen in cursor.window.values()] == [5, 5]
    restored = LogCursor.loads(cursor.dumps())
    assert restored == cursor
    assert all(seen.size == -1 for seen in restored.window.values())
    assert "size" not in repr(cursor) and "size" not in cursor.dumps()


def test_a_restored_cursors_unchanged_entries_are_digested_once(digests: list[str]) -> None:
    # A restored cursor knows neither the hashes nor the lengths: the first poll digests
    # the window once to learn them, and later polls of the same text digest nothing.
    first = ConversationTracker()
    logs = [_entry(1, "hello"), _entry(2, "world, still being written")]
    first.observe(make_task(), logs, False)
    _drain(first)
    tracker = ConversationTracker(cursor=first.cursor.dumps())
    digests.clear()
    for _ in range(3):
        assert not tracker.observe(make_task(), [dict(e) for e in logs], False)
    assert digests == ["hello", "world, still being written"]
