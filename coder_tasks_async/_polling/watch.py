"""Watching a task's status and waiting for a condition: ``watch``, ``wait_for``, readiness.

These poll ``get_task`` with the shared :class:`PollPolicy` and error policy, and
measure every wait on the client's clock so tests can drive them instantly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .._wire.errors import (
    CoderAPIError,
    CoderError,
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
from .wake import Waker, WakeResult

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


async def _poll_task(
    client: TaskEndpoints, ref: TaskRef, owner: str | UUID, backoff: Backoff
) -> tuple[Task | None, float]:
    """One ``get_task``; returns (task or None on a transient error, suggested delay)."""
    try:
        return await client.get_task(ref, owner=owner), 0.0
    except CoderError as exc:
        if judge(exc) in (Verdict.RAISE, Verdict.GONE):
            raise
        return None, backoff.after_failure(exc)


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
    """Poll until ``until`` holds; see ``CoderTasksClient.wait_for``."""
    test = predicate(until)
    clock = client.clock
    backoff = Backoff(poll or client.poll)
    waker = Waker(client, wake, ref if isinstance(ref, str) else "task")
    deadline = None if timeout is None else clock.now() + timeout
    last: Task | None = None
    previous: tuple[Any, ...] | None = None
    try:
        while True:
            task, delay = await _poll_task(client, ref, owner, backoff)
            if task is not None:
                if test(task):
                    return task
                last = task
                mark = fingerprint(task)
                delay = backoff.after_poll(changed=mark != previous)
                if mark == previous:  # the slow pace only after a quiet poll
                    delay = waker.pace(delay, task)
                previous = mark
                await waker.attach(task)
            now = clock.now()
            if deadline is not None:
                if now >= deadline:
                    raise WaitTimeoutError(f"task did not reach {until!r} within {timeout}s", last)
                delay = min(delay, deadline - now)
            if await waker.sleep(delay) is WakeResult.EVENT:
                backoff.restart()
    finally:
        await waker.aclose()


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
        self._waker = Waker(client, wake, ref if isinstance(ref, str) else "task")
        self._ref = ref  # replaced by the task's id once seen, as LogFollower does
        self._owner = owner
        self._backoff = Backoff(poll or client.poll)
        self._stop = stop
        self._previous: tuple[Any, ...] | None = None
        self._delay: float | None = None
        self._done = False

    async def aclose(self) -> None:
        """Stop watching (closes the workspace watch stream, if one is open)."""
        self._done = True
        await self._waker.aclose()

    async def __anext__(self) -> Task:
        try:
            return await self._next()
        except BaseException:
            # The end, an error or cancellation: the stream must not outlive it.
            await self._waker.aclose()
            raise

    async def _next(self) -> Task:
        while not self._done:
            woke = None if self._delay is None else await self._waker.sleep(self._delay)
            if woke is WakeResult.EVENT:
                self._backoff.restart()
            try:
                task, self._delay = await _poll_task(
                    self._client, self._ref, self._owner, self._backoff
                )
            except CoderError as exc:
                if judge(exc) is Verdict.GONE and self._previous is not None:
                    self._done = True  # deleted while watched; a wrong name still raises
                    break
                raise
            if task is None:
                continue
            self._ref = task.id
            await self._waker.attach(task)
            mark = fingerprint(task)
            changed = mark != self._previous
            self._previous = mark
            delay = self._backoff.after_poll(changed)
            # The slow pace only after a quiet poll: the caller may act on a change.
            self._delay = delay if changed else self._waker.pace(delay, task)
            if self._stop.reached(task):
                self._done = True
                return task
            if changed:
                return task
        raise StopAsyncIteration
