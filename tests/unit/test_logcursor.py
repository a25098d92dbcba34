"""The conversation tracker and its cursor on their own: no server, no clock."""

from __future__ import annotations

import pytest
from tracking import (
    OTHER_ID,
    PAUSED,
    TASK_ID,
    conversation,
    entry,
    make_task,
    run,
)

from coder_tasks_async import ConversationTracker, LogCursor, TaskState, TaskStatus
from coder_tasks_async._polling.logcursor import WINDOW

WORKING = make_task(state=TaskState.WORKING)


def test_first_poll_emits_everything_once() -> None:
    tracker = ConversationTracker()
    logs = conversation("screen", "do it", "work")
    assert run(tracker, logs) == [("new", 0, "screen"), ("new", 1, "do it"), ("new", 2, "work")]
    assert run(tracker, logs) == []


def test_growing_last_entry_is_an_update_never_a_repeat() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("screen", "do it", "wo"))
    assert run(tracker, conversation("screen", "do it", "working")) == [("update", 2, "working")]
    assert run(tracker, conversation("screen", "do it", "working")) == []
    assert run(tracker, conversation("screen", "do it", "working!", "more")) == [
        ("update", 2, "working!"),
        ("new", 3, "more"),
    ]


def test_shrinking_last_entry_is_an_update() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("a", "b", "long text"))
    assert run(tracker, conversation("a", "b", "short")) == [("update", 2, "short")]


def test_ids_going_backwards_twice_is_a_reset_then_new_entries() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("screen", "do it", "done", "next", "reply"))
    # Once could be a stale answer: nothing happens.
    assert run(tracker, conversation("fresh screen")) == []
    # The next poll confirms it: the agent restarted inside the same run.
    events = run(tracker, conversation("fresh screen"))
    assert events == [("reset", -1, ""), ("new", 0, "fresh screen")]


def test_changed_final_entry_confirmed_is_a_reset() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("screen", "do it", "reply"))
    assert run(tracker, conversation("other", "prompt", "reply", "x")) == []
    events = run(tracker, conversation("other", "prompt", "reply", "x"))
    assert events[0][0] == "reset"
    # A new conversation is new throughout, even where a message repeats an old one's text.
    assert events[1:] == [
        ("new", 0, "other"),
        ("new", 1, "prompt"),
        ("new", 2, "reply"),
        ("new", 3, "x"),
    ]


def test_a_restored_conversation_is_not_sent_again() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("screen", "do it", "reply"))
    assert run(tracker, [entry(0, "screen"), entry(1, "do it", "input"), entry(2, "reply")]) == []
    assert run(tracker, conversation("screen", "do it", "reply", "next")) == [("new", 3, "next")]


def test_type_change_confirmed_is_a_reset() -> None:
    tracker = ConversationTracker()
    run(tracker, [entry(0, "a", "output"), entry(1, "b", "input")])
    changed = [entry(0, "a", "output"), entry(1, "b", "output")]
    assert run(tracker, changed) == []
    assert run(tracker, changed)[0][0] == "reset"


def test_pause_is_announced_and_a_new_build_is_a_reset() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("screen", "do it", "reply", "more please", "more"))
    # Paused: the server answers from a snapshot of the tail; nothing is new.
    snapshot = [entry(3, "more please", "input"), entry(4, "more")]
    assert run(tracker, snapshot, snapshot=True) == [("paused", -1, "")]
    assert run(tracker, snapshot, snapshot=True) == []
    # Resumed: a new build, so a new conversation, even with the same first screen.
    resumed = make_task(build=3, agent=OTHER_ID)
    assert run(tracker, conversation("screen"), task=resumed) == [
        ("reset", -1, ""),
        ("new", 0, "screen"),
    ]


def test_settled_mode_holds_back_the_newest_until_it_settles() -> None:
    tracker = ConversationTracker(settled=True)
    assert run(tracker, conversation("screen", "do it", "wo"), task=WORKING) == [
        ("new", 0, "screen"),
        ("new", 1, "do it"),
    ]
    assert run(tracker, conversation("screen", "do it", "working"), task=WORKING) == []
    # Two polls in a row see the agent idle and the entry unchanged.
    assert run(tracker, conversation("screen", "do it", "working done")) == []
    assert run(tracker, conversation("screen", "do it", "working done")) == [
        ("new", 2, "working done")
    ]
    assert run(tracker, conversation("screen", "do it", "working done")) == []


def test_settled_mode_emits_an_entry_once_a_newer_one_exists() -> None:
    tracker = ConversationTracker(settled=True)
    run(tracker, conversation("s", "p", "r"), task=WORKING)
    events = run(tracker, conversation("s", "p", "r!", "q", "x"), task=WORKING)
    assert events == [("new", 2, "r!"), ("new", 3, "q")]


def test_cursor_round_trip_resumes_without_repeats_or_gaps() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("screen", "do it", "wor"))
    restored = ConversationTracker(cursor=tracker.cursor.dumps())
    assert restored.cursor == tracker.cursor
    assert run(restored, conversation("screen", "do it", "work", "next")) == [
        ("update", 2, "work"),
        ("new", 3, "next"),
    ]


def test_events_not_taken_are_planned_again() -> None:
    tracker = ConversationTracker()
    tracker.observe(make_task(), conversation("a", "b", "c"), False)
    first = tracker.take()
    assert first is not None and first.entry is not None and first.entry.id == 0
    tracker.drop()  # the caller stopped after one event
    tracker.observe(make_task(), conversation("a", "b", "c"), False)
    taken = []
    while (event := tracker.take()) is not None:
        assert event.entry is not None
        taken.append(event.entry.id)
    assert taken == [1, 2]


