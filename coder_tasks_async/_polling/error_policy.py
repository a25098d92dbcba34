"""What a poller does with an error: retry, wait, end quietly, or raise."""

from __future__ import annotations

from enum import Enum

from .._wire.errors import (
    AgentBusyError,
    AuthenticationError,
    BadRequestError,
    CoderDecodeError,
    CoderError,
    CoderTransportError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RouteNotFoundError,
    ServerError,
    TaskNotActiveError,
)

__all__ = ["Verdict", "judge"]


class Verdict(Enum):
    """What a poller does with an error."""

    #: Transient (network, 5xx, 429, timeout): wait and poll again.
    RETRY = "retry"
    #: The task exists but cannot answer yet (not active, agent busy): wait.
    NOT_READY = "not_ready"
    #: The task is gone: end the stream quietly.
    GONE = "gone"
    #: Will not heal (auth, permission, bad request, unknown route): raise.
    RAISE = "raise"


def judge(exc: CoderError) -> Verdict:
    """Classify an error raised by one poll."""
    if isinstance(exc, RouteNotFoundError | AuthenticationError | PermissionDeniedError):
        return Verdict.RAISE
    if isinstance(exc, NotFoundError):
        return Verdict.GONE
    if isinstance(exc, TaskNotActiveError | AgentBusyError):
        return Verdict.NOT_READY
    if isinstance(exc, ConflictError | BadRequestError):
        return Verdict.RAISE
    if isinstance(exc, RateLimitError | ServerError | CoderTransportError | CoderDecodeError):
        # A decode error mid-follow is most likely a truncated body: poll again.
        return Verdict.RETRY
    return Verdict.RAISE
