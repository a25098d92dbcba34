"""The thin I/O layer: one ``aiohttp.ClientSession``, timeouts, retries, the
concurrency cap, redirects, response hooks and request logging.  It knows nothing of tasks.

Hot-path notes (measured, see benchmarks/): the concurrency cap is :class:`.Slots`
(a free slot is a counter decrement: no await, no coroutine) rather than an anyio
``CapacityLimiter`` or an ``asyncio.Semaphore``, and timeouts are aiohttp's own
``ClientTimeout``, applied only once a slot is held, so queueing never eats into the
server timeout.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import os
import random
import ssl as ssl_module
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs
from aiohttp import hdrs
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from .._version import __version__
from .._wire.deployment import public_url
from .._wire.errors import (
    AmbiguousRequestError,
    ClientClosedError,
    CoderDecodeError,
    CoderTimeoutError,
    CoderTransportError,
)
from .._wire.loggers import ROOT
from .._wire.redact import Redactor
from .._wire.settings import (
    IDEMPOTENT_METHODS,
    MIN_ATTEMPT,
    Failure,
    RetryPolicy,
    Timeouts,
    parse_retry_after,
)
from .body import read_limited
from .budget import RetryBudget
from .clock import Clock
from .closing import close_session
from .hooks import ResponseHooks, scoped_hooks
from .requestlog import log_attempt, log_retry, logger
from .slots import Slots
from .telemetry import Telemetry, error_type

if TYPE_CHECKING:
    from .otel import Instruments
    from .streams import StreamPool
    from .telemetry import RequestSpan

__all__ = ["RawResponse", "Transport", "aiohttp_timeout", "configure_debug_logging", "logger"]


DEBUG_ENV = "CODER_TASKS_DEBUG"
_MAX_REDIRECTS = 5
#: Attempt timeouts are cut to the call's remaining time in steps of this many seconds.
_CUT_GRAIN = MIN_ATTEMPT
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: aiohttp's threshold for warning about a body of raw bytes (``TOO_LARGE_BYTES_BODY``).
_LARGE_BODY = 1024 * 1024
_DEBUG = logging.DEBUG
_LOCATION = hdrs.LOCATION
_CONTENT_LENGTH = hdrs.CONTENT_LENGTH
_CONTENT_ENCODING = hdrs.CONTENT_ENCODING


def configure_debug_logging() -> None:
    """Send this package's debug log to stderr when ``$CODER_TASKS_DEBUG`` asks for it.

    Called when a client is created, never at import: importing the SDK must not
    touch the application's logging setup.
    """
    if os.environ.get(DEBUG_ENV, "").strip().lower() in {"1", "true", "yes", "debug"}:
        root = logging.getLogger(ROOT)  # every layer's logger is below it
        if not any(getattr(h, "_coder_tasks", False) for h in root.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
            handler._coder_tasks = True  # type: ignore[attr-defined]
            root.addHandler(handler)
        root.setLevel(logging.DEBUG)


def aiohttp_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    """The ``aiohttp.ClientTimeout`` equivalent to ``timeouts``."""
    # ``connect`` goes to sock_connect only: aiohttp's own ``connect`` would also
    # time the wait for a pooled connection, and queueing must count against the
    # caller's deadline, not the server timeout (it also arms one timer less per
    # request).  The connection slot itself is bounded by the client's semaphore.
    sock_read = timeouts.read if timeouts.read < timeouts.total else None  # total bounds it
    return aiohttp.ClientTimeout(
        total=timeouts.total, sock_connect=timeouts.connect, sock_read=sock_read
    )


@attrs.define(eq=False, repr=False, weakref_slot=False)
class RawResponse:
    """Status, headers and body of a finished response (any status).

    Slotted, without ``__eq__`` and without a weakref slot (one is built per request:
    attrs' ``__init__`` is the plain assignments, and it is as small as the hand-written
    class it replaced); the URL is only turned into its public string form when an
    error needs it.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str
    _url: URL
    #: How many attempts it took (``> 1`` means earlier attempts failed or were retried).
    attempts: int = 1
    #: An earlier attempt may have been handled (lost response, gateway error).
    may_have_landed: bool = False
    #: What the request's ``parse`` made of a 2xx body (``None`` without one).
    parsed: object = None

    @property
    def url(self) -> str:
        """The request URL, without any userinfo."""
        return public_url(self._url)

    def __repr__(self) -> str:
        return f"RawResponse({self.status}, {self.method} {self.url})"


