"""Shared pollers: every follower of one task in one client rides one poller.

``follow_logs``, ``watch`` and ``wait_for`` each take a :class:`Seat` at their task's
:class:`SharedPoller` (one per task, wake mode and client).  The poller reads the
task (and its logs, when a log follower is seated) and publishes each read as a
:class:`PollRecord`; every seat turns the records into its own events with its own
tracker, cursor and pace, so N followers of one conversation cost one follower's
requests, and each still sees exactly what it would see alone (a record is one real
poll; a seat that was busy takes the newest record, as a follower that polled less
often would).

Nothing runs in the background.  The seats take turns: a seat that needs news and
finds none sleeps until its own next poll is due (one of them on the workspace watch
stream), and whichever is due first reads, while the others wait for its record.  A
seat cancelled in the middle of a read leaves no record; the others see the read end
and read again themselves.  The last seat to leave closes the stream, and the poller
is forgotten.

Logs are read for a poll only when a log follower is seated, and not even then while
the watch stream reports the agent idle, the task reads exactly as at the last logs
read, and no seat holds an entry back (an idle task's safety read is one request).
A record keeps its logs only until every seat that was there when it was published
took it, so an idle poller holds no conversation in memory.
"""

from __future__ import annotations

import asyncio
import enum
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

from .._endpoints.pinned import PinnedTask
from .._http.clock import SystemClock
from .._wire.errors import CoderError
from .._wire.models import Task, TaskStatus
from .._wire.protocol import name_ref
from .._wire.settings import Wake, check_wake
from .conditions import serves_logs
from .tracker import agent_settled
from .wake import POLL_ONLY, Waker, WakeResult, say_mode

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints
    from .._wire.protocol import TaskRef

__all__ = ["Logs", "PollRecord", "Seat", "SharedPoller", "Step", "drive", "still_idle"]


class Logs(enum.Enum):
    """What a poll did about the task's conversation."""

    #: Read (``logs``/``snapshot``), or the read failed (``logs_error``).
    READ = "read"
    #: Not read: the task reads as at the last logs read and the stream reports it idle.
    SKIPPED = "skipped"
    #: The task serves no conversation now (not active, or still starting).
    NOT_SERVED = "not_served"
    #: No log follower was seated.
    NOT_ASKED = "not_asked"


class PollRecord:
    """One poll of a shared task: the task (or the error that read raised) and its logs."""

    __slots__ = (
        "confirmed", "epoch", "error", "logs", "logs_error", "logs_of", "pending", "seq",
        "snapshot", "state", "task", "woke",
    )  # fmt: skip

    def __init__(
        self, epoch: int, woke: bool, task: Task | None = None, error: CoderError | None = None
    ) -> None:
        #: Published order (0: not published, a seat's own failed lookup).
        self.seq = 0
        #: Which poll started it: a seat that asks for a fresh read takes no older one.
        self.epoch = epoch
        #: A watch event asked for this poll: every seat restarts its fast pace.
        self.woke = woke
        self.task = task
        self.error = error
        self.state = Logs.NOT_ASKED
        self.logs: list[Any] | None = None
        self.snapshot = False
        self.logs_error: CoderError | None = None
        #: ``SKIPPED``: the logs read this poll stands on (its ``seq``).
        self.logs_of = 0
        #: Seats that have yet to take it; its logs are let go at zero.
        self.pending = 0
        #: The task read again after the logs agrees it is idle (``None``: not asked).
        self.confirmed: bool | None = None


def _mark(task: Task) -> tuple[Any, ...]:
    """What a logs read is skipped on: the task reads exactly as at the last read."""
    cs = task.current_state
    return (
        task.status,
        task.workspace_status,
        task.workspace_build_number,
        task.workspace_agent_id,
        task.workspace_agent_lifecycle,
        None if cs is None else (cs.state, cs.timestamp, cs.message),
    )


def _known_id(ref: TaskRef) -> UUID | None:
    """The task id ``ref`` names without a request (``None``: a name to look up)."""
    if isinstance(ref, Task):
        return ref.id
    if isinstance(ref, UUID):
        return ref
    if name_ref(ref) is None and "/" not in ref:
        return UUID(ref.strip())
    return None


