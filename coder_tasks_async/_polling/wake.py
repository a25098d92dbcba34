"""Wake-ups: a poller's sleep that ends early when the workspace watch stream speaks.

Coder publishes the whole workspace on its watch stream whenever the build, the
agent, app health or the agent's reported state changes (a new conversation
message publishes nothing).  A :class:`Waker` holds that stream for one poller
and turns each event into "poll now"; polling stays the source of truth, so an
event that is late, duplicated, stale or lost costs at most a poll.

The stream is opened lazily, only while the poller sleeps; when it drops, the
poller is told at once (it polls and keeps today's pace), and a stream that cannot
be had is tried again with backoff.  A server without the stream (404, or a
redirect) is not asked again.  Each sleep fixes its deadline first and races the
clock against the stream's connect and its next message; those two belong to the
waker and carry on into the next sleep (closed with it), so a stream that never
answers cannot stretch a wait.  News ends a wait at most :data:`EVENT_BURST` times
at once, then once per :data:`EVENT_GAP`: however fast a stream talks, a poller reads
its task about once a second on its account.  The end of an agent turn (the event a
bot holds a reply for) may also draw on :data:`TURN_CREDIT` wake-ups more, repaid at
the same pace.
"""

from __future__ import annotations

import asyncio
import enum
import math
from collections.abc import Awaitable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio

from .._endpoints.pinned import open_workspace_watch
from .._http.streams import EventStream, StreamUnavailable
from .._wire.loggers import ROOT, get_logger
from .._wire.models import Task, TaskState, TaskStatus
from .._wire.settings import Wake, check_wake
from .._wire.wakeup import WorkspaceSignal, read_signal

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints
    from .._http.clock import Clock

__all__ = [
    "EVENT_BURST",
    "EVENT_GAP",
    "IDLE_INTERVAL",
    "POLL_ONLY",
    "TURN_CREDIT",
    "WakeResult",
    "Waker",
    "WakerPool",
    "close_all",
    "event_says_idle",
    "say_mode",
    "sleep_any",
]

logger = get_logger(f"{ROOT}.polling")

#: Seconds between polls while a stream is open and the agent is not working: the
#: stream reports every state change, so polling is only a safety net then.
IDLE_INTERVAL = 150.0
#: A stream that sent nothing (not even a ping, due every 15 s) for this long is stalled.
STALL_AFTER = 45.0
#: A poller's streams end its wait early at most once per this many seconds of its
#: clock on average, whatever their event rate (news that comes sooner waits): a storm
#: of events costs at most one extra poll per second.
EVENT_GAP = 1.0
#: ... after a burst of this many.  A quick exchange is three events in well under a
#: second ("idle" as a reply is done, "working" as the next input lands, "idle" again
#: as its reply is done), and the last is the one a bot waits for: a strict gap held
#: it back for the rest of the second.
EVENT_BURST = 3
#: An event reporting the end of an agent turn (an idle report after the stream last
#: reported the agent working, or a new idle report) may end a wait on this many
#: wake-ups more (paid back at one per :data:`EVENT_GAP`, before any other news passes
#: again).  Back-to-back quick turns cost two events each ("working", "idle"): without
#: it a bot's third 0.5 s turn waited for the bucket.  However a stream flips the
#: agent's state, a poller still reads at most once per :data:`EVENT_GAP` on average,
#: after at most ``EVENT_BURST + TURN_CREDIT`` at once.
TURN_CREDIT = 6
#: Messages a wait still reads while the gate holds its news back, to hear a turn's end
#: behind a "working" event; a storm is not parsed while it waits.
_PEEKS = 8
_RETRY_FIRST = 1.0
_RETRY_MAX = 60.0


class WakeResult(enum.Enum):
    """How a :meth:`Waker.sleep` ended."""

    #: The full delay passed.
    TIMEOUT = "timeout"
    #: A data event arrived (:attr:`Waker.signal` holds it).
    EVENT = "event"
    #: The stream broke or stalled: poll now, at today's pace.
    LOST = "lost"
    #: The ``interrupt`` future was resolved (another follower of a shared poller read
    #: the task meanwhile): the caller decides again.
    INTERRUPTED = "interrupted"


def agent_working(task: Task) -> bool:
    """The agent is at work (messages publish no events, so poll at the normal pace)."""
    return task.status is TaskStatus.ACTIVE and task.state is TaskState.WORKING


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        return None


