"""When to try a request again, and how long to wait first.  Pure: no I/O.

The rules protect against duplicates: an idempotent request (GET, DELETE) may
be repeated after any transient failure, but a POST is repeated only when it
provably never reached the server (the connection was never made) or the server
refused it before handling it (429).

Every wait a server advises (``Retry-After``) goes through :func:`parse_retry_after`,
the one place that decides what such advice is worth: unreadable, NaN, negative,
zero and absurd values are ignored (the caller's own backoff applies instead) and
the rest is capped.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import TYPE_CHECKING

from attrs import define, field

if TYPE_CHECKING:
    from ._clock import Clock

__all__ = [
    "MAX_RETRY_AFTER",
    "MIN_PAUSE_AFTER_RATE_LIMIT",
    "Failure",
    "RetryBudget",
    "RetryPolicy",
    "parse_retry_after",
    "positive_seconds",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})

#: The longest server-advised wait honoured, in seconds: coderd's own limiter window.
MAX_RETRY_AFTER = 60.0
#: The shortest wait after a 429, in seconds, whatever the server advised: nothing
#: a server sends can make a poller or a retry loop spin.
MIN_PAUSE_AFTER_RATE_LIMIT = 1.0
#: An HTTP-date further ahead than this is a broken clock, not advice.
_ABSURD_DATE = 24 * 3600.0


def positive_seconds(owner: str, name: str, value: object, *, allow_none: bool = False) -> None:
    """Refuse anything but a finite, positive number of seconds (``ValueError``)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{owner}.{name} must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{owner}.{name} must be finite and positive, not {value!r}")


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
    ``Retry-After`` when it gives a usable one (at most ``max_retry_after``
    seconds, default 60; after a 429 never less than one second).

    One budget of ``attempts`` HTTP requests and ``deadline`` seconds is made for
    each public call and shared by everything that call does (retries, a
    create's look-up by name, re-reading a cut-short body).  ``deadline`` bounds
    the whole call, waits included: each attempt's timeout is cut to what is
    left, and a ``Retry-After`` that would overrun it fails at once with
    :class:`RateLimitError`.  Every number must be finite and positive, and
    ``backoff_initial <= backoff_max`` (``ValueError`` otherwise).

    Example::

        CoderTasksClient(url, token=token, retry=RetryPolicy(attempts=6, deadline=120))
        RetryPolicy.none()  # never retry
    """

    attempts: int = field(default=4)
    backoff_initial: float = 0.25
    backoff_max: float = 8.0
    deadline: float | None = 60.0
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    max_retry_after: float = MAX_RETRY_AFTER

    @attempts.validator
    def _check_attempts(self, _: object, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"RetryPolicy.attempts must be an int of at least 1, not {value!r}")

    def __attrs_post_init__(self) -> None:
        for name in ("backoff_initial", "backoff_max", "max_retry_after"):
            positive_seconds("RetryPolicy", name, getattr(self, name))
        positive_seconds("RetryPolicy", "deadline", self.deadline, allow_none=True)
        if self.backoff_initial > self.backoff_max:
            raise ValueError("RetryPolicy.backoff_initial must not exceed backoff_max")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that makes exactly one attempt."""
        return cls(attempts=1)

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``retry_number`` (0-based), with full jitter."""
        ceiling = min(self.backoff_max, self.backoff_initial * (2 ** min(retry_number, 60)))
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


class RetryBudget:
    """The attempts and deadline of one public call, shared by every layer under it.

    Made once per call (``RetryBudget(policy, clock)``) and handed down, so a
    look-up inside a create, a re-read of a cut-short body and the transport's
    own retries all draw on the same ``attempts`` and the same ``deadline``: the
    budgets of nested layers never multiply.
    """

    __slots__ = ("_rand", "clock", "deadline_at", "policy", "started", "used")

    def __init__(self, policy: RetryPolicy, clock: Clock, rand: random.Random | None = None):
        self.policy = policy
        self.clock = clock
        self.started = clock.now()
        self.deadline_at = None if policy.deadline is None else self.started + policy.deadline
        #: HTTP attempts made so far under this call.
        self.used = 0
        self._rand = rand or random.Random()

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline)."""
        if self.deadline_at is None:
            return None
        return self.deadline_at - self.clock.now()

    def spend(self) -> None:
        """Count one HTTP attempt."""
        self.used += 1

    def refund(self) -> None:
        """Give back one attempt: a request the router refused (no such route) was
        discovery, not an attempt at the call itself."""
        self.used = max(self.used - 1, 0)

    def retries_left(self) -> bool:
        """Whether another attempt is allowed by the count alone."""
        return self.used < self.policy.attempts

    def backoff(self) -> float:
        """This call's backoff before its next attempt (full jitter)."""
        return self.policy.backoff(max(self.used - 1, 0), self._rand.random)

    def fits(self, delay: float) -> bool:
        """Whether another attempt after waiting ``delay`` seconds is within budget."""
        if not self.retries_left():
            return False
        left = self.remaining()
        return left is None or delay < left

    def wait_before_retry(self, advised: float | None, *, rate_limited: bool = False) -> float:
        """The wait before the next attempt: the server's (sanitized) advice, else backoff.

        After a 429 the wait is never shorter than :data:`MIN_PAUSE_AFTER_RATE_LIMIT`.
        """
        delay = advised if advised is not None else self.backoff()
        if rate_limited:
            delay = max(delay, MIN_PAUSE_AFTER_RATE_LIMIT)
        return delay


def parse_retry_after(
    value: str | None, *, now: float | None = None, maximum: float = MAX_RETRY_AFTER
) -> float | None:
    """Parse ``Retry-After`` (delta-seconds or an HTTP-date) into a usable wait in seconds.

    The one place server-advised waits are judged.  ``None`` means "no usable
    advice, use your own backoff": a missing or unreadable header, NaN,
    infinity, a negative or zero wait, a date in the past, or a date more than a
    day ahead (a broken clock).  Anything else is capped at ``maximum`` (default
    :data:`MAX_RETRY_AFTER`, 60 s, coderd's limiter window).  ``now`` is a Unix
    timestamp for HTTP-dates (defaults to the real time).

    >>> parse_retry_after("60"), parse_retry_after("1000000000"), parse_retry_after("nan")
    (60.0, 60.0, None)
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        until = _seconds_until_date(text, now)
        if until is None or until > _ABSURD_DATE:
            return None
        seconds = until
    if not math.isfinite(seconds) and seconds > 0:
        return maximum  # "inf": as long as we ever wait
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return min(seconds, maximum)


def _seconds_until_date(text: str, now: float | None) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # pragma: no cover - RFC dates carry GMT
        return None
    try:
        stamp = when.timestamp()
    except (OverflowError, OSError, ValueError):  # pragma: no cover - platform limits
        return None
    return stamp - (time.time() if now is None else now)