def _env_proxy(url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy the environment names for ``url`` (all requests go to that one origin)."""
    try:
        return get_env_proxy_for_url(url)
    except LookupError:
        return None, None


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    return (url.scheme, url.host, url.port)


class Transport:
    """Owns the HTTP session and turns one logical call into one or more attempts."""

    def __init__(
        self,
        base_url: URL,
        token: str,
        *,
        session: aiohttp.ClientSession | None,
        timeouts: Timeouts,
        retry: RetryPolicy,
        max_concurrency: int,
        clock: Clock,
        user_agent: str | None,
        ssl: ssl_module.SSLContext | bool | None,
        max_body_size: int,
        extra_headers: Mapping[str, str] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
            raise ValueError(f"max_concurrency must be an int, not {max_concurrency!r}")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
            raise ValueError(f"max_body_size must be an int, not {max_body_size!r}")
        if max_body_size < 1024:
            raise ValueError("max_body_size must be at least 1024 bytes")
        self.base_url = base_url
        self._base_path = base_url.path.rstrip("/")
        self.public_base = public_url(base_url)
        self.timeouts = timeouts
        self.retry = retry
        self.clock = clock
        self.max_body_size = max_body_size
        self.max_concurrency = max_concurrency
        self._token = token
        #: Scrubs the token from anything built from a response.
        self.redactor = Redactor(token)
        self._ssl = ssl
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._slots: Slots | None = None
        #: The event loop of the first call: the session, the slots and the streams
        #: belong to it (aiohttp and asyncio objects cannot be shared across loops).
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Jitter for every backoff of this client (shared: seeding one per call is costly).
        self.rand = random.Random()
        agent = user_agent or (
            f"coder-tasks-async/{__version__} aiohttp/{aiohttp.__version__} "
            f"python/{sys.version_info.major}.{sys.version_info.minor}"
        )
        self._headers = {
            "Coder-Session-Token": token,
            "User-Agent": agent,
            "Accept": "application/json",
            **(extra_headers or {}),
        }
        #: Told ``(status, headers)`` of every response (see :mod:`.hooks`).
        self.hooks = ResponseHooks()
        #: Spans and metrics, when the application uses OpenTelemetry (see :mod:`.telemetry`).
        self.telemetry = telemetry or Telemetry()
        self._timeouts_cache: dict[Timeouts, aiohttp.ClientTimeout] = {}
        self._options_cache: dict[tuple[int, bool], dict[str, Any]] = {}
        self._default_timeout = self._client_timeout(timeouts)
        #: The timeouts of the common request (no option but ``allow_redirects``): the
        #: default ones, on our own session (``None``: a caller's session, never common).
        self._plain_limits = timeouts if self._owns_session else None
        #: With at least this many seconds left, a call's attempt gets the default timeouts.
        self._uncut_left = timeouts.total - _CUT_GRAIN
        #: The default timeouts cut to a call's remaining time, by tenths of a second left.
        self._cut_cache: dict[int, aiohttp.ClientTimeout] = {}

    def __repr__(self) -> str:
        return f"Transport({self.public_base!r})"

    @property
    def closed(self) -> bool:
        return self._closed

    def stream_pool(self, max_streams: int) -> StreamPool:
        """A pool of long-lived event streams to this server, apart from the request slots."""
        from .streams import StreamPool  # loaded by the first follower, not by ``import``

        return StreamPool(
            self.base_url,
            self._headers,
            max_streams=max_streams,
            ssl=self._ssl,
            timeouts=self.timeouts,
            check_loop=self.check_loop,
            proxy=_env_proxy(self.base_url),
        )

    def check_loop(self) -> None:
        """Bind this client to the running event loop on first use; refuse any other loop.

        A client used from two loops (two threads, two ``asyncio.run``) would hang on a
        slot held by the other loop or fail deep inside aiohttp: a clear error instead.
        """
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        if self._loop is None:
            self._loop = loop
            return
        raise RuntimeError(
            f"this Coder client belongs to event loop {self._loop!r} (where it was first "
            f"used) and cannot be used from event loop {loop!r}; create one client per "
            "event loop (per thread)"
        )

    @property
    def connections_in_use(self) -> int:
        """Connections of the pool currently checked out by a request (0 when idle)."""
        connector = None if self._session is None else self._session.connector
        if connector is None:
            return 0
        # aiohttp counts them but offers no public accessor; read in this one place.
        return len(connector._acquired)

    def _session_or_open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("this client is closed; create a new one")
        if asyncio.get_running_loop() is not self._loop:
            self.check_loop()
        session = self._session
        if session is None:
            # Created lazily so the session binds to the loop that actually runs.
            connector = aiohttp.TCPConnector(
                limit=self.max_concurrency,
                limit_per_host=0,
                ssl=self._ssl if self._ssl is not None else True,
                enable_cleanup_closed=True,
            )
            proxy, proxy_auth = _env_proxy(self.base_url)
            session = aiohttp.ClientSession(
                connector=connector,
                # Defaults on our own session: aiohttp then has nothing to merge per request.
                headers=self._headers,
                timeout=self._default_timeout,
                # HTTP(S)_PROXY / NO_PROXY are honoured as the Coder CLI does, but read
                # once here: trust_env=True would consult the environment and ~/.netrc
                # in a worker thread on every request (measured: 5x the CPU per request).
                proxy=proxy,
                proxy_auth=proxy_auth,
                auto_decompress=True,
                # Token auth only: never collect or replay cookies.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            # aiohttp silently re-sends an idempotent request once when a kept-alive
            # connection drops.  The retry policy must see every attempt (a DELETE
            # whose first attempt landed answers 404 the second time), so it owns retries.
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
            self._session = session
        if self._slots is None:
            self._slots = Slots(self.max_concurrency)
        return session

    async def aclose(self) -> None:
        """Close the session if this transport created it.  Idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await close_session(session)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts | None = None,
        budget: RetryBudget | None = None,
        parse: Callable[[bytes], object] | None = None,
        route: str | None = None,
        task_id: str | None = None,
    ) -> RawResponse:
        """Send ``method path`` within ``budget``; return the final response, whatever its status.

        This is the one retry loop of the SDK.  ``budget`` is the calling public
        method's (a fresh one from the client's policy when omitted): every attempt
        made here counts against it, each attempt's timeout is cut to the time it
        has left, and a retry whose wait would overrun it is not made.  ``parse``
        turns a 2xx body into a value (kept as ``response.parsed``); a body that is
        not JSON at all (cut short) is fetched again under the same budget.
        ``route`` (the route template, from the endpoint layer: this layer knows no
        routes) and ``task_id`` name the request in spans and log records.

        Raises :class:`CoderTimeoutError` / :class:`CoderTransportError` when no
        response could be had, :class:`AmbiguousRequestError` when a
        non-idempotent request failed after it may have been handled, and
        :class:`ClientClosedError` when the client was closed meanwhile.
        """
        session = self._session
        # (A closed client has no session: aclose() drops it.)
        if session is None or asyncio.get_running_loop() is not self._loop:
            session = self._session_or_open()  # opens it, or raises: closed, another loop
        if budget is None:
            budget = self.budget()
        limits = timeouts or self.timeouts
        # Built afresh every time (yarl's own bounded caches make it cheap): a cache per
        # path held two URLs for every task a client ever followed, and the transport
        # keeps no state per path (tests/client/test_follower_footprint.py).
        url = self.base_url.with_path(self._base_path + path, encoded=True)
        if params:
            url = url.with_query(params)
        landed = False  # whether an earlier attempt may have been handled by the server
        attempt = 0  # of this request (the budget counts the whole call's)
        debug = logger.isEnabledFor(_DEBUG)  # asked once: no timing when not logging
        otel = self.telemetry.active()  # None unless the application uses OpenTelemetry
        while True:
            budget.used += 1  # budget.spend(), inlined on the hot path
            attempt += 1
            t0 = time.perf_counter() if debug else 0.0
            # Failures come back as values, never raised inside an ``except`` block:
            # the errors raised from here carry no __context__ that could lead to an
            # aiohttp exception (and its request headers, with the token).
            if otel is None:
                result = await self._attempt(session, method, url, body, limits, budget, attempt)
            else:
                result = await self._traced(
                    otel, session, method, url, body, limits, budget, attempt, (route, task_id)
                )
            if debug:
                self._log_attempt(result, method, url, (route, task_id), attempt, t0)
            if isinstance(result, _Failed):
                landed |= result.failure is Failure.AMBIGUOUS
                delay = self._retry_after_failure(result, method, url, budget)
            else:
                result.may_have_landed = landed
                hooks = self.hooks
                if hooks.own or scoped_hooks():  # a call only when someone listens
                    hooks.emit(result.status, result.headers)
                if result.status < 300 and parse is not None:
                    try:
                        result.parsed = parse(result.body)
                    except CoderDecodeError as exc:
                        delay = self._retry_after_bad_body(exc, method, budget)
                    else:
                        return result
                else:
                    retry_in = self._retry_after_status(result, budget)
                    if retry_in is None:
                        return result
                    delay = retry_in
                    landed |= result.status >= 500  # a gateway may hide a success
            if debug:
                log_retry(method, route, task_id, attempt, delay)
            await self.clock.sleep(delay)

    def _log_attempt(
        self,
        result: RawResponse | _Failed,
        method: str,
        url: URL,
        label: tuple[str | None, str | None],
        attempt: int,
        t0: float,
    ) -> None:
        """The debug record of one attempt (asked for only while debug logging is on);
        ``label`` is ``(route, task_id)``."""
        route, task_id = label
        if isinstance(result, _Failed):
            status, error = None, result.error
        else:
            status, error = result.status, None
        log_attempt(self.redactor, method, url, route, task_id, attempt, t0, status, error)

    def _retry_after_failure(
        self, failed: _Failed, method: str, url: URL, budget: RetryBudget
    ) -> float:
        """The wait before trying again after an attempt that got no response; raises
        when there is no retry: the failure itself, or :class:`AmbiguousRequestError`
        for a request that is not safe to repeat and may have been handled."""
        if self._closed:
            raise ClientClosedError("the client was closed while this call ran")
        delay = budget.backoff()
        if budget.policy.should_retry_failure(method, failed.failure) and budget.fits(delay):
            return delay
        if failed.failure is Failure.AMBIGUOUS and method not in IDEMPOTENT_METHODS:
            raise AmbiguousRequestError(
                f"{failed.error}; the request may have been handled, so it was not sent again",
                method=method,
                url=self._public(url),
            )
        raise failed.error

    def _retry_after_status(self, response: RawResponse, budget: RetryBudget) -> float | None:
        """The wait before asking again after an error status (400 or more), or ``None``
        when ``response`` is the answer: any status below 400, or one the policy does not
        retry (5xx only for idempotent methods), or a ``Retry-After`` (heeded) that does
        not fit the budget."""
        status = response.status
        if status < 400:
            return None
        policy = budget.policy
        if not policy.should_retry_status(response.method, status):
            return None
        advised = parse_retry_after(
            response.headers.get("Retry-After"), maximum=policy.max_retry_after
        )
        delay = budget.wait_before_retry(advised, rate_limited=status == 429)
        return delay if budget.fits(delay) else None

    def _retry_after_bad_body(
        self, exc: CoderDecodeError, method: str, budget: RetryBudget
    ) -> float:
        """The wait before asking again for a 2xx body that did not parse: one that is
        not JSON at all (cut short) heals for an idempotent method, within the budget;
        anything else raises its decode error (the token scrubbed)."""
        delay = budget.backoff()
        healable = exc.invalid_json and method in IDEMPOTENT_METHODS
        if not (healable and budget.fits(delay)):
            raise self.redactor.error(exc) from None
        return delay

    def budget(self, retry: RetryPolicy | None = None) -> RetryBudget:
        """A fresh budget for one public call (``retry`` or the client's policy)."""
        return RetryBudget(retry or self.retry, self.clock, self.rand)

    def _cut_timeout(self, limits: Timeouts, left: float) -> aiohttp.ClientTimeout:
        """``limits`` with every part cut to the ``left`` seconds the call still has.

        Rounded down to a tenth of a second, so the cache sees few distinct values.
        """
        steps = max(math.floor(left / _CUT_GRAIN), 1)
        default = limits is self.timeouts
        if default:
            # Calls that queued for a slot all get here: one lookup, no Timeouts built.
            cached = self._cut_cache.get(steps)
            if cached is not None:
                return cached
        total = steps * _CUT_GRAIN
        timeout = self._client_timeout(
            Timeouts(connect=min(limits.connect, total), read=min(limits.read, total), total=total)
        )
        if default:
            if len(self._cut_cache) >= 1024:
                self._cut_cache.clear()
            self._cut_cache[steps] = timeout
        return timeout

    def _client_timeout(self, timeouts: Timeouts) -> aiohttp.ClientTimeout:
        # Building a ClientTimeout costs a few microseconds: once per distinct Timeouts.
        cached = self._timeouts_cache.get(timeouts)
        if cached is None:
            if len(self._timeouts_cache) > 64:
                self._timeouts_cache.clear()
            cached = self._timeouts_cache[timeouts] = aiohttp_timeout(timeouts)
        return cached

    def _request_options(self, timeout: aiohttp.ClientTimeout, has_body: bool) -> dict[str, Any]:
        """Keyword arguments for ``session.request``, built once per kind of request.

        On the session this client created, headers and the default timeout are
        session defaults, so the common request passes almost nothing; a
        caller's session gets them on every request.
        """
        # Keyed by identity: hashing a ClientTimeout (a dataclass) costs more than the
        # whole lookup.  Safe: an entry for a non-default timeout holds that object, so
        # its id cannot be reused while the entry exists.
        key = (id(timeout), has_body)
        options = self._options_cache.get(key)
        if options is None:
            own = self._owns_session
            options = {"allow_redirects": False}
            if not own:  # a caller's session may raise on 4xx: we read every status ourselves
                options["raise_for_status"] = False
            headers = {} if own else dict(self._headers)
            if has_body:
                headers["Content-Type"] = "application/json"
            if headers:
                # Wrapped: a traceback that prints frame locals shows no token.
                options["headers"] = _Headers(headers)
            if not own or timeout is not self._default_timeout:
                options["timeout"] = timeout
            if self._ssl is not None and not own:
                options["ssl"] = self._ssl
            if len(self._options_cache) > 64:
                self._options_cache.clear()
            self._options_cache[key] = options
        return options

    async def _traced(
        self,
        otel: Instruments,
        session: aiohttp.ClientSession,
        method: str,
        url: URL,
        body: bytes | None,
        limits: Timeouts,
        budget: RetryBudget,
        attempt: int,
        label: tuple[str | None, str | None],
    ) -> RawResponse | _Failed:
        """:meth:`_attempt` inside a span of its own (OpenTelemetry is in use), which
        ends with it: one span per physical request (a retry is a resend, as the
        semantic conventions say), if anyone records it.  ``label`` is
        ``(route, task_id)``."""
        route, task_id = label
        span = otel.request(method, url, route, attempt - 1, task_id, self.redactor)
        if span is None:
            return await self._attempt(session, method, url, body, limits, budget, attempt)
        try:
            result = await self._attempt(session, method, url, body, limits, budget, attempt, span)
        except BaseException as exc:  # cancelled, closed, a refused redirect: recorded, re-raised
            span.end(None, error_type(exc))
            raise
        if isinstance(result, _Failed):
            span.end(None, error_type(result.cause))
        else:
            span.end(result.status, None)
        return result

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: URL,
        body: bytes | None,
        limits: Timeouts,
        budget: RetryBudget,
        attempt: int,
        span: RequestSpan | None = None,
    ) -> RawResponse | _Failed:
        """One attempt: where it starts (a connection slot taken) and where it ends (the
        body read, or the failure classified, and the slot given back).

        Redirects to the same origin are followed within the attempt.  A failure to
        get a response is returned as a :class:`_Failed` value, not raised.  With a
        ``span`` (telemetry on), its trace context is sent along, and each redirect
        hop gets a span of its own.
        """
        slots = self._slots
        assert slots is not None
        if not slots.take_nowait():
            await slots.take()
        try:
            # The common request, decided without a call: on our own session, no body,
            # no span, the default timeouts and time to spare: no option but one.
            deadline_at = budget.deadline_at
            if (
                limits is self._plain_limits
                and body is None
                and span is None
                and (deadline_at is None or deadline_at - self.clock.now() >= self._uncut_left)
            ):
                options = None
            else:
                options = self._attempt_options(limits, budget, method, url, body, span)
            hops = 0
            while True:
                if self._closed:  # closed while this call waited for a slot or a retry
                    raise ClientClosedError("the client was closed while this call ran")
                try:
                    # Keyword arguments spelled out where they can be: ``**options`` and a
                    # ``data=None`` cost ~3,000 instructions per request inside aiohttp.
                    sending: AbstractAsyncContextManager[aiohttp.ClientResponse]
                    if options is None:
                        sending = session.request(method, url, allow_redirects=False)
                    else:
                        sending = _sending(session, method, url, body, options)
                    async with sending as resp:
                        headers = resp.headers
                        if resp.status in _REDIRECTS and _LOCATION in headers:
                            hops += 1
                            url, options = self._redirect(method, url, resp, hops, span, options)
                            continue
                        # The whole body, within max_body_size once decoded: read at once
                        # when its size is known, honest (not compressed) and within it.
                        # (``resp.content_length``, without the property's call; the
                        # header names are aiohttp's ``istr`` constants: a plain ``str``
                        # is case-folded on every lookup, ~1,500 instructions a request.)
                        length = headers.get(_CONTENT_LENGTH)
                        if (
                            length is not None
                            and int(length) <= self.max_body_size
                            and _CONTENT_ENCODING not in headers
                        ):
                            content = await resp.read()
                        else:
                            content = await read_limited(resp, self.max_body_size, method, url)
                        return RawResponse(resp.status, headers, content, method, url, attempt)
                except (CoderTransportError, asyncio.CancelledError):
                    raise
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    return self._failed(exc, method, url)
                except RuntimeError:
                    if not self._lost_race(session):
                        raise
                # Only a closed session gets here, raised outside the except block so
                # that no aiohttp error is chained.
                raise ClientClosedError("the client was closed while this call ran")
        finally:
            slots.give()

    def _lost_race(self, session: aiohttp.ClientSession) -> bool:
        """Whether a ``RuntimeError`` from aiohttp is its "Session is closed": our
        :meth:`aclose` won the race."""
        return self._closed or session.closed

    def _attempt_options(
        self,
        limits: Timeouts,
        budget: RetryBudget,
        method: str,
        url: URL,
        body: bytes | None,
        span: RequestSpan | None,
    ) -> dict[str, Any] | None:
        """Keyword arguments for ``session.request`` beyond ``allow_redirects=False``
        (``None``: none), for an attempt that is not the common one."""
        timeout = self._attempt_timeout(limits, budget, method, url)
        plain = self._owns_session and body is None and span is None
        if plain and timeout is self._default_timeout:
            return None
        options = self._request_options(timeout, body is not None)
        if span is not None:
            options = _with_headers(options, span.headers())
        return options

    def _redirect(
        self,
        method: str,
        url: URL,
        resp: aiohttp.ClientResponse,
        hops: int,
        span: RequestSpan | None,
        options: dict[str, Any] | None,
    ) -> tuple[URL, dict[str, Any] | None]:
        """Where redirect number ``hops`` of an attempt goes, and the options to send
        there with (a span's redirect hop gets a span, and trace context, of its own)."""
        if hops > _MAX_REDIRECTS:
            raise CoderTransportError(
                f"more than {_MAX_REDIRECTS} redirects", method=method, url=self._public(url)
            )
        url = self._redirect_target(method, url, resp)
        if span is not None:
            span.redirected(resp.status, url)
            assert options is not None  # always built with a span
            options = _with_headers(options, span.headers())
        return url, options

    def _attempt_timeout(
        self, limits: Timeouts, budget: RetryBudget, method: str, url: URL
    ) -> aiohttp.ClientTimeout:
        """This attempt's timeouts: ``limits``, cut to the time the call has left.

        Measured once a slot is held, so time spent queueing counts against the
        call's deadline; :class:`CoderTimeoutError` when none is left.
        """
        # (budget.remaining(), inlined: this runs for every request.)
        deadline_at = budget.deadline_at
        left = None if deadline_at is None else deadline_at - self.clock.now()
        if left is None or left >= limits.total - _CUT_GRAIN:
            if limits is self.timeouts:
                return self._default_timeout
            return self._client_timeout(limits)
        if left <= 0:
            raise CoderTimeoutError(
                f"the call's deadline of {budget.policy.deadline}s ran out",
                method=method,
                url=self._public(url),
            )
        return self._cut_timeout(limits, left)

    def _failed(self, exc: BaseException, method: str, url: URL) -> _Failed:
        """What an aiohttp error means for retrying: nothing sent, maybe handled, or fatal."""
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            error = CoderTransportError(
                f"TLS certificate verification failed: {exc.certificate_error}",
                method=method,
                url=self._public(url),
            )
            return _Failed(Failure.FATAL, error, type(exc))
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
            return _Failed(Failure.NOT_SENT, self._wrap(exc, method, url), type(exc))
        return _Failed(Failure.AMBIGUOUS, self._wrap(exc, method, url), type(exc))

    def _redirect_target(self, method: str, url: URL, resp: aiohttp.ClientResponse) -> URL:
        target = url.join(URL(resp.headers["Location"]))
        if _origin(target) != _origin(url):
            # aiohttp would forward our custom token header to any host: never follow.
            raise CoderTransportError(
                "refusing to follow a redirect to another origin "
                f"({self._public(target.with_query(None))}): the session token is only sent to the "
                "configured URL; configure the final URL",
                method=method,
                url=self._public(url),
            )
        if resp.status in {301, 302, 303} and method != "GET":
            raise CoderTransportError(
                f"refusing to follow a {resp.status} redirect for {method} "
                "(it would change the method)",
                method=method,
                url=self._public(url),
            )
        return target

    def _public(self, url: URL) -> str:
        """``url`` as an error shows it: no userinfo, and no token even where a server's
        redirect put one (in a query, say)."""
        return self.redactor.text(public_url(url))

    def _wrap(self, exc: BaseException, method: str, url: URL) -> CoderTransportError:
        # Our own message from the aiohttp error's type and text: aiohttp's
        # exception objects can carry request headers (the token), so they are
        # not chained.
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        what = self.redactor.text(what)
        if isinstance(exc, TimeoutError):
            return CoderTimeoutError(f"timed out ({what})", method=method, url=self._public(url))
        return CoderTransportError(what, method=method, url=self._public(url))