def event_says_idle(signal: WorkspaceSignal | None, task: Task) -> bool:
    """The latest watch event reported the agent idle, and ``task`` shows that same report.

    Only evidence: the caller confirms it with a task read *after* its log read, so a
    stale "idle" paired with a reply that started in between never settles an entry.
    """
    if signal is None or not signal.agent_idle or task.status is not TaskStatus.ACTIVE:
        return False
    cs = task.current_state
    at = _parse_time(signal.app_state_at)
    return (
        cs is not None
        and at is not None
        and cs.state is not TaskState.WORKING
        and (cs.timestamp == at)
    )


async def _next_or_end(stream: EventStream) -> tuple[str, Any] | None:
    """The stream's next message, or ``None`` once it ended: a pending read never raises,
    so one that finishes after its waker stopped listening leaves no unretrieved error."""
    try:
        return await stream.next()
    except EOFError:
        return None


def _ends_turn(signal: WorkspaceSignal, previous: WorkspaceSignal | None) -> bool:
    """The event reports the agent stopped working, and the stream's previous event did
    not (or was another report): the news a follower holding a reply back waits for,
    even when a poll already saw that state (only an event confirms it)."""
    if not signal.agent_idle:
        return False
    return (
        previous is None or not previous.agent_idle or previous.app_state_at != signal.app_state_at
    )


def _agrees(signal: WorkspaceSignal, task: Task) -> bool:
    """The event shows the agent state report and build the task already showed."""
    if signal.build_number is not None and signal.build_number != task.workspace_build_number:
        return False
    cs = task.current_state
    if cs is None or signal.app_state is None:
        return cs is None and signal.app_state is None
    at = _parse_time(signal.app_state_at)
    return signal.app_state == cs.state and at == cs.timestamp


#: Why a poller has no stream (the reason its wake-mode line gives).
POLL_ONLY = "wake='poll'"


def say_mode(label: str, mode: str, why: str = "", task: Task | None = None) -> None:
    """Log (DEBUG) the wake mode a follower's poller runs in: one wording for every poller."""
    logger.debug(
        "follower %s: wake mode %s%s",
        label,
        mode,
        f" ({why})" if why else "",
        extra={"mode": mode, "task_id": None if task is None else str(task.id)},
    )


class _Gate:
    """When a poller's streams may next end its wait early (wake-ups are coalesced).

    A token bucket: :data:`EVENT_BURST` early wake-ups at once, then one per
    :data:`EVENT_GAP` of the clock.  The end of a turn may overdraw it by up to
    :data:`TURN_CREDIT` (other news then waits until it is paid back).
    """

    __slots__ = ("_since", "_tokens")

    def __init__(self) -> None:
        self._tokens = float(EVENT_BURST)
        self._since = -math.inf

    def _level(self, now: float) -> float:
        if self._since == -math.inf:
            return self._tokens
        return min(float(EVENT_BURST), self._tokens + (now - self._since) / EVENT_GAP)

    def opens_at(self, now: float, turn: bool = False) -> float:
        """The earliest time (``now`` or later) news (``turn``: a turn's end) may end a wait."""
        level = self._level(now)
        need = 1.0 - TURN_CREDIT if turn else 1.0
        return now if level >= need else now + (need - level) * EVENT_GAP

    def take(self, now: float) -> None:
        """News ends a wait now."""
        self._tokens = self._level(now) - 1.0
        self._since = now


