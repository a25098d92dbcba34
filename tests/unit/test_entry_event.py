"""``entry_event``: the follower's fast way to make an :class:`EntryEvent`."""

from __future__ import annotations

from uuid import uuid4

import attrs

from coder_tasks_async import EntryEvent, LogEventKind, TaskLogEntry
from coder_tasks_async._polling.events import _FIELDS, entry_event
from coder_tasks_async._wire.converter import structure


def _entry() -> TaskLogEntry:
    raw = {"id": 3, "content": "hi", "type": "output", "time": "2025-10-27T14:00:02.1Z"}
    return structure(raw, TaskLogEntry)


def test_it_sets_every_field_the_class_has() -> None:
    # A field added to EntryEvent must be set by entry_event too (or have it fail here).
    assert tuple(a.name for a in attrs.fields(EntryEvent)) == (*_FIELDS, "_acker")


def test_the_class_runs_nothing_at_construction_that_it_would_skip() -> None:
    # What entry_event bypasses: EntryEvent's __init__ may only store the fields.
    fields = attrs.fields(EntryEvent)
    assert all(a.validator is None and a.converter is None for a in fields)
    assert not hasattr(EntryEvent, "__attrs_post_init__")
    assert not hasattr(EntryEvent, "__attrs_pre_init__")


def test_it_makes_the_event_the_class_makes() -> None:
    entry, task_id = _entry(), uuid4()
    for kind in (LogEventKind.NEW, LogEventKind.UPDATE):
        for snapshot, interrupted in ((False, False), (True, True)):
            fast = entry_event(kind, entry, task_id, "name", snapshot, interrupted, "4.x")
            slow = EntryEvent(
                kind=kind,
                entry=entry,
                task_id=task_id,
                task_name="name",
                snapshot=snapshot,
                interrupted=interrupted,
                conversation="4.x",
            )
            assert fast == slow
            assert attrs.asdict(fast, recurse=False) == attrs.asdict(slow, recurse=False)
            assert repr(fast) == repr(slow)
            assert hash(fast) == hash(slow)
            assert fast.idempotency_key == slow.idempotency_key
            assert attrs.evolve(fast, task_name="other") == attrs.evolve(slow, task_name="other")
