"""The log cursor on its own: new, update, reset, settled mode, persistence, bounds."""

from __future__ import annotations

from typing import Any

import pytest

from coder_tasks_async._polling.logcursor import WINDOW, LogCursor, StepKind


def entry(i: int, content: str, kind: str = "output") -> dict[str, Any]:
    return {"id": i, "content": content, "type": kind, "time": "2025-10-27T14:03:38.114201553Z"}


def run(
    cursor: LogCursor,
    logs: list[dict[str, Any]],
    *,
    snapshot: bool = False,
    settled: bool | None = None,
) -> list[tuple[str, int, str]]:
    """Plan and commit one poll; return what the caller would see."""
    out = []
    for step in cursor.plan(logs, snapshot, settled=settled):
        cursor.commit(step)
        if step.kind is StepKind.RESET:
            out.append(("reset", -1, ""))
        elif step.kind is not StepKind.SKIP:
            content = step.raw["content"] if step.raw else ""
            out.append((step.kind.value, step.id, content))
    return out


def conversation(*contents: str) -> list[dict[str, Any]]:
    return [entry(i, c, "input" if i % 2 else "output") for i, c in enumerate(contents)]


def test_first_poll_emits_everything_once() -> None:
    cursor = LogCursor()
    logs = conversation("screen", "do it", "work")
    assert run(cursor, logs) == [("new", 0, "screen"), ("new", 1, "do it"), ("new", 2, "work")]
    assert run(cursor, logs) == []


def test_growing_last_entry_is_an_update_never_a_repeat() -> None:
    cursor = LogCursor()
    run(cursor, conversation("screen", "do it", "wo"))
    assert run(cursor, conversation("screen", "do it", "working")) == [("update", 2, "working")]
    assert run(cursor, conversation("screen", "do it", "working")) == []
    assert run(cursor, conversation("screen", "do it", "working!", "more")) == [
        ("update", 2, "working!"),
        ("new", 3, "more"),
    ]


def test_shrinking_last_entry_is_an_update() -> None:
    cursor = LogCursor()
    run(cursor, conversation("a", "b", "long text"))
    assert run(cursor, conversation("a", "b", "short")) == [("update", 2, "short")]


def test_ids_going_backwards_is_a_reset_then_new_entries() -> None:
    cursor = LogCursor()
    run(cursor, conversation("screen", "do it", "done", "next", "reply"))
    events = run(cursor, conversation("fresh screen"))
    assert events == [("reset", -1, ""), ("new", 0, "fresh screen")]


def test_changed_final_entry_is_a_reset() -> None:
    cursor = LogCursor()
    run(cursor, conversation("screen", "do it", "reply"))
    events = run(cursor, conversation("other", "prompt", "reply", "x"))
    assert events[0][0] == "reset"
    # A conversation that starts differently is new throughout, even where a later
    # message repeats an old one's text.
    assert events[1:] == [
        ("new", 0, "other"),
        ("new", 1, "prompt"),
        ("new", 2, "reply"),
        ("new", 3, "x"),
    ]


def test_a_restored_conversation_is_not_sent_again() -> None:
    cursor = LogCursor()
    run(cursor, conversation("screen", "do it", "reply"))
    # The agent restarted and restored the same conversation, then went on.
    events = run(cursor, [entry(0, "screen"), entry(1, "do it", "input"), entry(2, "reply")])
    assert events == []
    assert run(cursor, conversation("screen", "do it", "reply", "next")) == [("new", 3, "next")]


def test_type_change_is_a_reset() -> None:
    cursor = LogCursor()
    run(cursor, [entry(0, "a", "output"), entry(1, "b", "input")])
    events = run(cursor, [entry(0, "a", "output"), entry(1, "b", "output")])
    assert events[0][0] == "reset"


def test_snapshot_flip_is_a_reset_without_repeats() -> None:
    cursor = LogCursor()
    live = conversation("screen", "do it", "reply", "more please", "more")
    run(cursor, live)
    # Paused: the server answers from a snapshot of the tail, ids need not start at 0.
    snapshot = [entry(3, "more please", "input"), entry(4, "more")]
    assert run(cursor, snapshot, snapshot=True) == [("reset", -1, "")]
    # Resumed: a restarted agent, ids from 0 again, new content.
    assert run(cursor, conversation("new screen"), snapshot=False) == [
        ("reset", -1, ""),
        ("new", 0, "new screen"),
    ]