class Waker:
    """One poller's workspace watch: ``await waker.sleep(delay)`` instead of ``clock.sleep``."""

    # One per follower: thousands of them for a client following thousands of tasks.
    __slots__ = (
        "_client", "_connecting", "_gate", "_heard", "_label", "_mode", "_news", "_permanent",
        "_reader", "_retry_at", "_retry_delay", "_snapshot_due", "_stream", "_task", "_turn",
        "_workspace", "eager", "events", "signal", "wake",
    )  # fmt: skip

    def __init__(self, client: TaskEndpoints, wake: Wake | None, label: str) -> None:
        self._client = client
        self.wake: Wake = client.wake if wake is None else check_wake(wake)
        self._label = label
        self._workspace: UUID | None = None
        self._stream: EventStream | None = None
        #: The stream being opened: it runs on across sleeps, never inside one's deadline.
        self._connecting: asyncio.Future[None] | None = None
        self._reader: asyncio.Future[tuple[str, Any] | None] | None = None
        #: What the stream said that the poller has not acted on yet (coalesced).
        self._news: WakeResult | None = None
        #: ... and whether that includes the end of a turn the last poll did not show.
        self._turn = False
        self._gate = _Gate()
        self._retry_at = 0.0
        self._retry_delay = _RETRY_FIRST
        self._permanent = False
        self._heard = 0.0
        self._mode = ""
        #: The task as of the latest poll, and whether the next data event is the
        #: snapshot a stream sends on connect.
        self._task: Task | None = None
        self._snapshot_due = False
        #: The owner holds an entry back until the agent is seen idle: even a connect
        #: snapshot that agrees with the last poll is worth a poll then.
        self.eager: bool = False
        #: The latest data event (``None`` before the first).
        self.signal: WorkspaceSignal | None = None
        #: Data events seen.
        self.events: int = 0

    @property
    def streaming(self) -> bool:
        """A stream is open right now."""
        return self._stream is not None and not self._stream.closed

    def _say(self, mode: str, why: str = "") -> None:
        if mode != self._mode:
            self._mode = mode
            say_mode(self._label, mode, why, self._task)

    async def attach(self, task: Task) -> None:
        """Follow ``task``'s workspace (a different one closes the old stream)."""
        if self.moved(task):
            await self.aclose()

    def moved(self, task: Task) -> bool:
        """:meth:`attach` without the await: True when ``task``'s workspace is another one
        than the stream's, which the caller then closes (``await waker.aclose()``)."""
        self._label = task.name or self._label
        self._task = task
        wid = task.workspace_id
        if wid is self._workspace or wid == self._workspace:
            return False
        self._workspace = wid
        self.signal = None
        return True

    def say_poll(self) -> None:
        """Log, once, that this waker's poller sleeps without a stream (``wake="poll"``)."""
        self._say("poll", POLL_ONLY)

    def pace(self, delay: float, task: Task | None) -> float:
        """The delay to poll after: slow while the stream and the poll agree all is quiet.

        Only the stream's own idle report counts (not merely an open stream), so a
        stream that says nothing never slows a poller down.
        """
        return max(delay, IDLE_INTERVAL) if self.quiet(task) else delay

    def quiet(self, task: Task | None) -> bool:
        """A live stream and the latest poll agree nothing happens until the stream speaks:
        the agent reported idle (and the poll shows it not working), or the task is paused.
        """
        signal = self.signal
        if not self.streaming or task is None or signal is None:
            return False
        if task.status is TaskStatus.PAUSED:
            return True
        return signal.agent_idle and task.status is TaskStatus.ACTIVE and not agent_working(task)

    async def sleep(
        self, delay: float, interrupt: asyncio.Future[None] | None = None
    ) -> WakeResult:
        """Wait up to ``delay`` seconds of the client's clock, or until the stream speaks
        (coalesced: see :class:`_Gate`), or until ``interrupt`` is resolved."""
        if self.wake == "poll":
            # Never a stream: the plain sleep, without a wait over streams per poll.
            self.say_poll()
            if interrupt is None:
                await self._client.clock.sleep(delay)
                return WakeResult.TIMEOUT
            wakers: tuple[Waker, ...] = ()
        else:
            wakers = (self,)
        result, _ = await sleep_any(self._client.clock, wakers, delay, self._gate, interrupt)
        return result

    def _due(self, now: float) -> bool:
        """A stream should be opened now (never for ``wake='poll'`` or a 404 path)."""
        return (
            self.wake == "auto"
            and self._workspace is not None
            and self._stream is None
            and self._connecting is None
            and not self._permanent
            and now >= self._retry_at
        )

    def _read(self, stream: EventStream) -> asyncio.Future[tuple[str, Any] | None]:
        """The pending read of the next message (one at a time, kept across sleeps)."""
        if self._reader is None:
            self._reader = asyncio.ensure_future(_next_or_end(stream))
        return self._reader

    async def _heard_from(
        self, reader: asyncio.Future[tuple[str, Any] | None]
    ) -> WakeResult | None:
        """A message arrived: an event or a break is news, a ping or noise is not."""
        self._reader = None
        message = reader.result()
        if message is None:
            await self._lost("dropped")
            return WakeResult.LOST
        kind, data = message
        self._heard = self._client.clock.now()
        if kind == "data":
            previous, self.signal = self.signal, read_signal(data)
            self.events += 1
            self._retry_delay = _RETRY_FIRST
            snapshot, self._snapshot_due = self._snapshot_due, False
            if snapshot and not self.eager and self._task and _agrees(self.signal, self._task):
                return None  # the connect snapshot shows what the last poll saw: no news
            self._turn = self._turn or _ends_turn(self.signal, previous)
            return WakeResult.EVENT
        if kind == "error":
            await self._lost("error event")
            return WakeResult.LOST
        return None

    def _start_connect(self) -> None:
        self._connecting = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        """Open the stream (a task of its own: see :func:`sleep_any`); never raises but
        for cancellation: a stream that cannot be had only means polling."""
        assert self._workspace is not None
        permanent = False
        try:
            stream = await open_workspace_watch(self._client, self._workspace)
        except StreamUnavailable as exc:
            permanent, why = exc.permanent, str(exc)
        except Exception as exc:  # e.g. another event loop: polling says so
            why = type(exc).__name__
        else:
            self._stream = stream
            self._heard = self._client.clock.now()
            self._snapshot_due = True
            self._say(stream.mode, "workspace watch open")
            return
        self._permanent = permanent
        self._schedule_retry()
        self._say("poll", f"no watch stream: {why}")

    def _schedule_retry(self) -> None:
        self._retry_at = self._client.clock.now() + self._retry_delay
        self._retry_delay = min(_RETRY_MAX, self._retry_delay * 2)

    async def _lost(self, why: str) -> None:
        await self.aclose()
        self._schedule_retry()
        self._say("poll", f"watch stream {why}")

    def _detach(self) -> list[Awaitable[Any]]:
        """Let go of the stream without an await; returns what is left to await."""
        left: list[Awaitable[Any]] = []
        self._news, self._turn = None, False
        for future in (self._reader, self._connecting):
            if future is not None:
                future.cancel()
                left.append(future)
        self._reader = self._connecting = None
        stream, self._stream = self._stream, None
        rest = None if stream is None else stream.shut()
        if rest is not None:
            left.append(rest)
        return left

    async def aclose(self) -> None:
        """Close the stream (if any), also under cancellation.  Idempotent."""
        await close_all((self,))


