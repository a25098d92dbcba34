"""Counterexamples the property suite found, kept as plain regression tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tracking import make_task, run

from coder_tasks_async import ConversationTracker, LogEvent, LogEventKind, TaskState, TaskStatus
from coder_tasks_async._polling.tracker import _new_step, _Step

SCREEN = {"id": 0, "type": "output", "content": "screen", "time": "2025-10-27T14:03:38Z"}


def live(build: int) -> object:
    return make_task(build=build, agent=UUID(int=build, version=4))


def test_each_restart_is_announced_even_when_nothing_came_between() -> None:
    """Found: a second restart with nothing handed out since the first emitted no RESET,
    so the next entries looked like the first restarted conversation's."""
    tracker = ConversationTracker(settled=True)
    assert run(tracker, [SCREEN], task=live(1)) == []  # held: not settled yet
    paused = make_task(status=TaskStatus.PAUSED, build=2, agent=None)
    assert run(tracker, [SCREEN], snapshot=True, task=paused) == [
        ("paused", -1, ""),
        ("new", 0, "screen"),
    ]
    assert run(tracker, [SCREEN], task=live(3)) == [("reset", -1, "")]
    assert run(tracker, [SCREEN], task=live(5)) == [("reset", -1, "")]
    assert run(tracker, [SCREEN], task=live(5)) == [("new", 0, "screen")]


def test_a_snapshot_seen_first_while_the_task_restarts_is_not_the_next_run() -> None:
    """Found: a follower whose first answer was the old snapshot, served while the task
    was starting again, took the new run's live entries for that conversation's."""
    tracker = ConversationTracker(settled=True)
    starting = make_task(status=TaskStatus.INITIALIZING, state=TaskState.WORKING, build=3)
    assert run(tracker, [SCREEN], snapshot=True, task=starting) == [("new", 0, "screen")]
    more = [
        SCREEN,
        {**SCREEN, "id": 1, "type": "input", "content": "same"},
        {**SCREEN, "id": 2, "content": "…"},
    ]
    working = make_task(build=3, state=TaskState.WORKING, agent=UUID(int=3, version=4))
    assert run(tracker, more, task=working) == [
        ("reset", -1, ""),
        ("new", 0, "screen"),
        ("new", 1, "same"),
    ]


def test_a_shuffled_snapshot_marks_its_newest_entry_interrupted() -> None:
    """Met while writing the model: the cut-off reply is the highest id, wherever the
    answer lists it."""
    tracker = ConversationTracker(settled=True)
    paused = make_task(status=TaskStatus.PAUSED, state=TaskState.WORKING, build=2, agent=None)
    shuffled = [
        SCREEN,
        {**SCREEN, "id": 2, "content": "half a reply"},
        {**SCREEN, "id": 1, "type": "input", "content": "same"},
    ]
    tracker.observe(paused, shuffled, True)
    events = []
    while (event := tracker.take()) is not None:
        events.append(event)
    marked = [(e.entry.id, e.interrupted) for e in events if e.entry is not None]
    assert marked == [(0, False), (1, False), (2, True)]


def test_two_odd_answers_in_a_row_are_taken_for_a_restart() -> None:
    """Met while writing the model (an error between two empty answers): the documented
    limit.  Without a run change, only the next answer tells a glitch from a restart."""
    tracker = ConversationTracker()
    logs = [SCREEN, {**SCREEN, "id": 1, "type": "input", "content": "same"}]
    assert len(run(tracker, logs)) == 2
    assert run(tracker, []) == []
    assert run(tracker, logs) == []  # one odd answer: nothing happens
    assert run(tracker, []) == []
    assert run(tracker, []) == [("reset", -1, "")]  # two: the agent restarted


def test_a_hole_in_the_first_answer_of_a_new_run_is_not_taken_as_confirmed() -> None:
    """Found (long profile): the first answer of a new run was read twice, so a hole in
    it counted as seen on two polls and the entry missing from it was never handed out."""
    tracker = ConversationTracker()
    assert run(tracker, [SCREEN], task=live(1)) == [("new", 0, "screen")]
    holey = [SCREEN, {**SCREEN, "id": 2, "content": "…"}]
    assert run(tracker, holey, task=live(3)) == [("reset", -1, ""), ("new", 0, "screen")]
    whole = [SCREEN, {**SCREEN, "id": 1, "type": "input", "content": "same"}, holey[1]]
    assert run(tracker, whole, task=live(3)) == [("new", 1, "same"), ("new", 2, "…")]