def test_settled_mode_holds_back_the_newest_until_it_settles() -> None:
    cursor = LogCursor()
    assert run(cursor, conversation("screen", "do it", "wo"), settled=False) == [
        ("new", 0, "screen"),
        ("new", 1, "do it"),
    ]
    assert run(cursor, conversation("screen", "do it", "working"), settled=False) == []
    assert run(cursor, conversation("screen", "do it", "working done"), settled=True) == [
        ("new", 2, "working done")
    ]
    assert run(cursor, conversation("screen", "do it", "working done"), settled=True) == []


def test_settled_mode_emits_an_entry_once_a_newer_one_exists() -> None:
    cursor = LogCursor()
    run(cursor, conversation("s", "p", "r"), settled=False)
    events = run(cursor, conversation("s", "p", "r!", "q", "x"), settled=False)
    assert events == [("new", 2, "r!"), ("new", 3, "q")]


def test_cursor_round_trip_resumes_without_repeats_or_gaps() -> None:
    cursor = LogCursor()
    run(cursor, conversation("screen", "do it", "wor"))
    restored = LogCursor.loads(cursor.dumps())
    assert restored == cursor
    assert run(restored, conversation("screen", "do it", "work", "next")) == [
        ("update", 2, "work"),
        ("new", 3, "next"),
    ]


def test_uncommitted_steps_are_planned_again() -> None:
    cursor = LogCursor()
    steps = cursor.plan(conversation("a", "b", "c"), False, settled=None)
    cursor.commit(steps[0])  # the caller took one event, then stopped
    assert [s.id for s in cursor.plan(conversation("a", "b", "c"), False, settled=None)] == [1, 2]


@pytest.mark.parametrize("bad", ["", "{}", '{"v": 99}', "not json", '{"v":1,"win":[[1]]}'])
def test_foreign_cursor_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        LogCursor.loads(bad)


def test_memory_is_bounded_by_the_window() -> None:
    cursor = LogCursor()
    logs = [entry(i, f"message {i} " + "x" * 100) for i in range(10_000)]
    run(cursor, logs)
    assert len(cursor) == WINDOW
    assert len(cursor.dumps()) < 4096
    logs[-1] = entry(9_999, "changed")
    steps = cursor.plan(logs, False, settled=None)
    assert [(s.kind, s.id) for s in steps] == [(StepKind.UPDATE, 9_999)]


def test_malformed_entry_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="malformed"):
        LogCursor().plan([{"id": "0", "type": "output", "content": ""}], False, settled=None)


def test_after_a_reset_repeated_text_is_new_again() -> None:
    cursor = LogCursor()
    run(cursor, [entry(0, ""), entry(1, "yes", "input"), entry(2, "ok")])
    # The agent restarts: its empty first screen is what the caller already has.
    assert run(cursor, [entry(0, "")]) == [("reset", -1, "")]
    assert run(cursor, [entry(0, "banner")]) == [("update", 0, "banner")]
    # The same question and answer as before are new messages of the new conversation.
    later = [entry(0, "banner"), entry(1, "yes", "input"), entry(2, "ok"), entry(3, "yes", "input")]
    assert run(cursor, later) == [("new", 1, "yes"), ("new", 2, "ok"), ("new", 3, "yes")]


def test_pause_and_resume_of_a_restored_agent_repeat_nothing() -> None:
    cursor = LogCursor()
    live = [entry(i, f"message {i}", "input" if i % 2 else "output") for i in range(100)]
    assert len(run(cursor, live)) == 100
    # Paused: the stored snapshot is the conversation's tail, same ids.
    assert run(cursor, live[90:], snapshot=True) == [("reset", -1, "")]
    # Resumed with the agent's state restored: the whole conversation again.
    assert run(cursor, live, snapshot=False) == [("reset", -1, "")]
    more = [*live, entry(100, "new work")]
    assert run(cursor, more) == [("new", 100, "new work")]


def test_an_empty_snapshot_does_not_forget_what_was_handed_out() -> None:
    cursor = LogCursor()
    live = conversation("screen", "do it", "done")
    run(cursor, live)
    assert run(cursor, [], snapshot=True) == [("reset", -1, "")]
    assert run(cursor, live, snapshot=False) == [("reset", -1, "")]
    restored = LogCursor.loads(cursor.dumps())
    assert run(restored, conversation("screen", "do it", "done", "next")) == [("new", 3, "next")]
