"""The module-level spellings ``create_many(coder, ...)``, ``get_many(coder, ...)`` and
``delete_many(coder, ...)``: deprecated aliases of the client methods, for one release.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from .._wire.deprecation import owner_from, renamed
from .map_bounded import DEFAULT_CONCURRENCY, Q, Ref, create_tasks, delete_tasks, get_tasks
from .outcome import Outcome, Progress
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints
    from .._wire.models import Task

__all__ = ["create_many", "delete_many", "get_many"]


async def create_many(
    client: TaskEndpoints,
    requests: Iterable[Q],
    *,
    template_version_id: UUID | str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[Q, Task] | None = None,
    rate_limit: bool | RateLimiter = False,
) -> list[Outcome[Q, Task]]:
    """Deprecated: use ``await coder.create_many(requests, ...)``."""
    renamed("create_many(coder, ...)", "coder.create_many(...)")
    return await create_tasks(
        client,
        requests,
        template_version_id=template_version_id,
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        rate_limit=rate_limit,
    )


async def get_many(
    client: TaskEndpoints,
    refs: Iterable[Ref],
    *,
    owner: str | UUID = "me",
    user: str | UUID | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[Ref, Task] | None = None,
    rate_limit: bool | RateLimiter = False,
) -> list[Outcome[Ref, Task]]:
    """Deprecated: use ``await coder.get_many(refs, ...)``."""
    renamed("get_many(coder, ...)", "coder.get_many(...)")
    return await get_tasks(
        client,
        refs,
        owner=owner_from(owner, user),
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        rate_limit=rate_limit,
    )


async def delete_many(
    client: TaskEndpoints,
    refs: Iterable[Ref],
    *,
    owner: str | UUID = "me",
    user: str | UUID | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: Progress[Ref, None] | None = None,
    rate_limit: bool | RateLimiter = False,
) -> list[Outcome[Ref, None]]:
    """Deprecated: use ``await coder.delete_many(refs, ...)``."""
    renamed("delete_many(coder, ...)", "coder.delete_many(...)")
    return await delete_tasks(
        client,
        refs,
        owner=owner_from(owner, user),
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        rate_limit=rate_limit,
    )
