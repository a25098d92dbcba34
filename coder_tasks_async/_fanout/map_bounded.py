"""Fan-out: run one async call over many items with bounded concurrency.

:func:`map_bounded` is the engine; ``coder.create_many``, ``get_many`` and
``delete_many`` (:mod:`.client_methods`) are thin uses of it.  Anything else
(sending input to many tasks, waiting on many) is a lambda away::

    outcomes = await map_bounded(lambda t: coder.send_input(t, "Also run the tests"), tasks)

Each item's failure is reported next to its input in an :class:`Outcome`, so one
bad item never cancels the others (unless you ask for ``fail_fast``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar, cast

import anyio
import anyio.lowlevel

from .._endpoints.pinned import telemetry as telemetry_of
from .._endpoints.tasks import TaskEndpoints
from .._http.telemetry import GLOBAL_TELEMETRY, Telemetry
from .._wire.deprecation import value_from
from .._wire.loggers import ROOT, get_logger
from . import DEFAULT_CONCURRENCY
from .outcome import Failure, Outcome, Progress, Success
from .ratelimit import RateLimiter

__all__ = ["DEFAULT_CONCURRENCY", "fan_out", "map_bounded"]

logger = get_logger(f"{ROOT}.fanout")

T = TypeVar("T")
R = TypeVar("R")


async def map_bounded(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[T, R] | None = None,
    rate_limit: RateLimiter | None = None,
    rate_limiter: RateLimiter | None = None,
) -> list[Outcome[T, R]]:
    """Await ``func(item)`` for every item, at most ``concurrency`` at a time.

    Returns one :class:`Outcome` per item, in the order of ``items`` whatever the
    order of completion.  An ``Exception`` from ``func`` is kept in that item's
    outcome; cancellation propagates, and so does any other ``BaseException``
    (``KeyboardInterrupt``), after the other calls are cancelled.

    ``fail_fast=True`` stops at the first failure: nothing new starts, calls in
    flight are cancelled, and that first exception itself is raised (not an
    ``ExceptionGroup``).  An exception raised by ``progress`` ends the fan-out the
    same way.

    ``progress(done, total, outcome)`` is a plain function called after each item.

    ``rate_limit`` paces every call (see :class:`RateLimiter`); ``rate_limiter=`` is
    its deprecated spelling.

    Cancelling the surrounding scope stops the fan-out: no new call starts, calls
    in flight are cancelled, and nothing keeps running in the background (the
    outcomes gathered so far are lost; record them from ``progress`` if needed).
    A cancelled ``create_task`` may still have reached the server.

    The client caps its own concurrent requests too (``max_concurrency``); the
    lower of the two wins.

    With OpenTelemetry in use, the fan-out is one span (``map_bounded``; the
    client's ``create_many`` and friends name theirs after themselves), the parent
    of every request its calls send, with ``coder.fan_out.items``,
    ``coder.fan_out.concurrency`` and ``coder.fan_out.failures``, and an event per
    rate-limit pause.  The span goes where the client's spans go (its
    ``tracer_provider=``) when ``func`` is a method of a client (``coder.get_task``)
    or ``rate_limit`` paces one; otherwise (a lambda, no limiter) map_bounded cannot
    know the client and uses the global tracer provider.

    Example::

        outcomes = await map_bounded(coder.get_task, ["fix-login", "bump-deps"], concurrency=8)
        tasks = [o.result for o in outcomes if isinstance(o, Success)]  # list[Task]
    """
    limiter = value_from(rate_limit, rate_limiter, "rate_limiter", "rate_limit")
    return await fan_out(
        func, items, concurrency=concurrency, fail_fast=fail_fast, progress=progress,
        rate_limit=limiter, telemetry=_telemetry(func, limiter),
    )  # fmt: skip


def _telemetry(func: Callable[..., object], limiter: RateLimiter | None) -> Telemetry:
    """The telemetry of the client ``func`` is a method of, else of the client ``limiter``
    paces, else the global providers' (a lambda names no client we could see)."""
    for client in (getattr(func, "__self__", None), limiter and limiter._client):
        if isinstance(client, TaskEndpoints):
            return telemetry_of(client)
    return GLOBAL_TELEMETRY


async def fan_out(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[T, R] | None = None,
    rate_limit: RateLimiter | None = None,
    telemetry: Telemetry = GLOBAL_TELEMETRY,
    operation: str = "map_bounded",
) -> list[Outcome[T, R]]:
    """:func:`map_bounded`, as one span named ``operation`` on ``telemetry`` (the
    client's methods pass their own) and two log records."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    work = list(items)
    activity = telemetry.activity(
        operation,
        {"coder.fan_out.items": len(work), "coder.fan_out.concurrency": concurrency},
    )
    fields = {"operation": operation, "items": len(work), "concurrency": concurrency}
    logger.debug("%s: %d items, %d at a time", operation, len(work), concurrency, extra=fields)
    try:
        with activity.step():  # the workers start inside: their requests are its children
            outcomes = await _run(func, work, concurrency, fail_fast, progress, rate_limit)
    except BaseException as exc:
        activity.end(exc)
        logger.debug("%s: stopped by %s", operation, type(exc).__name__, extra=fields)
        raise
    failures = sum(1 for outcome in outcomes if not outcome.ok)
    activity.set("coder.fan_out.failures", failures)
    activity.end()
    logger.debug(
        "%s: done, %d of %d failed",
        operation,
        failures,
        len(work),
        extra={**fields, "failures": failures},
    )
    return outcomes


async def _run(
    func: Callable[[T], Awaitable[R]],
    work: list[T],
    concurrency: int,
    fail_fast: bool,
    progress: Progress[T, R] | None,
    limiter: RateLimiter | None,
) -> list[Outcome[T, R]]:
    total = len(work)
    outcomes: list[Outcome[T, R] | None] = [None] * total
    call: Callable[[T], Awaitable[R]] = (
        func if limiter is None else (lambda item: limiter.run(func, item))
    )
    # One iterator shared by a fixed pool of workers: N tasks for any number of items,
    # and each item is taken exactly once (next() never yields to the event loop).
    pending = iter(enumerate(work))
    done = 0
    failure: BaseException | None = None

    def stop(exc: BaseException, scope: anyio.CancelScope) -> None:
        nonlocal failure
        if failure is None:
            failure = exc
        scope.cancel()

    async def worker(scope: anyio.CancelScope) -> None:
        nonlocal done
        try:
            for index, item in pending:
                # A call may write its request before its first real suspension, so
                # check for cancellation (ours or an outer scope's) before starting it.
                await anyio.lowlevel.checkpoint_if_cancelled()
                try:
                    result = await call(item)
                except Exception as exc:
                    outcome: Outcome[T, R] = Failure(item=item, error=exc)
                    if fail_fast:
                        stop(exc, scope)
                        return
                else:
                    outcome = Success(item=item, result=result)
                outcomes[index] = outcome
                done += 1
                if progress is not None:
                    progress(done, total, outcome)
        except anyio.get_cancelled_exc_class():
            raise
        except BaseException as exc:
            # ``progress`` failed, or KeyboardInterrupt & co.: end the whole fan-out
            # and re-raise that one exception as is, not inside an ExceptionGroup.
            stop(exc, scope)

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(min(concurrency, total)):
                tg.start_soon(worker, tg.cancel_scope)
    finally:
        if failure is not None:
            raise failure
    return cast("list[Outcome[T, R]]", outcomes)
