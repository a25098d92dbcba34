"""Following a task's conversation: ``client.follow_logs(...)``.

A :class:`LogFollower` polls the task and its logs and feeds each poll to a
:class:`~coder_tasks_async.ConversationTracker`, which decides what is new.  It is
an async iterator and an async context manager; it starts no background task, so
``break``, cancellation or an exception in the loop body leave nothing behind, and
the cursor always reflects exactly the events already handed out.

Followers of one task in one client share their polls (:mod:`.shared`): each keeps
its own tracker, cursor, pace and stop conditions, and takes every read of the one
poller as its own poll.

The task is resolved once: a follower started with a name keeps following the task
that name meant then, and ends (``end_reason`` :attr:`EndReason.DELETED`) when that
task is deleted, even if a new task takes its name.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .._endpoints.pinned import PinnedTask
from .._wire.errors import CoderDecodeError, CoderError
from .._wire.models import Task
from .._wire.settings import PollPolicy, Wake
from .acks import Acknowledging, Acks
from .backoff import Backoff
from .conditions import StopConditions, ready_for_input, serves_logs, stop_requested
from .error_policy import Verdict, judge
from .events import EntryEvent, LogEvent, LogEventKind, PausedEvent, ResetEvent
from .logcursor import LogCursor
from .report import FollowReport
from .shared import Logs, PollRecord, Seat, still_idle
from .tracker import ConversationTracker
from .wake import Waker, event_says_idle

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints as CoderTasksClient
    from .._http.telemetry import AttributeValue
    from .._stores.base import CursorStore
    from .._wire.protocol import TaskRef

__all__ = [
    "EndReason",
    "EntryEvent",
    "LogEvent",
    "LogEventKind",
    "LogFollower",
    "PausedEvent",
    "ResetEvent",
]

_MAX_DECODE_ERRORS = 3
#: The follow span's attributes, one shared mapping per mode (not a dict per follower).
_SETTLED_ATTRIBUTES: dict[bool, Mapping[str, AttributeValue]] = {
    mode: MappingProxyType({"coder.follow.settled": mode}) for mode in (False, True)
}
_NO_STOP = StopConditions()


class EndReason(enum.Enum):
    """Why a follower's stream ended (``follower.end_reason``)."""

    #: The task was deleted (it answers 404 now).
    DELETED = "deleted"
    #: A stop condition held: ``until_terminal``, ``until`` or ``idle_timeout``.
    STOPPED = "stopped"
    #: ``aclose()`` was called (or the ``async with`` block was left).
    CLOSED = "closed"


