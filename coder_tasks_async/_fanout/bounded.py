"""Fan-out: run one async call over many items with bounded concurrency.

:func:`map_bounded` is the engine; :func:`create_many`, :func:`get_many` and
:func:`delete_many` are thin uses of it.  Anything else (sending input to many
tasks, waiting on many) is a lambda away::

    outcomes = await map_bounded(lambda t: coder.send_input(t, "Also run the tests"), tasks)

Each item's failure is reported next to its input in an :class:`Outcome`, so one
bad item never cancels the others (unless you ask for ``fail_fast``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from uuid import UUID

import anyio
import anyio.lowlevel
import attrs
from attrs import AttrsInstance

from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints as CoderTasksClient
    from .._wire.models import Task
    from .._wire.protocol import TaskRef

__all__ = [
    "DEFAULT_CONCURRENCY",
    "Outcome",
    "Progress",
    "TaskRequest",
    "create_many",
    "delete_many",
    "get_many",
    "map_bounded",
]

T = TypeVar("T")
R = TypeVar("R")

#: What :func:`create_many` accepts per task: the prompt alone, or ``create_task``
#: keyword arguments as a mapping or an attrs instance.
TaskRequest = str | Mapping[str, Any] | AttrsInstance

DEFAULT_CONCURRENCY = 16


@attrs.define(frozen=True, kw_only=True)
class Outcome(Generic[T, R]):
    """How one item of a fan-out ended: its ``item`` and either ``result`` or ``error``.

    Example::

        for outcome in await create_many(coder, prompts, template_version_id=tv):
            if outcome.ok:
                print("created", outcome.result.name)
            else:
                print(f"{outcome.item!r} failed: {outcome.error}")
        tasks = [o.unwrap() for o in outcomes]  # or: raise the first failure
    """

    item: T
    result: R | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """True when the call returned (``error`` is ``None``)."""
        return self.error is None

    def unwrap(self) -> R:
        """The result, or raise the item's error.

        Example::

            task = outcome.unwrap()
        """
        if self.error is not None:
            raise self.error
        # R may itself admit None (delete_many), so None is a valid result here.
        return cast(R, self.result)


#: ``progress(done, total, outcome)``, called after each item finishes.
Progress = Callable[[int, int, Outcome[T, R]], object]


async def map_bounded(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[T, R] | None = None,
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

    ``rate_limiter`` paces every call (see :class:`RateLimiter`).

    Cancelling the surrounding scope stops the fan-out: no new call starts, calls
    in flight are cancelled, and nothing keeps running in the background (the
    outcomes gathered so far are lost; record them from ``progress`` if needed).
    A cancelled ``create_task`` may still have reached the server.

    The client caps its own concurrent requests too (``max_concurrency``); the
    lower of the two wins.

    Example::

        outcomes = await map_bounded(coder.get_task, ["fix-login", "bump-deps"], concurrency=8)
        tasks = [o.result for o in outcomes if o.ok]
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    work = list(items)
    total = len(work)
    outcomes: list[Outcome[T, R] | None] = [None] * total
    call: Callable[[T], Awaitable[R]] = (
        func if rate_limiter is None else (lambda item: rate_limiter.run(func, item))
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
                    outcome: Outcome[T, R] = Outcome(item=item, error=exc)
                    if fail_fast:
                        stop(exc, scope)
                        return
                else:
                    outcome = Outcome(item=item, result=result)
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


def _limiter(client: CoderTasksClient, rate_limit: bool | RateLimiter) -> RateLimiter | None:
    if isinstance(rate_limit, RateLimiter):
        return rate_limit
    return RateLimiter(client) if rate_limit else None


def _create_kwargs(request: TaskRequest, template_version_id: UUID | str | None) -> dict[str, Any]:
    if isinstance(request, str):
        kwargs: dict[str, Any] = {"input": request}
    elif isinstance(request, Mapping):
        kwargs = dict(request)
    elif attrs.has(type(request)):
        kwargs = attrs.asdict(request, recurse=False)
    else:
        raise TypeError(
            "each request must be a prompt str, a mapping or an attrs instance of "
            f"create_task arguments, not {type(request).__name__}"
        )
    if template_version_id is not None:
        kwargs.setdefault("template_version_id", template_version_id)
    return kwargs


async def create_many(
    client: CoderTasksClient,
    requests: Iterable[TaskRequest],
    *,
    template_version_id: UUID | str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[TaskRequest, Task] | None = None,
    rate_limit: bool | RateLimiter = False,
) -> list[Outcome[TaskRequest, Task]]:
    """Create many tasks concurrently; one :class:`Outcome` per request, in order.

    A request is a prompt, or ``create_task`` keyword arguments (``input``,
    ``template_version_id``, ``name``, ``display_name``,
    ``template_version_preset_id``, ``user``) as a dict or attrs instance.
    ``template_version_id`` fills in requests that do not name one.  A malformed
    request fails on its own (``ValueError``/``TypeError`` in its outcome).

    ``rate_limit=True`` paces the creates below the server's per-minute limit
    (pass a shared :class:`RateLimiter` instead to pace several fan-outs together).
    See :func:`map_bounded` for ``concurrency``, ``fail_fast``, ``progress`` and
    cancellation.

    Example::

        outcomes = await create_many(
            coder,
            ["Fix the flaky test", {"input": "Bump deps", "name": "bump-deps"}],
            template_version_id=tv_id,
            rate_limit=True,
        )
        failed = [(o.item, o.error) for o in outcomes if not o.ok]
    """

    async def create(request: TaskRequest) -> Task:
        return await client.create_task(**_create_kwargs(request, template_version_id))

    return await map_bounded(
        create,
        requests,
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        rate_limiter=_limiter(client, rate_limit),
    )


async def get_many(
    client: CoderTasksClient,
    refs: Iterable[TaskRef],
    *,
    user: str | UUID = "me",
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[TaskRef, Task] | None = None,
    rate_limit: bool | RateLimiter = False,
) -> list[Outcome[TaskRef, Task]]:
    """Fetch many tasks concurrently (a missing one is a ``NotFoundError`` outcome).

    Example::

        fresh = [o.unwrap() for o in await get_many(coder, tasks)]
    """

    async def get(ref: TaskRef) -> Task:
        return await client.get_task(ref, user=user)

    return await map_bounded(
        get,
        refs,
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        rate_limiter=_limiter(client, rate_limit),
    )


async def delete_many(
    client: CoderTasksClient,
    refs: Iterable[TaskRef],
    *,
    user: str | UUID = "me",
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[TaskRef, None] | None = None,
    rate_limit: bool | RateLimiter = False,
) -> list[Outcome[TaskRef, None]]:
    """Delete many tasks concurrently; ``outcome.ok`` tells which deletions were accepted.

    Example::

        outcomes = await delete_many(coder, await coder.list_tasks())
    """

    async def delete(ref: TaskRef) -> None:
        await client.delete_task(ref, user=user)

    return await map_bounded(
        delete,
        refs,
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        rate_limiter=_limiter(client, rate_limit),
    )
