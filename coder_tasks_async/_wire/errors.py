"""The exception hierarchy.  Everything the SDK raises on purpose is a :class:`CoderError`.

Shape::

    CoderError
    ├── CoderAPIError                 the server answered with a non-2xx status
    │   ├── BadRequestError           400
    │   │   └── TaskNotActiveBadRequest   (also a TaskNotActiveError: before v2.31.1)
    │   ├── AuthenticationError       401 (message carries the `coder login` hint)
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   │   └── RouteNotFoundError    404 "Route not found." (the path does not exist)
    │   ├── ConflictError             409
    │   │   ├── TaskNotActiveConflict     (also a TaskNotActiveError: v2.31.1 on)
    │   │   └── AgentBusyConflict         (also an AgentBusyError: v2.32 on)
    │   ├── TaskNotActiveError        400/409: the task is not active (``task_status`` says why)
    │   ├── AgentBusyError            502/409: the agent is mid-turn and refused the input
    │   ├── RateLimitError            429 (``retry_after`` in seconds)
    │   └── ServerError               5xx
    │       └── AgentBusyServerError      (also an AgentBusyError: before v2.32)
    ├── CoderTransportError           no usable HTTP response (connection, TLS, redirect)
    │   ├── CoderTimeoutError         one of the SDK's own timeouts expired
    │   └── AmbiguousRequestError     a POST may or may not have reached the server
    ├── CoderDecodeError              a 2xx body that does not fit the model
    ├── UnsupportedByServerError      the server is too old for this call
    ├── TaskNotReadyError             waiting for a task that cannot become ready
    │   └── TaskPausedError           ...because it is paused (and ``resume=True`` was not given)
    ├── BuildFailedError              ``wait_for_build``: the build failed or was canceled
    ├── WaitTimeoutError              ``wait_for(timeout=...)`` ran out (also a TimeoutError)
    ├── LeaseLostError                a fenced save after the task's lease changed hands
    ├── StoreSchemaError              a cursor store's database has a newer schema
    └── ClientClosedError             the client was used after ``aclose()``

The classes with two parents are what the SDK raises for "not active" and "busy",
so ``except TaskNotActiveError`` and ``except ConflictError`` both catch a 409
"Task is paused.".

Bad arguments are refused before any request with a plain ``ValueError`` or
``TypeError``, as Python libraries usually do.

The session token never appears here: errors carry the method and URL (with any
userinfo stripped) but no request headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, Unpack

import attrs
from multidict import CIMultiDict

from .models import Task, WorkspaceBuild

__all__ = [
    "AgentBusyConflict",
    "AgentBusyError",
    "AgentBusyServerError",
    "AmbiguousRequestError",
    "AuthenticationError",
    "BadRequestError",
    "BuildFailedError",
    "ClientClosedError",
    "CoderAPIError",
    "CoderDecodeError",
    "CoderError",
    "CoderTimeoutError",
    "CoderTransportError",
    "ConflictError",
    "LeaseLostError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RouteNotFoundError",
    "ServerError",
    "StoreSchemaError",
    "TaskNotActiveBadRequest",
    "TaskNotActiveConflict",
    "TaskNotActiveError",
    "TaskNotReadyError",
    "TaskPausedError",
    "UnsupportedByServerError",
    "ValidationError",
    "WaitTimeoutError",
]


class CoderError(Exception):
    """Root of every error the SDK raises on purpose.

    Every one survives ``pickle`` (a fan-out across processes, a logging queue)
    with the same type, message and attributes.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt without calling __init__ (most take keyword-only or extra
        # arguments): the message and every attribute come back exactly as they were.
        return (_restore, (type(self), self.args, dict(vars(self))))


def _restore(cls: type[CoderError], args: tuple[Any, ...], state: dict[str, Any]) -> CoderError:
    exc = cls.__new__(cls)
    exc.args = args
    vars(exc).update(state)
    return exc


@attrs.define(frozen=True, kw_only=True)
class ValidationError:
    """One entry of a Coder error's ``validations``: which ``field`` and why (``detail``)."""

    field: str
    detail: str


class APIErrorFields(TypedDict, total=False):
    """The keyword arguments every :class:`CoderAPIError` takes besides ``status`` and
    ``message`` (so subclasses that add their own spell them once)."""

    detail: str
    validations: tuple[ValidationError, ...]
    method: str
    url: str
    headers: Mapping[str, str] | None
    body: str
    helper: str


class CoderAPIError(CoderError):
    """The server answered with a non-success status.

    Mirrors Coder's Go ``codersdk.Error``: ``status``, ``message``, ``detail``,
    ``validations``, the request ``method`` and ``url`` and the response
    ``headers``.  ``body`` keeps (a bounded prefix of) the raw response text.

    Example::

        try:
            await coder.get_task("no-such-task")
        except NotFoundError as exc:
            print(exc.status, exc.message)
    """

    status: int
    message: str
    detail: str
    validations: tuple[ValidationError, ...]
    method: str
    url: str
    headers: Mapping[str, str]
    body: str
    helper: str

    def __init__(
        self,
        *,
        status: int,
        message: str,
        detail: str = "",
        validations: tuple[ValidationError, ...] = (),
        method: str = "",
        url: str = "",
        headers: Mapping[str, str] | None = None,
        body: str = "",
        helper: str = "",
    ) -> None:
        self.status = status
        self.message = message
        self.detail = detail
        self.validations = validations
        self.method = method
        self.url = url
        self.headers = CIMultiDict(headers or {})  # case-insensitive, like HTTP
        self.body = body
        self.helper = helper
        super().__init__(self._render())

    def _render(self) -> str:
        # Same layout as codersdk.Error.Error(), so messages read alike across tools.
        text = f"{self.method} {self.url}: unexpected status code {self.status}: {self.message}"
        if self.helper:
            text += f": {self.helper}"
        if self.detail:
            text += f"\n\tError: {self.detail}"
        for v in self.validations:
            text += f"\n\t{v.field}: {v.detail}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r})"


class BadRequestError(CoderAPIError):
    """400: the server refused the request (bad query, name, body, or a task not active)."""


class AuthenticationError(CoderAPIError):
    """401: the token is missing, malformed, invalid or expired."""


class PermissionDeniedError(CoderAPIError):
    """403: authenticated, but not allowed."""


class NotFoundError(CoderAPIError):
    """404: the resource is missing, deleted, or not visible to this user."""


class RouteNotFoundError(NotFoundError):
    """404 ``Route not found.``: the server has no such endpoint (wrong tree or too old)."""


class ConflictError(CoderAPIError):
    """409: the name is taken, or the task is not in a state that allows the call."""


class TaskNotActiveError(CoderAPIError):
    """The task is not active, so it cannot take input or serve live logs.

    ``task_status`` is the status the server named (``"pending"``, ``"paused"``, ...)
    or ``None`` when it did not say.  Seed-era servers answer 400, newer ones 409;
    the concrete class also derives from :class:`BadRequestError` or
    :class:`ConflictError` accordingly.
    """

    task_status: str | None

    def __init__(
        self,
        *,
        status: int,
        message: str,
        task_status: str | None = None,
        **fields: Unpack[APIErrorFields],
    ) -> None:
        self.task_status = task_status
        super().__init__(status=status, message=message, **fields)


class AgentBusyError(CoderAPIError):
    """The agent is working and refused new input (nothing was delivered): try later.

    Seed-era servers answer 502, newer ones 409; the concrete class also derives
    from :class:`ServerError` or :class:`ConflictError` accordingly.
    """


class RateLimitError(CoderAPIError):
    """429: rate limited.  ``retry_after`` is the server's advice in seconds, sanitized:
    ``None`` when missing or unusable (NaN, negative, zero, unreadable, an absurd date),
    otherwise at most ``RetryPolicy.max_retry_after`` (60 s by default)."""

    retry_after: float | None

    def __init__(
        self,
        *,
        status: int,
        message: str,
        retry_after: float | None = None,
        **fields: Unpack[APIErrorFields],
    ) -> None:
        self.retry_after = retry_after
        super().__init__(status=status, message=message, **fields)


class ServerError(CoderAPIError):
    """5xx: the server (or a proxy in front of it) failed."""


class TaskNotActiveBadRequest(TaskNotActiveError, BadRequestError):
    """:class:`TaskNotActiveError` as the 400 of servers before v2.31.1."""


class TaskNotActiveConflict(TaskNotActiveError, ConflictError):
    """:class:`TaskNotActiveError` as a newer server's 409."""


class AgentBusyServerError(AgentBusyError, ServerError):
    """:class:`AgentBusyError` as the 502 of servers before v2.32."""


class AgentBusyConflict(AgentBusyError, ConflictError):
    """:class:`AgentBusyError` as a newer server's 409."""


class CoderTransportError(CoderError):
    """No usable HTTP response: connection refused or reset, TLS failure, bad redirect.

    ``method`` and ``url`` say which request; the message names the underlying
    aiohttp error's type and text.  That error object itself is deliberately not
    chained: aiohttp errors can hold the request headers, and so the token.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        self.method = method
        self.url = url
        super().__init__(f"{method} {url}: {message}" if method else message)


class CoderTimeoutError(CoderTransportError):
    """One of the SDK's own timeouts (connect, read or total) expired.

    Distinct from the ``TimeoutError`` your own ``anyio.fail_after`` raises.
    """


class AmbiguousRequestError(CoderTransportError):
    """A non-idempotent request failed after it may have reached the server.

    The SDK never re-sends it: the task may exist or the input may have been
    delivered.  Check with ``get_task`` / ``get_logs`` before trying again.
    """


class CoderDecodeError(CoderError):
    """A success response whose body does not fit the expected model.

    ``path`` names the offending field (``"tasks[3].created_at"``), ``snippet``
    holds the start of the raw body.  ``invalid_json`` is true when the body is not
    JSON at all (cut short by a proxy, say) rather than JSON of the wrong shape;
    reads are retried in that case.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        snippet: str = "",
        method: str = "",
        url: str = "",
        invalid_json: bool = False,
    ) -> None:
        self.invalid_json = invalid_json
        self.path = path
        self.snippet = snippet
        self.method = method
        self.url = url
        where = f" at {path}" if path else ""
        prefix = f"{method} {url}: " if method else ""
        super().__init__(f"{prefix}cannot decode response{where}: {message}; body: {snippet!r}")


