"""The client's fan-out methods (``create_many``, ``get_many``, ``delete_many``) and their
deprecated module-level spellings (``create_many(coder, ...)``, for one release).

Each method is one call of :func:`.map_bounded.map_bounded` over the matching
endpoint; the engine (and anyio) is imported when a fan-out runs, not when the
client is imported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import attrs
from attrs import AttrsInstance

from .._endpoints.pinned import telemetry
from .._endpoints.tasks import DELETE_WAITS_FOR_BUILD, TaskEndpoints
from .._wire.deprecation import owner_from, renamed
from . import DEFAULT_CONCURRENCY

if TYPE_CHECKING:
    from .._wire.models import Task
    from .._wire.protocol import TaskRef
    from .outcome import Outcome, Progress
    from .ratelimit import RateLimiter

__all__ = ["FanOutMethods", "TaskRequest", "create_many", "delete_many", "get_many"]

T = TypeVar("T")
R = TypeVar("R")

#: What ``create_many`` accepts per task: the prompt alone, or ``create_task``
#: keyword arguments as a mapping or an attrs instance.
TaskRequest = str | Mapping[str, Any] | AttrsInstance

#: The request type of one ``create_many`` call (``str`` for a list of prompts).
Q = TypeVar("Q", bound=TaskRequest)
#: The reference type of one ``get_many``/``delete_many`` call.
Ref = TypeVar("Ref", bound="TaskRef")


def _create_kwargs(request: TaskRequest, template_version_id: UUID | str | None) -> dict[str, Any]:
    """``create_task``'s keyword arguments for one request of ``create_many``."""
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


class FanOutMethods(TaskEndpoints):
    """The endpoints, plus the calls that run one of them over many items."""

    async def create_many(
        self, requests: Iterable[Q], *,
        template_version_id: UUID | str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY, fail_fast: bool = False,
        progress: Progress[Q, Task] | None = None, rate_limit: bool | RateLimiter = False,
    ) -> list[Outcome[Q, Task]]:  # fmt: skip
        """Create many tasks concurrently; one :class:`Outcome` per request, in order.

        A request is a prompt, or :meth:`create_task` keyword arguments (``input``,
        ``template_version_id``, ``name``, ``display_name``,
        ``template_version_preset_id``, ``owner``) as a dict or attrs instance.
        ``template_version_id`` fills in requests that do not name one.  A malformed
        request fails on its own (``ValueError``/``TypeError`` in its outcome).

        ``rate_limit=True`` paces the creates below the server's per-minute limit
        (pass a shared :class:`RateLimiter` instead to pace several fan-outs together).
        See :func:`map_bounded` for ``concurrency``, ``fail_fast``, ``progress`` and
        cancellation.

        Example::

            outcomes = await coder.create_many(prompts, template_version_id=tv_id, rate_limit=True)
            for outcome in outcomes:
                match outcome:  # narrows under mypy and pyright alike
                    case Success(result=task):
                        print("created", task.name)
                    case Failure(item=prompt, error=exc):
                        print(f"{prompt!r} failed: {exc}")
        """

        async def create(request: Q) -> Task:
            return await self.create_task(**_create_kwargs(request, template_version_id))

        return await self._fan_out(
            "create_many", create, requests, concurrency, fail_fast, progress, rate_limit
        )

    async def get_many(
        self, refs: Iterable[Ref], *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        concurrency: int = DEFAULT_CONCURRENCY, fail_fast: bool = False,
        progress: Progress[Ref, Task] | None = None, rate_limit: bool | RateLimiter = False,
    ) -> list[Outcome[Ref, Task]]:  # fmt: skip
        """Fetch many tasks concurrently (a missing one is a ``NotFoundError`` outcome).

        Example::

            fresh = [o.unwrap() for o in await coder.get_many(tasks)]
        """
        owner = owner_from(owner, user)

        async def get(ref: Ref) -> Task:
            return await self.get_task(ref, owner=owner)

        return await self._fan_out(
            "get_many", get, refs, concurrency, fail_fast, progress, rate_limit
        )

    async def delete_many(
        self, refs: Iterable[Ref], *,
        owner: str | UUID = "me", user: str | UUID | None = None,
        concurrency: int = DEFAULT_CONCURRENCY, fail_fast: bool = False,
        progress: Progress[Ref, None] | None = None, rate_limit: bool | RateLimiter = False,
        wait_build: float = DELETE_WAITS_FOR_BUILD,
    ) -> list[Outcome[Ref, None]]:  # fmt: skip
        """Delete many tasks concurrently; ``outcome.ok`` tells which deletions were accepted.

        ``wait_build`` as in :meth:`delete_task`: a task whose workspace build still runs
        (just created, resumed, being paused) is deleted once the build ends.

        Example::

            outcomes = await coder.delete_many(await coder.list_tasks())
        """
        owner = owner_from(owner, user)

        async def delete(ref: Ref) -> None:
            await self.delete_task(ref, owner=owner, wait_build=wait_build)

        return await self._fan_out(
            "delete_many", delete, refs, concurrency, fail_fast, progress, rate_limit
        )

    async def _fan_out(
        self,
        operation: str,
        call: Callable[[T], Awaitable[R]],
        items: Iterable[T],
        concurrency: int, fail_fast: bool,
        progress: Progress[T, R] | None,
        rate_limit: bool | RateLimiter,
    ) -> list[Outcome[T, R]]:  # fmt: skip
        """``map_bounded`` of ``call``, paced by a :class:`RateLimiter` of this client when
        ``rate_limit`` is true (or by the one given); its span is named ``operation``."""
        from .map_bounded import fan_out
        from .ratelimit import RateLimiter

        if isinstance(rate_limit, RateLimiter):
            limiter: RateLimiter | None = rate_limit
        else:
            limiter = RateLimiter(self) if rate_limit else None
        return await fan_out(
            call,
            items,
            concurrency=concurrency,
            fail_fast=fail_fast,
            progress=progress,
            rate_limit=limiter,
            telemetry=telemetry(self),
            operation=operation,
        )


