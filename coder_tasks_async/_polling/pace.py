"""How the polling helpers pace themselves and what they do with each error.

Shared by log following, watching and waiting, so they all behave alike:
fast while something changes, backing off with jitter while idle, riding out
transient failures, waiting for a task that is not ready, and stopping on
errors that will not heal.
"""

from __future__ import annotations

import math
import random
from enum import Enum
from types import TracebackType
from typing import Self

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
from .._wire.settings import MAX_RETRY_AFTER, MIN_PAUSE_AFTER_RATE_LIMIT, PollPolicy

__all__ = ["Backoff", "Closeable", "Verdict", "judge"]


class Backoff:
    """The current polling interval of one poller (mutable; one per follower)."""

    def __init__(self, policy: PollPolicy, rand: random.Random | None = None) -> None:
        self.policy = policy
        self.interval = policy.initial
        self._errors = 0
        self._rand = rand or random.Random()

    def _jittered(self, value: float) -> float:
        spread = self.policy.jitter
        return value * (1.0 + self._rand.uniform(-spread, spread)) if spread else value

    def after_poll(self, changed: bool) -> float:
        """Seconds to wait after a successful poll."""
        self._errors = 0
        if changed:
            self.interval = self.policy.initial
        else:
            self.interval = min(self.policy.maximum, self.interval * self.policy.factor)
        return self._jittered(self.interval)

    def after_failure(self, exc: CoderError) -> float:
        """Seconds to wait after a transient error, honouring a 429's ``retry_after``."""
        if isinstance(exc, RateLimitError):
            return self.after_error(exc.retry_after, rate_limited=True)
        return self.after_error()

    def after_error(self, advised: float | None = None, *, rate_limited: bool = False) -> float:
        """Seconds to wait after a transient error (``advised``: the server's Retry-After).

        Advice that is not a finite positive number is ignored (the backoff
        applies); usable advice is capped at ``max(error_maximum, 60)``.  After a
        429 the wait is at least one second.
        """
        self._errors += 1
        grown = self.policy.initial * (self.policy.factor ** min(self._errors, 64))
        wait = self._jittered(min(self.policy.error_maximum, grown))
        if advised is not None and math.isfinite(advised) and advised > 0:
            wait = min(advised, max(self.policy.error_maximum, MAX_RETRY_AFTER))
        if rate_limited:
            wait = max(wait, MIN_PAUSE_AFTER_RATE_LIMIT)
        return wait


class Closeable:
    """Async iterator and async context manager whose ``aclose()`` just stops it.

    The pollers run nothing in the background, so closing has nothing to clean up
    and ``break``, cancellation or an exception in the loop body leave nothing behind.
    """

    _done: bool

    def __aiter__(self) -> Self:
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop; the iteration ends."""
        self._done = True


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