async def still_idle(task: Task, read: Callable[[], Awaitable[Task]]) -> bool:
    """Whether logs read after ``task`` end with a final entry: the task, read again
    (``read``), agrees.

    ``task`` was read before the logs.  A stale "idle" there may pair with a reply that
    started in between; if a read after the logs still shows the very same report (and
    the agent not working), nothing started in between.
    """
    if task.status is not TaskStatus.ACTIVE:
        return True  # not running: nothing can grow
    again = await read()
    before, after = task.current_state, again.current_state
    if before is None or after is None:
        return before is None and after is None and agent_settled(again)
    return (
        after.timestamp == before.timestamp
        and after.state is before.state
        and (agent_settled(again))
    )


#: A record a seat takes, with its logs (``None`` when it has none for this seat).
Got: TypeAlias = tuple[PollRecord, "list[Any] | None"]
#: What a seat does next (:meth:`Seat.begin`): the record taken, or an awaitable to await
#: before asking again (its result: the record taken, or ``None``).
Step: TypeAlias = "Got | Awaitable[Got | None]"


async def drive(seat: Seat, step: Step) -> Got:
    """Await what ``seat`` asks for until it takes a record (see :meth:`Seat.begin`)."""
    while type(step) is not tuple:
        step = await step or seat.step()  # type: ignore[misc]
    return step


#: The pollers of each client, by (task id, wake mode); weak: a client that is gone
#: takes its pollers along.
_HUBS: weakref.WeakKeyDictionary[Any, dict[tuple[UUID, str], SharedPoller]] = (
    weakref.WeakKeyDictionary()
)


def pollers_of(client: TaskEndpoints) -> dict[tuple[UUID, str], SharedPoller]:
    """The client's shared pollers now running (tests and benchmarks read it)."""
    return _HUBS.get(client, {})