def test_each_pause_has_its_own_idempotency_key_and_keeps_it_when_delivered_again() -> None:
    """Left open by the fleet work: every PAUSED event of a conversation had the key
    ``task/conversation/paused``, so a conversation paused a second time (here on a
    server that shows no run, where it stays one conversation) repeated the key, and an
    idempotent handler would drop the second pause."""
    tracker = ConversationTracker()
    unknown = make_task(build=0, agent=None)  # a server that shows no run
    paused = make_task(status=TaskStatus.PAUSED, build=0, agent=None)

    def keys(task: object, snapshot: bool) -> list[str]:
        tracker.observe(task, [SCREEN], snapshot)  # type: ignore[arg-type]
        return [e.idempotency_key for e in iter(tracker.take, None)]

    assert len(keys(unknown, False)) == 1
    (first,) = keys(paused, True)
    assert keys(unknown, False) == []  # resumed: the same conversation goes on
    saved = tracker.cursor.dumps()
    (second,) = keys(paused, True)
    assert first.endswith("/paused") and second == first + "#2"
    # Delivered again from the cursor saved before it (a crash before the ack): the
    # same key.  The cursor's count of pauses survives dumps() and loads().
    again = ConversationTracker(cursor=saved)
    again.observe(paused, [SCREEN], True)
    assert [e.idempotency_key for e in iter(again.take, None)] == [second]
    assert '"pauses":2' in again.cursor.dumps()


def _take_all(tracker: ConversationTracker, task: object, logs: list[Any]) -> list[LogEvent]:
    tracker.observe(task, logs, True)  # type: ignore[arg-type]
    return list(iter(tracker.take, None))


def test_conversations_met_only_as_snapshots_each_have_their_own_name() -> None:
    """Found (shared followers, long profile): every conversation a follower met only as a
    stored snapshot was named ``-1``, so a second one (the task resumed and paused again
    while nobody followed it) reused the first one's name, and its entries repeated the
    first one's idempotency keys: ``task/-1/0`` handed out twice."""
    first = [SCREEN, {**SCREEN, "id": 1, "type": "input", "content": "same"}]
    second = [{**SCREEN, "content": "screen again"}, first[1]]
    paused_once = make_task(status=TaskStatus.PAUSED, build=2, agent=None)
    paused_twice = make_task(status=TaskStatus.PAUSED, build=4, agent=None)

    # A follower that joined the paused task, and one that saw its first run live.
    joined = ConversationTracker(settled=True)
    events = _take_all(joined, paused_once, first)
    assert [e.kind.value for e in events] == ["paused", "new", "new"]
    saw_live = ConversationTracker(settled=True)
    assert len(run(saw_live, [*first, {**SCREEN, "id": 2}], task=live(1))) == 2

    for tracker, paused in ((joined, []), (saw_live, ["paused"])):
        # The next pause's snapshot: ignored once (it does not continue), then a reset.
        assert [e.kind.value for e in _take_all(tracker, paused_twice, second)] == paused
        saved = tracker.cursor.dumps()
        reset = _take_all(tracker, paused_twice, second)
        assert [e.kind.value for e in reset] == ["reset", "new", "new"]
        if tracker is joined:
            keys = [e.idempotency_key for e in events + reset]
            assert len(keys) == len(set(keys)), keys
            assert [e.conversation for e in events + reset] == ["-2"] * 3 + ["-4"] * 3
        assert {e.conversation for e in reset} == {"-4"}  # named alike by every follower
        # Delivered again from the cursor saved before the reset: the same keys.
        again = ConversationTracker(settled=True, cursor=saved)
        again.observe(paused_twice, second, True)
        again.observe(paused_twice, second, True)
        assert [e.idempotency_key for e in iter(again.take, None)] == [
            e.idempotency_key for e in reset
        ]
        # The next live run is another conversation still.
        assert run(tracker, [SCREEN], task=live(5))[0] == ("reset", -1, "")


def test_a_step_built_as_a_plain_tuple_is_the_step_its_class_builds() -> None:
    # The tracker builds entry steps with ``tuple.__new__`` (all fields, in order): a
    # field added to _Step, or moved, must show here rather than shift the others.
    fields = (LogEventKind.UPDATE, 7, "output", "d1g", False, None, 123, 4)
    fast = _new_step(_Step, fields)
    assert _Step._fields == ("kind", "id", "type", "digest", "final", "run", "quick", "size")
    assert fast == _Step(*fields)
    assert (fast.kind, fast.id, fast.quick, fast.size) == (LogEventKind.UPDATE, 7, 123, 4)
