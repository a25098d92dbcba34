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
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .._http.streams import EventStream, StreamUnavailable
from .._wire.models import Task, TaskState, TaskStatus
from .._wire.settings import Wake
from .._wire.wakeup import WorkspaceSignal, read_signal

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints

__all__ = ["IDLE_INTERVAL", "WakeResult", "Waker", "event_says_idle"]

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


class Waker:
    """One poller's workspace watch: ``await waker.sleep(delay)`` instead of ``clock.sleep``."""

    def __init__(self, client: TaskEndpoints, wake: Wake | None, label: str) -> None:
        self._client = client
        self.wake: Wake = wake if wake is not None else getattr(client, "wake", "auto")
        if self.wake not in ("auto", "poll"):
            raise ValueError(f"wake must be 'auto' or 'poll', not {self.wake!r}")
        self._label = label
        self._workspace: UUID | None = None
        self._stream: EventStream | None = None
        self._reader: asyncio.Future[tuple[str, Any]] | None = None
        self._retry_at = 0.0
        self._retry_delay = _RETRY_FIRST
        self._permanent = False
        self._heard = 0.0
        self._mode = ""
        #: The latest data event (``None`` before the first).
        self.signal: WorkspaceSignal | None = None
        #: Data events seen.
        self.events = 0

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
        wid = task.workspace_id
        if wid != self._workspace:
            self._workspace = wid
            await self.aclose()
            self.signal = None

    def pace(self, delay: float, task: Task | None) -> float:
        """The delay to poll after: slow while a live stream and the poll agree the agent idles.

        Only the stream's own idle report counts (not merely an open stream), so a
        stream that says nothing never slows a poller down.
        """
        signal = self.signal
        if (
            self.streaming
            and task is not None
            and signal is not None
            and signal.agent_idle
            and task.status is TaskStatus.ACTIVE
            and not agent_working(task)
        ):
            return max(delay, IDLE_INTERVAL)
        return delay

    async def sleep(self, delay: float) -> WakeResult:
        """Wait up to ``delay`` seconds of the client's clock, or until the stream speaks."""
        clock = self._client.clock
        if self.wake == "poll" or self._workspace is None:
            if self.wake == "poll":
                self._say("poll", "wake='poll'")
            await clock.sleep(delay)
            return WakeResult.TIMEOUT
        if self._stream is None and not self._permanent and clock.now() >= self._retry_at:
            await self._connect()
        deadline = clock.now() + delay
        while True:
            stream = self._stream
            now = clock.now()
            if stream is None:
                await clock.sleep(deadline - now)
                return WakeResult.TIMEOUT
            if now >= deadline:
                return WakeResult.TIMEOUT
            stall_in = self._heard + STALL_AFTER - now
            if stall_in <= 0:
                await self._lost("stalled")
                return WakeResult.LOST
            if self._reader is None:
                self._reader = asyncio.ensure_future(stream.next())
            reader = self._reader
            timer: asyncio.Future[Any] = asyncio.ensure_future(
                clock.sleep(min(deadline - now, stall_in))
            )
            try:
                await asyncio.wait({reader, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
            if reader.done():
                result = await self._heard_from(reader)
                if result is not None:
                    return result

    async def _heard_from(self, reader: asyncio.Future[tuple[str, Any]]) -> WakeResult | None:
        """A message arrived: an event or a break ends the sleep, a ping or noise does not."""
        self._reader = None
        try:
            kind, data = reader.result()
        except EOFError:
            await self._lost("dropped")
            return WakeResult.LOST
        self._heard = self._client.clock.now()
        if kind == "data":
            self.signal = read_signal(data)
            self.events += 1
            self._retry_delay = _RETRY_FIRST
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
