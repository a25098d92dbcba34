"""Client-side pacing that keeps a fan-out under Coder's API rate limit.

Coder limits each user to ``X-RateLimit-Limit`` requests per minute *per endpoint*
(512 by default) with go-chi/httprate's sliding-window counter, and answers 429 with
``Retry-After: 60`` beyond it.  :class:`RateLimiter` is a token bucket sized so that
no 60-second interval can hold more than the limit:

* ``burst = limit // 10`` tokens are available at once, so small fan-outs start
  immediately;
* tokens refill at ``(limit - burst) / (60 s + margin)``, so any 60 s interval
  contains at most ``burst + (limit - burst) = limit`` requests.  That bound also
  holds for httprate's estimate (previous window weighted by overlap + current
  window), which an exact sliding log of the last 60 s does not guarantee.
* it also keeps the calls of the last 60 s + margin (each logged when it ends,
  counted while in flight) and never lets them reach the limit, so calls made
  before a lower ``X-RateLimit-Limit`` was learned (512 is assumed until a
  response says otherwise) still count, and a slow call is never forgotten early.

Server feedback is trusted: ``X-RateLimit-Limit`` resizes the bucket (never above
the caller's ``per_minute``), ``X-RateLimit-Remaining`` caps the tokens (minus the calls
still in flight), ``Remaining: 0`` pauses until ``X-RateLimit-Reset``, and a 429
pauses for its ``Retry-After``.  Every wait is on the client's clock.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import anyio

from .._http.hooks import observe_responses
from .._http.telemetry import event_on_current_span
from .._wire.errors import CoderAPIError, RateLimitError
from .._wire.loggers import ROOT, get_logger
from .._wire.settings import MIN_PAUSE_AFTER_RATE_LIMIT, positive_seconds

if TYPE_CHECKING:
    from .._endpoints.tasks import TaskEndpoints
    from .._http.clock import Clock

__all__ = ["DEFAULT_LIMIT", "RateLimiter"]

#: coderd's default ``--api-rate-limit`` (requests per minute, per user and endpoint).
DEFAULT_LIMIT = 512
_WINDOW = 60.0
_EPSILON = 1e-9
_MIN_WAIT = 1e-3
logger = get_logger(f"{ROOT}.fanout")

P = ParamSpec("P")
R = TypeVar("R")


class RateLimiter:
    """Pace calls of one client to one endpoint below the server's per-minute limit.

    Use one limiter per endpoint (the server counts ``POST /tasks/{user}`` and
    ``GET /tasks/{user}/{task}`` separately) and share it between every fan-out
    that hits that endpoint at the same time.

    ``per_minute`` caps the rate you allow yourself (leave room for other tools
    using the same account); the server's ``X-RateLimit-Limit`` lowers it further
    once seen.  Until a response says otherwise the limit is assumed to be 512.
    ``margin`` stretches the refill period to absorb network jitter between the
    client's and the server's idea of when a request happened.

    Example::

        limiter = RateLimiter(coder)
        outcomes = await map_bounded(coder.get_task, refs, rate_limit=limiter)
        task = await limiter.run(coder.get_task, "fix-login")   # one paced call

    Limits: it only sees this process's calls (another process using the same
    token is noticed through ``Remaining`` and 429s, after the fact); and the
    client's own retries of a 429 (see :class:`RetryPolicy`) are not paced by it,
    though their headers are learnt from.  It reads the headers of the calls it
    runs and of nothing else.
    """

    def __init__(
        self,
        client: TaskEndpoints,
        *,
        per_minute: int | None = None,
        margin: float = 2.0,
    ) -> None:
        if per_minute is not None and (
            isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1
        ):
            raise ValueError(f"per_minute must be an int of at least 1, not {per_minute!r}")
        positive_seconds("RateLimiter", "margin", margin, allow_zero=True)
        self._client = client
        self._clock: Clock = client.clock
        self._ceiling = per_minute
        self._margin = margin
        self._limit = 0
        self._burst = 0
        self._rate = 0.0
        self._tokens = 0.0
        self._updated = self._clock.now()
        self._blocked_until = -math.inf
        self._in_flight = 0
        # Send times of the last window: the bucket alone cannot know what was sent
        # before a lower X-RateLimit-Limit arrived.  At most ``limit`` floats.
        self._sent: deque[float] = deque()
        self._finished: anyio.Event | None = None
        self._resize(per_minute or DEFAULT_LIMIT)
        self._tokens = float(self._burst)

    def __repr__(self) -> str:
        return f"RateLimiter(limit={self._limit}/min, burst={self._burst})"

    @property
    def limit(self) -> int:
        """The requests-per-minute budget currently paced to."""
        return self._limit

    def _resize(self, limit: int) -> None:
        self._limit = limit
        self._burst = max(1, limit // 10)
        # Burst plus one window's refill never exceeds the limit (see the module docstring).
        self._rate = max(limit - self._burst, 1) / (_WINDOW + self._margin)
        self._tokens = min(self._tokens, float(self._burst))

    def _refill(self, now: float) -> None:
        if now > self._updated:
            gained = (now - self._updated) * self._rate
            self._tokens = min(float(self._burst), self._tokens + gained)
            self._updated = now

    async def acquire(self) -> None:
        """Wait (on the client's clock) until one more request may be sent, and count it.

        :meth:`run` does this and the bookkeeping after the call; use ``acquire``
        directly only for calls it cannot wrap.

        Example::

            await limiter.acquire()
            task = await coder.get_task(ref)
        """
        await self._acquire()
        self._sent.append(self._clock.now())

    async def _acquire(self) -> None:
        clock = self._clock
        span = _WINDOW + self._margin
        sent = self._sent
        while True:
            now = clock.now()
            if now < self._blocked_until:
                await clock.sleep(max(self._blocked_until - now, _MIN_WAIT))
                continue
            while sent and sent[0] <= now - span:
                sent.popleft()
            if len(sent) + self._in_flight >= self._limit:
                # Calls made before a lower limit was learned still count against it.
                if sent:
                    await clock.sleep(max(sent[0] + span - now, _MIN_WAIT))
                else:
                    await self._wait_for_a_call_to_finish()
                continue
            self._refill(now)
            # Refill arithmetic leaves 0.9999999999999997 where 1 was meant; a wait that
            # small does not even move a float clock, so round it up and never sleep ~0.
            if self._tokens >= 1.0 - _EPSILON:
                self._tokens = max(self._tokens - 1.0, 0.0)
                return
            await clock.sleep(max((1.0 - self._tokens) / self._rate, _MIN_WAIT))

    async def _wait_for_a_call_to_finish(self) -> None:
        if self._finished is None:
            self._finished = anyio.Event()  # created here: it needs a running event loop
        await self._finished.wait()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from a response's ``X-RateLimit-*`` headers (others are ignored).

        Example::

            limiter.observe({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7"})
        """
        limit = _int_header(headers, "X-RateLimit-Limit")
        if limit is not None and limit > 0:
            wanted = min(limit, self._ceiling) if self._ceiling else limit
            if wanted != self._limit:
                self._refill(self._clock.now())
                self._resize(wanted)
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        if remaining is None:
            return
        now = self._clock.now()
        self._refill(now)
        # Calls still in flight will spend some of what the server says is left.
        # A negative balance is a debt the refill pays off before the next call.
        self._tokens = min(self._tokens, float(remaining - self._in_flight))
        if remaining <= 0:
            self._pause(now, _seconds_until_reset(headers))

    def rate_limited(self, retry_after: float | None) -> None:
        """Record a 429: nothing is sent for ``retry_after`` seconds (60 if unknown or
        unusable, at most 60, at least one second).

        Example::

            try:
                task = await coder.get_task(ref)  # a call the limiter did not run
            except RateLimitError as exc:
                limiter.rate_limited(exc.retry_after)
        """
        now = self._clock.now()
        self._refill(now)
        self._tokens = min(self._tokens, 0.0)
        usable = retry_after is not None and math.isfinite(retry_after) and retry_after > 0
        wait = min(retry_after, _WINDOW) if usable and retry_after is not None else _WINDOW
        self._pause(now, max(wait, MIN_PAUSE_AFTER_RATE_LIMIT))

    def _pause(self, now: float, seconds: float) -> None:
        # A pause is never longer than one window, whatever a header said.
        seconds = min(seconds, _WINDOW) if math.isfinite(seconds) else _WINDOW
        until = now + max(seconds, 0.0)
        if until <= self._blocked_until:
            return
        self._blocked_until = until
        # Told where it happens: the current span is the fan-out's when one runs this.
        event_on_current_span("coder.rate_limit.pause", {"coder.pause.seconds": seconds})
        logger.info("rate limit reached: no request for %.1fs", seconds, extra={"delay": seconds})

    async def run(self, func: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``await func(*args, **kwargs)`` once, paced, and learn from its outcome.

        A :class:`RateLimitError` pauses the limiter and is re-raised: the call is
        not repeated here, because ``func`` may have done other work first.

        Example::

            task = await limiter.run(coder.create_task, "Fix it", template_version_id=tv_id)
        """
        await self._acquire()
        # Counted as in flight, then logged when it ends: the server saw it at some
        # moment in between, so the log can never expire it before the server does.
        self._in_flight += 1
        headers: Mapping[str, str] | None = None
        seen: list[Mapping[str, str]] = []
        try:
            # Only the responses of this very call: a concurrent call's headers may
            # belong to another endpoint with its own budget.
            with observe_responses(lambda _status, h: seen.append(h)):
                return await func(*args, **kwargs)
        except CoderAPIError as exc:
            headers = exc.headers  # exactly this call's response
            if isinstance(exc, RateLimitError):
                self.rate_limited(exc.retry_after)
            raise
        finally:
            self._in_flight -= 1
            self._sent.append(self._clock.now())
            if self._finished is not None:
                self._finished.set()
                self._finished = None
            if headers is None and seen:
                headers = seen[-1]
            if headers is not None:
                self.observe(headers)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        # observe() may be handed a plain dict, and Go spells them "X-Ratelimit-Limit".
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = _header(headers, name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _seconds_until_reset(headers: Mapping[str, str]) -> float:
    """``X-RateLimit-Reset`` (Unix seconds) as seconds from now, within one window.

    Measured against the response's own ``Date`` so a skewed local clock does not
    matter; an unreadable or absurd value means "one full window".
    """
    reset = _int_header(headers, "X-RateLimit-Reset")
    if reset is None:
        return _WINDOW
    server_now = time.time()
    date = _header(headers, "Date")
    if date:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            server_now = parsedate_to_datetime(date).timestamp()
    wait = reset - server_now
    if not 0.0 <= wait <= _WINDOW + 1.0:
        # A clock from another era (or a fake one): trust the window length instead.
        return _WINDOW if wait > 0 else 0.0
    return wait
