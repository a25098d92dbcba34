"""The client's settings: :class:`Timeouts`, :class:`RetryPolicy`, :class:`PollPolicy`.

Pure values (no I/O, no clock) that the HTTP and polling layers read; every number
is checked when a value is made (finite, positive, ordered) so no setting can mean
"no limit" or a busy loop by accident.

Retries: the rules protect against duplicates: an idempotent request (GET, DELETE) may
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
from typing import Literal

from attrs import define, field

__all__ = [
    "MAX_RETRY_AFTER",
    "MIN_PAUSE_AFTER_RATE_LIMIT",
    "Failure",
    "PollPolicy",
    "RetryPolicy",
    "Timeouts",
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


def positive_seconds(
    owner: str, name: str, value: object, *, allow_none: bool = False, allow_zero: bool = False
) -> None:
    """Refuse anything but a finite, positive number of seconds (``ValueError``).

    ``allow_none``: ``None`` ("no limit") is fine too; ``allow_zero``: so is 0.
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{owner}.{name} must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{owner}.{name} must be finite and {kind}, not {value!r}")


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
    """Per-request time limits in seconds.  None of them is ever "no limit": each
    must be finite and positive (``ValueError`` otherwise).

    ``connect``: establishing the TCP/TLS connection.  ``read``: the longest gap
    while waiting for response bytes.  ``total``: one attempt, from the moment it
    holds a connection slot to the end of the body (time queued for a slot is
    not counted here; the call's ``RetryPolicy.deadline`` counts it, and cuts
    ``total`` to what the call has left).

    ``read`` only arms a timer of its own when it is shorter than ``total``:
    aiohttp re-arms that timer on every chunk received, which measured about
    15 us of CPU per request, and with ``read == total`` (the default; Coder's
    answers are small) ``total`` already bounds every read.  ``send_input``
    uses ``read=120, total=150``, where the gap limit matters.

    Example::

        CoderTasksClient(url, token=token, timeouts=Timeouts(connect=5, read=30, total=60))
    """

    connect: float = 10.0
    read: float = 60.0
    total: float = 60.0

    def __attrs_post_init__(self) -> None:
        # NaN and infinity would reach aiohttp as "no limit": refused like zero.
        for name in ("connect", "read", "total"):
            positive_seconds("Timeouts", name, getattr(self, name))


#: Seconds an attempt needs after its wait to be worth making (the transport cuts an
#: attempt's timeouts to the call's remaining time in tenths of a second).  Without it a
#: wait as long as the time left, give or take float rounding (Coder's ``Retry-After:
#: 60`` against the default 60 s deadline), was slept only to fail with a timeout.
MIN_ATTEMPT = 0.1


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
        so far and a wait of ``delay`` seconds (leaving it :data:`MIN_ATTEMPT` to run)."""
        if attempt >= self.attempts:
            return False
        return self.deadline is None or elapsed + delay + MIN_ATTEMPT <= self.deadline

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


#: How pollers learn about changes: ``"auto"`` also listens to the workspace watch
#: stream (events wake the poller), ``"poll"`` only polls.
Wake = Literal["auto", "poll"]


def check_wake(value: str) -> Wake:
    """``value`` as a :data:`Wake` mode; anything else is a ``ValueError``."""
    if value == "auto":
        return "auto"
    if value == "poll":
        return "poll"
    raise ValueError(f"wake must be 'auto' or 'poll', not {value!r}")


@define(frozen=True, kw_only=True)
class PollPolicy:
    """Polling pace for ``follow_logs``, ``watch`` and ``wait_for``.

    Starts at ``initial`` seconds, multiplies by ``factor`` (with +/- ``jitter``
    as a fraction) while nothing changes, up to ``maximum``; snaps back to
    ``initial`` on any change.  Transient errors back off the same way up to
    ``error_maximum``.  After a 429 a poller waits the server's ``Retry-After``
    (sanitized and capped at 60 s, see :class:`RetryPolicy`) and never less than
    one second, so no answer can make it spin.

    Every number is checked when the policy is made (``ValueError``): the
    intervals are finite and positive with ``initial <= maximum`` and
    ``initial <= error_maximum``, ``factor >= 1`` and ``0 <= jitter < 1``.

    Example::

        coder.follow_logs(task, poll=PollPolicy(initial=0.5, maximum=5))
    """

    initial: float = 1.0
    factor: float = 1.5
    maximum: float = 10.0
    jitter: float = 0.1
    error_maximum: float = 30.0

    def __attrs_post_init__(self) -> None:
        for name in ("initial", "maximum", "error_maximum", "factor"):
            positive_seconds("PollPolicy", name, getattr(self, name))
        if self.factor < 1:
            raise ValueError(f"PollPolicy.factor must be at least 1, not {self.factor!r}")
        jitter = self.jitter
        if isinstance(jitter, bool) or not isinstance(jitter, int | float):
            raise ValueError(f"PollPolicy.jitter must be a number, not {jitter!r}")
        if not 0 <= jitter < 1:  # also refuses NaN
            raise ValueError(f"PollPolicy.jitter must be in [0, 1), not {jitter!r}")
        if self.initial > self.maximum or self.initial > self.error_maximum:
            raise ValueError("PollPolicy.initial must not exceed maximum or error_maximum")


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
