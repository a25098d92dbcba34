"""``logs -f --tail/--since`` pick from the starting backlog only; nothing later is dropped.

A real ``coder-tasks`` process follows a FakeCoder whose clock the test moves, so
the follower sees a reply mid-way, a pause, a resume and a new conversation exactly
when the test says.  (Issue 23: the old follower skipped the backlog's entry *ids*,
and ids restart at 0 after a resume, so the new run's first entries never appeared;
with ``--tail 0`` a reply being written at the start was never printed.)
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from cli_support import FROZEN_TIMINGS, Frozen, Running, frozen

from coder_tasks_async import (
    EntryEvent,
    LogEventKind,
    ResetEvent,
    TaskLogEntry,
    TaskLogType,
)
from coder_tasks_async.cli._follow import BacklogFilter
from coder_tasks_async.testing import RecordedRequest

__all__ = ["frozen"]

FOLLOW = ["-f", "-o", "json", "--poll-interval", "0.05", "--no-watch"]


def logs_reads(frozen: Frozen, task_id: str, count: int) -> threading.Event:
    """An event set once the fake has answered ``count`` logs reads of the task."""
    seen: list[RecordedRequest] = []
    done = threading.Event()

    def observe(request: RecordedRequest) -> None:
        if task_id in request.path and request.path.endswith("/logs"):
            seen.append(request)
            if len(seen) >= count:
                done.set()

    frozen.call(frozen.fake.request_observers.append, observe)
    return done


def entry(event: dict[str, Any]) -> dict[str, Any]:
    return event["entry"] or {}


def test_tail_0_still_prints_the_reply_being_written(frozen: Frozen) -> None:
    task = frozen.create("busy-bee", "Refactor the parser")
    frozen.advance(2.5)  # active; the reply (#2) has one of its four lines
    logs = frozen.sdk(lambda coder: coder.get_logs(task.id)).logs
    assert [e.id for e in logs] == [0, 1, 2] and "Done" not in logs[2].content
    two_reads = logs_reads(frozen, str(task.id), 2)
    run = Running(["logs", "busy-bee", "--tail", "0", *FOLLOW], frozen.subprocess_env())
    try:
        # The backlog is read, then the follower's first poll: the partial reply is hidden.
        assert two_reads.wait(30)
        frozen.advance(4)  # the reply is complete
        done = run.json_until(lambda e: "Done:" in entry(e).get("content", ""), "the reply")
        code, out, _ = run.interrupt()
    finally:
        run.close()
    assert code == 130
    # Nothing of the backlog before it, and the reply whole, as new to the reader.
    events = [line for line in out.splitlines() if line.startswith("{")]
    assert len(events) == 1, out
    assert done["kind"] == "new" and entry(done)["id"] == 2
    assert entry(done)["content"].startswith("● Looking at: Refactor the parser")


@pytest.mark.parametrize("pick", ["--tail", "--since"])
def test_tail_or_since_keeps_everything_after_a_restart(frozen: Frozen, pick: str) -> None:
    task = frozen.create("phoenix", "Fix the login page")
    frozen.advance(6.5)  # active, and the first reply is done: entries #0, #1, #2
    backlog = frozen.sdk(lambda coder: coder.get_logs(task.id)).logs
    assert backlog[1].time < backlog[2].time  # so that --since can keep #2 alone
    # Both keep only #2 of the backlog: the last one, or the ones since its time (the
    # fake's clock is not the wall clock, so an ISO time rather than a duration).
    value = "1" if pick == "--tail" else backlog[2].time.isoformat()
    run = Running(["logs", "phoenix", pick, value, *FOLLOW], frozen.subprocess_env())
    try:
        first = run.json_until(lambda e: e["kind"] == "new", "the backlog's last entry")
        assert entry(first)["id"] == 2 and "Done: Fix the login page" in entry(first)["content"]
        frozen.sdk(lambda coder: coder.pause_task(task.id))
        frozen.advance(FROZEN_TIMINGS.stop_job)  # the stop build has ended
        run.json_until(lambda e: e["kind"] == "paused", "the pause")
        frozen.sdk(lambda coder: coder.resume_task(task.id))
        frozen.advance(2.5)  # the new run is up: a new conversation, ids from 0 again
        run.json_until(lambda e: e["kind"] == "reset", "the restart")
        frozen.sdk(lambda coder: coder.send_input(task.id, "after resume"))
        frozen.advance(5)
        run.json_until(lambda e: "Done: after resume" in entry(e).get("content", ""), "reply")
        code, out, err = run.interrupt()
    finally:
        run.close()
    assert code == 130, err
    after = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    restart = next(i for i, e in enumerate(after) if e["kind"] == "reset")
    new_ids = {entry(e)["id"] for e in after[restart:] if e["entry"]}
    # The new run's greeting (#0, the same text as the old #0) and the input (#1) too.
    assert {0, 1, 2} <= new_ids, out
    assert any(entry(e).get("content") == "after resume" for e in after[restart:])
    # Before the restart: only the tail of the backlog (and the pause).
    assert [e["kind"] for e in after[:restart]] == ["new", "paused"]


def _entry(entry_id: int, content: str, when: datetime) -> TaskLogEntry:
    return TaskLogEntry(id=entry_id, content=content, type=TaskLogType.OUTPUT, time=when)


@pytest.mark.parametrize(
    ("tail", "since_minutes", "hidden"),
    [(1, None, {0, 1}), (0, None, {0, 1, 2}), (None, 5, {0}), (5, None, set())],
)
def test_backlog_filter_hides_only_unchanged_backlog_entries(
    tail: int | None, since_minutes: int | None, hidden: set[int]
) -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    backlog = [
        _entry(0, "greeting", now - timedelta(minutes=10)),
        _entry(1, "question", now - timedelta(minutes=3)),
        _entry(2, "answer, half", now - timedelta(minutes=1)),
    ]
    since = now - timedelta(minutes=since_minutes) if since_minutes else None
    judge = BacklogFilter(backlog, tail, since).judge
    task_id = uuid4()

    def new(e: TaskLogEntry) -> EntryEvent:
        return EntryEvent(kind=LogEventKind.NEW, entry=e, task_id=task_id)

    assert {e.id for e in backlog if judge(new(e)) == "skip"} == hidden
    # The entry being written changes: shown whole, once, whatever was hidden.
    grown = _entry(2, "answer, half and the rest", now)
    assert judge(EntryEvent(kind=LogEventKind.UPDATE, entry=grown, task_id=task_id)) in (
        "whole" if 2 in hidden else "show",
    )
    # After a restart ids begin at 0 again: equal text is still news.
    assert judge(ResetEvent(task_id=task_id)) == "show"
    assert all(judge(new(e)) == "show" for e in backlog)