async def close_all(wakers: Iterable[Waker]) -> None:
    """Close every waker's stream: all of them at once, even when one close fails, and
    even inside a cancelled scope (where each await would be cancelled in turn, so
    closing one after another stopped at the first)."""
    left = [pending for waker in wakers for pending in waker._detach()]
    if not left:
        return
    closing = asyncio.gather(*left, return_exceptions=True)
    cancelled = False
    with anyio.CancelScope(shield=True):
        while not closing.done():
            try:
                await asyncio.shield(closing)
            except asyncio.CancelledError:
                # A cancellation already on its way in: every close is bounded (a
                # second or so), so it is honoured once they are all done.
                cancelled = True
    if cancelled:
        raise asyncio.CancelledError


async def sleep_any(
    clock: Clock,
    wakers: Sequence[Waker],
    delay: float,
    gate: _Gate | None = None,
    interrupt: asyncio.Future[None] | None = None,
) -> tuple[WakeResult, list[Waker]]:
    """Wait up to ``delay`` seconds, or until any of ``wakers``' streams has news.

    Returns how the wait ended and the wakers whose stream spoke (an event) or broke
    (lost).  The deadline is fixed first: streams that are due start opening, but a
    stream that connects slowly, or never, cannot stretch the wait.  Pings and noise
    do not end the wait; a stream silent for :data:`STALL_AFTER` counts as broken.
    News ends the wait at most :data:`EVENT_BURST` times at once, then once per
    :data:`EVENT_GAP` (``gate`` keeps count): news that comes sooner is kept and ends
    the wait when the gate opens; meanwhile a wait reads a few messages more, for the
    end of a turn, which may overdraw the gate (see :data:`TURN_CREDIT`).
    Nothing is left running but a connect and a pending read, which stay with their
    waker for the next wait (closed by :meth:`Waker.aclose`).  A resolved ``interrupt``
    ends the wait as :attr:`WakeResult.INTERRUPTED` (news stays for the next wait).
    """
    gate = gate or _Gate()
    now = clock.now()
    deadline = now + delay
    for waker in wakers:
        if waker._due(now):
            waker._start_connect()
    peeks = _PEEKS
    while True:
        now = clock.now()
        _forget_finished_connects(wakers)
        if interrupt is not None and interrupt.done():
            return WakeResult.INTERRUPTED, []
        news = [w for w in wakers if w._news is not None]
        if now >= deadline:
            return WakeResult.TIMEOUT, _take_news(news)
        turn = any(w._turn for w in news)
        opens_at = gate.opens_at(now, turn) if news else deadline
        if news and now >= opens_at:
            gate.take(now)
            event = any(w._news is WakeResult.EVENT for w in news)
            return (WakeResult.EVENT if event else WakeResult.LOST), _take_news(news)
        if news:  # heard; the gate opens before the deadline: listen on only for a turn's end
            seconds, listen = min(deadline, opens_at) - now, not turn and peeks > 0
        else:
            seconds, listen = deadline - now, True
        heard = await _wait(clock, wakers, seconds, listen=listen, interrupt=interrupt)
        if news:
            peeks -= heard


