"""Wake-ups: a poller's sleep that ends early when the workspace watch stream speaks.

Coder publishes the whole workspace on its watch stream whenever the build, the
agent, app health or the agent's reported state changes (a new conversation
message publishes nothing).  A :class:`Waker` holds that stream for one poller
and turns each event into "poll now"; polling stays the source of truth, so an
event that is late, duplicated, stale or lost costs at most a poll.

The stream is opened lazily, only while the poller sleeps; when it cannot be
opened or drops, the poller is told at once (it polls and keeps today's pace)
and the stream is tried again with backoff.  A server without the stream (404)
is not asked again.  Nothing runs in the background: each sleep races the clock
against the next message and cancels the loser.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .._http.streams import EventStream, StreamUnavailable
from .._wire.models import Task, TaskState, TaskStatus
from .._wire.settings import Wake, check_wake
from .._wire.wakeup import WorkspaceSignal, read_signal

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints
    from .._http.clock import Clock

__all__ = ["IDLE_INTERVAL", "WakeResult", "Waker", "WakerPool", "event_says_idle", "sleep_any"]

logger = logging.getLogger("coder_tasks_async")

#: Seconds between polls while a stream is open and the agent is not working: the
#: stream reports every state change, so polling is only a safety net then.
IDLE_INTERVAL = 150.0
#: A stream that sent nothing (not even a ping, due every 15 s) for this long is stalled.
STALL_AFTER = 45.0
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


def agent_working(task: Task) -> bool:
    """The agent is at work (messages publish no events, so poll at the normal pace)."""
    return task.status is TaskStatus.ACTIVE and task.state is TaskState.WORKING


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
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


def _agrees(signal: WorkspaceSignal, task: Task) -> bool:
    """The event shows the agent state report and build the task already showed."""
    if signal.build_number is not None and signal.build_number != task.workspace_build_number:
        return False
    cs = task.current_state
    if cs is None or signal.app_state is None:
        return cs is None and signal.app_state is None
    at = _parse_time(signal.app_state_at)
    return signal.app_state == cs.state and at == cs.timestamp


class Waker:
    """One poller's workspace watch: ``await waker.sleep(delay)`` instead of ``clock.sleep``."""

    # One per follower: thousands of them for a client following thousands of tasks.
    __slots__ = (
        "_client", "_heard", "_label", "_mode", "_permanent", "_reader", "_retry_at",
        "_retry_delay", "_snapshot_due", "_stream", "_task", "_workspace", "eager",
        "events", "signal", "wake",
    )  # fmt: skip

    def __init__(self, client: TaskEndpoints, wake: Wake | None, label: str) -> None:
        self._client = client
        self.wake: Wake = client.wake if wake is None else check_wake(wake)
        self._label = label
        self._workspace: UUID | None = None
        self._stream: EventStream | None = None
        self._reader: asyncio.Future[tuple[str, Any] | None] | None = None
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
            logger.debug(
                "follower %s: wake mode %s%s", self._label, mode, f" ({why})" if why else ""
            )

    async def attach(self, task: Task) -> None:
        """Follow ``task``'s workspace (a different one closes the old stream)."""
        self._label = task.name or self._label
        self._task = task
        wid = task.workspace_id
        if wid != self._workspace:
            self._workspace = wid
            await self.aclose()
            self.signal = None

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

    async def sleep(self, delay: float) -> WakeResult:
        """Wait up to ``delay`` seconds of the client's clock, or until the stream speaks."""
        if self.wake == "poll":
            # Never a stream: the plain sleep, without a wait over streams per poll.
            self._say("poll", "wake='poll'")
            await self._client.clock.sleep(delay)
            return WakeResult.TIMEOUT
        result, _ = await sleep_any(self._client.clock, (self,), delay)
        return result

    def _due(self, now: float) -> bool:
        """A stream should be opened now (never for ``wake='poll'`` or a 404 path)."""
        return (
            self.wake == "auto"
            and self._workspace is not None
            and self._stream is None
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
        """A message arrived: an event or a break ends the sleep, a ping or noise does not."""
        self._reader = None
        message = reader.result()
        if message is None:
            await self._lost("dropped")
            return WakeResult.LOST
        kind, data = message
        self._heard = self._client.clock.now()
        if kind == "data":
            self.signal = read_signal(data)
            self.events += 1
            self._retry_delay = _RETRY_FIRST
            snapshot, self._snapshot_due = self._snapshot_due, False
            if snapshot and not self.eager and self._task and _agrees(self.signal, self._task):
                return None  # the connect snapshot shows what the last poll saw: no news
            return WakeResult.EVENT
        if kind == "error":
            await self._lost("error event")
            return WakeResult.LOST
        return None

    async def _connect(self) -> None:
        assert self._workspace is not None
        try:
            self._stream = await self._client._open_workspace_watch(self._workspace)
        except StreamUnavailable as exc:
            self._permanent = exc.permanent
            self._schedule_retry()
            self._say("poll", f"no watch stream: {exc}")
            return
        self._heard = self._client.clock.now()
        self._snapshot_due = True
        self._say(self._stream.mode, "workspace watch open")

    def _schedule_retry(self) -> None:
        self._retry_at = self._client.clock.now() + self._retry_delay
        self._retry_delay = min(_RETRY_MAX, self._retry_delay * 2)

    async def _lost(self, why: str) -> None:
        await self.aclose()
        self._schedule_retry()
        self._say("poll", f"watch stream {why}")

    async def aclose(self) -> None:
        """Close the stream (if any).  Idempotent."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.aclose()


async def sleep_any(
    clock: Clock, wakers: Sequence[Waker], delay: float
) -> tuple[WakeResult, list[Waker]]:
    """Wait up to ``delay`` seconds, or until any of ``wakers``' streams has news.

    Returns how the wait ended and the wakers whose stream spoke (an event) or broke
    (lost).  Streams that are due are opened first, concurrently; pings and noise do
    not end the wait; a stream silent for :data:`STALL_AFTER` counts as broken.
    Nothing is left running: the clock timer is cancelled, and a pending read stays
    with its waker for the next wait (closed by :meth:`Waker.aclose`).
    """
    now = clock.now()
    due = [w for w in wakers if w._due(now)]
    if due:
        await asyncio.gather(*(w._connect() for w in due))
    deadline = now + delay
    while True:
        now = clock.now()
        if now >= deadline:
            return WakeResult.TIMEOUT, []
        live = [w for w in wakers if w._stream is not None]
        if not live:
            await clock.sleep(deadline - now)
            return WakeResult.TIMEOUT, []
        stalled = [w for w in live if w._heard + STALL_AFTER <= now]
        for waker in stalled:
            await waker._lost("stalled")
        if stalled:
            return WakeResult.LOST, stalled
        readers = {w._read(w._stream): w for w in live if w._stream is not None}
        wake_at = min(deadline, min(w._heard for w in live) + STALL_AFTER)
        timer: asyncio.Future[Any] = asyncio.ensure_future(clock.sleep(wake_at - now))
        try:
            await asyncio.wait({*readers, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        woken: list[Waker] = []
        results: set[WakeResult] = set()
        for reader, waker in readers.items():
            if reader.done():
                result = await waker._heard_from(reader)
                if result is not None:
                    woken.append(waker)
                    results.add(result)
        if woken:
            event = WakeResult.EVENT in results
            return (WakeResult.EVENT if event else WakeResult.LOST), woken


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
        result, woken = await sleep_any(self._client.clock, list(self._wakers.values()), delay)
        return result, {task_id for task_id, w in self._wakers.items() if w in woken}

    async def aclose(self) -> None:
        """Close every stream.  Idempotent."""
        for task_id in list(self._wakers):
            await self.drop(task_id)