class UnsupportedByServerError(CoderError):
    """The server does not offer this call; ``minimum_version`` says which Coder version does.

    Its old spelling ``UnsupportedByServer`` still works, with a ``DeprecationWarning``.
    """

    def __init__(self, feature: str, *, minimum_version: str, server_version: str | None) -> None:
        self.feature = feature
        self.minimum_version = minimum_version
        self.server_version = server_version
        have = server_version or "an unknown version"
        super().__init__(
            f"{feature} needs Coder {minimum_version} or later; the server runs {have}"
        )


class TaskNotReadyError(CoderError):
    """A wait for readiness cannot succeed (the task is paused, or stuck in ``error``).

    ``task`` is the latest snapshot.
    """

    def __init__(self, message: str, task: Task) -> None:
        self.task: Task = task
        super().__init__(message)


class TaskPausedError(TaskNotReadyError):
    """The task is paused, so input cannot be sent without resuming it
    (``send_input(..., wait_ready=True, resume=True)`` resumes it).

    Raised whether the task was paused before the wait or as the input was sent:
    the server refused the input, so nothing was delivered.  ``task`` is the latest
    snapshot.
    """


class BuildFailedError(CoderError):
    """A workspace build ended without succeeding (its job failed or was canceled).

    ``build`` is the ended build; ``build.job.error`` says why, when Coder says.
    """

    def __init__(self, message: str, build: WorkspaceBuild) -> None:
        self.build: WorkspaceBuild = build
        super().__init__(message)