@pytest.mark.parametrize("bad", ["", "{}", '{"v": 99}', "not json", '{"v":1,"win":[[1]]}'])
def test_foreign_cursor_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        LogCursor.loads(bad)


def test_memory_is_bounded_by_the_window() -> None:
    tracker = ConversationTracker()
    logs = [entry(i, f"message {i} " + "x" * 100) for i in range(10_000)]
    run(tracker, logs)
    assert len(tracker.cursor) == WINDOW
    assert len(tracker.cursor.dumps()) < 4096
    logs[-1] = entry(9_999, "changed")
    assert run(tracker, logs) == [("update", 9_999, "changed")]


def test_malformed_entry_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="malformed"):
        ConversationTracker().observe(
            make_task(), [{"id": "0", "type": "output", "content": ""}], False
        )


def test_after_a_restart_repeated_text_is_new_again() -> None:
    tracker = ConversationTracker()
    run(tracker, [entry(0, ""), entry(1, "yes", "input"), entry(2, "ok")])
    # The agent restarts inside the same run; confirmed by the second poll.
    assert run(tracker, [entry(0, "")]) == []
    assert run(tracker, [entry(0, "")]) == [("reset", -1, ""), ("new", 0, "")]
    assert run(tracker, [entry(0, "banner")]) == [("update", 0, "banner")]
    # The same question and answer as before are new messages of the new conversation.
    later = [entry(0, "banner"), entry(1, "yes", "input"), entry(2, "ok"), entry(3, "yes", "input")]
    assert run(tracker, later) == [("new", 1, "yes"), ("new", 2, "ok"), ("new", 3, "yes")]


def test_pause_of_a_long_conversation_repeats_nothing() -> None:
    tracker = ConversationTracker()
    live = [entry(i, f"message {i}", "input" if i % 2 else "output") for i in range(100)]
    assert len(run(tracker, live)) == 100
    # Paused: the stored snapshot is the conversation's tail, same ids.
    assert run(tracker, live[90:], snapshot=True) == [("paused", -1, "")]
    # Live again in the same run (a restored agent): the whole conversation, nothing new.
    assert run(tracker, live) == []
    more = [*live, entry(100, "new work")]
    assert run(tracker, more) == [("new", 100, "new work")]


def test_an_empty_snapshot_does_not_forget_what_was_handed_out() -> None:
    tracker = ConversationTracker()
    live = conversation("screen", "do it", "done")
    run(tracker, live)
    assert run(tracker, [], snapshot=True) == [("paused", -1, "")]
    assert run(tracker, live) == []
    restored = ConversationTracker(cursor=tracker.cursor.dumps())
    assert run(restored, conversation("screen", "do it", "done", "next")) == [("new", 3, "next")]


def test_a_cursor_of_the_previous_release_still_loads() -> None:
    old = '{"v":1,"last":2,"snap":false,"win":[[1,"input","%s",true],[2,"output","%s",false]]}'
    from coder_tasks_async._polling.logcursor import digest

    text = old % (digest("do it"), digest("work"))
    tracker = ConversationTracker(cursor=text)
    assert tracker.cursor.task_id is None and tracker.cursor.last_id == 2
    assert run(tracker, conversation("screen", "do it", "work", "next")) == [("new", 3, "next")]
    assert tracker.cursor.task_id == TASK_ID  # bound on first use


def test_a_cursor_of_another_task_is_refused_naming_both() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("screen"))
    other = make_task(task_id=OTHER_ID, name="other-task")
    resumed = ConversationTracker(cursor=tracker.cursor.dumps())
    with pytest.raises(ValueError, match=r"fix-login .*other-task") as info:
        resumed.observe(other, conversation("screen"), False)
    assert str(TASK_ID) in str(info.value) and str(OTHER_ID) in str(info.value)
    assert not resumed.pending


def test_a_paused_task_state_is_kept_in_the_cursor() -> None:
    tracker = ConversationTracker()
    run(tracker, conversation("screen"))
    run(tracker, conversation("screen"), snapshot=True)
    restored = ConversationTracker(cursor=tracker.cursor.dumps())
    assert run(restored, conversation("screen"), snapshot=True) == []  # no second "paused"
    assert PAUSED.status is TaskStatus.PAUSED


def test_an_update_is_recorded_in_place_and_reads_as_a_fresh_record() -> None:
    # remember() updates the Seen of an entry handed out before in place (one object per
    # entry, not one per update): the cursor must read exactly as if it were replaced.
    tracker = ConversationTracker()
    run(tracker, conversation("screen", "do it", "wo"))
    seen = tracker.cursor.window[2]
    run(tracker, conversation("screen", "do it", "working"))
    assert tracker.cursor.window[2] is seen
    fresh = ConversationTracker()
    run(fresh, conversation("screen", "do it", "working"))
    assert tracker.cursor.dumps() == fresh.cursor.dumps()
    assert tracker.cursor.window == fresh.cursor.window
    # A newer entry still makes the older ones final, and the restored cursor agrees.
    run(tracker, conversation("screen", "do it", "working", "more"))
    assert [s.final for _, s in sorted(tracker.cursor.window.items())] == [True, True, True, False]
    restored = LogCursor.loads(tracker.cursor.dumps())
    assert restored.window == tracker.cursor.window
