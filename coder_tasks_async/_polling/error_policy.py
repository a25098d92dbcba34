"""What a poller does with an error: retry, wait, end quietly, or raise."""

from __future__ import annotations

from enum import Enum

from .._wire import errors

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


#: The first row whose classes the error is an instance of decides (order matters: a
#: route the server lacks is a NotFoundError too, a busy agent may be a ConflictError).
_POLICY: tuple[tuple[tuple[type[errors.CoderError], ...], Verdict], ...] = (
    (
        (errors.RouteNotFoundError, errors.AuthenticationError, errors.PermissionDeniedError),
        Verdict.RAISE,
    ),
    ((errors.NotFoundError,), Verdict.GONE),
    ((errors.TaskNotActiveError, errors.AgentBusyError), Verdict.NOT_READY),
    ((errors.ConflictError, errors.BadRequestError), Verdict.RAISE),
    # A decode error mid-follow is most likely a truncated body: poll again.
    (
        (
            errors.RateLimitError,
            errors.ServerError,
            errors.CoderTransportError,
            errors.CoderDecodeError,
        ),
        Verdict.RETRY,
    ),
)


def judge(exc: errors.CoderError) -> Verdict:
    """Classify an error raised by one poll (anything not in the table: raise)."""
    for classes, verdict in _POLICY:
        if isinstance(exc, classes):
            return verdict
    return Verdict.RAISE