def _forget_finished_connects(wakers: Sequence[Waker]) -> None:
    for waker in wakers:
        if waker._connecting is not None and waker._connecting.done():
            waker._connecting = None  # it set up the stream, or the retry, itself


def _take_news(news: list[Waker]) -> list[Waker]:
    for waker in news:
        waker._news, waker._turn = None, False
    return news


async def _wait(
    clock: Clock,
    wakers: Sequence[Waker],
    seconds: float,
    *,
    listen: bool,
    interrupt: asyncio.Future[None] | None = None,
) -> int:
    """One turn of :func:`sleep_any`: wait up to ``seconds``, or until a connect finishes,
    ``interrupt`` is resolved or (``listen``) a stream says something; what it said
    becomes the waker's news (a ping keeps news already heard).  Returns how many
    messages were read."""
    now = clock.now()
    readers: dict[asyncio.Future[tuple[str, Any] | None], Waker] = {}
    if listen:
        live = [w for w in wakers if w._stream is not None]
        stalled = [w for w in live if w._heard + STALL_AFTER <= now]
        for waker in stalled:
            await waker._lost("stalled")
            waker._news = WakeResult.LOST
        if stalled:
            return 0
        readers = {w._read(w._stream): w for w in live if w._stream is not None}
        seconds = min([seconds, *(w._heard + STALL_AFTER - now for w in live)])
    connects = [w._connecting for w in wakers if w._connecting is not None]
    if not readers and not connects and interrupt is None:
        await clock.sleep(seconds)
        return 0
    timer: asyncio.Future[Any] = asyncio.ensure_future(clock.sleep(seconds))
    waits: set[asyncio.Future[Any]] = {*readers, *connects, timer}
    if interrupt is not None:
        waits.add(interrupt)  # never cancelled here: it belongs to the shared poller
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
    heard = 0
    for reader, waker in readers.items():
        if reader.done():
            heard += 1
            result = await waker._heard_from(reader)
            if result is not None:
                waker._news = result
    return heard


class WakerPool:
    """The wakers of a many-task poller: at most ``limit`` streams; the rest only poll."""

    def __init__(self, client: TaskEndpoints, wake: Wake | None, limit: int | None) -> None:
        self._client = client
        self._wake: Wake = client.wake if wake is None else check_wake(wake)
        if limit is not None and limit < 0:
            raise ValueError("max_streams must not be negative")
        self._limit = limit
        self._wakers: dict[UUID, Waker] = {}
        self._listening = 0
        #: One gate for all: a storm on many streams still ends the wait once per gap.
        self._gate = _Gate()

    def get(self, task: Task) -> Waker:
        """This task's waker: one that may stream while the limit allows, else a poll-only one."""
        waker = self._wakers.get(task.id)
        if waker is None:
            room = self._limit is None or self._listening < self._limit
            listens = self._wake == "auto" and room
            self._listening += listens
            waker = Waker(self._client, "auto" if listens else "poll", task.name or str(task.id))
            self._wakers[task.id] = waker
        return waker

    async def drop(self, task_id: UUID) -> None:
        """Close and forget a task's waker (its stream slot goes to the next task)."""
        waker = self._wakers.pop(task_id, None)
        if waker is not None:
            self._listening -= waker.wake == "auto"
            await waker.aclose()

    async def sleep(self, delay: float) -> tuple[WakeResult, set[UUID]]:
        """Wait up to ``delay``, or until any task's stream speaks (see :func:`sleep_any`).

        Returns how the wait ended and the ids of the tasks whose stream spoke.
        """
        wakers = list(self._wakers.values())
        result, woken = await sleep_any(self._client.clock, wakers, delay, self._gate)
        return result, {task_id for task_id, w in self._wakers.items() if w in woken}

    async def aclose(self) -> None:
        """Close every stream, all of them even under cancellation.  Idempotent."""
        wakers = list(self._wakers.values())
        self._wakers.clear()
        self._listening = 0
        await close_all(wakers)
