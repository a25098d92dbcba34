"""The client's settings: :class:`Timeouts`, :class:`RetryPolicy`, :class:`PollPolicy`.

Pure values (no I/O, no clock) that the HTTP and polling layers read.

Retries: the rules protect against duplicates: an idempotent request (GET, DELETE) may
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

__all__ = ["Failure", "PollPolicy", "RetryPolicy", "Timeouts", "parse_retry_after"]

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
class Timeouts:
    """Per-request time limits in seconds.  None of them is ever "no limit".

    ``connect``: establishing the TCP/TLS connection.  ``read``: the longest gap
    while waiting for response bytes.  ``total``: one attempt, from the moment it
    holds a connection slot to the end of the body (time queued for a slot is
    not counted: bound that with your own ``anyio.fail_after``).

    ``read`` only arms a timer of its own when it is shorter than ``total``:
    aiohttp re-arms that timer on every chunk received, which measured about
    15 us of CPU per request, and with ``read == total`` (the default; Coder's
    answers are small) ``total`` already bounds every read.  ``send_input``
    uses ``read=120, total=150``, where the gap limit matters.

    Example::

        CoderTasksClient(url, token=t, timeouts=Timeouts(connect=5, read=30, total=60))
    """

    connect: float = 10.0
    read: float = 60.0
    total: float = 60.0

    def __attrs_post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"Timeouts.{name} must be a positive number of seconds")


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


@define(frozen=True, kw_only=True)
class PollPolicy:
    """Polling pace for ``follow_logs``, ``watch`` and ``wait_for``.

    Starts at ``initial`` seconds, multiplies by ``factor`` (with +/- ``jitter``
    as a fraction) while nothing changes, up to ``maximum``; snaps back to
    ``initial`` on any change.  Transient errors back off the same way up to
    ``error_maximum``.

    Example::

        coder.follow_logs(task, poll=PollPolicy(initial=0.5, maximum=5))
    """

    initial: float = field(default=1.0)
    factor: float = 1.5
    maximum: float = 10.0
    jitter: float = 0.1
    error_maximum: float = 30.0

    @initial.validator
    def _check(self, _: object, value: float) -> None:
        if value <= 0:
            raise ValueError("PollPolicy.initial must be positive")


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