def _with_headers(options: dict[str, Any], extra: Mapping[str, str]) -> dict[str, Any]:
    """``options`` for ``session.request`` with ``extra`` headers added (a trace context)."""
    if not extra:
        return options
    headers = dict(options.get("headers") or {})
    headers.update(extra)
    # Wrapped as the cached options are: a caller's session gets the token here too.
    return {**options, "headers": _Headers(headers)}


def _sending(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    body: bytes | None,
    options: dict[str, Any],
) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
    """``session.request`` with ``options`` (any request but the common one)."""
    # Keyword arguments spelled out: a ``data=None`` costs inside aiohttp.
    if body is None:
        return session.request(method, url, **options)
    return session.request(method, url, data=_payload(body), **options)


def _payload(body: bytes | None) -> bytes | io.BytesIO | None:
    """The body as aiohttp should get it: over 1 MiB of raw bytes makes it emit a
    ResourceWarning (an error under ``-W error``), so a large body goes as a file-like
    object, made afresh for every attempt (a sent one is used up)."""
    if body is None or len(body) <= _LARGE_BODY:
        return body
    return io.BytesIO(body)


class _Headers(Mapping[str, str]):
    """Request headers (the token among them) whose ``repr`` shows only their names."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, str]) -> None:
        self._items = items

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"_Headers({', '.join(self._items)})"


class _Failed:
    """One attempt's failure, returned (not raised) so no exception chain is kept.

    ``cause`` is the class of what aiohttp raised (a span's ``error.type``), never the
    exception itself, which can carry the request headers.
    """

    __slots__ = ("cause", "error", "failure")

    def __init__(
        self, failure: Failure, error: CoderTransportError, cause: type[BaseException]
    ) -> None:
        self.failure = failure
        self.error = error
        self.cause = cause