class LogFollower(Acknowledging):
    """Async iterator of :data:`LogEvent` for one task.  Create with ``client.follow_logs``.

    ``follow_many`` drives one per task through :meth:`observe` and :meth:`take`.
    """

    def __init__(
        self,
        client: CoderTasksClient,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        settled: bool = False,
        cursor: LogCursor | str | None = None,
        poll: PollPolicy | None = None,
        stop: StopConditions = _NO_STOP,
        wake: Wake | None = None,
        waker: Waker | None = None,
        store: CursorStore | None = None,
        key: str | None = None,
    ) -> None:
        self._client = client
        #: With a store: the cursor is loaded by the first poll, saved as events are acked.
        self._acks: Acks | None = None
        if store is not None:
            self._acks = Acks(store, key_of=lambda task_id: key or str(task_id))
        # ``waker``: given by a many-task poller, which does the sleeping and the reading for
        # all its tasks (through :meth:`observe`); otherwise the task's shared poller does
        # (a seat, taken on the first poll).
        self._seat = (
            None if waker is not None else Seat(client, ref, owner, wake, logs=True, fresh=False)
        )
        self._waker = waker
        label = ref if isinstance(ref, str) else "task"
        #: Its span and log records (only when iterated itself, not under follow_many).
        self._report = FollowReport(client, "follow_logs", label, _SETTLED_ATTRIBUTES[settled])
        self._ref: TaskRef = ref
        self._owner = owner
        self._tracker = ConversationTracker(settled=settled, cursor=cursor)
        if isinstance(ref, Task):
            self._tracker.check(ref.id, ref.name)  # a foreign cursor fails here, not later
        elif isinstance(ref, UUID):
            self._tracker.check(ref)
        self._backoff = Backoff(poll or client.poll)
        self._until = stop.until
        self._until_terminal = stop.until_terminal
        self._idle_timeout = stop.idle_timeout
        self._done = False
        self._polled = False
        self._idle_since: float | None = None
        self._decode_errors = 0
        self._next_delay = 0.0
        #: A stop was put off by one poll to let the held-back entry settle.
        self._confirming = False
        #: The task by its id, once the first poll resolved it (``None`` before).
        self._pinned: PinnedTask | None = None
        #: The task as of the latest poll (``None`` before the first one).
        self.task: Task | None = None
        #: Why the stream ended (``None`` while it goes on).
        self.end_reason: EndReason | None = None
        #: Settled mode: the newest entry is being held back until it settles.
        self.holding: bool = False
        #: The latest poll found something to hand out.
        self.produced: bool = False

    @property
    def cursor(self) -> LogCursor:
        """Where this follower is; ``cursor.dumps()`` saves it for ``follow_logs(cursor=...)``."""
        return self._tracker.cursor

    @property
    def tracker(self) -> ConversationTracker:
        """The pure state machine that decides what each poll hands out."""
        return self._tracker

    @property
    def finished(self) -> bool:
        """No more polls: the stream ended or is ending (queued events still go out)."""
        return self._done

    @property
    def closed(self) -> bool:
        """True once the stream ended and everything queued was handed out."""
        return self._done and not self._tracker.pending

    def end(self, reason: EndReason) -> None:
        """Stop polling; events already queued are still handed out."""
        if not self._done:
            self._done = True
            self.end_reason = reason

    async def aclose(self) -> None:
        """Stop following.  Events not yet handed out are dropped (the cursor excludes them)."""
        self.end(EndReason.CLOSED)
        self._report.end(EndReason.CLOSED.value)
        self._tracker.drop()
        await self._let_go()

    async def _let_go(self) -> None:
        """Leave the shared poller (the last one out closes the watch stream)."""
        if self._seat is not None:
            await self._seat.leave()
        elif self._waker is not None:
            await self._waker.aclose()

    def take(self) -> LogEvent | None:
        """The next queued event (recorded in the cursor as it is handed out), if any."""
        return self._tracker.take()

    async def __anext__(self) -> LogEvent:
        report = self._report
        try:
            with report.step():
                # The loop is here, not in a helper coroutine: a frame fewer on every
                # resume of every follower's requests and waits.
                acks = self._acks
                if acks is not None:
                    await acks.flush()  # asking for more acknowledges what was handed out
                tracker = self._tracker
                while (event := tracker.take()) is None:
                    if self._done:
                        raise StopAsyncIteration
                    seat = self._seat
                    assert seat is not None  # a many-task poller's follower is not iterated
                    # Seat.next, run here: a frame fewer on every resume of every request.
                    step = seat.begin(self._next_delay if self._polled else None)
                    while type(step) is not tuple:
                        step = await step or seat.step()  # type: ignore[misc]
                    record, logs = step
                    if acks is not None and self.task is None and record.task is not None:
                        await self._load(record.task)  # the first answer: resume
                    if self._take(record, logs, seat):
                        await self._confirm(record, seat)
                    tracker = self._tracker  # _load may have replaced it
                if acks is not None:
                    event = acks.stamp(event, self.cursor)
        except BaseException as exc:
            # The end, an error or cancellation: the shared poller must not keep its seat.
            reason = self.end_reason
            report.end(None if reason is None else reason.value, exc)
            await self._let_go()
            raise
        report.handed_out(event)
        return event

    def _take(self, record: PollRecord, logs: list[Any] | None, seat: Seat) -> bool:
        """Take one poll of the shared poller as this follower's own (no I/O).

        True: the stream says the agent went idle while the newest entry is held back;
        one more task read may settle it (the caller then awaits :meth:`_confirm`).
        """
        self._polled = True
        if record.woke:
            self._backoff.restart()  # a watch event: the fast pace again
        task = record.task
        if task is None:
            assert record.error is not None
            self._handle_error(record.error)
        else:
            try:
                if self._take_in(task, record, logs, seat):
                    return True
            except CoderError as exc:
                self._handle_error(exc)
            else:
                self._pace(task)
        seat.holding = self.holding or self._confirming
        return False

    async def _confirm(self, record: PollRecord, seat: Seat) -> None:
        """The rest of :meth:`_take` when it asked for the task to be read once more."""
        task = record.task
        assert task is not None
        try:
            if await seat.confirm(record):
                self._tracker.release(task)  # an idle event plus this one read settle the newest
        except CoderError as exc:
            self._handle_error(exc)
        else:
            self._logs_taken()
            self._decode_errors = 0
            self._pace(task)
        seat.holding = self.holding or self._confirming

    def _pace(self, task: Task) -> None:
        """The delay before the next poll, after a poll that was taken in."""
        changed = self._tracker.pending
        delay = self._backoff.after_poll(changed=changed)
        # The slow pace of an idle agent (the stream says so) may follow a poll that
        # handed something out: nothing more comes before the agent works again, which
        # the stream publishes.  Not with an ``until``, which may read the caller's own
        # state (it is checked again at the normal pace), nor for a stop put off by
        # one poll, which waits for that poll at the normal pace.
        quiet = (not changed or self._until is None) and not self._confirming
        self._next_delay = self._slow_pace(delay, task) if quiet else delay

    def _take_in(self, task: Task, record: PollRecord, logs: list[Any] | None, seat: Seat) -> bool:
        """:meth:`observe` for a shared poll: its task and whatever it did about the logs.

        True: a confirming read is wanted (see :meth:`_take`).
        """
        self._tracker.bind(task)
        if self.task is None:
            self._report.task(task.id)
        self.task = task
        if record.state is not Logs.READ:
            self._ends(task)  # not served, or skipped: nothing new to read
        elif record.logs_error is not None:
            if judge(record.logs_error) is not Verdict.NOT_READY:
                raise record.logs_error
            self._ends(task)
        else:
            assert logs is not None
            seat.took_logs(record)
            if self._take_in_logs(task, logs, record.snapshot):
                return True
        self._decode_errors = 0
        return False

    async def _load(self, task: Task) -> None:
        """Resume from the store's cursor of ``task``, if it has one (before any event)."""
        assert self._acks is not None
        saved = (await self._acks.load([task.id])).get(task.id)
        if saved is not None:
            tracker = ConversationTracker(settled=self._tracker.settled, cursor=saved)
            tracker.check(task.id, task.name)  # another task's cursor under this key
            self._tracker = tracker

    @property
    def waker(self) -> Waker:
        """The workspace watch this follower's polls listen to (internal)."""
        waker = self._stream_waker
        assert waker is not None, "the watch is known from the first poll on (not polling only)"
        return waker

    @property
    def _stream_waker(self) -> Waker | None:
        """:attr:`waker`, or ``None``: before the first poll, or ``wake="poll"``."""
        return self._waker if self._seat is None else self._seat.waker

    def paced(self, delay: float) -> float:
        """``delay`` stretched to the slow pace if the latest poll was quiet on the stream."""
        return delay if self.task is None else self._slow_pace(delay, self.task)

    def _slow_pace(self, delay: float, task: Task) -> float:
        """The waker's slow idle pace, but never past the moment ``idle_timeout`` fires.

        No event marks the passing of an idle timeout, so the poll that notices it
        must come on time.
        """
        waker = self._stream_waker
        paced = delay if waker is None else waker.pace(delay, task)
        if self._idle_timeout is not None and self._idle_since is not None:
            left = self._idle_since + self._idle_timeout - self._client.clock.now()
            paced = min(paced, max(delay, left))
        return paced

    async def observe(self, task: Task, *, fetch_logs: bool = True) -> bool:
        """Take in a fresh snapshot of the task and, when useful, poll its logs.

        Returns False when an error was handled (and the backoff already chosen).
        A cursor of another task is a ``ValueError``.
        """
        self._tracker.bind(task)
        self.task = task
        if self._pinned is None:
            self._pinned = PinnedTask(self._client, task)
            self._report.task(task.id)
        try:
            # Paused tasks answer from a stored snapshot on newer servers; a pre-v2.31.1
            # server refuses, which is handled as "not ready".
            if fetch_logs and serves_logs(task):
                await self._poll_logs(task)
            else:
                self._ends(task)
            self._decode_errors = 0
        except CoderError as exc:
            self._handle_error(exc)
            return False
        return True

    async def _poll_logs(self, task: Task) -> None:
        try:
            assert self._pinned is not None  # observe() pinned it
            raw_logs, snapshot = await self._pinned.read_logs_raw()
        except CoderError as exc:
            if judge(exc) is not Verdict.NOT_READY:
                raise
            self._ends(task)
            return
        if self._take_in_logs(task, raw_logs, snapshot):
            if await self._still_idle(task):
                self._tracker.release(task)  # an idle event plus this read settle the newest
            self._logs_taken()

    def _take_in_logs(self, task: Task, raw_logs: list[Any], snapshot: bool) -> bool:
        """Feed one logs answer to the tracker (no I/O).

        True: the watch stream says the agent went idle while the newest entry is held
        back; the caller reads the task once more (it settles the entry when it agrees)
        and then calls :meth:`_logs_taken`.
        """
        tracker = self._tracker
        try:
            produced = tracker.observe(task, raw_logs, snapshot)
        except ValueError as exc:  # a malformed entry
            raise CoderDecodeError(str(exc)) from None
        if produced and not self._confirming:
            self._idle_since = None  # something happened: the idle grace starts over
        # On the last poll an entry still held back is not finished by the tracker's
        # rule (two polls agreeing), so it is not handed out as final.
        self._ends(task, confirm=tracker.holding and not self._confirming)
        if not self._done and tracker.holding:
            waker = self._stream_waker
            if waker is not None and event_says_idle(waker.signal, task):
                return True
        self._logs_taken()
        return False

    def _logs_taken(self) -> None:
        """Note what the tracker holds back and has queued after a logs answer."""
        tracker = self._tracker
        self.holding = tracker.holding and not self._done
        if self._seat is None:
            self.waker.eager = self.holding
        self.produced = tracker.pending

    async def _still_idle(self, task: Task) -> bool:
        """Whether the logs just read end with a final entry (a many-task poller's
        follower: the task read again by its pinned path)."""
        assert self._pinned is not None  # observe() pinned it
        return await still_idle(task, self._pinned.read)

    def _ends(self, task: Task, *, confirm: bool = False) -> bool:
        """Decide whether this poll was the last one (events already queued still go out).

        ``confirm``: settled mode holds back the newest entry; stopping now would lose
        the agent's final reply, and handing it out on this task's word is unsafe (an
        input sent between the task and logs requests shows a reply that only just
        started next to a task read as idle).  One more poll settles it either way.
        """
        stop = stop_requested(task, self._until_terminal, self._until)
        if self._idle_timeout is not None:
            # Idle means: active, agent not working, and no new events.  A task that
            # is still starting is not idle, however long it takes.
            if ready_for_input(task):
                now = self._client.clock.now()
                if self._idle_since is None:
                    self._idle_since = now
                stop = stop or now - self._idle_since >= self._idle_timeout
            else:
                self._idle_since = None
        if stop and confirm:
            self._confirming = True
            return False
        self._confirming = False
        if stop:
            self.end(EndReason.STOPPED)
        return stop

    def _handle_error(self, exc: CoderError) -> None:
        verdict = judge(exc)
        if verdict is Verdict.GONE:
            if self.task is None and self._tracker.cursor.empty:
                raise exc  # never found: a wrong name or id, not a deleted task
            self.end(EndReason.DELETED)
            return
        if verdict is Verdict.RAISE:
            raise exc
        if isinstance(exc, CoderDecodeError):
            self._decode_errors += 1
            if self._decode_errors >= _MAX_DECODE_ERRORS:
                raise exc
        if verdict is Verdict.NOT_READY:
            self._next_delay = self._backoff.after_poll(changed=False)
        else:
            self._next_delay = self._backoff.after_failure(exc)
        self._report.waited_out(exc, self._next_delay)

    def __repr__(self) -> str:
        state: Any = "closed" if self.closed else "open"
        return f"<LogFollower {self._ref!s} {state} last_id={self.cursor.last_id}>"
