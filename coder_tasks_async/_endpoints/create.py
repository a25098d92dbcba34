"""``create_task``'s send: never a duplicate task.

The create is sent again only when it provably did not reach the server.  When it may
have (a timeout after sending, a lost connection, a gateway error) and the caller gave
a name, the task is looked up by that name: found and this call's (by
:func:`.reconcile.this_calls_task`), it is the answer; not found, sending again is safe
(the server refuses a second task of the same name).  Without a name that is an
:class:`AmbiguousRequestError`.
"""

from __future__ import annotations

from typing import cast
from uuid import UUID

from .._http.budget import RetryBudget
from .._http.clock import wall_time
from .._wire import converter, protocol
from .._wire.errors import (
    AmbiguousRequestError,
    CoderDecodeError,
    CoderError,
    ConflictError,
    NotFoundError,
    ServerError,
)
from .._wire.loggers import ROOT, get_logger
from .._wire.models import Task
from .._wire.settings import Timeouts
from .calls import ApiCalls
from .reconcile import may_have_created, this_calls_task
from .releases import TaskTarget

__all__ = ["create_once"]

logger = get_logger(f"{ROOT}.endpoints")


async def create_once(
    calls: ApiCalls,
    owner: str | UUID,
    body: bytes,
    name: str | None,
    input: str,
    timeouts: Timeouts | None,
    budget: RetryBudget,
) -> Task:
    """POST ``body`` to ``owner``'s tasks within ``budget``: the created task, made once
    whatever the network did, or the error."""
    path = protocol.owner_path(owner)
    first = True
    while True:
        try:
            response = await calls.call(
                "POST", path, body=body, timeouts=timeouts, budget=budget,
                parse=converter.decode_task, route=protocol.OWNER_ROUTE,
            )  # fmt: skip
            calls.raise_for(response, budget)
            return cast(Task, response.parsed)
        except (AmbiguousRequestError, ServerError, ConflictError, CoderDecodeError) as exc:
            if not may_have_created(exc, first_attempt=first):
                raise
            if not name:
                if isinstance(exc, CoderDecodeError):
                    raise  # 201 came back: the task exists, its body was unreadable
                raise AmbiguousRequestError(
                    f"create_task may or may not have created the task ({exc}); it was "
                    "not re-sent. Pass name= to let the client reconcile, or check "
                    "list_tasks()",
                    method="POST",
                    url=calls.url,
                ) from exc
            what = type(exc).__name__
            logger.info(
                "create_task %r may have landed (%s): looking it up by name",
                name, what, extra={"method": "POST", "error": what},
            )  # fmt: skip
            existing = await _reconcile(calls, exc, name, input, owner, budget)
            if existing is not None:
                task_id = str(existing.id)
                logger.info("create_task %r: it had landed", name, extra={"task_id": task_id})
                return existing  # an earlier attempt of this call landed
            delay = budget.backoff()
            if isinstance(exc, ConflictError | CoderDecodeError) or not budget.fits(delay):
                raise
            # Not created, and the unique name makes a second attempt duplicate-safe.
            await calls.transport.clock.sleep(delay)
            first = False


async def _reconcile(
    calls: ApiCalls,
    exc: CoderError,
    name: str,
    input: str,
    owner: str | UUID,
    budget: RetryBudget,
) -> Task | None:
    """After a create that may have landed: the task this call created, or ``None``
    when there is no task of that name (so sending again is safe)."""
    try:
        # Servers before v2.29 take no names in paths: the lookup goes through
        # the task list there (docs/compatibility.md §9).
        response = await calls.call_task(
            "GET", TaskTarget(name, owner), budget=budget, parse=converter.decode_task
        )
        if response.status == 404:
            return None
        calls.raise_for(response, budget)
    except NotFoundError:
        return None  # the list has no task of that name
    except CoderError as lookup:
        raise AmbiguousRequestError(
            f"create_task may or may not have created the task ({exc}); looking it up "
            f"by name failed too ({lookup})",
            method="POST",
            url=calls.url,
        ) from exc
    clock = calls.transport.clock
    return this_calls_task(
        cast(Task, response.parsed),
        exc,
        name=name,
        input=input,
        date=response.headers.get("Date"),
        elapsed=clock.now() - budget.started,
        url=calls.url,
        local_time=wall_time(clock),
    )
