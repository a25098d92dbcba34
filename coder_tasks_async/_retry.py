"""When to try a request again, and how long to wait first.  Pure: no I/O, no clock.

The rules protect against duplicates: an idempotent request (GET, DELETE) may
be repeated after any transient failure, but a POST is repeated only when it
provably never reached the server (the connection was never made) or the server
refused it before handling it (429).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from enum import Enum

from attrs import define, field

__all__ = ["Failure", "RetryPolicy", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


class Failure(Enum):
    """What went wrong with one attempt, as far as duplicate-safety is concerned."""

    #: The connection was never established (refused, DNS, connect timeout): nothing was sent.
    NOT_SENT = "not_sent"
    #: The request may have been handled (timeout or disconnect after sending).
    AMBIGUOUS = "ambiguous"
    #: Will not get better by trying again (a TLS certificate that does not verify).
    FATAL = "fatal"


@define(frozen=True, kw_only=True)
class RetryPolicy:
    """How a client retries.  Pass one to ``CoderTasksClient(retry=...)`` or per call.

    Backoff is exponential with full jitter: attempt *n* sleeps a random time in
    ``[0, min(backoff_max, backoff_initial * 2**n)]``, or the server's
    ``Retry-After`` when it gives one.  ``deadline`` bounds the whole call,
    waits included; a ``Retry-After`` that would overrun it fails at once.

    Example::

        CoderTasksClient(url, token=token, retry=RetryPolicy(attempts=6, deadline=120))
        RetryPolicy.none()  # never retry
    """

    attempts: int = field(default=4)
    backoff_initial: float = 0.25
    backoff_max: float = 8.0
    deadline: float | None = 60.0
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    @attempts.validator
    def _check_attempts(self, _: object, value: int) -> None:
        if value < 1:
            raise ValueError("attempts must be at least 1")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt."""
        return cls(attempts=1)

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``retry_number`` (0-based), with full jitter."""
        ceiling = min(self.backoff_max, self.backoff_initial * (2**retry_number))
        return float(ceiling * rand())

    def has_budget(self, attempt: int, elapsed: float, delay: float) -> bool:
        """Whether another attempt fits after ``attempt`` attempts, ``elapsed`` seconds
        so far and a wait of ``delay`` seconds."""
        if attempt >= self.attempts:
            return False
        return self.deadline is None or elapsed + delay < self.deadline

    def should_retry_status(self, method: str, status: int) -> bool:
        """Whether a response with ``status`` may be retried for ``method``."""
        if status not in self.retry_statuses:
            return False
        # 429 is a refusal before handling: safe for any method.  The 5xx family
        # may come after the server acted, so only idempotent methods repeat.
        return status == 429 or method in IDEMPOTENT_METHODS

    def should_retry_failure(self, method: str, failure: Failure) -> bool:
        """Whether a transport failure may be retried for ``method``."""
        if failure is Failure.FATAL:
            return False
        return failure is Failure.NOT_SENT or method in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` (delta-seconds or an HTTP-date) into seconds from now.

    ``now`` is a Unix timestamp used for HTTP-dates (defaults to the real time).
    Returns ``None`` for a missing or unreadable header; never negative.

    >>> parse_retry_after("60")
    60.0
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # pragma: no cover - RFC dates carry GMT
        return None
    if now is None:
        import time

        now = time.time()
    return max(when.timestamp() - now, 0.0)
