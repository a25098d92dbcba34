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

from .._wire.deprecation import value_from
from . import DEFAULT_CONCURRENCY
from .outcome import Failure, Outcome, Progress, Success
from .ratelimit import RateLimiter

__all__ = ["DEFAULT_CONCURRENCY", "map_bounded"]

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

    Example::

        outcomes = await map_bounded(coder.get_task, ["fix-login", "bump-deps"], concurrency=8)
        tasks = [o.result for o in outcomes if o.ok]  # list[Task]
    """
    limiter = value_from(rate_limit, rate_limiter, "rate_limiter", "rate_limit")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    work = list(items)
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