class WaitTimeoutError(CoderError, TimeoutError):
    """``wait_for`` / ``send_input(wait_ready=True)`` / ``wait_for_build`` ran out of the
    time you gave it.

    ``task`` is the latest snapshot seen (``None`` if none could be fetched, and for a
    build); ``build`` the latest build seen by ``wait_for_build``.
    """

    def __init__(
        self, message: str, task: Task | None, *, build: WorkspaceBuild | None = None
    ) -> None:
        self.task: Task | None = task
        self.build: WorkspaceBuild | None = build
        super().__init__(message)


class ClientClosedError(CoderError, RuntimeError):
    """The client was used after ``aclose()`` (or after its ``async with`` block ended)."""


class LeaseLostError(CoderError):
    """A save named a fencing token that is no longer the key's: the lease changed hands.

    Raised by a fenced save (``token=``), so inside your own transaction it rolls back
    your write together with the cursor; the worker now holding the task delivers
    the event instead.
    """

    def __init__(self, key: str, token: int) -> None:
        super().__init__(
            f"the lease on {key!r} was taken over (token {token} is stale); "
            "another worker now follows it and will deliver this event"
        )
        self.key = key
        self.token = token


class StoreSchemaError(CoderError):
    """The database holds a schema this release does not know (a newer release made it)."""
