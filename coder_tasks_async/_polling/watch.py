"""Watching a task's status and waiting for a condition: ``watch``, ``wait_for``, readiness.

These poll ``get_task`` with the shared :class:`PollPolicy` and error policy, and
measure every wait on the client's clock so tests can drive them instantly.  They
read the task through its shared poller (:mod:`.shared`), so watching or waiting on a
task that is already followed costs no polling of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .._wire.errors import (
    CoderAPIError,
    TaskNotActiveError,
    TaskNotReadyError,
    TaskPausedError,
    WaitTimeoutError,
)
from .._wire.models import Task, TaskStatus
from .._wire.settings import PollPolicy, Wake
from .backoff import Backoff
from .conditions import StopConditions, Until, predicate, ready_for_input, stopping
from .error_policy import Verdict, judge
from .iterator import Closeable
from .shared import PollRecord, Seat

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints
    from .._wire.protocol import TaskRef

__all__ = [
    "TaskWatcher",
    "Until",
    "fingerprint",
    "predicate",
    "send_when_ready",
    "wait_for",
    "wait_ready",
]

#: How long an ``error`` status is tolerated while a task starts (as ``coder task send`` does).
ERROR_GRACE = 300.0
#: How long a just-resumed task may still read ``paused``.
RESUME_GRACE = 60.0
_NO_STOP = StopConditions()


def fingerprint(task: Task) -> tuple[Any, ...]:
    """What ``watch`` compares: status, agent health, state and state message."""
    health = task.workspace_agent_health
    current = task.current_state
    return (
        task.status,
        task.workspace_agent_lifecycle,
        None if health is None else (health.healthy, health.reason),
        None if current is None else (current.state, current.message),
    )


def _failed(record: PollRecord, backoff: Backoff) -> float:
    """The wait after a poll that raised a transient error (any other error is raised)."""
    exc = record.error
    assert exc is not None
    if judge(exc) in (Verdict.RAISE, Verdict.GONE):
        raise exc
    return backoff.after_failure(exc)


async def wait_for(
    client: TaskEndpoints,
    ref: TaskRef,
    *,
    until: Until,
    timeout: float | None,
    owner: str | UUID,
    poll: PollPolicy | None,
    wake: Wake | None = None,
) -> Task:
    """Poll until ``until`` holds; see ``CoderTasksClient.wait_for``.

    A task already followed in this client is read by its shared poller (the first
    read is a fresh one all the same: the answer is about now).
    """
    test = predicate(until)
    clock = client.clock
    backoff = Backoff(poll or client.poll)
    seat = Seat(client, ref, owner, wake, logs=False, fresh=True)
    deadline = None if timeout is None else clock.now() + timeout
    last: Task | None = None
    previous: tuple[Any, ...] | None = None
    delay: float | None = None
    try:
        while True:
            record, _ = await seat.next(delay)
            if record.woke:
                backoff.restart()
            task = record.task
            if task is None:
                delay = _failed(record, backoff)
            else:
                if test(task):
                    return task
                last = task
                mark = fingerprint(task)
                delay = backoff.after_poll(changed=mark != previous)
                if mark == previous and seat.waker is not None:  # slow only after a quiet poll
                    delay = seat.waker.pace(delay, task)
                previous = mark
            now = clock.now()
            if deadline is not None:
                if now >= deadline:
                    raise WaitTimeoutError(f"task did not reach {until!r} within {timeout}s", last)
                delay = min(delay, deadline - now)
    finally:
        await seat.leave()


async def wait_ready(
    client: TaskEndpoints,
    ref: TaskRef,
    *,
    timeout: float | None,
    owner: str | UUID,
    poll: PollPolicy | None,
    resume: bool = False,
    error_grace: float = ERROR_GRACE,
) -> Task:
    """Wait until the task is active and its agent is not working.

    An ``error`` status is tolerated for ``error_grace`` seconds (it shows up
    transiently while a workspace starts).  A paused task, whenever it is seen paused,
    is resumed once when ``resume`` is true, and otherwise raises
    :class:`TaskPausedError` rather than waiting forever; so does a task being paused
    (its stop build runs, the status is ``unknown``), which with ``resume`` is first
    waited out.
    """
    clock = client.clock
    deadline = None if timeout is None else clock.now() + timeout
    first_error: float | None = None
    resumed_at: float | None = None

    def ready_or_fail(task: Task) -> bool:
        nonlocal first_error
        if task.status is TaskStatus.PAUSED or (stopping(task) and resumed_at is None):
            if resumed_at is not None and clock.now() - resumed_at < RESUME_GRACE:
                return False  # the start build has not shown up in the status yet
            what = "paused" if task.status is TaskStatus.PAUSED else "being paused"
            raise TaskPausedError(f"the task is {what}; resume it before sending input", task)
        if task.status is TaskStatus.ERROR:
            now = clock.now()
            first_error = now if first_error is None else first_error
            if now - first_error >= error_grace:
                raise TaskNotReadyError(
                    f"the task has been in status 'error' for {error_grace:.0f}s", task
                )
        else:
            first_error = None
        return ready_for_input(task)

    def left() -> float | None:
        return None if deadline is None else max(deadline - clock.now(), 0.0)

    while True:
        try:
            return await wait_for(
                client, ref, until=ready_or_fail, timeout=left(), owner=owner, poll=poll
            )
        except TaskPausedError as exc:
            if not resume or resumed_at is not None:
                raise
            paused = exc.task
        if stopping(paused):  # a pause is under way: resume once it is done
            paused = await wait_for(
                client, paused, until=lambda t: not stopping(t), timeout=left(), owner=owner,
                poll=poll,
            )  # fmt: skip
        if paused.status is TaskStatus.PAUSED:
            await client.resume_task(paused)
            resumed_at = clock.now()
        ref = paused


async def send_when_ready(
    client: TaskEndpoints,
    ref: TaskRef,
    send: Callable[[], Awaitable[None]],
    *,
    timeout: float | None,
    owner: str | UUID,
    poll: PollPolicy | None,
    resume: bool,
) -> None:
    """Wait until the task is ready, then ``send()``; wait again when the server says
    the agent is busy or the task not active yet (those refusals prove nothing was
    delivered).

    A send refused because the task is paused does not depend on timing: without
    ``resume`` it raises :class:`TaskPausedError` at once (the task may be resumed
    any moment, and the input would then land in a new conversation the caller has
    not seen); with ``resume`` the task is resumed and the input sent once, into the
    new conversation.

    ``timeout`` bounds all the waiting together; ``send`` is one POST of the input.
    """
    clock = client.clock
    deadline = None if timeout is None else clock.now() + timeout
    while True:
        remaining = None if deadline is None else max(deadline - clock.now(), 0.0)
        task = await wait_ready(
            client, ref, timeout=remaining, owner=owner, poll=poll, resume=resume
        )
        try:
            await send()
        except CoderAPIError as exc:
            # Only a refusal that proves nothing was delivered is tried again.
            if judge(exc) is not Verdict.NOT_READY:
                raise
            if isinstance(exc, TaskNotActiveError) and exc.task_status == "paused":
                if not resume:
                    raise TaskPausedError(
                        "the task was paused as the input was sent (nothing was "
                        "delivered); resume it, or pass resume=True, to send it",
                        task,
                    ) from exc
                ref = task  # resumed by the next wait_ready, then sent once
                continue
            await clock.sleep((poll or client.poll).initial)
            continue
        return


class TaskWatcher(Closeable):
    """Async iterator of :class:`Task` snapshots that yields only on change.

    A change is a new status, agent lifecycle or health, state or state message
    (what ``coder task status --watch`` prints).  Ends when the task is deleted,
    or when ``until_terminal`` / ``until(task)`` holds (that last snapshot is
    yielded first).
    """

    def __init__(
        self,
        client: TaskEndpoints,
        ref: TaskRef,
        *,
        owner: str | UUID = "me",
        poll: PollPolicy | None = None,
        stop: StopConditions = _NO_STOP,
        wake: Wake | None = None,
    ) -> None:
        self._client = client
        # The task's shared poller: a task already followed in this client is read once
        # for all (the first snapshot is a fresh read all the same).
        self._seat = Seat(client, ref, owner, wake, logs=False, fresh=True)
        self._backoff = Backoff(poll or client.poll)
        self._stop = stop
        self._previous: tuple[Any, ...] | None = None
        self._delay: float | None = None
        self._done = False

    async def aclose(self) -> None:
        """Stop watching (leaves the shared poller; the last one out closes its stream)."""
        self._done = True
        await self._seat.leave()

    async def __anext__(self) -> Task:
        try:
            return await self._next()
        except BaseException:
            # The end, an error or cancellation: the seat must not outlive it.
            await self._seat.leave()
            raise

    async def _next(self) -> Task:
        while not self._done:
            record, _ = await self._seat.next(self._delay)
            if record.woke:
                self._backoff.restart()
            task = record.task
            if task is None:
                assert record.error is not None
                if judge(record.error) is Verdict.GONE and self._previous is not None:
                    self._done = True  # deleted while watched; a wrong name still raises
                    break
                self._delay = _failed(record, self._backoff)
                continue
            mark = fingerprint(task)
            changed = mark != self._previous
            self._previous = mark
            delay = self._backoff.after_poll(changed)
            # The slow pace only after a quiet poll: the caller may act on a change.
            waker = self._seat.waker
            self._delay = delay if changed or waker is None else waker.pace(delay, task)
            if self._stop.reached(task):
                self._done = True
                return task
            if changed:
                return task
        raise StopAsyncIteration