class SharedPoller:
    """The one poller of a task in a client: reads it for all its seats, one read at a time."""

    __slots__ = (
        "_change", "_client", "_clock", "_confirm", "_hub", "_key", "_listening", "_log_seats",
        "_logs_seq", "_logs_task", "_lone_sleep", "_owed", "_owner", "_pinned", "_polling", "_ref",
        "_seats", "_seq", "_started", "latest", "waker",
    )  # fmt: skip

    def __init__(
        self, client: TaskEndpoints, key: tuple[UUID, str], ref: TaskRef, owner: str | UUID
    ) -> None:
        self._client = client
        #: The client's clock (fixed for its life), looked up once: it is read every poll.
        self._clock = clock = client.clock
        #: What a lone seat sleeps with: on the system clock ``asyncio.sleep`` itself, not
        #: ``SystemClock.sleep`` (asyncio's behind a coroutine frame of its own, made per
        #: poll and alive across every follower's every wait: ~1% of a poll's CPU).
        self._lone_sleep: Callable[[float], Awaitable[None]] = (
            asyncio.sleep if type(clock) is SystemClock else clock.sleep
        )
        self._hub = _HUBS.setdefault(client, {})
        self._key = key
        self._ref, self._owner = ref, owner
        label = ref if isinstance(ref, str) else "task"
        #: The workspace watch; ``None`` for ``wake="poll"``, which never opens a stream
        #: (no watch machinery per followed task, nothing to ask of it per poll).
        self.waker: Waker | None = None
        if key[1] == "poll":
            say_mode(label, "poll", POLL_ONLY)
        else:
            self.waker = Waker(client, key[1], label)  # type: ignore[arg-type]
        self._pinned: PinnedTask | None = None
        self._seats: list[Seat] = []
        #: How many of the seats read the conversation (the logs are read while any does).
        self._log_seats = 0
        #: The newest poll (``None`` before the first).
        self.latest: PollRecord | None = None
        self._seq = 0
        self._started = 0
        #: The newest successful logs read (its ``seq``) and the task it went with (its
        #: :func:`_mark` is taken only when a quiet stream may skip a read: not per poll).
        self._logs_seq = 0
        self._logs_task: Task | None = None
        self._polling = False
        #: A seat sleeps on the watch stream (one at a time may).
        self._listening = False
        #: The stream asked for a poll that has not started yet.
        self._owed: WakeResult | None = None
        #: Resolved (and replaced) whenever a read ends or a seat leaves.
        self._change: asyncio.Future[None] | None = None
        self._confirm: asyncio.Lock | None = None
        self._hub[key] = self

    def __repr__(self) -> str:
        return f"<SharedPoller {self._key[0]} seats={len(self._seats)} polls={self._seq}>"

    # -- seats ------------------------------------------------------------------------

    def _add(self, seat: Seat) -> None:
        seat.joined_seq = self._seq
        seat.min_epoch = self._started + 1 if seat.fresh else 0
        self._seats.append(seat)
        self._log_seats += seat.logs

    async def _remove(self, seat: Seat) -> None:
        self._seats.remove(seat)
        self._log_seats -= seat.logs
        latest = self.latest
        if latest is not None and latest.seq > max(seat.seen, seat.joined_seq):
            self._release(latest)
        if self._seats:
            self._notify()  # it may have been the one on the stream: another takes over
            return
        if self._hub.get(self._key) is self:
            del self._hub[self._key]
        if self.waker is not None:
            await self.waker.aclose()

    # -- what seats wait for ------------------------------------------------------------

    def step_for(self, seat: Seat) -> Step:
        """What ``seat`` does next: take the newest record if it has not taken it (returned
        with its logs), else await the returned awaitable (the next read, made by this
        seat once ``seat.want`` comes, or another seat's) and ask again.

        Not a coroutine: the seat's owner awaits what it returns, so no frame of the
        poller's sits between a follower and its requests on every resume.
        """
        record = self.latest
        if record is not None and record.seq > seat.seen and record.epoch >= seat.min_epoch:
            seat.seen = record.seq
            logs = record.logs
            if record.seq > seat.joined_seq:
                self._release(record)
            if not seat.logs or self._usable(record, seat, logs):
                return record, logs
            seat.want = self._clock.now()  # its conversation is not in it: read now
        if self._polling:
            return self._changed()
        clock = self._clock
        now = clock.now()
        if self._owed is not None or now >= seat.want:
            return self._poll(None)
        left = seat.want - now
        if self.waker is None and len(self._seats) == 1:
            # No stream to listen to and no other seat to wait for: the plain sleep,
            # two coroutine frames fewer on every follower's every wait; on the system
            # clock asyncio's own (``left`` > 0 here; NaN goes to the clock, which knows it).
            return self._lone_sleep(left) if left > 0 else clock.sleep(left)
        return self._sleep_noting(left)

    async def _sleep_noting(self, seconds: float) -> None:
        """:meth:`_sleep`, noting a stream's news as a poll owed."""
        result = await self._sleep(seconds)
        if result is WakeResult.EVENT or result is WakeResult.LOST:
            self._owed = result

    def _usable(self, record: PollRecord, seat: Seat, logs: list[Any] | None) -> bool:
        """A log follower can take ``record``: it has the conversation, or stands on the
        conversation the follower took last, or no conversation is to be had (the task
        serves none, or its read failed)."""
        if record.task is None:
            return True
        state = record.state
        if state is Logs.READ:
            return logs is not None or record.logs_error is not None
        if state is Logs.SKIPPED:
            return record.logs_of == seat.logs_seq
        return state is Logs.NOT_SERVED

    async def _sleep(self, seconds: float) -> WakeResult:
        """Until ``seconds`` pass, the stream speaks (one sleeper listens) or, with other
        seats, another read ends (then ``INTERRUPTED``)."""
        change = self._change_future() if len(self._seats) > 1 else None
        waker = self.waker
        if waker is not None and not self._listening:
            self._listening = True
            # A seat holds an entry back until the agent is seen idle: even a connect
            # snapshot that agrees with the last read is worth a read then.
            waker.eager = any(seat.holding for seat in self._seats)
            try:
                return await waker.sleep(seconds, change)
            finally:
                self._listening = False
        clock = self._clock
        if change is None:
            await clock.sleep(seconds)
            return WakeResult.TIMEOUT
        timer = asyncio.ensure_future(clock.sleep(seconds))
        try:
            await asyncio.wait((timer, change), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        return WakeResult.INTERRUPTED if change.done() else WakeResult.TIMEOUT

    def _change_future(self) -> asyncio.Future[None]:
        if self._change is None:
            self._change = asyncio.get_running_loop().create_future()
        return self._change

    async def _changed(self) -> None:
        # Waited on, never awaited directly: a cancelled seat must not cancel it for all.
        await asyncio.wait((self._change_future(),))

    def _notify(self) -> None:
        change, self._change = self._change, None
        if change is not None and not change.done():
            change.set_result(None)

    def _release(self, record: PollRecord) -> None:
        """One seat took (or let go of) ``record``: its logs go once none is left to."""
        if record.logs is not None:
            record.pending -= 1
            if record.pending <= 0:
                record.logs = None

    # -- reading ----------------------------------------------------------------------

    async def _poll(self, first: Task | None) -> None:
        """One read, published as the new :attr:`latest` (nothing when cancelled).

        The read is made here, not in a helper coroutine: every follower's requests
        pass through this frame, and each frame costs on every resume.
        """
        self._polling = True
        self._started += 1
        epoch = self._started
        woke, self._owed = self._owed is WakeResult.EVENT, None
        try:
            try:
                task = first if first is not None else await self.read_task()
            except CoderError as exc:
                record = PollRecord(epoch, woke, error=exc)
            else:
                record = PollRecord(epoch, woke, task)
                if self._pinned is None:
                    self._pinned = PinnedTask(self._client, task)
                waker = self.waker
                if waker is not None and waker.moved(task):
                    await waker.aclose()
                if self._log_seats and self._logs_wanted(record, task):
                    try:
                        record.logs, record.snapshot = await self._pinned.read_logs_raw()
                    except CoderError as exc:
                        record.logs_error = exc
            self._seq += 1
            record.seq = self._seq
            if record.state is Logs.READ and record.logs_error is None:
                self._logs_seq, self._logs_task = record.seq, record.task
                record.pending = len(self._seats)
            self.latest = record
        finally:
            self._polling = False
            self._notify()

    def _logs_wanted(self, record: PollRecord, task: Task) -> bool:
        """Decide what this poll does about the logs (``record.state``): True to read them."""
        if not serves_logs(task):
            record.state = Logs.NOT_SERVED
            return False
        if self._quiet(task):
            record.state, record.logs_of = Logs.SKIPPED, self._logs_seq
            return False
        record.state = Logs.READ
        return True

    def _quiet(self, task: Task) -> bool:
        """The logs need no read: the stream reports the agent idle, the task reads as at
        the last logs read, and every log follower took that read and holds nothing back."""
        before, waker = self._logs_task, self.waker
        if before is None or waker is None or not waker.quiet(task) or _mark(task) != _mark(before):
            return False
        logs_seq = self._logs_seq
        return not any(s.holding or (s.logs and s.logs_seq != logs_seq) for s in self._seats)

    def read_task(self) -> Awaitable[Task]:
        """The task now: by its pinned path once resolved (never by name again)."""
        if self._pinned is None:
            return self._client.get_task(self._ref, owner=self._owner)
        return self._pinned.read()

    async def confirm(self, record: PollRecord) -> bool:
        """:func:`still_idle` for ``record``, read once whichever seat asks first."""
        if record.confirmed is None:
            if self._confirm is None:
                self._confirm = asyncio.Lock()
            async with self._confirm:
                if record.confirmed is None:
                    assert record.task is not None
                    record.confirmed = await still_idle(record.task, self.read_task)
        return record.confirmed


class Seat:
    """One follower's place at its task's :class:`SharedPoller` (taken on the first read).

    ``logs``: the follower reads the conversation; ``fresh``: its first record must come
    from a read started after it sat down (``wait_for`` and ``watch`` answer for now).
    """

    __slots__ = (
        "_client", "_clock", "_owner", "_poller", "_ref", "_wake", "fresh", "holding", "joined_seq",
        "logs", "logs_seq", "min_epoch", "seen", "want",
    )  # fmt: skip

    def __init__(
        self,
        client: TaskEndpoints,
        ref: TaskRef,
        owner: str | UUID,
        wake: Wake | None,
        *,
        logs: bool,
        fresh: bool,
    ) -> None:
        self._client = client
        self._clock = client.clock  # read on every poll: looked up once
        self._ref, self._owner = ref, owner
        self._wake: str = client.wake if wake is None else check_wake(wake)
        self.logs = logs
        self.fresh = fresh
        self._poller: SharedPoller | None = None
        #: The newest record taken; the record it joined after; the first read it may take.
        self.seen = self.joined_seq = self.min_epoch = 0
        #: The newest logs read this seat took (its record's ``seq``).
        self.logs_seq = 0
        #: When (clock time) this seat reads itself, if no other seat's read comes first.
        self.want = 0.0
        #: The follower holds an entry back (or a stop waits for one more read): the
        #: logs must be read, and even a watch snapshot that agrees is worth a read.
        self.holding = False

    @property
    def poller(self) -> SharedPoller | None:
        """The poller this seat is at (``None`` before the first read)."""
        return self._poller

    @property
    def waker(self) -> Waker | None:
        """The shared workspace watch (``None`` before the first read, and for
        ``wake="poll"``)."""
        return None if self._poller is None else self._poller.waker

    def next(self, delay: float | None) -> Awaitable[Got]:
        """The next poll for this follower, no sooner than ``delay`` seconds from now
        unless another follower's read comes first (``None``: at once).

        Returns the record and its logs.  A failed name lookup before the seat is taken
        comes back as an unpublished record with the error.
        """
        return drive(self, self.begin(delay))

    def begin(self, delay: float | None) -> Step:
        """Start asking for the next poll (see :meth:`next`): the record and its logs, or
        an awaitable whose result is them, or ``None`` to ask :meth:`step` again.

        :func:`drive` runs the asking; a log follower runs it in its own ``__anext__``,
        a coroutine frame fewer on every resume of its every request and wait.
        """
        poller = self._poller
        if poller is None:
            return self._sit(delay)
        self.want = self._clock.now() + (delay or 0.0)
        return poller.step_for(self)

    def step(self) -> Step:
        """Ask again after awaiting what :meth:`begin` or :meth:`step` returned."""
        assert self._poller is not None
        return self._poller.step_for(self)

    async def _sit(self, delay: float | None) -> Got | None:
        """Take the seat at the task's poller (making it if none runs), looking a name up
        first; that lookup is a new poller's first read."""
        if delay:
            await self._clock.sleep(delay)  # after a failed lookup: no stream yet
        first: Task | None = None
        task_id = _known_id(self._ref)
        if task_id is None:
            try:
                first = await self._client.get_task(self._ref, owner=self._owner)
            except CoderError as exc:
                return PollRecord(0, False, error=exc), None
            task_id = first.id
        key = (task_id, self._wake)
        poller = pollers_of(self._client).get(key)
        if poller is None:
            poller = SharedPoller(self._client, key, self._ref, self._owner)
        self._poller = poller
        poller._add(self)
        self.want = self._clock.now()
        if first is not None and poller.latest is None and not poller._polling:
            await poller._poll(first)
        return None

    def took_logs(self, record: PollRecord) -> None:
        """The follower took in ``record``'s logs (a ``SKIPPED`` one then stands on it)."""
        if record.state is Logs.READ and record.logs_error is None:
            self.logs_seq = record.seq

    async def confirm(self, record: PollRecord) -> bool:
        """Whether the logs of ``record`` end with a final entry (one more task read)."""
        assert self._poller is not None
        return await self._poller.confirm(record)

    async def leave(self) -> None:
        """Give up the seat (the last one out closes the stream).  Idempotent."""
        poller, self._poller = self._poller, None
        if poller is not None:
            await poller._remove(self)
