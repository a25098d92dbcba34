"""The conversation tracker: one task's polls in, exactly-once events out (pure).

No client, no clock, no I/O: :meth:`ConversationTracker.observe` takes the task and
the raw logs body of one poll, and queues the events that bring the caller from
its cursor to that answer; :meth:`ConversationTracker.take` hands them out one by
one, recording each in the cursor as it goes, so the cursor always reflects
exactly what the caller has.  ``follow_logs`` and ``follow_many`` both drive it.

How a poll is read (docs/compatibility.md §5):

* A conversation is the task plus the live run that served it (workspace build
  number, agent id as a second signal).  Live logs from another run than the last
  live answer are a new conversation: one ``RESET``, then every entry of it, even
  entries whose text equals older ones.
* A stored snapshot (paused task) belongs to the last live conversation: what was
  handed out is recognised, the rest is handed out, and no ``RESET`` is emitted.
  Pausing emits one ``PAUSED`` event first.  A conversation met only as a snapshot
  (its run never seen live) is named after the build the task shows with it
  (``"-n"``): each pause makes a build, so each such conversation has its own name.
* Within a run, an answer that does not continue what was handed out (ids went
  backwards, an entry that can no longer change did, an id changed type) is
  ignored once: a stale, empty or truncated answer looks exactly like that.  Only
  when the next poll confirms it is it taken for a restart of the agent.
* Duplicate ids keep their last occurrence, negative ids are ignored, answers
  are read in id order, and entries after a hole in the ids wait until the next
  poll shows the same hole.

What stays ambiguous without a run identity (servers that show no build number or
agent id, or an agent restarted inside one run): a restarted agent whose
conversation, when first polled, continues what was handed out (same ids and
texts, or a single entry that was still changing) is taken for the old one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, TypeAlias
from uuid import UUID

from .._wire.converter import structure
from .._wire.models import Task, TaskLogEntry, TaskState, TaskStatus, WorkspaceStatus
from .events import EntryEvent, LogEvent, LogEventKind, PausedEvent, ResetEvent, entry_event
from .logcursor import SNAPSHOT_RUN, LogCursor, RunId, Seen, digest, entry_fields

__all__ = [
    "ConversationTracker",
    "EntryEvent",
    "LogEvent",
    "LogEventKind",
    "PausedEvent",
    "ResetEvent",
]


#: (id, type, content, raw entry) of one entry of an answer.
_Entry: TypeAlias = tuple[int, str, str, Any]


class _Step(NamedTuple):
    """What taking one event changes in the cursor (a tuple: one is made per event)."""

    kind: LogEventKind
    id: int = -1
    type: str = ""
    digest: str = ""
    final: bool = False
    run: RunId | None = None
    #: ``hash()`` of the content: lets the next polls skip the digest of unchanged text.
    quick: int = 0
    #: ``len()`` of the content: a poll that finds another length skips the ``hash()``.
    size: int = -1


#: ``_new_step(_Step, fields)``: a step from all its fields, without ``_Step.__new__``.
_new_step = tuple.__new__


def may_be_active(task: Task) -> bool:
    """Active, as far as the task says.

    v2.26/v2.27 send no task status (``status`` is ``unknown``), only the
    workspace's: there a running workspace is the best hint, and the server's
    "not active" refusal, which the pollers already wait out, settles the rest
    (docs/compatibility.md §2).
    """
    return task.status is TaskStatus.ACTIVE or (
        task.status is TaskStatus.UNKNOWN and task.workspace_status is WorkspaceStatus.RUNNING
    )


def agent_settled(task: Task) -> bool:
    """The newest entry can no longer change: the agent is not working, or cannot run."""
    return not may_be_active(task) or task.state is not TaskState.WORKING


def _run_of(task: Task, known: RunId | None) -> RunId:
    """The run that served ``task``: ``known`` again when it is that one (the usual poll)."""
    build, agent = task.workspace_build_number, task.workspace_agent_id
    if known is not None and known.build == build:
        seen = known.agent
        if seen is agent or seen == agent:  # the same UUID object, as a rule: no __eq__
            return known
    return RunId(build, agent)


def _snapshot_run(task: Task) -> RunId:
    """The run of a conversation first met as a stored snapshot, never seen live.

    Named by the build the task shows with it (negated, see :class:`RunId`): each
    pause makes a new build, so two such conversations of one task never share a
    name, nor their events an idempotency key.
    """
    build = task.workspace_build_number
    return RunId(-build) if build > 0 else SNAPSHOT_RUN


def conversation_name(run: RunId | None) -> str:
    """A conversation as text for idempotency keys: ``"build.agent"`` of its run."""
    if run is None:
        return ""
    return f"{run.build}" if run.agent is None else f"{run.build}.{run.agent}"


def _cut_off_reply(task: Task, entries: list[_Entry]) -> _Entry | None:
    """The agent's reply a pause cut off: a paused snapshot's last entry, an output,
    while the task says the agent was working (``entries``: a snapshot's)."""
    if (
        entries
        and entries[-1][1] == "output"
        and task.status is TaskStatus.PAUSED
        and task.state is TaskState.WORKING
    ):
        return entries[-1]
    return None


def _fields_of(raw_logs: Sequence[Any]) -> list[_Entry]:
    """:func:`entry_fields` of every entry (``ValueError`` for a malformed one), in one loop:
    the entries of every poll pass here, a call per entry would cost more than the check."""
    entries: list[_Entry] = []
    append = entries.append
    for raw in raw_logs:
        try:
            entry_id, entry_type, content = raw["id"], raw["type"], raw["content"]
        except (KeyError, TypeError, IndexError):
            entry_fields(raw)  # raises, saying what is wrong
            raise
        if type(entry_id) is not int or type(entry_type) is not str or type(content) is not str:
            entry_fields(raw)
        append((entry_id, entry_type, content, raw))
    return entries


def _dense_from(raw_logs: Sequence[Any]) -> int | None:
    """The first id when the entries' ids are dense and in order from a non-negative
    int (the usual shape of an answer), else ``None`` (also for no entries, or an entry
    without an id)."""
    try:
        ids = [raw["id"] for raw in raw_logs]
    except (TypeError, KeyError, IndexError):
        return None
    first = ids[0] if ids else -1
    if type(first) is int and first >= 0 and ids == list(range(first, first + len(ids))):
        return first
    return None


def _same(seen: Seen, content: str) -> bool:
    """``content`` is the text handed out as ``seen``.

    Only text that changed since the last look is digested: an unchanged window costs a
    ``hash()`` per entry (no encoding, no allocation), and text of another length is
    another text without even that.
    """
    if seen.size != len(content) and seen.size >= 0:
        return False
    quick = hash(content)
    if seen.quick != quick:
        if seen.digest != digest(content):
            return False
        seen.quick = quick
    return True


def _describe(task_id: UUID, name: str) -> str:
    return f"{name} ({task_id})" if name else str(task_id)


class ConversationTracker:
    """Turns one task's polls into exactly-once :data:`LogEvent` objects (pure, no I/O).

    ``settled=False`` (live mode) hands out each entry as ``NEW`` once, then an
    ``UPDATE`` whenever its content changes.  ``settled=True`` hands out each entry
    once, when it can no longer change: a newer entry exists, the agent was seen not
    working twice in a row with the entry unchanged, or the task is paused.

    Example::

        saved = None  # or the cursor text saved last time
        tracker = ConversationTracker(settled=True, cursor=saved)
        task = await coder.get_task(task)
        entries, snapshot = await coder.get_logs_raw(task)
        tracker.observe(task, entries, snapshot)
        while (event := tracker.take()) is not None:
            print(event.kind, event.entry.content if event.entry else "")
            saved = tracker.cursor.dumps()
    """

    # Slots: one tracker per followed task, and a client may follow thousands.
    __slots__ = (
        "_cursor",
        "_gap",
        "_head",
        "_held",
        "_named",
        "_newest_before",
        "_queue",
        "_quiet_before",
        "_run_name",
        "_suspect",
        "settled",
    )

    def __init__(self, *, settled: bool = False, cursor: LogCursor | str | None = None) -> None:
        self.settled: bool = settled
        if isinstance(cursor, str):
            cursor = LogCursor.loads(cursor)
        self._cursor = cursor if cursor is not None else LogCursor()
        # A list read from ``_head`` on, not a deque: an empty deque is ~0.6 KB, held by
        # every follower of a client that follows thousands of tasks.
        self._queue: list[tuple[_Step, LogEvent]] = []
        self._head = 0
        # Per-poll memory (not saved: after a restart it is rebuilt within two polls).
        self._suspect = False
        self._gap: int | None = None
        self._quiet_before = False
        self._newest_before: tuple[int, int] | None = None
        self._held: tuple[Task, _Entry] | None = None
        #: The run the events named last, and its name (text made once per run).
        self._named: RunId | None = None
        self._run_name = ""

    @property
    def cursor(self) -> LogCursor:
        """What the caller has been handed; ``cursor.dumps()`` saves it."""
        return self._cursor

    @property
    def pending(self) -> bool:
        """Events are queued and not handed out yet."""
        return self._head < len(self._queue)

    @property
    def holding(self) -> bool:
        """Settled mode: the newest entry of the latest answer is held back."""
        return self._held is not None

    def check(self, task_id: UUID, task_name: str = "") -> None:
        """Raise ``ValueError`` when the cursor belongs to another task."""
        cursor = self._cursor
        known = cursor.task_id
        if known is not None and known is not task_id and known != task_id:
            theirs = _describe(known, cursor.task_name)
            ours = _describe(task_id, task_name)
            raise ValueError(
                f"this log cursor belongs to task {theirs}, not to task {ours}; "
                "resume each task with its own cursor, or start without one"
            )

    def bind(self, task: Task) -> None:
        """Tie the cursor to ``task`` (``ValueError`` when it belongs to another task)."""
        cursor = self._cursor
        if cursor.task_id is task.id and cursor.task_name is task.name:
            return  # the usual poll: the same task object's fields again
        self.check(task.id, task.name)
        cursor.task_id = task.id
        cursor.task_name = task.name

    def take(self) -> LogEvent | None:
        """Hand out the next queued event, recording it in the cursor."""
        queue, head = self._queue, self._head
        if head >= len(queue):
            return None
        step, event = queue[head]
        if head + 1 == len(queue):
            queue.clear()
            self._head = 0
        else:
            self._head = head + 1
        # Recorded in the cursor as it goes out (here, not in a helper: once per event).
        kind, cursor = step.kind, self._cursor
        if kind is LogEventKind.PAUSED:
            cursor.snapshot = True
            cursor.pauses += 1
        elif kind is LogEventKind.RESET:
            cursor.forget_conversation(step.run)
        else:
            cursor.remember(step.id, step.type, step.digest, step.final, step.quick, step.size)
        return event

    def drop(self) -> None:
        """Forget queued events (the cursor excludes them: they are planned again)."""
        self._queue.clear()
        self._head = 0

    def observe(self, task: Task, raw_logs: Sequence[Any], snapshot: bool) -> bool:
        """Read one poll: ``task`` and its logs (``snapshot``: from a stored snapshot).

        Returns whether events were queued.  While events are queued, a poll is
        ignored (it is read again later).  A malformed entry is a ``ValueError``;
        an entry that does not fit :class:`TaskLogEntry` a ``CoderDecodeError``.
        """
        if self._head < len(self._queue):  # ``pending``, without a property call per poll
            return False
        self.bind(task)
        if not snapshot and task.status is TaskStatus.PAUSED:
            # The task was read before a resume and its logs after: the run these
            # logs belong to is unknown, so the answer is read again next poll.
            return False
        if not snapshot:
            usual = self._usual(task, raw_logs)
            if usual is not None:
                planned = self._plan(task, usual, False, self._cursor.window, self._cursor.last_id)
                if planned:
                    self._queue_events([], planned, task, False)
                return self._head < len(self._queue)
        cursor = self._cursor
        steps: list[_Step] = []
        if snapshot and task.status is TaskStatus.PAUSED and cursor.snapshot is not True:
            steps.append(_Step(LogEventKind.PAUSED))
        # Ids below the window were handed out long ago and cannot change the outcome.
        gap_before = self._gap
        entries = self._clean(raw_logs, min(cursor.window) if cursor.window else 0)
        run = None if snapshot else _run_of(task, cursor.run)
        new_conversation = self._new_conversation(run, entries, snapshot)
        if new_conversation is None:  # once could be a stale or truncated answer
            self._suspect = True
            self._quiet_before, self._held = False, None
            self._queue_events(steps, [], task, snapshot)
            return self.pending
        self._suspect = False
        known, last = cursor.window, cursor.last_id
        if new_conversation:
            self._start_conversation(task, run, snapshot, steps)
            known, last = {}, None
            # All of it: everything is new again.  Read as the first look at this
            # answer, or a hole in it would count as seen twice.
            self._gap = gap_before
            entries = self._clean(raw_logs)
        elif run is not None and run.known:
            cursor.run = run  # the run of what was handed out (refines an unknown one)
        self._note_snapshot(task, snapshot, entries)
        planned = self._plan(task, entries, snapshot, known, last)
        if steps or planned:  # the usual quiet poll queues nothing
            self._queue_events(steps, planned, task, snapshot)
        return self._head < len(self._queue)

    def _usual(self, task: Task, raw_logs: Sequence[Any]) -> list[_Entry] | None:
        """The usual live poll read in one pass: the entries from the window on, when the
        answer plainly continues what was handed out (the same run, ids dense and in
        order, nothing the window knows changed, not behind the cursor).

        Exactly what :meth:`_clean`, :meth:`_new_conversation` and :meth:`_note_snapshot`
        make of such an answer, without their separate passes over it (every follower's
        every poll comes here).  ``None``: anything else (a malformed entry, a hole, a
        new run, a suspect answer...), which the general path reads, and explains.
        """
        cursor = self._cursor
        window, last = cursor.window, cursor.last_id
        if last is None or not self._plainly_live(task):
            return None
        first = _dense_from(raw_logs)
        if first is None:
            return None
        start = min(window) - first
        settled = self.settled
        entries: list[_Entry] = []
        append = entries.append
        for raw in raw_logs[start:] if start > 0 else raw_logs:
            try:
                entry_id, entry_type, content = raw["id"], raw["type"], raw["content"]
            except (KeyError, TypeError, IndexError):
                return None
            if type(entry_id) is not int or type(entry_type) is not str or type(content) is not str:
                return None
            seen = window.get(entry_id)
            if seen is not None and (
                seen.type != entry_type or ((seen.final or settled) and not _same(seen, content))
            ):
                return None  # as in _continues
            append((entry_id, entry_type, content, raw))
        if not entries or entries[-1][0] < last:
            return None
        cursor.snapshot = False
        return entries

    def _plainly_live(self, task: Task) -> bool:
        """The cursor follows this task's live run, with nothing in doubt (no suspect
        answer, no gap, a window): the precondition of :meth:`_usual`."""
        cursor = self._cursor
        run = cursor.run
        return (
            not self._suspect
            and self._gap is None
            and bool(cursor.window)
            and run is not None
            and _run_of(task, run) is run
        )

    def _new_conversation(
        self, run: RunId | None, entries: list[_Entry], snapshot: bool
    ) -> bool | None:
        """Whether this answer is another conversation than the one handed out so far.

        ``True`` when it comes from another run, or when it does not continue what
        was handed out for the second poll in a row (the agent restarted inside its
        run); ``None`` the first time it does not (a stale, empty or truncated answer
        looks exactly like that: it is ignored once).
        """
        cursor = self._cursor
        before = cursor.run
        if (
            run is not None
            and run is not before  # the usual poll: the very same run
            and run.known
            and before is not None
            and before.differs(run)
        ):
            return True
        if cursor.empty or self._continues(entries, snapshot):
            return False
        return True if self._suspect else None

    def _start_conversation(
        self, task: Task, run: RunId | None, snapshot: bool, steps: list[_Step]
    ) -> None:
        """A new conversation begins: a ``RESET`` step (none for the very first one), and
        the per-poll memory of the old conversation dropped."""
        cursor = self._cursor
        conversation_run = run if run is not None and run.known else cursor.run
        if snapshot and conversation_run is cursor.run:
            conversation_run = _snapshot_run(task)  # a run we never saw live
        if cursor.empty and cursor.run is None:
            cursor.run = conversation_run  # nothing known before: nothing restarted
        else:
            steps.append(_Step(LogEventKind.RESET, run=conversation_run))
        # Quiet polls of the previous conversation say nothing about this one.
        self._quiet_before, self._newest_before = False, None

    def _note_snapshot(self, task: Task, snapshot: bool, entries: list[_Entry]) -> None:
        """Record whether the cursor now follows a stored snapshot or the live logs."""
        cursor = self._cursor
        if not snapshot:
            cursor.snapshot = False
        elif entries and cursor.run is None:
            # Its run was never seen live; the next live answer is another run
            # (a resume always starts a new build).
            cursor.run = _snapshot_run(task)

    def release(self, task: Task) -> bool:
        """Settled mode, last poll: hand out the held-back newest entry too, if the agent
        is not working.  Returns whether an event was queued.

        This trusts ``task``, read before the logs: an input sent in between shows a
        reply that only just started next to a task read as idle.  ``follow_logs`` does
        not call it; it polls once more, so two polls in a row settle the entry.
        """
        held = self._held
        if held is None or not agent_settled(task):
            return False
        self._held = None
        entry = held[1]
        step = _Step(LogEventKind.NEW, entry[0], entry[1], digest(entry[2]), final=True)
        self._queue_events([], [(step, entry, False)], held[0], False)
        return True

    # -- reading an answer ---------------------------------------------------------

    def _clean(self, raw_logs: Sequence[Any], start: int = 0) -> list[_Entry]:
        """The answer's entries by id: last duplicate wins, negative ids dropped, and
        nothing after a hole in the ids unless the previous poll showed the same hole.

        Entries below ``start`` may be left out: a long conversation in the usual shape
        (ids dense and in order) costs a look at its ids, not a check of every entry.
        """
        first = _dense_from(raw_logs)
        if first is not None:
            self._gap = None
            skip = min(max(0, start - first), len(raw_logs))
            return _fields_of(raw_logs[skip:] if skip else raw_logs)
        by_id: dict[int, _Entry] = {}
        ordered = True
        previous = -1
        for raw in raw_logs:
            entry_id, entry_type, content = entry_fields(raw)
            if entry_id < 0:
                continue
            ordered = ordered and entry_id > previous
            previous = entry_id
            by_id[entry_id] = (entry_id, entry_type, content, raw)
        entries = list(by_id.values()) if ordered else [by_id[i] for i in sorted(by_id)]
        for pos in range(1, len(entries)):
            if entries[pos][0] != entries[pos - 1][0] + 1:
                hole = entries[pos - 1][0] + 1
                if self._gap != hole:
                    self._gap = hole
                    return entries[:pos]
                return entries
        self._gap = None
        return entries

    def _continues(self, entries: list[_Entry], snapshot: bool) -> bool:
        """The answer shows the conversation handed out so far, as far as it goes."""
        cursor = self._cursor
        window = cursor.window
        for entry_id, entry_type, content, _ in entries:
            seen = window.get(entry_id)
            if seen is None:
                continue
            if seen.type != entry_type:
                return False
            if (seen.final or self.settled) and not _same(seen, content):
                return False
        if snapshot or cursor.last_id is None:
            return True  # a snapshot holds only the tail
        newest = entries[-1][0] if entries else -1
        return newest >= cursor.last_id

    def _settled_now(self, task: Task, entries: list[_Entry], snapshot: bool) -> bool:
        """The newest entry can no longer change.

        The task and its logs are two requests, so one poll can pair a stale "idle"
        with a reply that just started: the newest counts as settled only when two
        polls in a row saw the agent not working and the entry unchanged.
        """
        if snapshot:
            self._quiet_before, self._newest_before = False, None
            return True  # frozen until the next run
        quiet = agent_settled(task)
        # In-process memory only (never saved), so Python's hash() is enough here.
        newest = (entries[-1][0], hash(entries[-1][2])) if entries else None
        settled = quiet and self._quiet_before and newest == self._newest_before
        self._quiet_before, self._newest_before = quiet, newest
        return settled

    def _plan(
        self,
        task: Task,
        entries: list[_Entry],
        snapshot: bool,
        known: dict[int, Any],
        last: int | None,
    ) -> list[tuple[_Step, _Entry, bool]]:
        """What to hand out of ``entries``: each step with its entry and whether the entry
        is a reply a pause cut off.  Settled mode may hold the newest entry back
        (:attr:`holding`) until it can no longer change."""
        settled = self.settled
        hold_newest = settled and not self._settled_now(task, entries, snapshot)
        cut_off = _cut_off_reply(task, entries) if snapshot else None
        newest = entries[-1] if entries else None
        self._held = None
        planned: list[tuple[_Step, _Entry, bool]] = []
        for entry in entries:
            entry_id = entry[0]
            seen = known.get(entry_id)
            if seen is None and last is not None and entry_id <= last:
                continue  # handed out before (older than the window)
            if seen is not None and (seen.final or settled):
                continue
            if hold_newest and entry is newest:
                self._held = (task, entry)
                break
            content = entry[2]
            if seen is None or seen.size < 0 or seen.size == len(content):
                quick = hash(content)
                if seen is not None and seen.quick == quick:
                    continue  # live mode: unchanged since it was handed out
            else:
                # Another length: changed, known without hashing a reply that grows on
                # every poll (its hash is taken by the first poll that finds it unchanged).
                quick = 0
            step = self._step(entry, seen, quick)
            if step is not None:
                planned.append((step, entry, entry is cut_off))
        return planned

    def _step(self, entry: _Entry, seen: Any, quick: int) -> _Step | None:
        """What handing out ``entry`` records in the cursor (``seen``: what it recorded of
        that id before); ``None`` when its text is what was handed out (a restored
        cursor knows the digest, not the quick hash)."""
        entry_id, entry_type, content, _ = entry
        entry_digest = digest(content)
        size = len(content)
        if self.settled:
            kind, final = LogEventKind.NEW, True
        elif seen is None:
            kind, final = LogEventKind.NEW, False
        elif seen.digest != entry_digest:
            kind, final = LogEventKind.UPDATE, False
        else:
            # The same text (restored cursor): no digest next time.
            seen.quick, seen.size = quick, size
            return None
        # Built as a plain tuple of every field: ``_Step(...)`` runs the NamedTuple's
        # Python ``__new__`` (its defaults), several times the cost, once per event.
        return _new_step(
            _Step, (kind, entry_id, entry_type, entry_digest, final, None, quick, size)
        )

    def _queue_events(
        self,
        steps: list[_Step],
        planned: list[tuple[_Step, _Entry, bool]],
        task: Task,
        snapshot: bool,
    ) -> None:
        # Everything is built before anything is queued: a misfit entry queues nothing.
        events: list[tuple[_Step, LogEvent]] = []
        # Each event names its conversation: entries after a reset belong to the new one.
        run = self._cursor.run
        if run is not self._named:  # its name is made once per run, not once per poll
            self._named, self._run_name = run, conversation_name(run)
        conversation = self._run_name
        for step in steps:
            if step.kind is LogEventKind.PAUSED:
                paused = PausedEvent(
                    task_id=task.id,
                    task_name=task.name,
                    conversation=conversation,
                    pause=self._cursor.pauses + 1,
                )
                events.append((step, paused))
            else:
                conversation = conversation_name(step.run)
                reset = ResetEvent(
                    task_id=task.id,
                    task_name=task.name,
                    snapshot=snapshot,
                    conversation=conversation,
                )
                events.append((step, reset))
        for step, (entry_id, _, _, raw), interrupted in planned:
            entry = structure(raw, TaskLogEntry, path=f"logs[id={entry_id}]")
            event = entry_event(
                step.kind, entry, task.id, task.name, snapshot, interrupted, conversation
            )
            events.append((step, event))
        self._queue.extend(events)