# -- the deprecated module-level spellings ----------------------------------------------


async def create_many(
    client: FanOutMethods, requests: Iterable[Q], *,
    template_version_id: UUID | str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY, fail_fast: bool = False,
    progress: Progress[Q, Task] | None = None, rate_limit: bool | RateLimiter = False,
) -> list[Outcome[Q, Task]]:  # fmt: skip
    """Deprecated: use ``await coder.create_many(requests, ...)``."""
    renamed("create_many(coder, ...)", "coder.create_many(...)")
    return await client.create_many(
        requests, template_version_id=template_version_id,
        concurrency=concurrency, fail_fast=fail_fast, progress=progress, rate_limit=rate_limit,
    )  # fmt: skip


async def get_many(
    client: FanOutMethods, refs: Iterable[Ref], *,
    owner: str | UUID = "me", user: str | UUID | None = None,
    concurrency: int = DEFAULT_CONCURRENCY, fail_fast: bool = False,
    progress: Progress[Ref, Task] | None = None, rate_limit: bool | RateLimiter = False,
) -> list[Outcome[Ref, Task]]:  # fmt: skip
    """Deprecated: use ``await coder.get_many(refs, ...)``."""
    renamed("get_many(coder, ...)", "coder.get_many(...)")
    return await client.get_many(
        refs, owner=owner_from(owner, user),
        concurrency=concurrency, fail_fast=fail_fast, progress=progress, rate_limit=rate_limit,
    )  # fmt: skip


async def delete_many(
    client: FanOutMethods, refs: Iterable[Ref], *,
    owner: str | UUID = "me", user: str | UUID | None = None,
    concurrency: int = DEFAULT_CONCURRENCY, fail_fast: bool = False,
    progress: Progress[Ref, None] | None = None, rate_limit: bool | RateLimiter = False,
) -> list[Outcome[Ref, None]]:  # fmt: skip
    """Deprecated: use ``await coder.delete_many(refs, ...)``."""
    renamed("delete_many(coder, ...)", "coder.delete_many(...)")
    return await client.delete_many(
        refs, owner=owner_from(owner, user),
        concurrency=concurrency, fail_fast=fail_fast, progress=progress, rate_limit=rate_limit,
    )  # fmt: skip
